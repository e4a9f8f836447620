"""Progress accounting: high-water marks per slot, caps, and throttled reports."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfc_core._transfer_progress import ProgressMeter


def test_the_first_report_is_due_at_once() -> None:
    meter = ProgressMeter(1000)
    assert meter.due(0.0) == 0
    assert meter.due(0.0) is None


def test_a_retried_slot_counts_nothing_until_it_passes_its_earlier_attempt() -> None:
    meter = ProgressMeter(1000)
    meter.update(1, 300)
    meter.update(1, 100)  # the retry starts over from the part's first byte
    assert meter.done == 300
    meter.update(1, 350)
    assert meter.done == 350
    meter.update(2, 50)
    assert meter.done == 400


def test_never_past_the_total() -> None:
    meter = ProgressMeter(100)
    meter.update(1, 80)
    meter.update(2, 80)
    assert meter.done == 100
    assert meter.due(0.0) == 100


def test_reports_are_due_every_percent_or_after_the_interval() -> None:
    meter = ProgressMeter(10_000)
    assert meter.due(0.0) == 0
    assert not meter.update(1, 50)  # half a percent: not due by bytes
    assert meter.due(0.1) is None  # nor by time
    assert meter.due(0.3) == 50  # 250 ms passed
    assert meter.update(1, 150)  # one percent more: due by bytes
    assert meter.due(0.31) == 150
    assert meter.due(10.0) is None  # no change, no report


def test_the_last_byte_is_always_reported() -> None:
    meter = ProgressMeter(10_000)
    meter.due(0.0)
    meter.update(1, 9_999)
    meter.due(0.0)
    assert meter.update(1, 10_000)
    assert meter.due(0.0) == 10_000


def test_a_floor_keeps_a_restarted_transfer_from_going_back() -> None:
    meter = ProgressMeter(1000, floor=600)
    assert meter.due(0.0) == 600
    meter.update(0, 500)
    assert meter.done == 600
    meter.update(0, 700)
    assert meter.done == 700


def test_an_empty_transfer() -> None:
    meter = ProgressMeter(0)
    assert meter.due(0.0) == 0
    assert meter.due(1.0) is None


@given(
    total=st.integers(1, 10_000),
    updates=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5_000)), max_size=60),
)
def test_reports_never_decrease_nor_pass_the_total(
    total: int, updates: list[tuple[int, int]]
) -> None:
    meter = ProgressMeter(total)
    reported: list[int] = []
    for step, (slot, value) in enumerate(updates):
        meter.update(slot, value)
        due = meter.due(step * 0.1)
        if due is not None:
            reported.append(due)
    assert reported == sorted(reported)
    assert all(0 <= value <= total for value in reported)
    assert len(set(reported)) == len(reported)


def test_the_wait_ends_when_a_timed_report_falls_due() -> None:
    meter = ProgressMeter(10_000)
    assert meter.wait(0.0, 0.25) == 0.25  # nothing reported yet: the first report is by bytes
    assert meter.due(0.0) == 0
    assert meter.wait(0.1, 0.25) == 0.25  # nothing new to report: no hurry
    meter.update(1, 10)
    assert meter.wait(0.1, 0.25) == pytest.approx(0.15)  # woken early: only the rest
    assert meter.wait(0.3, 0.25) == 0.0
    assert meter.due(0.3) == 10


@given(wakes=st.lists(st.floats(0.001, 0.25), min_size=1, max_size=60))
def test_a_timed_report_is_never_late_whatever_wakes_the_coordinator(wakes: list[float]) -> None:
    """The coordinator sleeps for ``wait`` unless woken earlier (by another worker's news); a
    trickle of bytes, never 1 % at once, is still reported at least every 250 ms."""
    meter = ProgressMeter(1_000_000)
    now = last_report = 0.0
    meter.due(now)
    for step, woken_after in enumerate(wakes, start=1):
        meter.update(step, 1)
        now += min(woken_after, meter.wait(now, 0.25))
        if meter.due(now) is not None:
            assert now - last_report <= 0.25 + 1e-9
            last_report = now
        assert now - last_report <= 0.25 + 1e-9
