"""Hostile input: arguments that try to escape their place in the URL, and response bodies that
try to crash or exhaust the parser. Nothing raises, nothing reaches the server that should not."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from returns.result import Failure, Success

from sfc_core import InputValidationError, ResponseData, ResponseValidationError, SfcCore, _json
from sfc_emulator import Emulator
from sfc_funcs import (  # the modules, for their parsers
    images_complete_upload,
    images_delete,
    images_download,
    images_get,
    images_list,
    images_start_upload,
    images_upload_part,
)

from .conftest import Ledger

PARSERS = [
    images_list.parse_response,
    images_start_upload.parse_response,
    images_get.parse_response,
    images_upload_part.parse_response,
    images_complete_upload.parse_response,
    images_download.parse_response,
    images_delete.parse_response,
]

TRAVERSALS = [
    "../x",
    "..%2Fx",
    "image_a/../../admin",
    "image_a/complete",
    "image_a?include_deleted=true",
    "image_a#frag",
    "image_a%00",
    "image_a\x00",
    "image_a\r\nX-Injected: 1",
    "image_a b",
    "image_\u202e",
    "/etc/passwd",
    "image_" + "a" * 5000,
]


@pytest.mark.parametrize("value", TRAVERSALS)
def test_path_and_query_injection_through_arguments_is_refused_locally(
    fast_core: SfcCore, emulator: Emulator, ledger: Ledger, value: str
) -> None:
    checks: list[Any] = [
        images_get.images_get(fast_core, value),
        images_delete.images_delete(fast_core, value),
        images_download.images_download(fast_core, value),
        images_upload_part.images_upload_part(fast_core, value, 1),
        images_complete_upload.images_complete_upload(fast_core, value, "a" * 64),
        images_start_upload.images_start_upload(fast_core, value),
        images_list.images_list(fast_core, starting_after=value),
        images_list.images_list(fast_core, ending_before=value),
    ]
    for result in checks:
        assert isinstance(result.failure(), InputValidationError)
        ledger.add("hostile arguments refused")
    assert len(emulator.requests) == 0


@given(value=st.text(max_size=64))
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_string_either_validates_or_is_refused_without_a_request(value: str) -> None:
    for request in (
        images_get.build_request(value),
        images_start_upload.build_request(value),
        images_list.build_request(starting_after=value),
    ):
        if isinstance(request, Success):
            built = request.unwrap()
            assert "/.." not in built.path
            assert "?" not in built.path
            assert all(c.isascii() and c.isprintable() for c in built.path)
        else:
            assert isinstance(request.failure(), InputValidationError)


@given(
    status=st.integers(0, 999),
    headers=st.lists(st.tuples(st.text(), st.text()), max_size=6),
    body=st.binary(max_size=2048),
)
@settings(max_examples=300)
def test_no_parser_raises_on_arbitrary_responses(
    status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    data = ResponseData(status=status, headers=tuple(headers), body=body)
    for parse in PARSERS:
        assert isinstance(parse(data), (Success, Failure))


@given(body=st.text(max_size=512).map(lambda t: t.encode("utf-16", "surrogatepass")))
def test_non_utf8_bodies_are_validation_failures(body: bytes) -> None:
    for parse in PARSERS:
        result = parse(ResponseData(status=200, body=body))
        assert isinstance(result, Failure)


@pytest.mark.parametrize("loads", [_json.stdlib_loads, _json.loads], ids=["json", "default"])
@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_refused(
    monkeypatch: pytest.MonkeyPatch, loads: Any, depth: int
) -> None:
    monkeypatch.setattr(_json, "loads", loads)
    for opener, closer in ((b"[", b"]"), (b'{"a":', b"}")):
        body = opener * depth + b"1" + closer * depth
        for parse in PARSERS:
            result = parse(ResponseData(status=200, body=body))
            assert isinstance(result.failure(), ResponseValidationError)


def test_a_huge_body_is_cut_at_the_limit_without_reading_it_all() -> None:
    sent = 0

    def stream() -> Any:
        nonlocal sent
        for _ in range(1000):
            sent += 1 << 20
            yield b" " * (1 << 20)

    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=stream()))
    core = SfcCore(
        bearer_auth="t", client=httpx.Client(transport=transport), max_response_bytes=4 << 20
    )
    error = images_get.images_get(core, "image_a").failure()
    assert isinstance(error, ResponseValidationError)
    assert "max_response_bytes" in error.reason
    assert sent <= 6 << 20


def test_a_huge_valid_list_page_parses() -> None:
    item = {
        "object": "image",
        "id": "image_a",
        "name": "n",
        "upload_status": "completed",
        "created_at": 1,
    }
    page = {
        "object": "list",
        "data": [item] * 50_000,
        "has_more": False,
        "cursor": None,
        "pad": "x" * 1_000_000,
    }
    result = images_list.parse_response(ResponseData(status=200, body=json.dumps(page).encode()))
    assert len(result.unwrap().data) == 50_000
