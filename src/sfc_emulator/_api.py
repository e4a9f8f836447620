"""The Images API endpoints under `/v2/images`.

Handlers validate with the pure functions in `_validation`, call the blocking store from a worker
thread, and answer JSON. State-based refusals from the store map to statuses in one place
(`store_error`): unknown or deleted image → 404; name taken, part upload or download in the wrong
state, re-complete with another sha256 → 409; part-numbering rules at complete → 422 naming the
field `parts`.

List pages run newest first. `cursor` names the page's edge in the direction of travel when
`has_more`: the last item when paging forward (pass it as `starting_after`), the first item when
paging with `ending_before` (pass it as `ending_before` for the page before).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sfc_emulator import _validation as validate
from sfc_emulator._errors import ApiError, detail
from sfc_emulator._state import State
from sfc_emulator._store import (
    AlreadyCompletedError,
    Image,
    ImageNotFoundError,
    InvalidPartsError,
    NameTakenError,
    NotCompletedError,
    Sha256MismatchError,
    StoreError,
    UnknownCursorError,
)

P = ParamSpec("P")
T = TypeVar("T")


async def in_thread(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run blocking store work off the event loop."""
    return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))


def store_error(exc: StoreError) -> ApiError:
    """The API answer for a refusal from the store."""
    message = str(exc)
    match exc:
        case ImageNotFoundError():
            return ApiError(404, message)
        case NameTakenError():
            return ApiError(409, message, [detail("name", "name_taken", message)])
        case AlreadyCompletedError() | NotCompletedError():
            return ApiError(409, message)
        case Sha256MismatchError():
            return ApiError(409, message, [detail("sha256", "sha256_mismatch", message)])
        case InvalidPartsError():
            return ApiError(422, message, [detail("parts", "invalid_parts", message)])
        case UnknownCursorError(field=field):
            return ApiError(
                422,
                f"Invalid query parameter `{field}`: {message}.",
                [detail(field, "unknown_cursor", message)],
            )
    raise AssertionError(f"unmapped store error {exc!r}")


def base_url(request: Request) -> str:
    """The origin the client used to reach us, so presigned URLs work from where it is."""
    return str(request.base_url).rstrip("/")


class ImagesApi:
    """Handlers for the seven Images API operations."""

    def __init__(self, state: State) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            Route("/v2/images", self.list_images, methods=["GET"]),
            Route("/v2/images", self.start_upload, methods=["POST"]),
            Route("/v2/images/{image_id}", self.get_image, methods=["GET"]),
            Route("/v2/images/{image_id}", self.delete_image, methods=["DELETE"]),
            Route("/v2/images/{image_id}/parts", self.upload_part, methods=["POST"]),
            Route("/v2/images/{image_id}/complete", self.complete_upload, methods=["POST"]),
            Route("/v2/images/{image_id}/download", self.download, methods=["GET"]),
        ]

    @staticmethod
    def _image_id(request: Request) -> str:
        image_id: str = request.path_params["image_id"]
        if not validate.is_image_id(image_id):
            raise ApiError(404, f"No image with id {image_id}.")
        return image_id

    async def list_images(self, request: Request) -> JSONResponse:
        query = validate.list_query(request.query_params)
        page = await in_thread(self.state.store.page, query)
        cursor = None
        if page.has_more:
            edge = page.images[0] if query.ending_before is not None else page.images[-1]
            cursor = validate.encode_cursor(edge.seq)
        return JSONResponse(
            {
                "object": "list",
                "data": [image.entry() for image in page.images],
                "has_more": page.has_more,
                "cursor": cursor,
            }
        )

    async def start_upload(self, request: Request) -> JSONResponse:
        name = validate.start_upload_name(await request.body())
        image = await in_thread(self.state.store.create, name)
        return JSONResponse(image.entry(), status_code=201)

    async def get_image(self, request: Request) -> JSONResponse:
        image: Image = await in_thread(self.state.store.get, self._image_id(request))
        return JSONResponse(image.entry())

    async def delete_image(self, request: Request) -> JSONResponse:
        image = await in_thread(self.state.store.delete, self._image_id(request))
        return JSONResponse({"object": "image", "deleted": True, "name": image.name})

    async def upload_part(self, request: Request) -> JSONResponse:
        image_id = self._image_id(request)
        part_id = validate.upload_part_id(await request.body())
        await in_thread(self.state.store.begin_part, image_id)
        expires_ms = self.state.expires_ms()
        url = self.state.signer.presign(
            base_url(request), "PUT", f"/_storage/parts/{image_id}/{part_id}", expires_ms
        )
        return JSONResponse({"url": url, "expires_at": expires_ms // 1000})

    async def complete_upload(self, request: Request) -> JSONResponse:
        image_id = self._image_id(request)
        sha256 = validate.complete_sha256(await request.body())
        image = await in_thread(
            self.state.store.complete, image_id, sha256, self.state.min_part_size
        )
        return JSONResponse(image.entry())

    async def download(self, request: Request) -> JSONResponse:
        image = await in_thread(self.state.store.completed_image, self._image_id(request))
        expires_ms = self.state.expires_ms()
        url = self.state.signer.presign(
            base_url(request), "GET", f"/_storage/images/{image.id}", expires_ms
        )
        return JSONResponse(
            {
                "url": url,
                "expires_at": expires_ms // 1000,
                "sha256": image.sha256,
                "size": image.size,
            }
        )
