"""Every operation, sync and async, over real HTTP to the emulator: success paths and every
documented status code mapped to its error type.

Statuses the emulator produces by itself (401, 404, 409, 422) are provoked for real; the rest
(a 500, a 403 from a quota) are scripted with the emulator's fault injection, which answers with
the API's documented error body.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest
from returns.result import Failure, Result, Success

from sfc_core import (
    ApiError,
    BadRequestError,
    ConflictError,
    DeleteImageResponse,
    ForbiddenError,
    ImageUploadStatus,
    InputValidationError,
    InternalServerError,
    NotFoundError,
    RequestOptions,
    RetryConfig,
    Security,
    SfcCore,
    SfcDefaultError,
    UnauthorizedError,
    UnprocessableEntityError,
)
from sfc_emulator import Emulator
from sfc_funcs.images_complete_upload import images_complete_upload, images_complete_upload_async
from sfc_funcs.images_delete import images_delete, images_delete_async
from sfc_funcs.images_download import images_download, images_download_async
from sfc_funcs.images_get import images_get, images_get_async
from sfc_funcs.images_list import images_list, images_list_async
from sfc_funcs.images_start_upload import images_start_upload, images_start_upload_async
from sfc_funcs.images_upload_part import images_upload_part, images_upload_part_async

OPERATIONS: dict[str, tuple[Callable[..., Any], Callable[..., Coroutine[Any, Any, Any]]]] = {
    "list": (images_list, images_list_async),
    "start_upload": (images_start_upload, images_start_upload_async),
    "get": (images_get, images_get_async),
    "upload_part": (images_upload_part, images_upload_part_async),
    "complete": (images_complete_upload, images_complete_upload_async),
    "download": (images_download, images_download_async),
    "delete": (images_delete, images_delete_async),
}

Call = Callable[..., Result[Any, Any]]


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest, core: SfcCore) -> Call:
    """``call("get", core, "image_x")`` runs the operation in this test's mode."""
    mode = request.param

    def run(operation: str, *args: Any, **kwargs: Any) -> Result[Any, Any]:
        sync, async_ = OPERATIONS[operation]
        if mode == "sync":
            return sync(*args, **kwargs)  # type: ignore[no-any-return]

        async def go() -> Result[Any, Any]:
            try:
                return await async_(*args, **kwargs)  # type: ignore[no-any-return]
            finally:
                await args[0].aclose()

        return asyncio.run(go())

    return run


def upload(core: SfcCore, name: str, parts: list[bytes]) -> str:
    """An image completed through the real protocol; returns its id."""
    image = images_start_upload(core, name).unwrap()
    for number, data in enumerate(parts, start=1):
        part = images_upload_part(core, image.id, number).unwrap()
        assert httpx.put(part.url, content=data).status_code == 200
    digest = hashlib.sha256(b"".join(parts)).hexdigest()
    images_complete_upload(core, image.id, digest).unwrap()
    return image.id


def failure_of(result: Result[Any, Any]) -> Any:
    assert isinstance(result, Failure), result
    return result.failure()


def test_the_whole_protocol_round_trips_bytes(
    call: Call, core: SfcCore, emulator: Emulator
) -> None:
    data = [b"a" * 2048, b"b" * 1500]
    started = call("start_upload", core, "ubuntu-22.04").unwrap()
    assert started.upload_status is ImageUploadStatus.STARTED
    assert started.name == "ubuntu-22.04"
    for number, chunk in enumerate(data, start=1):
        part = call("upload_part", core, started.id, number).unwrap()
        put = httpx.put(part.url, content=chunk)
        assert put.status_code == 200
    digest = hashlib.sha256(b"".join(data)).hexdigest()
    completed = call("complete", core, started.id, digest).unwrap()
    assert completed.upload_status == "completed"
    assert completed.sha256 == digest
    assert emulator.real_sha256(started.id) == digest

    image = call("get", core, started.id).unwrap()
    assert (image.id, image.sha256, image.upload_status) == (started.id, digest, "completed")

    info = call("download", core, started.id).unwrap()
    assert (info.sha256, info.size) == (digest, 3548)
    assert httpx.get(info.url).content == b"".join(data)

    listed = call("list", core).unwrap()
    assert [i.id for i in listed.data] == [started.id]

    deleted = call("delete", core, started.id).unwrap()
    assert deleted == DeleteImageResponse(deleted=True, name="ubuntu-22.04")
    assert isinstance(failure_of(call("get", core, started.id)), NotFoundError)
    assert call("list", core).unwrap().data == ()
    assert [i.id for i in call("list", core, include_deleted=True).unwrap().data] == [started.id]


