"""What one run of the benchmarks does: sizes, repeats and where files go."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

MIB = 2**20
GIB = 2**30


@dataclass(frozen=True)
class Settings:
    """Knobs shared by every benchmark.

    Attributes:
        smoke: tiny sizes and few repeats, to check that everything runs.
        rounds: interleaved rounds for the in-process benchmarks (B2, B3, B7).
        batch_seconds: how long one batch of calls lasts in those rounds.
        warmup_seconds: calls made before measuring starts.
        process_runs: fresh processes per contender for B1.
        transfer_rounds: rounds of B4 to B6 (each contender once per round).
        size: bytes of the B4 and B6 file.
        big_factor: B5 compares ``size`` with ``size * big_factor``.
        part_size: the CLI method's part size (ours uses its default unless smoke).
        min_part_size: the emulator's smallest part, as the real store's outside smoke runs.
        concurrency: parts in flight, ours and the CLI method's.
        curve_sizes: file sizes of the size curves.
        curve_concurrency: concurrencies of the concurrency curves.
        curve_size: file size of the concurrency curves.
        curve_rounds: rounds per point of the curves.
        work: scratch directory for files, the emulator's data and downloads.
        out: where ``results.json`` and ``throughput.png`` go.
        python: the interpreter for child processes.
    """

    smoke: bool
    rounds: int
    batch_seconds: float
    warmup_seconds: float
    process_runs: int
    transfer_rounds: int
    size: int
    big_factor: int
    part_size: int
    min_part_size: int
    concurrency: int
    curve_sizes: tuple[int, ...]
    curve_concurrency: tuple[int, ...]
    curve_size: int
    curve_rounds: int
    work: Path
    out: Path
    python: str = sys.executable

    @classmethod
    def full(cls, *, work: Path, out: Path, size_gib: float = 1.0, rounds: int = 31) -> Settings:
        size = int(size_gib * GIB)
        return cls(
            smoke=False,
            rounds=rounds,
            batch_seconds=0.03,
            warmup_seconds=1.0,
            process_runs=rounds,
            transfer_rounds=3,
            size=size,
            big_factor=4,
            part_size=64 * MIB,
            min_part_size=5 * MIB,
            concurrency=4,
            curve_sizes=(64 * MIB, 256 * MIB, GIB, 4 * GIB),
            curve_concurrency=(1, 2, 4, 8, 16),
            curve_size=GIB,
            curve_rounds=1,
            work=work,
            out=out,
        )

    @classmethod
    def tiny(cls, *, work: Path, out: Path) -> Settings:
        return cls(
            smoke=True,
            rounds=2,
            batch_seconds=0.01,
            warmup_seconds=0.05,
            process_runs=2,
            transfer_rounds=1,
            size=4 * MIB,
            big_factor=4,
            part_size=MIB,
            min_part_size=MIB,
            concurrency=4,
            curve_sizes=(MIB, 4 * MIB),
            curve_concurrency=(1, 4),
            curve_size=4 * MIB,
            curve_rounds=1,
            work=work,
            out=out,
        )
