"""Table and property tests for the emulator's pure rules: routes, validation, ranges, signing."""

from __future__ import annotations

import doctest
import json
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfc_emulator import _faults, _ranges, _routes, _signing, _validation
from sfc_emulator._errors import ApiError, api_error_body, error_type
from sfc_emulator._ranges import ByteRange, Unsatisfiable, parse_range
from sfc_emulator._signing import Signer

ID = "image_abc"


@pytest.mark.parametrize("module", [_ranges, _validation, _routes, _signing, _faults])
def test_doctests(module: ModuleType) -> None:
    assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize(
    ("method", "path", "route"),
    [
        ("GET", "/v2/images", "list"),
        ("POST", "/v2/images", "start_upload"),
        ("GET", f"/v2/images/{ID}", "get"),
        ("DELETE", f"/v2/images/{ID}", "delete"),
        ("POST", f"/v2/images/{ID}/parts", "upload_part"),
        ("POST", f"/v2/images/{ID}/complete", "complete"),
        ("GET", f"/v2/images/{ID}/download", "download"),
        ("PUT", f"/_storage/parts/{ID}/3", "storage_put"),
        ("GET", f"/_storage/images/{ID}", "storage_get"),
        ("HEAD", f"/_storage/images/{ID}", "storage_get"),
        ("POST", "/_emulator/faults", "admin"),
        ("GET", "/openapi.json", "openapi"),
        ("PUT", "/v2/images", None),
        ("GET", "/v2/images/", None),
        ("POST", f"/v2/images/{ID}", None),
        ("GET", f"/v2/images/{ID}/parts", None),
        ("POST", f"/v2/images/{ID}/other", None),
        ("GET", f"/_storage/parts/{ID}/1", None),
        ("PUT", f"/_storage/images/{ID}", None),
        ("GET", "/", None),
    ],
)
def test_classify(method: str, path: str, route: str | None) -> None:
    assert _routes.classify(method, path) == route


@pytest.mark.parametrize(
    ("route", "path", "needed"),
    [
        ("list", "/v2/images", True),
        (None, "/v2/unknown", True),
        (None, "/v2", True),
        ("admin", "/_emulator/faults", True),
        ("storage_put", f"/_storage/parts/{ID}/1", False),
        ("openapi", "/openapi.json", False),
        (None, "/elsewhere", False),
    ],
)
def test_needs_token(route: str | None, path: str, needed: bool) -> None:
    assert _routes.needs_token(route, path) is needed


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_cursor_round_trip(seq: int) -> None:
    cursor = _validation.encode_cursor(seq)
    assert _validation.CURSOR.fullmatch(cursor)
    assert _validation.decode_cursor(cursor) == seq


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "imagec_",
        "imagec_!",
        "image_AQAAAAAAAAAB",
        "imagec_A",
        "imagec_AAAA",
        "imagec_AgAAAAAAAAAB",
    ],
)
def test_bad_cursors_decode_to_none(cursor: str) -> None:
    assert _validation.decode_cursor(cursor) is None


@given(st.text(max_size=40))
def test_decode_cursor_never_crashes(text: str) -> None:
    _validation.decode_cursor(text)
    _validation.decode_cursor("imagec_" + text)


def _error(fn: object, *args: object) -> ApiError:
    with pytest.raises(ApiError) as caught:
        fn(*args)  # type: ignore[operator]
    return caught.value


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{", 400, None),
        (b"\xff", 400, None),
        (b"[]", 400, None),
        (b"{}", 400, "name"),
        (b'{"name": 5}', 400, "name"),
        (b'{"name": ""}', 400, "name"),
        (b'{"name": "-x"}', 400, "name"),
        (b'{"name": "a\\n"}', 400, "name"),
        (json.dumps({"name": "a" * 256}).encode(), 400, "name"),
    ],
)
def test_start_upload_body_errors(body: bytes, status: int, field: str | None) -> None:
    error = _error(_validation.start_upload_name, body)
    assert error.status == status
    assert error.details[0]["field"] == field


