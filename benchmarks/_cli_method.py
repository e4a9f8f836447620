"""The public CLI's transfer method, re-created as the baseline for B4 and the curves.

Upload, as the CLI does it: parts of ``part_size`` bytes go out in batches of ``concurrency``;
each part is read whole into memory and ``PUT`` in one piece, and the next batch starts only
when the whole batch is done, so one slow part stalls the others. Once every part is up, the
file is read a second time, in full, to compute the SHA-256 that completes the upload.

Download, by the same method applied to ranged ``GET``s (whole ranges in memory, batches,
then a second full read to check the SHA-256), so the curves have a like-for-like baseline.

Plain httpx and threads: what the method costs, not what our SDK would make of it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

CHUNK = 2**20


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _in_batches(count: int, concurrency: int, job: Callable[[int], None]) -> None:
    with ThreadPoolExecutor(concurrency) as pool:
        for first in range(1, count + 1, concurrency):
            batch = range(first, min(first + concurrency, count + 1))
            for future in [pool.submit(job, part) for part in batch]:
                future.result()


def upload(
    base_url: str, token: str, path: Path, name: str, *, concurrency: int, part_size: int
) -> str:
    """Upload ``path`` as image ``name``; returns the image id."""
    api = {"authorization": f"Bearer {token}"}
    size = path.stat().st_size
    count = max(1, -(-size // part_size))
    with httpx.Client(timeout=600) as client:
        started = client.post(f"{base_url}/v2/images", json={"name": name}, headers=api)
        started.raise_for_status()
        image_id: str = started.json()["id"]

        def send(part: int) -> None:
            with path.open("rb") as file:
                file.seek((part - 1) * part_size)
                data = file.read(part_size)
            target = client.post(
                f"{base_url}/v2/images/{image_id}/parts", json={"part_id": part}, headers=api
            )
            target.raise_for_status()
            client.put(target.json()["url"], content=data).raise_for_status()

        _in_batches(count, concurrency, send)
        digest = _sha256(path)
        client.post(
            f"{base_url}/v2/images/{image_id}/complete", json={"sha256": digest}, headers=api
        ).raise_for_status()
    return image_id


def download(
    base_url: str, token: str, image_id: str, dest: Path, *, concurrency: int, part_size: int
) -> None:
    """Download image ``image_id`` to ``dest`` and check it; raises if it does not match."""
    api = {"authorization": f"Bearer {token}"}
    with httpx.Client(timeout=600) as client:
        answer = client.get(f"{base_url}/v2/images/{image_id}/download", headers=api)
        answer.raise_for_status()
        info = answer.json()
        size: int = info["size"]
        count = max(1, -(-size // part_size))
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:

            def fetch(part: int) -> None:
                first = (part - 1) * part_size
                last = min(first + part_size, size) - 1
                reply = client.get(info["url"], headers={"range": f"bytes={first}-{last}"})
                reply.raise_for_status()
                os.pwrite(fd, reply.content, first)

            _in_batches(count, concurrency, fetch)
        finally:
            os.close(fd)
    if _sha256(dest) != info["sha256"]:
        raise RuntimeError(f"{dest} does not match the image's sha256")
