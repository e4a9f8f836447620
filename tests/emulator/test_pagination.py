"""List pagination over HTTP: order, both directions, both ends, deleted images, bad input."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.helpers import Api
from sfc_emulator._validation import ListQuery, encode_cursor

NAMES = ["i0", "i1", "i2", "i3", "i4"]


@pytest.fixture
def ids(api: Api) -> list[str]:
    """Five images, created oldest (i0) to newest (i4); the list shows them newest first."""
    return [api.start(name) for name in NAMES]


def page(api: Api, **params: Any) -> dict[str, Any]:
    response = api.request("GET", "/v2/images", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["object"] == "list"
    assert set(body) == {"object", "data", "has_more", "cursor"}
    return body


def names(body: dict[str, Any]) -> list[str]:
    return [entry["name"] for entry in body["data"]]


def cursor_of(api: Api, name: str) -> str:
    """A cursor naming one image, even the oldest (whose page never carries a cursor)."""
    everything = api.emu.state.store.page(ListQuery(limit=200, include_deleted=True)).images
    return encode_cursor(next(image.seq for image in everything if image.name == name))


def test_response_cursors_are_the_ones_cursor_of_builds(api: Api, ids: list[str]) -> None:
    body = page(api, limit=1)
    for name in NAMES[:0:-1]:
        assert (names(body), body["cursor"]) == ([name], cursor_of(api, name))
        body = page(api, limit=1, starting_after=body["cursor"])
    assert (names(body), body["cursor"]) == (["i0"], None)


def test_default_page_is_everything_newest_first(api: Api, ids: list[str]) -> None:
    body = page(api)
    assert names(body) == NAMES[::-1]
    assert [entry["id"] for entry in body["data"]] == ids[::-1]
    assert body["has_more"] is False
    assert body["cursor"] is None
    entry = body["data"][0]
    assert set(entry) == {
        "object",
        "id",
        "name",
        "upload_status",
        "created_at",
        "provider",
        "sha256",
    }


def test_empty_list(api: Api) -> None:
    assert page(api) == {"object": "list", "data": [], "has_more": False, "cursor": None}


def test_forward_pages(api: Api, ids: list[str]) -> None:
    first = page(api, limit=2)
    assert (names(first), first["has_more"]) == (["i4", "i3"], True)
    second = page(api, limit=2, starting_after=first["cursor"])
    assert (names(second), second["has_more"]) == (["i2", "i1"], True)
    third = page(api, limit=2, starting_after=second["cursor"])
    assert (names(third), third["has_more"], third["cursor"]) == (["i0"], False, None)


def test_a_page_ending_exactly_at_the_end_has_no_more(api: Api, ids: list[str]) -> None:
    assert page(api, limit=5)["has_more"] is False
    first = page(api, limit=4)
    assert first["has_more"] is True
    last = page(api, limit=1, starting_after=first["cursor"])
    assert (names(last), last["has_more"], last["cursor"]) == (["i0"], False, None)
    after_oldest = page(api, starting_after=cursor_of(api, "i0"))
    assert after_oldest == {"object": "list", "data": [], "has_more": False, "cursor": None}


def test_backward_pages(api: Api, ids: list[str]) -> None:
    before_i1 = page(api, limit=2, ending_before=cursor_of(api, "i1"))
    assert (names(before_i1), before_i1["has_more"]) == (["i3", "i2"], True)
    # With ending_before the cursor names the page's first item: the way on is further back.
    before_i3 = page(api, limit=2, ending_before=before_i1["cursor"])
    assert (names(before_i3), before_i3["has_more"], before_i3["cursor"]) == (["i4"], False, None)
    before_newest = page(api, ending_before=cursor_of(api, "i4"))
    assert before_newest == {"object": "list", "data": [], "has_more": False, "cursor": None}
    exactly = page(api, limit=3, ending_before=cursor_of(api, "i1"))
    assert (names(exactly), exactly["has_more"], exactly["cursor"]) == (
        ["i4", "i3", "i2"],
        False,
        None,
    )


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 6, 200])
def test_walking_either_way_visits_everything_once(api: Api, ids: list[str], limit: int) -> None:
    seen: list[str] = []
    body = page(api, limit=limit)
    seen += names(body)
    while body["has_more"]:
        body = page(api, limit=limit, starting_after=body["cursor"])
        seen += names(body)
    assert seen == NAMES[::-1]

    oldest = cursor_of(api, "i0")
    body = page(api, limit=limit, ending_before=oldest)
    back = names(body)
    while body["has_more"]:
        body = page(api, limit=limit, ending_before=body["cursor"])
        back = names(body) + back
    assert back == NAMES[:0:-1]


def test_deleted_images_are_hidden_unless_asked_for(api: Api, ids: list[str]) -> None:
    i2_cursor = cursor_of(api, "i2")
    assert api.request("DELETE", f"/v2/images/{ids[2]}").status_code == 200
    assert names(page(api)) == ["i4", "i3", "i1", "i0"]
    assert names(page(api, include_deleted="false")) == ["i4", "i3", "i1", "i0"]
    assert names(page(api, include_deleted="true")) == NAMES[::-1]
    # A cursor at a deleted image keeps its place.
    assert names(page(api, starting_after=i2_cursor)) == ["i1", "i0"]
    assert names(page(api, ending_before=i2_cursor)) == ["i4", "i3"]
    filtered = page(api, limit=2, include_deleted="true", starting_after=cursor_of(api, "i3"))
    assert names(filtered) == ["i2", "i1"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"starting_after": "nope"}, "starting_after"),
        ({"starting_after": "imagec_$$"}, "starting_after"),
        ({"ending_before": "imagec_AAAA"}, "ending_before"),
        ({"starting_after": encode_cursor(10**9)}, "starting_after"),
        ({"ending_before": encode_cursor(10**9)}, "ending_before"),
        ({"include_deleted": "1"}, "include_deleted"),
        ({"starting_after": encode_cursor(1), "ending_before": encode_cursor(1)}, "ending_before"),
    ],
)
def test_bad_queries_are_422(api: Api, params: dict[str, str], field: str) -> None:
    response = api.request("GET", "/v2/images", params=params)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "unprocessable_entity"
    assert error["details"][0]["field"] == field


def test_limit_bounds_are_accepted(api: Api, ids: list[str]) -> None:
    assert len(page(api, limit=1)["data"]) == 1
    assert len(page(api, limit=200)["data"]) == 5


def test_unknown_query_parameters_are_ignored(api: Api, ids: list[str]) -> None:
    assert names(page(api, color="blue")) == NAMES[::-1]
