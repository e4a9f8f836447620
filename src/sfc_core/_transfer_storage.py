"""Talking to presigned storage URLs: requests and decisions about answers. Pure.

Storage is not the API. Its requests carry no bearer token (the URL's signature is the
credential, and a store may refuse a request that also carries ``Authorization``), so they are
built here from scratch and never by the API request builder. A part ``PUT`` always declares
``Content-Length``: stores refuse chunked uploads, and the length lets the HTTP layer stream
the body from the file in chunks, so a part of several GiB is never one buffer. Downloads ask
for ``Accept-Encoding: identity`` so that the bytes hashed are the bytes stored.

Answers are judged here: whether a 403 means the URL expired (renew it and go on), whether a
status or a failed connection is worth another attempt and after how long, and what a download
answer means for the bytes asked for. A ``Range`` request can come back 206 with the range, 200
with the whole object (a store or proxy that ignores ranges: its bytes must never be appended to
a partial file), or 416; the decision looks at the status *and* ``Content-Range``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import httpx
from attrs import frozen

from sfc_core._config import RetryConfig
from sfc_core._errors import (
    IntegrityError,
    SfcConnectionError,
    SfcDefaultError,
    SfcError,
    SfcTimeoutError,
    TransferError,
)
from sfc_core._http import Unreachable
from sfc_core._retry import backoff_seconds, retry_after_seconds
from sfc_core._transfer import RangeIgnored, Rejected, Satisfied, StorageAnswer

STORAGE_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
"""Statuses a store answers when trying again may work; 501 (e.g. chunked upload refused) and
other 4XX will not change."""

_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)")
_XML_FIELD = re.compile(rb"<(Code|Message)>([^<]{0,300})</\1>")


def _with_timeout(request: httpx.Request, timeout: float) -> httpx.Request:
    request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
    return request


def put_request(
    url: str,
    length: int,
    body: Iterator[bytes] | AsyncIterator[bytes],
    *,
    user_agent: str,
    timeout: float,
) -> httpx.Request:
    """A part upload: ``length`` bytes streamed from ``body`` (an iterator of ``bytes``, sync or
    async), declared up front so the request is never chunked."""
    headers = {
        "content-type": "application/octet-stream",
        "content-length": str(length),
        "user-agent": user_agent,
    }
    return _with_timeout(httpx.Request("PUT", url, headers=headers, content=body), timeout)


def get_request(
    url: str, start: int, end: int, size: int, *, user_agent: str, timeout: float
) -> httpx.Request:
    """A download of bytes ``start`` to ``end`` (exclusive) of a ``size``-byte object: no
    ``Range`` header when that is the whole object."""
    headers = {"accept-encoding": "identity", "user-agent": user_agent}
    if not (start == 0 and end >= size):
        headers["range"] = f"bytes={start}-{end - 1}"
    return _with_timeout(httpx.Request("GET", url, headers=headers), timeout)


def url_expired(answer: StorageAnswer, expires_at: int, now_epoch: float) -> bool:
    """Whether a failed answer means the presigned URL expired: a 403 that says so (S3 answers
    ``<Message>Request has expired</Message>``), or any 403 once ``expires_at`` has passed."""
    if answer.status != 403:
        return False
    return b"expired" in answer.body.lower() or now_epoch >= expires_at


def storage_retry_delay(
    policy: RetryConfig,
    attempt: int,
    reply: StorageAnswer | Unreachable,
    *,
    now_epoch: float,
    rand: float,
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1`` at a storage URL, or ``None`` to stop.

    Retried: ``STORAGE_RETRY_STATUSES`` and the policy's own statuses, honouring
    ``Retry-After`` (seconds or an HTTP date, capped at ``max_retry_after``); connection
    failures and timeouts when the policy allows. A storage request always starts over from the
    first byte of its range, so any attempt may be repeated.
    """
    if not policy.enabled or attempt >= policy.max_attempts:
        return None
    if isinstance(reply, Unreachable):
        return backoff_seconds(policy, attempt, rand) if policy.connection_errors else None
    if reply.status not in STORAGE_RETRY_STATUSES and reply.status not in policy.statuses:
        return None
    asked = retry_after_seconds(reply.headers, now_epoch)
    if asked is not None:
        return min(asked, policy.max_retry_after)
    return backoff_seconds(policy, attempt, rand)


