"""Download an image to a local file, verified and resumable: ``images_download_file``.

Theory of operation. ``images_download`` gives a presigned URL and the size and SHA-256 the bytes
must have. They are written to ``<dest>.sfc-partial`` beside ``dest`` and hashed in file order as
they arrive (through the same in-order hash sequencer as uploads, so memory stays bounded). When
every byte is there and both size and hash match, the file is flushed to disk and renamed to
``dest`` in one step; otherwise the partial file is deleted and an ``IntegrityError`` reports
expected and actual values. ``dest`` never holds bytes that were not verified, and an existing
``dest`` is only replaced with ``overwrite=True``, and only if it is a regular file: the rename
would otherwise put a file where a device, FIFO or socket was.

Large images are fetched as ranged segments by ``concurrency`` workers. A store or proxy that
ignores ``Range`` answers 200 with the whole object: that body is never appended to what is
there; the download starts over from byte 0 with one plain ``GET``. A connection that ends early
(with an error or cleanly) is retried with a ``Range`` from the first missing byte, with backoff;
a 403 saying the URL expired gets a fresh URL from ``images_download``.

Resume. Beside the partial file, ``<dest>.sfc-partial.json`` records which image, SHA-256, size
and storage ETag its bytes belong to, and how many of them are known to be in order. Running the
same download again reads (hashes) those bytes and fetches only the rest; a record for another
image version, or none, means starting from zero.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from functools import partial
from pathlib import Path

from attrs import define, evolve, frozen
from returns.pipeline import is_successful
from returns.result import Failure, Result, Success

from sfc_core import (
    ConflictError,
    ImageDownloadResponse,
    InputValidationError,
    IntegrityError,
    InternalServerError,
    LocalFileError,
    NotFoundError,
    RequestOptions,
    ResponseValidationError,
    Security,
    SfcConnectionError,
    SfcCore,
    SfcDefaultError,
    SfcError,
    SfcTimeoutError,
    TransferError,
    UnauthorizedError,
)
from sfc_core import _validation as validate
from sfc_core._http import CallSettings, Sleep, Unreachable, resolve_settings
from sfc_core._retry import FailureKind
from sfc_core._transfer import (
    MAX_CONCURRENCY,
    ApiCall,
    Blocking,
    Get,
    LocalFailure,
    Pool,
    PoolSnapshot,
    ProgressCallback,
    RangeIgnored,
    Read,
    Rejected,
    RunPool,
    SharedFile,
    Steps,
    StorageAnswer,
    Streamed,
    TransferConfig,
    local_file_error,
)
from sfc_core._transfer_async import drive_async
from sfc_core._transfer_hash import HashSequencer
from sfc_core._transfer_plan import plan_segments
from sfc_core._transfer_progress import ProgressMeter
from sfc_core._transfer_state import DownloadRecord, read_record, remove_record, write_atomic
from sfc_core._transfer_storage import (
    describe_reply,
    storage_error,
    storage_retry_delay,
    url_expired,
)
from sfc_core._transfer_sync import drive_sync
from sfc_funcs.images_download import images_download, images_download_async

__all__ = [
    "PARTIAL_SUFFIX",
    "RECORD_SUFFIX",
    "ImagesDownloadFileError",
    "TransferConfig",
    "images_download_file",
    "images_download_file_async",
]

logger = logging.getLogger("sfc")

PARTIAL_SUFFIX = ".sfc-partial"
"""Appended to ``dest``'s name for the file being downloaded."""
RECORD_SUFFIX = ".sfc-partial.json"
"""Appended to ``dest``'s name for the partial file's resume record."""

ImagesDownloadFileError = (
    UnauthorizedError
    | NotFoundError
    | ConflictError
    | InternalServerError
    | SfcDefaultError
    | ResponseValidationError
    | SfcConnectionError
    | SfcTimeoutError
    | InputValidationError
    | TransferError
    | IntegrityError
    | LocalFileError
)
"""Every error ``images_download_file`` can return: those of ``images_download`` as they are;
``TransferError`` when the bytes could not be fetched (the storage or API error is its
``cause``); ``IntegrityError`` when they do not match the advertised size or SHA-256;
``LocalFileError``; ``InputValidationError``."""

