"""Fixtures for the emulator's own tests: one server per session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.helpers import MIN_PART, TOKEN, Api
from sfc_emulator import Emulator


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    with Emulator(token=TOKEN, min_part_size=MIN_PART) as emu:
        yield emu


@pytest.fixture
def emulator(emulator_server: Emulator) -> Iterator[Emulator]:
    """The session's emulator with no images, faults or logged requests."""
    emulator_server.reset()
    yield emulator_server
    emulator_server.reset()


@pytest.fixture
def api(emulator: Emulator) -> Iterator[Api]:
    client = Api(emulator)
    yield client
    client.close()
