"""``images_download_file`` against the emulator over real loopback HTTP, sync and async.

Each test runs twice, once per form, and compares the downloaded bytes with what was uploaded.
Retries never really wait: the core's sleeps only record what they were asked.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from returns.pipeline import is_successful
from returns.result import Result

from funcs.conftest import InMode
from sfc_core import (
    ConflictError,
    InputValidationError,
    IntegrityError,
    LocalFileError,
    SfcCore,
    TransferError,
)
from sfc_core._transfer_plan import KiB
from sfc_emulator import Emulator
from sfc_funcs.images_download_file import (
    PARTIAL_SUFFIX,
    RECORD_SUFFIX,
    ImagesDownloadFileError,
    TransferConfig,
    images_download_file,
    images_download_file_async,
)
from sfc_funcs.images_start_upload import images_start_upload
from sfc_funcs.images_upload_file import images_upload_file

SEGMENT = 4 * KiB
SIZE = 64 * KiB + 123
EXPIRED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Request has expired</Message></Error>"
)

DownloadResult = Result[Path, ImagesDownloadFileError]


@pytest.fixture
def config(tmp_path: Path) -> TransferConfig:
    return TransferConfig(
        min_part_size=KiB,
        state_dir=tmp_path / "state",
        chunk_size=KiB,
        hash_window=8 * KiB,
        segment_size=SEGMENT,
    )


Download = Callable[..., DownloadResult]


@pytest.fixture
def download(in_mode: InMode, core: SfcCore, config: TransferConfig) -> Download:
    """``download(image_id, dest, **kwargs)`` in the form under test, with the test config."""

    def run(image_id: str, dest: Path, **kwargs: Any) -> DownloadResult:
        kwargs.setdefault("transfer", config)
        result: DownloadResult = in_mode(
            images_download_file, images_download_file_async, core, image_id, dest, **kwargs
        )
        return result

    return run


def content(size: int, seed: int = 0) -> bytes:
    """``size`` bytes that differ at every offset (a misplaced chunk changes the hash)."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048
    return (block * (size // len(block) + 1))[:size]


@pytest.fixture
def make_image(
    emu: Emulator, core: SfcCore, tmp_path: Path, config: TransferConfig
) -> Callable[..., tuple[str, bytes]]:
    """``make_image(size)`` uploads that many bytes and returns ``(image_id, bytes)``."""

    def make(size: int = SIZE, seed: int = 0, name: str = "disk") -> tuple[str, bytes]:
        data = content(size, seed)
        source = tmp_path / f"{name}.src"
        source.write_bytes(data)
        uploaded = images_upload_file(
            core, source, name, part_size=16 * KiB, transfer=config, concurrency=4
        )
        assert is_successful(uploaded), uploaded
        emu.requests.clear()
        return uploaded.unwrap().id, data

    return make


def gets(emu: Emulator) -> list[Any]:
    return emu.requests.by_route("storage_get")


def range_starts(emu: Emulator) -> list[int]:
    starts = []
    for get in gets(emu):
        header = get.header("range")
        starts.append(0 if header is None else int(header.split("=")[1].split("-")[0]))
    return starts


def assert_downloaded(emu: Emulator, result: DownloadResult, dest: Path, data: bytes) -> None:
    assert is_successful(result), result
    assert result.unwrap() == dest.absolute()
    assert dest.read_bytes() == data
    assert not dest.with_name(dest.name + PARTIAL_SUFFIX).exists()
    assert not dest.with_name(dest.name + RECORD_SUFFIX).exists()
    for get in gets(emu):
        assert get.header("authorization") is None


def write_partial(dest: Path, image_id: str, data: bytes, partial: bytes, **record: Any) -> None:
    """A partial download as an interrupted run would leave it."""
    dest.with_name(dest.name + PARTIAL_SUFFIX).write_bytes(partial)
    fields = {
        "version": 1,
        "kind": "download",
        "image_id": image_id,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "etag": None,
        "prefix": None,
        **record,
    }
    dest.with_name(dest.name + RECORD_SUFFIX).write_text(json.dumps(fields))


# --- sizes and the pool ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT + 17, SIZE])
@pytest.mark.parametrize("concurrency", [1, 4])
def test_sizes(
    download: Download,
    emu: Emulator,
    make_image: Callable[..., tuple[str, bytes]],
    tmp_path: Path,
    size: int,
    concurrency: int,
) -> None:
    image_id, data = make_image(size)
    dest = tmp_path / "out.img"
    result = download(image_id, dest, concurrency=concurrency)
    assert_downloaded(emu, result, dest, data)
    if concurrency == 1 or size <= SEGMENT:
        assert range_starts(emu) == [0]
        assert gets(emu)[0].header("range") is None
    else:
        assert sorted(range_starts(emu)) == list(range(0, size, SEGMENT))


def test_progress_is_monotonic_and_ends_at_the_total(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, data = make_image()
    seen: list[tuple[int, int]] = []
    result = download(image_id, tmp_path / "out.img", progress=lambda d, t: seen.append((d, t)))
    assert_downloaded(emu, result, tmp_path / "out.img", data)
    values = [done for done, _ in seen]
    assert values == sorted(values)
    assert values[-1] == len(data)
    assert {total for _, total in seen} == {len(data)}


# --- arguments and the destination -----------------------------------------------------------


def test_an_existing_dest_is_kept_unless_overwrite(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, data = make_image()
    dest = tmp_path / "out.img"
    dest.write_bytes(b"precious")
    emu.requests.clear()
    refused = download(image_id, dest)
    assert isinstance(refused.failure(), LocalFileError)
    assert "overwrite=True" in str(refused.failure())
    assert len(emu.requests) == 0
    assert dest.read_bytes() == b"precious"
    assert_downloaded(emu, download(image_id, dest, overwrite=True), dest, data)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"image_id": "nope"}, "image_id"),
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 65}, "concurrency"),
        ({"overwrite": "yes"}, "overwrite"),
        ({"dest": 3}, "dest"),
    ],
)
def test_bad_arguments_send_nothing(
    download: Download, emu: Emulator, tmp_path: Path, kwargs: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"image_id": "image_abc", "dest": tmp_path / "out", **kwargs}
    result = download(arguments.pop("image_id"), arguments.pop("dest"), **arguments)
    error = result.failure()
    assert isinstance(error, InputValidationError)
    assert error.field == field
    assert len(emu.requests) == 0


