"""Small JSON records that let an interrupted transfer carry on where it stopped.

An *upload record* lives in the state directory (see ``state_dir``), one file per (server, query,
file path, image name), and says which image the upload goes to, the part size and which parts
the store has acknowledged. Before the image exists, the same file holds an *upload intent*: the
upload is about to ask for an image, and when; should that answer be lost, the intent is what lets
a rerun recognise the image the lost call created. A *download record* sits beside the partial
file and says which image version the partial's bytes belong to and how many of them are known to
be in order. A sibling ``.lock`` file, held with ``flock`` while an upload runs, keeps two uploads
of the same file to the same name from driving one image.

Encoding and decoding are pure; a record that does not decode (an older format, a truncated file,
hand edits) reads as "no record", which only costs a fresh start. Writes go to a temporary file
that is flushed and renamed over the old record, so a crash leaves the old record or the new one,
never half of one.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import evolve, frozen

from sfc_core import _json

RECORD_VERSION = 1
STATE_DIR_ENV = "SFC_STATE_DIR"
APP_DIR = "sfc-images"


def state_dir(env: Mapping[str, str], home: Path | None) -> Path | None:
    """Where upload records live: ``$SFC_STATE_DIR`` if set, else
    ``$XDG_CACHE_HOME/sfc-images/uploads``, else ``~/.cache/sfc-images/uploads``; ``None``
    when there is no home directory either.

    >>> state_dir({"XDG_CACHE_HOME": "/c"}, Path("/h")).as_posix()
    '/c/sfc-images/uploads'
    >>> state_dir({}, Path("/h")).as_posix()
    '/h/.cache/sfc-images/uploads'
    """
    explicit = env.get(STATE_DIR_ENV)
    if explicit:
        return Path(explicit)
    cache = env.get("XDG_CACHE_HOME")
    # The XDG spec says a relative value is invalid and must be ignored.
    if cache and Path(cache).is_absolute():
        return Path(cache) / APP_DIR / "uploads"
    if home is None:
        return None
    return home / ".cache" / APP_DIR / "uploads"


@frozen
class FileIdentity:
    """What must stay the same for a file to count as unchanged."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, stat: os.stat_result) -> FileIdentity:
        return cls(stat.st_size, stat.st_mtime_ns)


