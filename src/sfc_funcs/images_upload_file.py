"""Upload a local file as an image, in parallel parts, resumably: ``images_upload_file``.

Theory of operation. Arguments and the file are checked first (a missing, empty or too large
file, a bad name or part size fails before any image is created). Then ``images_start_upload``
creates the image, and a pool of ``concurrency`` workers uploads the parts: each takes the next
part in file order as soon as it is free, asks ``images_upload_part`` for a fresh presigned URL
and ``PUT``s the part's bytes, streamed from the file a chunk at a time, with ``Content-Length``
set and no ``Authorization`` header. As the chunks go out they also pass through an in-order
hash sequencer (``sfc_core._transfer_hash``), so the file's SHA-256 is computed in the same single
read; memory stays bounded by the sequencer's window, whatever the file size. Finally the file is
checked to be unchanged and ``images_complete_upload`` is called with the hash.

A part is retried from its first byte on 408/429/5XX and connection failures (``RetryConfig``,
honouring ``Retry-After``); a 403 saying the URL expired (or any 403 after ``expires_at``) gets a
new URL. Any other failure stops the other workers and is returned as a ``TransferError`` naming
the part. The file is stat-ed after each part and before completing: if its size or modification
time moved, the upload stops with ``FileChangedError``, so the API is never told a hash of bytes
that were not uploaded.

Memory and speed. Hashing in file order while parts go up side by side means the bytes of
later parts are held until the earlier ones have been read; ``TransferConfig.hash_window``
(48 MiB) bounds them, and a worker that gets that far ahead pauses until the hash catches up
(the worker holding the earliest bytes never waits). Peak memory is therefore about the window
plus a chunk per worker, whatever the file size. Where each connection is capped (rather than
the uplink as a whole), parts no larger than ``hash_window / (concurrency - 1)`` keep every
worker busy. ``SfcCore.deadline`` bounds each API call, not the whole upload.

Resume. Progress is recorded in a small JSON file, one per (API server and query, absolute file
path, image name), in ``$SFC_STATE_DIR`` if set, else ``$XDG_CACHE_HOME/sfc-images/uploads/``, else
``~/.cache/sfc-images/uploads/`` (or ``TransferConfig(state_dir=...)``). It holds the image id, the
part size, the file's size and modification time and the numbers of the parts the store
acknowledged, and is rewritten atomically after every part. Running the same upload again (same
file, unchanged, same name) continues that image: the parts already sent are read only to hash
them, the others are uploaded (with the recorded part size, whatever ``part_size`` says). If the
recorded image is gone or no longer accepts parts, a fresh upload starts. If the file changed
since, the recorded image, still unfinished and made for bytes that no longer exist, is deleted
first so that the fresh upload can take its name. If the recorded upload had in fact completed with
this file's hash (the last run stopped before it saw the answer), that image is returned. If
whether it can go on cannot be found out (the API did not answer), the error is returned and the
record kept. The record is removed once the upload completes, or when ``images_complete_upload``
refuses the parts (400, 422). Interrupting an upload (Ctrl-C, cancelling the task) saves the record
before the exception propagates.

A lost answer to ``images_start_upload``. The server may create the image and the answer never
arrive (a dropped connection, a timeout, a 5XX from a proxy, Ctrl-C). So before asking, the
record file holds an *intent*: this upload is about to create an image, and the time (the core's
``wall_clock``). If the call then fails in a way that may have created the image, or a rerun that
finds the intent meets 409 (name taken), the live images are listed, newest first, back to the
intent's time less ``CLOCK_SKEW`` seconds. An image is adopted, and the parts go into it, only if
its name is this upload's, its status is ``started`` (it has no parts, so whoever made it cannot
have sent bytes to it) and its ``created_at`` is not older than the intent (give or take the skew
between the two clocks). Otherwise the error stands: a 409 is the name conflict it always was,
and the intent is dropped; an unanswered call keeps the intent for a rerun.

One upload at a time. While it runs, an upload holds an exclusive ``flock`` on a ``.lock`` file
beside its record; a second upload of the same file to the same name on the same API fails at
once, before any request, with ``LocalFileError``, rather than driving the same image.
"""

