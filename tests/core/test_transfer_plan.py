"""Part planning: sizes, limits and growth past 10,000 parts; download segments."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from returns.pipeline import is_successful

from sfc_core import InputValidationError
from sfc_core._transfer_plan import (
    DEFAULT_PART_SIZE,
    MAX_IMAGE_SIZE,
    MAX_PART_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
    GiB,
    KiB,
    MiB,
    PartPlan,
    grown_part_size,
    plan_parts,
    plan_segments,
)


def _plan(size: int, part_size: int | None = None, min_part_size: int = MIN_PART_SIZE) -> PartPlan:
    result = plan_parts(size, part_size, min_part_size=min_part_size)
    assert is_successful(result), result
    return result.unwrap()


def _refusal(
    size: int, part_size: int | None = None, min_part_size: int = MIN_PART_SIZE
) -> InputValidationError:
    result = plan_parts(size, part_size, min_part_size=min_part_size)
    assert not is_successful(result)
    error = result.failure()
    assert isinstance(error, InputValidationError)
    return error


@pytest.mark.parametrize(
    ("size", "count", "last"),
    [
        (1, 1, 1),
        (5 * MiB - 1, 1, 5 * MiB - 1),
        (5 * MiB, 1, 5 * MiB),
        (DEFAULT_PART_SIZE - 1, 1, DEFAULT_PART_SIZE - 1),
        (DEFAULT_PART_SIZE, 1, DEFAULT_PART_SIZE),
        (DEFAULT_PART_SIZE + 1, 2, 1),
        (10 * DEFAULT_PART_SIZE + 7, 11, 7),
    ],
)
def test_default_plan(size: int, count: int, last: int) -> None:
    plan = _plan(size)
    assert plan.part_size == DEFAULT_PART_SIZE
    assert plan.count == count
    assert plan.span(count) == ((count - 1) * DEFAULT_PART_SIZE, last)
    assert list(plan.parts()) == list(range(1, count + 1))


def test_spans_cover_the_file_without_gaps() -> None:
    plan = _plan(3 * 5 * MiB + 3, 5 * MiB)
    spans = [plan.span(n) for n in plan.parts()]
    assert spans == [(0, 5 * MiB), (5 * MiB, 5 * MiB), (10 * MiB, 5 * MiB), (15 * MiB, 3)]
    with pytest.raises(ValueError, match="outside"):
        plan.span(5)
    with pytest.raises(ValueError, match="outside"):
        plan.span(0)


def test_a_file_needing_more_than_10000_parts_gets_bigger_parts() -> None:
    plan = _plan(100 * GiB, 5 * MiB)
    assert plan.part_size == 11 * MiB  # 100 GiB / 10,000 = 10.24 MiB, rounded up to whole MiB
    assert plan.count <= MAX_PARTS
    largest = _plan(MAX_IMAGE_SIZE, MIN_PART_SIZE)
    assert largest.part_size == 14 * MiB
    assert largest.count <= MAX_PARTS
    # exactly 10,000 parts needs no growth
    assert _plan(10_000 * 5 * MiB, 5 * MiB).part_size == 5 * MiB
    assert _plan(10_000 * 5 * MiB + 1, 5 * MiB).part_size == 6 * MiB


def test_the_default_part_size_covers_every_allowed_size() -> None:
    assert _plan(MAX_IMAGE_SIZE).part_size == DEFAULT_PART_SIZE
    assert _plan(MAX_IMAGE_SIZE).count == 2048


@given(size=st.integers(1, MAX_IMAGE_SIZE), part_size=st.integers(MIN_PART_SIZE, MAX_PART_SIZE))
def test_plans_keep_the_multipart_rules(size: int, part_size: int) -> None:
    plan = _plan(size, part_size)
    assert plan.count <= MAX_PARTS
    assert MIN_PART_SIZE <= plan.part_size <= MAX_PART_SIZE
    assert plan.part_size == part_size or plan.part_size % MiB == 0
    offset, length = plan.span(plan.count)
    assert offset + length == size
    assert 1 <= length <= plan.part_size


@given(size=st.integers(1, MAX_IMAGE_SIZE), part_size=st.integers(1, MAX_PART_SIZE))
def test_growth_is_minimal(size: int, part_size: int) -> None:
    grown = grown_part_size(size, part_size)
    assert -(-size // grown) <= MAX_PARTS
    if grown != part_size:
        assert grown > part_size
        assert grown % MiB == 0
        smaller = grown - MiB
        assert smaller < part_size or -(-size // smaller) > MAX_PARTS


def test_empty_and_oversized_files_are_refused() -> None:
    empty = _refusal(0)
    assert empty.field == "path"
    assert "empty" in empty.rule
    huge = _refusal(MAX_IMAGE_SIZE + 1)
    assert huge.field == "path"
    assert "128 GiB" in huge.rule


@pytest.mark.parametrize("part_size", [5 * MiB - 1, MAX_PART_SIZE + 1, 0, -1])
def test_part_sizes_outside_the_limits_are_refused(part_size: int) -> None:
    error = _refusal(10 * MiB, part_size)
    assert error.field == "part_size"
    assert "5 MiB" in error.rule
    assert "5 GiB" in error.rule


def test_part_size_must_be_an_integer() -> None:
    result = plan_parts(10, True)
    assert not is_successful(result)
    assert result.failure().rule == "must be an integer number of bytes"


def test_an_emulator_minimum_allows_small_parts() -> None:
    plan = _plan(10 * KiB + 1, 2 * KiB, min_part_size=KiB)
    assert (plan.part_size, plan.count) == (2 * KiB, 6)
    assert "1 KiB" in _refusal(10 * KiB, 1000, min_part_size=KiB).rule


def test_small_parts_grow_to_whole_mib_past_10000_parts() -> None:
    plan = _plan(10_001 * KiB, KiB, min_part_size=KiB)
    assert (plan.part_size, plan.count) == (MiB, 10)


@pytest.mark.parametrize(
    ("start", "size", "segment", "expected"),
    [
        (0, 0, 4, []),
        (0, 10, 4, [(0, 4), (4, 4), (8, 2)]),
        (3, 10, 4, [(3, 4), (7, 3)]),
        (10, 10, 4, []),
        (0, 4, 4, [(0, 4)]),
    ],
)
def test_segments(start: int, size: int, segment: int, expected: list[tuple[int, int]]) -> None:
    assert plan_segments(start, size, segment) == expected


def test_segment_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        plan_segments(0, 10, 0)
