"""The object store behind presigned URLs: part PUTs and image GET/HEAD, S3 style.

Refusals follow S3 and come as XML: an `Authorization` header → 400 InvalidArgument (a presigned
URL must carry no other credentials, which also makes a leaked API token fail loudly); a bad
signature → 403 SignatureDoesNotMatch; an expired URL → 403 AccessDenied; chunked transfer
encoding → 501 NotImplemented; no Content-Length → 411; more than 5 GiB → 400 EntityTooLarge; an
image that is unknown, deleted or (for PUT) already completed → 404.

Bytes stream in both directions in 1 MiB blocks with the file I/O (and, for PUT, the MD5 for the
ETag) in worker threads; nothing touches SQLite per block. A part is written to a temp file and
renamed into place only once all of its Content-Length has arrived, so a broken upload never
replaces a good part. A refused PUT still reads the request body (except an oversized one), so the
client gets to read the refusal instead of a reset connection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Final

import anyio
import anyio.abc
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from sfc_emulator._api import in_thread
from sfc_emulator._errors import StorageError
from sfc_emulator._frontdoor import drain
from sfc_emulator._ranges import ByteRange, Unsatisfiable, parse_range
from sfc_emulator._state import State
from sfc_emulator._store import CHUNK, StoreError

MAX_PART_SIZE: Final = 5 * 1024**3
_QUEUED_BLOCKS: Final = 4


class _PartWriter:
    """Writes a part to a file and computes its MD5, each from its own worker thread.

    Hashing and writing are the two slow steps of an upload and need no GIL, so running them side
    by side (`hash` and `write` each see every block, in order) roughly halves the time per block.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0
        self._file = path.open("wb")

    def hash(self, block: list[bytes]) -> None:
        for data in block:
            self.md5.update(data)
            self.size += len(data)

    def write(self, block: list[bytes]) -> None:
        self._file.writelines(block)

    def close(self) -> None:
        self._file.close()


class FileSlice(Response):
    """Streams `length` bytes of an open file from `first`; closes the file when done."""

    def __init__(
        self,
        file: BinaryIO,
        *,
        first: int,
        length: int,
        status_code: int,
        headers: dict[str, str],
        head: bool,
    ) -> None:
        self.file = file
        self.first = first
        self.length = length
        self.head = head
        self.status_code = status_code
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            if self.head or self.length == 0:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            async with anyio.create_task_group() as group:
                group.start_soon(self._stop_on_disconnect, receive, group.cancel_scope)
                await self._stream(send)
                group.cancel_scope.cancel()
        finally:
            self.file.close()

    @staticmethod
    async def _stop_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        scope.cancel()

    async def _stream(self, send: Send) -> None:
        await anyio.to_thread.run_sync(self.file.seek, self.first)
        remaining = self.length
        while remaining > 0:
            chunk = await anyio.to_thread.run_sync(self.file.read, min(CHUNK, remaining))
            if not chunk:
                raise OSError(f"{self.file.name} shrank while being served")
            remaining -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})


