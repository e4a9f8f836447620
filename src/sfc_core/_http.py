"""Sending API requests: pure request and response handling, and two thin drivers.

Theory of operation. An operation module turns its arguments into an ``ApiRequest`` (pure) and
supplies a parser from ``ResponseData`` to a ``Result`` (pure). ``call_steps`` is a generator that
runs one call: it resolves settings, builds the ``httpx.Request``, and for each attempt yields a
``Send`` effect, parses what comes back, asks ``retry_delay`` whether to go again, and yields a
``Sleep`` effect when it should. It returns the final ``Result``. The generator does no I/O
itself: ``drive_sync`` and ``drive_async`` perform the effects, which is the only place where the
sync and async paths differ. The same drivers serve any step generator that yields these effects.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Generator, Mapping
from typing import TypeVar

import httpx
from attrs import evolve, field, frozen
from returns.result import Failure, Result, Success

from sfc_core import _json
from sfc_core._config import HookContext, RequestOptions, RetryConfig, Security, SfcCore
from sfc_core._converter import STRUCTURE_ERRORS, explain, structure
from sfc_core._errors import (
    ApiError,
    ErrorDetail,
    InputValidationError,
    ResponseValidationError,
    SfcConnectionError,
    SfcDefaultError,
    SfcError,
    SfcTimeoutError,
)
from sfc_core._redact import REDACTED, install_log_redaction, redact_url
from sfc_core._retry import FailureKind, Outcome, RetrySafety, retry_delay

logger = logging.getLogger("sfc")
install_log_redaction()

T = TypeVar("T")
E = TypeVar("E", bound=SfcError)
A = TypeVar("A", bound=ApiError)

TransportError = SfcConnectionError | SfcTimeoutError


@frozen(kw_only=True)
class ApiRequest:
    """What one operation asks of the API, before any setting is applied."""

    operation: str
    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    safety: RetrySafety = RetrySafety.IDEMPOTENT


@frozen(kw_only=True)
class ResponseData:
    """A complete response as the parsers see it."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    method: str = "GET"
    path: str = "/"
    truncated: bool = False

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)


@frozen
class Send:
    """Effect: send ``request`` with this per-attempt timeout, read at most ``max_bytes``."""

    request: httpx.Request
    timeout: float
    max_bytes: int


@frozen
class Sleep:
    """Effect: wait this many seconds."""

    seconds: float