def test_unusable_destinations(download: Download, emu: Emulator, tmp_path: Path) -> None:
    missing_dir = download("image_abc", tmp_path / "nope" / "out.img")
    assert isinstance(missing_dir.failure(), LocalFileError)
    assert f"{tmp_path / 'nope'} does not exist" in str(missing_dir.failure())
    (tmp_path / "plain").write_bytes(b"")
    file_as_dir = download("image_abc", tmp_path / "plain" / "out.img")
    assert "plain is not a directory" in str(file_as_dir.failure())
    directory = download("image_abc", tmp_path, overwrite=True)
    assert isinstance(directory.failure(), LocalFileError)
    assert "is a directory" in str(directory.failure())
    assert len(emu.requests) == 0


@pytest.mark.parametrize("kind", ["fifo", "/dev/null", "/dev/full", "link to /dev/null"])
def test_a_dest_that_is_not_a_regular_file_is_never_replaced(
    download: Download,
    emu: Emulator,
    make_image: Callable[..., tuple[str, bytes]],
    tmp_path: Path,
    kind: str,
) -> None:
    image_id, _ = make_image()
    emu.requests.clear()
    if kind == "fifo":
        dest = tmp_path / "fifo"
        os.mkfifo(dest)
    elif kind.startswith("link"):
        dest = tmp_path / "link"
        dest.symlink_to("/dev/null")
    else:
        dest = Path(kind)
    before = os.lstat(dest)
    error = download(image_id, dest, overwrite=True).failure()
    assert isinstance(error, LocalFileError)
    assert "only a regular file can be replaced" in str(error)
    assert len(emu.requests) == 0
    after = os.lstat(dest)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)


def test_an_unfinished_image_is_the_download_conflict(
    download: Download, core: SfcCore, tmp_path: Path
) -> None:
    image = images_start_upload(core, "unfinished").unwrap()
    result = download(image.id, tmp_path / "out.img")
    assert isinstance(result.failure(), ConflictError)
    assert not (tmp_path / ("out.img" + PARTIAL_SUFFIX)).exists()


# --- integrity -------------------------------------------------------------------------------


