"""ASL semantics through the interpreter: processing order, Assign scopes, Retry/Catch rules,
Wait, Task timeouts, and distributed-Map errors and tolerance."""

from __future__ import annotations

import json

import pytest

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.integrations.mocks import load_mocks
from airflow_cloudflow.runtime.clock import FakeClock
from airflow_cloudflow.runtime.errors import matches
from airflow_cloudflow.runtime.interpreter import Interpreter
from airflow_cloudflow.storage.resolver import StoreResolver

FN = "arn:aws:lambda:us-east-1:123456789012:function:f"


def run(states: dict, value, *, mocks=None, tmp_path=None, start=None, **top):
    doc = {"StartAt": start or next(iter(states)), "States": states, **top}
    machine = load_definition_text(json.dumps(doc), "m.asl.json")
    clock = FakeClock(grace=0.2)
    interp = Interpreter(machine, integrations=load_mocks(mocks or {}), clock=clock,
                         stores=StoreResolver.local(tmp_path) if tmp_path else None)
    return interp.execute(value), clock


def test_processing_order_inputpath_parameters_selector_resultpath_outputpath():
    states = {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "InputPath": "$.in",
                    "Parameters": {"FunctionName": "f", "Payload": {"n.$": "$.n"}},
                    "ResultSelector": {"got.$": "$.Payload.n"}, "ResultPath": "$.in.r", "OutputPath": "$.in",
                    "End": True}}
    result, _ = run(states, {"in": {"n": 7}, "other": 1}, mocks={"f": {"behaviour": "identity"}})
    assert result.output == {"n": 7, "r": {"got": 7}}


def test_plain_lambda_arn_returns_the_function_result_and_result_path_null_discards():
    states = {"T": {"Type": "Task", "Resource": FN, "ResultPath": None, "Next": "U"},
              "U": {"Type": "Task", "Resource": FN, "End": True}}
    result, _ = run(states, {"a": 1}, mocks={"f": {"behaviour": "constant", "value": {"b": 2}}})
    assert result.output == {"b": 2}


def test_assign_is_visible_to_later_states_not_to_the_same_state_and_scoped_in_iterations():
    states = {
        "A": {"Type": "Pass", "Assign": {"x": 1}, "Parameters": {"seen.$": "$$.State.Name"}, "Next": "B"},
        "B": {"Type": "Pass", "Assign": {"x.$": "States.MathAdd($x, 1)"}, "Parameters": {"old.$": "$x"},
              "Next": "M"},
        "M": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.m", "ItemProcessor": {
            "StartAt": "I", "States": {"I": {"Type": "Pass", "Assign": {"x": 99}, "Parameters": {"x.$": "$x"},
                                             "End": True}}}, "Next": "C"},
        "C": {"Type": "Pass", "Parameters": {"x.$": "$x", "m.$": "$.m"}, "End": True},
    }
    # B's Parameters saw x=1 (its own Assign applies after it); the Map saw x=2; the iteration's x=99 stayed inside
    result2, _ = run({**states, "B": {**states["B"], "Next": "C2"},
                      "C2": {"Type": "Pass", "Parameters": {"items": [1, 2]}, "Next": "M"}}, {})
    assert result2.output == {"x": 2, "m": [{"x": 2}, {"x": 2}]}


