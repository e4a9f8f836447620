"""``images_upload_file`` against the emulator over real loopback HTTP, sync and async.

Each test runs twice, once per form; the final bytes the emulator assembled are compared with
the file. Retries never really wait: the core's sleeps only record what they were asked.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve
from returns.pipeline import is_successful
from returns.result import Result

from funcs.conftest import InMode
from sfc_core import (
    ConflictError,
    FileChangedError,
    HookContext,
    Hooks,
    ImageUploadResponse,
    InputValidationError,
    InternalServerError,
    LocalFileError,
    SfcConnectionError,
    SfcCore,
    SfcDefaultError,
    TransferError,
    UnprocessableEntityError,
)
from sfc_core._transfer_plan import GiB, KiB, MiB
from sfc_emulator import Emulator
from sfc_funcs.images_complete_upload import images_complete_upload
from sfc_funcs.images_get import images_get
from sfc_funcs.images_list import images_list
from sfc_funcs.images_start_upload import images_start_upload
from sfc_funcs.images_upload_file import (
    ImagesUploadFileError,
    TransferConfig,
    images_upload_file,
    images_upload_file_async,
)

PART = 4 * KiB
EXPIRED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Request has expired</Message></Error>"
)

UploadResult = Result[ImageUploadResponse, ImagesUploadFileError]


@pytest.fixture
def config(tmp_path: Path) -> TransferConfig:
    return TransferConfig(
        min_part_size=KiB, state_dir=tmp_path / "state", chunk_size=KiB, hash_window=8 * KiB
    )


Upload = Callable[..., UploadResult]


@pytest.fixture
def upload(in_mode: InMode, core: SfcCore, config: TransferConfig) -> Upload:
    """``upload(path, name, **kwargs)`` in the form under test, with the test config."""

    def run(path: Path, name: str, **kwargs: Any) -> UploadResult:
        kwargs.setdefault("transfer", config)
        result: UploadResult = in_mode(
            images_upload_file, images_upload_file_async, core, path, name, **kwargs
        )
        return result

    return run


def write_file(path: Path, size: int, seed: int = 0) -> bytes:
    """``size`` bytes that differ at every offset (a misplaced chunk changes the hash)."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048
    data = (block * (size // len(block) + 1))[:size]
    path.write_bytes(data)
    return data


def stored_parts(emu: Emulator) -> list[int]:
    return [int(r.path.rsplit("/", 1)[1]) for r in emu.requests.by_route("storage_put")]


def assert_uploaded(emu: Emulator, result: UploadResult, data: bytes) -> ImageUploadResponse:
    assert is_successful(result), result
    image = result.unwrap()
    digest = hashlib.sha256(data).hexdigest()
    assert image.upload_status == "completed"
    assert image.sha256 == digest
    assert emu.real_sha256(image.id) == digest
    assert emu.image_path(image.id).read_bytes() == data
    for put in emu.requests.by_route("storage_put"):
        assert put.header("authorization") is None
        assert put.header("transfer-encoding") is None
        assert put.header("content-type") == "application/octet-stream"
        assert int(put.header("content-length") or -1) == put.body_size or put.dropped
    return image


def state_files(config: TransferConfig) -> list[Path]:
    assert config.state_dir is not None
    return sorted(config.state_dir.glob("*.json")) if config.state_dir.exists() else []


# --- sizes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "part_size", "parts"),
    [
        (1, None, 1),
        (5 * MiB - 1, None, 1),
        (5 * MiB, 5 * MiB, 1),
        (5 * MiB + 1, 5 * MiB, 2),
        (PART - 1, PART, 1),
        (PART, PART, 1),
        (PART + 1, PART, 2),
        (10 * PART + 123, PART, 11),
    ],
)
def test_sizes(
    upload: Upload,
    emu: Emulator,
    tmp_path: Path,
    config: TransferConfig,
    size: int,
    part_size: int | None,
    parts: int,
) -> None:
    data = write_file(tmp_path / "disk.img", size)
    chunks = evolve(config, chunk_size=64 * KiB) if size > MiB else config
    result = upload(tmp_path / "disk.img", "disk", part_size=part_size, transfer=chunks)
    assert_uploaded(emu, result, data)
    assert sorted(stored_parts(emu)) == list(range(1, parts + 1))


def test_many_parts_with_a_real_pool(upload: Upload, emu: Emulator, tmp_path: Path) -> None:
    data = write_file(tmp_path / "disk.img", 64 * PART - 5, seed=3)
    result = upload(tmp_path / "disk.img", "disk", part_size=PART, concurrency=8)
    assert_uploaded(emu, result, data)
    assert sorted(stored_parts(emu)) == list(range(1, 65))


def test_part_size_grows_past_10000_parts(
    upload: Upload, emu: Emulator, tmp_path: Path, config: TransferConfig
) -> None:
    path = tmp_path / "sparse.img"
    with path.open("wb") as handle:
        handle.truncate(10_001 * KiB)
    result = upload(
        path, "sparse", part_size=KiB, concurrency=8, transfer=evolve(config, chunk_size=64 * KiB)
    )
    assert_uploaded(emu, result, path.read_bytes())
    put_sizes = sorted(r.body_size for r in emu.requests.by_route("storage_put"))
    assert len(put_sizes) == 10  # 1 KiB parts would need 10,001; grown to 1 MiB
    assert put_sizes[-1] == MiB


def test_progress_is_monotonic_and_ends_at_the_total(
    upload: Upload, emu: Emulator, tmp_path: Path
) -> None:
    data = write_file(tmp_path / "disk.img", 40 * PART)
    seen: list[tuple[int, int]] = []
    result = upload(
        tmp_path / "disk.img",
        "disk",
        part_size=PART,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert_uploaded(emu, result, data)
    values = [done for done, _ in seen]
    assert values == sorted(values)
    assert values[-1] == len(data)
    assert {total for _, total in seen} == {len(data)}
    assert len(set(values)) == len(values)  # each report is news


# --- checks before any request ----------------------------------------------------------------


def _refused_before_any_request(emu: Emulator, result: UploadResult) -> Any:
    assert not is_successful(result)
    assert len(emu.requests) == 0
    return result.failure()


def test_an_empty_file_creates_no_image(upload: Upload, emu: Emulator, tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    error = _refused_before_any_request(emu, upload(tmp_path / "empty", "disk"))
    assert isinstance(error, InputValidationError)
    assert error.field == "path"


def test_a_file_over_128_gib_creates_no_image(
    upload: Upload, emu: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "huge"
    with path.open("wb") as handle:
        handle.truncate(128 * GiB + 1)
    error = _refused_before_any_request(emu, upload(path, "disk"))
    assert isinstance(error, InputValidationError)
    assert "128 GiB" in error.rule


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "-bad"}, "name"),
        ({"name": ""}, "name"),
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 65}, "concurrency"),
        ({"part_size": 512}, "part_size"),
        ({"part_size": 6 * GiB}, "part_size"),
        ({"path": 42}, "path"),
    ],
)
def test_bad_arguments_create_no_image(
    upload: Upload, emu: Emulator, tmp_path: Path, kwargs: dict[str, Any], field: str
) -> None:
    write_file(tmp_path / "disk.img", 10)
    arguments: dict[str, Any] = {"path": tmp_path / "disk.img", "name": "disk", **kwargs}
    error = _refused_before_any_request(
        emu, upload(arguments.pop("path"), arguments.pop("name"), **arguments)
    )
    assert isinstance(error, InputValidationError)
    assert error.field == field


