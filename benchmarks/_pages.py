"""Realistic API responses, and the models other libraries would parse them into.

Images look like the emulator's: 27-character ids, names of a few dozen characters, ``provider``
null, and ``sha256`` set for completed images and null for the rest (most are completed). A seeded
``random.Random`` makes every run see the same bytes.

The pydantic models are what a generated SDK would declare for the same schema, held to the same
rules as ours (strict primitives, unknown keys ignored, frozen, an open enum for
``upload_status``). msgspec has no "enum or any string" type, so its ``upload_status`` is a plain
string: it is there as a floor, not as an equal.
"""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pydantic

from sfc_core import ImageUploadStatus, _json

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_DISTROS = ("ubuntu-22.04", "ubuntu-24.04", "debian-12", "rocky-9", "nixos-24.05")
_FLAVOURS = ("cuda-12.4", "cuda-12.6-cudnn9", "rocm-6.2", "base", "pytorch-2.5")
_STATUSES = ("completed",) * 17 + ("uploading", "started", "failed")
BASE_EPOCH = 1_735_689_600


def image(rng: random.Random, index: int) -> dict[str, Any]:
    status = rng.choice(_STATUSES)
    return {
        "object": "image",
        "id": "image_" + "".join(rng.choice(_ALPHABET) for _ in range(21)),
        "name": f"{rng.choice(_DISTROS)}-{rng.choice(_FLAVOURS)}-build{index}",
        "upload_status": status,
        "created_at": BASE_EPOCH - index * 37,
        "provider": None,
        "sha256": rng.randbytes(32).hex() if status == "completed" else None,
    }


def cursor(page: int) -> str:
    return f"imagec_{page:08d}"


def pages(total: int, per_page: int, seed: int = 7) -> list[bytes]:
    """``total`` images as list pages, each one's ``cursor`` naming the page (``cursor(i)``)."""
    rng = random.Random(seed)
    images = [image(rng, i) for i in range(total)]
    out = []
    for start in range(0, total, per_page):
        index = start // per_page
        more = start + per_page < total
        body = {
            "object": "list",
            "data": images[start : start + per_page],
            "has_more": more,
            "cursor": cursor(index) if more else None,
        }
        out.append(_json.stdlib_dumps(body))
    return out


def one_image() -> bytes:
    return _json.stdlib_dumps(image(random.Random(3), 0))


_STRICT = pydantic.ConfigDict(frozen=True, strict=True, extra="ignore")


class PydanticImage(pydantic.BaseModel):
    model_config = _STRICT

    id: str
    name: str
    upload_status: ImageUploadStatus | str
    created_at: int
    provider: str | None = None
    sha256: str | None = None
    object: str = "image"


class PydanticList(pydantic.BaseModel):
    model_config = _STRICT

    data: tuple[PydanticImage, ...]
    has_more: bool
    cursor: str | None = None
    object: str = "list"


class MsgspecImage(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    upload_status: str
    created_at: int
    provider: str | None = None
    sha256: str | None = None
    object: str = "image"


class MsgspecList(msgspec.Struct, frozen=True, kw_only=True):
    data: tuple[MsgspecImage, ...]
    has_more: bool
    cursor: str | None = None
    object: str = "list"
