"""Pure helpers of the command line: parsing sizes, and turning images into text and JSON.

Nothing here reads the clock, the environment or a terminal; callers pass ``now`` in, so the
output for a given input is always the same and the tests need no waiting.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from sfc_core import DeleteImageResponse, ImageListEntry, ImageUploadResponse

# GNU coreutils' convention (truncate, dd, sort -S): bare and "iB" suffixes are powers of 1024,
# "B" suffixes powers of 1000. It is the one people who size disk images already know.
_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kib": 1024,
    "kb": 1000,
    "m": 1024**2,
    "mib": 1024**2,
    "mb": 1000**2,
    "g": 1024**3,
    "gib": 1024**3,
    "gb": 1000**3,
    "t": 1024**4,
    "tib": 1024**4,
    "tb": 1000**4,
}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")

# The API's pattern for image names. A name that matches it is a plain file name: no "/", no
# leading dot (so neither "." nor ".."), nothing a shell or a terminal treats specially.
_FILE_SAFE_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}")

SHA_PREFIX = 12
MIN_REDACTED_TOKEN = 8


def parse_size(text: str) -> int:
    """Bytes in ``text``: ``5242880``, ``64MiB``, ``128M``, ``1G``, ``1.5GiB``, ``100MB``.

    Raises:
        ValueError: with a message fit for a usage error, for anything else or for zero.
    """
    if text.strip().startswith("-"):
        raise ValueError(f"size must be more than 0 bytes, got {text!r}")
    match = _SIZE.fullmatch(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(f"not a size: {text!r} (use bytes or a unit such as 64MiB, 128M, 1G)")
    number = float(match.group(1)) if "." in match.group(1) else int(match.group(1))
    size = int(number * _UNITS[unit])
    if size <= 0:
        raise ValueError(f"size must be more than 0 bytes, got {text!r}")
    return size


def download_file_name(name: str, image_id: str) -> str:
    """The file a download writes to by default: the image's name when it is a valid image name,
    else its id.

    The name comes from the server; a hostile or broken one (``../../.bashrc``, ``/etc/x``) must
    not choose where the bytes land. ``image_id`` is the id the user gave, already checked.
    """
    return name if _FILE_SAFE_NAME.fullmatch(name) else image_id


def human_bytes(size: int) -> str:
    """``1536`` → ``1.5 KiB``; exact bytes below 1 KiB."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"


def human_time(epoch: int, now: float) -> str:
    """How long ago ``epoch`` was, in words; a date once that stops being useful."""
    age = now - epoch
    if age < -60 or age >= 14 * 86400:
        # Far past, or a server clock ahead of ours: a date says more than "-3 min ago".
        return time.strftime("%Y-%m-%d", time.localtime(epoch))
    if age < 45:
        return "just now"
    if age < 90 * 60:
        return f"{max(1, round(age / 60))} min ago"
    if age < 36 * 3600:
        return f"{round(age / 3600)} h ago"
    return f"{round(age / 86400)} days ago"


def absolute_time(epoch: int) -> str:
    """``epoch`` as a local date and time with its zone, for detail views."""
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(epoch))


def one_line(text: str) -> str:
    """``text`` on one line, without control characters.

    Server messages reach the terminal through here: a newline would break "one line per error",
    and an escape sequence could rewrite what the user sees.
    """
    kept = (" " if unicodedata.category(c).startswith("C") else c for c in text)
    return " ".join("".join(kept).split())


def redact_token(text: str, token: str | None) -> str:
    """``text`` with ``token`` replaced by ``<redacted>``.

    The SDK never puts the token into its messages; a server echoing it back could. A very
    short token (a local test token such as ``t``) is left alone: replacing every ``t`` would
    hide the message and protect nothing.
    """
    if token is None or len(token) < MIN_REDACTED_TOKEN:
        return text
    return text.replace(token, "<redacted>")


def sha_prefix(sha256: str | None) -> str:
    return sha256[:SHA_PREFIX] if sha256 else "-"