from __future__ import annotations

import logging
import os
import stat
from functools import partial
from pathlib import Path

from attrs import evolve, frozen
from returns.pipeline import is_successful
from returns.result import Failure, Result, Success

from sfc_core import (
    BadRequestError,
    ConflictError,
    FileChangedError,
    ForbiddenError,
    ImageListEntry,
    ImageUploadResponse,
    InputValidationError,
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
    UnprocessableEntityError,
    UploadPartResponse,
)
from sfc_core import _validation as validate
from sfc_core._http import CallSettings, Sleep, resolve_settings
from sfc_core._transfer import (
    MAX_CONCURRENCY,
    ApiCall,
    Blocking,
    LocalFailure,
    Pool,
    PoolSnapshot,
    ProgressCallback,
    Put,
    Read,
    RunPool,
    SharedFile,
    Steps,
    StorageAnswer,
    TransferConfig,
    local_file_error,
)
from sfc_core._transfer_async import drive_async
from sfc_core._transfer_hash import HashSequencer
from sfc_core._transfer_plan import MAX_PARTS, PartPlan, check_part_size, plan_parts
from sfc_core._transfer_progress import ProgressMeter
from sfc_core._transfer_state import (
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
from sfc_core._transfer_storage import (
    describe_reply,
    storage_error,
    storage_retry_delay,
    url_expired,
)
from sfc_core._transfer_sync import drive_sync
from sfc_funcs.images_complete_upload import images_complete_upload, images_complete_upload_async
from sfc_funcs.images_delete import images_delete, images_delete_async
from sfc_funcs.images_get import images_get, images_get_async
from sfc_funcs.images_list import images_list, images_list_async
from sfc_funcs.images_start_upload import images_start_upload, images_start_upload_async
from sfc_funcs.images_upload_part import images_upload_part, images_upload_part_async

__all__ = [
    "ImagesUploadFileError",
    "TransferConfig",
    "images_upload_file",
    "images_upload_file_async",
]

logger = logging.getLogger("sfc")

ImagesUploadFileError = (
    BadRequestError
    | UnauthorizedError
    | ForbiddenError
    | NotFoundError
    | ConflictError
    | UnprocessableEntityError
    | InternalServerError
    | SfcDefaultError
    | ResponseValidationError
    | SfcConnectionError
    | SfcTimeoutError
    | InputValidationError
    | TransferError
    | FileChangedError
    | LocalFileError
)
"""Every error ``images_upload_file`` can return: those of ``images_start_upload``,
``images_get`` (checking a recorded upload) and ``images_complete_upload`` as they are;
``TransferError`` for a part that could not be uploaded (the API or storage error is its
``cause``); ``FileChangedError``; ``LocalFileError``; ``InputValidationError``."""

MAX_URL_RENEWALS = 8
"""Expired URLs renewed for one part before giving up: more means the URLs live shorter than
one part takes to send."""

_RESUMABLE_STATUSES = frozenset({"started", "uploading"})

CLOCK_SKEW = 10
"""Seconds an image's ``created_at`` (the server's clock) may lie before the intent's time (this
machine's clock) and still count as created after it."""

_LIST_PAGE = 200


@frozen
class _Source:
    """The file being uploaded, opened once for all workers."""

    path: Path
    file: SharedFile
    identity: FileIdentity


@frozen
class _PartTask:
    part: int
    hash_only: bool


@frozen(kw_only=True)
class _Upload:
    """One call's arguments, checked."""

    core: SfcCore
    path: str | os.PathLike[str]
    name: str
    concurrency: int
    part_size: int | None
    progress: ProgressCallback | None
    security: Security | None
    options: RequestOptions | None
    config: TransferConfig
    record_dir: Path | None
    settings: CallSettings | None = None


# --- local file helpers (blocking; run through Blocking effects) -------------------------


def _open_source(path: str | os.PathLike[str]) -> Result[_Source, LocalFileError]:
    """Open ``path`` for reading if it is a regular file; FIFOs and devices are refused before
    opening (opening a FIFO would block)."""
    given = Path(path)
    try:
        absolute = given.absolute()
        if not stat.S_ISREG(os.stat(absolute).st_mode):
            return Failure(LocalFileError(stage="open", reason=f"{given} is not a regular file"))
        fd = os.open(absolute, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return Failure(local_file_error("open", given, exc))
    try:
        info = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        return Failure(local_file_error("open", given, exc))
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return Failure(LocalFileError(stage="open", reason=f"{given} is not a regular file"))
    return Success(_Source(absolute, SharedFile(fd, absolute), FileIdentity.of(info)))


def _check_unchanged(source: _Source) -> Result[None, FileChangedError | LocalFileError]:
    try:
        now = FileIdentity.of(os.stat(source.path))
    except FileNotFoundError:
        return Failure(FileChangedError(stage="upload", reason=f"{source.path} was removed"))
    except OSError as exc:
        return Failure(local_file_error("stat", source.path, exc))
    if now != source.identity:
        return Failure(FileChangedError(stage="upload", reason=_what_changed(source, now)))
    return Success(None)


def _what_changed(source: _Source, now: FileIdentity) -> str:
    """``path: size A -> B bytes, mtime_ns C -> D``, naming only what moved (callers put it
    after their own "the file changed")."""
    was = source.identity
    moved = []
    if now.size != was.size:
        moved.append(f"size {was.size} -> {now.size} bytes")
    if now.mtime_ns != was.mtime_ns:
        moved.append(f"mtime_ns {was.mtime_ns} -> {now.mtime_ns}")
    return f"{source.path}: {', '.join(moved)}"


def _load_record(path: Path) -> UploadRecord | UploadIntent | None:
    data = read_record(path)
    if data is None:
        return None
    return UploadRecord.from_json(data) or UploadIntent.from_json(data)


def _lock_upload(record_path: Path) -> Result[int | None, LocalFileError]:
    """Hold the upload's lock file: the descriptor, ``None`` when locking is not possible here
    (an unwritable state directory costs the lock as it costs resumability), or a
    ``LocalFileError`` when another upload holds it."""
    lock_path = record_path.with_suffix(".lock")
    try:
        fd = acquire_lock(lock_path)
    except OSError as exc:
        logger.warning("could not lock %s: %s", lock_path, exc)
        return Success(None)
    if fd is None:
        return Failure(
            LocalFileError(
                stage="upload",
                reason="another upload of this file to this name is in progress "
                f"(it holds {lock_path})",
            )
        )
    return Success(fd)


def _unlock_upload(record_path: Path, fd: int) -> None:
    try:
        release_lock(record_path.with_suffix(".lock"), fd)
    except OSError as exc:
        logger.warning("could not remove lock file: %s", exc)


def _save_record(path: Path | None, record: UploadRecord | UploadIntent) -> None:
    """Write the record; a failure only costs resumability, so it is logged, not returned."""
    if path is None:
        return
    try:
        write_atomic(path, record.to_json())
    except OSError as exc:
        logger.warning("could not save upload state to %s: %s", path, exc)


def _remove_record(path: Path | None) -> None:
    if path is None:
        return
    try:
        remove_record(path)
    except OSError as exc:
        logger.warning("could not remove upload state %s: %s", path, exc)


def _checkpoint(path: Path | None, record: UploadRecord, snapshot: PoolSnapshot[_PartTask]) -> None:
    done = record.done | {task.part for task in snapshot.completed}
    _save_record(path, record.with_done(frozenset(done)))


# --- pure decisions -------------------------------------------------------------------------


def _check_arguments(upload: _Upload) -> Result[_Upload, InputValidationError]:
    """Every argument rule that needs no I/O, and the credential."""
    path: object = upload.path
    if not isinstance(path, (str, os.PathLike)):
        return Failure(InputValidationError(field="path", rule="must be a str or os.PathLike path"))
    return (
        validate.image_name(upload.name)
        .bind(lambda _: validate.bounded_int(upload.concurrency, "concurrency", 1, MAX_CONCURRENCY))
        .bind(
            lambda _: check_part_size(upload.part_size, min_part_size=upload.config.min_part_size)
        )
        .bind(lambda _: resolve_settings(upload.core, upload.security, upload.options))
        .map(lambda settings: evolve(upload, settings=settings))
    )


def _resumable_plan(record: UploadRecord, size: int, min_part_size: int) -> PartPlan | None:
    """The recorded part size's plan, if it is still a valid plan for this file."""
    if record.part_size < min_part_size or -(-size // record.part_size) > MAX_PARTS:
        return None
    plan = PartPlan(size, record.part_size)
    return plan if record.done <= set(plan.parts()) else None


def _matches(record: UploadRecord | None, upload: _Upload, source: _Source) -> bool:
    assert upload.settings is not None
    return record is not None and (
        record.server_url,
        record.path,
        record.name,
        record.identity,
    ) == (upload.settings.server_url, str(source.path), upload.name, source.identity)


def _as_transfer_error(error: SfcError) -> TransferError:
    """Workers only fail with transfer errors; anything else is wrapped rather than trusted."""
    if isinstance(error, TransferError):
        return error
    return TransferError(stage="upload", reason=str(error), cause=error)


def _as_upload_response(entry: ImageListEntry) -> ImageUploadResponse:
    return ImageUploadResponse(
        id=entry.id,
        name=entry.name,
        upload_status=entry.upload_status,
        created_at=entry.created_at,
        sha256=entry.sha256,
        object=entry.object,
    )


# --- the steps ------------------------------------------------------------------------------


@frozen(kw_only=True)
class _PartContext:
    upload: _Upload
    image_id: str
    plan: PartPlan
    source: _Source


def _part_steps(ctx: _PartContext, task: _PartTask) -> Steps[Result[None, SfcError]]:
    """Upload (or, when resuming, only hash) one part."""
    offset, length = ctx.plan.span(task.part)
    check = Blocking(partial(_check_unchanged, ctx.source))
    if task.hash_only:
        failed = yield Read(offset, length)
        if isinstance(failed, LocalFailure):
            return Failure(failed.error)
        checked: Result[None, FileChangedError | LocalFileError] = yield check
        return checked
    upload, core = ctx.upload, ctx.upload.core
    assert upload.settings is not None
    url: UploadPartResponse | None = None
    attempt = renewals = 0
    while True:
        if url is None or core.wall_clock() >= url.expires_at:
            got = yield ApiCall.of(
                images_upload_part,
                images_upload_part_async,
                core,
                ctx.image_id,
                task.part,
                security=upload.security,
                options=upload.options,
            )
            if not is_successful(got):
                error = got.failure()
                return Failure(
                    TransferError(
                        stage="upload part",
                        part=task.part,
                        reason=f"no upload URL: {error}",
                        cause=error,
                    )
                )
            url = got.unwrap()
        attempt += 1
        reply = yield Put(url.url, offset, length, slot=task.part)
        if isinstance(reply, LocalFailure):
            return Failure(reply.error)
        if isinstance(reply, StorageAnswer) and reply.ok:
            checked = yield check
            return checked
        now = core.wall_clock()
        if isinstance(reply, StorageAnswer) and url_expired(reply, url.expires_at, now):
            renewals += 1
            if renewals > MAX_URL_RENEWALS:
                return Failure(
                    TransferError(
                        stage="upload part",
                        part=task.part,
                        reason=f"the upload URL expired {renewals} times before the part was sent",
                        cause=storage_error("PUT", url.url, reply),
                    )
                )
            attempt -= 1
            url = None
            continue
        delay = storage_retry_delay(
            upload.settings.retry, attempt, reply, now_epoch=now, rand=core.random()
        )
        if delay is None:
            return Failure(
                TransferError(
                    stage="upload part",
                    part=task.part,
                    reason=f"{describe_reply(reply)} (attempt {attempt})",
                    cause=storage_error("PUT", url.url, reply),
                )
            )
        logger.debug("retrying part %d in %.2fs: %s", task.part, delay, describe_reply(reply))
        yield Sleep(delay)


def _upload_steps(upload: _Upload) -> Steps[Result[ImageUploadResponse, ImagesUploadFileError]]:
    checked = _check_arguments(upload)
    if not is_successful(checked):
        return Failure(checked.failure())
    upload = checked.unwrap()
    opened: Result[_Source, LocalFileError] = yield Blocking(partial(_open_source, upload.path))
    if not is_successful(opened):
        return Failure(opened.failure())
    source = opened.unwrap()
    try:
        result: Result[ImageUploadResponse, ImagesUploadFileError] = yield from _upload_source(
            upload, source
        )
        return result
    finally:
        source.file.close()


@frozen
class _GoOn:
    """The recorded upload can go on, with its own part size."""

    record: UploadRecord
    plan: PartPlan


_Resumed = _GoOn | Result[ImageUploadResponse, ImagesUploadFileError] | None
"""What a recorded upload allows: ``_GoOn``; a final ``Result`` (the upload had completed, or
whether it can go on is unknown); ``None`` to start afresh."""


def _discard_unfinished(upload: _Upload, previous: UploadRecord) -> Steps[None]:
    """Delete the unfinished image of a recorded upload whose file has changed since.

    That image was created by this client for bytes that no longer exist, and it holds the name
    the new upload needs. Only an image still waiting for parts is deleted; if it cannot be, the
    new upload meets the name conflict and reports it.
    """
    found = yield ApiCall.of(
        images_get,
        images_get_async,
        upload.core,
        previous.image_id,
        security=upload.security,
        options=upload.options,
    )
    if not is_successful(found) or found.unwrap().upload_status not in _RESUMABLE_STATUSES:
        return
    logger.warning(
        "the file changed since upload %s started; deleting that unfinished image and "
        "starting a new upload",
        previous.image_id,
    )
    deleted = yield ApiCall.of(
        images_delete,
        images_delete_async,
        upload.core,
        previous.image_id,
        security=upload.security,
        options=upload.options,
    )
    if not is_successful(deleted):
        logger.warning("could not delete %s: %s", previous.image_id, deleted.failure())


def _resume(upload: _Upload, source: _Source, previous: UploadRecord) -> Steps[_Resumed]:
    """Decide whether the recorded upload can go on; see the module docstring."""
    if not _matches(previous, upload, source):
        yield from _discard_unfinished(upload, previous)
        return None
    found = yield ApiCall.of(
        images_get,
        images_get_async,
        upload.core,
        previous.image_id,
        security=upload.security,
        options=upload.options,
    )
    if not is_successful(found):
        error = found.failure()
        if isinstance(error, NotFoundError):
            return None
        # Whether the recorded upload can go on is unknown; creating another image now could
        # leave two copies behind.
        return Failure(error)
    entry: ImageListEntry = found.unwrap()
    plan = _resumable_plan(previous, source.identity.size, upload.config.min_part_size)
    if entry.upload_status in _RESUMABLE_STATUSES and plan is not None:
        return _GoOn(previous, plan)
    if entry.upload_status == "completed" and entry.sha256 == previous.sha256 is not None:
        # The last run completed the upload but stopped before it saw the answer.
        return Success(_as_upload_response(entry))
    logger.info("recorded upload %s cannot continue; starting afresh", previous.image_id)
    return None


def _record_path(upload: _Upload, source: _Source) -> Path | None:
    settings = upload.settings
    assert settings is not None
    if upload.record_dir is None:
        return None
    return upload.record_dir / upload_record_name(
        settings.server_url, settings.query, str(source.path), upload.name
    )


def _upload_source(
    upload: _Upload, source: _Source
) -> Steps[Result[ImageUploadResponse, ImagesUploadFileError]]:
    record_path = _record_path(upload, source)
    if record_path is None:
        result: Result[ImageUploadResponse, ImagesUploadFileError] = yield from _upload_locked(
            upload, source, None
        )
        return result
    locked: Result[int | None, LocalFileError] = yield Blocking(partial(_lock_upload, record_path))
    if not is_successful(locked):
        return Failure(locked.failure())
    fd = locked.unwrap()
    try:
        result = yield from _upload_locked(upload, source, record_path)
        return result
    finally:
        # Not a Blocking effect: a generator being closed cannot yield. Unlinking and closing a
        # small file does not hold up the event loop noticeably.
        if fd is not None:
            _unlock_upload(record_path, fd)


def _may_have_been_processed(error: SfcError) -> bool:
    """Whether a failed ``images_start_upload`` may still have created the image: no answer,
    a server error, or a success answer that did not parse."""
    if isinstance(error, (SfcConnectionError, SfcTimeoutError, ResponseValidationError)):
        return True
    if isinstance(error, (InternalServerError, SfcDefaultError)):
        return error.status >= 500
    return False


def _find_orphan(upload: _Upload, since: float) -> Steps[Result[ImageListEntry | None, SfcError]]:
    """The live image this upload's lost ``images_start_upload`` created, if there is one: the
    name matches, it has no parts yet (``started``) and it was created after the intent (give
    or take ``CLOCK_SKEW``). The list is newest first, so the walk stops at the first page that
    reaches back before that."""
    oldest = since - CLOCK_SKEW
    cursor: str | None = None
    while True:
        got = yield ApiCall.of(
            images_list,
            images_list_async,
            upload.core,
            limit=_LIST_PAGE,
            starting_after=cursor,
            security=upload.security,
            options=upload.options,
        )
        if not is_successful(got):
            return Failure(got.failure())
        page = got.unwrap()
        for entry in page.data:
            if entry.created_at < oldest:
                return Success(None)
            if entry.name == upload.name and entry.upload_status == "started":
                return Success(entry)
        if not page.has_more or page.cursor is None:
            return Success(None)
        cursor = page.cursor


def _start(
    upload: _Upload, source: _Source, record_path: Path | None, since: float | None
) -> Steps[Result[str, ImagesUploadFileError]]:
    """Create the image (or adopt the one a lost answer left behind); its id.

    ``since`` is the time of an intent an earlier run recorded for this upload, if any."""
    settings = upload.settings
    assert settings is not None
    rerun = since is not None
    if since is None:
        since = upload.core.wall_clock()
    intent = UploadIntent(
        server_url=settings.server_url,
        path=str(source.path),
        name=upload.name,
        identity=source.identity,
        since=since,
    )
    yield Blocking(partial(_save_record, record_path, intent))
    started = yield ApiCall.of(
        images_start_upload,
        images_start_upload_async,
        upload.core,
        upload.name,
        security=upload.security,
        options=upload.options,
    )
    if is_successful(started):
        image: ImageUploadResponse = started.unwrap()
        return Success(image.id)
    error = started.failure()
    # A 409 on a first try is someone else's name; after an earlier run's intent it may be the
    # image that run asked for.
    conflict_after_intent = isinstance(error, ConflictError) and rerun
    if not (_may_have_been_processed(error) or conflict_after_intent):
        yield Blocking(partial(_remove_record, record_path))
        return Failure(error)
    found = yield from _find_orphan(upload, since)
    if not is_successful(found):
        logger.warning("could not look for an image created by a lost answer: %s", found.failure())
        return Failure(error)
    orphan: ImageListEntry | None = found.unwrap()
    if orphan is not None:
        logger.warning(
            "images_start_upload failed (%s), but it had created %s; uploading into it",
            error,
            orphan.id,
        )
        return Success(orphan.id)
    if isinstance(error, ConflictError):
        # The name is someone else's; an intent kept now would only widen what a later run
        # might mistake for its own image.
        yield Blocking(partial(_remove_record, record_path))
    return Failure(error)


def _upload_locked(
    upload: _Upload, source: _Source, record_path: Path | None
) -> Steps[Result[ImageUploadResponse, ImagesUploadFileError]]:
    settings, size = upload.settings, source.identity.size
    assert settings is not None
    planned = plan_parts(size, upload.part_size, min_part_size=upload.config.min_part_size)
    if not is_successful(planned):
        return Failure(planned.failure())
    plan = planned.unwrap()
    loaded: UploadRecord | UploadIntent | None = None
    if record_path is not None:
        loaded = yield Blocking(partial(_load_record, record_path))
    since: float | None = None
    if isinstance(loaded, UploadIntent):
        # No part went up before the image was known, so the file's identity does not matter
        # here: any image this intent created can take this file's bytes.
        since = loaded.since
        loaded = None
    resumed: _Resumed = None
    if loaded is not None:
        resumed = yield from _resume(upload, source, loaded)
        if resumed is None or (not isinstance(resumed, _GoOn) and is_successful(resumed)):
            yield Blocking(partial(_remove_record, record_path))
        if resumed is not None and not isinstance(resumed, _GoOn):
            return resumed

    if isinstance(resumed, _GoOn):
        record, plan = resumed.record, resumed.plan
    else:
        created = yield from _start(upload, source, record_path, since)
        if not is_successful(created):
            return Failure(created.failure())
        record = UploadRecord(
            server_url=settings.server_url,
            path=str(source.path),
            name=upload.name,
            identity=source.identity,
            image_id=created.unwrap(),
            part_size=plan.part_size,
        )
        yield Blocking(partial(_save_record, record_path, record))

    meter = ProgressMeter(size)
    for part in record.done:
        meter.update(part, plan.span(part)[1])
    ctx = _PartContext(upload=upload, image_id=record.image_id, plan=plan, source=source)
    pool: Pool[_PartTask] = Pool(
        tasks=[_PartTask(part, part in record.done) for part in plan.parts()],
        worker=partial(_part_steps, ctx),
        file=source.file,
        sequencer=HashSequencer(budget=upload.config.hash_window),
        meter=meter,
        concurrency=upload.concurrency,
        chunk_size=upload.config.chunk_size,
    )
    failure = yield RunPool(
        pool,
        timeout=settings.timeout,
        progress=upload.progress,
        checkpoint=partial(_checkpoint, record_path, record),
    )
    if failure is not None:
        return Failure(_as_transfer_error(failure))
    if pool.sequencer.cursor != size:
        return Failure(
            TransferError(
                stage="hash",
                reason=f"hashed {pool.sequencer.cursor} of {size} bytes",
            )
        )
    unchanged: Result[None, FileChangedError | LocalFileError] = yield Blocking(
        partial(_check_unchanged, source)
    )
    if not is_successful(unchanged):
        return Failure(unchanged.failure())
    digest = pool.sequencer.hexdigest()
    record = evolve(record, done=frozenset[int](plan.parts()), sha256=digest)
    yield Blocking(partial(_save_record, record_path, record))
    completed = yield ApiCall.of(
        images_complete_upload,
        images_complete_upload_async,
        upload.core,
        record.image_id,
        digest,
        security=upload.security,
        options=upload.options,
    )
    if not is_successful(completed):
        error = completed.failure()
        if isinstance(error, (BadRequestError, UnprocessableEntityError)):
            # The store's parts do not make up this file; resuming would only repeat this.
            yield Blocking(partial(_remove_record, record_path))
        return Failure(error)
    yield Blocking(partial(_remove_record, record_path))
    return Success(completed.unwrap())


def _record_dir(config: TransferConfig) -> Path | None:
    if not config.resume:
        return None
    if config.state_dir is not None:
        return config.state_dir
    try:
        home: Path | None = Path.home()
    except RuntimeError:
        home = None
    return state_dir(os.environ, home)


def _upload(
    core: SfcCore,
    path: str | os.PathLike[str],
    name: str,
    concurrency: int,
    part_size: int | None,
    progress: ProgressCallback | None,
    security: Security | None,
    options: RequestOptions | None,
    transfer: TransferConfig | None,
) -> Steps[Result[ImageUploadResponse, ImagesUploadFileError]]:
    config = transfer or TransferConfig()
    return _upload_steps(
        _Upload(
            core=core,
            path=path,
            name=name,
            concurrency=concurrency,
            part_size=part_size,
            progress=progress,
            security=security,
            options=options,
            config=config,
            record_dir=_record_dir(config),
        )
    )


def images_upload_file(
    core: SfcCore,
    path: str | os.PathLike[str],
    name: str,
    *,
    concurrency: int = 4,
    part_size: int | None = None,
    progress: ProgressCallback | None = None,
    security: Security | None = None,
    options: RequestOptions | None = None,
    transfer: TransferConfig | None = None,
) -> Result[ImageUploadResponse, ImagesUploadFileError]:
    """Upload a file as a new image (or finish an interrupted upload of it) and complete it.

    Args:
        core: the SDK configuration.
        path: the file to upload: a regular file of 1 byte to 128 GiB.
        name: the image name: 1 to 255 characters, a letter or digit, then letters, digits,
            ``.``, ``_``, ``-``.
        concurrency: parts uploaded at once, 1 to 64.
        part_size: bytes per part, 5 MiB to 5 GiB; ``None`` for 64 MiB. Grown to a whole
            number of MiB when the file would need more than 10,000 parts. A resumed upload
            keeps the part size it started with.
        progress: ``progress(done_bytes, total_bytes)``, called from the calling thread
            while bytes move: once at first, then whenever at least 1 % more of the file has
            been counted or, if less, 250 ms after the last call, and once at the end. Bytes
            are counted a chunk (``TransferConfig.chunk_size``, 1 MiB) at a time, so one call
            can advance by more than 1 %, and while a slow chunk is in flight nothing new is
            counted. ``done_bytes`` never decreases, never exceeds ``total_bytes`` and is
            never passed twice. It may raise (``KeyboardInterrupt`` included) to stop the upload,
            which can then be resumed.
        security: a credential for this call instead of the core's.
        options: per-call timeout (per request), retry policy (API calls and parts), server
            URL, headers and query for the API calls.
        transfer: tuning and test knobs; see ``TransferConfig``.

    Returns:
        ``Success(ImageUploadResponse)`` for the completed image, or ``Failure`` with:
        ``InputValidationError`` (a bad argument, an empty or larger than 128 GiB file — found
        before any image is created); ``LocalFileError`` (the file cannot be opened or read,
        or another upload of this file to this name is in progress);
        ``FileChangedError`` (the file changed during the upload); ``TransferError`` (a part
        could not be uploaded: ``part`` names it, ``cause`` holds the API or storage error);
        or the errors of ``images_start_upload`` (``ConflictError`` when the name is taken),
        ``images_get`` and ``images_complete_upload``, unchanged.
    """
    return drive_sync(
        core,
        _upload(core, path, name, concurrency, part_size, progress, security, options, transfer),
    )


async def images_upload_file_async(
    core: SfcCore,
    path: str | os.PathLike[str],
    name: str,
    *,
    concurrency: int = 4,
    part_size: int | None = None,
    progress: ProgressCallback | None = None,
    security: Security | None = None,
    options: RequestOptions | None = None,
    transfer: TransferConfig | None = None,
) -> Result[ImageUploadResponse, ImagesUploadFileError]:
    """Upload a file as an image; the async form of ``images_upload_file``.

    Parts go up as tasks on the running event loop; ``progress`` is called from the calling
    task. Cancelling the task stops the workers, saves the resume record and lets
    ``CancelledError`` propagate.
    """
    return await drive_async(
        core,
        _upload(core, path, name, concurrency, part_size, progress, security, options, transfer),
    )
