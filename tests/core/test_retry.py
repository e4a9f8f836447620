"""Retry decisions are a pure function: table tests, no clock, no sleeping."""

from __future__ import annotations

import email.utils

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfc_core import RetryConfig
from sfc_core._retry import (
    FailureKind,
    Outcome,
    RetrySafety,
    backoff_seconds,
    retry_after_seconds,
    retry_delay,
)

NOW = 1_800_000_000.0
POLICY = RetryConfig(initial_interval=1.0, max_interval=8.0, max_attempts=5)


def delay(
    outcome: Outcome,
    *,
    attempt: int = 1,
    safety: RetrySafety = RetrySafety.IDEMPOTENT,
    policy: RetryConfig = POLICY,
    rand: float = 1.0,
) -> float | None:
    return retry_delay(policy, safety, attempt, outcome, now_epoch=NOW, rand=rand)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried(status: int) -> None:
    assert delay(Outcome(status=status)) == 1.0


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 409, 422, 501, 505])
def test_other_statuses_are_not(status: int) -> None:
    assert delay(Outcome(status=status)) is None


def test_409_cannot_be_made_retryable() -> None:
    with pytest.raises(ValueError, match="409"):
        RetryConfig(statuses={409, 503})


def test_backoff_grows_exponentially_and_is_capped() -> None:
    waits = [backoff_seconds(POLICY, attempt, 1.0) for attempt in range(1, 7)]
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_jitter_stays_between_half_and_all_of_the_ceiling() -> None:
    assert backoff_seconds(POLICY, 3, 0.0) == 2.0
    assert backoff_seconds(POLICY, 3, 0.5) == 3.0


def test_attempts_run_out() -> None:
    assert delay(Outcome(status=503), attempt=4) is not None
    assert delay(Outcome(status=503), attempt=5) is None


def test_off_switch() -> None:
    assert delay(Outcome(status=503), policy=RetryConfig.off()) is None
    assert delay(Outcome(failure=FailureKind.CONNECT), policy=RetryConfig.off()) is None


def test_connection_failures_follow_their_switch() -> None:
    assert delay(Outcome(failure=FailureKind.SENT)) == 1.0
    no_conn = RetryConfig(connection_errors=False)
    assert delay(Outcome(failure=FailureKind.CONNECT), policy=no_conn) is None


def test_unsent_only_operations_repeat_only_what_cannot_have_been_processed() -> None:
    unsent = RetrySafety.UNSENT_ONLY
    assert delay(Outcome(failure=FailureKind.CONNECT), safety=unsent) == 1.0
    assert delay(Outcome(failure=FailureKind.SENT), safety=unsent) is None
    assert delay(Outcome(status=429), safety=unsent) == 1.0
    for status in (500, 502, 503, 504):
        assert delay(Outcome(status=status), safety=unsent) is None


def test_retry_after_seconds_replaces_backoff_and_is_capped() -> None:
    assert delay(Outcome(status=503, headers=(("Retry-After", "7"),))) == 7.0
    assert delay(Outcome(status=429, headers=(("retry-after", "3600"),))) == 60.0


def test_retry_after_ms_wins_over_retry_after() -> None:
    headers = (("retry-after", "9"), ("retry-after-ms", "250"))
    assert delay(Outcome(status=503, headers=headers)) == 0.25


def test_retry_after_http_date() -> None:
    date = email.utils.formatdate(NOW + 12, usegmt=True)
    assert retry_after_seconds([("Retry-After", date)], NOW) == pytest.approx(12.0)
    past = email.utils.formatdate(NOW - 100, usegmt=True)
    assert retry_after_seconds([("Retry-After", past)], NOW) == 0.0


@pytest.mark.parametrize("value", ["soon", "", "-5", "1.5e400x", "Mon, 99 Foo 2020"])
def test_unparseable_retry_after_is_ignored(value: str) -> None:
    assert retry_after_seconds([("Retry-After", value)], NOW) is None


def test_bad_retry_after_ms_falls_back_to_retry_after() -> None:
    assert retry_after_seconds([("retry-after-ms", "x"), ("retry-after", "2")], NOW) == 2.0


@given(
    status=st.integers(100, 599),
    attempt=st.integers(1, 10),
    rand=st.floats(0, 1, exclude_max=True),
    header=st.text(max_size=40),
)
def test_decision_is_total_and_bounded(status: int, attempt: int, rand: float, header: str) -> None:
    result = retry_delay(
        POLICY,
        RetrySafety.IDEMPOTENT,
        attempt,
        Outcome(status=status, headers=(("retry-after", header),)),
        now_epoch=NOW,
        rand=rand,
    )
    assert result is None or 0.0 <= result <= max(POLICY.max_interval, POLICY.max_retry_after)
