"""Response parsing: every status, header set and body gives a Success or a typed Failure."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from returns.result import Failure, Success

from sfc_core import (
    ImageListEntry,
    ImageUploadStatus,
    InternalServerError,
    ListImagesResponse,
    NotFoundError,
    ResponseData,
    ResponseValidationError,
    SfcDefaultError,
    UnauthorizedError,
    _json,
)
from sfc_core._http import parse_json_response
from sfc_funcs import images_download, images_get, images_list

ERRORS = {401: UnauthorizedError, 404: NotFoundError, 500: InternalServerError}

IMAGE = {
    "object": "image",
    "id": "image_abc",
    "name": "ubuntu-22.04",
    "upload_status": "completed",
    "created_at": 1738972800,
    "provider": None,
    "sha256": "e" * 64,
}


def response(
    status: int, body: object = b"", headers: tuple[tuple[str, str], ...] = ()
) -> ResponseData:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ResponseData(
        status=status, headers=headers, body=raw, method="GET", path="/v2/images/image_abc"
    )


def parse(data: ResponseData) -> object:
    return parse_json_response(data, success=200, model=ImageListEntry, errors=ERRORS)


def test_a_complete_image_parses() -> None:
    result = images_get.parse_response(response(200, IMAGE))
    assert result == Success(
        ImageListEntry(
            id="image_abc",
            name="ubuntu-22.04",
            upload_status=ImageUploadStatus.COMPLETED,
            created_at=1738972800,
            provider=None,
            sha256="e" * 64,
        )
    )


def test_unknown_upload_status_keeps_its_string() -> None:
    image = images_get.parse_response(response(200, {**IMAGE, "upload_status": "revoked"})).unwrap()
    assert image.upload_status == "revoked"
    assert not isinstance(image.upload_status, ImageUploadStatus)


def test_extra_fields_are_ignored_and_missing_optionals_default() -> None:
    body = {k: v for k, v in IMAGE.items() if k not in ("provider", "sha256")}
    body["brand_new_field"] = {"nested": [1, 2]}
    image = images_get.parse_response(response(200, body)).unwrap()
    assert image.provider is None
    assert image.sha256 is None


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"created_at": "1738972800"}, "$.created_at"),
        ({"created_at": 1.5}, "$.created_at"),
        ({"created_at": True}, "$.created_at"),
        ({"name": 5}, "$.name"),
        ({"upload_status": None}, "$.upload_status"),
    ],
)
def test_a_wrong_type_is_a_validation_failure_naming_the_wire_field(
    change: dict[str, object], path: str
) -> None:
    result = images_get.parse_response(response(200, {**IMAGE, **change}))
    assert isinstance(result, Failure)
    error = result.failure()
    assert isinstance(error, ResponseValidationError)
    assert path in error.reason


def test_a_missing_required_field_is_a_validation_failure() -> None:
    body = {k: v for k, v in IMAGE.items() if k != "id"}
    error = images_get.parse_response(response(200, body)).failure()
    assert isinstance(error, ResponseValidationError)
    assert "id" in error.reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not valid JSON"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b"[]", "expected a JSON object, got list"),
        (b"null", "expected a JSON object, got NoneType"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
)
def test_a_200_that_is_not_the_schema_is_a_validation_failure(body: bytes, reason: str) -> None:
    error = images_get.parse_response(response(200, body)).failure()
    assert isinstance(error, ResponseValidationError)
    assert reason in error.reason
    assert error.body == body


def test_a_deeply_nested_body_is_refused_with_the_stdlib_decoder_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_json, "loads", _json.stdlib_loads)
    error = images_get.parse_response(response(200, b"[" * 100_000 + b"]" * 100_000)).failure()
    assert isinstance(error, ResponseValidationError)


def test_an_unexpected_success_status_is_a_validation_failure() -> None:
    error = images_get.parse_response(response(204)).failure()
    assert isinstance(error, ResponseValidationError)
    assert "unexpected status 204" in error.reason


def test_a_truncated_body_is_a_validation_failure() -> None:
    data = ResponseData(status=200, body=json.dumps(IMAGE).encode(), truncated=True)
    error = images_get.parse_response(data).failure()
    assert isinstance(error, ResponseValidationError)
    assert "max_response_bytes" in error.reason


def test_documented_errors_carry_type_message_details_and_headers() -> None:
    body = {
        "error": {
            "type": "not_found",
            "message": "no image image_abc",
            "details": [{"field": "id", "code": "missing", "message": "unknown id"}, "junk"],
        }
    }
    error = images_get.parse_response(response(404, body, (("X-Request-Id", "r1"),))).failure()
    assert isinstance(error, NotFoundError)
    assert (error.status, error.error_type, error.message) == (
        404,
        "not_found",
        "no image image_abc",
    )
    assert error.details[0].field == "id"
    assert len(error.details) == 1
    assert error.header("x-request-id") == "r1"
    assert str(error) == (
        "NotFoundError: GET /v2/images/image_abc answered 404 [not_found] no image image_abc "
        "(id: unknown id)"
    )


def test_an_html_502_from_a_proxy_is_a_default_error_with_its_body() -> None:
    page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    error = images_get.parse_response(
        response(502, page, (("content-type", "text/html"),))
    ).failure()
    assert isinstance(error, SfcDefaultError)
    assert error.body == page
    assert error.error_type is None
    assert "non-API body (text/html" in str(error)


def test_an_empty_500_is_still_an_internal_server_error() -> None:
    error = images_get.parse_response(response(500, b"")).failure()
    assert isinstance(error, InternalServerError)
    assert error.message is None


def test_a_redirect_is_a_default_error_not_followed() -> None:
    error = images_get.parse_response(
        response(302, b"", (("location", "https://elsewhere.example/x"),))
    ).failure()
    assert isinstance(error, SfcDefaultError)
    assert error.header("Location") == "https://elsewhere.example/x"


def test_error_bodies_of_the_wrong_shape_are_kept_raw() -> None:
    for body in (b'{"error": "nope"}', b'{"error": {"type": 5, "message": []}}', b"[1]"):
        error = images_get.parse_response(response(401, body)).failure()
        assert isinstance(error, UnauthorizedError)
        assert error.error_type is None
        assert error.body == body


def test_a_list_page_parses_into_a_tuple_of_entries() -> None:
    page = {
        "object": "list",
        "data": [IMAGE, {**IMAGE, "id": "image_def"}],
        "has_more": True,
        "cursor": "imagec_x",
    }
    listing = images_list.parse_response(response(200, page)).unwrap()
    assert isinstance(listing, ListImagesResponse)
    assert [i.id for i in listing.data] == ["image_abc", "image_def"]
    assert listing.cursor == "imagec_x"


def test_a_list_item_of_the_wrong_type_names_its_index() -> None:
    page = {"object": "list", "data": [IMAGE, {**IMAGE, "created_at": "x"}], "has_more": False}
    error = images_list.parse_response(response(200, page)).failure()
    assert isinstance(error, ResponseValidationError)
    assert "$.data[1].created_at" in error.reason


@pytest.mark.parametrize(
    "change", [{"sha256": "E" * 64}, {"sha256": "abc"}, {"size": -1}, {"size": "10"}]
)
def test_download_info_that_could_not_verify_bytes_is_refused(change: dict[str, object]) -> None:
    body = {"url": "https://s/x?sig=1", "expires_at": 1, "sha256": "a" * 64, "size": 10, **change}
    error = images_download.parse_response(response(200, body)).failure()
    assert isinstance(error, ResponseValidationError)


def test_download_url_signature_is_not_in_the_repr() -> None:
    body = {
        "url": "https://s/x?sig=SECRETSIG&expires=5",
        "expires_at": 1,
        "sha256": "a" * 64,
        "size": 10,
    }
    download = images_download.parse_response(response(200, body)).unwrap()
    assert "SECRETSIG" not in repr(download)
    assert download.url.endswith("sig=SECRETSIG&expires=5")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@given(
    status=st.integers(100, 599),
    headers=st.lists(st.tuples(st.text(max_size=20), st.text(max_size=40)), max_size=5),
    body=st.binary(max_size=300),
)
def test_parsers_never_raise_on_arbitrary_bytes(
    status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    data = ResponseData(status=status, headers=tuple(headers), body=body)
    for parser in (
        images_get.parse_response,
        images_list.parse_response,
        images_download.parse_response,
    ):
        result = parser(data)
        assert isinstance(result, (Success, Failure))


@given(status=st.sampled_from([200, 401, 404, 500, 503]), value=json_values)
def test_parsers_never_raise_on_arbitrary_json(status: int, value: object) -> None:
    data = ResponseData(status=status, body=json.dumps(value).encode())
    assert isinstance(images_list.parse_response(data), (Success, Failure))
    assert isinstance(images_get.parse_response(data), (Success, Failure))


@given(
    image=st.fixed_dictionaries(
        {
            "id": st.text(),
            "name": st.text(),
            "upload_status": st.text(),
            "created_at": st.integers(-(2**63), 2**63 - 1),
        },
        optional={
            "sha256": st.none() | st.text(),
            "provider": st.none() | st.text(),
            "x": json_values,
        },
    )
)
def test_any_well_typed_image_parses_and_round_trips(image: dict[str, object]) -> None:
    parsed = images_get.parse_response(
        ResponseData(status=200, body=json.dumps(image).encode())
    ).unwrap()
    assert parsed.id == image["id"]
    assert parsed.upload_status == image["upload_status"]
    assert parsed.created_at == image["created_at"]
