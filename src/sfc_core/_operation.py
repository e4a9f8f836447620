"""``Operation``: what is specific to one API call's answer, and the two ways to make the call.

An operation module declares its success status, its model and the error class of each status
it documents once, as an ``Operation``; its parser and its sync and async functions are then one
line each, and the per-operation rules stay in one visible place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, TypeVar, cast

from attrs import frozen
from returns.result import Result

from sfc_core._config import RequestOptions, Security, SfcCore
from sfc_core._errors import ApiError, CallError, InputValidationError, ResponseValidationError
from sfc_core._http import (
    ApiRequest,
    ResponseData,
    call_steps,
    drive_async,
    drive_sync,
    parse_json_response,
)

T = TypeVar("T")
E = TypeVar("E", bound=ApiError)


@frozen
class Operation(Generic[T, E]):
    """One API call's answer: ``success`` status with a ``model`` body, or the error class that
    ``errors`` maps the status to (``SfcDefaultError`` for any status not in it).

    ``E`` is the union of the classes in ``errors`` plus ``SfcDefaultError``; declare it where
    the operation is defined, as in ``Operation[ImageListEntry, NotFoundError | ...]``.
    """

    success: int
    model: type[T]
    errors: Mapping[int, type[ApiError]]

    def parse(self, data: ResponseData) -> Result[T, E | ResponseValidationError]:
        """The answer as a ``Result``; never raises."""
        parsed = parse_json_response(
            data, success=self.success, model=self.model, errors=self.errors
        )
        # ``errors`` holds exactly the classes that make up ``E``, which its type cannot say.
        return cast("Result[T, E | ResponseValidationError]", parsed)

    def call(
        self,
        core: SfcCore,
        request: Result[ApiRequest, InputValidationError],
        security: Security | None,
        options: RequestOptions | None,
    ) -> Result[T, E | CallError]:
        """Send ``request`` with retries and parse the answer, blocking."""
        return drive_sync(core, call_steps(core, request, self.parse, security, options))

    async def call_async(
        self,
        core: SfcCore,
        request: Result[ApiRequest, InputValidationError],
        security: Security | None,
        options: RequestOptions | None,
    ) -> Result[T, E | CallError]:
        """Send ``request`` with retries and parse the answer, on the running event loop."""
        return await drive_async(core, call_steps(core, request, self.parse, security, options))
