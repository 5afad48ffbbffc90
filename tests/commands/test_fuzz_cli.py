"""Fuzz the command line the way issue 14's adversarial pass did: mutated definitions (both dialects),
hostile ``--input`` and hostile item data, through ``lint``, ``run --json`` and ``render``.

Asserted, and only this: the exit code is 0, 1 or 2; no traceback; the backstop's
``CloudFlow.InternalError`` never shows (a cause the fuzzer finds is fixed where it arises, not left
to the backstop); ``run --json`` ends with one standard-JSON object (no ``NaN``). Bounded in time:
``CLOUDFLOW_FUZZ_EXAMPLES`` examples per property (default 25; twice that for the unmutated seeds),
sleeps skipped (a sleep no bound allows fails the example), each example stopped after 20 s.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_cloudflow.cli import INTERNAL_ERROR, main
from airflow_cloudflow.jsonvalues import loads_strict

EXAMPLES = int(os.environ.get("CLOUDFLOW_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FC = "acs:fc:cn-hangzhou:1:functions/f/LATEST"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:f"

# Markers a mutation may place; replaced in the serialised text by what JSON/YAML libraries refuse to write.
HUGE, NAN, INF = "__HUGE_INT__", "__NAN__", "__INF__"
RAW = {HUGE: "9" * 5000, NAN: "NaN", INF: "-Infinity"}
YAML_RAW = {HUGE: "9" * 5000, NAN: ".nan", INF: "-.inf"}

CLOUDFLOW_SEEDS: list[dict[str, Any]] = [
    {"Type": "StateMachine", "Name": "f1", "SpecVersion": "v1", "StartAt": "C", "Timeout": 60, "States": [
        {"Name": "C", "Type": "Choice", "Branches": [{"Condition": "$Input.n > 1", "Next": "M"}], "Default": "P"},
        {"Name": "M", "Type": "Map", "ItemsPath": "$Input.items", "MaxConcurrency": 4,
         "Processor": {"StartAt": "T", "States": [
             {"Name": "T", "Type": "Task", "Action": "FC:InvokeFunction", "Parameters": {"resourceArn": FC,
              "body": {"x.$": "$Input"}}, "Timeout": 10,
              "Retry": [{"Errors": ["FnF.ALL"], "MaxAttempts": 2, "IntervalSeconds": 1, "BackoffRate": 2}],
              "Catch": [{"Errors": ["FnF.ALL"], "Next": "F"}], "End": True},
             {"Name": "F", "Type": "Pass", "End": True}]}, "Next": "P"},
        {"Name": "P", "Type": "Pass", "OutputConstructor": {"v.$": "$Input", "k": 1}, "Next": "W"},
        {"Name": "W", "Type": "Wait", "Seconds": 1, "Next": "Par"},
        {"Name": "Par", "Type": "Parallel", "Branches": [
            {"StartAt": "A", "States": [{"Name": "A", "Type": "Pass", "End": True}]},
            {"StartAt": "B", "States": [{"Name": "B", "Type": "Fail", "Code": "X", "Detail": "d"}]}],
         "Catch": [{"Errors": ["X"], "Next": "S"}], "End": True},
        {"Name": "S", "Type": "Succeed"}]},
    {"Type": "StateMachine", "Name": "f2", "SpecVersion": "v1", "StartAt": "D", "States": [
        {"Name": "D", "Type": "Map", "ProcessorConfig": {"ExecutionMode": "Express"},
         "ItemReader": {"SourceType": "OSS_JSON_LIST", "SourceParameters": {"Bucket": "in", "ObjectName": "items.json"}},
         "ItemBatcher": {"MaxItemsPerBatch": 2}, "ToleratedFailurePercentage": 50, "MaxConcurrency": 3,
         "Processor": {"StartAt": "Q", "States": [{"Name": "Q", "Type": "Pass", "End": True}]},
         "ResultWriter": {"Parameters": {"Bucket": "out", "Prefix": "res"}}, "End": True}]},
]

ASL_SEEDS: list[dict[str, Any]] = [
    {"StartAt": "C", "States": {  # no TimeoutSeconds: a far Wait must meet its own bound
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "M"}], "Default": "P"},
        "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 4, "ItemProcessor": {"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": LAMBDA, "TimeoutSeconds": 10, "HeartbeatSeconds": 5,
                  "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 2.0,
                             "MaxDelaySeconds": 5, "JitterStrategy": "FULL"}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F", "ResultPath": "$.err"}], "End": True},
            "F": {"Type": "Pass", "End": True}}}, "ResultPath": "$.mapped", "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"v.$": "$", "s.$": "States.Format('{}', $.n)"}, "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 1, "Next": "WT"},
        "WT": {"Type": "Wait", "TimestampPath": "$.v.t", "Next": "I"},
        "I": {"Type": "Pass", "Parameters": {"a.$": "States.ArrayGetItem($.v.l, $.v.i)", "b.$": "States.MathAdd($.v.i, 1)",
                                             "c.$": "States.StringToJson($.v.s)", "d.$": "States.ArrayRange(1, $.v.i, 1)"},
              "Next": "Par"},
        "Par": {"Type": "Parallel", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"r": [1, 2.5, "x"]}, "End": True}}},
            {"StartAt": "B", "States": {"B": {"Type": "Fail", "Error": "X", "Cause": "c"}}}],
         "Catch": [{"ErrorEquals": ["X"], "Next": "S"}], "End": True},
        "S": {"Type": "Succeed"}}},
    {"QueryLanguage": "JSONata", "StartAt": "J", "States": {
        "J": {"Type": "Pass", "Output": {"sum": "{% $sum($states.input.items) %}", "n": "{% $states.input.n %}"},
              "Next": "D"},
        "D": {"Type": "Map", "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                                            "ReaderConfig": {"InputType": "JSON"},
                                            "Arguments": {"Bucket": "in", "Key": "items.json"}},
              "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                                "StartAt": "Q", "States": {"Q": {"Type": "Pass", "End": True}}},
              "ToleratedFailurePercentage": 10, "Label": "fuzz", "End": True}}},
]

HOSTILE = st.one_of(
    st.sampled_from([HUGE, NAN, INF, 10 ** 14, -1, 0, 1e30, -1e30, 2 ** 63, "", "$", "$Input.", "{% %}", "States.ALL",
                     None, True, {}, [], [[]], {"a": {}}, "FnF.ALL", "x" * 300]),
    st.integers(-(10 ** 20), 10 ** 20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)


def deep(n: int) -> Any:
    value: Any = 1
    for _ in range(n):
        value = [value]
    return value


TIMESTAMPS = ["2020-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2020-13-45T99:00:00Z",
              "2020-01-01T00:00:00+99:00", ""]
VALID_INPUT = st.fixed_dictionaries({
    "n": st.sampled_from([0, 2]), "items": st.lists(st.integers(0, 3), max_size=3),
    "t": st.sampled_from(TIMESTAMPS), "l": st.lists(st.integers(), max_size=3),
    "i": st.sampled_from([0, 1, -1, 3, 10 ** 20, 1e300, "1"]),
    "s": st.sampled_from(['{"a": 1}', "1e400", "NaN", "[" * 300, "9" * 4400, "x"])})
"""Standard JSON that reaches the seeds' states: far timestamps, huge indexes, strings to parse."""
INPUT = st.one_of(
    VALID_INPUT,
    st.sampled_from([{"n": 2, "items": [1, 2, 3]}, {"n": 0}, {"n": NAN}, {"n": HUGE, "items": [HUGE]},
                     {"items": deep(300)}, {"items": "notalist"}, {"n": 2, "items": list(range(50))}, [], "x", None]),
    st.dictionaries(st.sampled_from(["n", "items", "x"]), HOSTILE, max_size=3),
)

