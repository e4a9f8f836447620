"""Fault injection: a thread-safe queue of scripted misbehaviour, consumed one request at a time.

Tests add faults from their own thread; the server's event loop takes them. A fault applies to
the next `times` requests whose route (and method, if given) match, in the order faults were added;
each matching request consumes one use of the first matching fault. What a fault does is applied
by the front door (`_frontdoor.py`): first `delay`, then either an injected `status` answer or the
real handler (seeing no Range header if `ignore_range`), and finally `drop_after_bytes` truncates
whichever response was produced and closes the connection.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from sfc_emulator._routes import FAULT_ROUTES

ANY_ROUTE: Final = "*"


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultSpec:
    """What to do to a matching request; see `Faults.add` for the meaning of each field."""

    route: str
    method: str | None = None
    status: int | None = None
    retry_after: int | str | None = None
    retry_after_ms: int | float | None = None
    delay: float | None = None
    drop_after_bytes: int | None = None
    ignore_range: bool = False
    body: bytes | None = None
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def matches(self, route: str | None, method: str) -> bool:
        if route not in FAULT_ROUTES:
            return False
        if self.route not in (ANY_ROUTE, route):
            return False
        return self.method is None or self.method == method

    def response_headers(self) -> list[tuple[str, str]]:
        """Headers of an injected answer: Retry-After hints first, then the caller's own."""
        headers: list[tuple[str, str]] = []
        if self.retry_after is not None:
            headers.append(("retry-after", str(self.retry_after)))
        if self.retry_after_ms is not None:
            headers.append(("retry-after-ms", _number(self.retry_after_ms)))
        headers.extend(self.headers)
        return headers

    def describe(self) -> dict[str, object]:
        """A JSON-friendly view, for the admin endpoint."""
        return {
            "route": self.route,
            "method": self.method,
            "status": self.status,
            "retry_after": self.retry_after,
            "retry_after_ms": self.retry_after_ms,
            "delay": self.delay,
            "drop_after_bytes": self.drop_after_bytes,
            "ignore_range": self.ignore_range,
            "content_type": self.content_type,
            "headers": [list(h) for h in self.headers],
        }


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(eq=False, slots=True)
class Fault:
    """A handle on an added fault: how many uses remain, and a way to withdraw it."""

    id: str
    spec: FaultSpec
    _remaining: int
    _owner: Faults = field(repr=False)

    @property
    def remaining(self) -> int:
        with self._owner.lock:
            return self._remaining

    def cancel(self) -> None:
        """Withdraw the remaining uses of this fault."""
        self._owner.cancel(self.id)


class Faults:
    """The pending faults of one emulator."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(
        self,
        route: str,
        *,
        status: int | None = None,
        retry_after: int | str | None = None,
        retry_after_ms: int | float | None = None,
        delay: float | None = None,
        drop_after_bytes: int | None = None,
        ignore_range: bool = False,
        body: bytes | str | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        times: int = 1,
        method: str | None = None,
    ) -> Fault:
        """Script the next `times` requests to `route` (a route name, or "*" for any).

        Args:
            route: "list", "start_upload", "get", "upload_part", "complete", "download",
                "delete", "storage_put", "storage_get", or "*".
            status: Answer with this status instead of running the handler. The body is the
                API's JSON error (or the store's XML error on storage routes) unless `body` is
                given.
            retry_after: A `Retry-After` value: seconds, or a string such as an HTTP date.
            retry_after_ms: A `retry-after-ms` value.
            delay: Seconds to wait before answering.
            drop_after_bytes: Close the connection after this many bytes of the response body;
                0 closes it before any response is sent.
            ignore_range: Serve a Range request as if it had no Range header (200, whole body).
            body: The body of a `status` answer, e.g. a proxy's HTML page.
            content_type: Content-Type of `body`.
            headers: Extra headers for a `status` answer.
            times: How many matching requests this fault applies to.
            method: Only match requests with this HTTP method (e.g. "HEAD").

        Raises:
            ValueError: for an unknown route or a fault that would do nothing.
        """
        spec = FaultSpec(
            route=route,
            method=None if method is None else method.upper(),
            status=status,
            retry_after=retry_after,
            retry_after_ms=retry_after_ms,
            delay=delay,
            drop_after_bytes=drop_after_bytes,
            ignore_range=ignore_range,
            body=body.encode() if isinstance(body, str) else body,
            content_type=content_type,
            headers=tuple(
                (str(k).lower(), str(v))
                for k, v in (headers.items() if isinstance(headers, Mapping) else headers or ())
            ),
        )
        _check(spec, times)
        with self.lock:
            fault = Fault(f"fault_{next(self._ids)}", spec, times, self)
            self._faults.append(fault)
        return fault

    def take(self, route: str | None, method: str) -> FaultSpec | None:
        """Consume one use of the first fault matching this request."""
        with self.lock:
            for fault in self._faults:
                if fault.spec.matches(route, method):
                    fault._remaining -= 1
                    if fault._remaining == 0:
                        self._faults.remove(fault)
                    return fault.spec
        return None

    def cancel(self, fault_id: str) -> bool:
        with self.lock:
            for fault in self._faults:
                if fault.id == fault_id:
                    fault._remaining = 0
                    self._faults.remove(fault)
                    return True
        return False

    def clear(self) -> int:
        """Drop every pending fault; return how many uses were withdrawn."""
        with self.lock:
            withdrawn = sum(f._remaining for f in self._faults)
            for fault in self._faults:
                fault._remaining = 0
            self._faults.clear()
        return withdrawn

    def pending(self) -> int:
        """How many requests are still scripted (the sum of remaining uses)."""
        with self.lock:
            return sum(f._remaining for f in self._faults)

    def snapshot(self) -> list[tuple[str, int, FaultSpec]]:
        """(id, remaining, spec) of every pending fault, in matching order."""
        with self.lock:
            return [(f.id, f._remaining, f.spec) for f in self._faults]


def _check(spec: FaultSpec, times: int) -> None:
    if spec.route != ANY_ROUTE and spec.route not in FAULT_ROUTES:
        known = ", ".join(sorted(FAULT_ROUTES))
        raise ValueError(f"unknown route {spec.route!r}; expected one of {known} or '*'")
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise ValueError("times must be a positive integer")
    if spec.status is not None and not 200 <= spec.status <= 599:
        raise ValueError("status must be a final HTTP status code (200-599)")
    if spec.delay is not None and spec.delay < 0:
        raise ValueError("delay must not be negative")
    if spec.drop_after_bytes is not None and spec.drop_after_bytes < 0:
        raise ValueError("drop_after_bytes must not be negative")
    if spec.status is None and (spec.body is not None or spec.content_type is not None):
        raise ValueError("body and content_type need a status")
    if (
        spec.status is None
        and spec.delay is None
        and spec.drop_after_bytes is None
        and not spec.ignore_range
    ):
        raise ValueError("a fault needs status, delay, drop_after_bytes or ignore_range")
