"""The asyncio shell for transfers: performs the effects of ``_transfer`` with tasks.

``drive_async`` steps a transfer generator and performs what it yields. ``RunPool`` starts one
task per worker; the calling task stays the coordinator: it reports progress and saves
checkpoints. When a worker fails for good, the coordinator cancels the others, which stops them
at once (mid-request included). When the coordinator itself is cancelled, it cancels the
workers, waits for them, saves a last checkpoint and lets ``CancelledError`` propagate.

File reads and writes, and the small blocking ``Blocking`` effects, run in worker threads so the
event loop never waits on the disk; hashing runs on the loop, a chunk at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
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

_WAKE_INTERVAL = 0.25


class _LocalError(Exception):
    """Carries a local-file error value out of a request body generator."""

    def __init__(self, error: SfcError) -> None:
        super().__init__(str(error))
        self.error = error


async def drive_async(core: SfcCore, steps: Steps[T], shell: AsyncPoolShell | None = None) -> T:
    """Run a transfer step generator on the running event loop. Pool effects (``Put``,
    ``Read``, ``Get``) need the ``shell`` of the worker running them."""
    reply: Any = None
    try:
        while True:
            try:
                effect = steps.send(reply)
            except StopIteration as done:
                result: T = done.value
                return result
            reply = await _perform(core, effect, shell)
    finally:
        steps.close()


async def _perform(core: SfcCore, effect: Effect, shell: AsyncPoolShell | None) -> Any:
    if isinstance(effect, ApiCall):
        return await effect.async_()
    if isinstance(effect, Blocking):
        return await asyncio.to_thread(effect.run)
    if isinstance(effect, RunPool):
        return await run_pool_async(core, effect)
    if isinstance(effect, Sleep):
        await core.async_sleep(effect.seconds)
        return None
    if shell is None:
        raise TypeError(f"{type(effect).__name__} can only run inside a pool worker")
    if shell.pool.aborted:
        raise Aborted
    if isinstance(effect, Put):
        return await shell.put(effect)
    if isinstance(effect, Read):
        return await shell.read(effect)
    return await shell.get(effect)


async def _read_body(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size >= STORAGE_BODY_LIMIT:
            break
    return b"".join(chunks)[:STORAGE_BODY_LIMIT]


def _headers(response: httpx.Response) -> tuple[tuple[str, str], ...]:
    return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw)


class AsyncPoolShell:
    """One pool's tasks, its condition and the I/O its workers do."""

    def __init__(self, core: SfcCore, pool: Pool[Any], timeout: float) -> None:
        self.core = core
        self.pool = pool
        self.timeout = timeout
        self.cond = asyncio.Condition()
        self.changed = asyncio.Event()

    # --- the chunk path -------------------------------------------------------------------

    async def _read_chunk(self, offset: int, length: int) -> bytes:
        try:
            data = await asyncio.to_thread(self.pool.file.pread, length, offset)
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

    async def _chunks(self, offset: int, length: int) -> AsyncIterator[tuple[int, bytes]]:
        end = offset + length
        while offset < end:
            if self.pool.aborted:
                raise Aborted
            size = min(self.pool.chunk_size, end - offset)
            yield offset, await self._read_chunk(offset, size)
            offset += size

    async def offer(self, offset: int, data: bytes) -> None:
        """Hand a chunk to the sequencer, waiting while it lies ahead of a full window."""
        sequencer = self.pool.sequencer
        before = sequencer.cursor
        if not sequencer.offer(offset, data):
            async with self.cond:
                while not sequencer.offer(offset, data):
                    if self.pool.aborted:
                        raise Aborted
                    await self.cond.wait()
        if sequencer.cursor != before:
            async with self.cond:
                self.cond.notify_all()

    def count(self, slot: int, value: int) -> None:
        if self.pool.meter.update(slot, value):
            self.changed.set()

    # --- effects --------------------------------------------------------------------------

    async def read(self, effect: Read) -> LocalFailure | None:
        try:
            async for offset, data in self._chunks(effect.offset, effect.length):
                await self.offer(offset, data)
        except _LocalError as exc:
            return LocalFailure(exc.error)
        return None

    async def put(self, effect: Put) -> StorageAnswer | Unreachable | LocalFailure:
        async def body() -> AsyncIterator[bytes]:
            sent = 0
            async for offset, data in self._chunks(effect.offset, effect.length):
                await self.offer(offset, data)
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
            response = await self.core.async_http_client().send(
                request, stream=True, auth=None, follow_redirects=False
            )
            try:
                content = await _read_body(response)
            finally:
                await response.aclose()
        except httpx.RequestError as exc:
            return classify(exc)
        except _LocalError as exc:
            return LocalFailure(exc.error)
        return StorageAnswer(response.status_code, _headers(response), content)

    async def get(self, effect: Get) -> GetReply:
        request = get_request(
            effect.url,
            effect.start,
            effect.end,
            effect.size,
            user_agent=self.core.user_agent,
            timeout=self.timeout,
        )
        try:
            response = await self.core.async_http_client().send(
                request, stream=True, auth=None, follow_redirects=False
            )
        except httpx.RequestError as exc:
            return classify(exc)
        position = effect.start
        pending = Coalescer(self.pool.chunk_size)
        failure: Unreachable | None = None
        try:
            head = StorageAnswer(response.status_code, _headers(response))
            decision = classify_get(head, start=effect.start, size=effect.size, etag=self.pool.etag)
            if decision is None:
                return StorageAnswer(head.status, head.headers, await _read_body(response))
            if not isinstance(decision, Accept):
                return decision
            if self.pool.etag is None:
                self.pool.etag = head.header("etag")
            async for chunk in response.aiter_raw():
                if self.pool.aborted:
                    raise Aborted
                ready = pending.add(chunk[: effect.end - position - pending.size])
                if ready:
                    position = await self._store(effect, position, ready)
                if position + pending.size >= effect.end:
                    break
        except httpx.RequestError as exc:
            failure = classify(exc)
        except OSError as exc:
            return LocalFailure(local_file_error("write", self.pool.file.path, exc))
        finally:
            await response.aclose()
        try:
            # What arrived before the connection failed is kept: the retry starts after it.
            rest = pending.take()
            if rest:
                position = await self._store(effect, position, rest)
        except OSError as exc:
            return LocalFailure(local_file_error("write", self.pool.file.path, exc))
        return Streamed(position, failure)

    async def _store(self, effect: Get, position: int, data: bytes) -> int:
        """Write received bytes at ``position``, hash them in order and count them."""
        await asyncio.to_thread(self.pool.file.pwrite, data, position)
        await self.offer(position, data)
        position += len(data)
        self.count(effect.slot, position - effect.slot)
        return position

    # --- the tasks ------------------------------------------------------------------------

    async def work(self) -> None:
        """A worker task: take tasks until there are none or the pool is aborted."""
        pool = self.pool
        while (task := pool.take()) is not None:
            result = None
            try:
                result = await drive_async(self.core, pool.worker(task), self)
            except Aborted:
                pass
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                pool.abort(crash=exc)
                raise
            finally:
                pool.finish(task, result)
                self.changed.set()