def storage_error(method: str, url: str, reply: StorageAnswer | Unreachable) -> SfcError:
    """The error value for a storage request that failed for good. The URL's query (its
    signature) never appears in it."""
    if isinstance(reply, Unreachable):
        cls = SfcTimeoutError if reply.timed_out else SfcConnectionError
        return cls(method=method, url=url, reason=reply.reason)
    fields = dict(_XML_FIELD.findall(reply.body))
    code, message = fields.get(b"Code"), fields.get(b"Message")
    return SfcDefaultError(
        status=reply.status,
        method=method,
        path=urlsplit(url).path,
        error_type=code.decode("utf-8", "replace") if code else None,
        message=message.decode("utf-8", "replace") if message else None,
        headers=reply.headers,
        body=reply.body,
    )


def describe_reply(reply: StorageAnswer | Unreachable) -> str:
    """A few words for a failed storage attempt."""
    if isinstance(reply, Unreachable):
        return f"no response: {reply.reason}"
    return f"storage answered {reply.status}"


# --- download answers -----------------------------------------------------------------------


@frozen
class ContentRange:
    """A parsed ``Content-Range``: ``first``/``last`` are ``None`` for ``bytes */size``, and
    ``size`` is ``None`` for an unknown size."""

    first: int | None
    last: int | None
    size: int | None


def parse_content_range(value: str | None) -> ContentRange | None:
    """``Content-Range: bytes 0-9/100`` and ``bytes */100``; ``None`` for anything else.

    >>> parse_content_range("bytes 5-9/10")
    ContentRange(first=5, last=9, size=10)
    >>> parse_content_range("bytes */10")
    ContentRange(first=None, last=None, size=10)
    """
    if value is None:
        return None
    match = _CONTENT_RANGE.fullmatch(value.strip())
    if match is None:
        return None
    first, last, size = match.groups()
    if (first is None) != (last is None):
        return None
    parsed = ContentRange(
        None if first is None else int(first),
        None if last is None else int(last),
        None if size == "*" else int(size),
    )
    if parsed.first is not None and parsed.last is not None and parsed.last < parsed.first:
        return None
    return parsed


@frozen
class Accept:
    """Stream the body into the file from ``start``."""

    start: int


GetDecision = Accept | Satisfied | RangeIgnored | Rejected


def _size_mismatch(expected: int, actual: int) -> Rejected:
    return Rejected(
        IntegrityError(
            stage="download",
            reason=f"the store holds {actual} bytes, the API promised {expected}",
            expected_size=expected,
            actual_size=actual,
        )
    )


def classify_get(
    answer: StorageAnswer,
    *,
    start: int,
    size: int,
    etag: str | None,
) -> GetDecision | None:
    """What a download answer means for a request of bytes ``start`` onwards of a ``size``-byte
    object whose ETag, if one was seen before, is ``etag``.

    Returns:
        ``Accept(start)`` to stream the body into the file at ``start``; ``Satisfied`` for a 416
        saying the object is ``size`` bytes and we already asked past its end; ``RangeIgnored``
        when the body would not be the bytes asked for (a 200 to a request not starting at 0,
        or another ETag: the object changed); ``Rejected`` when the store's object does not
        match what the API described; ``None`` for an error status, which the caller judges
        (expired URL, retry, or fail).
    """
    seen_etag = answer.header("etag")
    status = answer.status
    if status in (200, 206) and etag is not None and seen_etag is not None and seen_etag != etag:
        return RangeIgnored(f"the object's ETag changed from {etag} to {seen_etag}")
    if status == 200:
        if start != 0:
            return RangeIgnored("the store answered a range request with the whole object")
        length = answer.header("content-length")
        if length is not None and length.strip().isdigit() and int(length) != size:
            return _size_mismatch(size, int(length))
        return Accept(0)
    if status == 206:
        parsed = parse_content_range(answer.header("content-range"))
        if parsed is None or parsed.first is None:
            return Rejected(
                TransferError(stage="download", reason="206 without a usable Content-Range")
            )
        if parsed.size is not None and parsed.size != size:
            return _size_mismatch(size, parsed.size)
        if parsed.first != start:
            return Rejected(
                TransferError(
                    stage="download",
                    reason=f"asked for bytes from {start}, the store sent "
                    f"{parsed.first}-{parsed.last}",
                )
            )
        return Accept(start)
    if status == 416:
        parsed = parse_content_range(answer.header("content-range"))
        if parsed is not None and parsed.size is not None and parsed.size != size:
            return _size_mismatch(size, parsed.size)
        if start >= size:
            return Satisfied()
        return Rejected(
            TransferError(
                stage="download",
                reason=f"the store refused bytes from {start} of a {size}-byte object (416)",
            )
        )
    return None
