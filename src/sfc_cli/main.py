"""The ``sfc`` command: parse the command line, set up a session, run one command.

Global options (``--json``, ``--quiet``, ``--debug``, ``--local``, ``--base-url``) are accepted
before or after the command words: each subcommand parser repeats them with a ``SUPPRESS``
default, so a value given there lands in the namespace and an absent one does not overwrite the
top-level default.

Exit codes: 0 success, 1 API or transfer failure, 2 usage error (bad arguments, no token),
130 interrupted by Ctrl-C.

rich (and, for ``--local`` and ``emulator``, uvicorn) come with the ``cli`` extra, which an
SDK-only install lacks; they are imported only once a command runs, so a missing one is reported
in one line, and ``sfc --help`` works without them.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sfc_cli._format import one_line, parse_size, redact_token
from sfc_cli._problems import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    USAGE_ERROR,
    OutputError,
    error_line,
)
from sfc_core import DEFAULT_SERVER_URL, TOKEN_ENV, SfcCore, __version__
from sfc_emulator.__main__ import port_number, token_text

if TYPE_CHECKING:
    from sfc_cli._commands import Session

BASE_URL_ENV = "SFC_BASE_URL"

_DESCRIPTION = f"""\
Manage SF Compute images: the machine images GPU nodes boot from.

The API token is read from {TOKEN_ENV}; it is never taken on the command
line, where other users of the machine could read it in the process list.
"""

_EPILOG = """\
exit codes: 0 success, 1 API or transfer failure, 2 usage error, 130 interrupted

examples:
  sfc images list --all
  sfc images upload disk.img --name ubuntu-24.04-cuda --part-size 128MiB
  sfc images download image_k3R-nX9vLm7Qp2Yw5Jd8F -o disk.img
  sfc --local images list          (a local emulator, data kept between runs)
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_SIZE_OPTIONS = ("--part-size", "--min-part-size")


def _attach_negative_sizes(argv: Sequence[str]) -> list[str]:
    """``--part-size -5MiB`` as ``--part-size=-5MiB``.

    argparse takes ``-5MiB`` for an option and says only "expected one argument"; attached, the
    value reaches the size check, which says what is wrong with it.
    """
    out: list[str] = []
    items = iter(argv)
    for item in items:
        if item == "--":
            out.append(item)
            out.extend(items)
            break
        out.append(item)
        if item in _SIZE_OPTIONS:
            value = next(items, None)
            if value is None:
                break
            if value[:1] == "-" and value[1:2].isdigit():
                out[-1] = f"{item}={value}"
            else:
                out.append(value)
    return out