def test_pagination_walks_both_ways(call: Call, core: SfcCore) -> None:
    ids = [images_start_upload(core, f"img-{n}").unwrap().id for n in range(5)]
    newest_first = list(reversed(ids))
    first = call("list", core, limit=2).unwrap()
    assert [i.id for i in first.data] == newest_first[:2]
    assert first.has_more
    second = call("list", core, limit=2, starting_after=first.cursor).unwrap()
    assert [i.id for i in second.data] == newest_first[2:4]
    third = call("list", core, limit=2, starting_after=second.cursor).unwrap()
    assert [i.id for i in third.data] == newest_first[4:]
    assert not third.has_more
    assert third.cursor is None


# --- documented statuses provoked for real ----------------------------------------------------

WRONG = Security(bearer_auth="wrong-token")


@pytest.mark.parametrize(
    ("operation", "args"),
    [
        ("list", ()),
        ("start_upload", ("disk",)),
        ("get", ("image_abc",)),
        ("upload_part", ("image_abc", 1)),
        ("complete", ("image_abc", "a" * 64)),
        ("download", ("image_abc",)),
        ("delete", ("image_abc",)),
    ],
)
def test_a_wrong_token_is_unauthorized(
    call: Call, core: SfcCore, operation: str, args: tuple[Any, ...]
) -> None:
    error = failure_of(call(operation, core, *args, security=WRONG))
    assert isinstance(error, UnauthorizedError)
    assert error.status == 401
    assert error.error_type == "authentication_error"
    assert "wrong-token" not in str(error)


@pytest.mark.parametrize(
    ("operation", "args"),
    [
        ("get", ()),
        ("upload_part", (1,)),
        ("complete", ("a" * 64,)),
        ("download", ()),
        ("delete", ()),
    ],
)
def test_an_unknown_image_is_not_found(
    call: Call, core: SfcCore, operation: str, args: tuple[Any, ...]
) -> None:
    error = failure_of(call(operation, core, "image_doesnotexist", *args))
    assert isinstance(error, NotFoundError)
    assert error.error_type == "not_found"


def test_a_taken_name_is_a_conflict(call: Call, core: SfcCore) -> None:
    images_start_upload(core, "taken").unwrap()
    error = failure_of(call("start_upload", core, "taken"))
    assert isinstance(error, ConflictError)
    assert error.error_type == "conflict"


def test_downloading_an_unfinished_upload_is_a_conflict(call: Call, core: SfcCore) -> None:
    image = images_start_upload(core, "unfinished").unwrap()
    assert isinstance(failure_of(call("download", core, image.id)), ConflictError)


def test_completing_with_missing_parts_is_unprocessable(call: Call, core: SfcCore) -> None:
    image = images_start_upload(core, "gappy").unwrap()
    part = images_upload_part(core, image.id, 2).unwrap()
    httpx.put(part.url, content=b"x" * 10).raise_for_status()
    error = failure_of(call("complete", core, image.id, "a" * 64))
    assert isinstance(error, UnprocessableEntityError)
    assert any(d.field == "parts" for d in error.details)


def test_an_out_of_range_limit_slipped_past_the_sdk_is_unprocessable(
    call: Call, core: SfcCore
) -> None:
    error = failure_of(call("list", core, options=RequestOptions(query={"limit": "0"})))
    assert isinstance(error, UnprocessableEntityError)
    assert any(d.field == "limit" for d in error.details)


def test_completing_twice_with_another_hash_is_refused(call: Call, core: SfcCore) -> None:
    image_id = upload(core, "twice", [b"z" * 100])
    again = call("complete", core, image_id, hashlib.sha256(b"z" * 100).hexdigest())
    assert isinstance(again, Success)
    assert isinstance(failure_of(call("complete", core, image_id, "b" * 64)), ApiError)


# --- every documented status, scripted -------------------------------------------------------

DOCUMENTED: dict[str, dict[int, type[ApiError]]] = {
    "list": {
        400: BadRequestError,
        401: UnauthorizedError,
        422: UnprocessableEntityError,
        500: InternalServerError,
    },
    "start_upload": {
        400: BadRequestError,
        401: UnauthorizedError,
        403: ForbiddenError,
        409: ConflictError,
        500: InternalServerError,
    },
    "get": {401: UnauthorizedError, 404: NotFoundError, 500: InternalServerError},
    "complete": {
        400: BadRequestError,
        401: UnauthorizedError,
        403: ForbiddenError,
        404: NotFoundError,
        422: UnprocessableEntityError,
        500: InternalServerError,
    },
    "download": {
        401: UnauthorizedError,
        404: NotFoundError,
        409: ConflictError,
        500: InternalServerError,
    },
    "upload_part": {
        400: BadRequestError,
        401: UnauthorizedError,
        403: ForbiddenError,
        404: NotFoundError,
        422: UnprocessableEntityError,
        500: InternalServerError,
    },
    "delete": {
        401: UnauthorizedError,
        404: NotFoundError,
        409: ConflictError,
        500: InternalServerError,
    },
}

