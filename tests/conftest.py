"""Fixtures shared by every test folder: one emulator per session, reset for each test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from sfc_core import RetryConfig, SfcCore
from sfc_emulator import Emulator

# Generation speed depends on the machine and on hypothesis' own caches, which a fresh clone
# does not have yet; neither says anything about the code under test.
settings.register_profile(
    "sfc", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile("sfc")

TEST_TOKEN = "test-token-0123456789"
TEST_MIN_PART_SIZE = 1024


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--long",
        action="store_true",
        default=False,
        help="run the reliability suite's longer soak cases (also SFC_LONG_TESTS=1)",
    )


@pytest.fixture(scope="session")
def long_run(request: pytest.FixtureRequest) -> bool:
    """Whether soak tests should run their long variants."""
    return bool(request.config.getoption("--long")) or os.environ.get("SFC_LONG_TESTS") == "1"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def emulator_session() -> Iterator[Emulator]:
    with Emulator(token=TEST_TOKEN, min_part_size=TEST_MIN_PART_SIZE) as emu:
        yield emu


@pytest.fixture
def emulator(emulator_session: Emulator) -> Iterator[Emulator]:
    """The session's emulator with no images, faults or logged requests."""
    emulator_session.reset()
    yield emulator_session
    emulator_session.reset()


async def _no_wait(seconds: float) -> None:
    return None


@pytest.fixture
def core(emulator: Emulator) -> Iterator[SfcCore]:
    """A core for the emulator whose retries do not really wait."""
    sdk = SfcCore(
        server_url=emulator.url,
        bearer_auth=emulator.token,
        timeout=10.0,
        retry=RetryConfig(max_attempts=4),
        sleep=lambda seconds: None,
        async_sleep=_no_wait,
    )
    yield sdk
    sdk.close()
