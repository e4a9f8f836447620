"""``throughput.png``: upload and download throughput against file size and against concurrency,
ours beside the CLI method and the limit.

``python -m benchmarks._plot results.json out.png`` redraws it from saved results.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display, and no GUI toolkit to import

import matplotlib.pyplot as plt

STYLES = {
    "ours": {"label": "sfc-images", "color": "#1f77b4", "marker": "o", "linestyle": "-"},
    "cli": {"label": "CLI method", "color": "#ff7f0e", "marker": "s", "linestyle": "--"},
    "limit": {"label": "limit", "color": "#555555", "marker": "", "linestyle": ":"},
}


def _size_label(mib: float) -> str:
    return f"{mib / 1024:g} GiB" if mib >= 1024 else f"{mib:g} MiB"


def _panel(axes: Any, x: list[float], series: dict[str, list[float]], title: str) -> None:
    for name in ("limit", "cli", "ours"):
        if name in series:
            axes.plot(x, series[name], linewidth=2, markersize=6, **STYLES[name])
    axes.set_title(title, fontsize=11)
    axes.set_ylabel("MiB/s")
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)


def draw(curves: dict[str, Any], path: Path) -> Path:
    by_size, by_concurrency = curves["size"], curves["concurrency"]
    figure, grid = plt.subplots(2, 2, figsize=(11, 7.5), constrained_layout=True)
    sizes = by_size["sizes_mib"]
    for column, direction in enumerate(("upload", "download")):
        top = grid[0][column]
        _panel(top, sizes, by_size[direction], f"{direction} vs file size (concurrency 4)")
        top.set_xscale("log", base=2)
        top.set_xticks(sizes, [_size_label(s) for s in sizes])
        top.minorticks_off()
        top.set_xlabel("file size")
        bottom = grid[1][column]
        levels = by_concurrency["concurrency"]
        title = f"{direction} vs concurrency ({_size_label(by_concurrency['size_mib'])})"
        _panel(bottom, levels, by_concurrency[direction], title)
        bottom.set_xscale("log", base=2)
        bottom.set_xticks(levels, [str(c) for c in levels])
        bottom.minorticks_off()
        bottom.set_xlabel("parts or ranges in flight")
    handles, labels = grid[0][0].get_legend_handles_labels()
    order = [labels.index(STYLES[n]["label"]) for n in ("ours", "cli", "limit")]
    figure.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="outside upper center",
        ncols=3,
        frameon=False,
    )
    figure.supxlabel(
        "one run per point; limit = max(sha256 of the file, one raw streamed request to the "
        "emulator); client and emulator share the same cores",
        fontsize=9,
        color="#555555",
    )
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


if __name__ == "__main__":
    draw(json.loads(Path(sys.argv[1]).read_text())["curves"], Path(sys.argv[2]))
