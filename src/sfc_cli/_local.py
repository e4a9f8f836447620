"""``--local``: run a command against an emulator started inside this process.

Images persist between runs in one folder: ``$XDG_DATA_HOME/sfc-images/local`` (by default
``~/.local/share/sfc-images/local``). It holds ``token``, a random token made on first use and
kept with mode 0600, ``data/``, the emulator's store, and ``port``, the port of the last run. The
same images can be served to other programs with ``sfc emulator --data <folder>/data`` and that
token.

Each run asks for the port of the previous one, because an interrupted upload is resumed only
against the same server URL; when that port is taken, any free port does.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path

from attrs import frozen

_TOKEN_FILE = "token"  # noqa: S105 - a file name, not a secret
_PORT_FILE = "port"


def local_home(environ: Mapping[str, str]) -> Path:
    """The ``--local`` folder for this environment."""
    base = environ.get("XDG_DATA_HOME") or ""
    # The XDG spec says a relative value is invalid and must be ignored.
    root = Path(base) if os.path.isabs(base) else Path(environ.get("HOME", "~")) / ".local/share"
    return root.expanduser() / "sfc-images" / "local"


def local_token(home: Path) -> str:
    """The token stored in ``home``, created on first use."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / _TOKEN_FILE
    try:
        # O_EXCL: two first runs at once must not each write a different token.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    token = secrets.token_urlsafe(24)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    return token


@frozen
class LocalServer:
    url: str
    token: str
    home: Path


@contextlib.contextmanager
def local_server(environ: Mapping[str, str]) -> Iterator[LocalServer]:
    """An emulator on a free local port serving the ``--local`` folder, until the block ends."""
    from sfc_emulator import Emulator  # only ``--local`` pays for starting a web server

    home = local_home(environ)
    token = local_token(home)
    port_file = home / _PORT_FILE
    try:
        port = int(port_file.read_text(encoding="ascii"))
    except (OSError, ValueError):
        port = 0
    emulator = Emulator(home / "data", token=token, port=port)
    try:
        emulator.start()
    except OSError:
        emulator = Emulator(home / "data", token=token, port=0)
        emulator.start()
    try:
        port_file.write_text(f"{emulator.url.rsplit(':', 1)[1]}\n", encoding="ascii")
        yield LocalServer(url=emulator.url, token=token, home=home)
    finally:
        emulator.stop()
