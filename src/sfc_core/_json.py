"""JSON encoding and decoding: orjson when the ``fast`` extra installed it, else the stdlib.

Both decoders raise ``ValueError`` subclasses on malformed input; the stdlib one can also raise
``RecursionError`` on deeply nested input, which callers treat as malformed too. The parsers look
``loads`` up on this module at call time, so both implementations stay reachable (and testable).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

DECODE_ERRORS: tuple[type[BaseException], ...] = (ValueError, RecursionError, TypeError)


def stdlib_loads(data: bytes) -> Any:
    return json.loads(data)


def stdlib_dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


loads: Callable[[bytes], Any] = stdlib_loads
dumps: Callable[[Any], bytes] = stdlib_dumps
BACKEND = "json"

try:
    import orjson
except ImportError:  # pragma: no cover - installs without the ``fast`` extra
    pass
else:
    loads = orjson.loads
    dumps = orjson.dumps
    BACKEND = "orjson"
