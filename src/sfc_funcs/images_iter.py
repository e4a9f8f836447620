"""Every image, across pages: ``images_iter`` follows ``cursor`` while ``has_more``.

Yields one ``Result`` per image and stops after the first ``Failure``. A page may be empty and
still say ``has_more`` (the server can filter a page down to nothing), so only ``has_more`` ends
the walk. A server that repeats a cursor, or says ``has_more`` without one, would loop for ever;
both end the walk with a ``ResponseValidationError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from returns.result import Failure, Result, Success

from sfc_core import (
    ImageListEntry,
    ListImagesResponse,
    RequestOptions,
    ResponseValidationError,
    Security,
    SfcCore,
)
from sfc_core import _validation as validate
from sfc_funcs.images_list import ImagesListError, images_list, images_list_async

ImagesIterError = ImagesListError


class PageWalk:
    """The pure state of a walk across pages: the next cursor, the cursors seen, whether the
    walk is over. ``take`` turns one page's ``Result`` into the ``Result``s to yield."""

    def __init__(self, page_size: int | None) -> None:
        self.cursor: str | None = None
        self._seen: set[str] = set()
        checked = (
            Success(None)
            if page_size is None
            else validate.bounded_int(page_size, "page_size", 1, validate.MAX_LIST_LIMIT)
        )
        self.refused: list[Result[ImageListEntry, ImagesIterError]] = (
            [Failure(checked.failure())] if isinstance(checked, Failure) else []
        )
        self.done = bool(self.refused)

    def take(
        self, page: Result[ListImagesResponse, ImagesIterError]
    ) -> list[Result[ImageListEntry, ImagesIterError]]:
        if isinstance(page, Failure):
            self.done = True
            return [Failure(page.failure())]
        listing = page.unwrap()
        results: list[Result[ImageListEntry, ImagesIterError]] = [
            Success(image) for image in listing.data
        ]
        if not listing.has_more:
            self.done = True
            return results
        if listing.cursor is None:
            reason = "has_more is true but cursor is null"
        elif listing.cursor in self._seen:
            reason = f"cursor {listing.cursor} was already returned; following it would loop"
        else:
            self._seen.add(listing.cursor)
            self.cursor = listing.cursor
            return results
        self.done = True
        results.append(
            Failure(
                ResponseValidationError(status=200, method="GET", path="/v2/images", reason=reason)
            )
        )
        return results


def images_iter(
    core: SfcCore,
    *,
    page_size: int | None = None,
    include_deleted: bool | None = None,
    security: Security | None = None,
    options: RequestOptions | None = None,
) -> Iterator[Result[ImageListEntry, ImagesIterError]]:
    """Every image, newest first, fetched a page at a time.

    Args:
        core: the SDK configuration.
        page_size: images per request, 1 to 200 (the server's default is 50).
        include_deleted: also list soft-deleted images.
        security: a credential for these calls instead of the core's.
        options: per-call timeout, retry, server URL, headers and query, for each page.

    Yields:
        ``Success(ImageListEntry)`` per image; a single ``Failure`` (any ``images_list`` error,
        or ``ResponseValidationError`` for a looping cursor) ends the iteration.
    """
    walk = PageWalk(page_size)
    yield from walk.refused
    while not walk.done:
        page = images_list(
            core,
            limit=page_size,
            starting_after=walk.cursor,
            include_deleted=include_deleted,
            security=security,
            options=options,
        )
        yield from walk.take(page)


async def images_iter_async(
    core: SfcCore,
    *,
    page_size: int | None = None,
    include_deleted: bool | None = None,
    security: Security | None = None,
    options: RequestOptions | None = None,
) -> AsyncIterator[Result[ImageListEntry, ImagesIterError]]:
    """Every image, newest first; the async form of ``images_iter`` (``async for``)."""
    walk = PageWalk(page_size)
    for refusal in walk.refused:
        yield refusal
    while not walk.done:
        page = await images_list_async(
            core,
            limit=page_size,
            starting_after=walk.cursor,
            include_deleted=include_deleted,
            security=security,
            options=options,
        )
        for result in walk.take(page):
            yield result
