"""Every API operation against every kind of fault, each case asserting its exact outcome.

The faults come from the emulator over real HTTP: retryable statuses with and without
``Retry-After`` (seconds and HTTP date), a connection closed before the response and mid-body, a
response slower than the attempt timeout, a proxy's HTML error page, and a redirect to another
host. Operations that may be repeated must succeed after the faults; creating an image, which is
only repeated when the request cannot have been processed, must report the specific failure.
"""

from __future__ import annotations

import email.utils
import hashlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from returns.result import Result, Success

from sfc_core import (
    InternalServerError,
    NotFoundError,
    SfcConnectionError,
    SfcCore,
    SfcDefaultError,
    SfcTimeoutError,
)
from sfc_emulator import Emulator
from sfc_funcs.images_complete_upload import images_complete_upload
from sfc_funcs.images_delete import images_delete
from sfc_funcs.images_download import images_download
from sfc_funcs.images_get import images_get
from sfc_funcs.images_list import images_list
from sfc_funcs.images_start_upload import images_start_upload
from sfc_funcs.images_upload_part import images_upload_part

from .conftest import Ledger

PART = b"p" * 4096
PART_SHA = hashlib.sha256(PART).hexdigest()


def _started(core: SfcCore) -> str:
    return images_start_upload(core, "target").unwrap().id


def _with_part(core: SfcCore) -> str:
    image_id = _started(core)
    url = images_upload_part(core, image_id, 1).unwrap().url
    httpx.put(url, content=PART).raise_for_status()
    return image_id


def _completed(core: SfcCore) -> str:
    image_id = _with_part(core)
    images_complete_upload(core, image_id, PART_SHA).unwrap()
    return image_id


Prepare = Callable[[SfcCore], tuple[Any, ...]]
OPERATIONS: dict[str, tuple[Callable[..., Result[Any, Any]], Prepare]] = {
    "list": (images_list, lambda core: ()),
    "start_upload": (images_start_upload, lambda core: ("fresh-image",)),
    "get": (images_get, lambda core: (_completed(core),)),
    "upload_part": (images_upload_part, lambda core: (_started(core), 1)),
    "complete": (images_complete_upload, lambda core: (_with_part(core), PART_SHA)),
    "download": (images_download, lambda core: (_completed(core),)),
    "delete": (images_delete, lambda core: (_completed(core),)),
}


def http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


STATUS_FAULTS: list[tuple[int, Any]] = [
    (status, retry_after)
    for status in (429, 500, 502, 503, 504)
    for retry_after in (None, 1, "date")
]


@pytest.fixture
def run(fast_core: SfcCore, emulator: Emulator, ledger: Ledger) -> Callable[..., Result[Any, Any]]:
    def go(operation: str, **fault: Any) -> Result[Any, Any]:
        function, prepare = OPERATIONS[operation]
        args = prepare(fast_core)
        emulator.requests.clear()
        emulator.faults.add(operation, **fault)
        ledger.add("fault cases run")
        ledger.add("faults injected", fault.get("times", 1))
        result = function(fast_core, *args)
        if isinstance(result, Success):
            ledger.add("fault cases ending in success")
        return result

    return go


def attempts(emulator: Emulator, operation: str) -> int:
    return len(emulator.requests.by_route(operation))


@pytest.mark.parametrize(("status", "retry_after"), STATUS_FAULTS)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_retryable_statuses(
    run: Callable[..., Result[Any, Any]],
    emulator: Emulator,
    operation: str,
    status: int,
    retry_after: Any,
) -> None:
    header = http_date(1) if retry_after == "date" else retry_after
    result = run(operation, status=status, retry_after=header, times=2)
    if operation == "start_upload" and status != 429:
        error = result.failure()
        expected = InternalServerError if status == 500 else SfcDefaultError
        assert type(error) is expected
        assert error.status == status
        assert attempts(emulator, operation) == 1
    else:
        assert isinstance(result, Success), result
        assert attempts(emulator, operation) == 3


@pytest.mark.parametrize("after_bytes", [0, 8], ids=["before the response", "mid-body"])
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_connection_closed(
    run: Callable[..., Result[Any, Any]], emulator: Emulator, operation: str, after_bytes: int
) -> None:
    result = run(operation, drop_after_bytes=after_bytes)
    if operation == "start_upload":
        assert isinstance(result.failure(), SfcConnectionError)
        assert attempts(emulator, operation) == 1
    elif operation == "delete":
        # The first attempt deleted the image; its answer was lost, so the retry finds nothing.
        assert isinstance(result.failure(), NotFoundError)
    else:
        assert isinstance(result, Success), result
        assert attempts(emulator, operation) == 2


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_response_slower_than_the_attempt_timeout(
    run: Callable[..., Result[Any, Any]], emulator: Emulator, operation: str
) -> None:
    result = run(operation, delay=1.5)
    if operation == "start_upload":
        assert isinstance(result.failure(), SfcTimeoutError)
    else:
        assert isinstance(result, Success), result
        assert attempts(emulator, operation) == 2


PROXY_PAGE = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_proxy_html_error_page(
    run: Callable[..., Result[Any, Any]], emulator: Emulator, operation: str
) -> None:
    result = run(operation, status=502, body=PROXY_PAGE, content_type="text/html", times=10)
    error = result.failure()
    assert isinstance(error, SfcDefaultError)
    assert error.body == PROXY_PAGE.encode()
    assert error.error_type is None
    assert "text/html" in str(error)
    assert attempts(emulator, operation) == (1 if operation == "start_upload" else 4)


@pytest.fixture(scope="module")
def other_host() -> Iterator[Emulator]:
    with Emulator(token="other-host-token") as emu:
        yield emu


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_another_host_is_not_followed(
    run: Callable[..., Result[Any, Any]],
    emulator: Emulator,
    other_host: Emulator,
    operation: str,
    status: int,
) -> None:
    other_host.requests.clear()
    location = f"{other_host.url.replace('127.0.0.1', 'localhost')}/v2/images"
    result = run(operation, status=status, headers={"Location": location})
    error = result.failure()
    assert isinstance(error, SfcDefaultError)
    assert error.status == status
    assert error.header("location") == location
    assert len(other_host.requests) == 0
