"""Storage requests and the pure decisions about storage answers."""

from __future__ import annotations

import email.utils

import pytest

from sfc_core import (
    IntegrityError,
    RetryConfig,
    SfcConnectionError,
    SfcDefaultError,
    SfcTimeoutError,
    TransferError,
)
from sfc_core._http import Unreachable
from sfc_core._retry import FailureKind
from sfc_core._transfer import RangeIgnored, Rejected, Satisfied, StorageAnswer, TransferConfig
from sfc_core._transfer_plan import MiB
from sfc_core._transfer_storage import (
    Accept,
    ContentRange,
    classify_get,
    get_request,
    parse_content_range,
    put_request,
    storage_error,
    storage_retry_delay,
    url_expired,
)

URL = "https://store.example/bucket/key?X-Amz-Signature=secret&X-Amz-Expires=60"
EXPIRED_BODY = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
POLICY = RetryConfig(max_attempts=3, initial_interval=1.0, max_interval=10.0)
RESET = Unreachable(FailureKind.SENT, timed_out=False, reason="connection reset")


def test_put_requests_declare_their_length_and_carry_no_token() -> None:
    request = put_request(URL, 10, iter([b"x" * 10]), user_agent="ua", timeout=5.0)
    assert request.method == "PUT"
    assert request.headers["content-length"] == "10"
    assert request.headers["content-type"] == "application/octet-stream"
    assert "transfer-encoding" not in request.headers
    assert "authorization" not in request.headers
    assert request.extensions["timeout"]["read"] == 5.0


def test_get_requests_ask_for_a_range_only_when_needed() -> None:
    whole = get_request(URL, 0, 100, 100, user_agent="ua", timeout=5.0)
    assert "range" not in whole.headers
    assert whole.headers["accept-encoding"] == "identity"
    assert "authorization" not in whole.headers
    tail = get_request(URL, 90, 100, 100, user_agent="ua", timeout=5.0)
    assert tail.headers["range"] == "bytes=90-99"
    head = get_request(URL, 0, 10, 100, user_agent="ua", timeout=5.0)
    assert head.headers["range"] == "bytes=0-9"


@pytest.mark.parametrize(
    ("answer", "now", "expired"),
    [
        (StorageAnswer(403, body=EXPIRED_BODY), 0.0, True),
        (StorageAnswer(403, body=b"<Code>SignatureDoesNotMatch</Code>"), 0.0, False),
        (StorageAnswer(403, body=b""), 100.0, True),  # any 403 once expires_at has passed
        (StorageAnswer(500, body=EXPIRED_BODY), 0.0, False),
    ],
)
def test_url_expiry(answer: StorageAnswer, now: float, expired: bool) -> None:
    assert url_expired(answer, expires_at=100, now_epoch=now) is expired


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_statuses_are_retried_with_backoff(status: int) -> None:
    delay = storage_retry_delay(POLICY, 1, StorageAnswer(status), now_epoch=0.0, rand=0.0)
    assert delay == 0.5
    second = storage_retry_delay(POLICY, 2, StorageAnswer(status), now_epoch=0.0, rand=1.0)
    assert second == 2.0


@pytest.mark.parametrize("status", [400, 403, 404, 411, 501])
def test_permanent_statuses_are_not_retried(status: int) -> None:
    assert storage_retry_delay(POLICY, 1, StorageAnswer(status), now_epoch=0.0, rand=0.0) is None


def test_retry_after_is_honoured_in_seconds_and_as_a_date() -> None:
    seconds = StorageAnswer(503, headers=(("Retry-After", "7"),))
    assert storage_retry_delay(POLICY, 1, seconds, now_epoch=0.0, rand=0.0) == 7.0
    date = email.utils.formatdate(1_000_030, usegmt=True)
    dated = StorageAnswer(503, headers=(("retry-after", date),))
    assert storage_retry_delay(POLICY, 1, dated, now_epoch=1_000_000.0, rand=0.0) == 30.0
    greedy = StorageAnswer(429, headers=(("retry-after", "3600"),))
    assert storage_retry_delay(POLICY, 1, greedy, now_epoch=0.0, rand=0.0) == 60.0


def test_retries_stop_after_the_last_attempt_or_when_disabled() -> None:
    assert storage_retry_delay(POLICY, 3, StorageAnswer(503), now_epoch=0.0, rand=0.0) is None
    assert storage_retry_delay(RetryConfig.off(), 1, RESET, now_epoch=0.0, rand=0.0) is None
    no_conn = RetryConfig(connection_errors=False)
    assert storage_retry_delay(no_conn, 1, RESET, now_epoch=0.0, rand=0.0) is None
    assert storage_retry_delay(POLICY, 1, RESET, now_epoch=0.0, rand=0.0) == 0.5


