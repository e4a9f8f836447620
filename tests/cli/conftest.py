"""Fixtures for the ``sfc`` command tests: a runner for the real CLI.

The CLI runs in a subprocess (``python -m sfc_cli``), exactly as a user starts it, against the
session's emulator (``tests/conftest.py``), served from this process and reset for each test.
Each test gets its own ``HOME`` and ``XDG_*`` folders, so ``--local`` data and resumable-upload
state never touch the real home directory, and one test's leftovers never reach another.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from cli.helpers import MakeFile, Run, SfcRunner, write_file
from sfc_emulator import Emulator


@pytest.fixture
def cli_env(emulator: Emulator, tmp_path: Path) -> dict[str, str]:
    """The environment an ``sfc`` run sees: this test's folders, the emulator and its token."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SFC_", "XDG_")) and k not in ("COLUMNS", "NO_COLOR")
    }
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        SFC_BASE_URL=emulator.url,
        SFC_VMORCH_BEARER_AUTH=emulator.token,
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def sfc(cli_env: dict[str, str], tmp_path: Path) -> SfcRunner:
    """``sfc(*args, env={...}, stdin=..., cwd=...)`` runs the CLI (in ``tmp_path`` unless ``cwd``
    says otherwise) and waits for it."""

    def run(
        *args: str | os.PathLike[str],
        env: Mapping[str, str | None] | None = None,
        stdin: str = "",
        timeout: float = 60,
        cwd: Path | None = None,
    ) -> Run:
        merged = dict(cli_env)
        for key, value in (env or {}).items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        done = subprocess.run(
            [sys.executable, "-m", "sfc_cli", *map(str, args)],
            input=stdin,
            capture_output=True,
            text=True,
            env=merged,
            cwd=cwd or tmp_path,
            timeout=timeout,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def make_file(tmp_path: Path) -> MakeFile:
    def make(name: str, size: int, seed: int = 0) -> Path:
        return write_file(tmp_path / name, size, seed)

    return make
