"""``with Server(...) as server:``: start on entry, stop on exit, and stop what a failed start left."""

from __future__ import annotations

from typing import TypeVar

S = TypeVar("S", bound="StartStop")


class StartStop:
    """Base of the test servers and clusters: subclasses implement ``start`` and ``stop``."""

    def start(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def stop(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __enter__(self: S) -> S:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