def test_the_real_minimum_part_size_applies_by_default(
    upload: Upload, emu: Emulator, tmp_path: Path
) -> None:
    write_file(tmp_path / "disk.img", 10)
    error = _refused_before_any_request(
        emu, upload(tmp_path / "disk.img", "disk", part_size=MiB, transfer=TransferConfig())
    )
    assert isinstance(error, InputValidationError)
    assert "5 MiB" in error.rule


def test_missing_and_irregular_files(upload: Upload, emu: Emulator, tmp_path: Path) -> None:
    missing = _refused_before_any_request(emu, upload(tmp_path / "nope", "disk"))
    assert isinstance(missing, LocalFileError)
    assert "nope" in str(missing)
    directory = _refused_before_any_request(emu, upload(tmp_path, "disk"))
    assert isinstance(directory, LocalFileError)
    assert "not a regular file" in str(directory)
    os.mkfifo(tmp_path / "fifo")
    fifo = _refused_before_any_request(emu, upload(tmp_path / "fifo", "disk"))
    assert isinstance(fifo, LocalFileError)


def test_no_token_is_refused_before_any_request(
    emu: Emulator, tmp_path: Path, config: TransferConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SFC_VMORCH_BEARER_AUTH", raising=False)
    write_file(tmp_path / "disk.img", 10)
    core = SfcCore(server_url=emu.url, bearer_auth=None)
    error = _refused_before_any_request(
        emu, images_upload_file(core, tmp_path / "disk.img", "disk", transfer=config)
    )
    assert isinstance(error, InputValidationError)
    assert error.field == "bearer_auth"


def test_a_taken_name_is_the_start_upload_conflict(
    upload: Upload, emu: Emulator, tmp_path: Path
) -> None:
    write_file(tmp_path / "a.img", 10)
    assert is_successful(upload(tmp_path / "a.img", "disk"))
    write_file(tmp_path / "b.img", 10)
    result = upload(tmp_path / "b.img", "disk")
    assert not is_successful(result)
    assert isinstance(result.failure(), ConflictError)


# --- storage trouble ----------------------------------------------------------------------------


def test_a_503_with_retry_after_is_retried(
    upload: Upload, emu: Emulator, tmp_path: Path, sleeps: list[float]
) -> None:
    data = write_file(tmp_path / "disk.img", 3 * PART)
    emu.faults.add("storage_put", status=503, retry_after=7)
    result = upload(tmp_path / "disk.img", "disk", part_size=PART, concurrency=1)
    assert_uploaded(emu, result, data)
    assert sleeps == [7.0]
    assert [r.status for r in emu.requests.by_route("storage_put")] == [503, 200, 200, 200]


def test_a_retry_after_date_is_honoured(
    upload: Upload, emu: Emulator, tmp_path: Path, sleeps: list[float]
) -> None:
    data = write_file(tmp_path / "disk.img", PART)
    emu.faults.add(
        "storage_put",
        status=429,
        retry_after=time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 120)),
    )
    result = upload(tmp_path / "disk.img", "disk", part_size=PART)
    assert_uploaded(emu, result, data)
    assert len(sleeps) == 1
    assert 50 <= sleeps[0] <= 60  # the date is two minutes away; capped at max_retry_after


