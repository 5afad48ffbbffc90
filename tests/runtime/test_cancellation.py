"""Cancellation tokens (runtime/cancellation.py): a failing branch stops its siblings."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from airflow_cloudflow.runtime.cancellation import ROOT, Cancelled, Token, current, interruptible, running_under
from airflow_cloudflow.runtime.clock import FakeClock, SystemClock
from airflow_cloudflow.runtime.concurrency import run_bounded


def test_cancelling_a_token_cancels_its_descendants_not_its_parent():
    parent = Token()
    child = parent.child()
    grandchild = child.child()
    child.cancel()
    assert child.cancelled and grandchild.cancelled and not parent.cancelled
    late = child.child()  # made after the cancel: born cancelled
    assert late.cancelled
    with pytest.raises(Cancelled):
        late.check()


def test_a_closed_scope_is_detached_from_its_parent():
    parent = Token()
    child = parent.child()
    child.close()
    parent.cancel()
    assert not child.cancelled


def test_work_outside_any_parallel_runs_under_the_root_token():
    assert current() is ROOT
    token = Token()
    with running_under(token):
        assert current() is token
    assert current() is ROOT


def test_system_clock_sleep_ends_early_when_cancelled():
    token = Token()
    threading.Timer(0.1, token.cancel).start()
    started = time.monotonic()
    with running_under(token), pytest.raises(Cancelled):
        SystemClock().sleep(30)
    assert time.monotonic() - started < 5


def test_system_clock_wait_ends_early_when_cancelled():
    token, never = Token(), threading.Event()
    threading.Timer(0.1, token.cancel).start()
    started = time.monotonic()
    with running_under(token), pytest.raises(Cancelled):
        SystemClock().wait(never, 30)
    assert time.monotonic() - started < 5


def test_fake_clock_refuses_to_sleep_once_cancelled():
    token, clock = Token(), FakeClock()
    token.cancel()
    with running_under(token), pytest.raises(Cancelled):
        clock.sleep(1)
    assert clock.slept == 0


def test_an_interruptible_call_is_given_up_when_cancelled():
    token, release = Token(), threading.Event()
    threading.Timer(0.1, token.cancel).start()
    started = time.monotonic()
    with running_under(token), pytest.raises(Cancelled):
        interruptible(lambda: release.wait(30), "blocked")
    assert time.monotonic() - started < 5
    release.set()


def test_an_interruptible_call_returns_its_value_and_raises_its_error():
    with running_under(Token()):
        assert interruptible(lambda: 42, "quick") == 42
        with pytest.raises(ZeroDivisionError):
            interruptible(lambda: 1 / 0, "bad")


def sleeping_unit(stopped: list, everyone: threading.Barrier, failing: int | None = None):
    """A unit that sleeps 30 s on the real clock once all units have started (unit ``failing`` raises
    instead); records who was stopped."""
    clock = SystemClock()

    def unit(i: int) -> int:
        everyone.wait(10)
        if i == failing:
            raise ValueError("boom")
        try:
            clock.sleep(30)
        except Cancelled:
            stopped.append(i)
            raise
        return i

    return unit


def test_run_bounded_stops_the_running_units_and_raises_the_first_real_failure():
    stopped: list = []
    unit = sleeping_unit(stopped, threading.Barrier(4), failing=0)

    started = time.monotonic()
    with pytest.raises(ValueError, match="boom"):
        list(run_bounded(unit, range(4), limit=4, threaded=True))
    assert time.monotonic() - started < 5
    assert sorted(stopped) == [1, 2, 3]


def test_run_bounded_stops_its_units_when_a_signal_interrupts_the_consumer():
    """SIGTERM/SIGINT raise in the main thread while it waits for the units: they are stopped too."""
    stopped: list = []
    # the signal comes once the three units and the signaller have started
    everyone = threading.Barrier(4, action=lambda: threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGALRM)).start())
    unit = sleeping_unit(stopped, everyone)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    threading.Thread(target=everyone.wait, args=(10,), daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            list(run_bounded(unit, range(3), limit=3, threaded=True))
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 5
    assert sorted(stopped) == [0, 1, 2]