async def _stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def run_pool_async(core: SfcCore, effect: RunPool) -> SfcError | None:
    """Run a pool with one task per worker; see the module docstring."""
    pool = effect.pool
    shell = AsyncPoolShell(core, pool, effect.timeout)
    coordinator = Coordinator(core, effect)
    tasks = [asyncio.create_task(shell.work()) for _ in range(pool.concurrency)]
    try:
        while not pool.settled:
            try:
                async with asyncio.timeout(coordinator.wait(_WAKE_INTERVAL)):
                    await shell.changed.wait()
            except TimeoutError:
                pass
            shell.changed.clear()
            if pool.aborted:
                await _stop(tasks)
            report, snapshot = coordinator.due()
            # Saved before the progress callback runs; see the sync shell.
            if snapshot is not None and effect.checkpoint is not None:
                await asyncio.to_thread(effect.checkpoint, snapshot)
            coordinator.report(report)
    except BaseException:
        pool.abort()
        await _stop(tasks)
        if effect.checkpoint is not None:
            await asyncio.to_thread(effect.checkpoint, pool.snapshot())
        raise
    await asyncio.gather(*tasks, return_exceptions=True)
    report, snapshot = coordinator.due(final=True)
    if snapshot is not None and effect.checkpoint is not None:
        await asyncio.to_thread(effect.checkpoint, snapshot)
    if pool.crash is not None:
        raise pool.crash
    coordinator.report(report)
    return pool.failure
