"""Running the emulator: lifecycle, persistence across restarts, async use and the command."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from emulator.helpers import Api, sha256_hex
from sfc_emulator import AsyncEmulator, Emulator
from sfc_emulator.__main__ import default_data_dir, main
from sfc_emulator._server import _client_host

HEADERS = {"Authorization": "Bearer t"}


def is_running(emu: Emulator) -> bool:
    """`emu.running`, hidden from the type checker's narrowing across start()."""
    return emu.running


def test_lifecycle_with_a_temporary_data_dir() -> None:
    emu = Emulator(token="t")
    with pytest.raises(RuntimeError):
        _ = emu.url
    with pytest.raises(RuntimeError):
        _ = emu.data_dir
    assert not emu.running
    with emu:
        assert is_running(emu)
        assert emu.url.startswith("http://127.0.0.1:")
        assert not emu.url.endswith("/")
        data_dir = emu.data_dir
        assert (data_dir / "emulator.sqlite3").exists()
        with pytest.raises(RuntimeError):
            emu.start()
        response = httpx.get(f"{emu.url}/v2/images", headers=HEADERS)
        assert response.status_code == 200
    assert not data_dir.exists()
    assert not emu.running
    emu.stop()
    with pytest.raises(RuntimeError):
        emu.real_sha256("image_x")


def test_a_random_token_is_made_when_none_is_given() -> None:
    first, second = Emulator(), Emulator()
    assert len(first.token) >= 32
    assert first.token != second.token


def test_state_survives_a_restart(tmp_path: Path) -> None:
    data = b"persistent bytes"
    with Emulator(tmp_path, token="t", min_part_size=1) as emu:
        api = Api(emu)
        try:
            image_id = api.request("POST", "/v2/images", token="t", json={"name": "keep"}).json()[
                "id"
            ]
            url = api.request(
                "POST", f"/v2/images/{image_id}/parts", token="t", json={"part_id": 1}
            ).json()["url"]
            assert api.storage.put(url, content=data).status_code == 200
            pending = api.request("POST", "/v2/images", token="t", json={"name": "pending"})
            complete = api.request(
                "POST",
                f"/v2/images/{image_id}/complete",
                token="t",
                json={"sha256": sha256_hex(data)},
            )
            assert complete.status_code == 200
        finally:
            api.close()
        key = (tmp_path / "signing.key").read_text()
    (tmp_path / "tmp" / "stale.tmp").write_bytes(b"left over by a crash")
    with Emulator(tmp_path, token="t", min_part_size=1) as emu:
        assert (tmp_path / "signing.key").read_text() == key
        assert list((tmp_path / "tmp").iterdir()) == []
        with httpx.Client(base_url=emu.url, headers=HEADERS) as client:
            listed = client.get("/v2/images").json()["data"]
            assert [entry["name"] for entry in listed] == ["pending", "keep"]
            assert listed[0]["id"] == pending.json()["id"]
            download = client.get(f"/v2/images/{image_id}/download").json()
            assert download["size"] == len(data)
            assert httpx.get(download["url"]).content == data
            assert client.post("/v2/images", json={"name": "keep"}).status_code == 409
        assert emu.real_sha256(image_id) == sha256_hex(data)
        assert emu.part_count(image_id) == 1


def test_faults_and_ttl_set_before_start_apply(tmp_path: Path) -> None:
    emu = Emulator(tmp_path / "fresh", token="t")
    emu.faults.add("list", status=503)
    emu.set_url_ttl(0)
    with emu, httpx.Client(base_url=emu.url, headers=HEADERS) as client:
        assert client.get("/v2/images").status_code == 503
        image_id = client.post("/v2/images", json={"name": "x"}).json()["id"]
        url = client.post(f"/v2/images/{image_id}/parts", json={"part_id": 1}).json()["url"]
        assert httpx.put(url, content=b"x").status_code == 403
        emu.reset()
        assert emu.state.url_ttl == 0


def test_busy_port_fails_cleanly(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        emu = Emulator(tmp_path, port=port)
        with pytest.raises(OSError, match="in use"):
            emu.start()
        assert not emu.running


@pytest.mark.parametrize(
    ("host", "expected"),
    [("0.0.0.0", "127.0.0.1"), ("::", "[::1]"), ("::1", "[::1]"), ("localhost", "localhost")],
)
def test_client_host(host: str, expected: str) -> None:
    assert _client_host(host) == expected


@pytest.mark.anyio
async def test_async_use_does_not_block_the_loop() -> None:
    async with AsyncEmulator(token="t") as emu, httpx.AsyncClient(base_url=emu.url) as client:
        response = await client.post("/v2/images", json={"name": "async"}, headers=HEADERS)
        assert response.status_code == 201
    assert not emu.running


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_default_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_data_dir() == tmp_path / "sfc-emulator"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_data_dir() == tmp_path / "home" / ".local" / "share" / "sfc-emulator"


def test_main_in_process_until_sigterm(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    outcome: list[int] = []

    def client() -> None:
        # Poll until the server answers; only then is main's signal handler certainly in place.
        with httpx.Client(timeout=1.0) as http:
            for _ in range(500):
                try:
                    outcome.append(http.get(f"{url}/v2/images").status_code)
                    break
                except httpx.TransportError:
                    threading.Event().wait(0.01)
        os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    thread = threading.Thread(target=client)
    thread.start()
    status = main(["--port", str(port), "--token", "cli-token", "--access-log"])
    thread.join()
    assert status == 0
    assert outcome == [401]
    out = capsys.readouterr().out.splitlines()
    assert out == [f"SFC_BASE_URL={url}", "SFC_VMORCH_BEARER_AUTH=cli-token"]
    assert (tmp_path / "sfc-emulator" / "emulator.sqlite3").exists()
    access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any('"GET /v2/images HTTP/1.1" 401' in line for line in access)
    assert signal.getsignal(signal.SIGTERM) is before


def test_main_reports_a_busy_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--port", str(port), "--data", str(tmp_path)]) == 1
    assert "cannot listen" in capsys.readouterr().err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_command_in_a_subprocess(tmp_path: Path, sig: signal.Signals) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sfc_emulator", "--port", "0", "--data", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_line = process.stdout.readline().strip()
        token_line = process.stdout.readline().strip()
        name, _, url = base_line.partition("=")
        assert name == "SFC_BASE_URL"
        assert url.startswith("http://127.0.0.1:")
        token_name, _, token = token_line.partition("=")
        assert token_name == "SFC_VMORCH_BEARER_AUTH"
        assert len(token) >= 32
        headers = {"Authorization": f"Bearer {token}"}
        response = httpx.post(f"{url}/v2/images", json={"name": "cli"}, headers=headers)
        assert response.status_code == 201
        process.send_signal(sig)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopped" in err
    assert "Traceback" not in err
