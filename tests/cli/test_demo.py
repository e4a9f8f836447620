"""``make demo``: the script runs end to end, twice in a row, with a built image or the user's."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from cli.helpers import MIB, write_file

DEMO = Path(__file__).resolve().parents[2] / "scripts" / "demo.py"


def run_demo(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEMO), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_demo_builds_uploads_downloads_and_verifies(tmp_path: Path) -> None:
    work = tmp_path / "demo"
    for _ in range(2):
        done = run_demo("--workdir", work, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        out = done.stdout
        assert "$ sfc --base-url http://127.0.0.1:" in out
        for words in ("images upload", "images list", "images get", "images download"):
            assert words in out
        assert "identical: the sha256 of the downloaded bytes equals the original's" in out
        assert "Demo finished" in out


def test_demo_uploads_the_users_file(tmp_path: Path) -> None:
    mine = write_file(tmp_path / "my disk.img", 2 * MIB + 1)
    done = run_demo("--image", mine, "--workdir", tmp_path / "demo", "--keep", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Build a raw disk image" not in done.stdout
    assert "as my-disk-" in done.stdout
    assert "identical" in done.stdout
    assert "kept image_" in done.stdout


def test_without_mkfs_the_image_is_a_tar_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location("demo_script", DEMO)
    assert spec is not None
    assert spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    monkeypatch.setattr(demo, "find_mkfs", lambda: None)
    image = demo.build_image(tmp_path)
    assert image.name == "disk.tar"
    assert "mkfs.ext4 not found" in capsys.readouterr().out
    with tarfile.open(image) as archive:
        names = archive.getnames()
    assert "./README" in names
    assert "./usr/lib/python3/json/__init__.py" in names
