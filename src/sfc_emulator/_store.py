"""Durable state: image metadata in SQLite, part and image bytes as files, all in one data dir.

Layout of a data dir::

    emulator.sqlite3      images and parts tables (WAL mode)
    signing.key           secret for presigned URLs, created on first use (mode 0600)
    parts/<image_id>/<n>  uploaded part bytes, until the image is completed
    images/<image_id>     the assembled image
    tmp/                  files being written; emptied at startup

Every method blocks (disk and SQLite), so the async app calls them from worker threads. One
connection is shared under a lock: statements are tiny, and a single writer avoids SQLite busy
errors. Work that can take long — assembling a multi-GiB image — runs outside that lock under a
per-image lock instead, which is also what orders a part commit against a concurrent complete or
delete of the same image. Part bytes are never read through this module on the hot path: the
storage handlers stream them to a temp file and hand over the finished file with `commit_part`.

Images are soft-deleted: the row stays (so cursors that point at it keep their position) but the
bytes are removed and the name becomes free again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from sfc_emulator._validation import ListQuery

CHUNK: Final = 1024 * 1024
_COPY_STEP: Final = 1024 * CHUNK
_copy_file_range: Final = getattr(os, "copy_file_range", None)
ID_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS images (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    sha256 TEXT,
    real_sha256 TEXT,
    size INTEGER,
    etag TEXT,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS images_live_name ON images (name) WHERE deleted = 0;
CREATE INDEX IF NOT EXISTS images_order ON images (created_at, seq);
CREATE TABLE IF NOT EXISTS parts (
    image_id TEXT NOT NULL,
    part_id INTEGER NOT NULL,
    size INTEGER NOT NULL,
    md5 TEXT NOT NULL,
    PRIMARY KEY (image_id, part_id)
);
PRAGMA user_version = 1;
"""

_SELECT_IMAGES: Final = (
    "SELECT seq, id, name, status, created_at, sha256, real_sha256, size, etag, deleted FROM images"
)


def new_image_id() -> str:
    """`image_` followed by 21 random URL-safe characters."""
    return "image_" + "".join(secrets.choice(ID_ALPHABET) for _ in range(21))


@dataclass(frozen=True, slots=True, kw_only=True)
class Image:
    """One row of the images table."""

    seq: int
    id: str
    name: str
    status: str
    created_at: int
    sha256: str | None
    real_sha256: str | None
    size: int | None
    etag: str | None
    deleted: bool

    def entry(self) -> dict[str, object]:
        """The wire form shared by ImageListEntry and ImageUploadResponse."""
        return {
            "object": "image",
            "id": self.id,
            "name": self.name,
            "upload_status": self.status,
            "created_at": self.created_at,
            "provider": None,
            "sha256": self.sha256,
        }


@dataclass(frozen=True, slots=True)
class Page:
    """Images of one list page, newest first, and whether more lie in the direction of travel."""

    images: list[Image]
    has_more: bool


class StoreError(Exception):
    """A request the current state does not allow; the message is meant for the client."""


class ImageNotFoundError(StoreError):
    pass


class NameTakenError(StoreError):
    pass


class AlreadyCompletedError(StoreError):
    pass


class NotCompletedError(StoreError):
    pass


class Sha256MismatchError(StoreError):
    pass


class InvalidPartsError(StoreError):
    pass


class UnknownCursorError(StoreError):
    def __init__(self, field: str) -> None:
        super().__init__(f"{field} does not name a known image")
        self.field = field


def _image(row: sqlite3.Row) -> Image:
    return Image(
        seq=row["seq"],
        id=row["id"],
        name=row["name"],
        status=row["status"],
        created_at=row["created_at"],
        sha256=row["sha256"],
        real_sha256=row["real_sha256"],
        size=row["size"],
        etag=row["etag"],
        deleted=bool(row["deleted"]),
    )


