"""Error values returned inside ``Failure``.

Every failure an SDK call can meet is a frozen attrs value, not an exception: values compare by
content (two ``NotFoundError`` for the same response are equal), are hashable, and can be matched
with ``isinstance`` or ``match``. A caller who prefers exceptions calls ``err.exception()`` and
raises the ``SfcException`` it returns; the value travels on it as ``.error``. Making the errors
exception subclasses instead would have cost value equality (attrs gives exceptions identity
equality) and invited ``raise`` in code paths that promise never to raise.

The tree::

    SfcError
    ├── ApiError                       the API answered with an error status
    │   ├── BadRequestError            400
    │   ├── UnauthorizedError          401
    │   ├── ForbiddenError             403
    │   ├── NotFoundError              404
    │   ├── ConflictError              409
    │   ├── UnprocessableEntityError   422
    │   ├── InternalServerError        500
    │   └── SfcDefaultError            any status the operation does not document
    ├── SfcConnectionError             no usable answer: refused, reset, closed early
    ├── SfcTimeoutError                an attempt or the whole call ran out of time
    ├── ResponseValidationError        a 2XX whose body does not match the schema
    ├── InputValidationError           bad arguments, caught before any request
    └── TransferError                  a file upload or download could not finish
        ├── IntegrityError             downloaded bytes do not match size or sha256
        ├── FileChangedError           the source file changed while it was uploaded
        └── LocalFileError             the local file cannot be read or written

``str(err)`` is always one line and never contains a credential.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from attrs import field, frozen

from sfc_core._redact import redact_url

_BODY_PREVIEW = 64


def _preview_bytes(body: bytes) -> str:
    if len(body) <= _BODY_PREVIEW:
        return repr(body)
    return f"{body[:_BODY_PREVIEW]!r}... ({len(body)} bytes)"


def _headers_tuple(
    headers: Mapping[str, str] | tuple[tuple[str, str], ...],
) -> tuple[tuple[str, str], ...]:
    pairs = headers if isinstance(headers, tuple) else tuple(headers.items())
    return tuple((name.lower(), value) for name, value in pairs)


class SfcException(Exception):  # noqa: N818 - mirrors the value type's name on purpose
    """An ``SfcError`` value made raisable; the value is on ``.error``."""

    def __init__(self, error: SfcError) -> None:
        super().__init__(str(error))
        self.error = error


@frozen(kw_only=True, str=False)
class SfcError:
    """Base of every error value."""

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """One line for people: what failed and why, never a secret."""
        return type(self).__name__

    def exception(self) -> SfcException:
        """This error as an exception, for callers who prefer ``raise``."""
        return SfcException(self)


@frozen(kw_only=True)
class ErrorDetail:
    """One entry of an API error's ``details``: which field broke which rule."""

    field: str | None = None
    code: str = ""
    message: str = ""


@frozen(kw_only=True, str=False)
class ApiError(SfcError):
    """The API answered with an error status.

    Attributes:
        status: HTTP status code.
        method: HTTP method of the request.
        path: request path (no host, no query).
        error_type: ``error.type`` from the body, such as ``not_found``; ``None`` when the body
            was not the documented JSON (an HTML page from a proxy, an empty body).
        message: ``error.message`` from the body, when present.
        details: ``error.details`` entries, when present.
        headers: response headers as lowercase ``(name, value)`` pairs.
        body: the raw response body.
    """

    status_code: ClassVar[int | None] = None

    status: int
    method: str
    path: str
    error_type: str | None = None
    message: str | None = None
    details: tuple[ErrorDetail, ...] = ()
    headers: tuple[tuple[str, str], ...] = field(default=(), converter=_headers_tuple, repr=False)
    body: bytes = field(default=b"", repr=_preview_bytes)

    def header(self, name: str) -> str | None:
        """The first response header called ``name`` (any case), or ``None``."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k == wanted), None)

    def describe(self) -> str:
        head = f"{type(self).__name__}: {self.method} {self.path} answered {self.status}"
        if self.error_type is None and self.message is None:
            content_type = self.header("content-type") or "no content type"
            return f"{head} with a non-API body ({content_type}, {len(self.body)} bytes)"
        parts = [head]
        if self.error_type:
            parts.append(f"[{self.error_type}]")
        if self.message:
            parts.append(self.message)
        fields = [f"{d.field}: {d.message}" for d in self.details if d.field]
        if fields:
            parts.append("(" + "; ".join(fields) + ")")
        return " ".join(parts)


@frozen(kw_only=True, str=False)
class BadRequestError(ApiError):
    """400: the request was malformed."""

    status_code: ClassVar[int | None] = 400


@frozen(kw_only=True, str=False)
class UnauthorizedError(ApiError):
    """401: the bearer token is missing, wrong or expired."""

    status_code: ClassVar[int | None] = 401


@frozen(kw_only=True, str=False)
class ForbiddenError(ApiError):
    """403: the token may not do this."""

    status_code: ClassVar[int | None] = 403


@frozen(kw_only=True, str=False)
class NotFoundError(ApiError):
    """404: no such image (or it was deleted)."""

    status_code: ClassVar[int | None] = 404


@frozen(kw_only=True, str=False)
class ConflictError(ApiError):
    """409: the request conflicts with the image's state (name taken, upload not complete)."""

    status_code: ClassVar[int | None] = 409


