"""A local, real-HTTP implementation of the SF Compute Images API.

The emulator serves the Images API (`/v2/images...`), the presigned storage URLs it hands out
(`/_storage/...`), a testing API (`/_emulator/...`) and `/openapi.json`, with state in a data dir
(SQLite metadata plus part and image files) so it survives restarts. It is the embedded default for
the demo and the server the SDK's integration tests and benchmarks talk to over loopback.

In-process use::

    from sfc_emulator import Emulator

    with Emulator(token="t", min_part_size=1024) as emu:
        emu.faults.add("storage_put", status=503, retry_after=1)
        ...  # talk to emu.url with "Authorization: Bearer t"
        assert emu.requests.by_route("storage_put")

From a shell: `sfc-emulator --port 8080` (or `python -m sfc_emulator`), which prints the
`SFC_BASE_URL` and `SFC_VMORCH_BEARER_AUTH` to use.

Module map: `_routes` names routes; `_validation`, `_signing` and `_ranges` are pure rules;
`_store` owns the data dir; `_api`, `_storage` and `_admin` are the handlers; `_frontdoor` logs
requests, injects faults and checks the token; `_app` wires them; `_server` runs uvicorn.

`Emulator` and `AsyncEmulator` are imported on first use: uvicorn and starlette come with the
`emulator` extra, and `sfc-emulator` (whose entry point imports this package first) must be able
to say that they are missing rather than fail in this import.
"""

from typing import TYPE_CHECKING, Any

from sfc_emulator._faults import Fault, Faults, FaultSpec
from sfc_emulator._requests import RecordedRequest, RequestLog

if TYPE_CHECKING:
    from sfc_emulator._server import AsyncEmulator, Emulator

__all__ = [
    "AsyncEmulator",
    "Emulator",
    "Fault",
    "FaultSpec",
    "Faults",
    "RecordedRequest",
    "RequestLog",
]


def __getattr__(name: str) -> Any:
    if name in ("AsyncEmulator", "Emulator"):
        from sfc_emulator import _server

        return getattr(_server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
