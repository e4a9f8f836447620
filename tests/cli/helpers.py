"""Types and small helpers shared by the CLI tests (fixtures live in ``conftest.py``)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024


@dataclass(frozen=True)
class Run:
    """A finished ``sfc`` process."""

    code: int
    out: str
    err: str


SfcRunner = Callable[..., Run]
"""``sfc(*args, env={...}, stdin="...")``: run the CLI and wait for it."""

MakeFile = Callable[..., Path]
"""``make_file(name, size, seed=0)``: a file of ``size`` bytes in the test's folder."""


def write_file(path: Path, size: int, seed: int = 0) -> Path:
    """A file of ``size`` bytes whose content depends on ``seed`` (not all zeros, so a wrong
    offset shows up in the hash)."""
    block = bytes((seed + i * 7) % 251 for i in range(65536))
    with path.open("wb") as handle:
        for start in range(0, size, len(block)):
            handle.write(block[: size - start])
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(MIB):
            digest.update(chunk)
    return digest.hexdigest()


def assert_one_line_error(run: Run, code: int, *words: str) -> None:
    """Failed with ``code``, one line on stderr naming the problem, nothing on stdout."""
    assert run.code == code, run
    assert run.out == ""
    assert "Traceback" not in run.err
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    for word in words:
        assert word in lines[0], lines[0]
