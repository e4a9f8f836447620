"""The error unions are precise enough for mypy to check exhaustive handling.

mypy runs over this file in ``make test``: if an operation's error union gained a member that the
``match`` below does not handle, ``assert_never`` would fail type checking.
"""

from __future__ import annotations

from typing import assert_never

from returns.result import Failure, Success

from sfc_core import (
    InputValidationError,
    InternalServerError,
    NotFoundError,
    ResponseValidationError,
    SfcConnectionError,
    SfcCore,
    SfcDefaultError,
    SfcTimeoutError,
    UnauthorizedError,
)
from sfc_emulator import Emulator
from sfc_funcs.images_get import ImagesGetError, images_get


def describe(error: ImagesGetError) -> str:
    match error:
        case NotFoundError():
            return "missing"
        case UnauthorizedError():
            return "token"
        case InternalServerError() | SfcDefaultError():
            return "server"
        case ResponseValidationError():
            return "schema"
        case SfcConnectionError() | SfcTimeoutError():
            return "network"
        case InputValidationError():
            return "input"
        case _:
            assert_never(error)


def test_every_member_of_the_union_is_handled(core: SfcCore, emulator: Emulator) -> None:
    assert describe(images_get(core, "image_nope").failure()) == "missing"
    assert describe(images_get(core, "nope").failure()) == "input"
    result = images_get(core, "image_nope")
    assert result.map(lambda image: image.name).alt(describe).value_or("?") == "?"
    match result:
        case Success(image):
            raise AssertionError(image)
        case Failure(error):
            assert describe(error) == "missing"
