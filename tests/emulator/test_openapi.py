"""`/openapi.json`: the shipped Images API description, pointing at the emulator itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.helpers import Api
from sfc_emulator._app import openapi_document
from sfc_emulator._routes import classify

SHARED_YAML = Path("/work/shared/reference/images-openapi.yaml")
PATHS = {
    "/v2/images": {"get", "post"},
    "/v2/images/{id}": {"get", "delete"},
    "/v2/images/{id}/parts": {"post"},
    "/v2/images/{id}/complete": {"post"},
    "/v2/images/{id}/download": {"get"},
}


def served(api: Api) -> dict[str, Any]:
    response = api.request("GET", "/openapi.json", token=None)
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_document_points_at_the_emulator(api: Api) -> None:
    document = served(api)
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": api.emu.url}]
    assert openapi_document()["servers"] == [{"url": "https://api.sfcompute.com"}]


def test_paths_are_the_images_api_and_nothing_else(api: Api) -> None:
    paths = served(api)["paths"]
    assert {path: set(methods) for path, methods in paths.items()} == PATHS
    assert not any(path.startswith(("/_emulator", "/_storage")) for path in paths)


def test_every_documented_operation_has_a_route() -> None:
    for path, methods in PATHS.items():
        concrete = path.replace("{id}", "image_abc")
        for method in methods:
            assert classify(method.upper(), concrete) is not None


def test_same_content_as_the_shared_reference(api: Api) -> None:
    yaml = pytest.importorskip("yaml")
    if not SHARED_YAML.exists():
        pytest.skip("the shared reference is not available here")
    reference = yaml.safe_load(SHARED_YAML.read_text())
    document = served(api)
    assert {k: v for k, v in document.items() if k != "servers"} == {
        k: v for k, v in json.loads(json.dumps(reference)).items() if k != "servers"
    }
