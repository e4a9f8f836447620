"""Configuration: ``SfcCore`` and the per-call overrides.

``SfcCore`` holds settings only; every operation is a function that takes it. The one piece of
state it carries is a lazily created pair of pooled httpx clients (one sync, one async), so that
all calls through one core share connections. Close it with ``close()`` / ``aclose()`` or use it
as a (async) context manager; clients that the caller injected are the caller's to close.

The bearer token is never put into a client's default headers: httpx merges those into requests
to any host, and presigned storage URLs must never see it. It is added per request, for the API
origin only.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Self

import httpx
from attrs import Factory, evolve, field, frozen

from sfc_core._redact import redact_secret

if TYPE_CHECKING:
    import asyncio

    from sfc_core._errors import SfcError
    from sfc_core._http import ResponseData

DEFAULT_SERVER_URL = "https://api.sfcompute.com"
TOKEN_ENV = "SFC_VMORCH_BEARER_AUTH"  # noqa: S105 - a variable name, not a secret
VERSION = "0.1.0"
DEFAULT_USER_AGENT = f"sfc-images/{VERSION} python/{sys.version_info[0]}.{sys.version_info[1]}"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def _int_set(values: Iterable[int]) -> frozenset[int]:
    return frozenset(values)


def _before_hooks(values: Iterable[BeforeRequestHook]) -> tuple[BeforeRequestHook, ...]:
    return tuple(values)


def _success_hooks(values: Iterable[AfterSuccessHook]) -> tuple[AfterSuccessHook, ...]:
    return tuple(values)


def _error_hooks(values: Iterable[AfterErrorHook]) -> tuple[AfterErrorHook, ...]:
    return tuple(values)


def _positive(name: str, value: float | None, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if value is None or value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")


def _check_server_url(value: str) -> str:
    url = httpx.URL(value)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"server_url must be an absolute http(s) URL, got {value!r}")
    if url.query or url.fragment or url.userinfo:
        raise ValueError(
            "server_url must not carry a query, fragment or credentials; "
            "use RequestOptions(query=...) and bearer_auth instead"
        )
    return value.rstrip("/")


@frozen(kw_only=True)
class RetryConfig:
    """When and how long to wait before trying a request again.

    Retries happen on ``statuses`` (429 and 5XX gateway errors by default) and on connection
    failures, with exponential backoff and jitter: the n-th wait is drawn between half and all of
    ``min(max_interval, initial_interval * exponent ** (n - 1))``. A ``Retry-After`` (seconds or
    an HTTP date) or ``retry-after-ms`` header replaces the computed wait, capped at
    ``max_retry_after``. 409 is never retried: here it always means a real conflict.

    Attributes:
        enabled: ``False`` turns retries off (``RetryConfig.off()``).
        max_attempts: attempts in all, the first one included.
        initial_interval: first backoff, in seconds.
        max_interval: largest backoff, in seconds.
        exponent: growth factor between backoffs.
        max_retry_after: largest wait a server may ask for, in seconds.
        statuses: statuses that are retried.
        connection_errors: whether connection failures and timeouts are retried.
    """

    enabled: bool = True
    max_attempts: int = 5
    initial_interval: float = 0.5
    max_interval: float = 30.0
    exponent: float = 2.0
    max_retry_after: float = 60.0
    statuses: frozenset[int] = field(default=RETRYABLE_STATUSES, converter=_int_set)
    connection_errors: bool = True

    def __attrs_post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if 409 in self.statuses:
            raise ValueError("409 means a real conflict here and is never retried")
        _positive("initial_interval", self.initial_interval)
        _positive("max_interval", self.max_interval)
        if self.exponent < 1:
            raise ValueError(f"exponent must be at least 1, got {self.exponent}")

    @classmethod
    def off(cls) -> RetryConfig:
        """A policy that never retries."""
        return cls(enabled=False, max_attempts=1)


@frozen(kw_only=True)
class Security:
    """A per-call credential that overrides the core's token."""

    bearer_auth: str = field(repr=redact_secret)