@frozen
class Received:
    """Reply to ``Send``: the response arrived (its body read, up to the limit)."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    truncated: bool


@frozen
class Unreachable:
    """Reply to ``Send``: no usable response."""

    kind: FailureKind
    timed_out: bool
    reason: str


Effect = Send | Sleep
Reply = Received | Unreachable | None
Steps = Generator[Effect, Reply, T]


# --- settings -------------------------------------------------------------------------------


@frozen(kw_only=True)
class CallSettings:
    """The core's settings with one call's overrides applied."""

    server_url: str
    token: str = field(repr=False)
    timeout: float
    deadline: float | None
    retry: RetryConfig
    headers: tuple[tuple[str, str], ...]
    query: tuple[tuple[str, str], ...]


def _valid_token(token: str) -> bool:
    return bool(token) and token.isascii() and token.isprintable() and " " not in token


def resolve_settings(
    core: SfcCore, security: Security | None, options: RequestOptions | None
) -> Result[CallSettings, InputValidationError]:
    token = security.bearer_auth if security is not None else core.bearer_auth
    if token is None:
        return Failure(
            InputValidationError(
                field="bearer_auth",
                rule="is required: pass SfcCore(bearer_auth=...), security=Security(...) "
                "or set SFC_VMORCH_BEARER_AUTH",
            )
        )
    if not isinstance(token, str) or not _valid_token(token):
        return Failure(
            InputValidationError(
                field="bearer_auth", rule="must be non-empty printable ASCII without spaces"
            )
        )
    opts = options or RequestOptions()
    return Success(
        CallSettings(
            server_url=opts.server_url or core.server_url,
            token=token,
            timeout=opts.timeout or core.timeout,
            deadline=opts.deadline if opts.deadline is not None else core.deadline,
            retry=opts.retry or core.retry,
            headers=opts.headers,
            query=opts.query,
        )
    )


def build_http_request(core: SfcCore, settings: CallSettings, request: ApiRequest) -> httpx.Request:
    headers = {
        "accept": "application/json",
        "user-agent": core.user_agent,
        "authorization": f"Bearer {settings.token}",
    }
    if request.body is not None:
        headers["content-type"] = "application/json"
    for name, value in settings.headers:
        headers[name.lower()] = value
    return httpx.Request(
        request.method,
        settings.server_url + request.path,
        params=list(request.query + settings.query),
        headers=headers,
        content=request.body,
    )


# --- parsing --------------------------------------------------------------------------------


def _error_body(body: bytes) -> tuple[str | None, str | None, tuple[ErrorDetail, ...]]:
    """``(type, message, details)`` from an error body; ``None``s when it is not the API's."""
    try:
        decoded = _json.loads(body)
    except _json.DECODE_ERRORS:
        return None, None, ()
    error = decoded.get("error") if isinstance(decoded, dict) else None
    if not isinstance(error, dict):
        return None, None, ()
    error_type = error.get("type")
    message = error.get("message")
    raw_details = error.get("details")
    details: list[ErrorDetail] = []
    if isinstance(raw_details, list):
        for item in raw_details:
            if not isinstance(item, dict):
                continue
            field_name = item.get("field")
            code = item.get("code")
            text = item.get("message")
            details.append(
                ErrorDetail(
                    field=field_name if isinstance(field_name, str) else None,
                    code=code if isinstance(code, str) else "",
                    message=text if isinstance(text, str) else "",
                )
            )
    return (
        error_type if isinstance(error_type, str) else None,
        message if isinstance(message, str) else None,
        tuple(details),
    )


def api_error(cls: type[ApiError], data: ResponseData) -> ApiError:
    error_type, message, details = _error_body(data.body)
    return cls(
        status=data.status,
        method=data.method,
        path=data.path,
        error_type=error_type,
        message=message,
        details=details,
        headers=data.headers,
        body=data.body,
    )


def _invalid(data: ResponseData, reason: str) -> ResponseValidationError:
    return ResponseValidationError(
        status=data.status,
        method=data.method,
        path=data.path,
        reason=reason,
        headers=data.headers,
        body=data.body,
    )


def parse_json_response(
    data: ResponseData,
    *,
    success: int,
    model: type[T],
    errors: Mapping[int, type[ApiError]],
) -> Result[T, ApiError | ResponseValidationError]:
    """The model for the documented success status; otherwise the error value the status maps
    to (``SfcDefaultError`` for statuses the operation does not document). Never raises."""
    if data.status == success:
        if data.truncated:
            return Failure(_invalid(data, "the body is larger than max_response_bytes"))
        try:
            decoded = _json.loads(data.body)
        except _json.DECODE_ERRORS:
            return Failure(_invalid(data, "the body is not valid JSON"))
        if not isinstance(decoded, dict):
            return Failure(_invalid(data, f"expected a JSON object, got {type(decoded).__name__}"))
        try:
            return Success(structure(decoded, model))
        except STRUCTURE_ERRORS:
            return Failure(_invalid(data, explain(decoded, model)))
    if 200 <= data.status < 300:
        return Failure(_invalid(data, f"unexpected status {data.status}, expected {success}"))
    return Failure(api_error(errors.get(data.status, SfcDefaultError), data))


# --- the call loop --------------------------------------------------------------------------


def _without_token(error: A, token: str) -> A:
    """``error`` with every copy of the token replaced: a server (or a proxy) that echoes the
    request's ``Authorization`` header must not put the token into messages, reprs or logs."""

    def scrub(text: str) -> str:
        return text.replace(token, REDACTED)

    return evolve(
        error,
        message=None if error.message is None else scrub(error.message),
        details=tuple(
            evolve(d, message=scrub(d.message), field=None if d.field is None else scrub(d.field))
            for d in error.details
        ),
        headers=tuple((name, scrub(value)) for name, value in error.headers),
        body=error.body.replace(token.encode(), REDACTED.encode()),
    )