def test_bytes_that_do_not_match_the_sha256_are_rejected(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, data = make_image()
    stored = bytearray(emu.image_path(image_id).read_bytes())
    stored[1000] ^= 0xFF
    emu.image_path(image_id).write_bytes(bytes(stored))
    dest = tmp_path / "out.img"
    dest.write_bytes(b"old, good content")
    result = download(image_id, dest, overwrite=True)
    error = result.failure()
    assert isinstance(error, IntegrityError)
    assert error.expected_sha256 == hashlib.sha256(data).hexdigest()
    assert error.actual_sha256 == hashlib.sha256(stored).hexdigest()
    assert error.expected_size == error.actual_size == len(data)
    assert dest.read_bytes() == b"old, good content"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == ["out.img"]


def test_an_object_of_another_size_is_rejected(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, data = make_image()
    with emu.image_path(image_id).open("ab") as handle:
        handle.write(b"extra")
    result = download(image_id, tmp_path / "out.img", concurrency=1)
    error = result.failure()
    assert isinstance(error, IntegrityError)
    assert (error.expected_size, error.actual_size) == (len(data), len(data) + 5)
    assert not (tmp_path / "out.img").exists()
    assert not (tmp_path / ("out.img" + PARTIAL_SUFFIX)).exists()


# --- the connection failing ------------------------------------------------------------------


def test_a_connection_closing_at_90_percent_resumes_from_there(
    download: Download,
    emu: Emulator,
    make_image: Callable[..., tuple[str, bytes]],
    tmp_path: Path,
    sleeps: list[float],
) -> None:
    image_id, data = make_image()
    cut = len(data) * 9 // 10
    emu.faults.add("storage_get", drop_after_bytes=cut)
    result = download(image_id, tmp_path / "out.img", concurrency=1)
    assert_downloaded(emu, result, tmp_path / "out.img", data)
    assert range_starts(emu) == [0, cut]
    assert len(sleeps) == 1


def test_retries_run_out_clearly(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, _ = make_image()
    emu.faults.add("storage_get", drop_after_bytes=0, times=10)
    result = download(image_id, tmp_path / "out.img", concurrency=1)
    error = result.failure()
    assert isinstance(error, TransferError)
    assert "no retries left" in error.reason
    assert error.cause is not None
    assert len(gets(emu)) == 4
    assert not (tmp_path / "out.img").exists()


def test_a_503_with_retry_after_is_retried(
    download: Download,
    emu: Emulator,
    make_image: Callable[..., tuple[str, bytes]],
    tmp_path: Path,
    sleeps: list[float],
) -> None:
    image_id, data = make_image()
    emu.faults.add("storage_get", status=503, retry_after=3)
    result = download(image_id, tmp_path / "out.img", concurrency=1)
    assert_downloaded(emu, result, tmp_path / "out.img", data)
    assert sleeps == [3.0]


def test_a_permanent_error_stops_the_download(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, _ = make_image()
    emu.faults.add("storage_get", status=403)
    result = download(image_id, tmp_path / "out.img", concurrency=4)
    error = result.failure()
    assert isinstance(error, TransferError)
    assert "403" in error.reason
    assert not (tmp_path / "out.img").exists()


def test_an_expired_url_is_renewed(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, data = make_image()
    emu.faults.add("storage_get", status=403, body=EXPIRED, content_type="application/xml")
    result = download(image_id, tmp_path / "out.img", concurrency=1)
    assert_downloaded(emu, result, tmp_path / "out.img", data)
    assert len(emu.requests.by_route("download")) == 2


class JumpClock:
    """The emulator's clock: real time, but 5 s later from the ``at``-th reading on. The
    emulator reads it when it issues a URL and when it checks one."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return time.time() + (5.0 if self.calls >= self.at else 0.0)


def test_a_url_expiring_mid_download_is_renewed_and_the_download_goes_on(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, data = make_image()
    half = len(data) // 2
    # Two seconds, not one: ``expires_at`` is rounded down to whole seconds, and a client that
    # sees it pass renews the URL before even trying it.
    emu.set_url_ttl(2)
    emu.faults.add("storage_get", drop_after_bytes=half)
    # readings: 1 issues the URL, 2 checks the first GET (cut at half way), 3 checks the
    # retry: 5 s on, the URL has expired.
    emu.state.clock = JumpClock(at=3)
    result = download(image_id, tmp_path / "out.img", concurrency=1)
    assert_downloaded(emu, result, tmp_path / "out.img", data)
    assert [g.status for g in gets(emu)] == [200, 403, 206]
    assert range_starts(emu) == [0, half, half]
    assert len(emu.requests.by_route("download")) == 2


# --- ranges not honoured ---------------------------------------------------------------------


def test_a_200_to_a_range_request_is_never_appended_to_the_partial(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, data = make_image()
    dest = tmp_path / "out.img"
    half = len(data) // 2
    write_partial(dest, image_id, data, data[:half])
    emu.faults.add("storage_get", ignore_range=True)
    result = download(image_id, dest, concurrency=1)
    assert_downloaded(emu, result, dest, data)
    assert [g.header("range") for g in gets(emu)] == [f"bytes={half}-{len(data) - 1}", None]
    assert [g.status for g in gets(emu)] == [200, 200]


def test_a_store_ignoring_ranges_in_a_parallel_download(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, data = make_image()
    emu.faults.add("storage_get", ignore_range=True, times=100)
    result = download(image_id, tmp_path / "out.img", concurrency=4)
    assert_downloaded(emu, result, tmp_path / "out.img", data)
    assert gets(emu)[-1].header("range") is None


def test_a_partial_of_another_object_version_starts_over(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, data = make_image()
    dest = tmp_path / "out.img"
    write_partial(dest, image_id, data, b"x" * 1000, etag='"another-version"')
    result = download(image_id, dest, concurrency=1)
    assert_downloaded(emu, result, dest, data)
    assert range_starts(emu) == [1000, 0]


def test_a_partial_of_another_image_is_not_resumed(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, data = make_image()
    dest = tmp_path / "out.img"
    write_partial(dest, image_id, data, b"x" * 1000, sha256="0" * 64)
    result = download(image_id, dest, concurrency=1)
    assert_downloaded(emu, result, dest, data)
    assert range_starts(emu) == [0]


# --- resume ----------------------------------------------------------------------------------


def test_a_partial_already_complete_is_checked_not_fetched(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, data = make_image()
    dest = tmp_path / "out.img"
    write_partial(dest, image_id, data, data)
    assert_downloaded(emu, download(image_id, dest), dest, data)
    assert gets(emu) == []


def test_a_complete_partial_with_bad_bytes_is_rejected(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, data = make_image()
    dest = tmp_path / "out.img"
    write_partial(dest, image_id, data, b"y" * len(data))
    result = download(image_id, dest)
    assert isinstance(result.failure(), IntegrityError)
    assert not dest.exists()
    assert not dest.with_name(dest.name + PARTIAL_SUFFIX).exists()


def test_resume_continues_from_the_partial(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, data = make_image()
    dest = tmp_path / "out.img"
    write_partial(dest, image_id, data, data[:40_000])
    result = download(image_id, dest, concurrency=1)
    assert_downloaded(emu, result, dest, data)
    assert range_starts(emu) == [40_000]


def test_resume_with_a_parallel_prefix(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, data = make_image()
    dest = tmp_path / "out.img"
    # a parallel run wrote segments past the bytes it had in order: only the prefix counts
    garbage = data[:12_000] + b"z" * 20_000
    write_partial(dest, image_id, data, garbage, prefix=12_000)
    result = download(image_id, dest, concurrency=4)
    assert_downloaded(emu, result, dest, data)
    assert min(range_starts(emu)) == 12_000


def slow_retry(emu: Emulator, at: int) -> None:
    """The first GET is cut at byte ``at``; the retry waits before answering, so that an
    interrupt lands while the partial file holds exactly ``at`` bytes."""
    emu.faults.add("storage_get", drop_after_bytes=at)
    emu.faults.add("storage_get", delay=0.5)


def interrupt_at_half(done: int, total: int) -> None:
    if done >= total // 2:
        raise KeyboardInterrupt


def test_kill_and_resume(
    emu: Emulator,
    core: SfcCore,
    make_image: Callable[..., tuple[str, bytes]],
    tmp_path: Path,
    config: TransferConfig,
) -> None:
    image_id, data = make_image()
    dest = tmp_path / "out.img"
    half = len(data) // 2
    slow_retry(emu, half)
    with pytest.raises(KeyboardInterrupt):
        images_download_file(
            core, image_id, dest, concurrency=1, transfer=config, progress=interrupt_at_half
        )
    assert dest.with_name(dest.name + PARTIAL_SUFFIX).stat().st_size == half
    assert not dest.exists()
    emu.faults.clear()
    emu.requests.clear()
    result = images_download_file(core, image_id, dest, concurrency=1, transfer=config)
    assert_downloaded(emu, result, dest, data)
    assert range_starts(emu) == [half]  # only the missing half was sent again


def test_cancel_and_resume_async(
    emu: Emulator,
    core: SfcCore,
    make_image: Callable[..., tuple[str, bytes]],
    tmp_path: Path,
    config: TransferConfig,
) -> None:
    image_id, data = make_image()
    dest = tmp_path / "out.img"
    half = len(data) // 2
    slow_retry(emu, half)

    async def cancel_half_way() -> None:
        reached = asyncio.Event()

        def progress(done: int, total: int) -> None:
            if done >= half:
                reached.set()

        task = asyncio.create_task(
            images_download_file_async(
                core, image_id, dest, concurrency=1, transfer=config, progress=progress
            )
        )
        await reached.wait()
        task.cancel()
        try:
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            await core.aclose()

    asyncio.run(cancel_half_way())
    assert dest.with_name(dest.name + PARTIAL_SUFFIX).stat().st_size == half
    emu.faults.clear()
    emu.requests.clear()

    async def resume() -> DownloadResult:
        try:
            return await images_download_file_async(
                core, image_id, dest, concurrency=1, transfer=config
            )
        finally:
            await core.aclose()

    assert_downloaded(emu, asyncio.run(resume()), dest, data)
    assert range_starts(emu) == [half]


def test_kill_and_resume_a_parallel_download(
    emu: Emulator,
    core: SfcCore,
    make_image: Callable[..., tuple[str, bytes]],
    tmp_path: Path,
    config: TransferConfig,
) -> None:
    image_id, data = make_image()
    dest = tmp_path / "out.img"
    emu.faults.add("storage_get", delay=0.02, times=10_000)
    with pytest.raises(KeyboardInterrupt):
        images_download_file(
            core, image_id, dest, concurrency=4, transfer=config, progress=interrupt_at_half
        )
    record = json.loads(dest.with_name(dest.name + RECORD_SUFFIX).read_text())
    assert record["prefix"] > 0
    emu.faults.clear()
    emu.requests.clear()
    result = images_download_file(core, image_id, dest, concurrency=4, transfer=config)
    assert_downloaded(emu, result, dest, data)
    assert min(range_starts(emu)) == record["prefix"]


def test_resume_can_be_turned_off(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, data = make_image()
    dest = tmp_path / "out.img"
    write_partial(dest, image_id, data, data[:40_000])
    off = TransferConfig(resume=False, chunk_size=KiB)
    assert_downloaded(emu, download(image_id, dest, concurrency=1, transfer=off), dest, data)
    assert range_starts(emu) == [0]


def test_two_downloads_into_one_dest_do_not_mix(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    import fcntl

    image_id, data = make_image()
    dest = tmp_path / "out.img"
    with dest.with_name(dest.name + PARTIAL_SUFFIX).open("wb") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX)
        busy = download(image_id, dest)
    assert isinstance(busy.failure(), LocalFileError)
    assert "another download" in str(busy.failure())
    assert_downloaded(emu, download(image_id, dest), dest, data)


def test_dest_appearing_meanwhile_is_not_replaced(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, data = make_image()
    dest = tmp_path / "out.img"

    def someone_else_writes_dest(done: int, total: int) -> None:
        if done == total:
            dest.write_bytes(b"theirs")

    result = download(image_id, dest, progress=someone_else_writes_dest)
    assert isinstance(result.failure(), LocalFileError)
    assert dest.read_bytes() == b"theirs"
    # the verified bytes are kept: the next run only checks them
    emu.requests.clear()
    assert_downloaded(emu, download(image_id, dest, overwrite=True), dest, data)
    assert gets(emu) == []


def test_a_url_renewal_that_fails(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, _ = make_image()
    # The first GET waits half a second, then says the URL expired; meanwhile the first progress
    # report (due at once) makes the API refuse further download URLs.
    emu.faults.add(
        "storage_get", status=403, body=EXPIRED, content_type="application/xml", delay=0.5
    )

    refused: list[bool] = []

    def refuse_renewals(done: int, total: int) -> None:
        if not refused:
            refused.append(True)
            emu.faults.add("download", status=401, times=10)

    result = download(image_id, tmp_path / "out.img", concurrency=1, progress=refuse_renewals)
    error = result.failure()
    assert isinstance(error, TransferError)
    assert "no download URL" in error.reason


def test_urls_that_always_expire_fail_clearly(
    download: Download, emu: Emulator, make_image: Callable[..., tuple[str, bytes]], tmp_path: Path
) -> None:
    image_id, _ = make_image()
    emu.set_url_ttl(-1)
    result = download(image_id, tmp_path / "out.img", concurrency=1)
    error = result.failure()
    assert isinstance(error, TransferError)
    assert "expired" in error.reason


def test_a_client_clock_past_expires_at_renews_before_sending(
    emu: Emulator,
    make_image: Callable[..., tuple[str, bytes]],
    tmp_path: Path,
    config: TransferConfig,
) -> None:
    image_id, data = make_image()
    core = SfcCore(server_url=emu.url, bearer_auth=emu.token, wall_clock=lambda: time.time() + 7200)
    result = images_download_file(
        core, image_id, tmp_path / "out.img", concurrency=1, transfer=config
    )
    assert_downloaded(emu, result, tmp_path / "out.img", data)
    assert len(emu.requests.by_route("download")) == 2
    assert [g.status for g in gets(emu)] == [200]
