"""``POST /v2/images/{id}/parts``: a presigned URL to ``PUT`` one part of an upload.

Retried on 429/5XX and connection failures: asking twice only issues another URL. The part's
bytes go to that URL with no Authorization header; ``images_upload_file`` does all of it.
"""

from __future__ import annotations

from urllib.parse import quote

from returns.result import Result

from sfc_core import (
    BadRequestError,
    CallError,
    ForbiddenError,
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
    UploadPartResponse,
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
ImagesUploadPartError = _StatusError | CallError

_OPERATION: Operation[UploadPartResponse, _StatusError] = Operation(
    200, UploadPartResponse, _ERRORS
)


def build_request(image_id: str, part_id: int) -> Result[ApiRequest, InputValidationError]:
    """The request for part ``part_id`` (1 to 10,000) of ``image_id``, or why not."""
    return validate.image_id(image_id).bind(
        lambda valid_id: validate.bounded_int(part_id, "part_id", 1, validate.MAX_PART_ID).map(
            lambda valid_part: ApiRequest(
                operation="images_upload_part",
                method="POST",
                path=f"/v2/images/{quote(valid_id, safe='')}/parts",
                body=_json.dumps({"part_id": valid_part}),
            )
        )
    )


def parse_response(
    data: ResponseData,
) -> Result[UploadPartResponse, _StatusError | ResponseValidationError]:
    """200 → the URL; 400/401/403/404/422/500 → their errors; others → ``SfcDefaultError``."""
    return _OPERATION.parse(data)


def images_upload_part(
    core: SfcCore,
    image_id: str,
    part_id: int,
    *,
    security: Security | None = None,
    options: RequestOptions | None = None,
) -> Result[UploadPartResponse, ImagesUploadPartError]:
    """Get a presigned URL to upload part ``part_id`` of an image.

    Args:
        core: the SDK configuration.
        image_id: the image's id, ``image_...``.
        part_id: the part number, 1 to 10,000; parts are joined in this order.
        security: a credential for this call instead of the core's.
        options: per-call timeout, retry, server URL, headers and query.

    Returns:
        ``Success(UploadPartResponse)``, or ``Failure`` with ``BadRequestError`` (400),
        ``UnauthorizedError`` (401), ``ForbiddenError`` (403), ``NotFoundError`` (404),
        ``UnprocessableEntityError`` (422), ``InternalServerError`` (500), ``SfcDefaultError``
        (any other status), ``ResponseValidationError``, ``SfcConnectionError``,
        ``SfcTimeoutError`` or ``InputValidationError``.
    """
    return _OPERATION.call(core, build_request(image_id, part_id), security, options)


async def images_upload_part_async(
    core: SfcCore,
    image_id: str,
    part_id: int,
    *,
    security: Security | None = None,
    options: RequestOptions | None = None,
) -> Result[UploadPartResponse, ImagesUploadPartError]:
    """Get a presigned part URL; the async form of ``images_upload_part``."""
    return await _OPERATION.call_async(core, build_request(image_id, part_id), security, options)