MAX_URL_RENEWALS = 8
_PREFIX_SLOT = -1


class _RangeIgnoredError(TransferError):
    """Internal: a ranged answer held other bytes than asked for; the download starts over."""


@frozen
class _Segment:
    """Bytes ``start`` to ``start + length``: to fetch, or (``fetch=False``) already in the
    partial file and only to be hashed."""

    start: int
    length: int
    fetch: bool = True


@define
class _Link:
    """The current download URL, shared by the workers; renewed in place when it expires."""

    url: str
    expires_at: int


@frozen(kw_only=True)
class _Download:
    """One call's arguments, checked."""

    core: SfcCore
    image_id: str
    dest: str | os.PathLike[str]
    concurrency: int
    progress: ProgressCallback | None
    overwrite: bool
    security: Security | None
    options: RequestOptions | None
    config: TransferConfig
    settings: CallSettings | None = None


@frozen(kw_only=True)
class _Partial:
    """The partial file, open, and what its resume record says."""

    target: Path
    path: Path
    record_path: Path
    file: SharedFile
    record: DownloadRecord
    resume_from: int


# --- local file helpers (blocking; run through Blocking effects) -------------------------


def _partial_paths(target: Path) -> tuple[Path, Path]:
    return (
        target.with_name(target.name + PARTIAL_SUFFIX),
        target.with_name(target.name + RECORD_SUFFIX),
    )


def _not_a_file(target: Path) -> LocalFileError | None:
    """Refuse a ``dest`` that exists and is not a regular file (a device such as /dev/null, a
    FIFO, a socket, a directory): the finished file is renamed over ``dest``, which would put a
    regular file where that node was. A symbolic link is judged by what it points to."""
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return local_file_error("download", target, exc)
    if stat.S_ISREG(info.st_mode):
        return None
    kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
    return LocalFileError(
        stage="download",
        reason=f"{target} is {kind}; only a regular file can be replaced by a download",
    )


def _check_dest(dest: str | os.PathLike[str], overwrite: bool) -> Result[Path, LocalFileError]:
    target = Path(dest).absolute()
    parent = target.parent
    try:
        if not parent.is_dir():
            missing = not os.path.lexists(parent)
            reason = f"{parent} does not exist" if missing else f"{parent} is not a directory"
            return Failure(LocalFileError(stage="download", reason=reason))
        os.lstat(target)
    except FileNotFoundError:
        return Success(target)
    except OSError as exc:
        return Failure(local_file_error("download", target, exc))
    refused = _not_a_file(target)
    if refused is not None:
        return Failure(refused)
    if not overwrite:
        return Failure(
            LocalFileError(
                stage="download",
                reason=f"{target} already exists; pass overwrite=True to replace it",
            )
        )
    return Success(target)


def _save_record(path: Path, record: DownloadRecord) -> None:
    """Write the record; a failure only costs resumability, so it is logged, not returned."""
    try:
        write_atomic(path, record.to_json())
    except OSError as exc:
        logger.warning("could not save download state to %s: %s", path, exc)


def _lock(fd: int) -> bool:
    """Take an exclusive lock on the partial file for as long as it is open; ``False`` if
    another download holds it. Where there are no locks, there is nothing to take."""
    if sys.platform == "win32":  # pragma: no cover - no flock there
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return True
    return True