def load_or_create_key(path: Path) -> bytes:
    """The signing key stored at `path`, created if missing (a racing creator wins)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text().strip())
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "w") as file:
        file.write(key.hex())
    return key


class Store:
    """Images, parts and their bytes in one data dir. Thread-safe; every method blocks."""

    def __init__(
        self,
        data_dir: Path,
        *,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = new_image_id,
    ) -> None:
        self.data_dir = data_dir
        self.parts_dir = data_dir / "parts"
        self.images_dir = data_dir / "images"
        self.tmp_dir = data_dir / "tmp"
        for directory in (self.parts_dir, self.images_dir, self.tmp_dir):
            directory.mkdir(parents=True, exist_ok=True)
        for stale in self.tmp_dir.iterdir():
            stale.unlink()
        self.key = load_or_create_key(data_dir / "signing.key")
        self._clock = clock
        self._new_id = new_id
        self._lock = threading.RLock()
        self._image_locks: dict[str, threading.Lock] = {}
        self._db = sqlite3.connect(
            data_dir / "emulator.sqlite3", check_same_thread=False, isolation_level=None
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # Paths and helpers

    def image_path(self, image_id: str) -> Path:
        return self.images_dir / image_id

    def part_path(self, image_id: str, part_id: int) -> Path:
        return self.parts_dir / image_id / str(part_id)

    def temp_path(self) -> Path:
        """A fresh path in the data dir, so finished files can be renamed into place."""
        return self.tmp_dir / f"{secrets.token_hex(12)}.tmp"

    def _image_lock(self, image_id: str) -> threading.Lock:
        with self._lock:
            return self._image_locks.setdefault(image_id, threading.Lock())

    def _find(self, image_id: str) -> Image | None:
        row = self._db.execute(_SELECT_IMAGES + " WHERE id = ?", (image_id,)).fetchone()
        return None if row is None else _image(row)

    def _live(self, image_id: str) -> Image:
        image = self._find(image_id)
        if image is None or image.deleted:
            raise ImageNotFoundError(f"No image with id {image_id}.")
        return image

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # Operations

    def create(self, name: str) -> Image:
        """Start a new image called `name`; NameTakenError if a live image already has it."""
        with self._transaction() as db:
            taken = db.execute(
                "SELECT 1 FROM images WHERE name = ? AND deleted = 0", (name,)
            ).fetchone()
            if taken is not None:
                raise NameTakenError(f"An image named {name!r} already exists.")
            image_id = self._new_id()
            db.execute(
                "INSERT INTO images (id, name, status, created_at) VALUES (?, ?, 'started', ?)",
                (image_id, name, int(self._clock())),
            )
            image = self._find(image_id)
        assert image is not None
        return image

    def get(self, image_id: str) -> Image:
        with self._lock:
            return self._live(image_id)

    def begin_part(self, image_id: str) -> Image:
        """Allow another part upload: the image must be live and not completed."""
        with self._transaction() as db:
            image = self._live(image_id)
            if image.status == "completed":
                raise AlreadyCompletedError(f"Image {image_id} is already completed.")
            if image.status == "started":
                db.execute("UPDATE images SET status = 'uploading' WHERE id = ?", (image_id,))
        return image

    def check_writable(self, image_id: str) -> None:
        """Raise unless parts may still be stored for this image."""
        with self._lock:
            if self._live(image_id).status == "completed":
                raise AlreadyCompletedError(f"Image {image_id} is already completed.")

    def commit_part(self, image_id: str, part_id: int, temp: Path, size: int, md5: str) -> None:
        """Move a fully received part into place, replacing an earlier upload of it.

        The per-image lock orders this against `complete` and `delete`: a part that arrives after
        either is discarded rather than silently changing a finished image.
        """
        with self._image_lock(image_id):
            try:
                self.check_writable(image_id)
            except StoreError:
                temp.unlink(missing_ok=True)
                raise
            target = self.part_path(image_id, part_id)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, target)
            with self._transaction() as db:
                db.execute(
                    "INSERT OR REPLACE INTO parts (image_id, part_id, size, md5)"
                    " VALUES (?, ?, ?, ?)",
                    (image_id, part_id, size, md5),
                )

    def complete(self, image_id: str, sha256: str, min_part_size: int) -> Image:
        """Assemble parts 1..N into the image file and mark it completed.

        Completing again with the same sha256 returns the image unchanged, so a client that lost
        the first response can retry; a different sha256 is Sha256MismatchError.
        """
        with self._image_lock(image_id):
            with self._lock:
                image = self._live(image_id)
                parts = self._db.execute(
                    "SELECT part_id, size, md5 FROM parts WHERE image_id = ? ORDER BY part_id",
                    (image_id,),
                ).fetchall()
            if image.status == "completed":
                if image.sha256 == sha256:
                    return image
                raise Sha256MismatchError(
                    f"Image {image_id} was already completed with a different sha256."
                )
            _check_parts([(p["part_id"], p["size"]) for p in parts], min_part_size)
            real_sha256, size = self._assemble(image_id, len(parts))
            multipart_md5 = hashlib.md5(
                b"".join(bytes.fromhex(p["md5"]) for p in parts), usedforsecurity=False
            )
            etag = f"{multipart_md5.hexdigest()}-{len(parts)}"
            with self._transaction() as db:
                db.execute(
                    "UPDATE images SET status = 'completed', sha256 = ?, real_sha256 = ?,"
                    " size = ?, etag = ? WHERE id = ?",
                    (sha256, real_sha256, size, etag, image_id),
                )
                completed = self._find(image_id)
            shutil.rmtree(self.parts_dir / image_id, ignore_errors=True)
        assert completed is not None
        return completed

    def _assemble(self, image_id: str, count: int) -> tuple[str, int]:
        """Concatenate the part files into the image file; return its sha256 and size."""
        temp = self.temp_path()
        parts = [self.part_path(image_id, part_id) for part_id in range(1, count + 1)]
        try:
            if count == 1:
                # A single part already is the image: link it instead of copying it.
                os.link(parts[0], temp)
                digest, size = _hash_files([temp])
            else:
                # The parts are hashed in a second thread while the kernel copies them: the hash
                # of the parts in order is the hash of the image, the image lock keeps the part
                # files from changing meanwhile, and the two together take little longer than
                # the hash alone.
                with ThreadPoolExecutor(1, thread_name_prefix="sfc-emulator-hash") as hasher:
                    hashing = hasher.submit(_hash_files, parts)
                    with temp.open("wb") as target:
                        copied = sum(_copy(part, target) for part in parts)
                    digest, size = hashing.result()
                if copied != size:
                    raise OSError(f"copied {copied} bytes of {image_id}'s {size}")
            os.replace(temp, self.image_path(image_id))
        finally:
            temp.unlink(missing_ok=True)
        return digest, size

    def delete(self, image_id: str) -> Image:
        """Soft-delete a live image and remove its bytes."""
        with self._image_lock(image_id):
            with self._transaction() as db:
                image = self._live(image_id)
                db.execute("UPDATE images SET deleted = 1 WHERE id = ?", (image_id,))
            shutil.rmtree(self.parts_dir / image_id, ignore_errors=True)
            self.image_path(image_id).unlink(missing_ok=True)
        return image

    def completed_image(self, image_id: str) -> Image:
        """A live, completed image (for downloads)."""
        with self._lock:
            image = self._live(image_id)
        if image.status != "completed":
            raise NotCompletedError(f"Image {image_id} has not been completed yet.")
        return image

    def page(self, query: ListQuery) -> Page:
        """One page of images, newest first (created_at, then insertion order, descending)."""
        with self._lock:
            conditions: list[str] = []
            params: list[object] = []
            if not query.include_deleted:
                conditions.append("deleted = 0")
            backward = query.ending_before is not None
            anchor_seq = query.ending_before if backward else query.starting_after
            if anchor_seq is not None:
                field = "ending_before" if backward else "starting_after"
                anchor = self._db.execute(
                    "SELECT created_at, seq FROM images WHERE seq = ?", (anchor_seq,)
                ).fetchone()
                if anchor is None:
                    raise UnknownCursorError(field)
                conditions.append(f"(created_at, seq) {'>' if backward else '<'} (?, ?)")
                params += [anchor["created_at"], anchor["seq"]]
            where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
            order = "ASC" if backward else "DESC"
            rows = self._db.execute(
                f"{_SELECT_IMAGES} {where} ORDER BY created_at {order}, seq {order} LIMIT ?",
                (*params, query.limit + 1),
            ).fetchall()
        images = [_image(row) for row in rows[: query.limit]]
        if backward:
            images.reverse()
        return Page(images, len(rows) > query.limit)

    # Introspection for tests

    def exists(self, image_id: str) -> bool:
        """Whether the image was ever created (deleted ones included)."""
        with self._lock:
            return self._find(image_id) is not None

    def real_sha256(self, image_id: str) -> str | None:
        with self._lock:
            image = self._find(image_id)
        return None if image is None else image.real_sha256

    def part_count(self, image_id: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM parts WHERE image_id = ?", (image_id,)
            ).fetchone()
        return int(row[0])

    def reset(self) -> None:
        """Forget every image and remove all bytes (the signing key stays)."""
        with self._transaction() as db:
            db.execute("DELETE FROM images")
            db.execute("DELETE FROM parts")
            for directory in (self.parts_dir, self.images_dir):
                shutil.rmtree(directory, ignore_errors=True)
                directory.mkdir()


def _copy(source: Path, target: BinaryIO) -> int:
    """Append the file at ``source`` to ``target``; return the bytes copied."""
    copied = 0
    with source.open("rb") as reading:
        if _copy_file_range is not None:
            # In the kernel: the bytes never pass through Python. Some file systems refuse it;
            # those fall back to read and write.
            target.flush()
            try:
                while n := _copy_file_range(reading.fileno(), target.fileno(), _COPY_STEP):
                    copied += n
            except OSError:
                if copied:
                    raise
            else:
                return copied
        while data := reading.read(CHUNK):
            target.write(data)
            copied += len(data)
    return copied


def _hash_files(paths: list[Path]) -> tuple[str, int]:
    """The sha256 and size of the files at ``paths``, one after the other."""
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    size = 0
    for path in paths:
        with path.open("rb") as source:
            while n := source.readinto(buffer):
                digest.update(view[:n])
                size += n
    return digest.hexdigest(), size


def _check_parts(parts: list[tuple[int, int]], min_part_size: int) -> None:
    """Multipart rules: parts 1..N without gaps, every part but the last ≥ min_part_size."""
    if not parts:
        raise InvalidPartsError("No parts have been uploaded for this image.")
    for expected, (part_id, _) in enumerate(parts, start=1):
        if part_id != expected:
            raise InvalidPartsError(
                f"Parts must be numbered 1..N without gaps; part {expected} is missing."
            )
    for part_id, size in parts[:-1]:
        if size < min_part_size:
            raise InvalidPartsError(
                f"Part {part_id} is {size} bytes; every part except the last must be at least"
                f" {min_part_size} bytes."
            )
