"""Argument rules, checked before any request is built.

Each check returns the value or an ``InputValidationError`` naming the argument and the rule, so
an operation can refuse bad input without touching the network. Patterns come from the API
description; ``fullmatch`` is used throughout because ``$`` would accept a trailing newline.
"""

from __future__ import annotations

import re

from returns.result import Failure, Result, Success

from sfc_core._errors import InputValidationError

IMAGE_ID_RULE = "must be 'image_' followed by 1 to 21 of [0-9a-zA-Z_-]"
NAME_RULE = "must be 1 to 255 characters: a letter or digit, then letters, digits, '.', '_' or '-'"
SHA256_RULE = "must be 64 lowercase hexadecimal digits"
CURSOR_RULE = "must be 'imagec_' followed by one or more of [A-Za-z0-9_-]"

_IMAGE_ID = re.compile(r"image_[0-9a-zA-Z_-]{1,21}")
_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}")
_SHA256 = re.compile(r"[a-f0-9]{64}")
_CURSOR = re.compile(r"imagec_[A-Za-z0-9_-]+")

MAX_PART_ID = 10_000
MAX_LIST_LIMIT = 200


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _pattern(
    field: str, value: object, pattern: re.Pattern[str], rule: str
) -> Result[str, InputValidationError]:
    if not isinstance(value, str):
        return Failure(
            InputValidationError(field=field, rule="must be a string", value=_shown(value))
        )
    if pattern.fullmatch(value) is None:
        return Failure(InputValidationError(field=field, rule=rule, value=_shown(value)))
    return Success(value)


def image_id(value: object, field: str = "image_id") -> Result[str, InputValidationError]:
    return _pattern(field, value, _IMAGE_ID, IMAGE_ID_RULE)


def image_name(value: object, field: str = "name") -> Result[str, InputValidationError]:
    return _pattern(field, value, _NAME, NAME_RULE)


def sha256_hex(value: object, field: str = "sha256") -> Result[str, InputValidationError]:
    return _pattern(field, value, _SHA256, SHA256_RULE)


def cursor(value: object, field: str) -> Result[str, InputValidationError]:
    return _pattern(field, value, _CURSOR, CURSOR_RULE)


def bounded_int(
    value: object, field: str, low: int, high: int
) -> Result[int, InputValidationError]:
    if not isinstance(value, int) or isinstance(value, bool):
        return Failure(
            InputValidationError(field=field, rule="must be an integer", value=_shown(value))
        )
    if not low <= value <= high:
        return Failure(
            InputValidationError(
                field=field, rule=f"must be between {low} and {high}", value=_shown(value)
            )
        )
    return Success(value)


def boolean(value: object, field: str) -> Result[bool, InputValidationError]:
    if not isinstance(value, bool):
        return Failure(
            InputValidationError(field=field, rule="must be True or False", value=_shown(value))
        )
    return Success(value)
