"""File uploads and downloads under faults, load and interruption.

Every case ends in one of two states, and each is checked byte for byte: the transfer succeeded
and the bytes on the other side equal the source, or it failed with a specific error and nothing
unverified was left at the destination.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from returns.result import Result, Success

from sfc_core import (
    IntegrityError,
    RetryConfig,
    SfcCore,
    SfcDefaultError,
    TransferConfig,
    TransferError,
)
from sfc_emulator import Emulator
from sfc_funcs.images_download_file import images_download_file
from sfc_funcs.images_upload_file import images_upload_file, images_upload_file_async

from .conftest import Ledger

PART = 16 * 1024


def make_file(path: Path, size: int, seed: int) -> bytes:
    data = random.Random(seed).randbytes(size)
    path.write_bytes(data)
    return data


@pytest.fixture
def transfer(tmp_path: Path) -> TransferConfig:
    return TransferConfig(state_dir=tmp_path / "state", min_part_size=1024, chunk_size=4096)


@pytest.fixture
def source(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "disk.img"
    return path, make_file(path, 5 * PART + 123, seed=7)


def upload(
    core: SfcCore, path: Path, name: str, transfer: TransferConfig, **kw: Any
) -> Result[Any, Any]:
    return images_upload_file(core, path, name, part_size=PART, transfer=transfer, **kw)


def stored_bytes(emulator: Emulator, image_id: str) -> bytes:
    return emulator.image_path(image_id).read_bytes()


UPLOAD_FAULTS: list[tuple[str, dict[str, Any]]] = [
    *[
        (f"{status} retry-after={after}", {"status": status, "retry_after": after, "times": 2})
        for status in (429, 500, 502, 503, 504)
        for after in (None, 1)
    ],
    ("dropped before the response", {"drop_after_bytes": 0}),
    ("dropped mid-body", {"drop_after_bytes": 20}),
    ("slower than the timeout", {"delay": 1.5}),
    (
        "proxy html page",
        {"status": 502, "body": "<html>bad gateway</html>", "content_type": "text/html"},
    ),
]


@pytest.mark.parametrize(("label", "fault"), UPLOAD_FAULTS, ids=[f[0] for f in UPLOAD_FAULTS])
@pytest.mark.parametrize("route", ["storage_put", "upload_part", "complete"])
def test_upload_survives_faults(
    fast_core: SfcCore,
    emulator: Emulator,
    transfer: TransferConfig,
    source: tuple[Path, bytes],
    ledger: Ledger,
    route: str,
    label: str,
    fault: dict[str, Any],
) -> None:
    path, data = source
    emulator.faults.add(route, **fault)
    image = upload(fast_core, path, "faulty", transfer).unwrap()
    assert stored_bytes(emulator, image.id) == data
    assert image.sha256 == hashlib.sha256(data).hexdigest()
    assert emulator.faults.pending() == 0
    ledger.add("transfer fault cases run")
    ledger.add("transfer faults survived", fault.get("times", 1))
    ledger.add("bytes lost", 0)


def test_upload_survives_a_url_that_expires_while_queued(
    fast_core: SfcCore, emulator: Emulator, transfer: TransferConfig, source: tuple[Path, bytes]
) -> None:
    path, data = source
    emulator.set_url_ttl(0.3)
    emulator.faults.add("storage_put", delay=0.6)
    image = upload(fast_core, path, "expiring", transfer).unwrap()
    assert stored_bytes(emulator, image.id) == data
    expired = [r for r in emulator.requests.by_route("storage_put") if r.status == 403]
    assert expired


def test_a_start_upload_that_fails_creates_nothing_else(
    fast_core: SfcCore, emulator: Emulator, transfer: TransferConfig, source: tuple[Path, bytes]
) -> None:
    emulator.faults.add("start_upload", status=503)
    error = upload(fast_core, source[0], "refused", transfer).failure()
    assert isinstance(error, SfcDefaultError)
    assert emulator.requests.by_route("storage_put") == []


def test_a_permanent_storage_refusal_names_the_part(
    fast_core: SfcCore, emulator: Emulator, transfer: TransferConfig, source: tuple[Path, bytes]
) -> None:
    emulator.faults.add("storage_put", status=403, times=100)
    error = upload(fast_core, source[0], "forbidden", transfer).failure()
    assert isinstance(error, TransferError)
    assert error.part is not None


@pytest.fixture
def uploaded(
    fast_core: SfcCore, emulator: Emulator, transfer: TransferConfig, source: tuple[Path, bytes]
) -> tuple[str, bytes]:
    path, data = source
    image = upload(fast_core, path, "download-me", transfer).unwrap()
    emulator.requests.clear()
    return image.id, data


DOWNLOAD_FAULTS: list[tuple[str, dict[str, Any]]] = [
    *[
        (f"{status} retry-after={after}", {"status": status, "retry_after": after, "times": 2})
        for status in (429, 500, 502, 503, 504)
        for after in (None, 1)
    ],
    ("dropped before the response", {"drop_after_bytes": 0}),
    ("truncated body", {"drop_after_bytes": PART + 5}),
    ("slower than the timeout", {"delay": 1.5}),
    ("range ignored", {"ignore_range": True, "times": 3}),
    (
        "proxy html page",
        {"status": 502, "body": "<html>bad gateway</html>", "content_type": "text/html"},
    ),
]


@pytest.mark.parametrize(("label", "fault"), DOWNLOAD_FAULTS, ids=[f[0] for f in DOWNLOAD_FAULTS])
@pytest.mark.parametrize("concurrency", [1, 4])
def test_download_survives_faults(
    fast_core: SfcCore,
    emulator: Emulator,
    transfer: TransferConfig,
    uploaded: tuple[str, bytes],
    tmp_path: Path,
    ledger: Ledger,
    concurrency: int,
    label: str,
    fault: dict[str, Any],
) -> None:
    image_id, data = uploaded
    emulator.faults.add("storage_get", **fault)
    target = images_download_file(
        fast_core, image_id, tmp_path / "out.img", concurrency=concurrency, transfer=transfer
    ).unwrap()
    assert target.read_bytes() == data
    ledger.add("transfer fault cases run")
    ledger.add("bytes lost", 0)


def test_download_of_tampered_bytes_leaves_nothing(
    fast_core: SfcCore,
    emulator: Emulator,
    transfer: TransferConfig,
    uploaded: tuple[str, bytes],
    tmp_path: Path,
) -> None:
    image_id, data = uploaded
    stored = emulator.image_path(image_id)
    stored.write_bytes(b"X" + data[1:])
    dest = tmp_path / "out.img"
    error = images_download_file(fast_core, image_id, dest, transfer=transfer).failure()
    assert isinstance(error, IntegrityError)
    assert not dest.exists()
    assert list(tmp_path.glob("out.img*")) == []


def test_download_redirected_to_another_host_fails_without_following(
    fast_core: SfcCore,
    emulator: Emulator,
    transfer: TransferConfig,
    uploaded: tuple[str, bytes],
    tmp_path: Path,
) -> None:
    image_id, _ = uploaded
    with Emulator(token="elsewhere") as other:
        emulator.faults.add(
            "storage_get", status=302, headers={"Location": f"{other.url}/steal"}, times=50
        )
        dest = tmp_path / "out.img"
        result = images_download_file(fast_core, image_id, dest, transfer=transfer)
        assert not isinstance(result, Success)
        assert not dest.exists()
        assert len(other.requests) == 0


def client_connections(port: int) -> int:
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if os.path.exists(table):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    count += 1
    return count


def test_20_concurrent_uploads_with_5_percent_503s(
    emulator: Emulator, tmp_path: Path, ledger: Ledger, long_run: bool
) -> None:
    uploads = 40 if long_run else 20
    files = []
    for n in range(uploads):
        path = tmp_path / f"disk-{n}.img"
        files.append((path, make_file(path, 8 * PART + n, seed=n)))
    parts = uploads * 9
    injected = parts // 20
    emulator.faults.add("storage_put", status=503, retry_after=0, times=injected)
    core = SfcCore(
        server_url=emulator.url, bearer_auth=emulator.token, retry=RetryConfig(max_attempts=6)
    )
    config = TransferConfig(state_dir=tmp_path / "state", min_part_size=1024, chunk_size=4096)
    port = httpx.URL(emulator.url).port
    assert port is not None
    before = client_connections(port)

    async def all_uploads() -> list[Result[Any, Any]]:
        try:
            return await asyncio.gather(
                *(
                    images_upload_file_async(
                        core, path, f"bulk-{n}", part_size=PART, transfer=config
                    )
                    for n, (path, _) in enumerate(files)
                )
            )
        finally:
            await core.aclose()

    results = asyncio.run(all_uploads())
    for result, (_, data) in zip(results, files, strict=True):
        image = result.unwrap()
        assert emulator.image_path(image.id).read_bytes() == data
    assert emulator.faults.pending() == 0
    assert client_connections(port) <= before
    ledger.add("load: concurrent uploads", uploads)
    ledger.add("load: injected part 503s survived", injected)


KILLER = textwrap.dedent(
    """
    import os
    import signal
    import sys
    from pathlib import Path
    from sfc_core import SfcCore, TransferConfig
    from sfc_funcs.images_upload_file import images_upload_file

    url, token, path, name, state, kill_at = sys.argv[1:]
    def progress(done, total):
        if done >= int(kill_at):
            os.kill(os.getpid(), signal.SIGKILL)
    core = SfcCore(server_url=url, bearer_auth=token)
    config = TransferConfig(state_dir=Path(state), min_part_size=1024, chunk_size=4096)
    images_upload_file(core, Path(path), name, part_size=16384, concurrency=2,
                       progress=progress, transfer=config)
    """
)


def interrupt_in_process(
    core: SfcCore, path: Path, name: str, config: TransferConfig, kill_at: int, mode: str
) -> None:
    def progress(done: int, total: int) -> None:
        if done >= kill_at:
            raise KeyboardInterrupt

    async def interrupted() -> None:
        try:
            await images_upload_file_async(
                core, path, name, part_size=PART, concurrency=2, progress=progress, transfer=config
            )
        finally:
            await core.aclose()

    def run() -> None:
        if mode == "sync":
            images_upload_file(
                core, path, name, part_size=PART, concurrency=2, progress=progress, transfer=config
            )
        else:
            asyncio.run(interrupted())

    with pytest.raises(KeyboardInterrupt):
        run()


def kill_subprocess(
    emulator: Emulator, path: Path, name: str, config: TransferConfig, kill_at: int
) -> None:
    command = [
        sys.executable,
        "-c",
        KILLER,
        emulator.url,
        emulator.token,
        str(path),
        name,
        str(config.state_dir),
        str(kill_at),
    ]
    finished = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert finished.returncode == -signal.SIGKILL, finished.stderr


@pytest.mark.parametrize("seed", range(20))
def test_interrupted_uploads_resume_to_the_exact_bytes(
    fast_core: SfcCore, emulator: Emulator, tmp_path: Path, ledger: Ledger, seed: int
) -> None:
    rng = random.Random(seed)
    size = rng.randrange(2 * PART, 12 * PART)
    path = tmp_path / "disk.img"
    data = make_file(path, size, seed=1000 + seed)
    kill_at = rng.randrange(1, size)
    config = TransferConfig(state_dir=tmp_path / "state", min_part_size=1024, chunk_size=4096)
    name = f"killed-{seed}"
    how: Callable[[], None]
    if seed % 3 == 0:
        how = lambda: kill_subprocess(emulator, path, name, config, kill_at)  # noqa: E731
    else:
        mode = "sync" if seed % 3 == 1 else "async"
        how = lambda: interrupt_in_process(fast_core, path, name, config, kill_at, mode)  # noqa: E731
    # Parts that take a little while, as real ones do, so that the record written after each
    # part keeps up: what a resume may send again is then only what was in flight.
    emulator.faults.add("storage_put", delay=0.02, times=10_000)
    how()
    emulator.faults.clear()
    sent_before = {
        int(r.path.rsplit("/", 1)[1])
        for r in emulator.requests.by_route("storage_put")
        if r.status == 200
    }
    emulator.requests.clear()

    image = images_upload_file(fast_core, path, name, part_size=PART, transfer=config).unwrap()
    assert emulator.real_sha256(image.id) == hashlib.sha256(data).hexdigest()
    assert stored_bytes(emulator, image.id) == data
    resent = [int(r.path.rsplit("/", 1)[1]) for r in emulator.requests.by_route("storage_put")]
    total_parts = -(-size // PART)
    # Parts acknowledged before the interruption are not sent again, except those in flight
    # (two workers) whose acknowledgement the interruption cut off before the record was saved.
    assert len(set(resent)) <= total_parts
    assert len(sent_before & set(resent)) <= 2
    assert set(resent) | sent_before >= set(range(1, total_parts + 1))
    assert not list((tmp_path / "state").glob("*.json"))
    ledger.add("interrupted uploads resumed", 1)
    ledger.add("bytes lost", 0)