def _add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("global options")
    group.add_argument(
        "--base-url",
        metavar="URL",
        default=default(None),
        help=f"API base URL (default ${BASE_URL_ENV}, else {DEFAULT_SERVER_URL})",
    )
    group.add_argument(
        "--local",
        action="store_true",
        default=default(False),
        help="use a local emulator started for this command; images persist in "
        "$XDG_DATA_HOME/sfc-images/local (~/.local/share/sfc-images/local)",
    )
    group.add_argument(
        "--json", action="store_true", default=default(False), help="print results as JSON"
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default(False),
        help="no progress bars or notes; print only results",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="log requests to stderr (the token is redacted)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, every subcommand included."""
    parser = argparse.ArgumentParser(
        prog="sfc",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sfc {__version__}")
    _add_global_options(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(
        group: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
    ) -> argparse.ArgumentParser:
        sub = group.add_parser(name, help=help_text, description=help_text)
        _add_global_options(sub, top=False)
        return sub

    images = commands.add_parser("images", help="list, get, upload, download and delete images")
    _add_global_options(images, top=False)
    image_commands = images.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = command(image_commands, "list", "list images, newest first")
    listing.add_argument("--all", action="store_true", help="follow every page")
    listing.add_argument("--include-deleted", action="store_true", help="also list deleted images")
    listing.add_argument(
        "--limit",
        type=_positive_int,
        metavar="N",
        help="images per page, 1 to 200 (default 50); without --all, one page is shown",
    )
    listing.set_defaults(handler="list_images")

    get = command(image_commands, "get", "show one image")
    get.add_argument("image_id", metavar="ID", help="image id, image_...")
    get.set_defaults(handler="get_image")

    delete = command(image_commands, "delete", "delete an image (its name becomes free)")
    delete.add_argument("image_id", metavar="ID", help="image id, image_...")
    delete.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(handler="delete_image")

    upload = command(
        image_commands,
        "upload",
        "upload a raw disk image; re-running the same command resumes an interrupted upload",
    )
    upload.add_argument("file", metavar="FILE", type=Path, help="the image file")
    upload.add_argument("--name", required=True, help="image name: letters, digits, . _ -")
    upload.add_argument(
        "--concurrency", type=_positive_int, default=4, metavar="N", help="parts in flight (4)"
    )
    upload.add_argument(
        "--part-size",
        type=_size,
        metavar="SIZE",
        help="bytes per part: 64MiB, 128M, 1G ... (default: chosen from the file size)",
    )
    upload.set_defaults(handler="upload_image")

    download = command(image_commands, "download", "download an image and verify its sha256")
    download.add_argument("image_id", metavar="ID", help="image id, image_...")
    download.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="PATH",
        help="file or folder to write to (default: the image's name in the current folder)",
    )
    download.add_argument("--overwrite", action="store_true", help="replace an existing file")
    download.add_argument(
        "--concurrency", type=_positive_int, default=4, metavar="N", help="ranges in flight (4)"
    )
    download.set_defaults(handler="download_image")

    emulator = commands.add_parser(
        "emulator",
        help="run a local Images API server (same as sfc-emulator)",
        description="Run a local Images API server until Ctrl-C (same as sfc-emulator).",
    )
    emulator.add_argument("--host", default="127.0.0.1", help="interface (default %(default)s)")
    emulator.add_argument("--port", type=port_number, default=8080, help="port, 0 for any (8080)")
    emulator.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="state folder (default $XDG_DATA_HOME/sfc-emulator)",
    )
    emulator.add_argument(
        "--token",
        type=token_text,
        help="token the server accepts (default: a random one, printed at start)",
    )
    emulator.add_argument(
        "--min-part-size", type=_size, metavar="SIZE", help="smallest non-last part (5MiB)"
    )
    emulator.add_argument("--access-log", action="store_true", help="log every request")
    emulator.set_defaults(handler=None)
    return parser


def _emulator_argv(args: argparse.Namespace) -> list[str]:
    argv = ["--host", args.host, "--port", str(args.port)]
    if args.data is not None:
        argv += ["--data", str(args.data)]
    if args.token is not None:
        argv += ["--token", args.token]
    if args.min_part_size is not None:
        argv += ["--min-part-size", str(args.min_part_size)]
    if args.access_log:
        argv.append("--access-log")
    return argv


class _RedactToken(logging.Filter):
    """Belt and braces: the SDK never logs the token, and this makes sure no line carries it."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_token(message, self._token)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class _OncePerMessage(logging.Filter):
    """Pass each distinct message once: a warning repeated for every part of an upload says
    nothing new after the first time."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in self._seen:
            return False
        self._seen.add(message)
        return True


class _CurrentStderr(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time: while a progress bar is drawn, rich
    puts a proxy there that prints the line above the bar instead of through it."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(self.format(record), file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001 - logging's own contract: a handler never raises
            self.handleError(record)


def _set_up_logging(
    stack: contextlib.ExitStack, *, debug: bool, quiet: bool, token: str | None
) -> None:
    """Where the SDK's log lines go: every request with ``--debug``; otherwise its warnings,
    each once, as ``sfc: warning: ...`` lines (none with ``--quiet``)."""
    levels: tuple[tuple[str, int], ...]
    if debug:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        levels = (("sfc", logging.DEBUG), ("httpx", logging.INFO))
    else:
        handler = _CurrentStderr(logging.WARNING)
        handler.setFormatter(logging.Formatter("sfc: warning: %(message)s"))
        handler.addFilter(_OncePerMessage())
        levels = (("sfc", logging.ERROR if quiet else logging.WARNING),)
    if token:
        handler.addFilter(_RedactToken(token))
    for name, level in levels:
        logger = logging.getLogger(name)
        # Put back as found when the command ends: ``main`` may run inside a larger program.
        stack.callback(setattr, logger, "propagate", logger.propagate)
        stack.callback(logger.setLevel, logger.level)
        stack.callback(logger.removeHandler, handler)
        logger.setLevel(level)
        logger.addHandler(handler)
        # Python's last-resort handler would print the same warnings again, unprefixed.
        logger.propagate = False


def _endpoint(
    args: argparse.Namespace, environ: Mapping[str, str], stack: contextlib.ExitStack
) -> tuple[str, str | None]:
    """The server URL and token to use; with ``--local``, after starting the emulator."""
    if args.local:
        from sfc_cli._local import local_server  # keeps uvicorn off the path of other commands

        server = stack.enter_context(local_server(environ))
        return server.url, server.token
    return _base_url(args, environ), environ.get(TOKEN_ENV) or None


def _base_url(args: argparse.Namespace, environ: Mapping[str, str]) -> str:
    if args.base_url is not None:
        return str(args.base_url)
    return environ.get(BASE_URL_ENV) or DEFAULT_SERVER_URL


def url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as the API's base URL, in words for the command line."""
    example = f"such as {DEFAULT_SERVER_URL}"
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return f"not a URL; give an http:// or https:// URL {example}"
    if parts.scheme not in ("http", "https") or not host:
        return f"not an http:// or https:// URL; give one {example}"
    if parts.username is not None or parts.password is not None:
        return f"it must not hold credentials; the token is read from {TOKEN_ENV}"
    if parts.query or parts.fragment:
        return f"it must not have a ?query or #fragment; give only the server, {example}"
    return None


def _usage_problem(args: argparse.Namespace, environ: Mapping[str, str]) -> str | None:
    """What makes this command line unusable before anything starts, if anything."""
    if args.base_url is not None and not args.base_url.strip():
        return "--base-url is empty; give the API's URL or leave the option out"
    if args.local and args.base_url is not None:
        return "--local and --base-url exclude each other"
    if not args.local:
        url = _base_url(args, environ)
        problem = url_problem(url)
        if problem is not None:
            source = "--base-url" if args.base_url is not None else BASE_URL_ENV
            return f"bad {source} {one_line(url)!r}: {problem}"
    if not args.local and not environ.get(TOKEN_ENV):
        return f"no API token: set {TOKEN_ENV} (or use --local for a local emulator)"
    return None


def _usage_error(message: str, *, as_json: bool = False) -> int:
    print(error_line(message, USAGE_ERROR, EXIT_USAGE, as_json=as_json), file=sys.stderr)
    return EXIT_USAGE


_EXTRA_MODULES = frozenset({"rich", "starlette", "uvicorn"})


def _missing_extra(error: ImportError) -> bool:
    """Whether ``error`` is a missing optional dependency rather than a bug."""
    return (error.name or "").partition(".")[0] in _EXTRA_MODULES


def _extra_missing_error(error: ImportError) -> int:
    print(
        f"sfc: the command-line tool needs its extra ({error.name} is not installed): "
        "pip install 'sfc-images[cli]'",
        file=sys.stderr,
    )
    return EXIT_USAGE


def _run(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    handler: Callable[[Session, argparse.Namespace], int],
    session_type: type[Session],
) -> int:
    with contextlib.ExitStack() as stack:
        url, token = _endpoint(args, environ, stack)
        try:
            core = stack.enter_context(SfcCore(server_url=url, bearer_auth=token))
        except ValueError as exc:  # SfcCore's own check, should it be stricter than ours
            source = "--base-url" if args.base_url is not None else BASE_URL_ENV
            return _usage_error(f"bad {source}: {one_line(str(exc))}", as_json=args.json)
        _set_up_logging(stack, debug=args.debug, quiet=args.quiet, token=token)
        session = session_type.create(core=core, as_json=args.json, quiet=args.quiet)
        return handler(session, args)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit does not fail (and complain)
    a second time on the same broken output."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sfc`` with ``argv`` (default: the process arguments); returns the exit code."""
    raw = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(_attach_negative_sizes(raw))
    if args.command == "emulator":
        from sfc_emulator.__main__ import main as emulator_main

        return emulator_main(_emulator_argv(args))
    problem = _usage_problem(args, os.environ)
    if problem is not None:
        return _usage_error(problem, as_json=args.json)
    try:
        from sfc_cli import _commands
    except ImportError as exc:
        if not _missing_extra(exc):
            raise
        return _extra_missing_error(exc)
    try:
        return _run(args, os.environ, getattr(_commands, args.handler), _commands.Session)
    except ImportError as exc:  # --local starts an emulator: uvicorn and starlette
        if not _missing_extra(exc):
            raise
        return _extra_missing_error(exc)
    except KeyboardInterrupt:
        print("sfc: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`sfc images list | head`): stop quietly.
        _silence_stdout()
        return EXIT_FAILURE
    except OutputError as exc:
        _silence_stdout()
        message = f"cannot write the output: {exc.reason}"
        print(error_line(message, "OutputError", EXIT_FAILURE, as_json=args.json), file=sys.stderr)
        return EXIT_FAILURE
