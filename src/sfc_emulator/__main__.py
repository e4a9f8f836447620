"""The `sfc-emulator` command: serve the emulator until Ctrl-C or SIGTERM.

It prints the two environment settings a client needs on stdout, one per line, in `NAME=value`
form, quoted for a shell where needed (so a script can read them, or a shell can `export` them),
and anything else on stderr:

    SFC_BASE_URL=http://127.0.0.1:8080
    SFC_VMORCH_BEARER_AUTH=<token>

State lives in `--data`, by default `$XDG_DATA_HOME/sfc-emulator` (`~/.local/share/sfc-emulator`
when XDG_DATA_HOME is unset), so images survive restarts.

uvicorn and starlette come with the `emulator` extra; without it, `main` says so in one line
instead of a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

_EXTRA_MODULES = frozenset({"starlette", "uvicorn"})
_TOKEN = re.compile(r"[!-~]+")
_MAX_PORT = 65535


def default_data_dir() -> Path:
    """The per-user data dir: `$XDG_DATA_HOME/sfc-emulator` or `~/.local/share/sfc-emulator`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "sfc-emulator"


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free one) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= _MAX_PORT:
        raise argparse.ArgumentTypeError(f"a port is 0 to {_MAX_PORT}, got {port}")
    return port


def token_text(text: str) -> str:
    """An argparse type: a token clients can send, printable ASCII without spaces (the SDK
    refuses any other, and an HTTP header could not carry it as is)."""
    if not _TOKEN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            "a token is printable ASCII without spaces (letters, digits, punctuation)"
        )
    return text


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    from sfc_emulator._server import DEFAULT_MIN_PART_SIZE, DEFAULT_URL_TTL

    parser = argparse.ArgumentParser(
        prog="sfc-emulator", description="Serve a local SF Compute Images API."
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default %(default)s)")
    parser.add_argument(
        "--port", type=port_number, default=8080, help="port, 0 for any (default 8080)"
    )
    parser.add_argument(
        "--data", type=Path, default=None, help=f"data dir (default {default_data_dir()})"
    )
    parser.add_argument(
        "--token", type=token_text, default=None, help="bearer token (default: a random one)"
    )
    parser.add_argument(
        "--min-part-size",
        type=int,
        default=DEFAULT_MIN_PART_SIZE,
        metavar="BYTES",
        help="smallest allowed non-last part (default %(default)s)",
    )
    parser.add_argument(
        "--url-ttl",
        type=float,
        default=DEFAULT_URL_TTL,
        metavar="SECONDS",
        help="presigned URL lifetime (default %(default)s)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator in the foreground; returns the process exit status."""
    try:
        from sfc_emulator._server import Emulator
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] not in _EXTRA_MODULES:
            raise
        print(
            f"sfc-emulator: the emulator needs its extra ({exc.name} is not installed): "
            "pip install 'sfc-images[emulator]'",
            file=sys.stderr,
        )
        return 2
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.access_log:
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    data_dir: Path = args.data or default_data_dir()
    emulator = Emulator(
        data_dir,
        token=args.token,
        host=args.host,
        port=args.port,
        min_part_size=args.min_part_size,
        url_ttl=args.url_ttl,
        access_log=args.access_log,
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, request_stop) for sig in handled}
    try:
        try:
            emulator.start()
        except OSError as exc:
            print(f"sfc-emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 1
        print(f"SFC_BASE_URL={shlex.quote(emulator.url)}", flush=True)
        print(f"SFC_VMORCH_BEARER_AUTH={shlex.quote(emulator.token)}", flush=True)
        print(f"sfc-emulator: data in {data_dir}; Ctrl-C to stop", file=sys.stderr, flush=True)
        # A timeout keeps the wait responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
        emulator.stop()
        print("sfc-emulator: stopped", file=sys.stderr, flush=True)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
