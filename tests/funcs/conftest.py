"""Fixtures of the file-workflow tests: the session emulator with its clock put back after each
test, and a core that records the waits it was asked for instead of waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

from sfc_core import RetryConfig, SfcCore
from sfc_emulator import Emulator


class Sleeps(list[float]):
    """The waits a core was asked for."""


@pytest.fixture
def emu(emulator: Emulator) -> Iterator[Emulator]:
    clock = emulator.state.clock
    yield emulator
    emulator.state.clock = clock


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def core(emulator: Emulator, sleeps: Sleeps) -> Iterator[SfcCore]:
    async def no_wait(seconds: float) -> None:
        sleeps.append(seconds)

    sdk = SfcCore(
        server_url=emulator.url,
        bearer_auth=emulator.token,
        timeout=10.0,
        retry=RetryConfig(max_attempts=4),
        sleep=sleeps.append,
        async_sleep=no_wait,
    )
    yield sdk
    sdk.close()


InMode = Callable[..., Any]


@pytest.fixture(params=["sync", "async"])
def in_mode(request: pytest.FixtureRequest) -> InMode:
    """``in_mode(sync_fn, async_fn, core, *args, **kwargs)`` calls the form under test; the
    async form runs in a fresh event loop and closes the core's async client after."""

    def run(
        sync: Callable[..., Any],
        async_: Callable[..., Coroutine[Any, Any, Any]],
        core: SfcCore,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if request.param == "sync":
            return sync(core, *args, **kwargs)

        async def go() -> Any:
            try:
                return await async_(core, *args, **kwargs)
            finally:
                await core.aclose()

        return asyncio.run(go())

    return run
