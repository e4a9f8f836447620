"""How a file is cut into upload parts and a download into ranged segments. Pure.

Object-store multipart rules bound the upload plan: every part but the last is at least 5 MiB,
none is larger than 5 GiB, and there are at most 10,000 of them; the API adds a 128 GiB limit on
the image. The part size defaults to 64 MiB and grows, to a whole number of MiB, when the file
would otherwise need more than 10,000 parts, so callers never have to do that arithmetic.

Download segments have no such rules: they only bound how much of the file one ranged request
fetches, and are sized so that the bytes held for in-order hashing stay within budget.
"""

from __future__ import annotations

from attrs import frozen
from returns.result import Failure, Result, Success

from sfc_core._errors import InputValidationError

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

MIN_PART_SIZE = 5 * MiB
MAX_PART_SIZE = 5 * GiB
DEFAULT_PART_SIZE = 64 * MiB
MAX_PARTS = 10_000
MAX_IMAGE_SIZE = 128 * GiB
PART_SIZE_STEP = MiB


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _size_text(size: int) -> str:
    for unit, name in ((GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} bytes"


@frozen
class PartPlan:
    """Parts of a ``size``-byte file: part ``n`` (1-based) starts at ``(n - 1) * part_size``."""

    size: int
    part_size: int

    @property
    def count(self) -> int:
        return _ceil_div(self.size, self.part_size)

    def span(self, part: int) -> tuple[int, int]:
        """``(offset, length)`` of part ``part``."""
        if not 1 <= part <= self.count:
            raise ValueError(f"part {part} is outside 1..{self.count}")
        offset = (part - 1) * self.part_size
        return offset, min(self.part_size, self.size - offset)

    def parts(self) -> range:
        return range(1, self.count + 1)


def grown_part_size(size: int, part_size: int) -> int:
    """``part_size``, or the smallest whole number of MiB that needs at most 10,000 parts.

    >>> grown_part_size(100 * GiB, 5 * MiB) // MiB
    11
    >>> grown_part_size(10 * GiB, 64 * MiB) // MiB
    64
    """
    if _ceil_div(size, part_size) <= MAX_PARTS:
        return part_size
    return _ceil_div(_ceil_div(size, MAX_PARTS), PART_SIZE_STEP) * PART_SIZE_STEP


def check_image_size(size: int, field: str = "path") -> Result[int, InputValidationError]:
    """``size`` if an image may have it: 1 byte to 128 GiB."""
    if size < 1:
        return Failure(
            InputValidationError(
                # Read after the field name: "path names an empty file ...", so that it is
                # not taken for an empty path string.
                field=field,
                rule="names an empty file (0 bytes); an image needs at least 1 byte",
            )
        )
    if size > MAX_IMAGE_SIZE:
        return Failure(
            InputValidationError(
                field=field,
                rule=f"must be at most {_size_text(MAX_IMAGE_SIZE)}",
                value=f"{size} bytes",
            )
        )
    return Success(size)


def check_part_size(
    part_size: object, *, min_part_size: int = MIN_PART_SIZE
) -> Result[int | None, InputValidationError]:
    """``part_size`` if it is ``None`` (the default) or a whole number of bytes in range."""
    if part_size is None:
        return Success(None)
    if not isinstance(part_size, int) or isinstance(part_size, bool):
        return Failure(
            InputValidationError(field="part_size", rule="must be an integer number of bytes")
        )
    if not min_part_size <= part_size <= MAX_PART_SIZE:
        return Failure(
            InputValidationError(
                field="part_size",
                rule=f"must be between {_size_text(min_part_size)} and {_size_text(MAX_PART_SIZE)}",
                value=str(part_size),
            )
        )
    return Success(part_size)


def plan_parts(
    size: int, part_size: int | None = None, *, min_part_size: int = MIN_PART_SIZE
) -> Result[PartPlan, InputValidationError]:
    """The part plan for a ``size``-byte file, or which rule the arguments break.

    Args:
        size: the file's size in bytes (1 byte to 128 GiB).
        part_size: bytes per part; ``None`` for 64 MiB. Grown to a whole number of MiB when the
            file would need more than 10,000 parts.
        min_part_size: the smallest part size accepted; object stores need 5 MiB, emulators
            may allow less.

    Returns:
        ``Success(PartPlan)``, or ``Failure(InputValidationError)`` naming ``path`` (size) or
        ``part_size``.
    """
    return (
        check_image_size(size)
        .bind(lambda _: check_part_size(part_size, min_part_size=min_part_size))
        .map(
            lambda chosen: PartPlan(
                size, grown_part_size(size, DEFAULT_PART_SIZE if chosen is None else chosen)
            )
        )
    )


def plan_segments(start: int, size: int, segment_size: int) -> list[tuple[int, int]]:
    """``(offset, length)`` of the segments covering bytes ``start`` to ``size``.

    >>> plan_segments(10, 35, 10)
    [(10, 10), (20, 10), (30, 5)]
    """
    if segment_size < 1:
        raise ValueError("segment_size must be positive")
    return [(at, min(segment_size, size - at)) for at in range(start, size, segment_size)]