def _open_partial(
    target: Path, image_id: str, info: ImageDownloadResponse, resume: bool
) -> Result[_Partial, LocalFileError]:
    """Open (or create) the partial file and decide how much of it to keep: the bytes a record
    for this very image version says are in order, else none. The file is cut to that length,
    so it never holds bytes past what it will be resumed from."""
    path, record_path = _partial_paths(target)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        return Failure(local_file_error("download", path, exc))
    if not _lock(fd):
        os.close(fd)
        return Failure(
            LocalFileError(stage="download", reason=f"another download into {target} is running")
        )
    record = None
    if resume:
        data = read_record(record_path)
        record = None if data is None else DownloadRecord.from_json(data)
    file = SharedFile(fd, path)
    try:
        length = file.size()
        keep = 0
        if record is not None and record.same_object(image_id, info.sha256, info.size):
            keep = min(length, info.size, length if record.prefix is None else record.prefix)
        else:
            record = DownloadRecord(image_id=image_id, sha256=info.sha256, size=info.size)
        file.truncate(keep)
        record = evolve(record, etag=record.etag if keep else None, prefix=None)
        if resume:
            write_atomic(record_path, record.to_json())
    except OSError as exc:
        file.close()
        return Failure(local_file_error("download", path, exc))
    return Success(
        _Partial(
            target=target,
            path=path,
            record_path=record_path,
            file=file,
            record=record,
            resume_from=keep,
        )
    )


def _start_over(partial_file: _Partial, resume: bool) -> Result[None, LocalFileError]:
    """Empty the partial file (its bytes came from an object the store no longer serves, or
    from a range request it did not honour)."""
    try:
        partial_file.file.truncate(0)
    except OSError as exc:
        return Failure(local_file_error("download", partial_file.path, exc))
    if resume:
        _save_record(partial_file.record_path, evolve(partial_file.record, etag=None, prefix=None))
    return Success(None)


def _discard(partial_file: _Partial) -> None:
    for path in (partial_file.path, partial_file.record_path):
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            logger.warning("could not remove %s: %s", path, exc)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _finish(partial_file: _Partial, overwrite: bool) -> Result[Path, LocalFileError]:
    """Flush the verified file and move it to ``dest`` in one step."""
    target = partial_file.target
    try:
        partial_file.file.fsync()
        # Checked again: something other than a file may have appeared there since the start.
        refused = _not_a_file(target)
        if refused is not None:
            return Failure(refused)
        if overwrite:
            os.replace(partial_file.path, target)
        else:
            try:
                # A hard link fails if ``dest`` appeared meanwhile, where a rename would
                # silently replace it.
                os.link(partial_file.path, target)
            except FileExistsError:
                return Failure(
                    LocalFileError(
                        stage="download",
                        reason=f"{target} already exists; pass overwrite=True to replace it",
                    )
                )
            except OSError:
                if os.path.lexists(target):
                    raise
                os.replace(partial_file.path, target)
            else:
                partial_file.path.unlink()
    except OSError as exc:
        return Failure(local_file_error("download", target, exc))
    _fsync_dir(target.parent)
    try:
        remove_record(partial_file.record_path)
    except OSError as exc:
        logger.warning("could not remove %s: %s", partial_file.record_path, exc)
    return Success(target)


def _checkpoint(partial_file: _Partial, in_order: bool, snapshot: PoolSnapshot[_Segment]) -> None:
    prefix = None if in_order else snapshot.cursor
    _save_record(
        partial_file.record_path, evolve(partial_file.record, etag=snapshot.etag, prefix=prefix)
    )


# --- pure decisions -------------------------------------------------------------------------


def _check_arguments(download: _Download) -> Result[_Download, InputValidationError]:
    dest: object = download.dest
    if not isinstance(dest, (str, os.PathLike)):
        return Failure(InputValidationError(field="dest", rule="must be a str or os.PathLike path"))
    return (
        validate.image_id(download.image_id)
        .bind(
            lambda _: validate.bounded_int(download.concurrency, "concurrency", 1, MAX_CONCURRENCY)
        )
        .bind(lambda _: validate.boolean(download.overwrite, "overwrite"))
        .bind(lambda _: resolve_settings(download.core, download.security, download.options))
        .map(lambda settings: evolve(download, settings=settings))
    )


@frozen(kw_only=True)
class _SegmentContext:
    download: _Download
    info: ImageDownloadResponse
    link: _Link


