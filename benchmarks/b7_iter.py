"""B7, walking every image: ``images_iter`` over 10,000 images, 200 to a page, against a bare
httpx loop over the same pages.

Both run on one ``httpx.Client`` with a ``MockTransport`` that serves pre-built realistic pages
(not the emulator: listing 10,000 images there would need 10,000 images created, and its SQLite
queries and HTTP stack would add the same large cost to both sides, hiding the SDK's). The bare
loop does what a hand-written client must at least do: one GET per page with the cursor, decode
with the same decoder the SDK uses, and visit each image; the SDK adds argument checks,
structuring into models and one ``Success`` per image.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from benchmarks import _pages
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


def raw_walk(client: httpx.Client, loads: Callable[[bytes], Any]) -> Callable[[], int]:
    url = f"{SERVER}/v2/images"
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


def run(settings: Settings) -> list[Row]:
    total = TOTAL if not settings.smoke else 1_000
    client = httpx.Client(transport=page_server(_pages.pages(total, PAGE_SIZE)))
    core = SfcCore(server_url=SERVER, bearer_auth=TOKEN, client=client)
    sdk, raw = sdk_walk(core), raw_walk(client, _json.loads)
    assert sdk() == raw() == total
    try:
        samples = interleaved(
            {"sdk": sdk, "raw": raw},
            rounds=settings.rounds,
            batch_seconds=settings.batch_seconds,
            warmup_seconds=settings.warmup_seconds,
        )
    finally:
        client.close()
    return [
        Row(
            id="B7",
            variant=_json.BACKEND,
            what=f"`images_iter` over {total:,} images, {PAGE_SIZE} per page (MockTransport)",
            compared_with="bare httpx loop over the same pages, same decoder",
            spread=Spread.of(ratios(samples["sdk"], samples["raw"])),
            target=1.30,
            medians={
                "sdk_s": Spread.of(samples["sdk"]).median,
                "raw_s": Spread.of(samples["raw"]).median,
            },
        )
    ]