def test_start_upload_accepts_names_and_ignores_unknown_fields() -> None:
    assert _validation.start_upload_name(b'{"name": "a._-Z9", "x": 1}') == "a._-Z9"
    long_name = "a" * 255
    assert _validation.start_upload_name(json.dumps({"name": long_name}).encode()) == long_name


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"part_id": "1"}', 400),
        (b'{"part_id": 1.0}', 400),
        (b'{"part_id": true}', 400),
        (b'{"part_id": null}', 400),
        (b"{}", 400),
        (b'{"part_id": 0}', 422),
        (b'{"part_id": -1}', 422),
        (b'{"part_id": 10001}', 422),
    ],
)
def test_part_id_errors(body: bytes, status: int) -> None:
    error = _error(_validation.upload_part_id, body)
    assert error.status == status
    assert error.details[0]["field"] == "part_id"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{}", 400),
        (b'{"sha256": 1}', 400),
        (b'{"sha256": "abc"}', 422),
        (json.dumps({"sha256": "A" * 64}).encode(), 422),
        (json.dumps({"sha256": "g" * 64}).encode(), 422),
        (json.dumps({"sha256": "a" * 65}).encode(), 422),
    ],
)
def test_sha256_errors(body: bytes, status: int) -> None:
    error = _error(_validation.complete_sha256, body)
    assert error.status == status
    assert error.details[0]["field"] == "sha256"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"limit": "1.5"}, "limit"),
        ({"limit": " 5"}, "limit"),
        ({"limit": ""}, "limit"),
        ({"starting_after": "nope"}, "starting_after"),
        ({"ending_before": "imagec_AAAA"}, "ending_before"),
        ({"include_deleted": "yes"}, "include_deleted"),
        ({"include_deleted": "True"}, "include_deleted"),
        (
            {
                "starting_after": _validation.encode_cursor(1),
                "ending_before": _validation.encode_cursor(2),
            },
            "ending_before",
        ),
    ],
)
def test_list_query_errors(params: dict[str, str], field: str) -> None:
    error = _error(_validation.list_query, params)
    assert error.status == 422
    assert error.details[0]["field"] == field


def test_list_query_values() -> None:
    assert _validation.list_query({}) == _validation.ListQuery()
    query = _validation.list_query(
        {"limit": "200", "ending_before": _validation.encode_cursor(7), "include_deleted": "true"}
    )
    assert query == _validation.ListQuery(limit=200, ending_before=7, include_deleted=True)


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, "invalid_request_error"), (418, "invalid_request_error"), (599, "api_error")],
)
def test_error_types(status: int, kind: str) -> None:
    assert error_type(status) == kind
    assert json.loads(api_error_body(status, "m"))["error"]["type"] == kind


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("bytes=0-0", 10, ByteRange(0, 0)),
        ("bytes=2-5", 10, ByteRange(2, 5)),
        ("bytes=2-", 10, ByteRange(2, 9)),
        ("bytes=5-100", 10, ByteRange(5, 9)),
        ("bytes=-3", 10, ByteRange(7, 9)),
        ("bytes=-30", 10, ByteRange(0, 9)),
        ("bytes=10-", 10, Unsatisfiable()),
        ("bytes=-0", 10, Unsatisfiable()),
        ("bytes=0-", 0, Unsatisfiable()),
        ("bytes=-5", 0, Unsatisfiable()),
        ("bytes=5-2", 10, None),
        ("bytes=-", 10, None),
        ("bytes=0-1,3-4", 10, None),
        ("items=0-1", 10, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: object) -> None:
    assert parse_range(header, size) == expected


@given(st.integers(0, 1000), st.integers(0, 1100), st.integers(0, 1100))
def test_parse_range_stays_inside(size: int, first: int, last: int) -> None:
    result = parse_range(f"bytes={first}-{last}", size)
    if isinstance(result, ByteRange):
        assert 0 <= result.first <= result.last < size
        assert result.content_range(size) == f"bytes {result.first}-{result.last}/{size}"
    elif isinstance(result, Unsatisfiable):
        assert first >= size
        assert result.content_range(size) == f"bytes */{size}"
    else:
        assert last < first


def test_signer() -> None:
    signer = Signer(b"k" * 32)
    url = signer.presign("http://h:1/", "PUT", "/p", 2000)
    assert url.startswith("http://h:1/p?expires=2000&signature=")
    query = {"expires": "2000", "signature": signer.signature("PUT", "/p", 2000)}
    assert signer.check("PUT", "/p", query, 1999) is None
    expired = signer.check("PUT", "/p", query, 2000)
    assert expired is not None
    assert (expired.status, expired.code, expired.message) == (
        403,
        "AccessDenied",
        "Request has expired",
    )
    for method, path, changed in [
        ("GET", "/p", query),
        ("PUT", "/q", query),
        ("PUT", "/p", {**query, "expires": "2001"}),
        ("PUT", "/p", {**query, "expires": "-1"}),
        ("PUT", "/p", {**query, "signature": "0" * 64}),
    ]:
        tampered = signer.check(method, path, changed, 0)
        assert tampered is not None
        assert tampered.code == "SignatureDoesNotMatch"
    missing = signer.check("PUT", "/p", {"expires": "2000"}, 0)
    assert missing is not None
    assert missing.code == "AccessDenied"
    head = {"expires": "2000", "signature": signer.signature("GET", "/p", 2000)}
    assert signer.check("HEAD", "/p", head, 0) is None