def _renew(ctx: _SegmentContext) -> Steps[SfcError | None]:
    """Fetch a fresh URL into ``ctx.link``; the error if that failed."""
    download = ctx.download
    got = yield ApiCall.of(
        images_download,
        images_download_async,
        download.core,
        download.image_id,
        security=download.security,
        options=download.options,
    )
    if not is_successful(got):
        error: SfcError = got.failure()
        return TransferError(stage="download", reason=f"no download URL: {error}", cause=error)
    fresh: ImageDownloadResponse = got.unwrap()
    if (fresh.sha256, fresh.size) != (ctx.info.sha256, ctx.info.size):
        return TransferError(
            stage="download",
            reason="the image changed during the download "
            f"(sha256 {ctx.info.sha256} -> {fresh.sha256}, size {ctx.info.size} -> {fresh.size})",
        )
    ctx.link.url, ctx.link.expires_at = fresh.url, fresh.expires_at
    return None


def _segment_steps(ctx: _SegmentContext, segment: _Segment) -> Steps[Result[None, SfcError]]:
    """Fetch (or, for bytes already on disk, only hash) one segment."""
    if not segment.fetch:
        failed = yield Read(segment.start, segment.length)
        if isinstance(failed, LocalFailure):
            return Failure(
                LocalFileError(stage="download", reason=f"reading the partial file: {failed.error}")
            )
        return Success(None)
    download, core, size = ctx.download, ctx.download.core, ctx.info.size
    assert download.settings is not None
    position, end = segment.start, segment.start + segment.length
    attempt = renewals = 0
    while position < end:
        if core.wall_clock() >= ctx.link.expires_at:
            error = yield from _renew(ctx)
            if error is not None:
                return Failure(error)
        attempt += 1
        url = ctx.link.url
        reply = yield Get(url, position, end, size, slot=segment.start)
        problem: StorageAnswer | Unreachable
        if isinstance(reply, Streamed):
            moved = reply.position - position
            position = reply.position
            if position >= end:
                break
            if moved >= min(download.config.chunk_size, end - position + moved):
                attempt = 1
            problem = reply.error or Unreachable(
                FailureKind.SENT, timed_out=False, reason="the connection closed early"
            )
            logger.debug("download interrupted at byte %d of %d: %s", position, size, problem)
        elif isinstance(reply, RangeIgnored):
            return Failure(_RangeIgnoredError(stage="download", reason=reply.reason))
        elif isinstance(reply, (Rejected, LocalFailure)):
            return Failure(reply.error)
        elif isinstance(reply, (StorageAnswer, Unreachable)):
            problem = reply
        else:  # Satisfied: nothing left past ``position``
            break
        now = core.wall_clock()
        if isinstance(problem, StorageAnswer) and url_expired(problem, ctx.link.expires_at, now):
            renewals += 1
            if renewals > MAX_URL_RENEWALS:
                return Failure(
                    TransferError(
                        stage="download",
                        reason=f"the download URL expired {renewals} times",
                        cause=storage_error("GET", url, problem),
                    )
                )
            attempt -= 1
            error = yield from _renew(ctx)
            if error is not None:
                return Failure(error)
            continue
        delay = storage_retry_delay(
            download.settings.retry, attempt, problem, now_epoch=now, rand=core.random()
        )
        if delay is None:
            return Failure(
                TransferError(
                    stage="download",
                    reason=f"{describe_reply(problem)} at byte {position} of {size} "
                    f"(attempt {attempt}, no retries left)",
                    cause=storage_error("GET", url, problem),
                )
            )
        yield Sleep(delay)
    return Success(None)


# --- the steps ------------------------------------------------------------------------------


