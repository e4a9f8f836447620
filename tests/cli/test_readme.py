"""The README's promises: its Python examples run as written and type-check, and its fixed parts
are there.

Every ```python block runs, in order, in one namespace (later examples use names the first one
defines), against the test emulator: ``SFC_BASE_URL`` and ``SFC_VMORCH_BEARER_AUTH`` point the
examples at it, exactly as they would point the ``sfc`` command.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cli.helpers import MIB, write_file
from sfc_core import SfcCore
from sfc_emulator import Emulator

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    return [code for lang, code in _BLOCK.findall(README.read_text()) if lang == language]


def test_quick_start_is_exactly_two_commands() -> None:
    text = README.read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    first_block = _BLOCK.search(section)
    assert first_block is not None
    assert first_block.group(2).split("\n")[:-1] == ["make demo", "make test"]


def test_the_benchmark_section_has_its_markers() -> None:
    text = README.read_text()
    start, end = text.find("<!-- bench:start -->"), text.find("<!-- bench:end -->")
    assert -1 < start < end
    assert text.find("## Performance") < start


def test_python_examples_run(
    emulator: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SFC_BASE_URL", emulator.url)
    monkeypatch.setenv("SFC_VMORCH_BEARER_AUTH", emulator.token)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    write_file(tmp_path / "disk.img", 6 * MIB + 5)
    examples = blocks("python")
    assert len(examples) >= 8
    namespace: dict[str, object] = {"__name__": "readme"}
    try:
        for number, code in enumerate(examples, 1):
            exec(compile(code, f"README.md python example {number}", "exec"), namespace)
    finally:
        # A script's connections close when it exits; this test goes on, so close them here.
        for value in namespace.values():
            if isinstance(value, SfcCore):
                value.close()
    printed = capsys.readouterr().out
    assert "ubuntu-24.04-cuda" in printed
    assert "no such image" in printed
    assert (tmp_path / "copy.img").read_bytes() == (tmp_path / "disk.img").read_bytes()


def test_python_examples_type_check(tmp_path: Path) -> None:
    """The README says the ``Result`` methods keep types under mypy; its examples prove it."""
    examples = tmp_path / "readme_examples.py"
    examples.write_text("\n".join(blocks("python")))
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", str(examples)],
        capture_output=True,
        text=True,
        cwd=README.parent,
        timeout=240,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