@frozen(kw_only=True, str=False)
class UnprocessableEntityError(ApiError):
    """422: well-formed, but a value breaks a rule; ``details`` names the fields."""

    status_code: ClassVar[int | None] = 422


@frozen(kw_only=True, str=False)
class InternalServerError(ApiError):
    """500: the server failed."""

    status_code: ClassVar[int | None] = 500


@frozen(kw_only=True, str=False)
class SfcDefaultError(ApiError):
    """Any status the operation does not document (429, 502, a redirect, ...)."""


@frozen(kw_only=True, str=False)
class SfcConnectionError(SfcError):
    """No usable answer: the connection was refused, reset or closed before a full response."""

    method: str
    url: str = field(converter=redact_url)
    reason: str

    def describe(self) -> str:
        return f"SfcConnectionError: {self.method} {self.url} failed: {self.reason}"


@frozen(kw_only=True, str=False)
class SfcTimeoutError(SfcError):
    """An attempt timed out, or the whole call ran past its deadline."""

    method: str
    url: str = field(converter=redact_url)
    reason: str

    def describe(self) -> str:
        return f"SfcTimeoutError: {self.method} {self.url} timed out: {self.reason}"


@frozen(kw_only=True, str=False)
class ResponseValidationError(SfcError):
    """A success status whose body does not match the schema (or is not JSON)."""

    status: int
    method: str
    path: str
    reason: str
    headers: tuple[tuple[str, str], ...] = field(default=(), converter=_headers_tuple, repr=False)
    body: bytes = field(default=b"", repr=_preview_bytes)

    def describe(self) -> str:
        return (
            f"ResponseValidationError: {self.method} {self.path} answered {self.status} "
            f"with a body that does not match the schema: {self.reason}"
        )


@frozen(kw_only=True, str=False)
class InputValidationError(SfcError):
    """An argument breaks a rule; nothing was sent.

    Attributes:
        field: the argument's name, such as ``image_id``.
        rule: the rule it breaks, in words.
        value: a short, printable form of what was given.
    """

    field: str
    rule: str
    value: str = ""

    def describe(self) -> str:
        got = f" (got {self.value})" if self.value else ""
        return f"InputValidationError: {self.field} {self.rule}{got}"


@frozen(kw_only=True, str=False)
class TransferError(SfcError):
    """A file upload or download could not finish.

    Attributes:
        stage: what was being done, such as ``upload part`` or ``download``.
        reason: why it stopped.
        part: the part number involved, when one was.
        cause: the underlying error value, when there was one.
    """

    stage: str
    reason: str
    part: int | None = None
    cause: SfcError | None = None

    def describe(self) -> str:
        where = f"{self.stage} (part {self.part})" if self.part is not None else self.stage
        return f"{type(self).__name__}: {where} failed: {self.reason}"


@frozen(kw_only=True, str=False)
class IntegrityError(TransferError):
    """Downloaded bytes do not match the advertised size or sha256; nothing was kept."""

    expected_sha256: str = ""
    actual_sha256: str = ""
    expected_size: int = 0
    actual_size: int = 0


@frozen(kw_only=True, str=False)
class FileChangedError(TransferError):
    """The source file changed (size or modification time) while it was being uploaded."""


@frozen(kw_only=True, str=False)
class LocalFileError(TransferError):
    """The local file cannot be read or written (missing, unreadable, a directory, no space)."""


CallError = ResponseValidationError | SfcConnectionError | SfcTimeoutError | InputValidationError
"""The failures every API call can meet besides the statuses it documents."""

API_ERROR_CLASSES: tuple[type[ApiError], ...] = (
    BadRequestError,
    UnauthorizedError,
    ForbiddenError,
    NotFoundError,
    ConflictError,
    UnprocessableEntityError,
    InternalServerError,
)
