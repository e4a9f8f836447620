"""Progress accounting for transfers. Pure: the caller passes the time.

Bytes are counted per *slot* (an upload part, a download segment) as a high-water mark: an attempt
that resends a part from its first byte counts nothing until it passes what earlier attempts of
that part already counted. The total therefore never goes down, never counts a byte twice and
never passes the file size. Reports are throttled: one is due when the count has moved by at
least 1 % of the total, or when it has moved at all and 250 ms have passed since the last one.
"""

from __future__ import annotations

from collections.abc import Hashable

REPORT_FRACTION = 0.01
REPORT_INTERVAL = 0.25


class ProgressMeter:
    """Counts transferred bytes of a ``total``-byte transfer; see the module docstring.

    ``floor`` is a count already shown to the user by an earlier meter of the same transfer
    (one that had to start over): this meter reports nothing lower.
    """

    def __init__(
        self,
        total: int,
        *,
        fraction: float = REPORT_FRACTION,
        interval: float = REPORT_INTERVAL,
        floor: int = 0,
    ) -> None:
        self.total = total
        self._floor = min(floor, total)
        self._step = max(1, int(total * fraction))
        self._interval = interval
        self._slots: dict[Hashable, int] = {}
        self._done = 0
        self._reported: int | None = None
        self._reported_at = 0.0

    @property
    def done(self) -> int:
        """Bytes counted so far, at most ``total`` and at least ``floor``."""
        return max(self._floor, min(self._done, self.total))

    def update(self, slot: Hashable, value: int) -> bool:
        """Record that ``value`` bytes of ``slot`` have moved in the current attempt.

        Returns:
            Whether a report is due because of the bytes alone (no time needed).
        """
        before = self._slots.get(slot, 0)
        if value > before:
            self._slots[slot] = value
            self._done += value - before
        return self._byte_step_due()

    def _byte_step_due(self) -> bool:
        done = self.done
        if self._reported is None:
            return True
        return done > self._reported and (done >= self.total or done - self._reported >= self._step)

    def wait(self, now: float, longest: float) -> float:
        """How long a caller may sleep before ``due`` could return a count for time alone: at
        most ``longest``, and no later than the interval after the last report when there is
        something new to report."""
        if self._reported is None or self.done <= self._reported:
            return longest
        return max(0.0, min(longest, self._reported_at + self._interval - now))

    def due(self, now: float) -> int | None:
        """The count to report now, or ``None`` if no report is due; a returned count is
        considered reported."""
        done = self.done
        if self._reported is not None and done <= self._reported:
            return None
        if not self._byte_step_due() and now - self._reported_at < self._interval:
            return None
        self._reported = done
        self._reported_at = now
        return done
