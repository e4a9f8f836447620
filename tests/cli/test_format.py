"""The pure helpers behind the CLI's output: sizes, times, rows, JSON and error lines."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sfc_cli._format import (
    download_file_name,
    format_pairs,
    human_bytes,
    human_time,
    image_json,
    image_row,
    list_json,
    one_line,
    parse_size,
    redact_token,
)
from sfc_cli._problems import EXIT_FAILURE, EXIT_USAGE, explain
from sfc_core import (
    ApiError,
    ConflictError,
    ErrorDetail,
    ImageListEntry,
    InputValidationError,
    IntegrityError,
    NotFoundError,
    SfcConnectionError,
    SfcDefaultError,
    SfcError,
    SfcTimeoutError,
    TransferError,
    UnauthorizedError,
)

MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("5242880", 5 * MIB),
        ("64MiB", 64 * MIB),
        ("128M", 128 * MIB),
        ("1G", 1024 * MIB),
        ("1gib", 1024 * MIB),
        ("1.5GiB", 1536 * MIB),
        ("100MB", 100_000_000),
        ("8 KiB", 8192),
        ("1T", 1024**4),
        ("512b", 512),
    ],
)
def test_parse_size_accepts_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MiB", "-1M", "0", "0.0001K", "12 parsecs", "1e9", "5MiBs"])
def test_parse_size_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(text)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1536, "1.5 KiB"),
        (64 * MIB, "64.0 MiB"),
        (3 * 1024**4, "3.0 TiB"),
    ],
)
def test_human_bytes(size: int, text: str) -> None:
    assert human_bytes(size) == text


NOW = 1_700_000_000


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (0, "just now"),
        (44, "just now"),
        (60, "1 min ago"),
        (45 * 60, "45 min ago"),
        (5 * 3600, "5 h ago"),
        (3 * 86400, "3 days ago"),
    ],
)
def test_human_time_recent(age: int, text: str) -> None:
    assert human_time(NOW - age, NOW) == text


def test_human_time_is_a_date_when_old_or_in_the_future() -> None:
    old = NOW - 30 * 86400
    assert human_time(old, NOW) == time.strftime("%Y-%m-%d", time.localtime(old))
    ahead = NOW + 3600
    assert human_time(ahead, NOW) == time.strftime("%Y-%m-%d", time.localtime(ahead))


def test_one_line_strips_breaks_and_escapes() -> None:
    assert one_line("bad\nthing\x1b[31m  here\r\n") == "bad thing [31m here"


def test_redact_token_hides_real_tokens_only() -> None:
    assert redact_token("echo sk-live-123456789", "sk-live-123456789") == "echo <redacted>"
    assert redact_token("cannot list", "t") == "cannot list"
    assert redact_token("cannot list", None) == "cannot list"


IMAGE = ImageListEntry(
    id="image_abc",
    name="ubuntu",
    upload_status="revoked",
    created_at=NOW - 120,
    sha256="ab" * 32,
)


def test_image_row_and_json() -> None:
    assert image_row(IMAGE, NOW) == ("ubuntu", "image_abc", "revoked", "2 min ago", "abababababab")
    no_sha = ImageListEntry(id="image_x", name="n", upload_status="started", created_at=NOW)
    assert image_row(no_sha, NOW)[4] == "-"
    assert image_json(IMAGE) == {
        "object": "image",
        "id": "image_abc",
        "name": "ubuntu",
        "upload_status": "revoked",
        "created_at": NOW - 120,
        "sha256": "ab" * 32,
        "provider": None,
    }
    assert list_json([IMAGE], has_more=True, cursor="imagec_1")["cursor"] == "imagec_1"


def test_format_pairs_aligns_labels() -> None:
    assert format_pairs([("id", "x"), ("sha256", "y")]) == "id      x\nsha256  y"


def _api(cls: type[ApiError], status: int, **extra: Any) -> ApiError:
    return cls(status=status, method="GET", path="/v2/images", **extra)


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (_api(UnauthorizedError, 401), EXIT_FAILURE, "check SFC_VMORCH_BEARER_AUTH"),
        (_api(NotFoundError, 404), EXIT_FAILURE, "no such image"),
        (
            _api(ConflictError, 409, message="name taken"),
            EXIT_FAILURE,
            "conflict (409): name taken; pick",
        ),
        (_api(SfcDefaultError, 503), EXIT_FAILURE, "try again later"),
        (
            _api(
                SfcDefaultError,
                418,
                message="teapot\nline",
                details=(ErrorDetail(field="x", message="y"),),
            ),
            EXIT_FAILURE,
            "unexpected answer 418 from the API: teapot line; x: y",
        ),
        (
            SfcConnectionError(method="GET", url="http://h/v2/images", reason="refused"),
            EXIT_FAILURE,
            "check --base-url",
        ),
        (
            InputValidationError(field="name", rule="must be short", value="'x'"),
            EXIT_USAGE,
            "--name must be short (got 'x')",
        ),
        (InputValidationError(field="bearer_auth", rule="is required"), EXIT_USAGE, "no API token"),
        (
            InputValidationError(field="bearer_auth", rule="must be ASCII"),
            EXIT_USAGE,
            "not a usable token",
        ),
        (
            IntegrityError(stage="download", reason="sha256 differs"),
            EXIT_FAILURE,
            "nothing was kept",
        ),
        (
            TransferError(
                stage="upload part", reason="gave up", part=3, cause=_api(UnauthorizedError, 401)
            ),
            EXIT_FAILURE,
            "[upload part (part 3)]: the API rejected the token",
        ),
        (
            TransferError(stage="complete", reason="gave up"),
            EXIT_FAILURE,
            "complete failed: gave up",
        ),
    ],
)
def test_explain(error: SfcError, code: int, words: str) -> None:
    problem = explain("do it", error, conflict_hint="pick another")
    assert problem.exit_code == code
    assert words in problem.message
    assert "\n" not in problem.message


def test_explain_says_each_fact_once() -> None:
    message = "An image named 'x' already exists."
    error = _api(
        ConflictError, 409, message=message, details=(ErrorDetail(field="name", message=message),)
    )
    line = explain("upload x", error, conflict_hint="choose another --name").message
    assert line == (
        "cannot upload x: conflict (409): An image named 'x' already exists; choose another --name"
    )


def test_explain_a_timeout_without_repeating_it() -> None:
    error = SfcTimeoutError(method="GET", url="http://h/v2/images", reason="timed out")
    assert explain("list images", error).message == (
        "cannot list images: timed out; try again later"
    )


@pytest.mark.parametrize(
    "error",
    [
        TransferError(stage="upload part", reason="storage kept failing.", part=2),
        TransferError(
            stage="upload part",
            reason="gave up",
            cause=SfcConnectionError(method="PUT", url="http://h/s", reason="reset"),
        ),
        SfcTimeoutError(method="PUT", url="http://h/s", reason="read timeout after 30 s"),
        _api(SfcDefaultError, 503),
    ],
)
def test_explain_a_transfer_failure_says_how_to_resume(error: SfcError) -> None:
    line = explain("upload x", error, resumable=True).message
    assert line.endswith("run the same command again to resume")
    assert ".;" not in line


def test_download_file_name_is_the_name_only_when_it_is_a_plain_one() -> None:
    assert download_file_name("disk-1.img", "image_a") == "disk-1.img"
    for hostile in ("../../x", "/etc/x", ".bashrc", "..", "a/b", "", "a\nb"):
        assert download_file_name(hostile, "image_a") == "image_a"


@pytest.mark.parametrize("text", ["-5MiB", "-1", " -2G"])
def test_parse_size_says_negative_sizes_are_too_small(text: str) -> None:
    with pytest.raises(ValueError, match="more than 0 bytes"):
        parse_size(text)
