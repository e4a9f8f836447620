"""B1, import cost: a fresh ``import sfc_funcs.images_get`` against importing the libraries it
is built on (httpx, attrs, cattrs, returns) and nothing else.

Two measures, from the same child processes. "import only" is timed inside the child around the
``import`` statement, so interpreter start-up (the same for both, and large) does not dilute the
ratio; it is the stricter one. "whole process" is the child's CPU time, user plus system, from
``os.wait4``: what the import costs a short-lived script.

Both sides import from bytecode caches, as an installed package does (pip compiles them at
install): the children run with a private ``PYTHONPYCACHEPREFIX`` that an unmeasured first run
fills, and without ``PYTHONDONTWRITEBYTECODE``, which would otherwise have our sources (and only
ours: the libraries came with their caches) compiled again on every import.

Where the difference goes is saved with the rows (``details``): the median self time of every
module that ours imports and the baseline does not, from ``python -X importtime``.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import tempfile
from collections.abc import Mapping

from benchmarks._measure import Spread, ratios, run_process
from benchmarks._report import Row
from benchmarks._settings import Settings

OURS = "sfc_funcs.images_get"
BASE = "httpx, attrs, cattrs, returns.result"
_CODE = "import time; t = time.perf_counter_ns(); import {}; print(time.perf_counter_ns() - t)"
_IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)")


def cached_env(prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": prefix}


def self_times(python: str, module: str, runs: int, env: Mapping[str, str]) -> dict[str, float]:
    """Median self import time, in seconds, of each module ``import module`` loads."""
    seen: dict[str, list[int]] = {}
    for _ in range(runs):
        done = subprocess.run(
            [python, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        for match in _IMPORTTIME.finditer(done.stderr):
            seen.setdefault(match[2], []).append(int(match[1]))
    return {name: statistics.median(us) / 1e6 for name, us in seen.items()}


def extra_modules(python: str, runs: int, env: Mapping[str, str]) -> dict[str, float]:
    """What ours imports beyond the baseline, largest first, as ``import:<module>_s``."""
    ours, base = self_times(python, OURS, runs, env), self_times(python, BASE, runs, env)
    extra = {name: t for name, t in ours.items() if name not in base}
    return {f"import:{n}_s": t for n, t in sorted(extra.items(), key=lambda kv: -kv[1])}


def run(settings: Settings) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="sfc-bench-pycache-") as prefix:
        return _run(settings, cached_env(prefix))


def _run(settings: Settings, env: Mapping[str, str]) -> list[Row]:
    contenders = {"ours": OURS, "deps": BASE}
    imports: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    for module in contenders.values():
        run_process([settings.python, "-c", _CODE.format(module)], timeout=60, env=env)
    for r in range(settings.process_runs):
        order = list(contenders) if r % 2 == 0 else list(reversed(contenders))
        for name in order:
            done = run_process(
                [settings.python, "-c", _CODE.format(contenders[name])], timeout=60, env=env
            )
            imports[name].append(int(done.stdout.strip()) / 1e9)
            cpu[name].append(done.cpu)
    details = extra_modules(settings.python, max(3, settings.process_runs // 3), env)
    what = f"import cost: fresh `import {OURS}`"
    base = f"`import {BASE}`"
    return [
        Row(
            id="B1",
            variant="import only",
            what=what,
            compared_with=base,
            spread=Spread.of(ratios(imports["ours"], imports["deps"])),
            target=1.10,
            medians={"ours_s": _median(imports["ours"]), "deps_s": _median(imports["deps"])},
            details=details,
        ),
        Row(
            id="B1",
            variant="whole process CPU",
            what=what,
            compared_with=base,
            spread=Spread.of(ratios(cpu["ours"], cpu["deps"])),
            target=1.10,
            medians={"ours_s": _median(cpu["ours"]), "deps_s": _median(cpu["deps"])},
        ),
    ]


def _median(values: list[float]) -> float:
    return Spread.of(values).median
