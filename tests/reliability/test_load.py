"""Load: hundreds of concurrent calls with injected 503s all succeed, and afterwards no socket is
left open and memory is back where it started."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from pathlib import Path

import httpx

from sfc_core import SfcCore
from sfc_emulator import Emulator
from sfc_funcs.images_get import images_get_async
from sfc_funcs.images_start_upload import images_start_upload

from .conftest import Ledger


def client_connections(port: int) -> int:
    """Established TCP connections whose far end is ``port``: the client side of connections
    to the emulator (the emulator's own sockets have ``port`` as their near end)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[3] == "01":
                count += 1
    return count


def test_500_concurrent_gets_with_5_percent_503s(
    fast_core: SfcCore, emulator: Emulator, ledger: Ledger, long_run: bool
) -> None:
    calls = 2000 if long_run else 500
    image_id = images_start_upload(fast_core, "hot-image").unwrap().id
    core = fast_core.with_options(timeout=30.0)
    injected = calls // 20
    emulator.faults.add("get", status=503, retry_after=0, times=injected)

    async def burst() -> list[object]:
        try:
            return await asyncio.gather(*(images_get_async(core, image_id) for _ in range(calls)))
        finally:
            await core.aclose()

    port = httpx.URL(emulator.url).port
    assert port is not None
    sockets_before = client_connections(port)
    tracemalloc.start()
    warm_up = asyncio.run(burst())
    del warm_up
    emulator.requests.clear()
    gc.collect()
    baseline = tracemalloc.get_traced_memory()[0]
    emulator.faults.add("get", status=503, retry_after=0, times=injected)
    results = asyncio.run(burst())
    assert all(r.unwrap().id == image_id for r in results)  # type: ignore[attr-defined]
    assert emulator.faults.pending() == 0
    assert len(emulator.requests.by_route("get")) == calls + injected
    # What the test itself keeps (the results, the emulator's request log) is not the SDK's.
    del results
    emulator.requests.clear()
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - baseline
    tracemalloc.stop()

    assert client_connections(port) <= sockets_before
    assert retained < 2 * 1024 * 1024, f"{retained} bytes retained after the burst"
    ledger.add("load: concurrent calls", 2 * calls)
    ledger.add("load: injected 503s survived", 2 * injected)
