"""ExecutionContext: names, $Context, $Global merging, deadline."""

from __future__ import annotations

import pytest

from airflow_cloudflow.exceptions import ErrorCodes, FlowError
from airflow_cloudflow.runtime.clock import FakeClock
from airflow_cloudflow.runtime.context import (
    ExecutionContext, child_execution_name, new_execution_name, new_map_run_name, valid_execution_name,
)


def test_names():
    run = new_map_run_name()
    assert len(run) == 32 and int(run, 16) >= 0
    assert valid_execution_name(new_execution_name())
    assert valid_execution_name(child_execution_name(run, 12))
    assert not valid_execution_name("9starts-with-digit") and not valid_execution_name("a/b")


def test_context_object_shape():
    ctx = ExecutionContext("e1", {"a": 1}, clock=FakeClock())
    c = ctx.current("S", {"x": 1}, 2, Output={"o": 1})
    assert c["Execution"]["Name"] == "e1" and c["Execution"]["Input"] == {"a": 1}
    assert "StartTime" in c["Execution"]
    assert c["Current"] == {"Name": "S", "Input": {"x": 1}, "RetryCount": 2, "Output": {"o": 1}}


def test_merge_globals_replaces_the_map():
    ctx = ExecutionContext("e1", {}, clock=FakeClock())
    before = ctx.globals
    ctx.merge_globals({"a": 1})
    ctx.merge_globals({"b": 2, "a": 3})
    assert ctx.globals == {"a": 3, "b": 2} and before == {}
    with pytest.raises(FlowError):
        ctx.merge_globals([1])


def test_deadline():
    clock = FakeClock()
    ctx = ExecutionContext("e1", {}, clock=clock, timeout_seconds=10)
    ctx.check_deadline()
    assert ctx.seconds_left() == 10
    clock.sleep(10)
    with pytest.raises(FlowError) as err:
        ctx.check_deadline()
    assert err.value.code == ErrorCodes.TIMEOUT
