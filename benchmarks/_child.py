"""One measured transfer, run in a fresh process: ``python -m benchmarks._child '<json>'``.

The JSON names an ``action`` and its arguments; the child prints ``{"seconds": ...,
"peak_rss": ...}`` (and an ``image_id`` when it made one) as its last line. ``seconds`` covers
the transfer alone, not the interpreter start or imports; ``peak_rss`` is the whole process's
high-water mark, read just before it exits (see ``_measure``); the parent reads the CPU time
from ``os.wait4``. Each action imports only what it uses, so a baseline's RSS is not inflated by
modules it never touches.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

CHUNK = 2**20

Spec = dict[str, Any]


def peak_rss() -> int:
    """This process's peak resident set size since its ``exec``, in bytes (Linux)."""
    with Path("/proc/self/status").open() as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            yield chunk


def sha256(spec: Spec) -> Spec:
    """The hashing half of the limit: read the file and hash it, nothing else."""
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    start = time.perf_counter()
    with Path(spec["path"]).open("rb", buffering=0) as file:
        while n := file.readinto(buffer):
            digest.update(view[:n])
    return {"seconds": time.perf_counter() - start, "sha256": digest.hexdigest()}


def raw_put(spec: Spec) -> Spec:
    """The sending half of the upload limit: the whole file in one streamed ``PUT`` to a
    presigned part URL of the same emulator (asking for the URL is not timed)."""
    import httpx

    path = Path(spec["path"])
    api = {"authorization": f"Bearer {spec['token']}"}
    base = spec["url"]
    with httpx.Client(timeout=600) as client:
        image = client.post(f"{base}/v2/images", json={"name": spec["name"]}, headers=api)
        image_id = image.raise_for_status().json()["id"]
        part = client.post(f"{base}/v2/images/{image_id}/parts", json={"part_id": 1}, headers=api)
        url = part.raise_for_status().json()["url"]
        length = {"content-length": str(path.stat().st_size)}
        start = time.perf_counter()
        client.put(url, content=_file_chunks(path), headers=length).raise_for_status()
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "image_id": image_id}


def raw_get(spec: Spec) -> Spec:
    """The receiving half of the download limit: one streamed ``GET`` of the image written to
    a file (asking for the URL is not timed)."""
    import httpx

    api = {"authorization": f"Bearer {spec['token']}"}
    with httpx.Client(timeout=600) as client:
        answer = client.get(f"{spec['url']}/v2/images/{spec['image_id']}/download", headers=api)
        url = answer.raise_for_status().json()["url"]
        start = time.perf_counter()
        with client.stream("GET", url) as reply, Path(spec["dest"]).open("wb") as file:
            reply.raise_for_status()
            for chunk in reply.iter_raw():
                file.write(chunk)
        seconds = time.perf_counter() - start
    return {"seconds": seconds}


def _transfer_config(spec: Spec) -> Any:
    from sfc_funcs.images_upload_file import TransferConfig

    # Resume records go to the work directory, not the user's cache; writing them after every
    # part is part of the cost being measured.
    return TransferConfig(state_dir=Path(spec["state_dir"]), min_part_size=spec["min_part_size"])


def sdk_upload(spec: Spec) -> Spec:
    from sfc_core import HookContext, Hooks, SfcCore
    from sfc_funcs.images_upload_file import images_upload_file

    # When the parts were all sent and the completion began: the emulator assembles and hashes
    # the image while the client waits, which the limit does not include.
    marks: dict[str, float] = {}

    def mark(context: HookContext, *_: object) -> None:
        marks.setdefault(context.operation, time.perf_counter())

    hooks = Hooks(before_request=[mark])
    with SfcCore(
        server_url=spec["url"], bearer_auth=spec["token"], timeout=600, hooks=hooks
    ) as core:
        start = time.perf_counter()
        result = images_upload_file(
            core,
            spec["path"],
            spec["name"],
            concurrency=spec["concurrency"],
            part_size=spec["part_size"],
            transfer=_transfer_config(spec),
        )
        end = time.perf_counter()
    return {
        "seconds": end - start,
        "complete_seconds": end - marks["images_complete_upload"],
        "image_id": result.unwrap().id,
    }


def sdk_download(spec: Spec) -> Spec:
    from sfc_core import SfcCore
    from sfc_funcs.images_download_file import images_download_file

    with SfcCore(server_url=spec["url"], bearer_auth=spec["token"], timeout=600) as core:
        start = time.perf_counter()
        result = images_download_file(
            core,
            spec["image_id"],
            spec["dest"],
            concurrency=spec["concurrency"],
            overwrite=True,
            transfer=_transfer_config(spec),
        )
        seconds = time.perf_counter() - start
    result.unwrap()
    return {"seconds": seconds}


def cli_upload(spec: Spec) -> Spec:
    from benchmarks import _cli_method

    start = time.perf_counter()
    image_id = _cli_method.upload(
        spec["url"],
        spec["token"],
        Path(spec["path"]),
        spec["name"],
        concurrency=spec["concurrency"],
        part_size=spec["cli_part_size"],
    )
    return {"seconds": time.perf_counter() - start, "image_id": image_id}


def cli_download(spec: Spec) -> Spec:
    from benchmarks import _cli_method

    start = time.perf_counter()
    _cli_method.download(
        spec["url"],
        spec["token"],
        spec["image_id"],
        Path(spec["dest"]),
        concurrency=spec["concurrency"],
        part_size=spec["cli_part_size"],
    )
    return {"seconds": time.perf_counter() - start}


def idle(spec: Spec) -> Spec:
    """What the SDK's upload costs before it moves a byte: the interpreter and the imports."""
    import sfc_funcs.images_upload_file  # noqa: F401

    return {"seconds": 0.0}


ACTIONS: dict[str, Callable[[Spec], Spec]] = {
    "sha256": sha256,
    "raw-put": raw_put,
    "raw-get": raw_get,
    "sdk-upload": sdk_upload,
    "sdk-download": sdk_download,
    "cli-upload": cli_upload,
    "cli-download": cli_download,
    "idle": idle,
}


def main() -> None:
    spec: Spec = json.loads(sys.argv[1])
    answer = ACTIONS[spec["action"]](spec)
    print(json.dumps({**answer, "peak_rss": peak_rss()}))


if __name__ == "__main__":
    main()
