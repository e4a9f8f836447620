"""Whole-file transfers: settings, the effects their step generators yield, and the worker pool's
shared bookkeeping. Nothing here does I/O.

Theory of operation. An upload or download is written once, as generators that yield *effects*
(call the API, sleep, stream a byte range to or from a URL, run a small blocking file operation,
run a pool of workers) and receive their results. ``_transfer_sync`` performs the effects with
threads and blocking calls, ``_transfer_async`` with tasks on the running event loop; that is the
only place the two differ.

A ``Pool`` holds what the workers of one transfer share: the queue of tasks (upload parts, byte
ranges to hash or to fetch), the ``HashSequencer`` that hashes the file in order, the
``ProgressMeter``, and whether the transfer was aborted. Workers take tasks in file order, so a
new task starts as soon as any worker is free, and the lowest unfinished byte range always has a
worker (which is what keeps the sequencer from deadlocking). The first failure aborts the pool:
the other workers stop at their next chunk or step. The pool itself does no locking: the sync
shell calls it under one lock, the async shell only from the event loop.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Generator, Iterable
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

from attrs import field, frozen
from returns.pipeline import is_successful
from returns.result import Result

from sfc_core._config import SfcCore
from sfc_core._errors import LocalFileError, SfcError
from sfc_core._http import Sleep, Unreachable
from sfc_core._transfer_hash import HashSequencer
from sfc_core._transfer_plan import MIN_PART_SIZE, KiB, MiB
from sfc_core._transfer_progress import ProgressMeter

T = TypeVar("T")
TaskT = TypeVar("TaskT")

ProgressCallback = Callable[[int, int], object]
"""``progress(done_bytes, total_bytes)``; its return value is ignored."""

DEFAULT_CHUNK_SIZE = MiB
DEFAULT_HASH_WINDOW = 48 * MiB
MAX_CONCURRENCY = 64
STORAGE_BODY_LIMIT = 64 * KiB
"""How much of a storage error body is kept: enough for an XML error, not a misdirected file."""


def _positive_int(name: str) -> Callable[[object, object, int], None]:
    def check(_instance: object, _attribute: object, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")

    return check


def _optional_path(value: str | os.PathLike[str] | None) -> Path | None:
    return None if value is None else Path(value)


@frozen(kw_only=True)
class TransferConfig:
    """Tuning and test knobs for ``images_upload_file`` and ``images_download_file``.

    The defaults suit the real API; most callers never pass one.

    Attributes:
        state_dir: where upload resume records are kept; ``None`` for ``$SFC_STATE_DIR``, else
            ``$XDG_CACHE_HOME/sfc-images/uploads``, else ``~/.cache/sfc-images/uploads``.
        resume: ``False`` neither reads nor writes resume records (nor resumes partial
            downloads).
        min_part_size: the smallest part size accepted. Object stores need 5 MiB; lower it only
            for an emulator configured with a lower minimum.
        chunk_size: bytes read from, or written to, the local file per step; bounds the memory
            each worker uses.
        hash_window: most bytes held in memory ahead of the in-order hash before workers that
            are ahead wait for it.
        segment_size: bytes per ranged download request; ``None`` sizes segments so that the
            workers ahead of the hash fit in ``hash_window``.
        checkpoint_interval: seconds between saves of a parallel download's progress record.
    """

    state_dir: Path | None = field(default=None, converter=_optional_path)
    resume: bool = True
    min_part_size: int = field(default=MIN_PART_SIZE, validator=_positive_int("min_part_size"))
    chunk_size: int = field(default=DEFAULT_CHUNK_SIZE, validator=_positive_int("chunk_size"))
    hash_window: int = field(default=DEFAULT_HASH_WINDOW, validator=_positive_int("hash_window"))
    segment_size: int | None = None
    checkpoint_interval: float = 1.0

    def __attrs_post_init__(self) -> None:
        if self.segment_size is not None:
            _positive_int("segment_size")(self, None, self.segment_size)
        if self.checkpoint_interval <= 0:
            raise ValueError("checkpoint_interval must be positive")

    def download_segment_size(self, concurrency: int) -> int:
        """Bytes per ranged request: with ``concurrency`` workers, the ones ahead of the hash
        cursor can each finish a segment without outgrowing ``hash_window``."""
        if self.segment_size is not None:
            return self.segment_size
        ahead = max(1, concurrency - 1)
        size = self.hash_window // ahead // MiB * MiB
        return min(max(size, MiB), 64 * MiB)


# --- effects --------------------------------------------------------------------------------


@frozen
class ApiCall:
    """Effect: call one API operation; reply: its ``Result``. The call is given in both forms,
    so that the same step generator runs under either driver."""

    sync: Callable[[], Any]
    async_: Callable[[], Awaitable[Any]]

    @classmethod
    def of(
        cls,
        sync: Callable[..., Any],
        async_: Callable[..., Awaitable[Any]],
        *args: Any,
        **kwargs: Any,
    ) -> ApiCall:
        """``sync(*args, **kwargs)`` or, under the async driver, ``async_(*args, **kwargs)``."""
        return cls(partial(sync, *args, **kwargs), partial(async_, *args, **kwargs))


@frozen
class Blocking:
    """Effect: run a short blocking local operation (stat, a small file write); reply: what it
    returns. The async driver runs it in a worker thread."""

    run: Callable[[], Any]


@frozen
class Put:
    """Effect: ``PUT`` bytes ``offset`` to ``offset + length`` of the pool's file to ``url``,
    offering each chunk to the hash sequencer and counting it under ``slot``.

    Reply: ``StorageAnswer``, ``Unreachable`` or ``LocalFailure``."""

    url: str = field(repr=False)
    offset: int
    length: int
    slot: int


@frozen
class Read:
    """Effect: read bytes ``offset`` to ``offset + length`` of the pool's file and offer them to
    the hash sequencer without sending them (parts uploaded before a resume, the existing bytes
    of a partial download). Reply: ``None`` or ``LocalFailure``."""

    offset: int
    length: int


@frozen
class Get:
    """Effect: ``GET`` bytes ``start`` to ``end`` of ``url`` into the pool's file at the same
    offsets, offering each chunk to the hash sequencer and counting it under ``slot``.

    ``size`` is the whole object's advertised size and ``etag`` the ETag seen so far, if any.
    Reply: ``Streamed``, ``StorageAnswer``, ``Unreachable``, ``Satisfied``, ``RangeIgnored``,
    ``Rejected`` or ``LocalFailure``."""

    url: str = field(repr=False)
    start: int
    end: int
    size: int
    slot: int


@frozen(eq=False)
class RunPool:
    """Effect: run ``pool`` to the end; reply: ``None`` when every task succeeded, else the
    first failure (an ``SfcError``).

    ``timeout`` bounds each storage attempt; ``progress`` is called from the coordinating
    thread or task; ``checkpoint`` is called (from there too) with a snapshot whenever a task
    has finished, every ``checkpoint_interval`` seconds while the hash cursor moves (if set),
    and once more when the pool stops for any reason. It must not raise for a failed write:
    a lost checkpoint only costs work on the next run."""

    pool: Pool[Any]
    timeout: float
    progress: ProgressCallback | None = None
    checkpoint: Callable[[PoolSnapshot[Any]], None] | None = None
    checkpoint_interval: float | None = None


Effect = ApiCall | Blocking | Sleep | Put | Read | Get | RunPool
Steps = Generator[Effect, Any, T]


# --- replies --------------------------------------------------------------------------------


@frozen
class StorageAnswer:
    """A storage response that was not streamed: its status, headers and the start of its body."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@frozen
