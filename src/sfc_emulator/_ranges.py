"""Parsing a single `Range: bytes=...` header against a known size (RFC 9110 §14).

Three outcomes: a satisfiable range (answer 206), an unsatisfiable one (416 with
`Content-Range: bytes */size`), or "serve the whole object" (200) for a missing header or one this
server does not support (other units, several ranges, malformed syntax), which RFC 9110 allows a
server to ignore.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

_RANGE: Final = re.compile(r"bytes=(?P<first>[0-9]*)-(?P<last>[0-9]*)")


@dataclass(frozen=True, slots=True)
class ByteRange:
    """An inclusive byte range that lies within the object."""

    first: int
    last: int

    @property
    def length(self) -> int:
        return self.last - self.first + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.first}-{self.last}/{size}"


@dataclass(frozen=True, slots=True)
class Unsatisfiable:
    """The range selects no byte of the object."""

    def content_range(self, size: int) -> str:
        return f"bytes */{size}"


def parse_range(header: str | None, size: int) -> ByteRange | Unsatisfiable | None:
    """Resolve a Range header against an object of `size` bytes.

    >>> parse_range("bytes=0-9", 100)
    ByteRange(first=0, last=9)
    >>> parse_range("bytes=-10", 100)
    ByteRange(first=90, last=99)
    >>> parse_range("bytes=100-", 100)
    Unsatisfiable()
    >>> parse_range("bytes=5-2", 100) is None
    True
    """
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first_raw, last_raw = match["first"], match["last"]
    if not first_raw:
        if not last_raw:
            return None
        suffix = int(last_raw)
        if suffix == 0 or size == 0:
            return Unsatisfiable()
        return ByteRange(max(size - suffix, 0), size - 1)
    first = int(first_raw)
    if last_raw and int(last_raw) < first:
        return None
    if first >= size:
        return Unsatisfiable()
    last = int(last_raw) if last_raw else size - 1
    return ByteRange(first, min(last, size - 1))
