"""The reliability suite's ledger: every case records what it tried and what came of it, and the
totals are printed at the end of the run (cases, faults injected and survived, bytes lost, token
leaks), so a reader sees what was exercised, not only that it passed."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from attrs import define, field

from sfc_core import RetryConfig, SfcCore
from sfc_emulator import Emulator


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


async def _no_wait(seconds: float) -> None:
    return None


@pytest.fixture
def fast_core(emulator: Emulator) -> Iterator[SfcCore]:
    """A core whose retry waits are skipped and whose attempts time out quickly."""
    sdk = SfcCore(
        server_url=emulator.url,
        bearer_auth=emulator.token,
        timeout=1.0,
        retry=RetryConfig(max_attempts=4),
        sleep=lambda seconds: None,
        async_sleep=_no_wait,
    )
    yield sdk
    sdk.close()
