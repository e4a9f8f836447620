"""The ``sfc-emulator`` command's edges: bad options, shell-safe output, a missing extra."""

from __future__ import annotations

import logging
import shlex
import socket
import subprocess
import sys
import time

import pytest

from emulator.helpers import TOKEN
from sfc_emulator import Emulator
from sfc_emulator.__main__ import main, port_number, token_text

# Run in a fresh interpreter: makes every import of the named top-level modules fail, as in an
# install without the extra, then runs the entry point the console script runs.
BLOCK_AND_RUN = """
import importlib, sys
blocked = set(sys.argv[1].split(","))

class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Missing())
module, _, function = sys.argv[2].partition(":")
sys.exit(getattr(importlib.import_module(module), function)(sys.argv[3:]))
"""


def run_without(modules: str, entry: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK_AND_RUN, modules, entry, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_the_extra_it_says_how_to_install_it() -> None:
    done = run_without("uvicorn,starlette", "sfc_emulator.__main__:main", "--port", "0")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "sfc-emulator: the emulator needs its extra (uvicorn is not installed): "
        "pip install 'sfc-images[emulator]'"
    ]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--port", "99999"], "a port is 0 to 65535, got 99999"),
        (["--port", "-1"], "a port is 0 to 65535"),
        (["--port", "http"], "not a port number"),
        (["--token", "a b"], "printable ASCII without spaces"),
        (["--token", "tök"], "printable ASCII without spaces"),
    ],
)
def test_bad_options_are_usage_errors(
    args: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(args)
    assert stopped.value.code == 2
    assert words in capsys.readouterr().err


def test_option_types_accept_the_edges() -> None:
    assert [port_number(p) for p in ("0", "65535")] == [0, 65535]
    assert token_text("a-Token_with.$punct!") == "a-Token_with.$punct!"


def test_the_printed_settings_are_shell_safe() -> None:
    token = "it's$HOME"
    process = subprocess.Popen(
        [sys.executable, "-m", "sfc_emulator", "--port", "0", "--token", token],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()
        line = process.stdout.readline().strip()
    finally:
        process.terminate()
        process.communicate(timeout=20)
    assert shlex.split(line) == [f"SFC_VMORCH_BEARER_AUTH={token}"]


def test_a_client_leaving_mid_body_is_not_a_server_error(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    host, port = emulator.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as client:
        client.sendall(
            b"POST /v2/images HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Bearer {TOKEN}\r\n".encode()
            + b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
        )
        # Leave only once the server is reading the body.
        give_up = time.monotonic() + 10
        while not [r for r in emulator.requests.snapshot() if r.body_size > 0]:
            assert time.monotonic() < give_up
            time.sleep(0.01)
    give_up = time.monotonic() + 10
    while emulator.requests.snapshot()[0].status is None:
        assert time.monotonic() < give_up
        time.sleep(0.01)
    time.sleep(0.1)
    assert emulator.requests.snapshot()[0].status == 400
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert errors == []
