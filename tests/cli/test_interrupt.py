"""Ctrl-C during ``sfc images upload``, then the same command again: the upload resumes."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from cli.helpers import MIB, MakeFile, SfcRunner, sha256_of
from sfc_emulator import Emulator

PARTS = 5


def _wait_for(condition: str, check: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    """Poll until ``check()`` is true; a generous bound only keeps a broken run from hanging."""
    give_up = time.monotonic() + 60
    while not check():
        assert process.poll() is None, f"sfc ended before {condition}"
        assert time.monotonic() < give_up, f"timed out waiting for {condition}"
        time.sleep(0.02)


def test_ctrl_c_leaves_a_resumable_upload(
    sfc: SfcRunner,
    cli_env: dict[str, str],
    emulator: Emulator,
    make_file: MakeFile,
    tmp_path: Path,
) -> None:
    disk = make_file("big.img", (PARTS - 1) * 5 * MIB + 12345, seed=3)
    command = ["images", "upload", str(disk), "--name", "resumed", "--part-size", "5MiB"]
    # Slow parts, one at a time, so the interrupt lands with some parts stored and some not.
    slow = emulator.faults.add("storage_put", delay=0.4, times=100)
    process = subprocess.Popen(
        [sys.executable, "-m", "sfc_cli", *command, "--concurrency", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env,
        cwd=tmp_path,
    )

    def stored_parts() -> list[object]:
        return [r for r in emulator.requests.by_route("storage_put") if r.status == 200]

    _wait_for("a part is stored", lambda: len(stored_parts()) >= 1, process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert out == ""
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].endswith("run the same command again to resume")
    sent_before = len(stored_parts())
    assert sent_before < PARTS

    slow.cancel()
    emulator.requests.clear()
    again = sfc(*command, "--json")
    assert again.code == 0, again
    # Only the parts missing after the interrupt went up the second time.
    assert len(stored_parts()) <= PARTS - sent_before + 1
    assert emulator.requests.by_route("start_upload") == []
    listed = sfc("images", "list", "--json")
    images = [i for i in json.loads(listed.out)["data"] if i["name"] == "resumed"]
    assert len(images) == 1
    assert images[0]["sha256"] == sha256_of(disk)
    assert emulator.real_sha256(images[0]["id"]) == sha256_of(disk)


def test_ctrl_c_on_a_terminal_ends_the_bar_before_the_message(
    cli_env: dict[str, str], emulator: Emulator, make_file: MakeFile, tmp_path: Path
) -> None:
    # Slow enough that, however loaded the machine, the signal lands mid-upload and not while
    # the interpreter is already shutting down.
    disk = make_file("bar.img", 6 * 5 * MIB, seed=4)
    emulator.faults.add("storage_put", delay=2.0, times=100)
    command = ["images", "upload", str(disk), "--name", "bar", "--part-size", "5MiB"]
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "sfc_cli", *command, "--concurrency", "1"],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=slave,
        env={**cli_env, "TERM": "xterm", "COLUMNS": "100"},
        cwd=tmp_path,
        text=True,
    )
    os.close(slave)
    screen = bytearray()
    reader = threading.Thread(target=_read_all, args=(master, screen))
    reader.start()
    _wait_for("the bar is drawn", lambda: b"upload" in screen, process)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    reader.join(timeout=10)
    os.close(master)
    assert process.returncode == 130
    lines = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", screen.decode(errors="replace"))
    lines = lines.replace("\r", "\n")
    errors = [line for line in lines.splitlines() if "upload interrupted" in line]
    assert errors, lines
    assert all(line.startswith("sfc: error: upload interrupted") for line in errors), lines


def _read_all(fd: int, into: bytearray) -> None:
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every writer closed the terminal
            return
        if not chunk:
            return
        into.extend(chunk)
