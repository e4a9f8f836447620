"""``POST /v2/images``: create an image and start its multipart upload.

Names are unique among live images, so if a first attempt was processed but its answer lost, a
repeat would fail with 409 and hide the image just created. This call is therefore repeated only
when the request cannot have been processed: the connection was never made, or the server
answered 429.
"""

from __future__ import annotations

from returns.result import Result

from sfc_core import (
    BadRequestError,
    CallError,
    ConflictError,
    ForbiddenError,
    ImageUploadResponse,
    InputValidationError,
    InternalServerError,
    RequestOptions,
    ResponseValidationError,
    Security,
    SfcCore,
    SfcDefaultError,
    UnauthorizedError,
    _json,
)
from sfc_core import _validation as validate
from sfc_core._http import ApiRequest, ResponseData
from sfc_core._operation import Operation
from sfc_core._retry import RetrySafety

_ERRORS = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    409: ConflictError,
    500: InternalServerError,
}
_StatusError = (
    BadRequestError
    | UnauthorizedError
    | ForbiddenError
    | ConflictError
    | InternalServerError
    | SfcDefaultError
)
ImagesStartUploadError = _StatusError | CallError

_OPERATION: Operation[ImageUploadResponse, _StatusError] = Operation(
    201, ImageUploadResponse, _ERRORS
)


def build_request(name: str) -> Result[ApiRequest, InputValidationError]:
    """The request creating an image called ``name``, or why the name is not allowed."""
    return validate.image_name(name).map(
        lambda valid: ApiRequest(
            operation="images_start_upload",
            method="POST",
            path="/v2/images",
            body=_json.dumps({"name": valid}),
            safety=RetrySafety.UNSENT_ONLY,
        )
    )


def parse_response(
    data: ResponseData,
) -> Result[ImageUploadResponse, _StatusError | ResponseValidationError]:
    """201 → the new image; 400/401/403/409/500 → their errors; others → ``SfcDefaultError``."""
    return _OPERATION.parse(data)


def images_start_upload(
    core: SfcCore,
    name: str,
    *,
    security: Security | None = None,
    options: RequestOptions | None = None,
) -> Result[ImageUploadResponse, ImagesStartUploadError]:
    """Create an image and start its upload. To upload a file in one call use
    ``images_upload_file``.

    Args:
        core: the SDK configuration.
        name: 1 to 255 characters: a letter or digit, then letters, digits, ``.``, ``_``, ``-``.
        security: a credential for this call instead of the core's.
        options: per-call timeout, retry, server URL, headers and query.

    Returns:
        ``Success(ImageUploadResponse)`` with status ``started``, or ``Failure`` with
        ``BadRequestError`` (400), ``UnauthorizedError`` (401), ``ForbiddenError`` (403),
        ``ConflictError`` (409: a live image has this name), ``InternalServerError`` (500),
        ``SfcDefaultError`` (any other status), ``ResponseValidationError``,
        ``SfcConnectionError``, ``SfcTimeoutError`` or ``InputValidationError``.
    """
    return _OPERATION.call(core, build_request(name), security, options)


async def images_start_upload_async(
    core: SfcCore,
    name: str,
    *,
    security: Security | None = None,
    options: RequestOptions | None = None,
) -> Result[ImageUploadResponse, ImagesStartUploadError]:
    """Create an image; the async form of ``images_start_upload``."""
    return await _OPERATION.call_async(core, build_request(name), security, options)