def _transport_error(request: httpx.Request, reply: Unreachable) -> TransportError:
    cls = SfcTimeoutError if reply.timed_out else SfcConnectionError
    return cls(method=request.method, url=str(request.url), reason=reply.reason)


def call_steps(
    core: SfcCore,
    request: Result[ApiRequest, InputValidationError],
    parse: Callable[[ResponseData], Result[T, E]],
    security: Security | None,
    options: RequestOptions | None,
) -> Steps[Result[T, E | TransportError | InputValidationError]]:
    """Run one API call with retries; see the module docstring."""
    if isinstance(request, Failure):
        return Failure(request.failure())
    api_request = request.unwrap()
    resolved = resolve_settings(core, security, options)
    if isinstance(resolved, Failure):
        return Failure(resolved.failure())
    settings = resolved.unwrap()
    http_request = build_http_request(core, settings, api_request)
    url_text = redact_url(str(http_request.url))
    started = core.clock()
    deadline_at = None if settings.deadline is None else started + settings.deadline
    attempt = 0
    while True:
        attempt += 1
        timeout = settings.timeout
        if deadline_at is not None:
            remaining = deadline_at - core.clock()
            if remaining <= 0:
                return Failure(
                    SfcTimeoutError(
                        method=api_request.method,
                        url=url_text,
                        reason=f"deadline of {settings.deadline:g}s passed after "
                        f"{attempt - 1} attempt(s)",
                    )
                )
            timeout = min(timeout, remaining)
        context = HookContext(
            operation=api_request.operation,
            method=api_request.method,
            url=url_text,
            attempt=attempt,
        )
        for before in core.hooks.before_request:
            before(context, http_request)
        sent_at = core.clock()
        reply = yield Send(http_request, timeout, core.max_response_bytes)
        latency_ms = (core.clock() - sent_at) * 1000
        response: ResponseData | None = None
        result: Result[T, E | TransportError]
        if isinstance(reply, Received):
            response = ResponseData(
                status=reply.status,
                headers=reply.headers,
                body=reply.body,
                method=api_request.method,
                path=api_request.path,
                truncated=reply.truncated,
            )
            result = parse(response)
            outcome = Outcome(status=reply.status, headers=reply.headers)
            logger.debug(
                "%s %s -> %d (%s, attempt %d, %.1f ms)",
                api_request.method,
                url_text,
                reply.status,
                api_request.operation,
                attempt,
                latency_ms,
            )
        else:
            assert isinstance(reply, Unreachable)
            result = Failure(_transport_error(http_request, reply))
            outcome = Outcome(failure=reply.kind)
            logger.debug(
                "%s %s -> no response: %s (%s, attempt %d, %.1f ms)",
                api_request.method,
                url_text,
                reply.reason,
                api_request.operation,
                attempt,
                latency_ms,
            )
        if isinstance(result, Success):
            assert response is not None
            for after in core.hooks.after_success:
                after(context, response)
            return result
        error = result.failure()
        if isinstance(error, ApiError):
            error = _without_token(error, settings.token)
            result = Failure(error)
        for on_error in core.hooks.after_error:
            on_error(context, error, response)
        delay = retry_delay(
            settings.retry,
            api_request.safety,
            attempt,
            outcome,
            now_epoch=core.wall_clock(),
            rand=core.random(),
        )
        if delay is None or (deadline_at is not None and core.clock() + delay >= deadline_at):
            if attempt > 1 and isinstance(error, (SfcConnectionError, SfcTimeoutError)):
                return Failure(evolve(error, reason=f"{error.reason} ({attempt} attempts)"))
            return result
        logger.debug("retrying %s in %.2fs after attempt %d", api_request.operation, delay, attempt)
        yield Sleep(delay)


# --- drivers --------------------------------------------------------------------------------


_TIMEOUT_STAGES: tuple[tuple[type[httpx.TimeoutException], str], ...] = (
    (httpx.ConnectTimeout, "connecting"),
    (httpx.PoolTimeout, "waiting for a free connection"),
    (httpx.WriteTimeout, "sending the request"),
    (httpx.ReadTimeout, "waiting for the response"),
)


