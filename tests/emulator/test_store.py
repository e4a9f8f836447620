"""The store on its own: ordering, part/complete/delete interplay and the data dir."""

from __future__ import annotations

import errno
import hashlib
import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfc_emulator import _store
from sfc_emulator._store import (
    AlreadyCompletedError,
    ImageNotFoundError,
    Store,
    UnknownCursorError,
    load_or_create_key,
)
from sfc_emulator._validation import ListQuery


@pytest.fixture
def clock() -> list[float]:
    return [1000.0]


@pytest.fixture
def store(tmp_path: Path, clock: list[float]) -> Iterator[Store]:
    counter = itertools.count()
    opened = Store(tmp_path, clock=lambda: clock[0], new_id=lambda: f"image_{next(counter)}")
    yield opened
    opened.close()


def put_part(store: Store, image_id: str, part_id: int, data: bytes) -> None:
    temp = store.temp_path()
    temp.write_bytes(data)
    store.commit_part(image_id, part_id, temp, len(data), "00" * 16)


def test_order_is_created_at_then_insertion(store: Store, clock: list[float]) -> None:
    store.create("a")
    clock[0] = 900.0  # the clock stepped back: created_at, not insertion, decides
    store.create("b")
    clock[0] = 1000.0
    store.create("c")
    page = store.page(ListQuery())
    assert [image.name for image in page.images] == ["c", "a", "b"]
    after_a = store.page(ListQuery(starting_after=page.images[1].seq))
    assert [image.name for image in after_a.images] == ["b"]
    before_b = store.page(ListQuery(ending_before=page.images[2].seq, limit=1))
    assert ([image.name for image in before_b.images], before_b.has_more) == (["a"], True)
    with pytest.raises(UnknownCursorError):
        store.page(ListQuery(starting_after=12345))


def test_a_part_arriving_after_complete_is_discarded(store: Store) -> None:
    image = store.create("late")
    put_part(store, image.id, 1, b"abc")
    store.complete(image.id, "0" * 64, 1)
    temp = store.temp_path()
    temp.write_bytes(b"late")
    with pytest.raises(AlreadyCompletedError):
        store.commit_part(image.id, 2, temp, 4, "00" * 16)
    assert not temp.exists()
    assert store.part_count(image.id) == 1
    assert not (store.parts_dir / image.id).exists()


def test_a_part_arriving_after_delete_is_discarded(store: Store) -> None:
    image = store.create("gone")
    store.delete(image.id)
    with pytest.raises(ImageNotFoundError):
        put_part(store, image.id, 1, b"x")
    assert store.exists(image.id)
    assert not store.exists("image_never")
    assert store.real_sha256("image_never") is None


def test_concurrent_completes_assemble_once(store: Store) -> None:
    image = store.create("race")
    for part_id in (1, 2, 3):
        put_part(store, image.id, part_id, bytes([part_id]) * 10)
    results: list[str | None] = []

    def complete() -> None:
        results.append(store.complete(image.id, "a" * 64, 10).sha256)

    threads = [threading.Thread(target=complete) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["a" * 64] * 4
    assert store.image_path(image.id).read_bytes() == b"\x01" * 10 + b"\x02" * 10 + b"\x03" * 10


def test_reset_forgets_everything_but_the_key(store: Store, tmp_path: Path) -> None:
    image = store.create("x")
    put_part(store, image.id, 1, b"x")
    key = store.key
    store.reset()
    assert store.page(ListQuery(include_deleted=True)).images == []
    assert store.part_count(image.id) == 0
    assert list(store.parts_dir.iterdir()) == []
    assert load_or_create_key(tmp_path / "signing.key") == key


def test_key_is_created_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "signing.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_key(path) == key


def _refuse(*args: object) -> int:
    raise OSError(errno.EXDEV, "Invalid cross-device link")


@pytest.mark.parametrize("copy_file_range", ["kernel", "refused", "missing"])
def test_assembly_joins_the_parts_in_order_and_hashes_the_image(
    store: Store, monkeypatch: pytest.MonkeyPatch, copy_file_range: str
) -> None:
    if copy_file_range == "refused":
        monkeypatch.setattr(_store, "_copy_file_range", _refuse)
    elif copy_file_range == "missing":
        monkeypatch.setattr(_store, "_copy_file_range", None)
    parts = [bytes([n]) * (3 * _store.CHUNK + n) for n in range(1, 4)]
    image = store.create("joined")
    for part_id, data in enumerate(parts, start=1):
        put_part(store, image.id, part_id, data)
    completed = store.complete(image.id, "0" * 64, 1)
    whole = b"".join(parts)
    assert store.image_path(image.id).read_bytes() == whole
    assert (completed.real_sha256, completed.size) == (
        hashlib.sha256(whole).hexdigest(),
        len(whole),
    )
