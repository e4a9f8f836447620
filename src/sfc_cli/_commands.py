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
    format_pairs,
    human_bytes,
    image_details,
    image_json,
    image_rows,
    list_json,
    one_line,
    redact_token,
)
from sfc_cli._problems import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    explain,
)
from sfc_cli._progress import transfer_bar
from sfc_core import ImageListEntry, SfcCore, SfcError
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

    def say(self, text: str) -> None:
        """A result line, on stdout."""
        print(text, file=self.stdout, flush=True)

    def note(self, text: str) -> None:
        """A remark for people, on stderr; ``--quiet`` drops it."""
        if not self.quiet:
            print(text, file=self.stderr, flush=True)

    def emit_json(self, data: Any) -> None:
        print(json.dumps(data, indent=2), file=self.stdout, flush=True)

    def error(self, message: str) -> None:
        message = redact_token(message, self.core.bearer_auth)
        print(f"sfc: error: {message}", file=self.stderr, flush=True)

    def fail(self, action: str, error: SfcError, *, conflict_hint: str = "") -> int:
        problem = explain(action, error, conflict_hint=conflict_hint)
        self.error(problem.message)
        return problem.exit_code

    def table(self, table: Table) -> None:
        if self.stdout.isatty():
            Console(file=self.stdout).print(table)
            return
        console = Console(file=io.StringIO(), width=_WIDE)
        with console.capture() as captured:
            console.print(table)
        # Cells are padded to the column width; trailing blanks only get in a pipe's way.
        for line in captured.get().splitlines():
            self.say(line.rstrip())


def _images_table(images: list[ImageListEntry], now: float) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for header in TABLE_HEADERS:
        table.add_column(header, no_wrap=True)
    for row in image_rows(images, now):
        table.add_row(*(Text(cell) for cell in row))
    return table


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
    session.table(_images_table(images, session.clock()))
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
            session.error(
                f"refusing to {action} without --yes: stdin is not a terminal to confirm on"
            )
            return EXIT_USAGE
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


def upload_image(session: Session, args: argparse.Namespace) -> int:
    """``sfc images upload FILE --name NAME``; re-running it resumes an interrupted upload."""
    path: Path = args.file
    action = f"upload {path}"
    with transfer_bar(session.bars, "upload") as progress:
        try:
            result = images_upload_file(
                session.core,
                path,
                args.name,
                concurrency=args.concurrency,
                part_size=args.part_size,
                progress=progress,
            )
        except KeyboardInterrupt:
            session.error(
                "upload interrupted; the parts sent so far are recorded: "
                "run the same command again to resume"
            )
            return EXIT_INTERRUPTED
    if not is_successful(result):
        return session.fail(
            action,
            result.failure(),
            conflict_hint="the name is taken: choose another --name or delete that image",
        )
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
    dest = output if output is not None and not output.is_dir() else (output or Path()) / image.name
    if dest.exists() and not args.overwrite:
        # The SDK refuses too, but in its own words (overwrite=True); say it in options.
        session.error(f"cannot {action}: {dest} already exists; add --overwrite to replace it")
        return EXIT_FAILURE
    with transfer_bar(session.bars, "download") as progress:
        try:
            result = images_download_file(
                session.core,
                image_id,
                dest,
                concurrency=args.concurrency,
                progress=progress,
                overwrite=args.overwrite,
            )
        except KeyboardInterrupt:
            session.error(
                f"download interrupted; the bytes received so far are kept beside {dest}: "
                "run the same command again to resume"
            )
            return EXIT_INTERRUPTED
    if not is_successful(result):
        return session.fail(
            action, result.failure(), conflict_hint="its upload has not completed yet"
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
