"""Retry decisions as a pure function of (policy, attempt, outcome, now).

No clock, sleep or randomness is read here: the caller passes the current epoch time and a
random number, and gets back how long to wait, or ``None`` for "do not retry". Deadlines are the
caller's business too: it compares the wait with the time it has left.

What may be repeated depends on the operation (``RetrySafety``). Reading, issuing a part URL,
completing with the same hash and deleting leave the same state however often they run. Creating
an image does not: if the server processed the first request but its answer was lost, a second
one would fail with 409 (names are unique) and hide the image just created. So creation is only
repeated when the request cannot have been processed: the connection was never made, or the
server answered 429.
"""

from __future__ import annotations

import email.utils
import enum
from collections.abc import Iterable

from attrs import frozen

from sfc_core._config import RetryConfig


class RetrySafety(enum.Enum):
    """Which failed attempts of an operation may be repeated."""

    IDEMPOTENT = "idempotent"
    UNSENT_ONLY = "unsent-only"


class FailureKind(enum.Enum):
    """How an attempt failed without a usable response."""

    CONNECT = "connect"
    """The connection could not be made (or the pool had none free): nothing was sent."""
    SENT = "sent"
    """The request may have reached the server: a reset, a close, a read or write timeout."""
    TLS = "tls"
    """The TLS handshake failed (a certificate, or https spoken to a plain-http server): nothing
    was sent, and trying again would fail the same way."""

    @property
    def unsent(self) -> bool:
        return self is FailureKind.CONNECT


@frozen
class Outcome:
    """What one attempt produced: a status and its headers, or a failure kind."""

    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    failure: FailureKind | None = None


_NOT_PROCESSED_STATUSES = frozenset({429})


def retry_after_seconds(headers: Iterable[tuple[str, str]], now_epoch: float) -> float | None:
    """The wait a response asks for through ``retry-after-ms`` or ``Retry-After``, if any.

    ``Retry-After`` may be seconds or an HTTP date; a date in the past means "now". A value that
    is neither is ignored, as if the header were absent.
    """
    values = {name.lower(): value for name, value in headers}
    millis = values.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    raw = values.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now_epoch)


def backoff_seconds(policy: RetryConfig, attempt: int, rand: float) -> float:
    """The jittered wait after failed attempt number ``attempt`` (1-based)."""
    ceiling = min(policy.max_interval, policy.initial_interval * policy.exponent ** (attempt - 1))
    return ceiling / 2 + rand * ceiling / 2


def retry_delay(
    policy: RetryConfig,
    safety: RetrySafety,
    attempt: int,
    outcome: Outcome,
    *,
    now_epoch: float,
    rand: float,
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or ``None`` to stop."""
    if not policy.enabled or attempt >= policy.max_attempts:
        return None
    if outcome.failure is not None:
        if not policy.connection_errors or outcome.failure is FailureKind.TLS:
            return None
        if safety is RetrySafety.UNSENT_ONLY and not outcome.failure.unsent:
            return None
        return backoff_seconds(policy, attempt, rand)
    if outcome.status is None or outcome.status not in policy.statuses:
        return None
    if safety is RetrySafety.UNSENT_ONLY and outcome.status not in _NOT_PROCESSED_STATUSES:
        return None
    asked = retry_after_seconds(outcome.headers, now_epoch)
    if asked is not None:
        return min(asked, policy.max_retry_after)
    return backoff_seconds(policy, attempt, rand)
