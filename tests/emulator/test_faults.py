"""Fault injection, in process (`emu.faults`) and over the admin HTTP endpoint."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from emulator.helpers import Api, sha256_hex
from sfc_emulator import Emulator, FaultSpec, RecordedRequest, RequestLog
from sfc_emulator._frontdoor import FrontDoor
from sfc_emulator._routes import FAULT_ROUTES

DATA = bytes(range(256)) * 16  # 4096 bytes


@pytest.fixture
def image(api: Api) -> str:
    return api.upload("faulty", DATA)


def test_status_with_retry_after_seconds(api: Api, emulator: Emulator) -> None:
    emulator.faults.add("list", status=503, retry_after=2, retry_after_ms=1500)
    response = api.request("GET", "/v2/images")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert response.headers["retry-after-ms"] == "1500"
    error = response.json()["error"]
    assert (error["type"], error["message"]) == ("service_unavailable", "Injected fault.")
    assert api.request("GET", "/v2/images").status_code == 200
    assert [r.fault for r in emulator.requests.by_route("list")] == [True, False]


def test_status_with_an_http_date_and_fractional_ms(api: Api, emulator: Emulator) -> None:
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    emulator.faults.add("get", status=429, retry_after=date, retry_after_ms=0.5)
    response = api.request("GET", "/v2/images/image_x")
    assert response.status_code == 429
    assert response.headers["retry-after"] == date
    assert response.headers["retry-after-ms"] == "0.5"
    assert response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, "invalid_request_error"), (403, "forbidden"), (409, "conflict"), (500, "api_error")],
)
def test_injected_statuses_carry_the_matching_type(
    api: Api, emulator: Emulator, status: int, kind: str
) -> None:
    emulator.faults.add("start_upload", status=status)
    response = api.request("POST", "/v2/images", json={"name": "never"})
    assert response.status_code == status
    assert response.json()["error"]["type"] == kind
    # The handler did not run: the name is still free.
    assert api.start("never")


def test_html_body_from_a_proxy(api: Api, emulator: Emulator) -> None:
    html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    emulator.faults.add(
        "download", status=502, body=html, content_type="text/html", headers={"X-Proxy": "edge"}
    )
    response = api.request("GET", "/v2/images/image_x/download")
    assert response.status_code == 502
    assert response.text == html
    assert response.headers["content-type"] == "text/html"
    assert response.headers["x-proxy"] == "edge"


def test_empty_and_untyped_bodies(api: Api, emulator: Emulator) -> None:
    emulator.faults.add("delete", status=504, body=b"")
    emulator.faults.add("delete", status=502, body="oops")
    assert api.request("DELETE", "/v2/images/image_x").content == b""
    response = api.request("DELETE", "/v2/images/image_x")
    assert (response.text, response.headers["content-type"]) == (
        "oops",
        "text/plain; charset=utf-8",
    )


def test_storage_faults_answer_xml(api: Api, emulator: Emulator) -> None:
    image_id = api.start("xml")
    url = api.part_url(image_id, 1)
    emulator.faults.add("storage_put", status=503, retry_after=1)
    response = api.storage.put(url, content=b"x" * 5000)
    assert response.status_code == 503
    assert "<Code>SlowDown</Code>" in response.text
    assert emulator.part_count(image_id) == 0
    assert emulator.requests.by_route("storage_put")[-1].body_size == 5000
    emulator.faults.add("storage_put", status=418)
    assert "<Code>InjectedFault</Code>" in api.storage.put(url, content=b"x").text


def test_delay_then_normal_answer(api: Api, emulator: Emulator) -> None:
    emulator.faults.add("list", delay=0.01)
    assert api.request("GET", "/v2/images").status_code == 200
    assert emulator.requests.by_route("list")[-1].fault
    assert emulator.faults.pending() == 0


def test_delay_combined_with_status(api: Api, emulator: Emulator) -> None:
    emulator.faults.add("list", delay=0.01, status=500)
    assert api.request("GET", "/v2/images").status_code == 500


def test_drop_before_any_response(api: Api, emulator: Emulator) -> None:
    emulator.faults.add("start_upload", drop_after_bytes=0)
    with pytest.raises(httpx.RemoteProtocolError):
        api.request("POST", "/v2/images", json={"name": "lost-response"})
    record = emulator.requests.by_route("start_upload")[-1]
    assert (record.status, record.dropped) == (201, True)
    # The work was done; only the answer was lost.
    listed = api.request("GET", "/v2/images").json()["data"]
    assert [entry["name"] for entry in listed] == ["lost-response"]


def test_drop_before_any_response_on_a_raw_socket(api: Api, emulator: Emulator) -> None:
    emulator.faults.add("list", drop_after_bytes=0)
    host, port = emulator.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /v2/images HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(1024) == b""


def test_drop_mid_body(api: Api, emulator: Emulator, image: str) -> None:
    url = api.download_url(image)
    emulator.faults.add("storage_get", drop_after_bytes=100)
    received = bytearray()

    def read_all() -> None:
        with api.storage.stream("GET", url) as response:
            assert response.status_code == 200
            assert response.headers["content-length"] == str(len(DATA))
            for chunk in response.iter_raw():
                received.extend(chunk)

    with pytest.raises(httpx.RemoteProtocolError):
        read_all()
    assert bytes(received) == DATA[:100]
    assert api.storage.get(url).content == DATA


def test_drop_mid_json_body(api: Api, emulator: Emulator) -> None:
    emulator.faults.add("list", drop_after_bytes=10)
    with pytest.raises(httpx.RemoteProtocolError):
        api.request("GET", "/v2/images")


def test_drop_limit_beyond_the_body_changes_nothing(api: Api, emulator: Emulator) -> None:
    emulator.faults.add("list", drop_after_bytes=10_000)
    assert api.request("GET", "/v2/images").json()["data"] == []
    body_length = len(api.request("GET", "/v2/images").content)
    emulator.faults.add("list", drop_after_bytes=body_length)
    assert api.request("GET", "/v2/images").json()["data"] == []


def test_complete_retried_after_a_lost_response(api: Api, emulator: Emulator) -> None:
    image_id = api.start("retry-complete")
    api.put_part(image_id, 1, DATA)
    emulator.faults.add("complete", drop_after_bytes=0)
    with pytest.raises(httpx.RemoteProtocolError):
        api.complete(image_id, sha256_hex(DATA))
    retried = api.complete(image_id, sha256_hex(DATA))
    assert retried.status_code == 200
    assert retried.json()["upload_status"] == "completed"


def test_ignore_range(api: Api, emulator: Emulator, image: str) -> None:
    url = api.download_url(image)
    emulator.faults.add("storage_get", ignore_range=True)
    response = api.storage.get(url, headers={"Range": "bytes=0-9"})
    assert (response.status_code, response.content) == (200, DATA)
    assert "content-range" not in response.headers
    again = api.storage.get(url, headers={"Range": "bytes=0-9"})
    assert (again.status_code, again.content) == (206, DATA[:10])


def test_method_filter(api: Api, emulator: Emulator, image: str) -> None:
    url = api.download_url(image)
    emulator.faults.add("storage_get", status=500, method="head")
    assert api.storage.get(url).status_code == 200
    assert api.storage.head(url).status_code == 500


def test_times_and_handles(api: Api, emulator: Emulator) -> None:
    fault = emulator.faults.add("list", status=500, times=3)
    other = emulator.faults.add("get", status=500, times=2)
    assert (emulator.faults.pending(), fault.remaining) == (5, 3)
    assert api.request("GET", "/v2/images").status_code == 500
    assert api.request("GET", "/v2/images").status_code == 500
    assert (emulator.faults.pending(), fault.remaining) == (3, 1)
    fault.cancel()
    assert (emulator.faults.pending(), fault.remaining) == (2, 0)
    assert api.request("GET", "/v2/images").status_code == 200
    assert emulator.faults.clear() == 2
    assert other.remaining == 0
    assert api.request("GET", "/v2/images/image_x").status_code == 404
    assert emulator.faults.pending() == 0


def test_faults_apply_in_order_added(api: Api, emulator: Emulator) -> None:
    emulator.faults.add("*", status=502)
    emulator.faults.add("list", status=503)
    assert api.request("GET", "/v2/images").status_code == 502
    assert api.request("GET", "/v2/images").status_code == 503


def test_wildcard_skips_admin_and_unknown_routes(api: Api, emulator: Emulator) -> None:
    emulator.faults.add("*", status=500)
    assert api.request("GET", "/_emulator/faults").status_code == 200
    assert api.request("GET", "/openapi.json").status_code == 200
    assert api.request("GET", "/v2/elsewhere").status_code == 404
    assert api.request("GET", "/v2/images").status_code == 500


@pytest.mark.parametrize(
    "kwargs",
    [
        {"route": "nope", "status": 500},
        {"route": "list", "status": 500, "times": 0},
        {"route": "list", "status": 500, "times": True},
        {"route": "list", "status": 99},
        {"route": "list", "status": 600},
        {"route": "list", "delay": -1.0},
        {"route": "list", "drop_after_bytes": -1},
        {"route": "list", "body": "x", "delay": 1.0},
        {"route": "list"},
        {"route": "admin", "status": 500},
    ],
)
def test_add_refuses_faults_that_make_no_sense(emulator: Emulator, kwargs: dict[str, Any]) -> None:
    route = kwargs.pop("route")
    with pytest.raises(ValueError):  # noqa: PT011 (the message varies by case)
        emulator.faults.add(route, **kwargs)
    assert emulator.faults.pending() == 0


def test_every_fault_route_has_a_name(emulator: Emulator) -> None:
    for route in FAULT_ROUTES:
        emulator.faults.add(route, status=500).cancel()
    assert FaultSpec(route="*").matches("list", "GET")
    assert not FaultSpec(route="*").matches(None, "GET")


@pytest.mark.anyio
async def test_drop_needs_the_emulator_transport(emulator: Emulator) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("not reached")

    emulator.faults.add("list", drop_after_bytes=0)
    transport = httpx.ASGITransport(app=FrontDoor(app, emulator.state))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        with pytest.raises(RuntimeError, match="drop faults"):
            await client.get("/v2/images")


# The admin endpoint


def test_admin_faults(api: Api, emulator: Emulator) -> None:
    created = api.request(
        "POST",
        "/_emulator/faults",
        json={
            "route": "list",
            "status": 503,
            "retry_after": "7",
            "headers": {"X-A": "b"},
            "times": 2,
            "body": "<html/>",
            "content_type": "text/html",
            "ignored": True,
            "delay": None,
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"].startswith("fault_")
    assert (body["route"], body["status"], body["remaining"]) == ("list", 503, 2)
    listed = api.request("GET", "/_emulator/faults").json()
    assert listed["pending"] == 2
    assert [f["id"] for f in listed["data"]] == [body["id"]]
    response = api.request("GET", "/v2/images")
    assert (response.status_code, response.text, response.headers["retry-after"]) == (
        503,
        "<html/>",
        "7",
    )
    assert response.headers["x-a"] == "b"
    assert api.request("DELETE", f"/_emulator/faults/{body['id']}").json()["cancelled"] is True
    assert api.request("DELETE", f"/_emulator/faults/{body['id']}").status_code == 404
    api.request("POST", "/_emulator/faults", json={"route": "get", "drop_after_bytes": 0})
    assert api.request("DELETE", "/_emulator/faults").json() == {"cleared": 1}
    assert emulator.faults.pending() == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"status": 500}, 400, "route"),
        ({"route": "list", "status": "500"}, 400, "status"),
        ({"route": "list", "ignore_range": 1}, 400, "ignore_range"),
        ({"route": "list", "status": True}, 400, "status"),
        ({"route": "list", "headers": {"a": 1}}, 400, "headers"),
        ({"route": "list", "headers": ["a"]}, 400, "headers"),
        ({"route": "nowhere", "status": 500}, 422, None),
        ({"route": "list"}, 422, None),
    ],
)
def test_admin_fault_validation(
    api: Api, body: dict[str, Any], status: int, field: str | None
) -> None:
    response = api.request("POST", "/_emulator/faults", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["details"][0]["field"] == field


def test_admin_needs_the_token(api: Api) -> None:
    response = api.request("POST", "/_emulator/faults", token=None, json={"route": "list"})
    assert response.status_code == 401


def test_admin_url_ttl(api: Api, emulator: Emulator) -> None:
    assert api.request("POST", "/_emulator/url-ttl", json={"seconds": 0}).json() == {"url_ttl": 0.0}
    image_id = api.start("admin-ttl")
    assert api.put_part(image_id, 1, b"x").status_code == 403
    assert api.request("POST", "/_emulator/url-ttl", json={"seconds": "1"}).status_code == 400
    assert api.request("POST", "/_emulator/url-ttl", json={"seconds": True}).status_code == 400
    assert api.request("POST", "/_emulator/url-ttl", json={"seconds": 30.5}).status_code == 200
    assert api.put_part(image_id, 1, b"x").status_code == 200


def test_admin_requests_images_and_reset(api: Api, emulator: Emulator) -> None:
    image_id = api.upload("inspect", b"abc")
    logged = api.request("GET", "/_emulator/requests").json()["data"]
    assert [r["route"] for r in logged] == [
        "start_upload",
        "upload_part",
        "storage_put",
        "complete",
        "admin",
    ]
    assert logged[2]["body_size"] == 3
    assert ["authorization", f"Bearer {emulator.token}"] in logged[0]["headers"]
    assert api.request("DELETE", "/_emulator/requests").json() == {"cleared": 6}
    inspected = api.request("GET", f"/_emulator/images/{image_id}").json()
    assert inspected == {
        "id": image_id,
        "real_sha256": sha256_hex(b"abc"),
        "part_count": 1,
        "path": str(emulator.image_path(image_id)),
    }
    assert api.request("GET", "/_emulator/images/image_nope").status_code == 404
    emulator.faults.add("list", status=500)
    emulator.set_url_ttl(0)
    assert api.request("POST", "/_emulator/reset").json() == {"reset": True}
    assert emulator.faults.pending() == 0
    assert emulator.state.url_ttl == emulator.state.initial_url_ttl
    assert api.request("GET", "/v2/images").json()["data"] == []


def test_request_log_keeps_the_newest_records() -> None:
    log = RequestLog(max_records=2)
    for path in ("/a", "/b", "/c"):
        log.append(RecordedRequest(method="GET", path=path, query="", headers=(), route=None))
    assert [record.path for record in log] == ["/b", "/c"]
    assert (len(log), log[0].path, log.by_route("list")) == (2, "/b", [])
