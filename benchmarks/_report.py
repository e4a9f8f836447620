"""Results: one ``Row`` per comparison, printed as a table, saved as JSON and put in the README.

A row's ``spread`` is of per-round ratios (ours over the baseline) for ratio rows, and of the
measured value itself for the one absolute row (B5's peak RSS in MiB). ``medians`` are the raw
numbers behind the ratio and go everywhere; ``details`` (CPU times and the like) only go to
``results.json``. Every target is an upper
bound on the median. The README is someone else's document: only the text between the two
markers is ours, and without the markers it is left alone.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks._measure import Spread

START_MARKER = "<!-- bench:start -->"
END_MARKER = "<!-- bench:end -->"


@dataclass(frozen=True)
class Row:
    """One comparison and whether it meets its target."""

    id: str
    variant: str
    what: str
    compared_with: str
    spread: Spread
    target: float
    medians: Mapping[str, float]
    unit: str = "x"
    note: str = ""
    details: Mapping[str, float] = field(default_factory=dict)
    met: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "met", self.spread.median <= self.target)

    @property
    def label(self) -> str:
        return f"{self.id} {self.variant}".strip()

    def shown(self) -> str:
        s = self.spread
        digits = 0 if self.unit == "MiB" else 2
        return f"{s.median:.{digits}f} ({s.low:.{digits}f}-{s.high:.{digits}f})"

    def target_shown(self) -> str:
        if self.unit == "MiB":
            return f"≤ {self.target:.0f} MiB"
        return f"≤ {self.target:.2f}x"

    def medians_shown(self) -> str:
        shown = ", ".join(
            f"{_stem(name)} {_human(name, value)}" for name, value in self.medians.items()
        )
        return f"{shown}; {self.note}" if self.note else shown


def _stem(name: str) -> str:
    """``sdk_s`` → ``sdk``: the unit suffix only says how to print the value."""
    for suffix in ("_s", "_mib", "_mibps"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _human(name: str, value: float) -> str:
    if name.endswith("_s"):
        if value < 1e-3:
            return f"{value * 1e6:.1f} µs"
        if value < 1:
            return f"{value * 1e3:.1f} ms"
        return f"{value:.2f} s"
    if name.endswith("_mib"):
        return f"{value:.0f} MiB"
    if name.endswith("_mibps"):
        return f"{value:.0f} MiB/s"
    return f"{value:g}"


def table(rows: Sequence[Row]) -> str:
    """A plain-text table for the terminal."""
    header = ("row", "ratio med (min-max)", "target", "met", "raw medians; notes")
    lines = [
        (r.label, r.shown(), r.target_shown(), "yes" if r.met else "NO", r.medians_shown())
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=False)]
    widths[-1] = 0
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(out)


def markdown(rows: Sequence[Row], context: str, image: str | None) -> str:
    """The README section: a table, what the numbers are, and the throughput chart."""
    out = [
        "| id | what | compared with | ratio median (min-max) | target | met "
        "| raw medians; notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        what = r.what if not r.variant else f"{r.what} ({r.variant})"
        out.append(
            f"| {r.id} | {what} | {r.compared_with} | {r.shown()} | {r.target_shown()} | "
            f"{'yes' if r.met else '**no**'} | {r.medians_shown()} |"
        )
    out += ["", context]
    if image is not None:
        out += ["", f"![throughput]({image})"]
    return "\n".join(out)


def machine() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def write_json(
    path: Path, rows: Sequence[Row], settings: Mapping[str, Any], extra: Mapping[str, Any]
) -> None:
    document = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": dict(settings),
        "rows": [asdict(r) for r in rows],
        **extra,
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def update_readme(path: Path, section: str) -> str:
    """Replace what is between the markers in ``path``; returns what happened, for the log."""
    if not path.is_file():
        return f"{path} does not exist; README not updated"
    text = path.read_text()
    start = text.find(START_MARKER)
    end = text.find(END_MARKER, start + len(START_MARKER)) if start != -1 else -1
    if start == -1 or end == -1:
        return f"{path} has no {START_MARKER} ... {END_MARKER} markers; README not updated"
    head = text[: start + len(START_MARKER)]
    path.write_text(f"{head}\n{section}\n{text[end:]}")
    return f"updated the performance section of {path}"