class LocalFailure:
    """The local file could not be read or written, or it changed under us."""

    error: SfcError


@frozen
class Streamed:
    """A ranged ``GET`` delivered bytes up to ``position`` (absolute), then ended: cleanly, or
    with ``error`` when the connection failed part way."""

    position: int
    error: Unreachable | None = None


@frozen
class Satisfied:
    """416 with ``Content-Range: bytes */size``: there is nothing left to fetch."""


@frozen
class RangeIgnored:
    """The store answered a ranged request with the whole object (or a different object)."""

    reason: str


@frozen
class Rejected:
    """The answer cannot be used and retrying will not help."""

    error: SfcError


GetReply = (
    Streamed | StorageAnswer | Unreachable | Satisfied | RangeIgnored | Rejected | LocalFailure
)


class Aborted(Exception):  # noqa: N818 - a control-flow signal, not an error report
    """Raised inside a worker when its pool was aborted; never leaves the pool shells."""


class Coalescer:
    """Gathers small network reads into chunks of about ``limit`` bytes, so that each file
    write and sequencer offer moves a worthwhile amount."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._parts: list[bytes] = []
        self.size = 0

    def add(self, data: bytes) -> bytes | None:
        """Keep ``data``; a chunk to write once ``limit`` bytes have gathered."""
        if data:
            self._parts.append(data)
            self.size += len(data)
        return self.take() if self.size >= self.limit else None

    def take(self) -> bytes:
        """Everything gathered so far (possibly nothing)."""
        data = b"".join(self._parts)
        self._parts.clear()
        self.size = 0
        return data


# --- the shared local file ------------------------------------------------------------------


class SharedFile:
    """One file descriptor shared by the workers of a transfer, with positional reads and
    writes (no shared seek offset). ``close`` waits for nothing: the descriptor is closed once
    the last operation in flight has finished, so a worker thread that outlives its transfer
    can never read a recycled descriptor."""

    def __init__(self, fd: int, path: Path) -> None:
        self.path = path
        self._fd = fd
        self._lock = threading.Lock()
        self._users = 0
        self._closing = False

    def _enter(self) -> int:
        with self._lock:
            if self._closing:
                raise Aborted("the transfer's file was closed")
            self._users += 1
            return self._fd

    def _leave(self) -> None:
        with self._lock:
            self._users -= 1
            if self._closing and self._users == 0:
                os.close(self._fd)

    def pread(self, length: int, offset: int) -> bytes:
        fd = self._enter()
        try:
            return os.pread(fd, length, offset)
        finally:
            self._leave()

    def pwrite(self, data: bytes, offset: int) -> None:
        fd = self._enter()
        try:
            view = memoryview(data)
            while view:
                written = os.pwrite(fd, view, offset)
                view, offset = view[written:], offset + written
        finally:
            self._leave()

    def truncate(self, length: int) -> None:
        fd = self._enter()
        try:
            os.ftruncate(fd, length)
        finally:
            self._leave()

    def fsync(self) -> None:
        fd = self._enter()
        try:
            os.fsync(fd)
        finally:
            self._leave()

    def size(self) -> int:
        fd = self._enter()
        try:
            return os.fstat(fd).st_size
        finally:
            self._leave()

    def close(self) -> None:
        with self._lock:
            if self._closing:
                return
            self._closing = True
            if self._users == 0:
                os.close(self._fd)


def local_file_error(stage: str, path: Path, exc: OSError) -> LocalFileError:
    """A ``LocalFileError`` for ``exc``, naming the file and the OS's reason."""
    reason = exc.strerror or type(exc).__name__
    return LocalFileError(stage=stage, reason=f"{path}: {reason}")