def _ints(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@frozen(kw_only=True)
class UploadRecord:
    """An upload in progress.

    Attributes:
        server_url: the API the image lives on.
        path: the source file, absolute.
        name: the image name.
        identity: the file's size and modification time when the upload started.
        image_id: the image the parts go to.
        part_size: bytes per part; a resumed upload keeps it.
        done: parts the store has acknowledged.
        sha256: the whole file's hash, written just before completing; lets a rerun recognise
            an upload that completed but whose answer was lost.
    """

    server_url: str
    path: str
    name: str
    identity: FileIdentity
    image_id: str
    part_size: int
    done: frozenset[int] = frozenset()
    sha256: str | None = None

    def with_done(self, parts: frozenset[int]) -> UploadRecord:
        return evolve(self, done=parts)

    def to_json(self) -> bytes:
        return _json.dumps(
            {
                "version": RECORD_VERSION,
                "kind": "upload",
                "server_url": self.server_url,
                "path": self.path,
                "name": self.name,
                "size": self.identity.size,
                "mtime_ns": self.identity.mtime_ns,
                "image_id": self.image_id,
                "part_size": self.part_size,
                "done": sorted(self.done),
                "sha256": self.sha256,
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> UploadRecord | None:
        """The record in ``data``, or ``None`` if it is not one this version wrote."""
        raw = _decode(data, "upload")
        if raw is None:
            return None
        strings = ("server_url", "path", "name", "image_id")
        if not all(isinstance(raw.get(k), str) for k in strings):
            return None
        if not all(_ints(raw.get(k)) for k in ("size", "mtime_ns", "part_size")):
            return None
        done = raw.get("done")
        if not isinstance(done, list) or not all(_ints(p) and p >= 1 for p in done):
            return None
        sha256 = raw.get("sha256")
        if sha256 is not None and not isinstance(sha256, str):
            return None
        if raw["part_size"] < 1:
            return None
        return cls(
            server_url=raw["server_url"],
            path=raw["path"],
            name=raw["name"],
            identity=FileIdentity(raw["size"], raw["mtime_ns"]),
            image_id=raw["image_id"],
            part_size=raw["part_size"],
            done=frozenset(done),
            sha256=sha256,
        )


@frozen(kw_only=True)
class UploadIntent:
    """An upload about to ask for its image (or that asked and never saw the answer).

    Attributes:
        server_url: the API the image is to live on.
        path: the source file, absolute.
        name: the image name.
        identity: the file's size and modification time.
        since: the client's wall clock (epoch seconds) just before the image was asked for;
            an image of that name created before it cannot be this upload's.
    """

    server_url: str
    path: str
    name: str
    identity: FileIdentity
    since: float

    def to_json(self) -> bytes:
        return _json.dumps(
            {
                "version": RECORD_VERSION,
                "kind": "upload-intent",
                "server_url": self.server_url,
                "path": self.path,
                "name": self.name,
                "size": self.identity.size,
                "mtime_ns": self.identity.mtime_ns,
                "since": self.since,
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> UploadIntent | None:
        """The intent in ``data``, or ``None`` if it is not one this version wrote."""
        raw = _decode(data, "upload-intent")
        if raw is None:
            return None
        if not all(isinstance(raw.get(k), str) for k in ("server_url", "path", "name")):
            return None
        if not all(_ints(raw.get(k)) for k in ("size", "mtime_ns")):
            return None
        since = raw.get("since")
        if not isinstance(since, (int, float)) or isinstance(since, bool):
            return None
        return cls(
            server_url=raw["server_url"],
            path=raw["path"],
            name=raw["name"],
            identity=FileIdentity(raw["size"], raw["mtime_ns"]),
            since=float(since),
        )


@frozen(kw_only=True)
class DownloadRecord:
    """What a partial download file holds.

    Attributes:
        image_id: the image being downloaded.
        sha256: the hash the finished file must have.
        size: the size the finished file must have.
        etag: the store's ETag for the object, once a response showed one.
        prefix: bytes from the start of the partial file known to be written in order; ``None``
            when the file was only ever appended to, so its whole length counts.
    """

    image_id: str
    sha256: str
    size: int
    etag: str | None = None
    prefix: int | None = None

    def same_object(self, image_id: str, sha256: str, size: int) -> bool:
        return (self.image_id, self.sha256, self.size) == (image_id, sha256, size)

    def to_json(self) -> bytes:
        return _json.dumps(
            {
                "version": RECORD_VERSION,
                "kind": "download",
                "image_id": self.image_id,
                "sha256": self.sha256,
                "size": self.size,
                "etag": self.etag,
                "prefix": self.prefix,
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> DownloadRecord | None:
        """The record in ``data``, or ``None`` if it is not one this version wrote."""
        raw = _decode(data, "download")
        if raw is None:
            return None
        if not (isinstance(raw.get("image_id"), str) and isinstance(raw.get("sha256"), str)):
            return None
        size, etag, prefix = raw.get("size"), raw.get("etag"), raw.get("prefix")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            return None
        if etag is not None and not isinstance(etag, str):
            return None
        if prefix is not None and not (_ints(prefix) and prefix >= 0):
            return None
        return cls(
            image_id=raw["image_id"], sha256=raw["sha256"], size=size, etag=etag, prefix=prefix
        )


def _decode(data: bytes, kind: str) -> dict[str, Any] | None:
    try:
        raw = _json.loads(data)
    except _json.DECODE_ERRORS:
        return None
    if not isinstance(raw, dict):
        return None
    if raw.get("version") != RECORD_VERSION or raw.get("kind") != kind:
        return None
    return raw


def upload_record_name(
    server_url: str, query: tuple[tuple[str, str], ...], path: str, name: str
) -> str:
    """The file name of the record for uploading ``path`` as ``name`` to this API.

    A hash keeps it short and free of path separators; the query is part of it because a
    workspace parameter selects a different set of images on the same server."""
    key = _json.dumps([server_url, [list(pair) for pair in query], path, name])
    return hashlib.sha256(key).hexdigest()[:32] + ".json"


# --- file I/O (small and blocking; the async shells run it in a worker thread) ----------------


def read_record(path: Path) -> bytes | None:
    """The bytes of the record at ``path``, or ``None`` if it cannot be read."""
    try:
        with path.open("rb") as handle:
            return handle.read(1024 * 1024)
    except OSError:
        return None


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: written to a temporary file, flushed, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with temp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def remove_record(path: Path) -> None:
    """Delete the record at ``path`` if there is one."""
    path.unlink(missing_ok=True)


def acquire_lock(path: Path) -> int | None:
    """Take an exclusive, non-blocking lock on ``path`` (created if need be).

    Returns the open descriptor that holds the lock (pass it to ``release_lock``), or ``None``
    when another process, or another open of the file in this one, holds it. Where the file
    system cannot lock, the descriptor is returned unlocked. Raises ``OSError`` when the file
    cannot be created.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        if sys.platform == "win32":  # pragma: no cover - the SDK runs on Linux; no flock there
            return fd
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except OSError:
            return fd
        # The holder before us may have removed the file between our open and our lock; a
        # lock on that unlinked file would guard nothing, so lock whatever is there now.
        try:
            current = os.stat(path)
        except FileNotFoundError:
            os.close(fd)
            continue
        if os.path.samestat(os.fstat(fd), current):
            return fd
        os.close(fd)


def release_lock(path: Path, fd: int) -> None:
    """Remove the lock file and let the lock go; removing it first, while still holding it, means
    no one can lock the old file after we let go (see ``acquire_lock``)."""
    try:
        path.unlink(missing_ok=True)
    finally:
        os.close(fd)
