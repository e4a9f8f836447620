"""The call loop through httpx.MockTransport: retries, deadlines, hooks, logging, credentials.

MockTransport is httpx's own seam, so these tests run the real send path with no network; the
clock and sleep are injected, so nothing waits.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable

import httpx
import pytest
from returns.result import Failure, Success

from sfc_core import (
    HookContext,
    Hooks,
    InputValidationError,
    NotFoundError,
    RequestOptions,
    ResponseData,
    ResponseValidationError,
    RetryConfig,
    Security,
    SfcConnectionError,
    SfcCore,
    SfcDefaultError,
    SfcError,
    SfcTimeoutError,
)
from sfc_funcs.images_get import images_get, images_get_async
from sfc_funcs.images_list import images_list
from sfc_funcs.images_start_upload import images_start_upload

TOKEN = "sk-test-SECRET-0123456789"
IMAGE = {
    "object": "image",
    "id": "image_abc",
    "name": "disk",
    "upload_status": "started",
    "created_at": 1,
}


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


Handler = Callable[[httpx.Request], httpx.Response]


def scripted(*steps: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler that answers each request with the next step (the last one repeats)."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = steps[min(len(seen), len(steps)) - 1]
        if isinstance(step, Exception):
            raise step
        return step

    return handle, seen


def make_core(handler: Handler, time: FakeTime | None = None, **settings: object) -> SfcCore:
    time = time or FakeTime()
    return SfcCore(
        server_url="https://api.example.test",
        bearer_auth=TOKEN,
        client=httpx.Client(transport=httpx.MockTransport(handler)),
        async_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        clock=time.clock,
        sleep=time.sleep,
        async_sleep=time.async_sleep,
        random=lambda: 1.0,
        wall_clock=lambda: 1_800_000_000.0,
        **settings,  # type: ignore[arg-type]
    )


def ok() -> httpx.Response:
    return httpx.Response(200, json=IMAGE)


def test_success_sends_the_token_only_as_a_bearer_header() -> None:
    handler, seen = scripted(ok())
    assert isinstance(images_get(make_core(handler), "image_abc"), Success)
    (request,) = seen
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.url == "https://api.example.test/v2/images/image_abc"
    assert request.headers["user-agent"].startswith("sfc-images/")
    assert request.headers["accept"] == "application/json"


def test_503_with_retry_after_is_retried_as_told() -> None:
    time = FakeTime()
    handler, seen = scripted(
        httpx.Response(503, headers={"Retry-After": "2"}),
        httpx.Response(503, headers={"Retry-After": "2"}),
        ok(),
    )
    assert isinstance(images_get(make_core(handler, time), "image_abc"), Success)
    assert len(seen) == 3
    assert time.sleeps == [2.0, 2.0]


def test_429_with_retry_after_ms() -> None:
    time = FakeTime()
    handler, _seen = scripted(httpx.Response(429, headers={"retry-after-ms": "1500"}), ok())
    assert isinstance(images_get(make_core(handler, time), "image_abc"), Success)
    assert time.sleeps == [1.5]


def test_retries_run_out_with_the_last_error() -> None:
    time = FakeTime()
    handler, seen = scripted(httpx.Response(502, text="<html>bad gateway</html>"))
    result = images_get(make_core(handler, time, retry=RetryConfig(max_attempts=3)), "image_abc")
    error = result.failure()
    assert isinstance(error, SfcDefaultError)
    assert error.status == 502
    assert len(seen) == 3
    assert time.sleeps == [0.5, 1.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    handler, seen = scripted(httpx.Response(status, json={"error": {"type": "x", "message": "m"}}))
    assert isinstance(images_get(make_core(handler), "image_abc"), Failure)
    assert len(seen) == 1


def test_a_dropped_connection_is_retried_for_a_read() -> None:
    handler, seen = scripted(
        httpx.RemoteProtocolError("Server disconnected without sending a response."), ok()
    )
    assert isinstance(images_get(make_core(handler), "image_abc"), Success)
    assert len(seen) == 2


def test_a_connection_that_keeps_failing_is_a_connection_error() -> None:
    handler, seen = scripted(httpx.ConnectError("connection refused"))
    error = images_get(make_core(handler), "image_abc").failure()
    assert isinstance(error, SfcConnectionError)
    assert "connection refused" in str(error)
    assert len(seen) == 5


def test_start_upload_is_not_repeated_once_the_request_may_have_been_processed() -> None:
    for step in (
        httpx.Response(500, json={"error": {"type": "api_error", "message": "boom"}}),
        httpx.Response(503),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadTimeout("read timed out"),
    ):
        handler, seen = scripted(step)
        assert isinstance(images_start_upload(make_core(handler), "disk"), Failure)
        assert len(seen) == 1, step


def test_start_upload_is_repeated_when_nothing_was_processed() -> None:
    created = httpx.Response(201, json=IMAGE)
    for step in (httpx.ConnectError("refused"), httpx.Response(429), httpx.ConnectTimeout("t")):
        handler, seen = scripted(step, created)
        assert isinstance(images_start_upload(make_core(handler), "disk"), Success)
        assert len(seen) == 2


def test_a_read_timeout_is_a_timeout_error() -> None:
    handler, _ = scripted(httpx.ReadTimeout("timed out"))
    error = images_get(make_core(handler, retry=RetryConfig.off()), "image_abc").failure()
    assert isinstance(error, SfcTimeoutError)


def test_the_deadline_bounds_the_whole_call_including_waits() -> None:
    time = FakeTime()
    handler, seen = scripted(httpx.Response(503, headers={"Retry-After": "4"}))
    core = make_core(handler, time, deadline=10.0, retry=RetryConfig(max_attempts=100))
    error = images_get(core, "image_abc").failure()
    assert isinstance(error, SfcDefaultError)
    assert len(seen) == 3
    assert sum(time.sleeps) < 10.0


def test_the_per_attempt_timeout_never_exceeds_the_time_left() -> None:
    time = FakeTime()
    timeouts: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"]["read"])
        time.now += 3
        return httpx.Response(503, headers={"Retry-After": "1"})

    core = make_core(handler, time, timeout=5.0, deadline=10.0, retry=RetryConfig(max_attempts=10))
    images_get(core, "image_abc")
    assert timeouts[0] == 5.0
    assert all(t <= 5.0 for t in timeouts)
    assert timeouts[-1] < 5.0


def test_a_deadline_already_spent_fails_without_sending() -> None:
    time = FakeTime()
    handler, _seen = scripted(ok())

    def slow_hook(ctx: HookContext, request: httpx.Request) -> None:
        time.now += 100

    core = make_core(handler, time, deadline=1.0, hooks=Hooks(before_request=[slow_hook]))
    handler2, _ = scripted(httpx.Response(503))
    core2 = make_core(handler2, time, deadline=1.0, hooks=Hooks(before_request=[slow_hook]))
    assert isinstance(images_get(core, "image_abc"), Success)
    error = images_get(core2, "image_abc").failure()
    assert isinstance(error, SfcDefaultError | SfcTimeoutError)


def test_per_call_options_override_the_core() -> None:
    time = FakeTime()
    handler, seen = scripted(httpx.Response(503), ok())
    options = RequestOptions(
        retry=RetryConfig.off(),
        server_url="https://other.example.test/preview/",
        headers={"X-Trace": "t1"},
        query={"workspace": "ws_1"},
    )
    result = images_list(make_core(handler, time), limit=5, options=options)
    assert isinstance(result.failure(), SfcDefaultError)
    (request,) = seen
    assert str(request.url) == "https://other.example.test/preview/v2/images?limit=5&workspace=ws_1"
    assert request.headers["x-trace"] == "t1"


def test_per_call_security_replaces_the_core_token() -> None:
    handler, seen = scripted(ok())
    images_get(make_core(handler), "image_abc", security=Security(bearer_auth="other-token"))
    assert seen[0].headers["authorization"] == "Bearer other-token"
    assert "other-token" not in repr(Security(bearer_auth="other-token"))


@pytest.mark.parametrize("token", [None, "", "has space", "line\nbreak", "ünï"])
def test_a_missing_or_malformed_token_fails_before_sending(
    token: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SFC_VMORCH_BEARER_AUTH", raising=False)
    handler, seen = scripted(ok())
    core = make_core(handler)
    security = None if token is None else Security(bearer_auth=token)
    if token is None:
        core = SfcCore(client=core.client, bearer_auth=None)
    error = images_get(core, "image_abc", security=security).failure()
    assert isinstance(error, InputValidationError)
    assert error.field == "bearer_auth"
    assert seen == []


def test_invalid_arguments_send_nothing() -> None:
    handler, seen = scripted(ok())
    error = images_get(make_core(handler), "../../etc/passwd").failure()
    assert isinstance(error, InputValidationError)
    assert seen == []


def test_hooks_see_every_attempt_and_network_failures() -> None:
    events: list[str] = []
    handler, _ = scripted(httpx.ConnectError("refused"), httpx.Response(503), ok())

    def before(ctx: HookContext, request: httpx.Request) -> None:
        events.append(f"before {ctx.operation} #{ctx.attempt}")
        request.headers["x-hooked"] = "1"

    def on_error(ctx: HookContext, error: SfcError, data: ResponseData | None) -> None:
        events.append(f"error {type(error).__name__} {data.status if data else None}")

    def on_success(ctx: HookContext, data: ResponseData) -> None:
        events.append(f"ok {data.status}")

    core = make_core(
        handler,
        hooks=Hooks(before_request=[before], after_error=[on_error], after_success=[on_success]),
    )
    assert isinstance(images_get(core, "image_abc"), Success)
    assert events == [
        "before images_get #1",
        "error SfcConnectionError None",
        "before images_get #2",
        "error SfcDefaultError 503",
        "before images_get #3",
        "ok 200",
    ]


def test_an_oversized_body_is_not_read_past_the_limit() -> None:
    handler, _ = scripted(httpx.Response(200, content=b"x" * 10_000))
    error = images_get(make_core(handler, max_response_bytes=1000), "image_abc").failure()
    assert isinstance(error, ResponseValidationError)
    assert len(error.body) < 10_000


def test_debug_logs_show_the_call_but_never_the_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    handler, _ = scripted(
        httpx.Response(503),
        httpx.Response(404, json={"error": {"type": "not_found", "message": TOKEN}}),
    )
    result = images_get(make_core(handler), "image_abc")
    assert isinstance(result.failure(), NotFoundError)
    text = caplog.text
    assert "GET https://api.example.test/v2/images/image_abc -> 503" in text
    assert "attempt 2" in text
    assert "retrying images_get" in text
    assert TOKEN not in text.replace(f"message': '{TOKEN}", "")


def test_httpx_own_request_log_has_presigned_signatures_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    import sfc_core._http  # noqa: F401 - installs the redaction filter

    client.put(
        "https://store.example.test/b/part?X-Amz-Signature=SIGSECRET&X-Amz-Expires=60", content=b"x"
    )
    assert "SIGSECRET" not in caplog.text
    assert "X-Amz-Expires=60" in caplog.text


async def _get_async(core: SfcCore) -> object:
    return await images_get_async(core, "image_abc")


@pytest.mark.anyio
async def test_the_async_path_retries_the_same_way() -> None:
    time = FakeTime()
    handler, seen = scripted(
        httpx.Response(503, headers={"Retry-After": "3"}), httpx.ConnectError("x"), ok()
    )
    result = await images_get_async(make_core(handler, time), "image_abc")
    assert isinstance(result, Success)
    assert len(seen) == 3
    assert time.sleeps[0] == 3.0


@pytest.mark.anyio
async def test_the_async_path_maps_errors_the_same_way() -> None:
    handler, _ = scripted(
        httpx.Response(404, json={"error": {"type": "not_found", "message": "gone"}})
    )
    error = (await images_get_async(make_core(handler), "image_abc")).failure()
    assert isinstance(error, NotFoundError)
    assert error.message == "gone"


def test_an_injected_client_with_its_own_auth_does_not_replace_the_token() -> None:
    handler, seen = scripted(ok())
    client = httpx.Client(transport=httpx.MockTransport(handler), auth=("user", "password"))
    core = SfcCore(server_url="https://api.example.test", bearer_auth=TOKEN, client=client)
    assert isinstance(images_get(core, "image_abc"), Success)
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_a_server_echoing_the_token_does_not_put_it_into_the_error() -> None:
    body = {
        "error": {
            "type": "not_found",
            "message": f"no access with Bearer {TOKEN}",
            "details": [{"field": None, "code": "x", "message": TOKEN}],
        }
    }
    handler, _ = scripted(httpx.Response(404, json=body, headers={"x-echo": TOKEN}))
    error = images_get(make_core(handler), "image_abc").failure()
    assert isinstance(error, NotFoundError)
    assert TOKEN not in str(error)
    assert TOKEN not in repr(error)
    assert TOKEN.encode() not in error.body
    assert error.header("x-echo") == "<redacted>"
    assert error.message == "no access with Bearer <redacted>"


def test_a_read_timeout_says_where_it_stopped_and_how_often_it_tried() -> None:
    handler, seen = scripted(httpx.ReadTimeout("timed out"))
    core = make_core(handler, timeout=2.0, retry=RetryConfig(max_attempts=3))
    error = images_get(core, "image_abc").failure()
    assert isinstance(error, SfcTimeoutError)
    assert error.reason == "no progress for 2s while waiting for the response (3 attempts)"
    assert len(seen) == 3


def test_a_failed_tls_handshake_is_not_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        try:
            raise ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
        except ssl.SSLError as exc:
            raise httpx.ConnectError("wrong version number") from exc

    seen: list[int] = []

    def counting(request: httpx.Request) -> httpx.Response:
        seen.append(1)
        return handler(request)

    error = images_get(make_core(counting), "image_abc").failure()
    assert isinstance(error, SfcConnectionError)
    assert "TLS handshake failed" in error.reason
    assert "scheme" in error.reason
    assert len(seen) == 1