def _download_steps(download: _Download) -> Steps[Result[Path, ImagesDownloadFileError]]:
    checked = _check_arguments(download)
    if not is_successful(checked):
        return Failure(checked.failure())
    download = checked.unwrap()
    target_checked: Result[Path, LocalFileError] = yield Blocking(
        partial(_check_dest, download.dest, download.overwrite)
    )
    if not is_successful(target_checked):
        return Failure(target_checked.failure())
    got = yield ApiCall.of(
        images_download,
        images_download_async,
        download.core,
        download.image_id,
        security=download.security,
        options=download.options,
    )
    if not is_successful(got):
        return Failure(got.failure())
    info: ImageDownloadResponse = got.unwrap()
    opened: Result[_Partial, LocalFileError] = yield Blocking(
        partial(
            _open_partial,
            target_checked.unwrap(),
            download.image_id,
            info,
            download.config.resume,
        )
    )
    if not is_successful(opened):
        return Failure(opened.failure())
    partial_file = opened.unwrap()
    try:
        result: Result[Path, ImagesDownloadFileError] = yield from _download_into(
            download, info, partial_file
        )
        return result
    finally:
        partial_file.file.close()


def _download_into(
    download: _Download, info: ImageDownloadResponse, partial_file: _Partial
) -> Steps[Result[Path, ImagesDownloadFileError]]:
    settings, config, size = download.settings, download.config, info.size
    assert settings is not None
    ctx = _SegmentContext(
        download=download, info=info, link=_Link(url=info.url, expires_at=info.expires_at)
    )
    start, etag, shown = partial_file.resume_from, partial_file.record.etag, 0
    segment_size = config.download_segment_size(download.concurrency)
    while True:
        in_order = download.concurrency == 1 or size - start <= segment_size
        fetches = (
            [_Segment(start, size - start)]
            if in_order
            else [_Segment(at, length) for at, length in plan_segments(start, size, segment_size)]
        )
        tasks = ([_Segment(0, start, fetch=False)] if start else []) + (
            fetches if start < size else []
        )
        meter = ProgressMeter(size, floor=shown)
        meter.update(_PREFIX_SLOT, start)
        if not in_order and config.resume:
            yield Blocking(
                partial(
                    _save_record,
                    partial_file.record_path,
                    evolve(partial_file.record, etag=etag, prefix=start),
                )
            )
        pool: Pool[_Segment] = Pool(
            tasks=tasks,
            worker=partial(_segment_steps, ctx),
            file=partial_file.file,
            sequencer=HashSequencer(budget=config.hash_window),
            meter=meter,
            concurrency=download.concurrency,
            chunk_size=config.chunk_size,
            etag=etag,
        )
        failure = yield RunPool(
            pool,
            timeout=settings.timeout,
            progress=download.progress,
            checkpoint=partial(_checkpoint, partial_file, in_order) if config.resume else None,
            checkpoint_interval=None if in_order else config.checkpoint_interval,
        )
        if isinstance(failure, _RangeIgnoredError) and (start > 0 or not in_order):
            logger.info("%s; downloading the whole object again", failure.reason)
            restarted: Result[None, LocalFileError] = yield Blocking(
                partial(_start_over, partial_file, config.resume)
            )
            if not is_successful(restarted):
                return Failure(restarted.failure())
            # One plain GET from byte 0: no range left to ignore.
            start, etag, shown = 0, None, meter.done
            download = evolve(download, concurrency=1)
            continue
        if failure is not None:
            if isinstance(failure, IntegrityError):
                yield Blocking(partial(_discard, partial_file))
            return Failure(_as_download_error(failure))
        break
    written: int = yield Blocking(partial_file.file.size)
    digest = pool.sequencer.hexdigest() if pool.sequencer.cursor == written else ""
    if written != size or digest != info.sha256:
        yield Blocking(partial(_discard, partial_file))
        return Failure(
            IntegrityError(
                stage="download",
                reason=f"expected {size} bytes with sha256 {info.sha256}, "
                f"got {written} bytes with sha256 {digest or 'unknown'}",
                expected_sha256=info.sha256,
                actual_sha256=digest,
                expected_size=size,
                actual_size=written,
            )
        )
    finished: Result[Path, LocalFileError] = yield Blocking(
        partial(_finish, partial_file, download.overwrite)
    )
    return finished


