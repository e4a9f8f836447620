"""In-order SHA-256 of bytes that arrive out of order, in bounded memory. Pure.

Theory of operation. Workers move different byte ranges of one file at once, but SHA-256 must
see the bytes in file order. The sequencer keeps a *cursor*: every byte before it has been hashed.
A chunk offered at the cursor is hashed at once, and so are held chunks that then become
contiguous. A chunk that lies ahead of the cursor is held, as long as the bytes held stay within
``budget``; otherwise ``offer`` says no and the worker offers it again once the cursor has moved.
Bytes behind the cursor (a retried part resending its first bytes) are dropped, so nothing is
hashed twice.

This cannot deadlock as long as the range at the cursor belongs to a worker that keeps going:
a chunk at or behind the cursor is always accepted, however full the budget is. Parts are handed
out in file order, so the lowest unfinished range always has a worker.

The sequencer does no locking and no waiting; the sync and async shells do that around it. Threads
can keep the hashing itself outside their lock with ``claim``, ``update`` and ``advance``: one
thread at a time holds the claim and hashes the bytes at the cursor while the others only hold
theirs, so chunks arriving meanwhile never wait for the hash to get the lock.
"""

from __future__ import annotations

import hashlib
import heapq


class HashSequencer:
    """Hashes offered chunks in offset order; see the module docstring.

    Args:
        budget: most bytes held ahead of the cursor.
        start: the offset hashing starts at (the cursor's first position).
    """

    def __init__(self, *, budget: int, start: int = 0) -> None:
        if budget < 0:
            raise ValueError("budget must not be negative")
        self.budget = budget
        self._digest = hashlib.sha256()
        self._cursor = start
        self._held: dict[int, bytes] = {}
        self._order: list[int] = []
        self._held_bytes = 0
        self._claimed = False

    @property
    def cursor(self) -> int:
        """Every byte before this offset has been hashed."""
        return self._cursor

    @property
    def held_bytes(self) -> int:
        """Bytes held ahead of the cursor."""
        return self._held_bytes

    def offer(self, offset: int, data: bytes) -> bool:
        """Take the chunk of ``data`` that starts at ``offset``.

        Returns:
            ``True`` when the chunk was hashed, held, or already known; ``False`` when it lies
            ahead of the cursor and holding it would exceed the budget: offer it again once the
            cursor has moved.
        """
        end = offset + len(data)
        if end <= self._cursor:
            return True
        if offset <= self._cursor:
            self._consume(memoryview(data)[self._cursor - offset :])
            self._drain()
            return True
        return self._hold(offset, data)

    def claim(self, offset: int, data: bytes) -> memoryview | bool:
        """``offer``, except that bytes at the cursor are not hashed but returned, with the claim.

        Returns:
            The bytes to hash at the cursor, when the chunk reaches it and no one else holds the
            claim: pass them to ``update`` without the lock, then to ``advance`` with it.
            Otherwise what ``offer`` returns; while the claim is held, a chunk at the cursor is
            held like one ahead of it.
        """
        end = offset + len(data)
        if end <= self._cursor:
            return True
        if offset <= self._cursor and not self._claimed:
            self._claimed = True
            return memoryview(data)[self._cursor - offset :]
        return self._hold(offset, data)

    def _hold(self, offset: int, data: bytes) -> bool:
        """Keep a chunk ahead of the cursor until it is reached; ``False`` when the budget is
        spent (a chunk already held at least as long is kept as it is)."""
        known = self._held.get(offset)
        if known is not None and len(known) >= len(data):
            return True
        if self._held_bytes + len(data) > self.budget:
            return False
        if known is not None:
            self._held_bytes -= len(known)
        else:
            heapq.heappush(self._order, offset)
        self._held[offset] = data
        self._held_bytes += len(data)
        return True

    def update(self, view: memoryview) -> None:
        """Hash claimed bytes; only the holder of the claim calls this, and may without the lock."""
        self._digest.update(view)

    def advance(self, view: memoryview) -> memoryview | None:
        """Move the cursor past hashed claimed bytes; the next held bytes at the cursor to hash,
        or ``None`` once there are none and the claim is given up."""
        self._cursor += len(view)
        while self._order and self._order[0] <= self._cursor:
            offset = heapq.heappop(self._order)
            data = self._held.pop(offset)
            self._held_bytes -= len(data)
            if offset + len(data) > self._cursor:
                return memoryview(data)[self._cursor - offset :]
        self._claimed = False
        return None

    def hexdigest(self) -> str:
        """The digest of the bytes before the cursor."""
        return self._digest.hexdigest()

    def _consume(self, view: memoryview) -> None:
        self._digest.update(view)
        self._cursor += len(view)

    def _drain(self) -> None:
        while self._order and self._order[0] <= self._cursor:
            offset = heapq.heappop(self._order)
            data = self._held.pop(offset)
            self._held_bytes -= len(data)
            end = offset + len(data)
            if end > self._cursor:
                self._consume(memoryview(data)[self._cursor - offset :])
