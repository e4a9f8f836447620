"""``GET /v2/images/{id}/download``: a presigned URL for the image's bytes, with the sha256 and
size to check them against.

Retried on 429/5XX and connection failures: it only issues a URL. To fetch and verify the bytes
use ``images_download_file``.
"""

from __future__ import annotations

from urllib.parse import quote

from returns.result import Result

from sfc_core import (
    CallError,
    ConflictError,
    ImageDownloadResponse,
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
ImagesDownloadError = _StatusError | CallError

_OPERATION: Operation[ImageDownloadResponse, _StatusError] = Operation(
    200, ImageDownloadResponse, _ERRORS
)


def build_request(image_id: str) -> Result[ApiRequest, InputValidationError]:
    """The request for ``image_id``, or why it is not a valid image id."""
    return validate.image_id(image_id).map(
        lambda valid: ApiRequest(
            operation="images_download",
            method="GET",
            path=f"/v2/images/{quote(valid, safe='')}/download",
        )
    )


def parse_response(
    data: ResponseData,
) -> Result[ImageDownloadResponse, _StatusError | ResponseValidationError]:
    """200 → URL, sha256 and size; 401/404/409/500 → their errors; others → ``SfcDefaultError``.

    A sha256 that is not 64 lowercase hex digits, or a negative size, fails validation: the
    bytes could not be checked against it."""
    return _OPERATION.parse(data)


def images_download(
    core: SfcCore,
    image_id: str,
    *,
    security: Security | None = None,
    options: RequestOptions | None = None,
) -> Result[ImageDownloadResponse, ImagesDownloadError]:
    """Get a presigned URL for a completed image's bytes.

    Args:
        core: the SDK configuration.
        image_id: the image's id, ``image_...``.
        security: a credential for this call instead of the core's.
        options: per-call timeout, retry, server URL, headers and query.

    Returns:
        ``Success(ImageDownloadResponse)``, or ``Failure`` with ``UnauthorizedError`` (401),
        ``NotFoundError`` (404), ``ConflictError`` (409: the upload is not completed),
        ``InternalServerError`` (500), ``SfcDefaultError`` (any other status),
        ``ResponseValidationError``, ``SfcConnectionError``, ``SfcTimeoutError`` or
        ``InputValidationError``.
    """
    return _OPERATION.call(core, build_request(image_id), security, options)


async def images_download_async(
    core: SfcCore,
    image_id: str,
    *,
    security: Security | None = None,
    options: RequestOptions | None = None,
) -> Result[ImageDownloadResponse, ImagesDownloadError]:
    """Get a presigned download URL; the async form of ``images_download``."""
    return await _OPERATION.call_async(core, build_request(image_id), security, options)
