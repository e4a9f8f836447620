"""``DELETE /v2/images/{id}``: soft-delete an image.

Retried on 429/5XX and connection failures: deleting twice leaves the same state. If the first
attempt was processed but its answer lost, the retry answers 404, which the caller sees.
"""

from __future__ import annotations

from urllib.parse import quote

from returns.result import Result

from sfc_core import (
    CallError,
    ConflictError,
    DeleteImageResponse,
    InputValidationError,
    InternalServerError,
    NotFoundError,
    RequestOptions,
    ResponseValidationError,
    Security,
    SfcCore,
    SfcDefaultError,
    UnauthorizedError,
)
from sfc_core import _validation as validate
from sfc_core._http import ApiRequest, ResponseData
from sfc_core._operation import Operation

_ERRORS = {
    401: UnauthorizedError,
    404: NotFoundError,
    409: ConflictError,
    500: InternalServerError,
}
_StatusError = (
    UnauthorizedError | NotFoundError | ConflictError | InternalServerError | SfcDefaultError
)
ImagesDeleteError = _StatusError | CallError

_OPERATION: Operation[DeleteImageResponse, _StatusError] = Operation(
    200, DeleteImageResponse, _ERRORS
)


def build_request(image_id: str) -> Result[ApiRequest, InputValidationError]:
    """The request for ``image_id``, or why it is not a valid image id."""
    return validate.image_id(image_id).map(
        lambda valid: ApiRequest(
            operation="images_delete",
            method="DELETE",
            path=f"/v2/images/{quote(valid, safe='')}",
        )
    )


def parse_response(
    data: ResponseData,
) -> Result[DeleteImageResponse, _StatusError | ResponseValidationError]:
    """200 → the deletion; 401/404/409/500 → their errors; others → ``SfcDefaultError``."""
    return _OPERATION.parse(data)


def images_delete(
    core: SfcCore,
    image_id: str,
    *,
    security: Security | None = None,
    options: RequestOptions | None = None,
) -> Result[DeleteImageResponse, ImagesDeleteError]:
    """Soft-delete an image; its name becomes free again.

    Args:
        core: the SDK configuration.
        image_id: the image's id, ``image_...``.
        security: a credential for this call instead of the core's.
        options: per-call timeout, retry, server URL, headers and query.

    Returns:
        ``Success(DeleteImageResponse)``, or ``Failure`` with ``UnauthorizedError`` (401),
        ``NotFoundError`` (404), ``ConflictError`` (409: a node template uses the image),
        ``InternalServerError`` (500), ``SfcDefaultError`` (any other status),
        ``ResponseValidationError``, ``SfcConnectionError``, ``SfcTimeoutError`` or
        ``InputValidationError``.
    """
    return _OPERATION.call(core, build_request(image_id), security, options)


async def images_delete_async(
    core: SfcCore,
    image_id: str,
    *,
    security: Security | None = None,
    options: RequestOptions | None = None,
) -> Result[DeleteImageResponse, ImagesDeleteError]:
    """Soft-delete an image; the async form of ``images_delete``."""
    return await _OPERATION.call_async(core, build_request(image_id), security, options)
