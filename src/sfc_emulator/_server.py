"""Running the emulator: uvicorn on a socket we bind ourselves, in a background thread.

Binding the listening socket before uvicorn starts means port 0 resolves to a real port with no
window for another process to take it, and `start()` returns only after uvicorn has begun
accepting on it. The server thread owns its own event loop, so the same object serves sync tests
(`with Emulator() as emu`) and async ones (`async with Emulator() as emu`, which starts and stops
it from a worker thread so the caller's event loop keeps running).

The HTTP protocol is uvicorn's h11 one, extended to put the connection's transport into each
request's scope: that is what lets a fault close a connection mid-response (see `_frontdoor`).
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import anyio.to_thread
import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from sfc_emulator._app import create_app
from sfc_emulator._faults import Faults
from sfc_emulator._frontdoor import TRANSPORT_KEY
from sfc_emulator._requests import RequestLog
from sfc_emulator._signing import Signer
from sfc_emulator._state import State
from sfc_emulator._store import Store

MIB: Final = 1024 * 1024
DEFAULT_MIN_PART_SIZE: Final = 5 * MIB
DEFAULT_URL_TTL: Final = 3600.0
_START_TIMEOUT: Final = 30.0
_GRACEFUL_SHUTDOWN: Final = 5


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol, exposing the transport to the app through the scope."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            scope.setdefault("extensions", {})[TRANSPORT_KEY] = self.transport
            await inner(scope, receive, send)

        self.app = app


class _Server(uvicorn.Server):
    """A uvicorn server that reports when it is listening (or has given up)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self.ready.set()


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket.

    The protocol is given explicitly because asyncio enables TCP_NODELAY only on sockets whose
    `proto` is IPPROTO_TCP; without it every response whose headers and body are written
    separately stalls on Nagle's algorithm meeting the client's delayed ACK (~40 ms).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def _client_host(host: str) -> str:
    """The host clients should use: a wildcard bind is reached through loopback."""
    wildcards = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104 (mapped away)
    host = wildcards.get(host, host)
    return f"[{host}]" if ":" in host else host


class Emulator:
    """A local SF Compute Images API server for tests, demos and benchmarks.

    Use it as a context manager (`with` or `async with`) or call `start()`/`stop()`. Besides
    `url`, `token` and `data_dir`, it offers a testing API: `faults` (scripted misbehaviour),
    `requests` (the request log), `set_url_ttl`, `real_sha256`, `image_path`, `part_count` and
    `reset`. `state` exposes the running server's internals for white-box tests.

    Args:
        data_dir: Where state lives (SQLite database, part and image files, signing key). Reusing
            a directory resumes its state. None uses a temporary directory removed on stop.
        token: The bearer token the API requires; a random one if None.
        host: Interface to listen on.
        port: Port to listen on; 0 picks a free one.
        min_part_size: Smallest size allowed for a part other than the last, checked at complete.
        url_ttl: Lifetime of presigned URLs in seconds.
        access_log: Log every request through uvicorn's access logger.
        log_level: uvicorn's log level.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        min_part_size: int = DEFAULT_MIN_PART_SIZE,
        url_ttl: float = DEFAULT_URL_TTL,
        access_log: bool = False,
        log_level: str = "warning",
    ) -> None:
        self._requested_dir = None if data_dir is None else Path(data_dir)
        self.token = token if token is not None else secrets.token_urlsafe(32)
        self.host = host
        self.port = port
        self.min_part_size = min_part_size
        self._url_ttl = url_ttl
        self._access_log = access_log
        self._log_level = log_level
        self.faults = Faults()
        """Scripted faults; see `Faults.add`."""
        self.requests = RequestLog()
        """Every request received, in arrival order."""
        self._state: State | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._data_dir: Path | None = None
        self._temporary = False
        self._url: str | None = None

    # Lifecycle

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> Self:
        """Start serving; returns once the server accepts connections."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        if self._requested_dir is None:
            self._data_dir = Path(tempfile.mkdtemp(prefix="sfc-emulator-"))
            self._temporary = True
        else:
            self._data_dir = self._requested_dir
            self._data_dir.mkdir(parents=True, exist_ok=True)
            self._temporary = False
        store = Store(self._data_dir)
        self._state = State(
            store=store,
            token=self.token,
            min_part_size=self.min_part_size,
            url_ttl=self._url_ttl,
            signer=Signer(store.key),
            faults=self.faults,
            requests=self.requests,
        )
        try:
            sock = _listen(self.host, self.port)
        except OSError:
            self._release()
            raise
        port: int = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(self._state),
            http=_Protocol,
            ws="none",
            lifespan="off",
            log_config=None,
            log_level=self._log_level,
            access_log=self._access_log,
            timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN,
        )
        if self._access_log:
            # uvicorn sets its access logger to `log_level` (warning), which would hide every line.
            access = logging.getLogger("uvicorn.access")
            access.setLevel(logging.INFO)
            access.propagate = True
        server = _Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"sfc-emulator:{port}", daemon=True
        )
        thread.start()
        if not server.ready.wait(_START_TIMEOUT) or not server.started:
            server.should_exit = True
            thread.join(_START_TIMEOUT)
            sock.close()
            self._release()
            raise RuntimeError("the emulator's server did not start")
        self._server, self._thread = server, thread
        self._url = f"http://{_client_host(self.host)}:{port}"
        return self

    def stop(self) -> None:
        """Stop serving and close the store; a temporary data dir is removed. Idempotent."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join()
        self._server = self._thread = None
        self._url = None
        self._release()

    def _release(self) -> None:
        if self._state is not None:
            self._state.store.close()
            self._state = None
        if self._temporary and self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def astart(self) -> Self:
        """`start()` without blocking the calling event loop."""
        return await anyio.to_thread.run_sync(self.start)

    async def astop(self) -> None:
        """`stop()` without blocking the calling event loop."""
        await anyio.to_thread.run_sync(self.stop)

    async def __aenter__(self) -> Self:
        return await self.astart()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.astop()

    # Where it is

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:54321` (no trailing slash)."""
        if self._url is None:
            raise RuntimeError("the emulator is not running")
        return self._url

    @property
    def data_dir(self) -> Path:
        """The data dir in use (or last used)."""
        if self._data_dir is None:
            raise RuntimeError("the emulator has not been started")
        return self._data_dir

    @property
    def state(self) -> State:
        """The running server's shared state (store, signer, settings)."""
        if self._state is None:
            raise RuntimeError("the emulator is not running")
        return self._state

    # Testing API

    def set_url_ttl(self, seconds: float) -> None:
        """Presigned URLs issued from now on expire after `seconds` (≤ 0: already expired)."""
        self._url_ttl = float(seconds)
        if self._state is not None:
            self._state.url_ttl = float(seconds)

    def real_sha256(self, image_id: str) -> str | None:
        """SHA-256 of the bytes actually assembled at complete; None before that."""
        return self.state.store.real_sha256(image_id)

    def image_path(self, image_id: str) -> Path:
        """The assembled image file (exists once the image is completed)."""
        return self.state.store.image_path(image_id)

    def part_count(self, image_id: str) -> int:
        """How many distinct parts have been stored for the image."""
        return self.state.store.part_count(image_id)

    def reset(self) -> None:
        """Forget all images, faults and logged requests; restore the initial URL TTL."""
        self._url_ttl = self.state.initial_url_ttl
        self.state.reset()


AsyncEmulator = Emulator
"""The same class: `async with AsyncEmulator(...)` reads naturally in async code."""
