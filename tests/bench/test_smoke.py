"""``python -m benchmarks --smoke``: every benchmark runs end to end on tiny sizes.

No target is asserted (tiny sizes say nothing about speed); what is checked is that every row is
produced, the chart is drawn, the README section is replaced between its markers and nowhere
else, and nothing is written into the repository.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = """# Project

Intro.

<!-- bench:start -->
old numbers
<!-- bench:end -->

Outro.
"""


COMMITTED = (ROOT / "benchmarks" / "results.json", ROOT / "benchmarks" / "throughput.png")


def _snapshot() -> list[float | None]:
    return [p.stat().st_mtime if p.exists() else None for p in COMMITTED]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_smoke_run_produces_every_row_and_writes_only_where_told(tmp_path: Path) -> None:
    out = tmp_path / "out"
    readme = tmp_path / "README.md"
    readme.write_text(README)
    before = _snapshot()
    done = _run("--smoke", "--out", str(out), "--readme", str(readme))
    assert done.returncode == 0, done.stderr[-3000:]

    results = json.loads((out / "results.json").read_text())
    rows = {(row["id"], row["variant"]) for row in results["rows"]}
    assert {row_id for row_id, _ in rows} == {"B1", "B2", "B3", "B4", "B5", "B6", "B7"}
    assert ("B2", "stdlib json") in rows
    assert ("B3", "stdlib json") in rows
    for row in results["rows"]:
        assert row["spread"]["low"] <= row["spread"]["median"] <= row["spread"]["high"]
        assert row["medians"]
    assert set(results["curves"]) == {"size", "concurrency"}
    assert (out / "throughput.png").read_bytes().startswith(b"\x89PNG")
    assert not (out / ".work").exists()

    text = readme.read_text()
    assert "old numbers" not in text
    assert text.startswith("# Project\n\nIntro.\n\n<!-- bench:start -->\n")
    assert text.endswith("<!-- bench:end -->\n\nOutro.\n")
    assert "| B7 |" in text
    assert "![throughput](out/throughput.png)" in text

    assert _snapshot() == before
    assert f"updated the performance section of {readme}" in done.stderr
    assert str(ROOT / "README.md") not in done.stderr


def test_a_readme_without_markers_is_left_alone(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Project\n\nNo section here.\n")
    done = _run("--smoke", "--only", "B3", "--out", str(tmp_path / "out"), "--readme", str(readme))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "no <!-- bench:start --> ... <!-- bench:end --> markers" in done.stderr
    assert readme.read_text() == "# Project\n\nNo section here.\n"


def test_an_unknown_benchmark_is_refused() -> None:
    done = _run("--only", "B9", "--no-readme", "--out", "/dev/null")
    assert done.returncode == 2
    assert "B9" in done.stderr