ARGS: dict[str, tuple[Any, ...]] = {
    "list": (),
    "start_upload": ("scripted",),
    "get": ("image_scripted",),
    "upload_part": ("image_scripted", 1),
    "complete": ("image_scripted", "c" * 64),
    "download": ("image_scripted",),
    "delete": ("image_scripted",),
}

CASES = [
    (operation, status, cls)
    for operation, statuses in DOCUMENTED.items()
    for status, cls in [*statuses.items(), (418, SfcDefaultError), (501, SfcDefaultError)]
]


@pytest.mark.parametrize(("operation", "status", "cls"), CASES)
def test_each_documented_status_maps_to_its_error(
    call: Call, core: SfcCore, emulator: Emulator, operation: str, status: int, cls: type[ApiError]
) -> None:
    emulator.faults.add(operation, status=status)
    no_retry = RequestOptions(retry=RetryConfig.off())
    error = failure_of(call(operation, core, *ARGS[operation], options=no_retry))
    assert type(error) is cls
    assert error.status == status
    assert error.message
    assert error.path.startswith("/v2/images")
    assert emulator.faults.pending() == 0


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_503_is_retried_and_then_succeeds_or_is_reported(
    call: Call, core: SfcCore, emulator: Emulator, operation: str
) -> None:
    emulator.faults.add(operation, status=503, retry_after=1, times=2)
    result = call(operation, core, *ARGS[operation])
    requests = emulator.requests.by_route(operation)
    if operation == "start_upload":
        assert isinstance(failure_of(result), SfcDefaultError)
        assert len(requests) == 1
    else:
        assert len(requests) == 3
        assert not (
            isinstance(result, Failure) and getattr(result.failure(), "status", None) == 503
        )


def test_retries_off_reports_the_first_503(call: Call, core: SfcCore, emulator: Emulator) -> None:
    emulator.faults.add("get", status=503, times=5)
    error = failure_of(
        call("get", core, "image_x", options=RequestOptions(retry=RetryConfig.off()))
    )
    assert isinstance(error, SfcDefaultError)
    assert len(emulator.requests.by_route("get")) == 1


def test_a_dropped_connection_is_retried(call: Call, core: SfcCore, emulator: Emulator) -> None:
    image_id = images_start_upload(core, "dropme").unwrap().id
    emulator.faults.add("get", drop_after_bytes=0)
    assert call("get", core, image_id).unwrap().id == image_id
    assert len(emulator.requests.by_route("get")) == 2


def test_a_response_cut_mid_body_is_retried(call: Call, core: SfcCore, emulator: Emulator) -> None:
    image_id = images_start_upload(core, "cutme").unwrap().id
    emulator.faults.add("get", drop_after_bytes=10)
    assert call("get", core, image_id).unwrap().id == image_id


def test_bad_arguments_never_reach_the_server(
    call: Call, core: SfcCore, emulator: Emulator
) -> None:
    cases: list[tuple[str, tuple[Any, ...], dict[str, Any], str]] = [
        ("get", ("../../etc/passwd",), {}, "image_id"),
        ("delete", ("image_a/../b",), {}, "image_id"),
        ("start_upload", ("-bad name",), {}, "name"),
        ("upload_part", ("image_a", 0), {}, "part_id"),
        ("upload_part", ("image_a", 10_001), {}, "part_id"),
        ("complete", ("image_a", "XYZ"), {}, "sha256"),
        ("list", (), {"limit": 201}, "limit"),
        ("list", (), {"starting_after": "imagec_a&limit=1"}, "starting_after"),
        ("list", (), {"ending_before": "nope"}, "ending_before"),
    ]
    for operation, args, kwargs, field in cases:
        error = failure_of(call(operation, core, *args, **kwargs))
        assert isinstance(error, InputValidationError)
        assert error.field == field
    assert len(emulator.requests) == 0


def test_https_spoken_to_a_plain_http_server_fails_at_once_and_says_why(emulator: Emulator) -> None:
    core = SfcCore(
        server_url=emulator.url.replace("http://", "https://"), bearer_auth=emulator.token
    )
    error = failure_of(images_list(core))
    core.close()
    assert "TLS handshake failed" in str(error)
    assert "(2 attempts)" not in str(error)