# --- the pool -------------------------------------------------------------------------------


@frozen
class PoolSnapshot(Generic[TaskT]):
    """What a checkpoint sees: the tasks finished so far, the hash cursor and the storage ETag
    seen so far."""

    completed: tuple[TaskT, ...]
    cursor: int
    etag: str | None = None


class Pool(Generic[TaskT]):
    """What the workers of one transfer share; see the module docstring.

    Args:
        tasks: the work, in file order.
        worker: the step generator that does one task and returns its ``Result``.
        file: the local file.
        sequencer: the in-order hash.
        meter: the progress count.
        concurrency: most workers at once (fewer when there are fewer tasks).
        chunk_size: bytes per read or write.
        etag: the storage ETag the bytes must come from, when an earlier run saw one.
    """

    def __init__(
        self,
        *,
        tasks: Iterable[TaskT],
        worker: Callable[[TaskT], Steps[Result[None, SfcError]]],
        file: SharedFile,
        sequencer: HashSequencer,
        meter: ProgressMeter,
        concurrency: int,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        etag: str | None = None,
    ) -> None:
        self._tasks = deque(tasks)
        self.worker = worker
        self.file = file
        self.sequencer = sequencer
        self.meter = meter
        self.concurrency = max(1, min(concurrency, len(self._tasks)))
        self.chunk_size = chunk_size
        self.completed: list[TaskT] = []
        self.failure: SfcError | None = None
        self.crash: BaseException | None = None
        self.aborted = False
        self.running = 0
        self.dirty = False
        self.etag = etag

    def take(self) -> TaskT | None:
        """The next task, or ``None`` when there is none or the pool was aborted."""
        if self.aborted or not self._tasks:
            return None
        self.running += 1
        return self._tasks.popleft()

    def finish(self, task: TaskT, result: Result[None, SfcError] | None) -> None:
        """Record how ``task`` ended; ``None`` means it stopped because the pool was aborted."""
        self.running -= 1
        if result is None:
            return
        error = None if is_successful(result) else result.failure()
        if error is None:
            self.completed.append(task)
            self.dirty = True
        elif self.failure is None:
            self.failure = error
            self.aborted = True

    def abort(self, crash: BaseException | None = None) -> None:
        """Stop handing out tasks and tell running workers to stop."""
        self.aborted = True
        if crash is not None and self.crash is None:
            self.crash = crash

    @property
    def settled(self) -> bool:
        """No worker is running and none will start."""
        return self.running == 0 and (self.aborted or not self._tasks)

    def snapshot(self) -> PoolSnapshot[TaskT]:
        self.dirty = False
        return PoolSnapshot(tuple(self.completed), self.sequencer.cursor, self.etag)