def test_a_dropped_connection_resends_the_part_from_its_first_byte(
    upload: Upload, emu: Emulator, tmp_path: Path, sleeps: list[float]
) -> None:
    data = write_file(tmp_path / "disk.img", 3 * PART)
    emu.faults.add("storage_put", drop_after_bytes=0)
    result = upload(tmp_path / "disk.img", "disk", part_size=PART, concurrency=1)
    assert_uploaded(emu, result, data)
    puts = emu.requests.by_route("storage_put")
    assert [p.dropped for p in puts] == [True, False, False, False]
    assert puts[0].path == puts[1].path
    assert puts[1].body_size == PART
    assert len(sleeps) == 1


def test_retries_run_out(upload: Upload, emu: Emulator, tmp_path: Path) -> None:
    write_file(tmp_path / "disk.img", 3 * PART)
    emu.faults.add("storage_put", status=500, times=10)
    result = upload(tmp_path / "disk.img", "disk", part_size=PART, concurrency=1)
    assert not is_successful(result)
    error = result.failure()
    assert isinstance(error, TransferError)
    assert error.part == 1
    assert isinstance(error.cause, SfcDefaultError)
    assert error.cause.status == 500
    assert len(emu.requests.by_route("storage_put")) == 4  # max_attempts
    assert not emu.requests.by_route("complete")


def test_an_expired_url_is_renewed(upload: Upload, emu: Emulator, tmp_path: Path) -> None:
    data = write_file(tmp_path / "disk.img", 3 * PART)
    emu.faults.add("storage_put", status=403, body=EXPIRED, content_type="application/xml")
    result = upload(tmp_path / "disk.img", "disk", part_size=PART, concurrency=1)
    assert_uploaded(emu, result, data)
    assert len(emu.requests.by_route("upload_part")) == 4  # part 1 needed a second URL


