"""Helpers for the emulator's tests: an httpx wrapper and raw-socket utilities."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from sfc_emulator import Emulator

TOKEN = "emulator-tests-token"
MIN_PART = 1024


class Api:
    """Small helpers over httpx for driving the emulator in tests.

    The bearer token is added per request to API calls only; `storage` is a separate client that
    never carries it, as a real client must not send credentials to presigned URLs.
    """

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        # Plain http only: skipping TLS setup makes a client ~30x cheaper to create.
        self.http = httpx.Client(base_url=emu.url, timeout=10.0, verify=False)
        self.storage = httpx.Client(timeout=10.0, verify=False)

    def close(self) -> None:
        self.http.close()
        self.storage.close()

    def request(
        self, method: str, path: str, *, token: str | None = TOKEN, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, path, headers=headers, **kwargs)

    def start(self, name: str) -> str:
        response = self.request("POST", "/v2/images", json={"name": name})
        assert response.status_code == 201, response.text
        image_id: str = response.json()["id"]
        return image_id

    def part_url(self, image_id: str, part_id: int) -> str:
        response = self.request("POST", f"/v2/images/{image_id}/parts", json={"part_id": part_id})
        assert response.status_code == 200, response.text
        url: str = response.json()["url"]
        return url

    def put_part(self, image_id: str, part_id: int, data: bytes) -> httpx.Response:
        return self.storage.put(self.part_url(image_id, part_id), content=data)

    def complete(self, image_id: str, sha256: str) -> httpx.Response:
        return self.request("POST", f"/v2/images/{image_id}/complete", json={"sha256": sha256})

    def upload(self, name: str, *parts: bytes) -> str:
        """Start, upload every part and complete; returns the image id."""
        image_id = self.start(name)
        for number, data in enumerate(parts, start=1):
            assert self.put_part(image_id, number, data).status_code == 200
        response = self.complete(image_id, sha256_hex(b"".join(parts)))
        assert response.status_code == 200, response.text
        return image_id

    def download_url(self, image_id: str) -> str:
        response = self.request("GET", f"/v2/images/{image_id}/download")
        assert response.status_code == 200, response.text
        url: str = response.json()["url"]
        return url


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def raw_exchange(url: str, request: bytes, *, shutdown_write: bool = False) -> bytes:
    """Send raw bytes to the server behind `url` and read until it closes (or 5 s pass)."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=5.0) as sock:
        sock.sendall(request)
        if shutdown_write:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll until `condition()` holds, for server work no response tells us has finished."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)