def _tls_failure(exc: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def classify(exc: httpx.RequestError, timeout: float | None = None) -> Unreachable:
    """How an httpx failure counts for retries: a connection that was never made (or a pool
    that had none free) sent nothing; a failed TLS handshake will fail again; anything later
    may have reached the server."""
    if isinstance(exc, httpx.TimeoutException):
        stage = next((name for cls, name in _TIMEOUT_STAGES if isinstance(exc, cls)), "")
        limit = f" for {timeout:g}s" if timeout is not None else ""
        reason = f"no progress{limit} while {stage}" if stage else f"timed out{limit}"
        unsent = isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout))
        return Unreachable(
            FailureKind.CONNECT if unsent else FailureKind.SENT, timed_out=True, reason=reason
        )
    reason = str(exc) or type(exc).__name__
    tls = _tls_failure(exc)
    if tls is not None:
        detail = getattr(tls, "reason", None) or tls
        return Unreachable(
            FailureKind.TLS,
            timed_out=False,
            reason=f"TLS handshake failed ({detail}); check the URL's scheme",
        )
    if isinstance(exc, httpx.ConnectError):
        return Unreachable(FailureKind.CONNECT, timed_out=False, reason=reason)
    return Unreachable(FailureKind.SENT, timed_out=False, reason=reason)


def _with_timeout(request: httpx.Request, timeout: float) -> httpx.Request:
    request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
    return request


def _headers(response: httpx.Response) -> tuple[tuple[str, str], ...]:
    return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw)


def _collect(chunks: list[bytes], chunk: bytes, size: int, limit: int) -> tuple[int, bool]:
    """Append ``chunk`` unless that would pass ``limit``; report whether it did."""
    if size + len(chunk) > limit:
        chunks.append(chunk[: limit - size])
        return limit, True
    chunks.append(chunk)
    return size + len(chunk), False


# Requests are sent with ``auth=None``: the credential is already on the request, and an
# injected client's own ``auth`` must neither replace it nor add another.
def _send_sync(client: httpx.Client, effect: Send) -> Received | Unreachable:
    try:
        response = client.send(
            _with_timeout(effect.request, effect.timeout), stream=True, auth=None
        )
        try:
            chunks: list[bytes] = []
            size, truncated = 0, False
            for chunk in response.iter_bytes():
                size, truncated = _collect(chunks, chunk, size, effect.max_bytes)
                if truncated:
                    break
        finally:
            response.close()
    except httpx.RequestError as exc:
        return classify(exc, effect.timeout)
    return Received(response.status_code, _headers(response), b"".join(chunks), truncated)


async def _send_async(client: httpx.AsyncClient, effect: Send) -> Received | Unreachable:
    try:
        response = await client.send(
            _with_timeout(effect.request, effect.timeout), stream=True, auth=None
        )
        try:
            chunks: list[bytes] = []
            size, truncated = 0, False
            async for chunk in response.aiter_bytes():
                size, truncated = _collect(chunks, chunk, size, effect.max_bytes)
                if truncated:
                    break
        finally:
            await response.aclose()
    except httpx.RequestError as exc:
        return classify(exc, effect.timeout)
    return Received(response.status_code, _headers(response), b"".join(chunks), truncated)


def drive_sync(core: SfcCore, steps: Steps[T]) -> T:
    """Run a step generator, performing its effects with blocking I/O."""
    reply: Reply = None
    while True:
        try:
            effect = steps.send(reply)
        except StopIteration as done:
            result: T = done.value
            return result
        if isinstance(effect, Sleep):
            core.sleep(effect.seconds)
            reply = None
        else:
            reply = _send_sync(core.http_client(), effect)


async def drive_async(core: SfcCore, steps: Steps[T]) -> T:
    """Run a step generator, performing its effects on the running event loop."""
    reply: Reply = None
    while True:
        try:
            effect = steps.send(reply)
        except StopIteration as done:
            result: T = done.value
            return result
        if isinstance(effect, Sleep):
            await core.async_sleep(effect.seconds)
            reply = None
        else:
            async with core.async_gate():
                reply = await _send_async(core.async_http_client(), effect)