class JumpClock:
    """The emulator's clock: real time, but 5 s later from the ``at``-th reading on. The
    emulator reads it when it issues a URL and when it checks one, so with one worker the
    ``at``-th reading is a known request."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return time.time() + (5.0 if self.calls >= self.at else 0.0)


def test_urls_that_really_expire_are_renewed(upload: Upload, emu: Emulator, tmp_path: Path) -> None:
    data = write_file(tmp_path / "disk.img", 3 * PART)
    emu.set_url_ttl(1)
    emu.state.clock = JumpClock(at=4)  # part 2's URL is checked 5 s after it was issued
    result = upload(tmp_path / "disk.img", "disk", part_size=PART, concurrency=1)
    assert_uploaded(emu, result, data)
    statuses = [r.status for r in emu.requests.by_route("storage_put")]
    assert statuses == [200, 403, 200, 200]


def test_urls_that_always_expire_fail_clearly(
    upload: Upload, emu: Emulator, tmp_path: Path
) -> None:
    write_file(tmp_path / "disk.img", PART)
    emu.set_url_ttl(-1)
    result = upload(tmp_path / "disk.img", "disk", part_size=PART)
    assert not is_successful(result)
    error = result.failure()
    assert isinstance(error, TransferError)
    assert "expired" in error.reason


def test_a_permanent_403_stops_every_worker(upload: Upload, emu: Emulator, tmp_path: Path) -> None:
    write_file(tmp_path / "disk.img", 40 * PART)
    emu.faults.add("storage_put", status=403)
    result = upload(tmp_path / "disk.img", "disk", part_size=PART, concurrency=4)
    assert not is_successful(result)
    error = result.failure()
    assert isinstance(error, TransferError)
    assert error.part is not None
    assert isinstance(error.cause, SfcDefaultError)
    assert (error.cause.status, error.cause.error_type) == (403, "AccessDenied")
    assert "signature" not in str(error).lower()
    assert len(emu.requests.by_route("storage_put")) < 40
    assert not emu.requests.by_route("complete")


def test_an_upload_url_failure_names_the_part(
    upload: Upload, emu: Emulator, tmp_path: Path
) -> None:
    write_file(tmp_path / "disk.img", 2 * PART)
    emu.faults.add("upload_part", status=400)
    result = upload(tmp_path / "disk.img", "disk", part_size=PART, concurrency=1)
    error = result.failure()
    assert isinstance(error, TransferError)
    assert error.part == 1
    assert error.cause is not None


def test_an_authorization_header_on_the_client_never_reaches_storage(
    emu: Emulator, tmp_path: Path, config: TransferConfig
) -> None:
    import httpx

    class Bearer(httpx.Auth):
        """What a caller might put on a shared client: a token on every request."""

        def auth_flow(
            self, request: httpx.Request
        ) -> Generator[httpx.Request, httpx.Response, None]:
            request.headers["authorization"] = f"Bearer {emu.token}"
            yield request

    data = write_file(tmp_path / "disk.img", 2 * PART)
    with httpx.Client(headers={"authorization": f"Bearer {emu.token}"}, auth=Bearer()) as client:
        core = SfcCore(server_url=emu.url, bearer_auth=emu.token, client=client)
        result = images_upload_file(
            core, tmp_path / "disk.img", "disk", part_size=PART, transfer=config
        )
    assert_uploaded(emu, result, data)


# --- the file changing ----------------------------------------------------------------------


def test_a_file_modified_during_the_upload(
    upload: Upload, emu: Emulator, tmp_path: Path, config: TransferConfig
) -> None:
    path = tmp_path / "disk.img"
    write_file(path, 20 * PART)

    def touch(done: int, total: int) -> None:
        if done:
            with path.open("ab") as handle:
                handle.write(b"more")

    result = upload(path, "disk", part_size=PART, concurrency=2, progress=touch)
    assert not is_successful(result)
    assert isinstance(result.failure(), FileChangedError)
    assert not emu.requests.by_route("complete")


def test_a_file_truncated_during_the_upload(upload: Upload, emu: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "disk.img"
    write_file(path, 20 * PART)

    def cut(done: int, total: int) -> None:
        if done:
            os.truncate(path, PART)

    result = upload(path, "disk", part_size=PART, concurrency=1, progress=cut)
    assert not is_successful(result)
    assert isinstance(result.failure(), FileChangedError)
    assert not emu.requests.by_route("complete")


# --- resume -------------------------------------------------------------------------------------


def interrupt_at_half(done: int, total: int) -> None:
    """A progress callback that stops the upload half way, as Ctrl-C would."""
    if done >= total // 2:
        raise KeyboardInterrupt


def slow_storage(emu: Emulator) -> None:
    """Make every part PUT take a while, so that an interrupt lands mid-upload."""
    emu.faults.add("storage_put", delay=0.05, times=10_000)


def test_kill_and_resume(
    emu: Emulator, core: SfcCore, tmp_path: Path, config: TransferConfig
) -> None:
    path = tmp_path / "disk.img"
    data = write_file(path, 30 * PART)
    slow_storage(emu)
    with pytest.raises(KeyboardInterrupt):
        images_upload_file(
            core,
            path,
            "disk",
            part_size=PART,
            concurrency=2,
            transfer=config,
            progress=interrupt_at_half,
        )
    [state] = state_files(config)
    record = json.loads(state.read_text())
    assert 0 < len(record["done"]) < 30
    assert not emu.requests.by_route("complete")
    emu.faults.clear()
    emu.requests.clear()

    result = images_upload_file(core, path, "disk", part_size=PART, concurrency=3, transfer=config)
    image = assert_uploaded(emu, result, data)
    assert image.id == record["image_id"]
    assert not emu.requests.by_route("start_upload")
    sent_again = set(stored_parts(emu))
    assert sent_again == set(range(1, 31)) - set(record["done"])
    assert state_files(config) == []


def test_cancel_and_resume_async(
    emu: Emulator, core: SfcCore, tmp_path: Path, config: TransferConfig
) -> None:
    path = tmp_path / "disk.img"
    data = write_file(path, 30 * PART)
    slow_storage(emu)

    async def cancel_half_way() -> None:
        half = asyncio.Event()

        def progress(done: int, total: int) -> None:
            if done >= total // 2:
                half.set()

        task = asyncio.create_task(
            images_upload_file_async(
                core,
                path,
                "disk",
                part_size=PART,
                concurrency=2,
                transfer=config,
                progress=progress,
            )
        )
        await half.wait()
        task.cancel()
        try:
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            await core.aclose()

    asyncio.run(cancel_half_way())
    [state] = state_files(config)
    record = json.loads(state.read_text())
    assert 0 < len(record["done"]) < 30
    emu.faults.clear()
    emu.requests.clear()

    async def resume() -> UploadResult:
        try:
            return await images_upload_file_async(
                core, path, "disk", part_size=PART, transfer=config
            )
        finally:
            await core.aclose()

    image = assert_uploaded(emu, asyncio.run(resume()), data)
    assert image.id == record["image_id"]
    assert set(stored_parts(emu)) == set(range(1, 31)) - set(record["done"])


def test_a_changed_file_is_not_resumed(
    upload: Upload, emu: Emulator, core: SfcCore, tmp_path: Path, config: TransferConfig
) -> None:
    path = tmp_path / "disk.img"
    write_file(path, 10 * PART)
    slow_storage(emu)
    with pytest.raises(KeyboardInterrupt):
        images_upload_file(
            core, path, "disk", part_size=PART, transfer=config, progress=interrupt_at_half
        )
    emu.faults.clear()
    (old_record,) = state_files(config)
    old_id = json.loads(old_record.read_text())["image_id"]
    data = write_file(path, 10 * PART, seed=9)
    emu.requests.clear()
    # The unfinished image was made for bytes that no longer exist: it is deleted, and the new
    # upload takes its name with every part sent again.
    result = upload(path, "disk", part_size=PART)
    image = assert_uploaded(emu, result, data)
    assert image.id != old_id
    assert len(emu.requests.by_route("delete")) == 1
    assert sorted(stored_parts(emu)) == list(range(1, 11))
    assert state_files(config) == []


def test_a_deleted_image_starts_afresh(
    upload: Upload, emu: Emulator, core: SfcCore, tmp_path: Path, config: TransferConfig
) -> None:
    path = tmp_path / "disk.img"
    data = write_file(path, 10 * PART)
    slow_storage(emu)
    with pytest.raises(KeyboardInterrupt):
        images_upload_file(
            core, path, "disk", part_size=PART, transfer=config, progress=interrupt_at_half
        )
    emu.faults.clear()
    [state] = state_files(config)
    old_id = json.loads(state.read_text())["image_id"]
    from sfc_funcs.images_delete import images_delete

    assert is_successful(images_delete(core, old_id))
    emu.requests.clear()
    result = upload(path, "disk", part_size=PART)
    image = assert_uploaded(emu, result, data)
    assert image.id != old_id
    assert sorted(stored_parts(emu)) == list(range(1, 11))


def test_a_completed_upload_whose_answer_was_lost(
    upload: Upload, emu: Emulator, core: SfcCore, tmp_path: Path, config: TransferConfig
) -> None:
    path = tmp_path / "disk.img"
    data = write_file(path, 3 * PART)
    emu.faults.add("complete", drop_after_bytes=0, times=10)
    first = images_upload_file(core, path, "disk", part_size=PART, transfer=config)
    assert not is_successful(first)
    [state] = state_files(config)
    record = json.loads(state.read_text())
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert is_successful(images_get(core, record["image_id"]))
    emu.faults.clear()
    emu.requests.clear()
    result = upload(path, "disk", part_size=PART)
    image = assert_uploaded(emu, result, data)
    assert image.id == record["image_id"]
    assert not emu.requests.by_route("storage_put")
    assert state_files(config) == []


def test_resume_can_be_turned_off(
    upload: Upload, emu: Emulator, tmp_path: Path, config: TransferConfig
) -> None:
    data = write_file(tmp_path / "disk.img", 2 * PART)
    off = TransferConfig(min_part_size=KiB, state_dir=config.state_dir, resume=False)
    assert_uploaded(emu, upload(tmp_path / "disk.img", "disk", part_size=PART, transfer=off), data)
    assert state_files(config) == []


def test_the_state_dir_follows_the_environment(
    emu: Emulator, core: SfcCore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SFC_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "disk.img"
    write_file(path, 4 * PART)
    slow_storage(emu)
    with pytest.raises(KeyboardInterrupt):
        images_upload_file(
            core,
            path,
            "disk",
            part_size=PART,
            transfer=TransferConfig(min_part_size=KiB),
            progress=interrupt_at_half,
        )
    assert len(list((tmp_path / "cache" / "sfc-images" / "uploads").glob("*.json"))) == 1
    emu.faults.clear()
    monkeypatch.setenv("SFC_STATE_DIR", str(tmp_path / "explicit"))
    result = images_upload_file(
        core, path, "disk2", part_size=PART, transfer=TransferConfig(min_part_size=KiB)
    )
    assert is_successful(result)


def test_complete_is_only_called_with_the_hash_of_the_file(
    upload: Upload, emu: Emulator, core: SfcCore, tmp_path: Path
) -> None:
    data = write_file(tmp_path / "disk.img", 7 * PART + 3)
    image = assert_uploaded(emu, upload(tmp_path / "disk.img", "disk", part_size=PART), data)
    # completing again with the same hash is accepted: the hash sent was the real one
    again = images_complete_upload(core, image.id, hashlib.sha256(data).hexdigest())
    assert is_successful(again)


def test_an_unanswered_resume_check_keeps_the_record(
    upload: Upload, emu: Emulator, core: SfcCore, tmp_path: Path, config: TransferConfig
) -> None:
    path = tmp_path / "disk.img"
    data = write_file(path, 10 * PART)
    slow_storage(emu)
    with pytest.raises(KeyboardInterrupt):
        images_upload_file(
            core, path, "disk", part_size=PART, transfer=config, progress=interrupt_at_half
        )
    emu.faults.clear()
    [state] = state_files(config)
    old_id = json.loads(state.read_text())["image_id"]
    emu.requests.clear()
    emu.faults.add("get", status=500, times=10)
    checked = upload(path, "disk", part_size=PART)
    assert isinstance(checked.failure(), InternalServerError)
    assert not emu.requests.by_route("start_upload")
    assert state_files(config) == [state]  # unknown whether it can go on: nothing is dropped
    emu.faults.clear()
    image = assert_uploaded(emu, upload(path, "disk", part_size=PART), data)
    assert image.id == old_id


def test_a_refused_complete_drops_the_record(
    upload: Upload, emu: Emulator, tmp_path: Path, config: TransferConfig
) -> None:
    write_file(tmp_path / "disk.img", 2 * PART)
    emu.faults.add("complete", status=422)
    result = upload(tmp_path / "disk.img", "disk", part_size=PART)
    assert isinstance(result.failure(), UnprocessableEntityError)
    assert state_files(config) == []


def test_an_unwritable_state_dir_costs_only_resumability(
    upload: Upload, emu: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = write_file(tmp_path / "disk.img", 2 * PART)
    (tmp_path / "not-a-dir").write_bytes(b"")
    config = TransferConfig(min_part_size=KiB, state_dir=tmp_path / "not-a-dir" / "state")
    result = upload(tmp_path / "disk.img", "disk", part_size=PART, transfer=config)
    assert_uploaded(emu, result, data)
    assert "could not save upload state" in caplog.text


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_bug_in_a_worker_is_raised_not_returned(
    emu: Emulator, tmp_path: Path, config: TransferConfig, mode: str
) -> None:
    """An unexpected exception (here from a caller's hook) is not turned into a Failure: it
    surfaces in the caller, after the other workers stopped and the record was saved."""

    def boom(ctx: HookContext, request: object) -> None:
        if ctx.operation == "images_upload_part" and b'"part_id":3' in getattr(
            request, "content", b""
        ):
            raise RuntimeError("hook bug")

    write_file(tmp_path / "disk.img", 10 * PART)
    core = SfcCore(server_url=emu.url, bearer_auth=emu.token, hooks=Hooks(before_request=(boom,)))
    arguments = (core, tmp_path / "disk.img", "disk")
    options: dict[str, Any] = {"part_size": PART, "concurrency": 1, "transfer": config}

    async def go() -> UploadResult:
        try:
            return await images_upload_file_async(*arguments, **options)
        finally:
            await core.aclose()

    def run() -> UploadResult:
        if mode == "sync":
            with core:
                return images_upload_file(*arguments, **options)
        return asyncio.run(go())

    with pytest.raises(RuntimeError, match="hook bug"):
        run()
    [state] = state_files(config)
    assert json.loads(state.read_text())["done"] == [1, 2]


# --- a lost answer to start-upload ------------------------------------------------------------


def images_named(core: SfcCore, name: str) -> list[Any]:
    listed = images_list(core, limit=200).unwrap()
    return [entry for entry in listed.data if entry.name == name]


def test_a_lost_start_answer_is_recovered_in_the_same_call(
    upload: Upload, emu: Emulator, core: SfcCore, tmp_path: Path, config: TransferConfig
) -> None:
    data = write_file(tmp_path / "disk.img", 5 * PART)
    emu.faults.add("start_upload", drop_after_bytes=0)
    result = upload(tmp_path / "disk.img", "disk", part_size=PART)
    image = assert_uploaded(emu, result, data)
    assert len(emu.requests.by_route("start_upload")) == 1
    assert [entry.id for entry in images_named(core, "disk")] == [image.id]
    assert state_files(config) == []


def test_a_lost_start_answer_is_recovered_by_a_rerun(
    upload: Upload, emu: Emulator, core: SfcCore, tmp_path: Path, config: TransferConfig
) -> None:
    data = write_file(tmp_path / "disk.img", 5 * PART)
    emu.faults.add("start_upload", drop_after_bytes=0)
    emu.faults.add("list", status=500, times=10)
    first = upload(tmp_path / "disk.img", "disk", part_size=PART)
    assert isinstance(first.failure(), SfcConnectionError)
    [intent] = state_files(config)
    assert json.loads(intent.read_text())["kind"] == "upload-intent"
    emu.faults.clear()
    [orphan] = images_named(core, "disk")
    assert orphan.upload_status == "started"
    # The rerun meets the name conflict, finds the image the lost call made, and fills it.
    image = assert_uploaded(emu, upload(tmp_path / "disk.img", "disk", part_size=PART), data)
    assert image.id == orphan.id
    assert [entry.id for entry in images_named(core, "disk")] == [image.id]
    assert state_files(config) == []


def test_an_interrupt_during_start_is_recovered_by_a_rerun(
    upload: Upload, emu: Emulator, core: SfcCore, tmp_path: Path, config: TransferConfig
) -> None:
    data = write_file(tmp_path / "disk.img", 3 * PART)

    def interrupt(ctx: HookContext, response: object) -> None:
        if ctx.operation == "images_start_upload":
            raise KeyboardInterrupt

    interrupted = SfcCore(
        server_url=emu.url, bearer_auth=emu.token, hooks=Hooks(after_success=(interrupt,))
    )
    with interrupted, pytest.raises(KeyboardInterrupt):
        images_upload_file(interrupted, tmp_path / "disk.img", "disk", transfer=config)
    [orphan] = images_named(core, "disk")
    image = assert_uploaded(emu, upload(tmp_path / "disk.img", "disk", part_size=PART), data)
    assert image.id == orphan.id


def test_an_older_image_of_the_same_name_is_never_adopted(
    emu: Emulator, core: SfcCore, tmp_path: Path, config: TransferConfig
) -> None:
    theirs = images_start_upload(core, "disk").unwrap()
    write_file(tmp_path / "disk.img", 3 * PART)
    # This machine's clock an hour ahead: the existing image predates the intent by that much.
    later = SfcCore(
        server_url=emu.url, bearer_auth=emu.token, wall_clock=lambda: time.time() + 3600
    )
    emu.faults.add("start_upload", drop_after_bytes=0)
    with later:
        lost = images_upload_file(later, tmp_path / "disk.img", "disk", transfer=config)
        assert isinstance(lost.failure(), SfcConnectionError)
        assert len(state_files(config)) == 1  # unanswered: kept for a rerun
        again = images_upload_file(later, tmp_path / "disk.img", "disk", transfer=config)
    assert isinstance(again.failure(), ConflictError)
    assert state_files(config) == []
    assert not emu.requests.by_route("upload_part")
    assert images_get(core, theirs.id).unwrap().upload_status == "started"


def test_a_plain_conflict_does_not_look_for_an_image(
    upload: Upload, emu: Emulator, core: SfcCore, tmp_path: Path, config: TransferConfig
) -> None:
    images_start_upload(core, "disk").unwrap()
    write_file(tmp_path / "disk.img", 3 * PART)
    emu.requests.clear()
    result = upload(tmp_path / "disk.img", "disk")
    assert isinstance(result.failure(), ConflictError)
    assert not emu.requests.by_route("list")
    assert state_files(config) == []


# --- one upload at a time ---------------------------------------------------------------------


def test_a_second_upload_of_the_same_file_and_name_is_refused_at_once(
    upload: Upload, emu: Emulator, core: SfcCore, tmp_path: Path, config: TransferConfig
) -> None:
    path = tmp_path / "disk.img"
    data = write_file(path, 6 * PART)
    seconds: list[UploadResult] = []

    def api_calls() -> int:
        return sum(len(emu.requests.by_route(r)) for r in ("start_upload", "get", "list"))

    def start_another(done: int, total: int) -> None:
        if done and not seconds:
            before = api_calls()
            seconds.append(upload(path, "disk", part_size=PART))
            assert api_calls() == before
            # Another name is another upload: not locked out.
            seconds.append(upload(path, "other", part_size=PART))

    result = images_upload_file(
        core, path, "disk", part_size=PART, concurrency=1, transfer=config, progress=start_another
    )
    assert_uploaded(emu, result, data)
    refused, other = seconds
    error = refused.failure()
    assert isinstance(error, LocalFileError)
    assert "another upload of this file to this name is in progress" in str(error)
    assert is_successful(other)
    assert config.state_dir is not None
    assert not list(config.state_dir.glob("*.lock"))
    # Once the first upload is over, the name is free for the next one (which finds it taken).
    assert isinstance(upload(path, "disk").failure(), ConflictError)


# --- messages ---------------------------------------------------------------------------------


def test_an_empty_file_is_named_as_such(upload: Upload, tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    error = upload(tmp_path / "empty", "disk").failure()
    assert str(error) == (
        "InputValidationError: path names an empty file (0 bytes); an image needs at least 1 byte"
    )


def test_a_changed_file_names_only_what_changed(
    upload: Upload, emu: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "disk.img"
    write_file(path, 20 * PART)
    stamp = os.stat(path).st_mtime_ns

    def grow_keeping_the_time(done: int, total: int) -> None:
        if done:
            with path.open("ab") as handle:
                handle.write(b"more")
            os.utime(path, ns=(stamp, stamp))

    grown = upload(path, "disk", part_size=PART, concurrency=1, progress=grow_keeping_the_time)
    error = grown.failure()
    assert isinstance(error, FileChangedError)
    reason = error.reason
    assert reason.startswith(f"{path}: size {20 * PART} -> ")
    assert "mtime" not in reason
    assert "changed while" not in reason

    emu.reset()
    write_file(path, 20 * PART)
    stamp = os.stat(path).st_mtime_ns

    def touch(done: int, total: int) -> None:
        if done:
            os.utime(path, ns=(stamp + 10**9, stamp + 10**9))

    touched = upload(path, "disk2", part_size=PART, concurrency=1, progress=touch).failure()
    assert isinstance(touched, FileChangedError)
    assert touched.reason == f"{path}: mtime_ns {stamp} -> {stamp + 10**9}"
