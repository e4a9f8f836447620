"""Auto-pagination: every image once, in order, across pages; loops and failures end the walk."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from returns.result import Failure, Result, Success

from sfc_core import (
    ImageListEntry,
    ResponseValidationError,
    SfcCore,
    SfcDefaultError,
    UnauthorizedError,
)
from sfc_emulator import Emulator
from sfc_funcs.images_iter import images_iter, images_iter_async
from sfc_funcs.images_start_upload import images_start_upload


def collect(core: SfcCore, mode: str, **kwargs: Any) -> list[Result[ImageListEntry, Any]]:
    if mode == "sync":
        return list(images_iter(core, **kwargs))

    async def gather() -> list[Result[ImageListEntry, Any]]:
        try:
            return [r async for r in images_iter_async(core, **kwargs)]
        finally:
            await core.aclose()

    return asyncio.run(gather())


MODES = pytest.mark.parametrize("mode", ["sync", "async"])


@MODES
def test_every_image_once_newest_first(core: SfcCore, emulator: Emulator, mode: str) -> None:
    ids = [images_start_upload(core, f"disk-{n}").unwrap().id for n in range(7)]
    results = collect(core, mode, page_size=3)
    assert [r.unwrap().id for r in results] == list(reversed(ids))
    assert len(emulator.requests.by_route("list")) == 3


@MODES
def test_an_empty_account_yields_nothing(core: SfcCore, mode: str) -> None:
    assert collect(core, mode) == []


@MODES
def test_a_failure_is_yielded_once_and_ends_the_walk(
    core: SfcCore, emulator: Emulator, mode: str
) -> None:
    for n in range(3):
        images_start_upload(core, f"d{n}").unwrap()
    emulator.faults.add("list", status=401)
    results = collect(core, mode, page_size=2)
    assert len(results) == 1
    assert isinstance(results[0].failure(), UnauthorizedError)


def page(items: list[str], has_more: bool, cursor: str | None) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"object": "image", "id": i, "name": i, "upload_status": "completed", "created_at": 1}
            for i in items
        ],
        "has_more": has_more,
        "cursor": cursor,
    }


def scripted_core(pages: list[dict[str, Any]]) -> tuple[SfcCore, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=pages[len(seen) - 1])

    transport = httpx.MockTransport(handle)
    core = SfcCore(
        bearer_auth="t",
        client=httpx.Client(transport=transport),
        async_client=httpx.AsyncClient(transport=transport),
    )
    return core, seen


@MODES
def test_an_empty_page_that_has_more_is_not_the_end(mode: str) -> None:
    core, seen = scripted_core(
        [
            page(["image_a"], True, "imagec_1"),
            page([], True, "imagec_2"),
            page(["image_b"], False, None),
        ]
    )
    assert [r.unwrap().id for r in collect(core, mode)] == ["image_a", "image_b"]
    assert [r.url.params.get("starting_after") for r in seen] == [None, "imagec_1", "imagec_2"]


@MODES
def test_a_repeated_cursor_is_an_error_not_a_loop(mode: str) -> None:
    core, seen = scripted_core(
        [
            page(["image_a"], True, "imagec_1"),
            page(["image_b"], True, "imagec_1"),
            page([], False, None),
        ]
    )
    results = collect(core, mode)
    assert [type(r) for r in results] == [Success, Success, Failure]
    error = results[-1].failure()
    assert isinstance(error, ResponseValidationError)
    assert "imagec_1" in error.reason
    assert len(seen) == 2


@MODES
def test_has_more_without_a_cursor_is_an_error(mode: str) -> None:
    core, _ = scripted_core([page(["image_a"], True, None)])
    results = collect(core, mode)
    assert isinstance(results[-1].failure(), ResponseValidationError)


def test_a_bad_page_size_fails_before_any_request(core: SfcCore, emulator: Emulator) -> None:
    results = list(images_iter(core, page_size=0))
    assert len(results) == 1
    assert results[0].failure().field == "page_size"  # type: ignore[union-attr]
    assert len(emulator.requests) == 0


def test_a_server_error_mid_walk_is_reported(core: SfcCore, emulator: Emulator) -> None:
    for n in range(4):
        images_start_upload(core, f"m{n}").unwrap()
    walker = images_iter(core, page_size=2)
    assert isinstance(next(walker), Success)
    assert isinstance(next(walker), Success)
    emulator.faults.add("list", status=418)
    last = next(walker)
    assert isinstance(last.failure(), SfcDefaultError)
    assert list(walker) == []
