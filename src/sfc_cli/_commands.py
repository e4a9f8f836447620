"""The ``sfc images`` commands: each calls the SDK functions and prints what came back.

Every command takes the ``Session`` and the parsed arguments and returns an exit code. Results go
to stdout (a table, aligned lines, or JSON with ``--json``); notes, prompts, progress bars and
errors go to stderr, so ``sfc ... --json | jq`` always reads clean JSON. An error is one line
built by ``_problems.explain``; no command lets an expected failure escape as a traceback.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from attrs import frozen
from returns.pipeline import is_successful
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sfc_cli._format import (
    TABLE_HEADERS,
    delete_json,
    download_file_name,
    format_pairs,
    human_bytes,
    image_details,
    image_json,
    image_rows,
    list_json,
    one_line,
    redact_token,
    table_layout,
)
from sfc_cli._problems import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    USAGE_ERROR,
    OutputError,
    error_line,
    explain,
)
from sfc_cli._progress import transfer_bar
from sfc_core import ConflictError, ImageListEntry, SfcCore, SfcError
from sfc_funcs.images_delete import images_delete
from sfc_funcs.images_download_file import images_download_file
from sfc_funcs.images_get import images_get
from sfc_funcs.images_iter import images_iter
from sfc_funcs.images_list import images_list
from sfc_funcs.images_upload_file import images_upload_file

_WIDE = 1000
"""Console width when stdout is not a terminal: a pipe has no width, and wrapping ids there
would break ``grep`` and ``awk``."""


@frozen(kw_only=True)
class Session:
    """What every command needs: the SDK core and how to talk to the user."""

    core: SfcCore
    as_json: bool
    quiet: bool
    stdout: TextIO
    stderr: TextIO
    bars: Console | None
    """Where progress bars are drawn; ``None`` when there must be none (no TTY, quiet, JSON)."""
    clock: Callable[[], float] = time.time

    @classmethod
    def create(cls, *, core: SfcCore, as_json: bool, quiet: bool) -> Session:
        console = Console(stderr=True)
        show_bars = console.is_terminal and not (quiet or as_json)
        return cls(
            core=core,
            as_json=as_json,
            quiet=quiet,
            stdout=sys.stdout,
            stderr=sys.stderr,
            bars=console if show_bars else None,
        )

    def _write(self, text: str) -> None:
        try:
            print(text, file=self.stdout, flush=True)
        except BrokenPipeError:
            raise
        except OSError as exc:  # /dev/full, a terminal that went away
            raise OutputError(exc.strerror or str(exc)) from exc

    def say(self, text: str) -> None:
        """A result line, on stdout."""
        self._write(text)

    def note(self, text: str) -> None:
        """A remark for people, on stderr; ``--quiet`` drops it."""
        if not self.quiet:
            print(text, file=self.stderr, flush=True)

    def emit_json(self, data: Any) -> None:
        self._write(json.dumps(data, indent=2))

    def error(self, message: str, *, exit_code: int, kind: str) -> int:
        """Print an error (as JSON with ``--json``) and return ``exit_code``."""
        message = redact_token(message, self.core.bearer_auth)
        line = error_line(message, kind, exit_code, as_json=self.as_json)
        print(line, file=self.stderr, flush=True)
        return exit_code

    def fail(
        self, action: str, error: SfcError, *, conflict_hint: str = "", resumable: bool = False
    ) -> int:
        problem = explain(action, error, conflict_hint=conflict_hint, resumable=resumable)
        return self.error(problem.message, exit_code=problem.exit_code, kind=type(error).__name__)

    def interrupted(self, message: str) -> int:
        return self.error(message, exit_code=EXIT_INTERRUPTED, kind="Interrupted")

    def table(self, images: list[ImageListEntry]) -> None:
        now = self.clock()
        if self.stdout.isatty():
            terminal = Console(file=self.stdout)
            table, width = _images_table(images, now, terminal.width)
            try:
                Console(file=self.stdout, width=max(width, terminal.width)).print(table)
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise OutputError(exc.strerror or str(exc)) from exc
            return
        table, _ = _images_table(images, now, None)
        console = Console(file=io.StringIO(), width=_WIDE)
        with console.capture() as captured:
            console.print(table)
        # Cells are padded to the column width; trailing blanks only get in a pipe's way.
        for line in captured.get().splitlines():
            self.say(line.rstrip())


def _images_table(images: list[ImageListEntry], now: float, width: int | None) -> tuple[Table, int]:
    """The table for ``width`` columns (``None``: a pipe, no limit), and its real width."""
    rows = image_rows(images, now)
    shown, name_width, table_width = table_layout(rows, width)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for index in shown:
        if index == 0:
            table.add_column(
                TABLE_HEADERS[index], no_wrap=True, overflow="ellipsis", width=name_width
            )
        else:
            table.add_column(TABLE_HEADERS[index], no_wrap=True)
    for row in rows:
        table.add_row(*(Text(row[index]) for index in shown))
    return table, table_width


def list_images(session: Session, args: argparse.Namespace) -> int:
    """``sfc images list``: one page, or every page with ``--all``."""
    include_deleted = True if args.include_deleted else None
    images: list[ImageListEntry] = []
    has_more, cursor = False, None
    if args.all:
        for result in images_iter(
            session.core, page_size=args.limit, include_deleted=include_deleted
        ):
            if not is_successful(result):
                return session.fail("list images", result.failure())
            images.append(result.unwrap())
    else:
        page = images_list(session.core, limit=args.limit, include_deleted=include_deleted)
        if not is_successful(page):
            return session.fail("list images", page.failure())
        listing = page.unwrap()
        images, has_more, cursor = list(listing.data), listing.has_more, listing.cursor
    if session.as_json:
        session.emit_json(list_json(images, has_more=has_more, cursor=cursor))
        return EXIT_OK
    if not images:
        session.note("no images yet; upload one with: sfc images upload FILE --name NAME")
        return EXIT_OK
    session.table(images)
    if has_more:
        session.note("more images exist: add --all to list every page")
    return EXIT_OK


def get_image(session: Session, args: argparse.Namespace) -> int:
    """``sfc images get ID``."""
    result = images_get(session.core, args.image_id)
    if not is_successful(result):
        return session.fail(f"get image {one_line(args.image_id)}", result.failure())
    image = result.unwrap()
    if session.as_json:
        session.emit_json(image_json(image))
    else:
        session.say(format_pairs(image_details(image, session.clock())))
    return EXIT_OK


def _confirmed(session: Session, question: str) -> bool:
    session.stderr.write(f"{question} [y/N] ")
    session.stderr.flush()
    answer = sys.stdin.readline()
    if not answer:
        # EOF (Ctrl-D) answers nothing; end the prompt's line before the next message.
        session.stderr.write("\n")
    return answer.strip().lower() in ("y", "yes")


def delete_image(session: Session, args: argparse.Namespace) -> int:
    """``sfc images delete ID``: asks first on a terminal, refuses to guess elsewhere."""
    image_id: str = args.image_id
    action = f"delete image {one_line(image_id)}"
    if not args.yes:
        if not sys.stdin.isatty():
            return session.error(
                f"refusing to {action} without --yes: stdin is not a terminal to confirm on",
                exit_code=EXIT_USAGE,
                kind=USAGE_ERROR,
            )
        found = images_get(session.core, image_id)
        if not is_successful(found):
            return session.fail(action, found.failure())
        image = found.unwrap()
        if not _confirmed(session, f"Delete image {one_line(image.name)} ({image.id})?"):
            session.note("not deleted")
            return EXIT_FAILURE
    result = images_delete(session.core, image_id)
    if not is_successful(result):
        return session.fail(action, result.failure(), conflict_hint="a node template uses it")
    deleted = result.unwrap()
    if session.as_json:
        session.emit_json(delete_json(image_id, deleted))
    elif not session.quiet:
        session.say(f"deleted image {one_line(deleted.name)} ({image_id})")
    return EXIT_OK


_NAME_SEARCH_LIMIT = 1000
"""Images looked through for the one holding a taken name: the hint is not worth more."""


def _name_holder(session: Session, name: str) -> str | None:
    """The id of the image called ``name``, if a few pages of the listing show it."""
    for number, result in enumerate(images_iter(session.core, page_size=200)):
        if not is_successful(result) or number >= _NAME_SEARCH_LIMIT:
            return None
        image = result.unwrap()
        if image.name == name:
            return image.id
    return None


def _taken_name_hint(session: Session, name: str) -> str:
    holder = _name_holder(session, name)
    if holder is None:
        return "choose another --name, or delete the image that has it (sfc images delete ID)"
    return f"it is {holder}: delete it with `sfc images delete {holder}` or choose another --name"


def upload_image(session: Session, args: argparse.Namespace) -> int:
    """``sfc images upload FILE --name NAME``; re-running it resumes an interrupted upload."""
    path: Path = args.file
    action = f"upload {path}"
    try:
        # The bar is stopped (the ``with`` left) before any message: printed while it is drawn,
        # a message would land at the end of the bar's line and the bar be drawn again below.
        with transfer_bar(session.bars, "upload") as progress:
            result = images_upload_file(
                session.core,
                path,
                args.name,
                concurrency=args.concurrency,
                part_size=args.part_size,
                progress=progress,
            )
    except KeyboardInterrupt:
        return session.interrupted(
            "upload interrupted; the parts sent so far are recorded: "
            "run the same command again to resume"
        )
    if not is_successful(result):
        error = result.failure()
        hint = _taken_name_hint(session, args.name) if isinstance(error, ConflictError) else ""
        return session.fail(action, error, conflict_hint=hint, resumable=True)
    image = result.unwrap()
    if session.as_json:
        session.emit_json(image_json(image))
    elif session.quiet:
        session.say(image.id)
    else:
        size = human_bytes(path.stat().st_size)
        session.say(f"uploaded {path} ({size}) as {one_line(image.name)}")
        session.say(format_pairs([("id", image.id), ("sha256", image.sha256 or "-")]))
    return EXIT_OK


def download_image(session: Session, args: argparse.Namespace) -> int:
    """``sfc images download ID [-o PATH]``: the bytes are checked against size and sha256."""
    image_id: str = args.image_id
    action = f"download image {one_line(image_id)}"
    # The image's name is the default file name, and its sha256 is what the bytes are checked
    # against: fetch it first (this also fails fast on a wrong id, before any file is touched).
    found = images_get(session.core, image_id)
    if not is_successful(found):
        return session.fail(action, found.failure())
    image = found.unwrap()
    output: Path | None = args.output
    if output is not None and not output.is_dir():
        dest = output
    else:
        file_name = download_file_name(image.name, image_id)
        if file_name != image.name:
            session.note(
                f"the image's name {one_line(image.name)!r} is not a plain file name; "
                f"writing to {file_name}"
            )
        dest = (output or Path()) / file_name
    if dest.exists() and not args.overwrite:
        # The SDK refuses too, but in its own words (overwrite=True); say it in options.
        return session.error(
            f"cannot {action}: {dest} already exists; add --overwrite to replace it",
            exit_code=EXIT_FAILURE,
            kind="FileExistsError",
        )
    try:
        with transfer_bar(session.bars, "download") as progress:
            result = images_download_file(
                session.core,
                image_id,
                dest,
                concurrency=args.concurrency,
                progress=progress,
                overwrite=args.overwrite,
            )
    except KeyboardInterrupt:
        return session.interrupted(
            f"download interrupted; the bytes received so far are kept beside {dest}: "
            "run the same command again to resume"
        )
    if not is_successful(result):
        return session.fail(
            action,
            result.failure(),
            conflict_hint="wait until its upload completes (an unfinished upload resumes when "
            "its `sfc images upload` command is run again)",
            resumable=True,
        )
    written = result.unwrap()
    size = written.stat().st_size
    if session.as_json:
        session.emit_json(
            {
                "id": image.id,
                "name": image.name,
                "path": str(written),
                "size": size,
                "sha256": image.sha256,
            }
        )
    elif session.quiet:
        session.say(str(written))
    else:
        session.say(f"downloaded {one_line(image.name)} to {dest} ({human_bytes(size)})")
        session.say(format_pairs([("id", image.id), ("sha256", f"{image.sha256} (verified)")]))
    return EXIT_OK
