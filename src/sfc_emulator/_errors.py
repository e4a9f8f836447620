"""Error bodies in the two dialects the emulator speaks.

The Images API answers errors as JSON, `{"error": {"type", "message", "details"}}`, with a `type`
fixed by the status code. Presigned storage URLs imitate an S3-compatible object store, which
answers errors as XML documents carrying a `Code` such as `AccessDenied`. Handlers raise
`ApiError` or `StorageError`; the app turns them into responses in one place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Final
from xml.sax.saxutils import escape

from starlette.responses import Response

ERROR_TYPES: Final[Mapping[int, str]] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "payment_required",
    403: "forbidden",
    404: "not_found",
    408: "request_timed_out",
    409: "conflict",
    422: "unprocessable_entity",
    426: "upgrade_required",
    500: "api_error",
    501: "not_implemented",
    503: "service_unavailable",
}

STORAGE_CODES: Final[Mapping[int, str]] = {
    400: "InvalidRequest",
    403: "AccessDenied",
    404: "NoSuchKey",
    409: "OperationAborted",
    500: "InternalError",
    501: "NotImplemented",
    503: "SlowDown",
}


def error_type(status: int) -> str:
    """The `error.type` the API uses for a status code."""
    if status in ERROR_TYPES:
        return ERROR_TYPES[status]
    return "api_error" if status >= 500 else "invalid_request_error"


def detail(field: str | None, code: str, message: str) -> dict[str, str | None]:
    """One entry of `error.details`."""
    return {"field": field, "code": code, "message": message}


def api_error_body(
    status: int, message: str, details: Sequence[Mapping[str, str | None]] = ()
) -> bytes:
    """The JSON error document for `status`; `details` is left out when empty."""
    error: dict[str, object] = {"type": error_type(status), "message": message}
    if details:
        error["details"] = [dict(d) for d in details]
    return json.dumps({"error": error}).encode()


def storage_error_body(code: str, message: str, resource: str = "") -> bytes:
    """An S3-style XML error document."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>emulator</RequestId></Error>"
    ).encode()


class ApiError(Exception):
    """An Images API error answer: status, message and optional field details."""

    def __init__(
        self,
        status: int,
        message: str,
        details: Sequence[Mapping[str, str | None]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = tuple(details)
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return Response(
            api_error_body(self.status, self.message, self.details),
            status_code=self.status,
            headers=self.headers,
            media_type="application/json",
        )


class StorageError(Exception):
    """An object-store error answer: status plus an S3 error code and message."""

    def __init__(self, status: int, code: str, message: str, resource: str = "") -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.resource = resource

    def response(self) -> Response:
        return Response(
            storage_error_body(self.code, self.message, self.resource),
            status_code=self.status,
            media_type="application/xml",
        )