def test_storage_errors_never_show_the_signature() -> None:
    error = storage_error("PUT", URL, StorageAnswer(403, body=EXPIRED_BODY))
    assert isinstance(error, SfcDefaultError)
    assert (error.status, error.path, error.error_type) == (403, "/bucket/key", "AccessDenied")
    assert error.message == "Request has expired"
    assert "secret" not in str(error)
    dropped = storage_error("GET", URL, RESET)
    assert isinstance(dropped, SfcConnectionError)
    assert "secret" not in str(dropped)
    slow = storage_error("GET", URL, Unreachable(FailureKind.SENT, timed_out=True, reason="t"))
    assert isinstance(slow, SfcTimeoutError)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("bytes 0-9/10", ContentRange(0, 9, 10)),
        ("bytes 5-9/*", ContentRange(5, 9, None)),
        ("bytes */10", ContentRange(None, None, 10)),
        ("bytes 9-5/10", None),
        ("items 0-9/10", None),
        ("bytes 0-/10", None),
        (None, None),
    ],
)
def test_content_range(value: str | None, parsed: ContentRange | None) -> None:
    assert parse_content_range(value) == parsed


def _answer(status: int, **headers: str) -> StorageAnswer:
    return StorageAnswer(status, tuple((k.replace("_", "-"), v) for k, v in headers.items()))


def test_a_206_with_the_range_asked_for_is_accepted() -> None:
    answer = _answer(206, content_range="bytes 90-99/100", etag='"e"')
    assert classify_get(answer, start=90, size=100, etag=None) == Accept(90)
    assert classify_get(answer, start=90, size=100, etag='"e"') == Accept(90)


def test_a_200_to_a_range_request_is_never_appended() -> None:
    answer = _answer(200, content_length="100")
    assert isinstance(classify_get(answer, start=90, size=100, etag=None), RangeIgnored)
    assert classify_get(answer, start=0, size=100, etag=None) == Accept(0)


def test_another_etag_means_another_object() -> None:
    answer = _answer(206, content_range="bytes 90-99/100", etag='"new"')
    assert isinstance(classify_get(answer, start=90, size=100, etag='"old"'), RangeIgnored)


def test_a_206_for_other_bytes_is_rejected() -> None:
    wrong = classify_get(
        _answer(206, content_range="bytes 0-99/100"), start=90, size=100, etag=None
    )
    assert isinstance(wrong, Rejected)
    assert isinstance(wrong.error, TransferError)
    assert "asked for bytes from 90" in wrong.error.reason
    bare = classify_get(_answer(206), start=90, size=100, etag=None)
    assert isinstance(bare, Rejected)


@pytest.mark.parametrize(
    "answer",
    [
        _answer(206, content_range="bytes 0-9/50"),
        _answer(200, content_length="50"),
        _answer(416, content_range="bytes */50"),
    ],
)
def test_a_store_object_of_another_size_is_an_integrity_error(answer: StorageAnswer) -> None:
    decision = classify_get(answer, start=0, size=100, etag=None)
    assert isinstance(decision, Rejected)
    assert isinstance(decision.error, IntegrityError)
    assert (decision.error.expected_size, decision.error.actual_size) == (100, 50)


def test_416_past_the_end_means_nothing_is_left() -> None:
    answer = _answer(416, content_range="bytes */100")
    assert classify_get(answer, start=100, size=100, etag=None) == Satisfied()
    refused = classify_get(answer, start=50, size=100, etag=None)
    assert isinstance(refused, Rejected)


@pytest.mark.parametrize("status", [403, 404, 500, 503])
def test_error_statuses_are_left_to_the_caller(status: int) -> None:
    assert classify_get(StorageAnswer(status), start=0, size=100, etag=None) is None


def test_answer_helpers() -> None:
    answer = StorageAnswer(204, (("ETag", "x"),))
    assert answer.ok
    assert answer.header("etag") == "x"
    assert answer.header("missing") is None
    assert not StorageAnswer(302).ok


def test_transfer_config() -> None:
    config = TransferConfig()
    assert config.download_segment_size(1) == 48 * MiB
    assert config.download_segment_size(4) == 16 * MiB
    assert config.download_segment_size(64) == MiB
    assert TransferConfig(segment_size=1000).download_segment_size(4) == 1000
    assert TransferConfig(state_dir="/x").state_dir is not None
    for bad in ({"chunk_size": 0}, {"min_part_size": -1}, {"segment_size": 0}):
        with pytest.raises(ValueError, match="positive"):
            TransferConfig(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="checkpoint_interval"):
        TransferConfig(checkpoint_interval=0)
