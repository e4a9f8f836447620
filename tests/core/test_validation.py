"""Argument rules: each check names the argument and the rule, and never raises."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from returns.result import Failure, Success

from sfc_core import InputValidationError
from sfc_core import _validation as validate


@pytest.mark.parametrize(
    "value", ["image_a", "image_k3R-nX9vLm7Qp2Yw5Jd8F", "image_" + "x" * 21, "image___"]
)
def test_valid_image_ids_pass(value: str) -> None:
    assert validate.image_id(value) == Success(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "image_",
        "image_" + "x" * 22,
        "../x",
        "image_a/../../b",
        "image_a?x=1",
        "image_a\n",
        "image_a%2F",
        "IMAGE_a",
        "image_é",
        " image_a",
    ],
)
def test_invalid_image_ids_name_the_field_and_rule(value: str) -> None:
    result = validate.image_id(value)
    assert isinstance(result, Failure)
    error = result.failure()
    assert error.field == "image_id"
    assert "image_" in error.rule
    assert repr(value)[:20] in error.value


def test_non_string_is_refused_with_its_type_rule() -> None:
    result = validate.image_id(123)
    assert result == Failure(
        InputValidationError(field="image_id", rule="must be a string", value="123")
    )


@pytest.mark.parametrize("value", ["a", "A1", "my-image.v2_final", "9" + "x" * 254])
def test_valid_names(value: str) -> None:
    assert validate.image_name(value) == Success(value)


@pytest.mark.parametrize("value", ["", "-a", ".a", "_a", "a b", "a/b", "x" * 256, "a\n", "ä"])
def test_invalid_names(value: str) -> None:
    result = validate.image_name(value)
    assert isinstance(result, Failure)
    assert result.failure().field == "name"


def test_sha256_must_be_lowercase_hex() -> None:
    assert isinstance(validate.sha256_hex("a" * 64), Success)
    for bad in ["A" * 64, "a" * 63, "a" * 65, "g" * 64, "a" * 64 + "\n"]:
        result = validate.sha256_hex(bad)
        assert isinstance(result, Failure)
        assert result.failure().rule == validate.SHA256_RULE


def test_cursor_rule() -> None:
    assert isinstance(validate.cursor("imagec_abc-_9", "starting_after"), Success)
    for bad in ["imagec_", "image_abc", "imagec_a&limit=1", "imagec_a b"]:
        result = validate.cursor(bad, "starting_after")
        assert isinstance(result, Failure)
        assert result.failure().field == "starting_after"


def test_bounded_int_refuses_bools_floats_and_out_of_range() -> None:
    assert validate.bounded_int(1, "limit", 1, 200) == Success(1)
    assert validate.bounded_int(200, "limit", 1, 200) == Success(200)
    for bad, rule in [
        (0, "must be between 1 and 200"),
        (201, "must be between 1 and 200"),
        (True, "must be an integer"),
        (1.0, "must be an integer"),
        ("5", "must be an integer"),
    ]:
        result = validate.bounded_int(bad, "limit", 1, 200)
        assert isinstance(result, Failure)
        assert result.failure().rule == rule


def test_boolean_refuses_truthy_values() -> None:
    assert validate.boolean(False, "include_deleted") == Success(False)
    assert isinstance(validate.boolean(1, "include_deleted"), Failure)
    assert isinstance(validate.boolean("true", "include_deleted"), Failure)


def test_long_values_are_shortened_in_the_error() -> None:
    error = validate.image_name("-" * 10_000).failure()
    assert len(error.value) <= 80
    assert len(str(error)) < 300


@given(st.text())
def test_image_id_check_never_raises_and_accepts_only_the_pattern(value: str) -> None:
    result = validate.image_id(value)
    if isinstance(result, Success):
        assert value.startswith("image_")
        assert 7 <= len(value) <= 27
        assert all(c.isascii() and (c.isalnum() or c in "_-") for c in value)
