"""The blocking shell for transfers: performs the effects of ``_transfer`` with threads.

``drive_sync`` steps a transfer generator and performs what it yields. ``RunPool`` starts one
thread per worker; the calling thread stays the coordinator: it reports progress, saves
checkpoints and is where ``KeyboardInterrupt`` arrives (and where a ``progress`` callback runs, so
an exception raised there lands in the caller's thread). On any exception the coordinator aborts
the pool, gives the workers a moment to stop, saves a last checkpoint and re-raises; workers
check the abort flag at every chunk and between retries, and are daemon threads, so a worker
stuck waiting for a server cannot keep the process alive.

Every chunk a worker reads or receives passes through the pool's ``HashSequencer`` under the one
pool lock (received bytes are hashed outside it, by the worker holding the sequencer's claim); a
worker ahead of the hash cursor with the window full waits on the pool's condition, which is
notified whenever the cursor moves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any, TypeVar

import httpx

from sfc_core._config import SfcCore
from sfc_core._errors import FileChangedError, SfcError
from sfc_core._http import Sleep, Unreachable, classify
from sfc_core._transfer import (
    STORAGE_BODY_LIMIT,
    Aborted,
    ApiCall,
    Blocking,
    Coalescer,
    Coordinator,
    Effect,
    Get,
    GetReply,
    LocalFailure,
    Pool,
    Put,
    Read,
    RunPool,
    Steps,
    StorageAnswer,
    Streamed,
    local_file_error,
)
from sfc_core._transfer_storage import Accept, classify_get, get_request, put_request

T = TypeVar("T")

_INTERRUPT_GRACE = 2.0
"""Seconds the coordinator waits for workers to stop after an interrupt before re-raising."""
_WAKE_INTERVAL = 0.25


class _LocalError(Exception):
    """Carries a local-file error value out of a request body generator."""

    def __init__(self, error: SfcError) -> None:
        super().__init__(str(error))
        self.error = error


def drive_sync(core: SfcCore, steps: Steps[T], shell: SyncPoolShell | None = None) -> T:
    """Run a transfer step generator with blocking I/O. Pool effects (``Put``, ``Read``,
    ``Get``) need the ``shell`` of the worker running them."""
    reply: Any = None
    try:
        while True:
            try:
                effect = steps.send(reply)
            except StopIteration as done:
                result: T = done.value
                return result
            reply = _perform(core, effect, shell)
    finally:
        steps.close()


def _perform(core: SfcCore, effect: Effect, shell: SyncPoolShell | None) -> Any:
    if isinstance(effect, ApiCall):
        return effect.sync()
    if isinstance(effect, Blocking):
        return effect.run()
    if isinstance(effect, RunPool):
        return run_pool_sync(core, effect)
    if isinstance(effect, Sleep):
        if shell is None:
            core.sleep(effect.seconds)
        else:
            shell.sleep(effect.seconds)
        return None
    if shell is None:
        raise TypeError(f"{type(effect).__name__} can only run inside a pool worker")
    if shell.pool.aborted:
        raise Aborted
    if isinstance(effect, Put):
        return shell.put(effect)
    if isinstance(effect, Read):
        return shell.read(effect)
    return shell.get(effect)


def _read_body(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size >= STORAGE_BODY_LIMIT:
            break
    return b"".join(chunks)[:STORAGE_BODY_LIMIT]


def _headers(response: httpx.Response) -> tuple[tuple[str, str], ...]:
    return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw)


class SyncPoolShell:
    """One pool's threads, its lock and the blocking I/O its workers do."""

    def __init__(self, core: SfcCore, pool: Pool[Any], timeout: float) -> None:
        self.core = core
        self.pool = pool
        self.timeout = timeout
        self.cond = threading.Condition()

    # --- the chunk path -------------------------------------------------------------------

    def _read_chunk(self, offset: int, length: int) -> bytes:
        try:
            data = self.pool.file.pread(length, offset)
        except OSError as exc:
            raise _LocalError(local_file_error("read", self.pool.file.path, exc)) from exc
        if len(data) != length:
            raise _LocalError(
                FileChangedError(
                    stage="read",
                    reason=f"{self.pool.file.path} ended at byte {offset + len(data)}, "
                    f"before the {offset + length} it had when the transfer started",
                )
            )
        return data

    def _chunks(self, offset: int, length: int) -> Iterator[tuple[int, bytes]]:
        end = offset + length
        while offset < end:
            if self.pool.aborted:
                raise Aborted
            size = min(self.pool.chunk_size, end - offset)
            yield offset, self._read_chunk(offset, size)
            offset += size

    def offer(self, offset: int, data: bytes) -> None:
        """Hand a chunk to the sequencer, waiting while it lies ahead of a full window."""
        sequencer = self.pool.sequencer
        with self.cond:
            before = sequencer.cursor
            while not sequencer.offer(offset, data):
                if self.pool.aborted:
                    raise Aborted
                self.cond.wait(_WAKE_INTERVAL)
            if sequencer.cursor != before:
                self.cond.notify_all()

    def offer_received(self, offset: int, data: bytes) -> None:
        """``offer`` for received bytes, hashed without the lock: the other workers keep
        receiving and writing meanwhile. Reads of the local file keep hashing under the lock,
        which holds them back to the pace of the hash and so keeps uploads' memory low."""
        sequencer = self.pool.sequencer
        with self.cond:
            while (claimed := sequencer.claim(offset, data)) is False:
                if self.pool.aborted:
                    raise Aborted
                self.cond.wait(_WAKE_INTERVAL)
        view = claimed if isinstance(claimed, memoryview) else None
        while view is not None:
            sequencer.update(view)
            with self.cond:
                view = sequencer.advance(view)
                self.cond.notify_all()

    def count(self, slot: int, value: int) -> None:
        with self.cond:
            if self.pool.meter.update(slot, value):
                self.cond.notify_all()

    def sleep(self, seconds: float) -> None:
        """Wait out a backoff. The default ``time.sleep`` is replaced by a wait on the pool's
        condition, so an aborted pool does not sit out a long backoff; an injected sleep (a
        test's fake clock) is called as it is."""
        if self.core.sleep is time.sleep:
            with self.cond:
                self.cond.wait_for(lambda: self.pool.aborted, timeout=seconds)
        else:
            self.core.sleep(seconds)
        if self.pool.aborted:
            raise Aborted

    # --- effects --------------------------------------------------------------------------

    def read(self, effect: Read) -> LocalFailure | None:
        try:
            for offset, data in self._chunks(effect.offset, effect.length):
                self.offer(offset, data)
        except _LocalError as exc:
            return LocalFailure(exc.error)
        return None

    def put(self, effect: Put) -> StorageAnswer | Unreachable | LocalFailure:
        def body() -> Iterator[bytes]:
            sent = 0
            for offset, data in self._chunks(effect.offset, effect.length):
                self.offer(offset, data)
                yield data
                sent += len(data)
                self.count(effect.slot, sent)

        request = put_request(
            effect.url,
            effect.length,
            body(),
            user_agent=self.core.user_agent,
            timeout=self.timeout,
        )
        try:
            response = self.core.http_client().send(
                request, stream=True, auth=None, follow_redirects=False
            )
            try:
                content = _read_body(response)
            finally:
                response.close()
        except httpx.RequestError as exc:
            return classify(exc)
        except _LocalError as exc:
            return LocalFailure(exc.error)
        return StorageAnswer(response.status_code, _headers(response), content)

    def get(self, effect: Get) -> GetReply:
        request = get_request(
            effect.url,
            effect.start,
            effect.end,
            effect.size,
            user_agent=self.core.user_agent,
            timeout=self.timeout,
        )
        try:
            response = self.core.http_client().send(
                request, stream=True, auth=None, follow_redirects=False
            )
        except httpx.RequestError as exc:
            return classify(exc)
        position = effect.start
        pending = Coalescer(self.pool.chunk_size)
        failure: Unreachable | None = None
        try:
            head = StorageAnswer(response.status_code, _headers(response))
            with self.cond:
                decision = classify_get(
                    head, start=effect.start, size=effect.size, etag=self.pool.etag
                )
                if isinstance(decision, Accept) and self.pool.etag is None:
                    self.pool.etag = head.header("etag")
            if decision is None:
                return StorageAnswer(head.status, head.headers, _read_body(response))
            if not isinstance(decision, Accept):
                return decision
            for chunk in response.iter_raw():
                if self.pool.aborted:
                    raise Aborted
                ready = pending.add(chunk[: effect.end - position - pending.size])
                if ready:
                    position = self._store(effect, position, ready)
                if position + pending.size >= effect.end:
                    break
        except httpx.RequestError as exc:
            failure = classify(exc)
        except OSError as exc:
            return LocalFailure(local_file_error("write", self.pool.file.path, exc))
        finally:
            response.close()
        try:
            # What arrived before the connection failed is kept: the retry starts after it.
            rest = pending.take()
            if rest:
                position = self._store(effect, position, rest)
        except OSError as exc:
            return LocalFailure(local_file_error("write", self.pool.file.path, exc))
        return Streamed(position, failure)

    def _store(self, effect: Get, position: int, data: bytes) -> int:
        """Write received bytes at ``position``, hash them in order and count them."""
        self.pool.file.pwrite(data, position)
        self.offer_received(position, data)
        position += len(data)
        self.count(effect.slot, position - effect.slot)
        return position

    # --- the threads ----------------------------------------------------------------------

    def work(self) -> None:
        """A worker thread: take tasks until there are none or the pool is aborted."""
        pool = self.pool
        while True:
            with self.cond:
                task = pool.take()
            if task is None:
                return
            result = None
            try:
                result = drive_sync(self.core, pool.worker(task), self)
            except Aborted:
                pass
            except BaseException as exc:  # noqa: BLE001 - re-raised by the coordinating thread
                with self.cond:
                    pool.abort(crash=exc)
            finally:
                with self.cond:
                    pool.finish(task, result)
                    self.cond.notify_all()


