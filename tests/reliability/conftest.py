"""The reliability suite's ledger: every case records what it tried and what came of it, and the
totals are printed at the end of the run (cases, faults injected and survived, bytes lost, token
leaks), so a reader sees what was exercised, not only that it passed."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from attrs import define, field

from sfc_core import SfcCore


@define
class Ledger:
    counts: Counter[str] = field(factory=Counter)
    lock: threading.Lock = field(factory=threading.Lock)

    def add(self, key: str, amount: int = 1) -> None:
        with self.lock:
            self.counts[key] += amount


LEDGER = Ledger()


@pytest.fixture
def ledger() -> Ledger:
    return LEDGER


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not LEDGER.counts:
        return
    terminalreporter.section("reliability ledger")
    for key in sorted(LEDGER.counts):
        terminalreporter.write_line(f"{key:<40} {LEDGER.counts[key]}")


@pytest.fixture
def fast_core(core: SfcCore) -> Iterator[SfcCore]:
    """The shared test core (retry waits skipped), with attempts that time out quickly."""
    sdk = core.with_options(timeout=1.0)
    yield sdk
    sdk.close()