@frozen(kw_only=True)
class HookContext:
    """What a hook is told about the call it observes."""

    operation: str
    method: str
    url: str
    attempt: int


BeforeRequestHook = Callable[[HookContext, httpx.Request], None]
AfterSuccessHook = Callable[[HookContext, "ResponseData"], None]
AfterErrorHook = Callable[[HookContext, "SfcError", "ResponseData | None"], None]


@frozen(kw_only=True)
class Hooks:
    """Callbacks for tracing and metrics. They run inline and must not block for long.

    Attributes:
        before_request: called with the context and the ``httpx.Request`` before each attempt;
            it may add headers (the token is already set, and is not shown in ``ctx``).
        after_success: called with the context and the final ``ResponseData`` (status,
            headers, body).
        after_error: called after each failed attempt, network failures included, with the
            context, the error value and the ``ResponseData`` when there was a response.
    """

    before_request: tuple[BeforeRequestHook, ...] = field(default=(), converter=_before_hooks)
    after_success: tuple[AfterSuccessHook, ...] = field(default=(), converter=_success_hooks)
    after_error: tuple[AfterErrorHook, ...] = field(default=(), converter=_error_hooks)


def _pairs(value: Mapping[str, str] | tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return value if isinstance(value, tuple) else tuple(value.items())


@frozen(kw_only=True)
class RequestOptions:
    """Per-call overrides; ``None`` means "as the core says".

    Attributes:
        timeout: seconds each attempt may take.
        deadline: seconds the whole call may take, retries and waits included.
        retry: the retry policy for this call.
        server_url: another API base URL for this call (a path prefix is kept).
        headers: extra request headers (``Authorization`` is refused: use ``security``).
        query: extra query parameters, such as ``{"workspace": "..."}``.
    """

    timeout: float | None = None
    deadline: float | None = None
    retry: RetryConfig | None = None
    server_url: str | None = field(default=None)
    headers: tuple[tuple[str, str], ...] = field(default=(), converter=_pairs)
    query: tuple[tuple[str, str], ...] = field(default=(), converter=_pairs)

    def __attrs_post_init__(self) -> None:
        _positive("timeout", self.timeout, allow_none=True)
        _positive("deadline", self.deadline, allow_none=True)
        if self.server_url is not None:
            object.__setattr__(self, "server_url", _check_server_url(self.server_url))
        for name, value in self.headers:
            if name.lower() == "authorization":
                raise ValueError("pass credentials with security=Security(...), not as a header")
            if any(c in name + value for c in "\r\n\0"):
                raise ValueError(f"header {name!r} contains a line break or NUL")


class _ClientPool:
    """The core's lazily created clients. Not part of the configuration, so excluded from
    equality and repr."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sync: httpx.Client | None = None
        self.async_: httpx.AsyncClient | None = None
        self.async_loop: asyncio.AbstractEventLoop | None = None
        self.gate: asyncio.Semaphore | None = None
        self.gate_loop: asyncio.AbstractEventLoop | None = None


def _token_from_env() -> str | None:
    return os.environ.get(TOKEN_ENV) or None


def _default_async_sleep(seconds: float) -> Awaitable[None]:
    import asyncio  # imported here to keep asyncio off the import path of sync-only users

    return asyncio.sleep(seconds)


MAX_CONNECTIONS = 100


def _new_limits() -> httpx.Limits:
    return httpx.Limits(
        max_connections=MAX_CONNECTIONS, max_keepalive_connections=32, keepalive_expiry=30
    )


@frozen(kw_only=True)
class SfcCore:
    """Settings for talking to the Images API.

    Attributes:
        server_url: API base URL; a path prefix such as ``/preview`` is kept.
        bearer_auth: the API token; read from ``SFC_VMORCH_BEARER_AUTH`` when not given. Never
            shown in a repr.
        timeout: seconds each attempt may take.
        deadline: seconds a whole call may take, retries and waits included; ``None`` for none.
        retry: the retry policy (``RetryConfig.off()`` disables retries).
        client: an ``httpx.Client`` to use instead of the core's own; yours to close.
        async_client: an ``httpx.AsyncClient`` to use instead of the core's own; yours to close.
        user_agent: the ``User-Agent`` sent to the API.
        hooks: tracing callbacks.
        clock: monotonic seconds, for deadlines (injectable so tests need not wait).
        wall_clock: epoch seconds, for ``Retry-After`` dates and URL expiry.
        sleep: blocking sleep used between retries.
        async_sleep: awaitable sleep used between retries in async calls.
        random: a float in [0, 1), for jitter.
        max_response_bytes: a larger API response body is refused as invalid.
    """

    server_url: str = field(default=DEFAULT_SERVER_URL, converter=_check_server_url)
    bearer_auth: str | None = field(factory=_token_from_env, repr=redact_secret)
    timeout: float = 30.0
    deadline: float | None = 300.0
    retry: RetryConfig = Factory(RetryConfig)
    client: httpx.Client | None = field(default=None, eq=False)
    async_client: httpx.AsyncClient | None = field(default=None, eq=False)
    user_agent: str = DEFAULT_USER_AGENT
    hooks: Hooks = Factory(Hooks)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, eq=False)
    wall_clock: Callable[[], float] = field(default=time.time, repr=False, eq=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, eq=False)
    async_sleep: Callable[[float], Awaitable[None]] = field(
        default=_default_async_sleep, repr=False, eq=False
    )
    random: Callable[[], float] = field(default=random.random, repr=False, eq=False)
    max_response_bytes: int = 32 * 1024 * 1024
    _pool: _ClientPool = field(factory=_ClientPool, init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        _positive("timeout", self.timeout)
        _positive("deadline", self.deadline, allow_none=True)

    def http_client(self) -> httpx.Client:
        """The sync client calls go through: the injected one, or the core's pooled one."""
        if self.client is not None:
            return self.client
        with self._pool.lock:
            if self._pool.sync is None:
                self._pool.sync = httpx.Client(limits=_new_limits(), follow_redirects=False)
            return self._pool.sync

    def async_http_client(self) -> httpx.AsyncClient:
        """The async client for the running event loop: the injected one, or the core's own.

        An ``httpx.AsyncClient``'s connections belong to the loop that opened them, so the
        core's own client is replaced when it is used from a different loop.
        """
        if self.async_client is not None:
            return self.async_client
        import asyncio  # see _default_async_sleep

        loop = asyncio.get_running_loop()
        with self._pool.lock:
            if self._pool.async_ is None or self._pool.async_loop is not loop:
                self._pool.async_ = httpx.AsyncClient(limits=_new_limits(), follow_redirects=False)
                self._pool.async_loop = loop
            return self._pool.async_

    def async_gate(self) -> asyncio.Semaphore:
        """A semaphore admitting as many concurrent async requests as the pool has connections.

        httpcore's pool rescans every waiting request whenever a connection frees up, so
        thousands of concurrent calls queued inside it cost quadratic time; waiting here first
        keeps its queue short and the cost linear.
        """
        import asyncio  # see _default_async_sleep

        loop = asyncio.get_running_loop()
        with self._pool.lock:
            if self._pool.gate is None or self._pool.gate_loop is not loop:
                self._pool.gate = asyncio.Semaphore(MAX_CONNECTIONS)
                self._pool.gate_loop = loop
            return self._pool.gate

    def close(self) -> None:
        """Close the core's own sync client (an injected one is left alone)."""
        with self._pool.lock:
            client, self._pool.sync = self._pool.sync, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the core's own clients (injected ones are left alone)."""
        with self._pool.lock:
            client, self._pool.async_ = self._pool.async_, None
            self._pool.async_loop = None
        if client is not None:
            await client.aclose()
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def with_options(self, **changes: Any) -> SfcCore:
        """A copy of this core with some settings changed; it gets clients of its own."""
        return evolve(self, **changes)
