"""Cancellation tokens: a failing Parallel branch or inline Map iteration stops its siblings.

Step Functions: "If any branch fails, because of an unhandled error or by transitioning to a Fail
state, the entire Parallel state fails and all of its branches are stopped"; the same holds for the
iterations of an inline Map. CloudFlow's Parallel and inline Map follow it (docs/semantics.md).

Each unit of concurrent work (a branch, an iteration) runs under a ``Token``, the child of the token
it was started under. Cancelling a token cancels its descendants. The runtime observes the token of
the running thread (``current()``) where it may wait: the clock's ``sleep`` and ``wait`` (Wait
states, Retry intervals, Task timeouts), every state transition (``check()``), and an in-flight
Task call, which is waited for interruptibly (``interruptible``). A stopped unit raises
``Cancelled``, a ``BaseException`` like ``asyncio.CancelledError``, so neither the unit's own
Retry/Catch nor a generic ``except Exception`` swallows it; the failure that caused the stop is
what the state fails with.
"""

from __future__ import annotations

import contextvars
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from .bounds import THREAD_BUDGET


class Cancelled(BaseException):
    """The unit of work was stopped because a sibling failed (or the run was interrupted)."""


class Token:
    """A cancellation flag with children: ``cancel()`` sets it here and in every descendant."""

    __slots__ = ("_event", "_children", "_callbacks", "_lock", "parent")

    def __init__(self, parent: "Token | None" = None):
        self._event = threading.Event()
        self._children: list[Token] = []
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self.parent = parent
        if parent is not None:
            parent._adopt(self)

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def child(self) -> "Token":
        return Token(self)

    def _adopt(self, child: "Token") -> None:
        with self._lock:
            self._children.append(child)
            already = self._event.is_set()
        if already:
            child.cancel()

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            children, callbacks = list(self._children), list(self._callbacks)
        for callback in callbacks:
            callback()
        for child in children:
            child.cancel()

    def close(self) -> None:
        """Detach a finished scope from its parent (a long run makes many)."""
        parent = self.parent
        if parent is not None:
            with parent._lock:
                if self in parent._children:
                    parent._children.remove(self)

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` when the token is cancelled (at once when it already is); returns
        the function that unregisters it."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._forget(callback)
        callback()
        return lambda: None

    def _forget(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    def check(self) -> None:
        """Raise ``Cancelled`` when the token is cancelled."""
        if self._event.is_set():
            raise Cancelled()

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` real seconds, or until cancelled (then raise ``Cancelled``)."""
        if self._event.wait(seconds) if seconds > 0 else self._event.is_set():
            raise Cancelled()


ROOT = Token()
"""The token of work started outside any Parallel or inline Map (never cancelled)."""

_current: contextvars.ContextVar[Token] = contextvars.ContextVar("cloudflow_cancellation", default=ROOT)


def current() -> Token:
    """The token the running thread's work observes."""
    return _current.get()


def check() -> None:
    """Raise ``Cancelled`` when the running thread's work was stopped."""
    _current.get().check()


@contextmanager
def running_under(token: Token) -> Iterator[Token]:
    """Run the block's work under ``token`` (the worker side of ``run_bounded``)."""
    reset = _current.set(token)
    try:
        yield token
    finally:
        _current.reset(reset)


def interruptible(call: Callable[[], Any], name: str) -> Any:
    """``call()``, but given up at once when the current token is cancelled (``Cancelled``).

    Outside any Parallel or inline Map the call runs in this thread. Inside one it runs in a daemon
    thread while this one waits for the call or the cancellation: the call's own I/O cannot be
    interrupted from Python, so a stopped Task's request is abandoned, as Step Functions stops
    waiting for it (its side effects may still happen). That thread comes from the process's
    ``THREAD_BUDGET`` until the call ends (abandoned or not); with none left, the call runs in this
    thread (checked for cancellation before it starts)."""
    token = _current.get()
    if token is ROOT:
        return call()
    token.check()
    if not THREAD_BUDGET.take(1):
        return call()
    done = threading.Event()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed back to the waiting thread
            box["error"] = exc
        finally:
            THREAD_BUDGET.give_back(1)
            done.set()

    forget = token.on_cancel(done.set)
    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(work,), name=name, daemon=True).start()
    try:
        done.wait()
    finally:
        forget()
    if "error" in box:
        raise box["error"]
    if "value" not in box:
        raise Cancelled()
    return box["value"]


__all__ = ["Cancelled", "Token", "ROOT", "current", "check", "running_under", "interruptible"]
