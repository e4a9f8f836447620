"""The converter's generated fast path agrees with cattrs on every input, good or bad.

The benchmarks made the fast path worth having; this keeps it honest: for any decoded JSON,
``structure`` must give what the strict cattrs converter gives — an equal model with the same
types inside, or the same exception type.
"""

from __future__ import annotations

import functools
import pickle
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfc_core import (
    DeleteImageResponse,
    ImageDownloadResponse,
    ImageListEntry,
    ImageUploadResponse,
    ImageUploadStatus,
    ListImagesResponse,
    UploadPartResponse,
)
from sfc_core._converter import STRUCTURE_ERRORS, _generated, fast_converter, structure

MODELS: tuple[type[Any], ...] = (
    ImageListEntry,
    ListImagesResponse,
    ImageUploadResponse,
    ImageDownloadResponse,
    UploadPartResponse,
    DeleteImageResponse,
)

ODD = st.sampled_from([None, True, False, 0, 1, -1, 1.5, "", "x", "12", [], {}, ["a"], {"a": 1}])
GOOD: dict[str, st.SearchStrategy[Any]] = {
    "id": st.just("image_abc"),
    "name": st.text(max_size=5),
    "upload_status": st.sampled_from(["completed", "uploading", "started", "failed", "revoked"]),
    "created_at": st.integers(),
    "provider": st.none() | st.text(max_size=3),
    "sha256": st.none() | st.just("a" * 64) | st.just("A" * 64),
    "object": st.sampled_from(["image", "list"]),
    "has_more": st.booleans(),
    "cursor": st.none() | st.just("imagec_1"),
    "url": st.just("http://storage.test/x?sig=1"),
    "expires_at": st.integers(),
    "size": st.integers(min_value=-2, max_value=10),
    "deleted": st.booleans(),
}


@st.composite
def bodies(draw: st.DrawFn, model: type[Any]) -> Any:
    """A body for ``model``: mostly a good one, then up to three changes — a key dropped, a
    value of the wrong type, an unknown key — and now and then not a dict at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(ODD)
    body: dict[str, Any] = {}
    for f in attrs.fields(model):
        if f.name == "data":
            body[f.name] = draw(st.lists(bodies(ImageListEntry), max_size=3))
        else:
            body[f.name] = draw(GOOD[f.name])
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from([*body, "brand_new"]))
        change = draw(st.sampled_from(["drop", "odd", "odd"]))
        if change == "drop":
            body.pop(key, None)
        else:
            body[key] = draw(ODD)
    return body


def outcome(call: Any) -> tuple[str, Any]:
    try:
        value = call()
    except STRUCTURE_ERRORS as exc:
        return "error", type(exc)
    return "value", value


def field_types(value: Any) -> Any:
    if attrs.has(type(value)):
        return (
            type(value),
            {k: field_types(v) for k, v in attrs.asdict(value, recurse=False).items()},
        )
    if isinstance(value, tuple):
        return tuple(field_types(v) for v in value)
    return type(value)


@given(st.sampled_from(MODELS).flatmap(lambda m: st.tuples(st.just(m), bodies(m))))
def test_fast_path_matches_cattrs(case: tuple[type[Any], Any]) -> None:
    model, body = case
    ours = outcome(lambda: structure(body, model))
    reference = outcome(lambda: fast_converter().structure(body, model))
    assert ours == reference
    if ours[0] == "value":
        assert field_types(ours[1]) == field_types(reference[1])


def test_a_list_page_takes_the_generated_path_and_gives_ordinary_models() -> None:
    entry = {"id": "image_a", "name": "n", "upload_status": "completed", "created_at": 1}
    page = structure({"data": [entry, entry], "has_more": False}, ListImagesResponse)
    assert not isinstance(_generated[ListImagesResponse], functools.partial)
    expected = ImageListEntry(
        id="image_a", name="n", upload_status=ImageUploadStatus.COMPLETED, created_at=1
    )
    built = page.data[0]
    assert type(built) is ImageListEntry
    assert built == expected
    assert hash(built) == hash(expected)
    assert repr(built) == repr(expected)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.name = "changed"  # type: ignore[misc]
    assert attrs.evolve(built, name="m").name == "m"
    assert pickle.loads(pickle.dumps(page)) == page
