"""Measuring: contenders timed side by side in one process, and child processes on their own.

``interleaved`` times batches of calls, one short batch per contender per round, in the order
given on even rounds and reversed on odd ones (A B B A): a contender and its baseline, listed
next to each other, always run back to back, each first half of the time, so that drift and the
neighbours on a shared machine hit both alike. ``run_process`` runs a child and collects
its CPU time with ``os.wait4``: what ``getrusage(RUSAGE_CHILDREN)`` would add up, but for this
child alone.

Peak memory is not taken from there. Linux carries a process's peak RSS over into its
``ru_maxrss`` across ``fork`` and ``exec``, so a child of this (large) process would report at
least our own size. Children report their own ``VmHWM`` instead (``_child.peak_rss``): the
high-water mark of the memory mapped since their ``exec``.
"""

from __future__ import annotations

import gc
import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Call = Callable[[], object]


@dataclass(frozen=True)
class Spread:
    """Median, min and max of a series."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))


def ratios(ours: Sequence[float], base: Sequence[float]) -> list[float]:
    """Per-round ratios: each of our samples over the baseline's from the same round."""
    return [a / b for a, b in zip(ours, base, strict=True)]


def calibrate(call: Call, seconds: float) -> int:
    """How many calls make a batch that lasts about ``seconds``."""
    call()
    n = 1
    while True:
        start = time.perf_counter_ns()
        for _ in range(n):
            call()
        elapsed = (time.perf_counter_ns() - start) / 1e9
        if elapsed >= seconds / 4 or n >= 1 << 20:
            return max(1, round(n * seconds / max(elapsed, 1e-9)))
        n *= 4


def interleaved(
    contenders: Mapping[str, Call],
    *,
    rounds: int,
    batch_seconds: float,
    warmup_seconds: float,
) -> dict[str, list[float]]:
    """Seconds per call of each contender, one sample per round.

    Every contender gets the same batch size (calibrated on the slowest), so each round compares
    equal amounts of work. Garbage is collected before each batch rather than switched off:
    allocation-heavy code should pay for its collections, but not for another contender's.
    """
    names = list(contenders)
    deadline = time.perf_counter() + warmup_seconds
    while True:
        for name in names:
            contenders[name]()
        if time.perf_counter() >= deadline:
            break
    batch = min(calibrate(contenders[name], batch_seconds) for name in names)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            call = contenders[name]
            gc.collect()
            start = time.perf_counter_ns()
            for _ in range(batch):
                call()
            samples[name].append((time.perf_counter_ns() - start) / 1e9 / batch)
    return samples


@dataclass(frozen=True)
class ProcessRun:
    """One finished child process: its stdout, wall time as seen from here, and its own CPU
    time (user plus system)."""

    stdout: str
    wall: float
    cpu: float


class ChildFailedError(RuntimeError):
    """A child process exited with an error or ran out of time."""


def run_process(
    argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None
) -> ProcessRun:
    """Run ``argv`` to the end and measure it; ``ChildFailedError`` if it does not succeed."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        # A timer rather than a polling loop: wait4 must be the call that reaps the child, or its
        # resource usage is lost.
        killer = threading.Timer(timeout, os.kill, (child.pid, signal.SIGKILL))
        killer.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode()
        stderr = err.read().decode()
    if child.returncode != 0:
        reason = "timed out" if child.returncode == -signal.SIGKILL else "failed"
        raise ChildFailedError(
            f"{' '.join(argv[:4])}... {reason} (exit {child.returncode}):\n{stderr[-2000:]}"
        )
    return ProcessRun(stdout, wall, usage.ru_utime + usage.ru_stime)
