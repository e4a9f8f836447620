"""The request log: what reached the server, for tests to assert on.

A record is appended when a request arrives and completed in place while it is served: the body
size grows as bytes are received, and the status is filled in just before the response (or the
dropped connection) reaches the client. A client that has seen the answer therefore also sees a
finished record; no waiting is needed.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

DEFAULT_MAX_RECORDS: Final = 100_000


@dataclass(slots=True, kw_only=True)
class RecordedRequest:
    """One request as the server saw it. Header names are lower case."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    route: str | None
    status: int | None = None
    body_size: int = 0
    fault: bool = False
    dropped: bool = False

    def header(self, name: str) -> str | None:
        """The first value of header `name`, or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    def describe(self) -> dict[str, object]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": [list(h) for h in self.headers],
            "route": self.route,
            "status": self.status,
            "body_size": self.body_size,
            "fault": self.fault,
            "dropped": self.dropped,
        }


class RequestLog:
    """A thread-safe log of RecordedRequest, oldest first.

    It keeps the newest `max_records` records, so a long-running server does not grow without
    bound; tests clear it long before that.
    """

    def __init__(self, max_records: int = DEFAULT_MAX_RECORDS) -> None:
        self._lock = threading.Lock()
        self._records: deque[RecordedRequest] = deque(maxlen=max_records)

    def append(self, record: RecordedRequest) -> None:
        with self._lock:
            self._records.append(record)

    def snapshot(self) -> list[RecordedRequest]:
        """A copy of the log as it is now."""
        with self._lock:
            return list(self._records)

    def by_route(self, *routes: str) -> list[RecordedRequest]:
        """The records whose route is one of `routes`."""
        return [r for r in self.snapshot() if r.route in routes]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __getitem__(self, index: int) -> RecordedRequest:
        with self._lock:
            return self._records[index]
