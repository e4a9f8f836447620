"""Shared core of the SF Compute Images SDK: configuration, models, errors and the call loop.

Operations live in ``sfc_funcs``, one module each; this package holds what they share.
"""

from typing import TYPE_CHECKING, Any

from sfc_core._config import (
    DEFAULT_SERVER_URL,
    TOKEN_ENV,
    VERSION,
    HookContext,
    Hooks,
    RequestOptions,
    RetryConfig,
    Security,
    SfcCore,
)
from sfc_core._errors import (
    ApiError,
    BadRequestError,
    CallError,
    ConflictError,
    ErrorDetail,
    FileChangedError,
    ForbiddenError,
    InputValidationError,
    IntegrityError,
    InternalServerError,
    LocalFileError,
    NotFoundError,
    ResponseValidationError,
    SfcConnectionError,
    SfcDefaultError,
    SfcError,
    SfcException,
    SfcTimeoutError,
    TransferError,
    UnauthorizedError,
    UnprocessableEntityError,
)
from sfc_core._http import ResponseData
from sfc_core._models import (
    DeleteImageResponse,
    ImageDownloadResponse,
    ImageListEntry,
    ImageUploadResponse,
    ImageUploadStatus,
    ListImagesResponse,
    UploadPartResponse,
    UploadStatus,
)

if TYPE_CHECKING:
    from sfc_core._transfer import TransferConfig

__version__ = VERSION


def __getattr__(name: str) -> Any:
    # The transfer machinery is only needed by the file workflows; loading it on first use
    # keeps ``import sfc_funcs.images_get`` light.
    if name == "TransferConfig":
        from sfc_core._transfer import TransferConfig

        return TransferConfig
    raise AttributeError(f"module 'sfc_core' has no attribute {name!r}")


__all__ = [
    "DEFAULT_SERVER_URL",
    "TOKEN_ENV",
    "ApiError",
    "BadRequestError",
    "CallError",
    "ConflictError",
    "DeleteImageResponse",
    "ErrorDetail",
    "FileChangedError",
    "ForbiddenError",
    "HookContext",
    "Hooks",
    "ImageDownloadResponse",
    "ImageListEntry",
    "ImageUploadResponse",
    "ImageUploadStatus",
    "InputValidationError",
    "IntegrityError",
    "InternalServerError",
    "ListImagesResponse",
    "LocalFileError",
    "NotFoundError",
    "RequestOptions",
    "ResponseData",
    "ResponseValidationError",
    "RetryConfig",
    "Security",
    "SfcConnectionError",
    "SfcCore",
    "SfcDefaultError",
    "SfcError",
    "SfcException",
    "SfcTimeoutError",
    "TransferConfig",
    "TransferError",
    "UnauthorizedError",
    "UnprocessableEntityError",
    "UploadPartResponse",
    "UploadStatus",
    "__version__",
]
