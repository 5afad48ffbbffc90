"""The injectable clock."""

from __future__ import annotations

import threading
from datetime import timedelta

from airflow_cloudflow.runtime.clock import FakeClock, SystemClock


def test_fake_clock_sleep_advances_now_and_records():
    clock = FakeClock()
    start = clock.now()
    clock.sleep(2)
    clock.sleep(0)
    clock.sleep(1.5)
    assert clock.now() - start == timedelta(seconds=3.5)
    assert clock.sleeps == [2, 1.5] and clock.slept == 3.5


def test_fake_clock_wait_times_out_by_advancing():
    clock = FakeClock(grace=0.0)
    assert clock.wait(threading.Event(), 7) is False and clock.slept == 7
    done = threading.Event()
    done.set()
    assert clock.wait(done, 7) is True and clock.slept == 7


def test_system_clock_is_utc_and_wait_returns_when_set():
    clock = SystemClock()
    assert clock.now().utcoffset() == timedelta(0)
    done = threading.Event()
    done.set()
    assert clock.wait(done, 100) is True