ITEMS = st.one_of(
    st.lists(HOSTILE, max_size=6),
    st.sampled_from([[deep(300)], [NAN], [HUGE], "not a list", [{"a": 1}] * 5]),
    st.binary(max_size=40),
)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys/indexes) into ``value``, containers included."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(paths(item, prefix + (key,)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.extend(paths(item, prefix + (index,)))
    return out


def mutate(seed: Any, data: st.DataObject) -> Any:
    doc = copy.deepcopy(seed)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        where = data.draw(st.sampled_from(paths(doc)[1:]), label="path")
        parent = doc
        for step in where[:-1]:
            parent = parent[step]
        action = data.draw(st.sampled_from(["replace", "replace", "delete", "empty"]), label="action")
        if action == "delete" and isinstance(parent, dict):
            del parent[where[-1]]
        elif action == "empty":
            parent[where[-1]] = {} if isinstance(parent[where[-1]], dict) else []
        else:
            parent[where[-1]] = data.draw(HOSTILE, label="value")
    return doc


def serialise(value: Any, raw: dict[str, str] = RAW) -> str:
    text = json.dumps(value)
    for marker, replacement in raw.items():
        text = text.replace(json.dumps(marker), replacement)
    return text


class Hung(BaseException):
    """An example ran longer than the alarm (a BaseException: the CLI's backstop must not catch it)."""