class Coordinator:
    """Progress reports and checkpoints of a running pool, decided under the pool lock and
    performed outside it (a slow callback must not hold up the workers). Shared by both
    shells; holds no lock of its own."""

    def __init__(self, core: SfcCore, effect: RunPool) -> None:
        self.core = core
        self.effect = effect
        self.saved_at = core.clock()
        self.saved_cursor = effect.pool.sequencer.cursor

    def due(self, *, final: bool = False) -> tuple[int | None, PoolSnapshot[Any] | None]:
        """``(progress value or None, snapshot to save or None)``; call under the pool lock."""
        pool = self.effect.pool
        now = self.core.clock()
        report = pool.meter.due(now) if self.effect.progress is not None else None
        snapshot = None
        if self.effect.checkpoint is not None:
            interval = self.effect.checkpoint_interval
            moved = pool.sequencer.cursor != self.saved_cursor
            timely = interval is not None and moved and now - self.saved_at >= interval
            if pool.dirty or timely or (final and moved):
                snapshot = pool.snapshot()
                self.saved_at, self.saved_cursor = now, snapshot.cursor
        return report, snapshot

    def wait(self, longest: float) -> float:
        """Seconds to wait for the workers before checking again: ``longest`` unless a progress
        report falls due sooner (a wake-up for another reason must not push it back)."""
        if self.effect.progress is None:
            return longest
        return self.effect.pool.meter.wait(self.core.clock(), longest)

    def report(self, value: int | None) -> None:
        if value is not None and self.effect.progress is not None:
            self.effect.progress(value, self.effect.pool.meter.total)