def run_pool_sync(core: SfcCore, effect: RunPool) -> SfcError | None:
    """Run a pool with one thread per worker; see the module docstring."""
    pool = effect.pool
    shell = SyncPoolShell(core, pool, effect.timeout)
    threads = [
        threading.Thread(target=shell.work, name=f"sfc-transfer-{n}", daemon=True)
        for n in range(pool.concurrency)
    ]
    coordinator = Coordinator(core, effect)
    try:
        for thread in threads:
            thread.start()
        while True:
            with shell.cond:
                if pool.settled:
                    break
                shell.cond.wait(coordinator.wait(_WAKE_INTERVAL))
                report, snapshot = coordinator.due()
            # Saved before the progress callback runs: a callback that never returns (the
            # process is killed in it) must not cost the parts it was told about.
            if snapshot is not None and effect.checkpoint is not None:
                effect.checkpoint(snapshot)
            coordinator.report(report)
    except BaseException:
        with shell.cond:
            pool.abort()
            shell.cond.notify_all()
        stop_by = time.monotonic() + _INTERRUPT_GRACE
        for thread in threads:
            thread.join(max(0.0, stop_by - time.monotonic()))
        if effect.checkpoint is not None:
            with shell.cond:
                snapshot = pool.snapshot()
            effect.checkpoint(snapshot)
        raise
    for thread in threads:
        thread.join()
    with shell.cond:
        report, snapshot = coordinator.due(final=True)
    if snapshot is not None and effect.checkpoint is not None:
        effect.checkpoint(snapshot)
    if pool.crash is not None:
        raise pool.crash
    coordinator.report(report)
    return pool.failure