def test_retry_counts_retries_with_backoff_and_max_delay():
    states = {"T": {"Type": "Task", "Resource": FN, "End": True, "Retry": [
        {"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 3, "MaxDelaySeconds": 10}]}}
    result, clock = run(states, {}, mocks={"f": {"behaviour": "fail_first_n", "n": 3, "code": "Boom"}})
    assert result.succeeded and clock.sleeps == [2, 6, 10]


def test_retry_defaults_are_3_attempts_1s_backoff_2():
    states = {"T": {"Type": "Task", "Resource": FN, "End": True, "Retry": [{"ErrorEquals": ["States.ALL"]}]}}
    result, clock = run(states, {}, mocks={"f": {"behaviour": "fail", "code": "Boom", "detail": "d"}})
    assert (result.error.code, result.error.detail) == ("Boom", "d") and clock.sleeps == [1, 2, 4]


def test_catch_result_path_and_states_all():
    states = {"T": {"Type": "Task", "Resource": FN, "Next": "Done", "Catch": [
        {"ErrorEquals": ["Other"], "Next": "Done"},
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Done"}]},
        "Done": {"Type": "Pass", "End": True}}
    result, _ = run(states, {"a": 1}, mocks={"f": {"behaviour": "fail", "code": "Boom", "detail": "why"}})
    assert result.output == {"a": 1, "err": {"Error": "Boom", "Cause": "why"}}


def test_states_runtime_is_never_caught_and_task_failed_wildcard():
    assert not matches(("States.ALL",), "States.Runtime") and not matches(("States.Runtime",), "States.Runtime")
    assert matches(("States.TaskFailed",), "Lambda.Unknown") and not matches(("States.TaskFailed",), "States.Timeout")
    assert not matches(("States.ALL",), "States.DataLimitExceeded") and matches(("FnF.ALL",), "FnF.TaskFailed")


def test_task_timeout_is_states_timeout_on_the_fake_clock():
    states = {"T": {"Type": "Task", "Resource": FN, "TimeoutSeconds": 5, "End": True}}
    result, clock = run(states, {}, mocks={"f": {"behaviour": "identity", "sleep_seconds": 60}})
    assert (result.error.code, result.error.detail) == ("States.Timeout", None) and clock.sleeps == [5]


def test_wait_seconds_path_and_timestamp():
    states = {"W": {"Type": "Wait", "SecondsPath": "$.s", "Next": "X"},
              "X": {"Type": "Wait", "Timestamp": "2024-01-01T00:01:00Z", "End": True}}
    result, clock = run(states, {"s": 30})
    assert result.succeeded and clock.sleeps == [30, 30]


@pytest.mark.parametrize("seconds", ["nan", "inf", "1e400", 1e300, -1, "x"])
def test_wait_seconds_path_must_be_finite_and_in_range(seconds):
    result, clock = run({"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}, {"s": seconds})
    assert result.error.code == "States.Runtime" and clock.sleeps == []
    assert "The value for the field 'Seconds' must be a number of seconds between 0 and 99999999" in result.error.detail


def test_wait_timestamp_beyond_the_seconds_bound_is_states_runtime():
    """Issue 14 (found by tests/commands/test_fuzz_cli.py): year 9999 overflowed ``time.sleep``."""
    result, clock = run({"W": {"Type": "Wait", "TimestampPath": "$.t", "End": True}}, {"t": "9999-12-31T23:59:59Z"})
    assert result.error.code == "States.Runtime" and clock.sleeps == []
    assert "more than 99999999 seconds away" in result.error.detail


def test_task_timeout_seconds_path_must_be_finite():
    states = {"T": {"Type": "Task", "Resource": FN, "TimeoutSecondsPath": "$.t", "End": True}}
    result, _ = run(states, {"t": "inf"}, mocks={"f": {"behaviour": "identity"}})
    assert result.error.code == "States.Runtime" and "'TimeoutSeconds'" in result.error.detail


def test_fail_error_path_and_cause_path():
    states = {"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('n={}', $.n)"}}
    result, _ = run(states, {"e": "Bad", "n": 3})
    assert (result.error.code, result.error.detail) == ("Bad", "n=3")


def test_parallel_output_is_an_array_in_branch_order():
    branch = lambda v: {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": v, "End": True}}}  # noqa: E731
    result, _ = run({"Par": {"Type": "Parallel", "Branches": [branch(1), branch(2)], "End": True}}, {})
    assert result.output == [1, 2]


def test_jsonata_output_assign_and_arguments():
    states = {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                    "Arguments": {"FunctionName": "f", "Payload": "{% $states.input.n * 2 %}"},
                    "Assign": {"last": "{% $states.result.Payload %}"}, "Output": "{% $states.result.Payload + 1 %}",
                    "Next": "P"},
              "P": {"Type": "Pass", "Output": {"v": "{% $states.input %}", "last": "{% $last %}"}, "End": True}}
    result, _ = run(states, {"n": 4}, mocks={"f": {"behaviour": "identity"}}, QueryLanguage="JSONata")
    assert result.output == {"v": 9, "last": 8}


def test_distributed_child_failure_exceeds_default_tolerance_and_is_catchable(tmp_path):
    proc = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "T",
            "States": {"T": {"Type": "Task", "Resource": FN, "End": True}}}
    states = {"M": {"Type": "Map", "ItemProcessor": proc, "Next": "Done",
                    "Catch": [{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "Done"}]},
              "Done": {"Type": "Pass", "End": True}}
    mocks = {"f": {"behaviour": "fail_first_n", "n": 1, "code": "Boom"}}
    result, _ = run(states, [1, 2, 3], mocks=mocks, tmp_path=tmp_path)
    assert result.output == {"Error": "States.ExceedToleratedFailureThreshold",
                             "Cause": "The specified tolerated failure threshold was exceeded"}
    tolerant = {**states, "M": {**states["M"], "ToleratedFailureCount": 1}}
    result, _ = run(tolerant, [1, 2, 3], mocks=mocks, tmp_path=tmp_path)
    assert result.output == [{"Error": "Boom", "Cause": None}, 2, 3]


def test_distributed_batches_and_result_writer(tmp_path):
    (tmp_path / "out").mkdir()
    proc = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": True}}}
    states = {"M": {"Type": "Map", "ItemProcessor": proc, "Label": "L", "End": True,
                    "ItemBatcher": {"MaxItemsPerBatchPath": "$.per", "BatchInput": {"b": 1}}, "ItemsPath": "$.items",
                    "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                                     "Parameters": {"Bucket": "out", "Prefix": "runs"}}}}
    result, _ = run(states, {"items": [1, 2, 3], "per": "2"}, tmp_path=tmp_path)
    arn = result.output["MapRunArn"]
    assert ":mapRun:m/L:" in arn
    uuid = arn.rsplit(":", 1)[1]
    assert result.output["ResultWriterDetails"] == {"Bucket": "out", "Key": f"runs/{uuid}/manifest.json"}
    records = json.loads((tmp_path / "out" / "runs" / uuid / "SUCCEEDED_0.json").read_text())
    assert [json.loads(r["Input"]) for r in records] == [{"BatchInput": {"b": 1}, "Items": [1, 2]},
                                                        {"BatchInput": {"b": 1}, "Items": [3]}]


def test_distributed_result_writer_streams_the_children(tmp_path, monkeypatch):
    """With a ResultWriter each child's record is written as the child completes, not after every
    child of the Map Run has been collected in memory."""
    from airflow_cloudflow.runtime.asl import map as asl_map
    from airflow_cloudflow.storage.writers import asl as asl_writer

    (tmp_path / "out").mkdir()
    started, lag = [], []
    run_child, child_record = asl_map.run_child, asl_writer.child_record

    def counting_run_child(*args, **kwargs):
        started.append(1)
        return run_child(*args, **kwargs)

    def watching_child_record(child, *args):
        lag.append(len(started) - child.index)  # children started but not yet written
        return child_record(child, *args)

    monkeypatch.setattr(asl_map, "run_child", counting_run_child)
    monkeypatch.setattr(asl_writer, "child_record", watching_child_record)
    proc = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": True}}}
    states = {"M": {"Type": "Map", "ItemProcessor": proc, "MaxConcurrency": 1, "End": True,
                    "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out"}}}}
    result, _ = run(states, list(range(500)), tmp_path=tmp_path)
    assert result.succeeded and len(lag) == 500
    assert max(lag) <= 2  # collecting every child first would give a lag of 500


@pytest.mark.parametrize("field, value, cause", [
    ("ToleratedFailureCountPath", -1, "ToleratedFailureCount cannot be negative."),
    ("ToleratedFailurePercentagePath", 101, "ToleratedFailurePercentage must be between 0 and 100."),
    ("MaxConcurrencyPath", "x", 'The MaxConcurrencyPath field refers to value "x" which is not a valid integer: $.v'),
])
def test_distributed_path_values_fail_before_the_map_run(field, value, cause, tmp_path):
    proc = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": True}}}
    states = {"M": {"Type": "Map", "ItemProcessor": proc, "ItemsPath": "$.items", field: "$.v", "End": True}}
    result, _ = run(states, {"items": [1], "v": value}, tmp_path=tmp_path)
    assert result.error.code == "States.Runtime"
    assert result.error.detail == f"An error occurred while executing the state 'M' (entered at the event id #2). {cause}"


# ----------------------------------------------------------------- a failing branch stops its siblings

POLLING_BRANCH = {"StartAt": "W", "States": {
    "W": {"Type": "Wait", "Seconds": 1, "Next": "C"},
    "C": {"Type": "Choice", "Choices": [{"Variable": "$.done", "IsPresent": True, "Next": "S"}], "Default": "W"},
    "S": {"Type": "Succeed"}}}
FAILING_BRANCH = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom"}}}


def _run_real_clock(states: dict, value, integrations=None):
    """On the real clock: the point is that nothing waits for the polling sibling."""
    import time

    from airflow_cloudflow.runtime.clock import SystemClock

    doc = {"StartAt": next(iter(states)), "States": states}
    machine = load_definition_text(json.dumps(doc), "m.asl.json")
    interp = Interpreter(machine, integrations=integrations or load_mocks({}), clock=SystemClock())
    started = time.monotonic()
    result = interp.execute(value)
    return result, time.monotonic() - started


def test_the_issue_reproducer_fails_with_boom_within_a_second():
    """AWS: "If any branch fails … the entire Parallel state fails and all of its branches are stopped"."""
    states = {"P": {"Type": "Parallel", "End": True, "Branches": [POLLING_BRANCH, FAILING_BRANCH]}}
    result, took = _run_real_clock(states, {})
    assert result.status == "Failed" and result.error.code == "Boom" and result.failed_state == "P"
    assert took < 1.5


def test_a_failing_inline_map_iteration_stops_the_others():
    processor = {"StartAt": "Which", "States": {
        "Which": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "F"}],
                  "Default": "Long"},
        "Long": {"Type": "Wait", "Seconds": 60, "End": True},
        "F": {"Type": "Fail", "Error": "Boom", "Cause": "item 2"}}}
    states = {"M": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {
        "ProcessorConfig": {"Mode": "INLINE"}, **processor}, "End": True}}
    result, took = _run_real_clock(states, {"items": [1, 2, 3, 4]})
    assert (result.error.code, result.error.detail) == ("Boom", "item 2") and took < 5


class _BlockingTask:
    """A Task integration whose call never answers until released (a slow service); records calls."""

    def __init__(self):
        import threading

        self.release = threading.Event()
        self.calls = 0

    def invoke(self, call):
        self.calls += 1
        self.release.wait(60)
        return {"late": True}

    def may_block(self, action):
        return True


def test_an_in_flight_task_of_a_sibling_is_abandoned_and_its_catch_does_not_fire():
    blocking = _BlockingTask()
    slow = {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": FN, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
              "End": True},
        "Caught": {"Type": "Pass", "Result": "caught", "End": True}}}
    late_fail = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "Next": "F"},
                                            "F": {"Type": "Fail", "Error": "Boom"}}}
    states = {"P": {"Type": "Parallel", "End": True, "Branches": [slow, late_fail]}}
    try:
        result, took = _run_real_clock(states, {}, integrations=blocking)
    finally:
        blocking.release.set()
    assert result.error.code == "Boom" and took < 5 and blocking.calls == 1


def test_a_parallel_catch_still_catches_the_branch_failure_after_the_stop():
    states = {"P": {"Type": "Parallel", "Branches": [POLLING_BRANCH, FAILING_BRANCH],
                    "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.error", "Next": "Handled"}], "Next": "X"},
              "Handled": {"Type": "Pass", "End": True}, "X": {"Type": "Succeed"}}
    result, took = _run_real_clock(states, {})
    assert result.succeeded and result.output["error"]["Error"] == "Boom" and took < 5


def test_nested_parallels_are_stopped_from_the_outside():
    inner = {"StartAt": "In", "States": {"In": {"Type": "Parallel", "End": True,
                                                "Branches": [POLLING_BRANCH, POLLING_BRANCH]}}}
    states = {"P": {"Type": "Parallel", "End": True, "Branches": [inner, FAILING_BRANCH]}}
    result, took = _run_real_clock(states, {})
    assert result.error.code == "Boom" and took < 5
