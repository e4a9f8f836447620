"""Keeping credentials out of logs, reprs and error messages.

A presigned URL is a credential for one object until it expires: anyone holding it can read or
write the bytes. So every URL that leaves the SDK as text (a log line, an error, a repr) goes
through ``redact_url``, which keeps scheme, host and path and replaces the value of every query
parameter not known to be harmless.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "<redacted>"

# Query parameters known to carry no secret keep their values, so logs stay useful; every other
# value is treated as a possible signature or token, which fails safe for stores we don't know.
_PUBLIC_QUERY_KEYS = frozenset(
    {
        "expires",
        "x-amz-expires",
        "x-amz-date",
        "x-amz-algorithm",
        "x-amz-signedheaders",
        "x-id",
        "partnumber",
        "uploadid",
        "limit",
        "starting_after",
        "ending_before",
        "include_deleted",
        "workspace",
    }
)


def redact_url(url: str) -> str:
    """``url`` with credentials in its query string and user info replaced by ``<redacted>``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    if not parts.query:
        return urlunsplit(parts._replace(netloc=netloc))
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode(
        [(k, v if k.lower() in _PUBLIC_QUERY_KEYS else REDACTED) for k, v in pairs], safe="<>"
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def redact_secret(value: str | None) -> str:
    """The repr used for a credential field: whether it is set, never what it is."""
    return "None" if value is None else f"'{REDACTED}'"


class RedactUrlsFilter(logging.Filter):
    """Redacts URL arguments of log records. httpx logs every request's full URL at INFO, which
    for a presigned URL includes its signature; this filter sits on the ``httpx`` logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_url(str(arg)) if _looks_like_url(arg) else arg for arg in record.args
            )
        return True


def _looks_like_url(value: object) -> bool:
    return type(value).__name__ == "URL" or (isinstance(value, str) and "://" in value)


def install_log_redaction() -> None:
    """Put ``RedactUrlsFilter`` on the ``httpx`` logger, once."""
    target = logging.getLogger("httpx")
    if not any(isinstance(f, RedactUrlsFilter) for f in target.filters):
        target.addFilter(RedactUrlsFilter())
