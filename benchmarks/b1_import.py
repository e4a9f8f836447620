"""B1, import cost: a fresh ``import sfc_funcs.images_get`` against importing the libraries it
is built on (httpx, attrs, cattrs, returns) and nothing else.

Two measures, from the same child processes. "import only" is timed inside the child around the
``import`` statement, so interpreter start-up (the same for both, and large) does not dilute the
ratio; it is the stricter one. "whole process" is the child's CPU time, user plus system, from
``os.wait4``: what the import costs a short-lived script.
"""

from __future__ import annotations

from benchmarks._measure import Spread, ratios, run_process
from benchmarks._report import Row
from benchmarks._settings import Settings

OURS = "sfc_funcs.images_get"
BASE = "httpx, attrs, cattrs, returns.result"
_CODE = "import time; t = time.perf_counter_ns(); import {}; print(time.perf_counter_ns() - t)"


def run(settings: Settings) -> list[Row]:
    contenders = {"ours": OURS, "deps": BASE}
    imports: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    # One unmeasured run each writes any missing bytecode caches.
    for module in contenders.values():
        run_process([settings.python, "-c", _CODE.format(module)], timeout=60)
    for r in range(settings.process_runs):
        order = list(contenders) if r % 2 == 0 else list(reversed(contenders))
        for name in order:
            done = run_process([settings.python, "-c", _CODE.format(contenders[name])], timeout=60)
            imports[name].append(int(done.stdout.strip()) / 1e9)
            cpu[name].append(done.cpu)
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
