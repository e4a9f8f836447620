"""Assembles the ASGI application: front door around a Starlette app with every route.

Error answers are produced here in one place: `ApiError` → JSON, `StorageError` → XML, Starlette's
own 404/405 → JSON in the API's shape, a client that went away while sending its body → one
debug line (there is no one left to answer), and any other exception → a logged 500 `api_error`.
"""

from __future__ import annotations

import copy
import json
import logging
from functools import cache
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from sfc_emulator._admin import Admin
from sfc_emulator._api import ImagesApi, base_url, store_error
from sfc_emulator._errors import ApiError, StorageError
from sfc_emulator._frontdoor import FrontDoor
from sfc_emulator._state import State
from sfc_emulator._storage import Storage
from sfc_emulator._store import StoreError

logger = logging.getLogger("sfc_emulator")


@cache
def openapi_document() -> dict[str, Any]:
    """The Images API description shipped with the package (a copy of the reference subset)."""
    text = resources.files("sfc_emulator").joinpath("openapi.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


async def _openapi(request: Request) -> JSONResponse:
    document = copy.deepcopy(openapi_document())
    document["servers"] = [{"url": base_url(request)}]
    return JSONResponse(document)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _store_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StoreError)
    return store_error(exc).response()


async def _storage_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StorageError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "No such route." if exc.status_code == 404 else str(exc.detail)
    return ApiError(exc.status_code, message, headers=exc.headers).response()


async def _client_gone(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ClientDisconnect)
    logger.debug("client went away during %s %s", request.method, request.url.path)
    return ApiError(400, "The request body ended before its Content-Length.").response()


async def _server_error(request: Request, exc: Exception) -> Response:
    logger.error("unhandled error serving %s %s", request.method, request.url.path, exc_info=exc)
    return ApiError(500, "Internal server error.").response()


def create_app(state: State) -> ASGIApp:
    """The emulator's ASGI application for `state`."""
    routes: list[Route] = [
        *ImagesApi(state).routes(),
        *Storage(state).routes(),
        *Admin(state).routes(),
        Route("/openapi.json", _openapi, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            ApiError: _api_error,
            StoreError: _store_error,
            StorageError: _storage_error,
            HTTPException: _http_error,
            ClientDisconnect: _client_gone,
            Exception: _server_error,
        },
    )
    app.router.redirect_slashes = False
    return FrontDoor(app, state)
