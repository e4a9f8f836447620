"""``POST /v2/images/{id}/complete``: finish a multipart upload, recording the image's sha256.

The server does not check the hash now; nodes check it when they boot, so a wrong hash means an
image that never boots. Retried on 429/5XX and connection failures: completing again with the
same hash leaves the same state.
"""

from __future__ import annotations

from urllib.parse import quote

from returns.result import Result

from sfc_core import (
    BadRequestError,
    CallError,
    ForbiddenError,
    ImageUploadResponse,
    InputValidationError,
    InternalServerError,
    NotFoundError,
    RequestOptions,
    ResponseValidationError,
    Security,
    SfcCore,
    SfcDefaultError,
    UnauthorizedError,
    UnprocessableEntityError,
    _json,
)
from sfc_core import _validation as validate
from sfc_core._http import ApiRequest, ResponseData
from sfc_core._operation import Operation

_ERRORS = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    422: UnprocessableEntityError,
    500: InternalServerError,
}
_StatusError = (
    BadRequestError
    | UnauthorizedError
    | ForbiddenError
    | NotFoundError
    | UnprocessableEntityError
    | InternalServerError
    | SfcDefaultError
)
ImagesCompleteUploadError = _StatusError | CallError

_OPERATION: Operation[ImageUploadResponse, _StatusError] = Operation(
    200, ImageUploadResponse, _ERRORS
)


def build_request(image_id: str, sha256: str) -> Result[ApiRequest, InputValidationError]:
    """The request completing ``image_id`` with ``sha256`` (64 lowercase hex digits), or why
    not."""
    return validate.image_id(image_id).bind(
        lambda valid_id: validate.sha256_hex(sha256).map(
            lambda valid_hash: ApiRequest(
                operation="images_complete_upload",
                method="POST",
                path=f"/v2/images/{quote(valid_id, safe='')}/complete",
                body=_json.dumps({"sha256": valid_hash}),
            )
        )
    )


def parse_response(
    data: ResponseData,
) -> Result[ImageUploadResponse, _StatusError | ResponseValidationError]:
    """200 → the image; 400/401/403/404/422/500 → their errors; others → ``SfcDefaultError``."""
    return _OPERATION.parse(data)


def images_complete_upload(
    core: SfcCore,
    image_id: str,
    sha256: str,
    *,
    security: Security | None = None,
    options: RequestOptions | None = None,
) -> Result[ImageUploadResponse, ImagesCompleteUploadError]:
    """Complete an upload after all its parts are stored.

    Args:
        core: the SDK configuration.
        image_id: the image's id, ``image_...``.
        sha256: the hex sha256 of the whole file, 64 lowercase digits.
        security: a credential for this call instead of the core's.
        options: per-call timeout, retry, server URL, headers and query.

    Returns:
        ``Success(ImageUploadResponse)``, or ``Failure`` with ``BadRequestError`` (400),
        ``UnauthorizedError`` (401), ``ForbiddenError`` (403), ``NotFoundError`` (404),
        ``UnprocessableEntityError`` (422: missing or undersized parts), ``InternalServerError``
        (500), ``SfcDefaultError`` (any other status), ``ResponseValidationError``,
        ``SfcConnectionError``, ``SfcTimeoutError`` or ``InputValidationError``.
    """
    return _OPERATION.call(core, build_request(image_id, sha256), security, options)


async def images_complete_upload_async(
    core: SfcCore,
    image_id: str,
    sha256: str,
    *,
    security: Security | None = None,
    options: RequestOptions | None = None,
) -> Result[ImageUploadResponse, ImagesCompleteUploadError]:
    """Complete an upload; the async form of ``images_complete_upload``."""
    return await _OPERATION.call_async(core, build_request(image_id, sha256), security, options)
