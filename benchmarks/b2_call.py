"""B2, per-call overhead: ``images_get`` against a bare ``httpx.Client.get`` plus a JSON decode.

Both go through the same ``httpx.Client`` on the same ``MockTransport``, whose handler answers
every request with the same realistic image, so what differs is what the SDK adds: argument
checks, the request build, the retry loop, status mapping and structuring into a model. The bare
call decodes with the decoder the SDK is using in that row (orjson, or the stdlib's ``json``), so
the ratio is the SDK's own work and not a difference between decoders.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import orjson

from benchmarks import _pages
from benchmarks._measure import Spread, interleaved, ratios
from benchmarks._report import Row
from benchmarks._settings import Settings
from sfc_core import RetryConfig, SfcCore, _json
from sfc_funcs.images_get import images_get

SERVER = "https://api.sfc.test"
TOKEN = "bench-token"
IMAGE_ID = "image_0123456789abcdefABCDE"

Loads = Callable[[bytes], Any]


def mock_client(body: bytes) -> httpx.Client:
    headers = {"content-type": "application/json"}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, content=body)

    return httpx.Client(transport=httpx.MockTransport(answer))


def sdk_call(core: SfcCore, loads: Loads) -> Callable[[], object]:
    def call() -> object:
        # Swapped per call (a dict store, a few ns) so both decoders interleave in one session.
        _json.loads = loads
        return images_get(core, IMAGE_ID).unwrap()

    return call


def raw_call(client: httpx.Client, loads: Loads) -> Callable[[], object]:
    url = f"{SERVER}/v2/images/{IMAGE_ID}"
    headers = {"authorization": f"Bearer {TOKEN}"}

    def call() -> object:
        return loads(client.get(url, headers=headers).content)

    return call


def run(settings: Settings) -> list[Row]:
    client = mock_client(_pages.one_image())
    core = SfcCore(server_url=SERVER, bearer_auth=TOKEN, client=client, retry=RetryConfig())
    saved = _json.loads
    try:
        samples = interleaved(
            {
                "sdk_orjson": sdk_call(core, orjson.loads),
                "raw_orjson": raw_call(client, orjson.loads),
                "sdk_json": sdk_call(core, _json.stdlib_loads),
                "raw_json": raw_call(client, json.loads),
            },
            rounds=settings.rounds,
            batch_seconds=settings.batch_seconds,
            warmup_seconds=settings.warmup_seconds,
        )
    finally:
        _json.loads = saved
        client.close()
    rows = []
    for variant, sdk, raw in (
        ("orjson", "sdk_orjson", "raw_orjson"),
        ("stdlib json", "sdk_json", "raw_json"),
    ):
        rows.append(
            Row(
                id="B2",
                variant=variant,
                what="per call: `images_get` on an `httpx.MockTransport`",
                compared_with="`httpx.Client.get` + decode, same client and transport",
                spread=Spread.of(ratios(samples[sdk], samples[raw])),
                target=1.30,
                medians={
                    "sdk_s": Spread.of(samples[sdk]).median,
                    "raw_s": Spread.of(samples[raw]).median,
                },
            )
        )
    return rows
