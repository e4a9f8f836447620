"""The ``sfc`` entry point's own duties: a missing extra, usage checks, output that cannot be
written, the SDK's warnings and errors as JSON."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from cli.helpers import MIB, MakeFile, SfcRunner, assert_one_line_error
from sfc_cli.main import main

# A fresh interpreter in which every import of the named modules fails, as in an install
# without the extra; then the console script's entry point runs.
BLOCK_AND_RUN = """
import sys
blocked = set(sys.argv[1].split(","))

class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Missing())
from sfc_cli.main import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize(
    ("blocked", "args"),
    [
        ("rich", ["images", "list"]),
        ("uvicorn,starlette", ["--local", "images", "list"]),
    ],
)
def test_without_the_extra_it_says_how_to_install_it(
    cli_env: dict[str, str], tmp_path: Path, blocked: str, args: list[str]
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_AND_RUN, blocked, *args],
        capture_output=True,
        text=True,
        env=cli_env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("sfc: the command-line tool needs its extra")
    assert line.endswith("pip install 'sfc-images[cli]'")


def test_help_needs_no_extra(cli_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_AND_RUN, "rich,uvicorn,starlette", "--help"],
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert "usage: sfc" in done.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--base-url", "", "images", "list"), ("--base-url is empty",)),
        (("--base-url", "ftp://example.com", "images", "list"), ("not an http:// or https://",)),
        (("--base-url", "http://h/?a=1", "images", "list"), ("must not have a ?query",)),
        (("--base-url", "http://u:p@h", "images", "list"), ("must not hold credentials",)),
        (("--base-url", "http://[::1", "images", "list"), ("not a URL",)),
    ],
)
def test_bad_base_urls_are_usage_errors(
    sfc: SfcRunner, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    run = sfc(*args)
    assert_one_line_error(run, 2, *words)
    assert "RequestOptions" not in run.err


@pytest.mark.parametrize("args", [("--part-size", "-5MiB"), ("--part-size=-5MiB",)])
def test_a_negative_part_size_says_so(
    sfc: SfcRunner, make_file: MakeFile, args: tuple[str, ...]
) -> None:
    make_file("x.img", 10)
    run = sfc("images", "upload", "x.img", "--name", "n", *args)
    assert run.code == 2
    assert "size must be more than 0 bytes, got '-5MiB'" in run.err
    assert "expected one argument" not in run.err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--port", "99999"), "a port is 0 to 65535"),
        (("--token", "a b"), "printable ASCII without spaces"),
    ],
)
def test_bad_emulator_options_are_usage_errors(
    sfc: SfcRunner, args: tuple[str, ...], words: str
) -> None:
    run = sfc("emulator", *args)
    assert run.code == 2
    assert words in run.err
    assert "Traceback" not in run.err


def test_a_full_disk_on_stdout_is_one_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    with Path("/dev/full").open("w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "sfc_cli", "images", "list", "--json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert json.loads(line)["error"] == {
        "type": "OutputError",
        "message": "cannot write the output: No space left on device",
        "exit_code": 1,
    }


def test_a_closed_pipe_ends_quietly(cli_env: dict[str, str], tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sfc_cli", "images", "list", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env,
        cwd=tmp_path,
    )
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert err == b""


def test_repeated_sdk_warnings_are_said_once_and_quiet_hides_them(
    sfc: SfcRunner, make_file: MakeFile, tmp_path: Path
) -> None:
    # A state folder that cannot exist: every checkpoint of the upload fails to save.
    (tmp_path / "a-file").write_text("")
    env = {"SFC_STATE_DIR": str(tmp_path / "a-file" / "state")}
    disk = make_file("w.img", 11 * MIB)
    args = ("images", "upload", disk, "--part-size", "5MiB", "--concurrency", "1")
    run = sfc(*args, "--name", "warned", env=env)
    assert run.code == 0, run
    warnings = run.err.splitlines()
    assert warnings, run.err
    assert all(line.startswith("sfc: warning: ") for line in warnings)
    assert len(warnings) == len(set(warnings))
    quiet = sfc(*args, "--name", "quiet", "-q", env=env)
    assert (quiet.code, quiet.err) == (0, "")


def test_errors_are_json_with_json(sfc: SfcRunner) -> None:
    run = sfc("--json", "images", "get", "image_nothere")
    assert (run.code, run.out) == (1, "")
    error = json.loads(run.err)["error"]
    assert error["type"] == "NotFoundError"
    assert error["exit_code"] == 1
    assert "no such image (404)" in error["message"]
    usage = sfc("--json", "--base-url", "", "images", "list")
    assert json.loads(usage.err)["error"]["type"] == "UsageError"


def test_main_leaves_the_logging_setup_as_it_found_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFC_VMORCH_BEARER_AUTH", "t")
    sfc_logger = logging.getLogger("sfc")
    before = (sfc_logger.level, sfc_logger.propagate, list(sfc_logger.handlers))
    main(["--base-url", "http://127.0.0.1:9", "--debug", "images", "get", "not-an-id"])
    assert (sfc_logger.level, sfc_logger.propagate, list(sfc_logger.handlers)) == before