def _as_download_error(error: SfcError) -> TransferError:
    """Workers only fail with transfer errors; anything else is wrapped rather than trusted."""
    if isinstance(error, TransferError):
        return error
    return TransferError(stage="download", reason=str(error), cause=error)


def _download(
    core: SfcCore,
    image_id: str,
    dest: str | os.PathLike[str],
    concurrency: int,
    progress: ProgressCallback | None,
    overwrite: bool,
    security: Security | None,
    options: RequestOptions | None,
    transfer: TransferConfig | None,
) -> Steps[Result[Path, ImagesDownloadFileError]]:
    return _download_steps(
        _Download(
            core=core,
            image_id=image_id,
            dest=dest,
            concurrency=concurrency,
            progress=progress,
            overwrite=overwrite,
            security=security,
            options=options,
            config=transfer or TransferConfig(),
        )
    )


def images_download_file(
    core: SfcCore,
    image_id: str,
    dest: str | os.PathLike[str],
    *,
    concurrency: int = 4,
    progress: ProgressCallback | None = None,
    overwrite: bool = False,
    security: Security | None = None,
    options: RequestOptions | None = None,
    transfer: TransferConfig | None = None,
) -> Result[Path, ImagesDownloadFileError]:
    """Download a completed image to ``dest``, checked against its size and SHA-256.

    Args:
        core: the SDK configuration.
        image_id: the image's id, ``image_...``.
        dest: where the file goes; its directory must exist. Bytes are written to
            ``<dest>.sfc-partial`` (and ``<dest>.sfc-partial.json``) until verified.
        concurrency: ranged requests at once, 1 to 64.
        progress: ``progress(done_bytes, total_bytes)``, called from the calling thread (or
            task) while bytes move: once at first, then whenever at least 1 % more of the image
            has been counted or, if less, 250 ms after the last call, and once at the end.
            Bytes are counted a chunk (``TransferConfig.chunk_size``, 1 MiB) at a time, so one
            call can advance by more than 1 %, and while a slow chunk is in flight nothing new
            is counted. ``done_bytes`` never decreases, never exceeds ``total_bytes`` and is
            never passed twice.
        overwrite: replace ``dest`` if it exists (only a regular file is ever replaced).
        security: a credential for this call instead of the core's.
        options: per-call timeout (per request), retry policy, server URL, headers and query.
        transfer: tuning and test knobs; see ``TransferConfig``.

    Returns:
        ``Success(Path)`` of the verified file, or ``Failure`` with: ``InputValidationError``
        (a bad argument); ``LocalFileError`` (``dest`` exists without ``overwrite``, or
        exists and is not a regular file, its directory is missing, or the file cannot be
        written); ``IntegrityError`` (the bytes do
        not match the advertised size or SHA-256: nothing is kept); ``TransferError`` (the
        bytes could not be fetched: ``cause`` holds the storage or API error; the partial file
        is kept for a rerun to resume); or the errors of ``images_download``
        (``ConflictError`` when the upload is not completed), unchanged.
    """
    return drive_sync(
        core,
        _download(
            core, image_id, dest, concurrency, progress, overwrite, security, options, transfer
        ),
    )


async def images_download_file_async(
    core: SfcCore,
    image_id: str,
    dest: str | os.PathLike[str],
    *,
    concurrency: int = 4,
    progress: ProgressCallback | None = None,
    overwrite: bool = False,
    security: Security | None = None,
    options: RequestOptions | None = None,
    transfer: TransferConfig | None = None,
) -> Result[Path, ImagesDownloadFileError]:
    """Download and verify an image; the async form of ``images_download_file``.

    Cancelling the task stops the workers, keeps the partial file and its record for a rerun,
    and lets ``CancelledError`` propagate.
    """
    return await drive_async(
        core,
        _download(
            core, image_id, dest, concurrency, progress, overwrite, security, options, transfer
        ),
    )
