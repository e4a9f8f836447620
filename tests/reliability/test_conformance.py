"""Conformance: schemathesis generates requests from the emulator's own OpenAPI description and
checks every response against it, so the emulator (and through it, our tests) and the shared
description of the API agree.

The operations are driven with hypothesis directly rather than through schemathesis' pytest
plugin, which does not support the pytest version used here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sfc_emulator import Emulator

from .conftest import Ledger

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def conformance_emulator() -> Iterator[Emulator]:
    with Emulator(token="conformance-token", min_part_size=1024) as emu:
        yield emu


def operation_labels() -> list[str]:
    return [
        "GET /v2/images",
        "POST /v2/images",
        "GET /v2/images/{id}",
        "DELETE /v2/images/{id}",
        "POST /v2/images/{id}/complete",
        "GET /v2/images/{id}/download",
        "POST /v2/images/{id}/parts",
    ]


@pytest.mark.parametrize("label", operation_labels())
def test_emulator_matches_its_openapi(
    conformance_emulator: Emulator, label: str, ledger: Ledger, long_run: bool
) -> None:
    schema = schemathesis.openapi.from_url(f"{conformance_emulator.url}/openapi.json")
    operations: dict[str, Any] = {}
    for loaded in schema.get_all_operations():
        assert isinstance(loaded, Ok), loaded
        operations[loaded.ok().label] = loaded.ok()
    assert set(operations) == set(operation_labels())
    operation = operations[label]
    headers = {"Authorization": f"Bearer {conformance_emulator.token}"}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=200 if long_run else 25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)
        ledger.add("conformance requests checked")

    check()
