"""Route names: the vocabulary shared by fault injection, the request log and auth.

A route name says which operation a request is for, decided from its method and path alone, before
any handler runs. That lets the front door pick a fault, log the request and decide whether a
bearer token is needed without knowing how Starlette dispatches it. Requests that match no route
get `None`; Starlette then answers 404 or 405 for them.
"""

from __future__ import annotations

import re
from typing import Final

API_ROUTES: Final = (
    "list",
    "start_upload",
    "get",
    "upload_part",
    "complete",
    "download",
    "delete",
)
STORAGE_ROUTES: Final = ("storage_put", "storage_get")
FAULT_ROUTES: Final = frozenset((*API_ROUTES, *STORAGE_ROUTES))
"""Routes a fault may name; `"*"` matches any of these."""

ADMIN_ROUTE: Final = "admin"
OPENAPI_ROUTE: Final = "openapi"

_IMAGES = re.compile(r"/v2/images")
_IMAGE = re.compile(r"/v2/images/(?P<id>[^/]+)")
_IMAGE_ACTION = re.compile(r"/v2/images/(?P<id>[^/]+)/(?P<action>parts|complete|download)")
_STORAGE_PART = re.compile(r"/_storage/parts/[^/]+/[^/]+")
_STORAGE_IMAGE = re.compile(r"/_storage/images/[^/]+")

_ACTIONS: Final = {
    ("POST", "parts"): "upload_part",
    ("POST", "complete"): "complete",
    ("GET", "download"): "download",
}


def classify(method: str, path: str) -> str | None:
    """Name the route a request is for.

    Args:
        method: The HTTP method, upper case.
        path: The decoded request path, without the query string.

    Returns:
        One of `API_ROUTES`, `STORAGE_ROUTES`, `"admin"`, `"openapi"`, or `None`.
    """
    if _IMAGES.fullmatch(path):
        return {"GET": "list", "POST": "start_upload"}.get(method)
    if _IMAGE.fullmatch(path):
        return {"GET": "get", "DELETE": "delete"}.get(method)
    if match := _IMAGE_ACTION.fullmatch(path):
        return _ACTIONS.get((method, match["action"]))
    if _STORAGE_PART.fullmatch(path):
        return "storage_put" if method == "PUT" else None
    if _STORAGE_IMAGE.fullmatch(path):
        return "storage_get" if method in ("GET", "HEAD") else None
    if path.startswith("/_emulator/"):
        return ADMIN_ROUTE
    if path == "/openapi.json":
        return OPENAPI_ROUTE
    return None


def needs_token(route: str | None, path: str) -> bool:
    """Whether a request must carry the bearer token.

    Everything under `/v2/` and `/_emulator/` does, so that probing an unknown API path without a
    token yields 401 as it does in production; storage URLs carry their own signature instead.
    """
    if route in STORAGE_ROUTES or route == OPENAPI_ROUTE:
        return False
    return path.startswith(("/v2/", "/_emulator/")) or path == "/v2"
