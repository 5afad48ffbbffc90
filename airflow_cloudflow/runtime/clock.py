"""The injectable clock: every wait of the runtime (Wait states, Retry intervals, Task timeouts)
goes through it, so tests run the spec's timings without sleeping."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone
from numbers import Real
from typing import Any, Protocol

from ..exceptions import FlowError
from . import cancellation

# The longest Wait / Task timeout accepted at run time: Step Functions' bound for ``Seconds`` and
# ``TimeoutSeconds`` (99,999,999 s, about 3.2 years); CloudFlow uses the same bound.
MAX_SECONDS = 99_999_999


def seconds_value(raw: Any, what: str, code: str, *, state: str | None = None, asl: bool = False) -> float:
    """A number of seconds to wait, from an evaluated ``Seconds`` / ``Timeout`` value: a JSON number
    or a numeric string, finite and within ``0..MAX_SECONDS``; otherwise ``FlowError(code)``
    (``FnF.RuntimeError`` / ``States.Runtime``). ``"nan"``, ``"inf"``, ``1e300`` and ``"1e400"`` are
    refused (they used to pass the ``< 0`` check or overflow ``sleep``)."""
    value = raw
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value <= MAX_SECONDS:
        if asl:
            shown = json.dumps(raw, ensure_ascii=False) if isinstance(raw, (str, int, float, bool, type(None))) else repr(raw)
            detail = (f"The value for the field '{what}' must be a number of seconds between 0 and {MAX_SECONDS}, "
                      f"but was: {shown}")
        else:
            detail = f"{what} must be a number of seconds between 0 and {MAX_SECONDS}, got {raw!r}"
        raise FlowError(code, detail, state=state)
    return float(value)


class Clock(Protocol):
    """``now()`` (timezone-aware UTC), ``sleep(seconds)``, ``wait(event, timeout)``."""

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Wait until ``event`` is set or ``timeout`` seconds pass; True when the event was set."""
        ...


class SystemClock:
    """The real clock. Its waits end early, raising ``cancellation.Cancelled``, when the work
    they belong to is stopped (a sibling branch failed)."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float) -> None:
        token = cancellation.current()
        if token is cancellation.ROOT:
            if seconds > 0:
                time.sleep(seconds)
            return
        token.sleep(seconds)

    def wait(self, event: threading.Event, timeout: float) -> bool:
        token = cancellation.current()
        if token is cancellation.ROOT:
            return event.wait(timeout)
        forget = token.on_cancel(event.set)
        try:
            set_ = event.wait(timeout)
        finally:
            forget()
        token.check()
        return set_


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
        cancellation.check()
        if seconds > 0:
            self.advance(seconds)

    def wait(self, event: threading.Event, timeout: float) -> bool:
        token = cancellation.current()
        forget = token.on_cancel(event.set)
        try:
            set_ = event.wait(self.grace)
        finally:
            forget()
        token.check()
        if set_:
            return True
        self.advance(timeout)
        return False
