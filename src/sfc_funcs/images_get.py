"""``GET /v2/images/{id}``: one image.

Retried on 429/5XX and connection failures: reading changes nothing.
"""

from __future__ import annotations

from urllib.parse import quote

from returns.result import Result

from sfc_core import (
    CallError,
    ImageListEntry,
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

_ERRORS = {401: UnauthorizedError, 404: NotFoundError, 500: InternalServerError}
_StatusError = UnauthorizedError | NotFoundError | InternalServerError | SfcDefaultError
ImagesGetError = _StatusError | CallError

_OPERATION: Operation[ImageListEntry, _StatusError] = Operation(200, ImageListEntry, _ERRORS)


def build_request(image_id: str) -> Result[ApiRequest, InputValidationError]:
    """The request for ``image_id``, or why it is not a valid image id."""
    return validate.image_id(image_id).map(
        lambda valid: ApiRequest(
            operation="images_get", method="GET", path=f"/v2/images/{quote(valid, safe='')}"
        )
    )


def parse_response(
    data: ResponseData,
) -> Result[ImageListEntry, _StatusError | ResponseValidationError]:
    """200 → the image; 401/404/500 → their errors; other statuses → ``SfcDefaultError``."""
    return _OPERATION.parse(data)


def images_get(
    core: SfcCore,
    image_id: str,
    *,
    security: Security | None = None,
    options: RequestOptions | None = None,
) -> Result[ImageListEntry, ImagesGetError]:
    """Get one image.

    Args:
        core: the SDK configuration.
        image_id: the image's id, ``image_...``.
        security: a credential for this call instead of the core's.
        options: per-call timeout, retry, server URL, headers and query.

    Returns:
        ``Success(ImageListEntry)``, or ``Failure`` with ``UnauthorizedError`` (401),
        ``NotFoundError`` (404, also for a deleted image), ``InternalServerError`` (500),
        ``SfcDefaultError`` (any other status), ``ResponseValidationError``,
        ``SfcConnectionError``, ``SfcTimeoutError`` or ``InputValidationError``.
    """
    return _OPERATION.call(core, build_request(image_id), security, options)


async def images_get_async(
    core: SfcCore,
    image_id: str,
    *,
    security: Security | None = None,
    options: RequestOptions | None = None,
) -> Result[ImageListEntry, ImagesGetError]:
    """Get one image; the async form of ``images_get``."""
    return await _OPERATION.call_async(core, build_request(image_id), security, options)
