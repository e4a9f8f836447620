"""The state one running emulator shares between its handlers and its testing API."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sfc_emulator._faults import Faults
from sfc_emulator._requests import RequestLog
from sfc_emulator._signing import Signer
from sfc_emulator._store import Store


@dataclass(slots=True, kw_only=True)
class State:
    """Everything a request handler may need. `url_ttl` changes at runtime (set_url_ttl)."""

    store: Store
    token: str
    min_part_size: int
    url_ttl: float
    signer: Signer
    faults: Faults = field(default_factory=Faults)
    requests: RequestLog = field(default_factory=RequestLog)
    clock: Callable[[], float] = time.time
    initial_url_ttl: float = field(init=False)

    def __post_init__(self) -> None:
        self.initial_url_ttl = self.url_ttl

    def reset(self) -> None:
        """Back to a fresh emulator: no images, faults or logged requests, the initial URL TTL.

        Blocks (it removes files).
        """
        self.faults.clear()
        self.requests.clear()
        self.url_ttl = self.initial_url_ttl
        self.store.reset()

    def expires_ms(self) -> int:
        """Expiry, in unix milliseconds, of a presigned URL issued now."""
        return int((self.clock() + self.url_ttl) * 1000)

    def now_ms(self) -> int:
        return int(self.clock() * 1000)
