"""The injectable clock: every wait of the runtime (Wait states, Retry intervals, Task timeouts)
goes through it, so tests run the spec's timings without sleeping."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    """``now()`` (timezone-aware UTC), ``sleep(seconds)``, ``wait(event, timeout)``."""

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Wait until ``event`` is set or ``timeout`` seconds pass; True when the event was set."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, event: threading.Event, timeout: float) -> bool:
        return event.wait(timeout)


class FakeClock:
    """A clock that never sleeps: ``sleep`` advances ``now`` and adds to ``slept``.

    ``sleeps`` records every requested sleep in order (thread-safe). ``wait`` gives the event
    ``grace`` real seconds to be set (a quick worker returns at once), then advances by ``timeout``.
    """

    def __init__(self, start: datetime | None = None, *, grace: float = 5.0):
        self._now = start or datetime(2024, 1, 1, tzinfo=timezone.utc)
        self._lock = threading.Lock()
        self.grace = grace
        self.sleeps: list[float] = []

    @property
    def slept(self) -> float:
        """Total seconds slept (and timed out) so far."""
        with self._lock:
            return sum(self.sleeps)

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    def wait(self, event: threading.Event, timeout: float) -> bool:
        if event.wait(self.grace):
            return True
        self.advance(timeout)
        return False
