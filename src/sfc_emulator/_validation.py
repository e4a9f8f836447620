"""Pure validation of what clients send: JSON bodies, query strings, ids and cursors.

The rule for which status a bad request gets:

* **400 `invalid_request_error`**: the request cannot be read as the operation's input at all —
  the body is not JSON, not a JSON object, lacks a required field, or a field has the wrong JSON
  type (`"part_id": "1"`, `"part_id": 1.5`, `"part_id": true`).
* **422 `unprocessable_entity`**: the input is well-formed but a value breaks a rule — a sha256
  that is not 64 lowercase hex digits, a `part_id` outside 1..10000 — and every query-parameter
  problem (`limit` not an integer or outside 1..200,
  a malformed or unknown cursor, both cursors at once, `include_deleted` not `true`/`false`).

Start-upload is the exception: its description documents no 422, so a name that does not match
the Name pattern is a 400 there.

Every error names the offending wire field in `details[].field`. Unknown body fields and unknown
query parameters are ignored, as the production API adds fields over time.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from sfc_emulator._errors import ApiError, detail

IMAGE_ID: Final = re.compile(r"image_[0-9a-zA-Z_-]{1,21}")
NAME: Final = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}")
SHA256: Final = re.compile(r"[a-f0-9]{64}")
CURSOR: Final = re.compile(r"imagec_[A-Za-z0-9_-]+")
_INTEGER: Final = re.compile(r"-?[0-9]{1,12}")

MAX_PART_ID: Final = 10_000
MIN_LIMIT: Final = 1
MAX_LIMIT: Final = 200
DEFAULT_LIMIT: Final = 50

_CURSOR_PREFIX: Final = "imagec_"
_CURSOR_VERSION: Final = 1


def is_image_id(value: str) -> bool:
    """Whether `value` has the ImageId shape; other ids are simply unknown (404)."""
    return IMAGE_ID.fullmatch(value) is not None


def encode_cursor(seq: int) -> str:
    """An opaque cursor for the image with insertion sequence `seq`.

    >>> encode_cursor(1)
    'imagec_AQAAAAAAAAAB'
    """
    raw = bytes([_CURSOR_VERSION]) + seq.to_bytes(8, "big")
    return _CURSOR_PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> int | None:
    """The sequence number inside a cursor, or None if it is not one of ours.

    >>> decode_cursor(encode_cursor(42))
    42
    >>> decode_cursor("imagec_garbage") is None
    True
    """
    if CURSOR.fullmatch(cursor) is None:
        return None
    text = cursor.removeprefix(_CURSOR_PREFIX)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 9 or raw[0] != _CURSOR_VERSION:
        return None
    return int.from_bytes(raw[1:], "big")


def json_object(body: bytes) -> dict[str, object]:
    """Parse a request body that must be a JSON object (400 otherwise)."""
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(
            400,
            "Request body is not valid JSON.",
            [detail(None, "invalid_json", f"could not parse the body as JSON: {exc}")],
        ) from None
    if not isinstance(value, dict):
        raise ApiError(
            400,
            "Request body must be a JSON object.",
            [detail(None, "invalid_type", "expected a JSON object")],
        )
    return value


def _field(body: Mapping[str, object], field: str) -> object:
    if field not in body:
        raise ApiError(
            400,
            f"Missing required field `{field}`.",
            [detail(field, "missing", f"`{field}` is required")],
        )
    return body[field]


def _string_field(body: Mapping[str, object], field: str) -> str:
    value = _field(body, field)
    if not isinstance(value, str):
        raise ApiError(
            400,
            f"Field `{field}` must be a string.",
            [detail(field, "invalid_type", f"`{field}` must be a string")],
        )
    return value


def start_upload_name(body: bytes) -> str:
    """The `name` of a start-upload request."""
    name = _string_field(json_object(body), "name")
    if NAME.fullmatch(name) is None:
        raise ApiError(
            400,
            "Invalid image name.",
            [
                detail(
                    "name",
                    "invalid_format",
                    "name must be 1-255 characters of [a-zA-Z0-9._-] starting with a letter"
                    " or digit",
                )
            ],
        )
    return name


def upload_part_id(body: bytes) -> int:
    """The `part_id` of an upload-part request."""
    value = _field(json_object(body), "part_id")
    # bool is an int subclass in Python but `true` is not a JSON integer.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError(
            400,
            "Field `part_id` must be an integer.",
            [detail("part_id", "invalid_type", "`part_id` must be an integer")],
        )
    if not 1 <= value <= MAX_PART_ID:
        raise ApiError(
            422,
            f"part_id must be between 1 and {MAX_PART_ID}.",
            [detail("part_id", "out_of_range", f"must be between 1 and {MAX_PART_ID}")],
        )
    return value


def complete_sha256(body: bytes) -> str:
    """The `sha256` of a complete-upload request."""
    value = _string_field(json_object(body), "sha256")
    if SHA256.fullmatch(value) is None:
        raise ApiError(
            422,
            "sha256 must be 64 lowercase hexadecimal characters.",
            [detail("sha256", "invalid_format", "must match ^[a-f0-9]{64}$")],
        )
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class ListQuery:
    """A validated list request; cursors are already decoded to sequence numbers."""

    limit: int = DEFAULT_LIMIT
    starting_after: int | None = None
    ending_before: int | None = None
    include_deleted: bool = False


def _unprocessable(field: str, code: str, message: str) -> ApiError:
    return ApiError(
        422, f"Invalid query parameter `{field}`: {message}.", [detail(field, code, message)]
    )


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if _INTEGER.fullmatch(raw) is None:
        raise _unprocessable("limit", "invalid_type", "must be an integer")
    limit = int(raw)
    if not MIN_LIMIT <= limit <= MAX_LIMIT:
        raise _unprocessable(
            "limit", "out_of_range", f"must be between {MIN_LIMIT} and {MAX_LIMIT}"
        )
    return limit


def _cursor(field: str, raw: str | None) -> int | None:
    if raw is None:
        return None
    seq = decode_cursor(raw)
    if seq is None:
        raise _unprocessable(field, "invalid_cursor", "is not a cursor returned by this API")
    return seq


def _boolean(field: str, raw: str | None) -> bool:
    if raw is None:
        return False
    if raw not in ("true", "false"):
        raise _unprocessable(field, "invalid_type", "must be `true` or `false`")
    return raw == "true"


def list_query(params: Mapping[str, str]) -> ListQuery:
    """Validate the list operation's query parameters (all problems are 422)."""
    query = ListQuery(
        limit=_limit(params.get("limit")),
        starting_after=_cursor("starting_after", params.get("starting_after")),
        ending_before=_cursor("ending_before", params.get("ending_before")),
        include_deleted=_boolean("include_deleted", params.get("include_deleted")),
    )
    if query.starting_after is not None and query.ending_before is not None:
        raise _unprocessable(
            "ending_before", "conflicting_parameters", "cannot be combined with starting_after"
        )
    return query
