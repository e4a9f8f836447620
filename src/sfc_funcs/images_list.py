"""``GET /v2/images``: one page of images, newest first.

Retried on 429/5XX and connection failures: reading changes nothing. To walk every page use
``images_iter``.
"""

from __future__ import annotations

from returns.result import Failure, Result, Success

from sfc_core import (
    BadRequestError,
    CallError,
    InputValidationError,
    InternalServerError,
    ListImagesResponse,
    RequestOptions,
    ResponseValidationError,
    Security,
    SfcCore,
    SfcDefaultError,
    UnauthorizedError,
    UnprocessableEntityError,
)
from sfc_core import _validation as validate
from sfc_core._http import ApiRequest, ResponseData
from sfc_core._operation import Operation

_ERRORS = {
    400: BadRequestError,
    401: UnauthorizedError,
    422: UnprocessableEntityError,
    500: InternalServerError,
}
_StatusError = (
    BadRequestError
    | UnauthorizedError
    | UnprocessableEntityError
    | InternalServerError
    | SfcDefaultError
)
ImagesListError = _StatusError | CallError

_OPERATION: Operation[ListImagesResponse, _StatusError] = Operation(
    200, ListImagesResponse, _ERRORS
)

_QueryPair = Result[tuple[str, str], InputValidationError]


def build_request(
    *,
    limit: int | None = None,
    starting_after: str | None = None,
    ending_before: str | None = None,
    include_deleted: bool | None = None,
) -> Result[ApiRequest, InputValidationError]:
    """The list request with these parameters (``None`` leaves one out), or the first one
    that breaks its rule."""
    checks: list[_QueryPair] = []
    if limit is not None:
        checks.append(
            validate.bounded_int(limit, "limit", 1, validate.MAX_LIST_LIMIT).map(
                lambda v: ("limit", str(v))
            )
        )
    if starting_after is not None:
        checks.append(
            validate.cursor(starting_after, "starting_after").map(lambda v: ("starting_after", v))
        )
    if ending_before is not None:
        checks.append(
            validate.cursor(ending_before, "ending_before").map(lambda v: ("ending_before", v))
        )
    if include_deleted is not None:
        checks.append(
            validate.boolean(include_deleted, "include_deleted").map(
                lambda v: ("include_deleted", "true" if v else "false")
            )
        )
    query: list[tuple[str, str]] = []
    for check in checks:
        if isinstance(check, Failure):
            return Failure(check.failure())
        query.append(check.unwrap())
    return Success(
        ApiRequest(operation="images_list", method="GET", path="/v2/images", query=tuple(query))
    )


def parse_response(
    data: ResponseData,
) -> Result[ListImagesResponse, _StatusError | ResponseValidationError]:
    """200 → the page; 400/401/422/500 → their errors; others → ``SfcDefaultError``."""
    return _OPERATION.parse(data)


def images_list(
    core: SfcCore,
    *,
    limit: int | None = None,
    starting_after: str | None = None,
    ending_before: str | None = None,
    include_deleted: bool | None = None,
    security: Security | None = None,
    options: RequestOptions | None = None,
) -> Result[ListImagesResponse, ImagesListError]:
    """List one page of images.

    Args:
        core: the SDK configuration.
        limit: page size, 1 to 200 (the server's default is 50).
        starting_after: a cursor; the page after it (pass the previous page's ``cursor``).
        ending_before: a cursor; the page before it.
        include_deleted: also list soft-deleted images.
        security: a credential for this call instead of the core's.
        options: per-call timeout, retry, server URL, headers and query.

    Returns:
        ``Success(ListImagesResponse)``, or ``Failure`` with ``BadRequestError`` (400),
        ``UnauthorizedError`` (401), ``UnprocessableEntityError`` (422), ``InternalServerError``
        (500), ``SfcDefaultError`` (any other status), ``ResponseValidationError``,
        ``SfcConnectionError``, ``SfcTimeoutError`` or ``InputValidationError``.
    """
    request = build_request(
        limit=limit,
        starting_after=starting_after,
        ending_before=ending_before,
        include_deleted=include_deleted,
    )
    return _OPERATION.call(core, request, security, options)


async def images_list_async(
    core: SfcCore,
    *,
    limit: int | None = None,
    starting_after: str | None = None,
    ending_before: str | None = None,
    include_deleted: bool | None = None,
    security: Security | None = None,
    options: RequestOptions | None = None,
) -> Result[ListImagesResponse, ImagesListError]:
    """List one page of images; the async form of ``images_list``."""
    request = build_request(
        limit=limit,
        starting_after=starting_after,
        ending_before=ending_before,
        include_deleted=include_deleted,
    )
    return await _OPERATION.call_async(core, request, security, options)
