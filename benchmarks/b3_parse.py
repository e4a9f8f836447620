"""B3, parsing: a 200-image list page, from bytes to models.

Ours is ``images_list.parse_response``, the pure parser every ``images_list`` call runs: decode,
check, structure, wrap in ``Success``. It is compared with pydantic v2's ``model_validate_json``
into equivalent models, which is what generated Python SDKs do; msgspec, which decodes straight
into its structs in C, is the floor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import orjson

from benchmarks import _pages
from benchmarks._measure import Spread, interleaved, ratios
from benchmarks._report import Row
from benchmarks._settings import Settings
from sfc_core import ListImagesResponse, ResponseData, _json
from sfc_funcs.images_list import parse_response

PAGE_SIZE = 200


def ours(body: bytes, loads: Callable[[bytes], Any]) -> Callable[[], object]:
    data = ResponseData(status=200, body=body, path="/v2/images")

    def call() -> object:
        _json.loads = loads
        return parse_response(data).unwrap()

    return call


def check_equivalent(body: bytes) -> None:
    """All three must read the page the same way, or the comparison means nothing."""
    page = parse_response(ResponseData(status=200, body=body)).unwrap()
    assert isinstance(page, ListImagesResponse)
    theirs = _pages.PydanticList.model_validate_json(body)
    floor = msgspec.json.decode(body, type=_pages.MsgspecList)
    assert len(page.data) == len(theirs.data) == len(floor.data) == PAGE_SIZE
    for a, b, c in zip(page.data, theirs.data, floor.data, strict=True):
        assert (a.id, a.name, a.upload_status, a.created_at, a.sha256) == (
            b.id,
            b.name,
            b.upload_status,
            b.created_at,
            b.sha256,
        )
        assert (a.id, a.upload_status, a.sha256) == (c.id, c.upload_status, c.sha256)


def run(settings: Settings) -> list[Row]:
    body = _pages.pages(PAGE_SIZE, PAGE_SIZE)[0]
    check_equivalent(body)
    decoder = msgspec.json.Decoder(_pages.MsgspecList)
    saved = _json.loads
    try:
        samples = interleaved(
            {
                # pydantic sits between the two it is compared with, so both run next to it.
                "ours_orjson": ours(body, orjson.loads),
                "pydantic": lambda: _pages.PydanticList.model_validate_json(body),
                "ours_json": ours(body, _json.stdlib_loads),
                "msgspec": lambda: decoder.decode(body),
            },
            rounds=settings.rounds,
            batch_seconds=settings.batch_seconds,
            warmup_seconds=settings.warmup_seconds,
        )
    finally:
        _json.loads = saved
    pydantic_s = Spread.of(samples["pydantic"]).median
    msgspec_s = Spread.of(samples["msgspec"]).median
    rows = []
    for variant, name in (("orjson", "ours_orjson"), ("stdlib json", "ours_json")):
        ours_s = Spread.of(samples[name]).median
        rows.append(
            Row(
                id="B3",
                variant=variant,
                what=f"parse a {PAGE_SIZE}-image list page from bytes into models",
                compared_with="pydantic v2 `model_validate_json`, equivalent models",
                spread=Spread.of(ratios(samples[name], samples["pydantic"])),
                target=1.0,
                medians={"ours_s": ours_s, "pydantic_s": pydantic_s, "msgspec_s": msgspec_s},
                note=f"{ours_s / msgspec_s:.1f}x msgspec (the floor)",
            )
        )
    return rows
