"""The testing API over HTTP, under `/_emulator/` (bearer token required, not in the OpenAPI doc).

For out-of-process users — the `sfc-emulator` command — the same operations the in-process
`Emulator` object offers:

    POST   /_emulator/faults          body: {"route": ..., same keywords as Faults.add} → 201
    GET    /_emulator/faults          pending faults
    DELETE /_emulator/faults          withdraw all
    DELETE /_emulator/faults/{id}     withdraw one
    POST   /_emulator/url-ttl         body: {"seconds": number}
    GET    /_emulator/requests        the request log
    DELETE /_emulator/requests        clear it
    GET    /_emulator/images/{id}     real sha256, part count and file path of an image
    POST   /_emulator/reset           forget all images, faults and logged requests

A body that is not a JSON object, or a field of the wrong type, is 400; a value `Faults.add`
refuses is 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sfc_emulator._api import in_thread
from sfc_emulator._errors import ApiError, detail
from sfc_emulator._state import State
from sfc_emulator._validation import json_object

_FAULT_FIELDS: dict[str, tuple[type, ...]] = {
    "route": (str,),
    "status": (int,),
    "retry_after": (int, str),
    "retry_after_ms": (int, float),
    "delay": (int, float),
    "drop_after_bytes": (int,),
    "ignore_range": (bool,),
    "body": (str,),
    "content_type": (str,),
    "headers": (dict,),
    "times": (int,),
    "method": (str,),
}


def _bad_field(field: str, message: str) -> ApiError:
    return ApiError(400, message, [detail(field, "invalid_type", message)])


def fault_arguments(body: Mapping[str, object]) -> dict[str, Any]:
    """Keyword arguments for `Faults.add` from an admin request body (400 on a type error)."""
    if "route" not in body:
        raise ApiError(
            400,
            "Missing required field `route`.",
            [detail("route", "missing", "`route` is required")],
        )
    arguments: dict[str, Any] = {}
    for field, value in body.items():
        if field not in _FAULT_FIELDS:
            continue
        if value is None and field != "route":
            continue
        allowed = _FAULT_FIELDS[field]
        # bool is an int subclass; only `ignore_range` takes a JSON boolean.
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            names = " or ".join(t.__name__ for t in allowed)
            raise _bad_field(field, f"`{field}` must be of type {names}.")
        if field == "headers":
            assert isinstance(value, dict)
            if not all(isinstance(v, str) for v in value.values()):
                raise _bad_field(field, "`headers` must map names to strings.")
        arguments[field] = value
    return arguments


class Admin:
    """Handlers for `/_emulator/`."""

    def __init__(self, state: State) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [
            Route("/_emulator/faults", self.add_fault, methods=["POST"]),
            Route("/_emulator/faults", self.list_faults, methods=["GET"]),
            Route("/_emulator/faults", self.clear_faults, methods=["DELETE"]),
            Route("/_emulator/faults/{fault_id}", self.cancel_fault, methods=["DELETE"]),
            Route("/_emulator/url-ttl", self.set_url_ttl, methods=["POST"]),
            Route("/_emulator/requests", self.list_requests, methods=["GET"]),
            Route("/_emulator/requests", self.clear_requests, methods=["DELETE"]),
            Route("/_emulator/images/{image_id}", self.inspect_image, methods=["GET"]),
            Route("/_emulator/reset", self.reset, methods=["POST"]),
        ]

    async def add_fault(self, request: Request) -> JSONResponse:
        arguments = fault_arguments(json_object(await request.body()))
        route = arguments.pop("route")
        try:
            fault = self.state.faults.add(route, **arguments)
        except ValueError as exc:
            raise ApiError(422, str(exc), [detail(None, "invalid_fault", str(exc))]) from None
        return JSONResponse(
            {"id": fault.id, "remaining": fault.remaining, **fault.spec.describe()},
            status_code=201,
        )

    async def list_faults(self, request: Request) -> JSONResponse:
        data = [
            {"id": fault_id, "remaining": remaining, **spec.describe()}
            for fault_id, remaining, spec in self.state.faults.snapshot()
        ]
        return JSONResponse({"pending": self.state.faults.pending(), "data": data})

    async def clear_faults(self, request: Request) -> JSONResponse:
        return JSONResponse({"cleared": self.state.faults.clear()})

    async def cancel_fault(self, request: Request) -> JSONResponse:
        fault_id: str = request.path_params["fault_id"]
        if not self.state.faults.cancel(fault_id):
            raise ApiError(404, f"No pending fault with id {fault_id}.")
        return JSONResponse({"id": fault_id, "cancelled": True})

    async def set_url_ttl(self, request: Request) -> JSONResponse:
        body = json_object(await request.body())
        seconds = body.get("seconds")
        if not isinstance(seconds, int | float) or isinstance(seconds, bool):
            raise _bad_field("seconds", "`seconds` must be a number.")
        self.state.url_ttl = float(seconds)
        return JSONResponse({"url_ttl": self.state.url_ttl})

    async def list_requests(self, request: Request) -> JSONResponse:
        return JSONResponse({"data": [r.describe() for r in self.state.requests]})

    async def clear_requests(self, request: Request) -> JSONResponse:
        cleared = len(self.state.requests)
        self.state.requests.clear()
        return JSONResponse({"cleared": cleared})

    async def inspect_image(self, request: Request) -> JSONResponse:
        image_id: str = request.path_params["image_id"]
        store = self.state.store
        if not await in_thread(store.exists, image_id):
            raise ApiError(404, f"No image with id {image_id}.")
        return JSONResponse(
            {
                "id": image_id,
                "real_sha256": await in_thread(store.real_sha256, image_id),
                "part_count": await in_thread(store.part_count, image_id),
                "path": str(store.image_path(image_id)),
            }
        )

    async def reset(self, request: Request) -> JSONResponse:
        await in_thread(self.state.reset)
        return JSONResponse({"reset": True})
