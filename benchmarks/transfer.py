"""B4 to B6 and the throughput curves: uploads and downloads against the emulator on loopback.

Every measured transfer runs in a fresh child process (``_child``) while the emulator runs in
another one, so each number is the client's own: wall time of the transfer, CPU time and peak
RSS of the whole child process. Contenders take turns within a round, in an order that rotates
from one round to the next, and the disk's write-back queue is flushed before each run so that
no run pays for the previous one's writes.

"The limit" for a transfer is what a client must at least spend, were it to overlap perfectly:
the longer of hashing the file (``hashlib.sha256``, read from the page cache) and moving its
bytes through one raw streamed request to the same emulator. Files hold random bytes, are made
once per size and removed when no longer needed; uploaded images are deleted right after each
run, so the emulator's data directory holds at most one upload (and, while it assembles a
multi-part image, a second copy of it) on top of our files.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks import _plot
from benchmarks._emulator import EmulatorProcess
from benchmarks._measure import Spread, ratios, run_process
from benchmarks._report import Row
from benchmarks._settings import MIB, Settings

TOKEN = "bench-token"
WRITE_BLOCK = 64 * MIB


@dataclass(frozen=True)
class Measured:
    """One transfer: its wall time, the client's CPU time and peak RSS, and the CPU time the
    emulator spent meanwhile (the two share this machine's cores)."""

    seconds: float
    cpu: float
    max_rss: int
    server_cpu: float
    image_id: str | None = None
    complete_seconds: float = 0.0

    @property
    def rss_mib(self) -> float:
        return self.max_rss / MIB


@dataclass
class Outcome:
    rows: list[Row] = field(default_factory=list)
    curves: dict[str, Any] = field(default_factory=dict)
    chart: Path | None = None


class Bench:
    """The files, the emulator and the way to run one measured child."""

    def __init__(self, settings: Settings, emulator: EmulatorProcess) -> None:
        self.settings = settings
        self.emulator = emulator
        self.files = settings.work / "files"
        self.files.mkdir(parents=True, exist_ok=True)
        self.state = settings.work / "state"
        self.dest = settings.work / "download.bin"

    def file(self, size: int) -> Path:
        path = self.files / f"random-{size}.bin"
        if not path.exists() or path.stat().st_size != size:
            with path.open("wb") as out:
                left = size
                while left:
                    block = os.urandom(min(WRITE_BLOCK, left))
                    out.write(block)
                    left -= len(block)
        return path

    def drop(self, size: int) -> None:
        (self.files / f"random-{size}.bin").unlink(missing_ok=True)

    def child(self, action: str, **spec: Any) -> Measured:
        os.sync()
        size = spec.get("size", 0)
        full = {
            "action": action,
            "url": self.emulator.url,
            "token": TOKEN,
            "state_dir": str(self.state),
            "min_part_size": self.settings.min_part_size,
            "cli_part_size": self.settings.part_size,
            "part_size": None if not self.settings.smoke else self.settings.part_size,
            "concurrency": self.settings.concurrency,
            **spec,
        }
        server_before = self.emulator.cpu_seconds()
        done = run_process(
            [self.settings.python, "-m", "benchmarks._child", json.dumps(full)],
            timeout=120 + size / (5 * MIB),
        )
        server = self.emulator.cpu_seconds() - server_before
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        return Measured(
            answer["seconds"],
            done.cpu,
            answer["peak_rss"],
            server,
            answer.get("image_id"),
            answer.get("complete_seconds", 0.0),
        )

    def delete(self, image_id: str | None) -> None:
        if image_id is None:
            return
        with self.emulator.api() as api:
            answer = api.delete(f"/v2/images/{image_id}")
            if answer.status_code != 404:
                answer.raise_for_status()

    # --- contenders: each returns one measurement and leaves nothing behind ------------------

    def upload(self, how: str, size: int, concurrency: int | None = None) -> Measured:
        """``how`` is ``sdk``, ``cli`` or ``put`` (the raw streamed PUT)."""
        action = {"sdk": "sdk-upload", "cli": "cli-upload", "put": "raw-put"}[how]
        extra = {} if concurrency is None else {"concurrency": concurrency}
        done = self.child(action, path=str(self.file(size)), name=_name(), size=size, **extra)
        self.delete(done.image_id)
        return done

    def keep_upload(self, size: int) -> str:
        """An image of ``size`` bytes to download, uploaded by the SDK (not measured)."""
        done = self.child("sdk-upload", path=str(self.file(size)), name=_name(), size=size)
        assert done.image_id is not None
        return done.image_id

    def download(
        self, how: str, image_id: str, size: int, concurrency: int | None = None
    ) -> Measured:
        """``how`` is ``sdk``, ``cli`` or ``get`` (the raw streamed GET)."""
        action = {"sdk": "sdk-download", "cli": "cli-download", "get": "raw-get"}[how]
        extra = {} if concurrency is None else {"concurrency": concurrency}
        try:
            return self.child(action, image_id=image_id, dest=str(self.dest), size=size, **extra)
        finally:
            for leftover in self.settings.work.glob(self.dest.name + "*"):
                leftover.unlink()

    def sha256(self, size: int) -> Measured:
        return self.child("sha256", path=str(self.file(size)), size=size)

    def idle(self) -> Measured:
        return self.child("idle")


def _name() -> str:
    return f"bench-{uuid.uuid4().hex[:16]}"


def rounds(
    contenders: Mapping[str, Callable[[], Measured]], count: int
) -> dict[str, list[Measured]]:
    """Each contender once per round, the order rotating from round to round."""
    names = list(contenders)
    out: dict[str, list[Measured]] = {name: [] for name in names}
    for r in range(count):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            out[name].append(contenders[name]())
    return out


def _seconds(runs: Sequence[Measured]) -> list[float]:
    return [m.seconds for m in runs]


def _limit(hashing: Sequence[Measured], moving: Sequence[Measured]) -> list[float]:
    return [max(h.seconds, m.seconds) for h, m in zip(hashing, moving, strict=True)]


def _details(runs: Mapping[str, Sequence[Measured]]) -> dict[str, float]:
    """Median client and emulator CPU seconds of every contender, for ``results.json``."""
    out: dict[str, float] = {}
    for name, measured in runs.items():
        out[f"{name}_client_cpu_s"] = _median([m.cpu for m in measured])
        out[f"{name}_server_cpu_s"] = _median([m.server_cpu for m in measured])
    return out


def _median(values: Sequence[float]) -> float:
    return Spread.of(values).median


def _size_text(size: int) -> str:
    return f"{size / 2**30:g} GiB" if size >= 2**30 else f"{size / MIB:g} MiB"


# --- the rows -----------------------------------------------------------------------------------


def upload_rows(bench: Bench, selected: set[str]) -> list[Row]:
    s = bench.settings
    size, big = s.size, s.size * s.big_factor
    contenders: dict[str, Callable[[], Measured]] = {
        "sdk": lambda: bench.upload("sdk", size),
        "cli": lambda: bench.upload("cli", size),
        "sha": lambda: bench.sha256(size),
        "put": lambda: bench.upload("put", size),
    }
    if "B5" in selected:
        contenders["sdk_big"] = lambda: bench.upload("sdk", big)
        contenders["idle"] = bench.idle
    runs = rounds(contenders, s.transfer_rounds)
    if "B5" in selected:
        bench.drop(big)
    rows: list[Row] = []
    sdk, limit = _seconds(runs["sdk"]), _limit(runs["sha"], runs["put"])
    what = f"upload {_size_text(size)} to the emulator, concurrency {s.concurrency}"
    medians = {
        "sdk_s": _median(sdk),
        "cli_s": _median(_seconds(runs["cli"])),
        "sha256_s": _median(_seconds(runs["sha"])),
        "raw_put_s": _median(_seconds(runs["put"])),
    }
    details = _details(runs)
    complete = _median([m.complete_seconds for m in runs["sdk"]])
    sending = _median(ratios([m.seconds - m.complete_seconds for m in runs["sdk"]], limit))
    if "B4" in selected:
        rows.append(
            Row(
                id="B4",
                variant="vs CLI method",
                what=what,
                compared_with=f"the public CLI's method: batches of {s.concurrency} "
                f"{_size_text(s.part_size)} parts held in memory, then a second read to hash",
                spread=Spread.of(ratios(sdk, _seconds(runs["cli"]))),
                target=0.60,
                medians=medians,
                details=details,
                note=f"both wait {complete:.2f} s for the emulator to assemble the image",
            )
        )
        rows.append(
            Row(
                id="B4",
                variant="vs limit",
                what=what,
                compared_with="max(sha256 of the file, one raw streamed PUT of it)",
                spread=Spread.of(ratios(sdk, limit)),
                target=1.25,
                medians=medians,
                details=details,
                note=f"without the emulator's {complete:.2f} s assembly: {sending:.2f}x",
            )
        )
    if "B5" in selected:
        small_rss = [m.rss_mib for m in runs["sdk"]]
        big_rss = [m.rss_mib for m in runs["sdk_big"]]
        rss_medians = {
            "sdk_mib": _median(small_rss),
            "sdk_big_mib": _median(big_rss),
            "cli_mib": _median([m.rss_mib for m in runs["cli"]]),
            "idle_mib": _median([m.rss_mib for m in runs["idle"]]),
        }
        rows.append(
            Row(
                id="B5",
                variant="growth",
                what=f"peak RSS of the upload, {_size_text(big)} against {_size_text(size)}",
                compared_with=f"the same upload of {_size_text(size)}",
                spread=Spread.of(ratios(big_rss, small_rss)),
                target=1.05,
                medians=rss_medians,
                note="no growth: within 5 %",
            )
        )
        rows.append(
            Row(
                id="B5",
                variant="peak",
                what=f"peak RSS of the {_size_text(big)} upload, whole process",
                compared_with="an absolute bound",
                spread=Spread.of(big_rss),
                target=150,
                unit="MiB",
                medians=rss_medians,
            )
        )
    return rows


def download_rows(bench: Bench) -> list[Row]:
    s = bench.settings
    size = s.size
    image_id = bench.keep_upload(size)
    try:
        runs = rounds(
            {
                "sdk": lambda: bench.download("sdk", image_id, size),
                "cli": lambda: bench.download("cli", image_id, size),
                "sha": lambda: bench.sha256(size),
                "get": lambda: bench.download("get", image_id, size),
            },
            s.transfer_rounds,
        )
    finally:
        bench.delete(image_id)
    sdk = _seconds(runs["sdk"])
    return [
        Row(
            id="B6",
            variant="vs limit",
            what=f"download and verify {_size_text(size)}, concurrency {s.concurrency}",
            compared_with="max(sha256 of the file, one raw streamed GET of it to a file)",
            spread=Spread.of(ratios(sdk, _limit(runs["sha"], runs["get"]))),
            target=1.25,
            medians={
                "sdk_s": _median(sdk),
                "cli_s": _median(_seconds(runs["cli"])),
                "sha256_s": _median(_seconds(runs["sha"])),
                "raw_get_s": _median(_seconds(runs["get"])),
            },
            details={**_details(runs), "sdk_rss_mib": _median([m.rss_mib for m in runs["sdk"]])},
            note=f"vs the CLI-style download: {_median(ratios(sdk, _seconds(runs['cli']))):.2f}x",
        )
    ]


# --- the curves ----------------------------------------------------------------------------------


def _mibps(size: int, runs: Sequence[float]) -> float:
    return size / MIB / _median(runs)


def size_curves(bench: Bench) -> dict[str, Any]:
    s = bench.settings
    up: dict[str, list[float]] = {"ours": [], "cli": [], "limit": []}
    down: dict[str, list[float]] = {"ours": [], "cli": [], "limit": []}
    keep = {s.size, s.curve_size}
    for size in s.curve_sizes:
        image_id = bench.keep_upload(size)
        try:
            runs = rounds(
                {
                    "up_sdk": partial(bench.upload, "sdk", size),
                    "up_cli": partial(bench.upload, "cli", size),
                    "sha": partial(bench.sha256, size),
                    "put": partial(bench.upload, "put", size),
                    "down_sdk": partial(bench.download, "sdk", image_id, size),
                    "down_cli": partial(bench.download, "cli", image_id, size),
                    "get": partial(bench.download, "get", image_id, size),
                },
                s.curve_rounds,
            )
        finally:
            bench.delete(image_id)
        if size not in keep:
            bench.drop(size)
        up["ours"].append(_mibps(size, _seconds(runs["up_sdk"])))
        up["cli"].append(_mibps(size, _seconds(runs["up_cli"])))
        up["limit"].append(_mibps(size, _limit(runs["sha"], runs["put"])))
        down["ours"].append(_mibps(size, _seconds(runs["down_sdk"])))
        down["cli"].append(_mibps(size, _seconds(runs["down_cli"])))
        down["limit"].append(_mibps(size, _limit(runs["sha"], runs["get"])))
    return {"sizes_mib": [x / MIB for x in s.curve_sizes], "upload": up, "download": down}


def concurrency_curves(bench: Bench) -> dict[str, Any]:
    s = bench.settings
    size = s.curve_size
    up: dict[str, list[float]] = {"ours": [], "cli": []}
    down: dict[str, list[float]] = {"ours": [], "cli": []}
    image_id = bench.keep_upload(size)
    try:
        limits = rounds(
            {
                "sha": lambda: bench.sha256(size),
                "put": lambda: bench.upload("put", size),
                "get": lambda: bench.download("get", image_id, size),
            },
            s.curve_rounds,
        )
        for c in s.curve_concurrency:
            runs = rounds(
                {
                    "up_sdk": partial(bench.upload, "sdk", size, c),
                    "up_cli": partial(bench.upload, "cli", size, c),
                    "down_sdk": partial(bench.download, "sdk", image_id, size, c),
                    "down_cli": partial(bench.download, "cli", image_id, size, c),
                },
                s.curve_rounds,
            )
            up["ours"].append(_mibps(size, _seconds(runs["up_sdk"])))
            up["cli"].append(_mibps(size, _seconds(runs["up_cli"])))
            down["ours"].append(_mibps(size, _seconds(runs["down_sdk"])))
            down["cli"].append(_mibps(size, _seconds(runs["down_cli"])))
    finally:
        bench.delete(image_id)
    up_limit = _mibps(size, _limit(limits["sha"], limits["put"]))
    down_limit = _mibps(size, _limit(limits["sha"], limits["get"]))
    return {
        "size_mib": size / MIB,
        "concurrency": list(s.curve_concurrency),
        "upload": {**up, "limit": [up_limit] * len(s.curve_concurrency)},
        "download": {**down, "limit": [down_limit] * len(s.curve_concurrency)},
    }


def run(settings: Settings, selected: set[str]) -> Outcome:
    outcome = Outcome()
    data = settings.work / "emulator"
    data.mkdir(parents=True, exist_ok=True)
    emulator = EmulatorProcess(
        settings.python,
        data,
        TOKEN,
        min_part_size=settings.min_part_size,
        log=settings.work / "emulator.log",
    )
    with emulator:
        bench = Bench(settings, emulator)
        if selected & {"B4", "B5"}:
            outcome.rows += upload_rows(bench, selected)
        if "B6" in selected:
            outcome.rows += download_rows(bench)
        if "curves" in selected:
            outcome.curves = {"size": size_curves(bench), "concurrency": concurrency_curves(bench)}
            outcome.chart = _plot.draw(outcome.curves, settings.out / "throughput.png")
    return outcome
