"""Transfer progress bars on stderr: bytes, percent, speed and time left.

The SDK calls ``progress(done_bytes, total_bytes)`` from its worker threads; rich's ``Progress``
takes updates from any thread. A resumed upload starts with bytes already done: the first report
resets the bar at that point instead of counting it as bytes moved in the first instant, which
would show an absurd speed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from sfc_cli._format import human_bytes

ProgressCallback = Callable[[int, int], None]


class _SpeedColumn(ProgressColumn):
    """Bytes per second in binary units, as the byte counts beside it (rich's own column uses
    decimal ones, which would show 64 MiB moving at "67 MB/s")."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        text = "?" if speed is None else f"{human_bytes(int(speed))}/s"
        return Text(text, style="progress.data.speed")


class _Bar:
    def __init__(self, progress: Progress, label: str) -> None:
        self._progress = progress
        self._task = progress.add_task(label, total=None)
        self._started = False

    def __call__(self, done: int, total: int) -> None:
        if not self._started:
            self._started = True
            self._progress.reset(self._task, total=total, completed=done)
        else:
            self._progress.update(self._task, total=total, completed=done)


@contextlib.contextmanager
def transfer_bar(console: Console | None, label: str) -> Iterator[ProgressCallback | None]:
    """A progress callback drawing on ``console``; ``None`` (no bar) when console is ``None``."""
    if console is None:
        yield None
        return
    # Narrow enough for an 80-column terminal: wider, rich wraps the columns onto two lines.
    progress = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(bar_width=24),
        TaskProgressColumn(),
        DownloadColumn(binary_units=True),
        _SpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    with progress:
        yield _Bar(progress, label)
