"""The emulator in a process of its own, so that its CPU time and memory are not the client's.

``python -m sfc_emulator --port 0`` picks a free port and prints ``SFC_BASE_URL=...`` on its
first line of output; that line is how we learn where it listens. Its log goes to a file in the
work directory rather than a pipe nobody reads, which could fill and stall it.
"""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import httpx

URL_PREFIX = "SFC_BASE_URL="


class EmulatorProcess:
    """``with EmulatorProcess(...) as emu:`` runs the emulator until the block ends."""

    def __init__(
        self, python: str, data_dir: Path, token: str, *, min_part_size: int, log: Path
    ) -> None:
        self.python = python
        self.data_dir = data_dir
        self.token = token
        self.min_part_size = min_part_size
        self.log = log
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._log_file: IO[str] | None = None

    def __enter__(self) -> Self:
        self._log_file = self.log.open("w")
        self._process = subprocess.Popen(
            [
                self.python,
                "-m",
                "sfc_emulator",
                "--port",
                "0",
                "--data",
                str(self.data_dir),
                "--token",
                self.token,
                "--min-part-size",
                str(self.min_part_size),
            ],
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
        )
        try:
            self.url = self._read_url(self._process, timeout=60)
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    @staticmethod
    def _read_url(process: subprocess.Popen[str], timeout: float) -> str:
        assert process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 0.5)
            if ready:
                line = process.stdout.readline()
                if not line:
                    break
                if line.startswith(URL_PREFIX):
                    return line[len(URL_PREFIX) :].strip()
            elif process.poll() is not None:
                break
        raise RuntimeError("the emulator did not start; see its log")

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def cpu_seconds(self) -> float:
        """CPU time (user plus system) the emulator has used so far, from ``/proc`` (Linux)."""
        assert self._process is not None
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def api(self) -> httpx.Client:
        """A client for the emulator's API (and testing API), token included."""
        return httpx.Client(
            base_url=self.url, headers={"authorization": f"Bearer {self.token}"}, timeout=120
        )