def image_row(image: ImageListEntry, now: float) -> tuple[str, str, str, str, str]:
    """One table row: name, id, status, created, sha256 prefix."""
    return (
        one_line(image.name),
        one_line(image.id),
        one_line(str(image.upload_status)),
        human_time(image.created_at, now),
        sha_prefix(image.sha256),
    )


TABLE_HEADERS = ("NAME", "ID", "STATUS", "CREATED", "SHA256")

NAME_MAX = 64
"""Widest the NAME column gets; longer names end in an ellipsis (JSON has them whole)."""
_NAME_MIN = 12
_COLUMN_GAP = 3
_DROPPABLE = (4, 3)
"""SHA256, then CREATED: left out, in this order, when the terminal is too narrow for them."""


def table_layout(
    rows: Sequence[tuple[str, ...]], width: int | None
) -> tuple[tuple[int, ...], int, int]:
    """How to fit the image table into ``width`` columns (``None``: no limit).

    The id is what people copy, so it is never shortened: the name gives way first, down to a
    few characters, then the less useful columns are left out. On a terminal too narrow even
    for that, the table is wider than the terminal, which wraps whole lines instead.

    Returns:
        The indexes of the columns to show, the NAME column's width, and the table's width.
    """
    widths = [
        max([len(header)] + [len(row[i]) for row in rows]) for i, header in enumerate(TABLE_HEADERS)
    ]
    name_width = min(widths[0], NAME_MAX)
    shown = list(range(len(TABLE_HEADERS)))

    def others() -> int:
        return sum(widths[i] for i in shown[1:]) + _COLUMN_GAP * (len(shown) - 1)

    if width is not None:
        for column in _DROPPABLE:
            if width - others() >= min(name_width, _NAME_MIN):
                break
            shown.remove(column)
        name_width = max(len(TABLE_HEADERS[0]), min(name_width, width - others()))
    return tuple(shown), name_width, name_width + others()


def image_rows(
    images: Iterable[ImageListEntry], now: float
) -> list[tuple[str, str, str, str, str]]:
    return [image_row(image, now) for image in images]


def image_details(image: ImageListEntry, now: float) -> list[tuple[str, str]]:
    """``(label, value)`` lines of ``sfc images get``."""
    return [
        ("id", one_line(image.id)),
        ("name", one_line(image.name)),
        ("status", one_line(str(image.upload_status))),
        ("created", f"{absolute_time(image.created_at)} ({human_time(image.created_at, now)})"),
        ("sha256", image.sha256 or "-"),
        ("provider", one_line(image.provider) if image.provider else "-"),
    ]


def format_pairs(pairs: Iterable[tuple[str, str]]) -> str:
    """Aligned ``label  value`` lines."""
    items = list(pairs)
    width = max((len(label) for label, _ in items), default=0)
    return "\n".join(f"{label.ljust(width)}  {value}" for label, value in items)


def image_json(image: ImageListEntry | ImageUploadResponse) -> dict[str, Any]:
    """The wire form of an image, as the API sends it."""
    data: dict[str, Any] = {
        "object": image.object,
        "id": image.id,
        "name": image.name,
        "upload_status": str(image.upload_status),
        "created_at": image.created_at,
        "sha256": image.sha256,
    }
    if isinstance(image, ImageListEntry):
        data["provider"] = image.provider
    return data


def list_json(
    images: Iterable[ImageListEntry], *, has_more: bool, cursor: str | None
) -> dict[str, Any]:
    """The wire form of a page of images (``--all`` gives one page holding every image)."""
    return {
        "object": "list",
        "data": [image_json(image) for image in images],
        "has_more": has_more,
        "cursor": cursor,
    }


def delete_json(image_id: str, response: DeleteImageResponse) -> dict[str, Any]:
    return {
        "object": response.object,
        "id": image_id,
        "name": response.name,
        "deleted": response.deleted,
    }
