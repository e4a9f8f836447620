"""The outermost ASGI layer: log every request, apply scripted faults, check the bearer token.

Order per request:

1. Name the route (`_routes.classify`) and append a record to the request log. `receive` and
   `send` are wrapped so the record learns the body size and the response status.
2. Take the first matching fault, if any. Its `delay` is slept first. With a `status` the request
   body is drained (so the client is not cut off mid-upload and reliably sees the answer) and the
   scripted answer is sent instead of running the handler, so no state changes. Otherwise the
   handler runs, without the Range header if `ignore_range`.
3. For routes under `/v2/` and `/_emulator/`, answer 401 unless `Authorization` is exactly
   `Bearer <token>` (compared in constant time).
4. `drop_after_bytes` wraps `send`: the handler runs for real — a dropped `complete` really
   completes, like a response lost on the way back — but the client gets at most that many body
   bytes before the connection is closed. Closing needs the connection's transport, which the
   emulator's HTTP protocol puts into the scope under `TRANSPORT_KEY`.
"""

from __future__ import annotations

import hmac
from typing import Any, Final

import anyio
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sfc_emulator._errors import STORAGE_CODES, ApiError, api_error_body, storage_error_body
from sfc_emulator._faults import FaultSpec
from sfc_emulator._requests import RecordedRequest
from sfc_emulator._routes import STORAGE_ROUTES, classify, needs_token
from sfc_emulator._state import State

TRANSPORT_KEY: Final = "sfc_emulator.transport"
_DISCONNECT_WAIT: Final = 10.0


class FrontDoor:
    """ASGI middleware implementing the request log, fault injection and API auth."""

    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app = app
        self.state = state
        self._expected_auth = f"Bearer {state.token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        path: str = scope["path"]
        route = classify(method, path)
        record = RecordedRequest(
            method=method,
            path=path,
            query=scope["query_string"].decode("latin-1"),
            headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]),
            route=route,
        )
        self.state.requests.append(record)
        receive = _counting(receive, record)

        fault = self.state.faults.take(route, method)
        dropper: _Dropper | None = None
        if fault is not None:
            record.fault = True
            if fault.delay:
                await anyio.sleep(fault.delay)
            if fault.drop_after_bytes is not None:
                transport = scope.get("extensions", {}).get(TRANSPORT_KEY)
                if transport is None:
                    raise RuntimeError("drop faults need the emulator's own HTTP server")
                dropper = _Dropper(send, transport, fault.drop_after_bytes, record)
                send = dropper
            if fault.ignore_range:
                scope = dict(scope, headers=[h for h in scope["headers"] if h[0] != b"range"])
        send = _recording(send, record)

        if fault is not None and fault.status is not None:
            await drain(receive)
            await _scripted(fault, fault.status, route)(scope, receive, send)
        elif needs_token(route, path) and not self._authorized(scope):
            await _unauthorized(scope)(scope, receive, send)
        else:
            await self.app(scope, receive, send)
        if dropper is not None and dropper.dropped:
            await dropper.wait_closed(receive)

    def _authorized(self, scope: Scope) -> bool:
        values = [v for k, v in scope["headers"] if k == b"authorization"]
        return len(values) == 1 and hmac.compare_digest(values[0], self._expected_auth)


def _counting(receive: Receive, record: RecordedRequest) -> Receive:
    async def counted() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            record.body_size += len(message.get("body", b""))
        return message

    return counted


def _recording(send: Send, record: RecordedRequest) -> Send:
    async def recorded(message: Message) -> None:
        if message["type"] == "http.response.start":
            record.status = message["status"]
        await send(message)

    return recorded


async def drain(receive: Receive) -> None:
    """Read and discard the rest of the request body."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


def _unauthorized(scope: Scope) -> Response:
    has_header = any(k == b"authorization" for k, _ in scope["headers"])
    message = "Invalid bearer token." if has_header else "Missing bearer token."
    return ApiError(401, message, headers={"www-authenticate": "Bearer"}).response()


def _scripted(fault: FaultSpec, status: int, route: str | None) -> Response:
    if fault.body is not None:
        body = fault.body
        media_type = fault.content_type or "text/plain; charset=utf-8"
    elif route in STORAGE_ROUTES:
        body = storage_error_body(STORAGE_CODES.get(status, "InjectedFault"), "Injected fault")
        media_type = fault.content_type or "application/xml"
    else:
        body = api_error_body(status, "Injected fault.")
        media_type = fault.content_type or "application/json"
    # Set verbatim: media_type would have Starlette append a charset to text types.
    response = Response(body, status_code=status, headers={"content-type": media_type})
    for name, value in fault.response_headers():
        response.headers.append(name, value)
    return response


class _Dropper:
    """A `send` that lets through at most `limit` body bytes, then closes the connection."""

    def __init__(self, send: Send, transport: Any, limit: int, record: RecordedRequest) -> None:
        self._send = send
        self._transport = transport
        self._limit = limit
        self._record = record
        self._start: Message | None = None
        self._sent = 0
        self.dropped = False

    async def __call__(self, message: Message) -> None:
        if self.dropped:
            return
        if message["type"] == "http.response.start":
            self._start = message
            if self._limit == 0:
                self._drop()
            return
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        if self._start is not None:
            await self._send(self._start)
            self._start = None
        room = self._limit - self._sent
        if len(body) < room or (len(body) == room and not more):
            self._sent += len(body)
            await self._send(message)
            return
        await self._send({"type": "http.response.body", "body": body[:room], "more_body": True})
        self._drop()

    def _drop(self) -> None:
        self.dropped = True
        self._record.dropped = True
        # close() (not abort()) so the bytes already written still reach the client.
        self._transport.close()

    async def wait_closed(self, receive: Receive) -> None:
        """Wait until the server has noticed the close, so it does not report a broken response."""
        with anyio.move_on_after(_DISCONNECT_WAIT):
            while (await receive())["type"] != "http.disconnect":
                pass
