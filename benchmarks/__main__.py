"""``python -m benchmarks``: run the benchmarks, print the table, save the results.

By default results go to ``benchmarks/results.json`` and ``benchmarks/throughput.png`` and the
README's performance section is rewritten. With ``--out`` they go to that directory instead and
the README is only touched when ``--readme`` names one, so a trial run cannot overwrite the
committed results.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import _report
from benchmarks._report import Row
from benchmarks._settings import Settings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ALL = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "curves")
TRANSFER = frozenset({"B4", "B5", "B6", "curves"})


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, 1-2 repeats")
    parser.add_argument(
        "--only", default=",".join(ALL), help="comma-separated subset of %(default)s"
    )
    parser.add_argument(
        "--size-gib", type=float, default=1.0, help="B4/B6 file size (default %(default)s)"
    )
    parser.add_argument("--rounds", type=int, default=None, help="rounds for B1-B3 and B7")
    parser.add_argument("--transfer-rounds", type=int, default=None, help="rounds for B4-B6")
    parser.add_argument("--out", type=Path, default=None, help="results directory")
    parser.add_argument("--work", type=Path, default=None, help="scratch directory")
    parser.add_argument("--readme", type=Path, default=None, help="README to update")
    parser.add_argument("--no-readme", action="store_true", help="leave the README alone")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    out: Path = args.out or HERE
    work: Path = args.work or (out / ".work")
    if args.smoke:
        settings = Settings.tiny(work=work, out=out)
    else:
        settings = Settings.full(work=work, out=out, size_gib=args.size_gib)
    changes: dict[str, int] = {}
    if args.rounds is not None:
        changes["rounds"] = changes["process_runs"] = args.rounds
    if args.transfer_rounds is not None:
        changes["transfer_rounds"] = args.transfer_rounds
    if changes:
        settings = Settings(**{**settings.__dict__, **changes})
    return settings


def readme_path(args: argparse.Namespace) -> Path | None:
    if args.no_readme:
        return None
    if args.readme is not None:
        return Path(args.readme)
    return ROOT / "README.md" if args.out is None else None


def _timed(name: str, run: Callable[[], list[Row]]) -> list[Row]:
    print(f"running {name} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    rows = run()
    print(f"  {name} done in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    selected = {part.strip() for part in args.only.split(",") if part.strip()}
    unknown = selected - set(ALL)
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    settings = settings_from(args)
    settings.out.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    extra: dict[str, object] = {}
    chart: Path | None = None
    # Imported on demand: each pulls in what only it needs (pydantic, matplotlib, ...).
    if "B1" in selected:
        from benchmarks import b1_import

        rows += _timed("B1", lambda: b1_import.run(settings))
    if "B2" in selected:
        from benchmarks import b2_call

        rows += _timed("B2", lambda: b2_call.run(settings))
    if "B3" in selected:
        from benchmarks import b3_parse

        rows += _timed("B3", lambda: b3_parse.run(settings))
    if "B7" in selected:
        from benchmarks import b7_iter

        rows += _timed("B7", lambda: b7_iter.run(settings))
    if selected & TRANSFER:
        from benchmarks import transfer

        created = not settings.work.exists()
        settings.work.mkdir(parents=True, exist_ok=True)
        try:
            outcome = transfer.run(settings, selected)
        finally:
            if created:
                shutil.rmtree(settings.work, ignore_errors=True)
        rows += outcome.rows
        extra["curves"] = outcome.curves
        chart = outcome.chart
    order = {name: i for i, name in enumerate(ALL)}
    rows.sort(key=lambda r: order[r.id])

    print(_report.table(rows))
    results = settings.out / "results.json"
    _report.write_json(results, rows, _settings_summary(settings, selected), extra)
    print(f"wrote {results}", file=sys.stderr)
    readme = readme_path(args)
    if readme is not None:
        image = None if chart is None else os.path.relpath(chart, readme.resolve().parent)
        section = _report.markdown(rows, _context(settings), image)
        print(_report.update_readme(readme, section), file=sys.stderr)
    if args.check and not all(r.met for r in rows):
        return 1
    return 0


def _settings_summary(settings: Settings, selected: set[str]) -> dict[str, object]:
    summary: dict[str, object] = {
        k: (str(v) if isinstance(v, Path) else v) for k, v in settings.__dict__.items()
    }
    summary["selected"] = sorted(selected)
    return summary


def _context(settings: Settings) -> str:
    m = _report.machine()
    return (
        f"Measured by `python -m benchmarks` on {m['cpus']} shared CPUs, Python {m['python']}, "
        f"{time.strftime('%Y-%m-%d')}. Ratios are ours over the baseline, one per round of "
        f"interleaved runs ({settings.rounds} rounds in process, {settings.transfer_rounds} for "
        "transfers); lower is better. Details in `benchmarks/results.json`."
    )


if __name__ == "__main__":
    sys.exit(main())
