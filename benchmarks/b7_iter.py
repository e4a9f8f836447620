"""B7, walking every image: ``images_iter`` over 10,000 images, 200 to a page, against a bare
httpx loop over the same pages.

The bare loop does what a hand-written client must at least do: one GET per page with the
cursor, decode with the same decoder the SDK uses, and visit each image; the SDK adds argument
checks, structuring into models and one ``Success`` per image.

Two rows. The target applies to the first: both sides on one ``httpx.Client`` with a
``MockTransport`` serving pre-built realistic pages, so nothing but client work is measured. The
second runs against the emulator on loopback (10,000 images created first), where the server's
SQLite queries and HTTP stack weigh on both sides alike: what a user of a local server sees.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from benchmarks import _pages
from benchmarks._emulator import EmulatorProcess
from benchmarks._measure import Spread, interleaved, ratios
from benchmarks._report import Row
from benchmarks._settings import Settings
from sfc_core import SfcCore, _json
from sfc_funcs.images_iter import images_iter

SERVER = "https://api.sfc.test"
TOKEN = "bench-token"
TOTAL = 10_000
PAGE_SIZE = 200


def page_server(pages: list[bytes]) -> httpx.MockTransport:
    by_cursor = {_pages.cursor(i): pages[i + 1] for i in range(len(pages) - 1)}
    headers = {"content-type": "application/json"}

    def answer(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("starting_after")
        body = pages[0] if after is None else by_cursor[after]
        return httpx.Response(200, headers=headers, content=body)

    return httpx.MockTransport(answer)


def sdk_walk(core: SfcCore) -> Callable[[], int]:
    def walk() -> int:
        seen = 0
        for result in images_iter(core, page_size=PAGE_SIZE):
            result.unwrap()
            seen += 1
        return seen

    return walk


def raw_walk(
    client: httpx.Client, loads: Callable[[bytes], Any], server: str = SERVER
) -> Callable[[], int]:
    url = f"{server}/v2/images"
    headers = {"authorization": f"Bearer {TOKEN}"}

    def walk() -> int:
        seen = 0
        params: dict[str, str | int] = {"limit": PAGE_SIZE}
        while True:
            page = loads(client.get(url, params=params, headers=headers).content)
            for _image in page["data"]:
                seen += 1
            if not page["has_more"]:
                return seen
            params["starting_after"] = page["cursor"]

    return walk


def _row(variant: str, what: str, samples: dict[str, list[float]]) -> Row:
    return Row(
        id="B7",
        variant=variant,
        what=what,
        compared_with="bare httpx loop over the same pages, same decoder",
        spread=Spread.of(ratios(samples["sdk"], samples["raw"])),
        target=1.30,
        medians={
            "sdk_s": Spread.of(samples["sdk"]).median,
            "raw_s": Spread.of(samples["raw"]).median,
        },
    )


def _measure(
    settings: Settings, sdk: Callable[[], int], raw: Callable[[], int], total: int
) -> dict[str, list[float]]:
    assert sdk() == raw() == total
    return interleaved(
        {"sdk": sdk, "raw": raw},
        rounds=settings.rounds,
        batch_seconds=settings.batch_seconds,
        warmup_seconds=settings.warmup_seconds,
    )


def on_mock_transport(settings: Settings, total: int) -> Row:
    client = httpx.Client(transport=page_server(_pages.pages(total, PAGE_SIZE)))
    core = SfcCore(server_url=SERVER, bearer_auth=TOKEN, client=client)
    try:
        samples = _measure(settings, sdk_walk(core), raw_walk(client, _json.loads), total)
    finally:
        client.close()
    what = f"`images_iter` over {total:,} images, {PAGE_SIZE} per page"
    return _row(f"MockTransport, {_json.BACKEND}", what, samples)


def on_emulator(settings: Settings, total: int) -> Row:
    with tempfile.TemporaryDirectory(prefix="sfc-bench-b7-") as scratch:
        emulator = EmulatorProcess(
            settings.python,
            Path(scratch) / "data",
            TOKEN,
            min_part_size=settings.min_part_size,
            log=Path(scratch) / "emulator.log",
        )
        with emulator, emulator.api() as api, httpx.Client() as client:
            for i in range(total):
                api.post("/v2/images", json={"name": f"image-{i:05d}"}).raise_for_status()
            with SfcCore(server_url=emulator.url, bearer_auth=TOKEN) as core:
                samples = _measure(
                    settings, sdk_walk(core), raw_walk(client, _json.loads, emulator.url), total
                )
    what = f"`images_iter` over {total:,} images, {PAGE_SIZE} per page"
    return _row(f"emulator, {_json.BACKEND}", what, samples)


def run(settings: Settings) -> list[Row]:
    total = TOTAL if not settings.smoke else 1_000
    return [on_mock_transport(settings, total), on_emulator(settings, total)]
