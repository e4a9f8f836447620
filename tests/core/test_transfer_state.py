"""Resume records: round trips, refusal of anything malformed, where they live, atomic writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfc_core._transfer_state import (
    DownloadRecord,
    FileIdentity,
    UploadIntent,
    UploadRecord,
    acquire_lock,
    read_record,
    release_lock,
    remove_record,
    state_dir,
    upload_record_name,
    write_atomic,
)

UPLOAD = UploadRecord(
    server_url="https://api.example",
    path="/data/disk.img",
    name="disk",
    identity=FileIdentity(123, 456),
    image_id="image_abc",
    part_size=5 * 1024 * 1024,
    done=frozenset({1, 3}),
)


def test_upload_record_round_trip() -> None:
    assert UploadRecord.from_json(UPLOAD.to_json()) == UPLOAD
    finished = UploadRecord(
        server_url=UPLOAD.server_url,
        path=UPLOAD.path,
        name=UPLOAD.name,
        identity=UPLOAD.identity,
        image_id=UPLOAD.image_id,
        part_size=UPLOAD.part_size,
        done=frozenset({1, 2, 3}),
        sha256="ab" * 32,
    )
    assert UploadRecord.from_json(finished.to_json()) == finished
    assert UPLOAD.with_done(frozenset({7})).done == {7}


def test_the_upload_record_format() -> None:
    assert json.loads(UPLOAD.to_json()) == {
        "version": 1,
        "kind": "upload",
        "server_url": "https://api.example",
        "path": "/data/disk.img",
        "name": "disk",
        "size": 123,
        "mtime_ns": 456,
        "image_id": "image_abc",
        "part_size": 5 * 1024 * 1024,
        "done": [1, 3],
        "sha256": None,
    }


@pytest.mark.parametrize(
    "change",
    [
        {"version": 2},
        {"kind": "download"},
        {"done": [0]},
        {"done": "1,2"},
        {"done": [True]},
        {"size": "123"},
        {"part_size": 0},
        {"image_id": None},
        {"sha256": 5},
    ],
)
def test_malformed_upload_records_read_as_none(change: dict[str, object]) -> None:
    raw = json.loads(UPLOAD.to_json())
    raw.update(change)
    assert UploadRecord.from_json(json.dumps(raw).encode()) is None


@pytest.mark.parametrize("data", [b"", b"{", b"[]", b"null", b'{"version": 1}'])
def test_garbage_reads_as_no_record(data: bytes) -> None:
    assert UploadRecord.from_json(data) is None
    assert DownloadRecord.from_json(data) is None


@given(
    etag=st.none() | st.text(max_size=20),
    prefix=st.none() | st.integers(0, 2**40),
    size=st.integers(0, 2**40),
)
def test_download_record_round_trip(etag: str | None, prefix: int | None, size: int) -> None:
    record = DownloadRecord(
        image_id="image_x", sha256="0" * 64, size=size, etag=etag, prefix=prefix
    )
    assert DownloadRecord.from_json(record.to_json()) == record
    assert record.same_object("image_x", "0" * 64, size)
    assert not record.same_object("image_y", "0" * 64, size)


@pytest.mark.parametrize(
    "change", [{"size": -1}, {"prefix": -1}, {"etag": 3}, {"sha256": None}, {"kind": "upload"}]
)
def test_malformed_download_records_read_as_none(change: dict[str, object]) -> None:
    raw = json.loads(DownloadRecord(image_id="image_x", sha256="0" * 64, size=1).to_json())
    raw.update(change)
    assert DownloadRecord.from_json(json.dumps(raw).encode()) is None


def test_record_names_depend_on_everything_that_selects_the_image() -> None:
    base = upload_record_name("https://a", (), "/f", "n")
    assert base.endswith(".json")
    assert "/" not in base
    assert base == upload_record_name("https://a", (), "/f", "n")
    others = {
        upload_record_name("https://b", (), "/f", "n"),
        upload_record_name("https://a", (("workspace", "w"),), "/f", "n"),
        upload_record_name("https://a", (), "/g", "n"),
        upload_record_name("https://a", (), "/f", "m"),
    }
    assert base not in others
    assert len(others) == 4


def test_state_dir_resolution() -> None:
    home = Path("/home/u")
    assert state_dir({"SFC_STATE_DIR": "/s"}, home) == Path("/s")
    assert state_dir({"XDG_CACHE_HOME": "/c"}, home) == Path("/c/sfc-images/uploads")
    assert state_dir({"XDG_CACHE_HOME": "relative"}, home) == Path(
        "/home/u/.cache/sfc-images/uploads"
    )
    assert state_dir({}, home) == Path("/home/u/.cache/sfc-images/uploads")
    assert state_dir({}, None) is None


def test_atomic_write_read_and_remove(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "record.json"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert read_record(target) == b"two"
    assert os.listdir(target.parent) == ["record.json"]  # no temporary files left behind
    remove_record(target)
    remove_record(target)
    assert read_record(target) is None


def test_file_identity_from_stat(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"12345")
    info = path.stat()
    assert FileIdentity.of(info) == FileIdentity(5, info.st_mtime_ns)


def test_upload_intent_round_trip_and_refusals() -> None:
    intent = UploadIntent(
        server_url=UPLOAD.server_url,
        path=UPLOAD.path,
        name=UPLOAD.name,
        identity=UPLOAD.identity,
        since=1_700_000_000.5,
    )
    assert UploadIntent.from_json(intent.to_json()) == intent
    assert UploadRecord.from_json(intent.to_json()) is None
    assert UploadIntent.from_json(UPLOAD.to_json()) is None
    raw = json.loads(intent.to_json())
    for bad in ({"since": "now"}, {"since": True}, {"size": None}, {"name": 3}):
        assert UploadIntent.from_json(json.dumps({**raw, **bad}).encode()) is None


def test_a_lock_is_exclusive_until_released(tmp_path: Path) -> None:
    path = tmp_path / "state" / "x.lock"
    held = acquire_lock(path)
    assert held is not None
    assert acquire_lock(path) is None
    release_lock(path, held)
    assert not path.exists()
    again = acquire_lock(path)
    assert again is not None
    release_lock(path, again)


def test_a_lock_file_replaced_before_locking_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A holder that removes the file between our open and our lock: the lock must be taken
    on the file now at the path, not on the unlinked one."""
    path = tmp_path / "x.lock"
    opened = 0
    real_open = os.open

    def open_then_lose_the_race(*args: object, **kwargs: object) -> int:
        nonlocal opened
        fd = real_open(*args, **kwargs)  # type: ignore[arg-type]
        opened += 1
        if opened == 1:
            os.unlink(path)
        return fd

    monkeypatch.setattr(os, "open", open_then_lose_the_race)
    held = acquire_lock(path)
    monkeypatch.undo()
    assert held is not None
    assert opened == 2
    assert os.path.samestat(os.fstat(held), os.stat(path))
    release_lock(path, held)