class Storage:
    """Handlers for presigned part uploads and image downloads."""

    def __init__(self, state: State) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            Route("/_storage/parts/{image_id}/{part_id}", self.put_part, methods=["PUT"]),
            Route("/_storage/images/{image_id}", self.get_image, methods=["GET", "HEAD"]),
        ]

    def _check_credentials(self, request: Request, method: str) -> None:
        if "authorization" in request.headers:
            raise StorageError(
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter,"
                " Signature query string parameter or the Authorization header should be"
                " specified",
                request.url.path,
            )
        problem = self.state.signer.check(
            method, request.url.path, request.query_params, self.state.now_ms()
        )
        if problem is not None:
            raise problem

    async def put_part(self, request: Request) -> Response:
        try:
            length = self._check_put(request)
            image_id: str = request.path_params["image_id"]
            part_id = int(request.path_params["part_id"])
            await in_thread(self.state.store.check_writable, image_id)
        except StoreError:
            await drain(request.receive)
            return _no_such_upload(request)
        except StorageError as refusal:
            if refusal.code != "EntityTooLarge":
                await drain(request.receive)
            return refusal.response()

        temp = self.state.store.temp_path()
        writer = await in_thread(_PartWriter, temp)
        try:
            complete = await _receive_into(request.receive, writer)
        finally:
            # Shielded so that a server shutting down mid-upload still closes the file.
            with anyio.CancelScope(shield=True):
                await in_thread(writer.close)
        if not complete or writer.size != length:
            temp.unlink(missing_ok=True)
            return StorageError(
                400,
                "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length"
                " HTTP header",
                request.url.path,
            ).response()
        md5 = writer.md5.hexdigest()
        try:
            await in_thread(self.state.store.commit_part, image_id, part_id, temp, length, md5)
        except StoreError:
            return _no_such_upload(request)
        return Response(status_code=200, headers={"etag": f'"{md5}"'})

    def _check_put(self, request: Request) -> int:
        """The Content-Length of an acceptable part upload; StorageError otherwise."""
        self._check_credentials(request, "PUT")
        if "transfer-encoding" in request.headers:
            raise StorageError(
                501,
                "NotImplemented",
                "A header you provided implies functionality that is not implemented:"
                " Transfer-Encoding",
                request.url.path,
            )
        raw_length = request.headers.get("content-length")
        if raw_length is None:
            raise StorageError(
                411, "MissingContentLength", "You must provide the Content-Length HTTP header."
            )
        length = int(raw_length)
        if length > MAX_PART_SIZE:
            raise StorageError(
                400,
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
                request.url.path,
            )
        return length

    async def get_image(self, request: Request) -> Response:
        self._check_credentials(request, request.method)
        image_id: str = request.path_params["image_id"]
        try:
            image = await in_thread(self.state.store.completed_image, image_id)
            file = await in_thread(self.state.store.image_path(image_id).open, "rb")
        except (StoreError, FileNotFoundError):
            raise StorageError(
                404, "NoSuchKey", "The specified key does not exist.", request.url.path
            ) from None
        size = await in_thread(lambda: Path(file.name).stat().st_size)
        etag = f'"{image.etag}"'
        headers = {
            "accept-ranges": "bytes",
            "content-type": "application/octet-stream",
            "etag": etag,
        }
        byte_range = parse_range(request.headers.get("range"), size)
        if_range = request.headers.get("if-range")
        if if_range is not None and if_range != etag:
            # The client's copy is of another version: RFC 9110 says send the whole object.
            byte_range = None
        match byte_range:
            case Unsatisfiable():
                file.close()
                return Response(
                    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidRange</Code>'
                    b"<Message>The requested range is not satisfiable</Message></Error>",
                    status_code=416,
                    headers={"content-range": byte_range.content_range(size)},
                    media_type="application/xml",
                )
            case ByteRange():
                headers["content-range"] = byte_range.content_range(size)
                first, length, status = byte_range.first, byte_range.length, 206
            case None:
                first, length, status = 0, size, 200
        headers["content-length"] = str(length)
        return FileSlice(
            file,
            first=first,
            length=length,
            status_code=status,
            headers=headers,
            head=request.method == "HEAD",
        )


def _no_such_upload(request: Request) -> Response:
    return StorageError(
        404,
        "NoSuchUpload",
        "The specified upload does not exist: it was completed, deleted or never started.",
        request.url.path,
    ).response()


async def _receive_into(receive: Receive, writer: _PartWriter) -> bool:
    """Copy the request body into `writer`; False if the client went away before the end.

    Receiving, hashing and writing overlap: blocks of about 1 MiB go through two small queues to
    a hashing task and a writing task, each working in a worker thread, so the socket keeps being
    read meanwhile. The queues bound how much of a part is held in memory.
    """
    to_hash, hash_queue = anyio.create_memory_object_stream[list[bytes]](_QUEUED_BLOCKS)
    to_write, write_queue = anyio.create_memory_object_stream[list[bytes]](_QUEUED_BLOCKS)

    async def consume(
        queue: anyio.abc.ObjectReceiveStream[list[bytes]], step: Callable[[list[bytes]], None]
    ) -> None:
        async with queue:
            async for block in queue:
                await anyio.to_thread.run_sync(step, block)

    async with anyio.create_task_group() as group:
        group.start_soon(consume, hash_queue, writer.hash)
        group.start_soon(consume, write_queue, writer.write)
        async with to_hash, to_write:
            complete = await _pump(receive, (to_hash, to_write))
    return complete


async def _pump(
    receive: Receive, queues: tuple[anyio.abc.ObjectSendStream[list[bytes]], ...]
) -> bool:
    """Feed the request body to every queue in ~1 MiB blocks; False on a disconnect."""
    block: list[bytes] = []
    block_size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return False
        body: bytes = message.get("body", b"")
        if body:
            block.append(body)
            block_size += len(body)
        more = message.get("more_body", False)
        if block_size >= CHUNK or (block and not more):
            for queue in queues:
                await queue.send(block)
            block, block_size = [], 0
        if not more:
            return True
