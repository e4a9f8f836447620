"""The API's wire models as frozen, slotted attrs classes.

Models are plain declarations; how they map to and from JSON lives in ``_converter``. Optional
response fields default to ``None`` because the server may omit them, and attribute names are the
wire names (the wire is snake_case already).
"""

from __future__ import annotations

import enum

from attrs import field, frozen, validators

from sfc_core._redact import redact_url


class ImageUploadStatus(enum.StrEnum):
    """Known upload states. The server adds states over time (``revoked`` exists already), so a
    model's ``upload_status`` is ``ImageUploadStatus | str``: an unknown state arrives as its plain
    string instead of failing the response. A ``StrEnum`` member equals its string, so
    ``image.upload_status == "completed"`` works for both."""

    STARTED = "started"
    UPLOADING = "uploading"
    COMPLETED = "completed"
    FAILED = "failed"


UploadStatus = ImageUploadStatus | str


# No weakref slot: list pages bring these by the hundred, and without one the converter can
# build them about twice as fast (see ``_converter._mutable_twin``).
@frozen(kw_only=True, weakref_slot=False)
class ImageListEntry:
    """An image as ``images_get`` and ``images_list`` describe it."""

    id: str
    name: str
    upload_status: UploadStatus
    created_at: int
    provider: str | None = None
    sha256: str | None = None
    object: str = "image"


@frozen(kw_only=True)
class ImageUploadResponse:
    """An image as ``images_start_upload`` and ``images_complete_upload`` describe it."""

    id: str
    name: str
    upload_status: UploadStatus
    created_at: int
    sha256: str | None = None
    object: str = "image"


@frozen(kw_only=True)
class ListImagesResponse:
    """One page of images; pass ``cursor`` as ``starting_after`` to get the next page."""

    data: tuple[ImageListEntry, ...]
    has_more: bool
    cursor: str | None = None
    object: str = "list"


@frozen(kw_only=True)
class UploadPartResponse:
    """Where to ``PUT`` one part. The URL is a credential until ``expires_at``."""

    url: str = field(repr=redact_url)
    expires_at: int


@frozen(kw_only=True)
class ImageDownloadResponse:
    """Where to ``GET`` the image bytes, and what they must hash to."""

    url: str = field(repr=redact_url)
    expires_at: int
    sha256: str = field(validator=validators.matches_re(r"[a-f0-9]{64}"))
    size: int = field(validator=validators.ge(0))


@frozen(kw_only=True)
class DeleteImageResponse:
    """The result of a soft delete."""

    deleted: bool
    name: str
    object: str = "image"
