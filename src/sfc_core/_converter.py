"""The one cattrs converter that turns decoded JSON into models.

Wire rules live here, not on the models: unknown keys are ignored (the server adds fields),
missing optional keys take the model's default, ``upload_status`` is an open enum, and primitives
are strict — by default cattrs would turn ``"12"`` into 12 and ``1.9`` into 1, hiding a server
that sends the wrong type.

Structuring runs a fast converter first. Only when that fails is the input structured again with
detailed validation, to build a message that names the wire path (``$.data[3].created_at``).
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

import cattrs

from sfc_core._models import ImageUploadStatus, UploadStatus

T = TypeVar("T")

STRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    cattrs.BaseValidationError,
    ValueError,
    TypeError,
    KeyError,
)

_KNOWN_STATUSES = {member.value: member for member in ImageUploadStatus}


def _strict_str(value: Any, _: type) -> str:
    if type(value) is not str:
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _strict_int(value: Any, _: type) -> int:
    if type(value) is not int:
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _strict_bool(value: Any, _: type) -> bool:
    if type(value) is not bool:
        raise TypeError(f"expected a boolean, got {type(value).__name__}")
    return value


def _upload_status(value: Any, _: type) -> UploadStatus:
    if type(value) is not str:
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return _KNOWN_STATUSES.get(value, value)


def _build(*, detailed: bool) -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=detailed, forbid_extra_keys=False)
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(int, _strict_int)
    converter.register_structure_hook(bool, _strict_bool)
    converter.register_structure_hook(UploadStatus, _upload_status)
    return converter


@functools.cache
def fast_converter() -> cattrs.Converter:
    """Built on first use, so importing an operation stays cheap."""
    return _build(detailed=False)


@functools.cache
def detailed_converter() -> cattrs.Converter:
    return _build(detailed=True)


def explain(data: Any, model: type[Any]) -> str:
    """Why ``data`` does not structure into ``model``, naming wire paths."""
    try:
        detailed_converter().structure(data, model)
    except cattrs.BaseValidationError as exc:
        return "; ".join(cattrs.transform_error(exc, path="$"))
    except STRUCTURE_ERRORS as exc:
        return str(exc)
    return "the body does not match the schema"


def structure(data: Any, model: type[T]) -> T:
    """Structure decoded JSON into ``model``; raises one of ``STRUCTURE_ERRORS``."""
    return fast_converter().structure(data, model)
