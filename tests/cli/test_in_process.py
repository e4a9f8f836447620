"""``sfc_cli.main.main`` called in this process, for paths a subprocess would make slow.

A connection that is refused is retried with real backoff waits (seconds, in all); here the core
is given a sleep that returns at once, which only a caller in the same process can do.
"""

from __future__ import annotations

import functools

import pytest

from sfc_cli import main as cli
from sfc_core import SfcCore


def test_an_unreachable_server_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(cli, "SfcCore", functools.partial(SfcCore, sleep=slept.append))
    monkeypatch.setenv("SFC_VMORCH_BEARER_AUTH", "some-token-value")
    code = cli.main(["images", "get", "image_abc", "--base-url", "http://127.0.0.1:9"])
    assert code == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(
        "sfc: error: cannot get image image_abc: no connection to http://127.0.0.1:9"
    )
    assert "check --base-url / SFC_BASE_URL" in err
    assert len(slept) == 4  # retried: 5 attempts in all
