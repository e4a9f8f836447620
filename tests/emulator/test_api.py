"""The Images API over real HTTP: every operation, its success shape and its error statuses."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from emulator.helpers import MIN_PART, Api, sha256_hex
from sfc_emulator import Emulator

UNKNOWN = "image_doesNotExist0000"
PART = b"p" * MIN_PART


def error_of(response: Any, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["type"] == kind
    assert error["message"]
    return error


def only_detail(error: dict[str, Any]) -> dict[str, Any]:
    [detail] = error["details"]
    assert set(detail) == {"field", "code", "message"}
    return dict(detail)


ENDPOINTS = [
    ("GET", "/v2/images", None),
    ("POST", "/v2/images", {"name": "x"}),
    ("GET", f"/v2/images/{UNKNOWN}", None),
    ("DELETE", f"/v2/images/{UNKNOWN}", None),
    ("POST", f"/v2/images/{UNKNOWN}/parts", {"part_id": 1}),
    ("POST", f"/v2/images/{UNKNOWN}/complete", {"sha256": "0" * 64}),
    ("GET", f"/v2/images/{UNKNOWN}/download", None),
    ("GET", "/v2/not-a-route", None),
    ("GET", "/_emulator/faults", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Missing bearer token."),
        ("Bearer wrong", "Invalid bearer token."),
        ("bearer emulator-tests-token", "Invalid bearer token."),
        ("emulator-tests-token", "Invalid bearer token."),
        ("Bearer emulator-tests-tokenX", "Invalid bearer token."),
        ("Bearer  emulator-tests-token", "Invalid bearer token."),
    ],
)
def test_every_api_route_needs_the_exact_token(
    api: Api,
    emulator: Emulator,
    method: str,
    path: str,
    body: Any,
    header: str | None,
    message: str,
) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = api.request(method, path, token=None, json=body, headers=headers)
    error = error_of(response, 401, "authentication_error")
    assert error["message"] == message
    assert response.headers["www-authenticate"] == "Bearer"
    assert emulator.requests[-1].status == 401


def test_two_authorization_headers_are_refused(api: Api) -> None:
    headers = [("Authorization", "Bearer emulator-tests-token")] * 2
    response = api.http.get("/v2/images", headers=headers)
    error_of(response, 401, "authentication_error")


def test_unknown_routes_and_methods(api: Api) -> None:
    error_of(api.request("GET", "/v2/nothing"), 404, "not_found")
    error_of(api.request("GET", "/v2/images/"), 404, "not_found")
    error_of(api.request("GET", "/elsewhere", token=None), 404, "not_found")
    response = api.request("PUT", "/v2/images")
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_start_upload(api: Api, emulator: Emulator) -> None:
    response = api.request("POST", "/v2/images", json={"name": "ubuntu-24.04.raw", "extra": 1})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "object",
        "id",
        "name",
        "upload_status",
        "created_at",
        "provider",
        "sha256",
    }
    assert body["object"] == "image"
    assert re.fullmatch(r"image_[0-9a-zA-Z_-]{21}", body["id"])
    assert body["name"] == "ubuntu-24.04.raw"
    assert body["upload_status"] == "started"
    assert isinstance(body["created_at"], int)
    assert body["provider"] is None
    assert body["sha256"] is None
    assert api.request("GET", f"/v2/images/{body['id']}").json() == body


@pytest.mark.parametrize("name", ["", "-a", ".a", "a b", "a/b", "é", "a" * 256, "a\n"])
def test_start_upload_rejects_bad_names_with_400(api: Api, name: str) -> None:
    # The API description documents no 422 for this operation.
    response = api.request("POST", "/v2/images", json={"name": name})
    error = error_of(response, 400, "invalid_request_error")
    assert only_detail(error)["field"] == "name"


@pytest.mark.parametrize(
    ("content", "field"),
    [(b"{", None), (b"", None), (b"[1]", None), (b"{}", "name"), (b'{"name": ["a"]}', "name")],
)
def test_start_upload_rejects_unreadable_bodies_with_400(
    api: Api, content: bytes, field: str | None
) -> None:
    response = api.request("POST", "/v2/images", content=content)
    error = error_of(response, 400, "invalid_request_error")
    assert only_detail(error)["field"] == field


def test_names_are_unique_among_live_images(api: Api) -> None:
    first = api.start("dup")
    error = error_of(api.request("POST", "/v2/images", json={"name": "dup"}), 409, "conflict")
    assert only_detail(error)["field"] == "name"
    assert api.start("a" * 255)
    assert api.request("DELETE", f"/v2/images/{first}").status_code == 200
    second = api.start("dup")
    assert second != first


@pytest.mark.parametrize(
    "image_id", [UNKNOWN, "nope", "image_", "image_" + "a" * 22, "image_a.b", "IMAGE_abc"]
)
def test_get_unknown_or_malformed_ids_are_404(api: Api, image_id: str) -> None:
    for method, suffix, body in [
        ("GET", "", None),
        ("DELETE", "", None),
        ("POST", "/parts", {"part_id": 1}),
        ("POST", "/complete", {"sha256": "0" * 64}),
        ("GET", "/download", None),
    ]:
        response = api.request(method, f"/v2/images/{image_id}{suffix}", json=body)
        error_of(response, 404, "not_found")


def test_upload_part(api: Api, emulator: Emulator) -> None:
    image_id = api.start("parts")
    response = api.request("POST", f"/v2/images/{image_id}/parts", json={"part_id": 10_000})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"url", "expires_at"}
    assert body["url"].startswith(f"{emulator.url}/_storage/parts/{image_id}/10000?")
    assert isinstance(body["expires_at"], int)
    assert api.request("GET", f"/v2/images/{image_id}").json()["upload_status"] == "uploading"


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b'{"part_id": 0}', 422),
        (b'{"part_id": 10001}', 422),
        (b'{"part_id": "1"}', 400),
        (b'{"part_id": 1.5}', 400),
        (b'{"part_id": false}', 400),
        (b"{}", 400),
    ],
)
def test_upload_part_validation(api: Api, content: bytes, status: int) -> None:
    image_id = api.start("validation")
    response = api.request("POST", f"/v2/images/{image_id}/parts", content=content)
    kind = "unprocessable_entity" if status == 422 else "invalid_request_error"
    assert only_detail(error_of(response, status, kind))["field"] == "part_id"


def test_upload_part_after_complete_is_409(api: Api) -> None:
    image_id = api.upload("done", PART)
    response = api.request("POST", f"/v2/images/{image_id}/parts", json={"part_id": 2})
    error_of(response, 409, "conflict")


def test_complete(api: Api, emulator: Emulator) -> None:
    data = [b"a" * MIN_PART, b"b" * MIN_PART, b"c"]
    image_id = api.start("complete-me")
    for number, part in enumerate(data, start=1):
        assert api.put_part(image_id, number, part).status_code == 200
    digest = sha256_hex(b"".join(data))
    response = api.complete(image_id, digest)
    assert response.status_code == 200
    body = response.json()
    assert body["upload_status"] == "completed"
    assert body["sha256"] == digest
    assert body["id"] == image_id
    assert emulator.real_sha256(image_id) == digest
    assert emulator.part_count(image_id) == 3
    assert emulator.image_path(image_id).read_bytes() == b"".join(data)
    again = api.complete(image_id, digest)
    assert again.status_code == 200
    assert again.json() == body
    error = error_of(api.complete(image_id, "f" * 64), 409, "conflict")
    assert only_detail(error)["field"] == "sha256"


def test_complete_stores_the_client_hash_unverified(api: Api, emulator: Emulator) -> None:
    image_id = api.start("wrong-hash")
    api.put_part(image_id, 1, b"real bytes")
    claimed = "0" * 64
    assert api.complete(image_id, claimed).json()["sha256"] == claimed
    assert emulator.real_sha256(image_id) == sha256_hex(b"real bytes")
    download = api.request("GET", f"/v2/images/{image_id}/download").json()
    assert download["sha256"] == claimed


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({}, "No parts"),
        ({1: PART, 3: PART}, "part 2 is missing"),
        ({2: PART}, "part 1 is missing"),
        ({1: PART[:-1], 2: PART}, "Part 1 is 1023 bytes"),
        ({1: PART, 2: b"x", 3: b"y"}, "Part 2 is 1 bytes"),
    ],
)
def test_complete_refuses_bad_part_sets(
    api: Api, emulator: Emulator, parts: dict[int, bytes], message: str
) -> None:
    image_id = api.start("bad-parts")
    for number, data in parts.items():
        assert api.put_part(image_id, number, data).status_code == 200
    error = error_of(api.complete(image_id, "0" * 64), 422, "unprocessable_entity")
    detail = only_detail(error)
    assert detail["field"] == "parts"
    assert message in detail["message"]
    assert emulator.real_sha256(image_id) is None


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b'{"sha256": "ABC"}', 422),
        (json.dumps({"sha256": "A" * 64}).encode(), 422),
        (b'{"sha256": 5}', 400),
        (b"{}", 400),
        (b"nope", 400),
    ],
)
def test_complete_validation(api: Api, content: bytes, status: int) -> None:
    image_id = api.start("sha-validation")
    response = api.request("POST", f"/v2/images/{image_id}/complete", content=content)
    kind = "unprocessable_entity" if status == 422 else "invalid_request_error"
    error_of(response, status, kind)


def test_download(api: Api, emulator: Emulator) -> None:
    image_id = api.start("download")
    error_of(api.request("GET", f"/v2/images/{image_id}/download"), 409, "conflict")
    api.put_part(image_id, 1, b"0123456789")
    api.complete(image_id, sha256_hex(b"0123456789"))
    body = api.request("GET", f"/v2/images/{image_id}/download").json()
    assert set(body) == {"url", "expires_at", "sha256", "size"}
    assert body["size"] == 10
    assert body["sha256"] == sha256_hex(b"0123456789")
    assert body["url"].startswith(f"{emulator.url}/_storage/images/{image_id}?")
    assert api.storage.get(body["url"]).content == b"0123456789"


def test_soft_delete(api: Api, emulator: Emulator) -> None:
    image_id = api.upload("to-delete", b"bytes")
    path = emulator.image_path(image_id)
    assert path.exists()
    response = api.request("DELETE", f"/v2/images/{image_id}")
    assert response.status_code == 200
    assert response.json() == {"object": "image", "deleted": True, "name": "to-delete"}
    assert not path.exists()
    for method, suffix, body in [
        ("GET", "", None),
        ("DELETE", "", None),
        ("POST", "/parts", {"part_id": 1}),
        ("POST", "/complete", {"sha256": "0" * 64}),
        ("GET", "/download", None),
    ]:
        error_of(api.request(method, f"/v2/images/{image_id}{suffix}", json=body), 404, "not_found")
    assert api.request("GET", "/v2/images").json()["data"] == []
    listed = api.request("GET", "/v2/images", params={"include_deleted": "true"}).json()["data"]
    assert [entry["id"] for entry in listed] == [image_id]
    assert listed[0]["upload_status"] == "completed"


def test_unexpected_errors_are_500_api_error(
    api: Api, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(image_id: str) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(emulator.state.store, "get", broken)
    response = api.request("GET", f"/v2/images/{UNKNOWN}")
    error = error_of(response, 500, "api_error")
    assert "disk on fire" not in error["message"]