@contextlib.contextmanager
def alarm(seconds: int):
    def ring(signum, frame):  # noqa: ARG001
        raise Hung(f"an example ran longer than {seconds}s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def check(code: int, out: str, err: str, argv: tuple, *, json_line: bool) -> None:
    where = f"{' '.join(a[:200] for a in argv)}\nstdout: {out[-2000:]}\nstderr: {err[-2000:]}"
    assert code in (0, 1, 2), where
    assert "Traceback" not in err and INTERNAL_ERROR not in out + err, where
    if json_line:
        result = loads_strict(out.strip().splitlines()[-1])
        assert set(result) == {"status", "output", "error"} and result["status"] in ("Succeeded", "Failed"), where


class AbsurdSleep(BaseException):
    """A sleep no bound allows: the real ``time.sleep`` would overflow or wait for years."""


def checked_sleep(self, seconds: float) -> None:
    """Skip the sleep, but only one the runtime's bounds allow (``clock.MAX_SECONDS``)."""
    from airflow_cloudflow.runtime.clock import MAX_SECONDS

    if not 0 <= seconds <= MAX_SECONDS:
        raise AbsurdSleep(f"asked to sleep {seconds!r} seconds")


@pytest.fixture()
def workspace(tmp_path, monkeypatch):
    from airflow_cloudflow.runtime import bounds
    from airflow_cloudflow.runtime.clock import SystemClock

    monkeypatch.setattr(SystemClock, "sleep", checked_sleep)  # Wait and Retry cost nothing
    monkeypatch.setenv(bounds.STATE_TRANSITIONS.setting, "500")
    monkeypatch.delenv("AIRFLOW_CONN_OSS_DEFAULT", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_AWS_DEFAULT", raising=False)
    mocks = tmp_path / "mocks.json"
    mocks.write_text(json.dumps({FC: {"behaviour": "fail_first_n", "n": 1, "code": "FC.Flaky"},
                                 LAMBDA: {"behaviour": "identity"}}))
    return tmp_path


def exercise(workspace: Path, name: str, text: str, input_text: str, items: bytes) -> None:
    store = workspace / "store"
    for bucket in ("in", "out"):
        (store / bucket).mkdir(parents=True, exist_ok=True)
    (store / "in" / "items.json").write_bytes(items)
    definition = workspace / name
    definition.write_text(text, encoding="utf-8")
    with alarm(20):
        for argv, json_line in (
            (("lint", str(definition)), False),
            (("run", str(definition), "--input", input_text, "--store", str(store),
              "--mocks", str(workspace / "mocks.json"), "--json"), True),
            (("render", str(definition)), False),
        ):
            check(*cli(*argv), argv, json_line=json_line)


def items_bytes(items: Any) -> bytes:
    return items if isinstance(items, bytes) else serialise(items).encode()


@FUZZ
@given(data=st.data())
def test_mutated_cloudflow_definitions_inputs_and_items(workspace, data):
    seed = data.draw(st.sampled_from(CLOUDFLOW_SEEDS), label="seed")
    text = serialise(mutate(seed, data), YAML_RAW)  # JSON is YAML; the markers become YAML's spellings
    exercise(workspace, "fuzz.flow.yaml", text, serialise(data.draw(INPUT, label="input")),
             items_bytes(data.draw(ITEMS, label="items")))


@FUZZ
@given(data=st.data())
def test_mutated_asl_definitions_inputs_and_items(workspace, data):
    seed = data.draw(st.sampled_from(ASL_SEEDS), label="seed")
    exercise(workspace, "fuzz.asl.json", serialise(mutate(seed, data)), serialise(data.draw(INPUT, label="input")),
             items_bytes(data.draw(ITEMS, label="items")))


@settings(FUZZ, max_examples=EXAMPLES * 2)
@given(data=st.data())
def test_unmutated_seeds_with_hostile_inputs_and_items(workspace, data):
    """The seeds themselves run; only their input and item data are hostile."""
    seed, name = data.draw(st.sampled_from([(s, "seed.flow.yaml") for s in CLOUDFLOW_SEEDS]
                                           + [(s, "seed.asl.json") for s in ASL_SEEDS]), label="seed")
    exercise(workspace, name, json.dumps(seed), serialise(data.draw(VALID_INPUT, label="input")),
             items_bytes(data.draw(ITEMS, label="items")))


@pytest.mark.parametrize("seed, name", [(s, "s.flow.yaml") for s in CLOUDFLOW_SEEDS] + [(s, "s.asl.json") for s in ASL_SEEDS])
def test_the_seeds_are_valid_and_run(workspace, seed, name):
    """The fuzzer starts from definitions that lint clean and run (so mutations reach the runtime)."""
    definition = workspace / name
    definition.write_text(json.dumps(seed))
    assert cli("lint", str(definition))[0] == 0, cli("lint", str(definition))[1]
    exercise(workspace, name, json.dumps(seed), '{"n": 2, "items": [1, 2]}', b"[1, 2, 3]")
