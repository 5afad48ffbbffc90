"""Early stop of an ASL distributed Map Run: once the failures seen exceed the tolerance, no new
child starts, the running ones finish, and the Map fails with
``States.ExceedToleratedFailureThreshold`` and AWS's cause, as if every child had run (docs/asl.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.integrations.mocks import load_mocks
from airflow_cloudflow.runtime import fanout
from airflow_cloudflow.runtime.clock import FakeClock
from airflow_cloudflow.runtime.interpreter import Interpreter
from airflow_cloudflow.storage.local import LocalStore
from airflow_cloudflow.storage.resolver import StoreResolver
from tests.storage.spy import SpyStore
from tests.runtime.early_stop_support import marked, ran, write_csv  # noqa: F401  (ran is a fixture)

N = 100_000
THRESHOLD = ("States.ExceedToleratedFailureThreshold", "The specified tolerated failure threshold was exceeded")
CSV_READER = {"Resource": "arn:aws:states:::s3:getObject",
              "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
              "Parameters": {"Bucket": "bkt", "Key": "items.csv"}}
FAIL_ALL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Broken", "Cause": "broken processor"}}}
MARKED = {"StartAt": "C", "States": {
    "C": {"Type": "Choice", "Choices": [{"Variable": "$.fail", "StringEquals": "y", "Next": "F"}], "Default": "S"},
    "F": {"Type": "Fail", "Error": "Broken", "Cause": "marked item"},
    "S": {"Type": "Succeed"}}}
MARKED_JSONATA = {"StartAt": "C", "States": {
    "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.fail = 'y' %}", "Next": "F"}], "Default": "S"},
    "F": {"Type": "Fail", "Error": "Broken", "Cause": "marked item"},
    "S": {"Type": "Succeed"}}}


def processor(states: dict, wait: bool = False) -> dict:
    graph = {"StartAt": states["StartAt"], "States": dict(states["States"])}
    if wait:  # a Wait first: the processor may block, so the children run on the thread pool
        graph["States"]["W"] = {"Type": "Wait", "Seconds": 1, "Next": graph["StartAt"]}
        graph["StartAt"] = "W"
    return {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, **graph}


def machine(proc: dict = FAIL_ALL, *, wait: bool = False, catch: bool = False, **fields):
    state = {"Type": "Map", "ItemProcessor": processor(proc, wait), **fields}
    states = {"M": state}
    if catch:
        state["Catch"] = [{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "Done"}]
        state["Next"] = "Done"
        states["Done"] = {"Type": "Pass", "End": True}
    else:
        state["End"] = True
    return load_definition_text(json.dumps({"StartAt": "M", "States": states}), "m.asl.json")


def execute(definition, value, root: Path | None = None, stores=None):
    if stores is None and root is not None:
        stores = StoreResolver.local(root)
    interp = Interpreter(definition, integrations=load_mocks({}), clock=FakeClock(), stores=stores)
    return interp.execute(value)


def error(result) -> tuple[str, str]:
    return result.error.code, result.error.detail


# ----------------------------------------------------------------- the 100,000-item broken Map


def test_items_path_all_failing_stops_after_one_child(ran):
    result = execute(machine(ItemsPath="$.xs"), {"xs": list(range(N))})
    assert error(result) == THRESHOLD  # AWS's cause, unchanged
    assert ran == [0]  # sequential path: exactly one child


def test_item_reader_all_failing_stops_after_one_child_and_stops_reading(tmp_path, ran):
    path = write_csv(tmp_path, marked(N, lambda i: True))
    spy = SpyStore(LocalStore(tmp_path, scheme="s3"))
    result = execute(machine(ItemReader=CSV_READER), {}, stores=StoreResolver({"s3": spy}))
    assert error(result) == THRESHOLD
    assert ran == [0]
    (stream,) = spy.streams
    assert stream.closed and stream.bytes_read < path.stat().st_size // 4


def test_threaded_processor_stops_within_max_concurrency(ran):
    limit = 5
    result = execute(machine(wait=True, ItemsPath="$.xs", MaxConcurrency=limit), {"xs": list(range(N))})
    assert error(result) == THRESHOLD
    assert 1 <= len(ran) <= limit and sorted(ran) == list(range(len(ran)))


def test_threaded_item_reader_with_a_count_path_stops_within_the_bound(tmp_path, ran):
    write_csv(tmp_path, marked(N, lambda i: True))
    limit = 4
    result = execute(machine(wait=True, ItemReader=CSV_READER, MaxConcurrencyPath="$.c",
                             ToleratedFailureCountPath="$.t"), {"c": limit, "t": 9}, tmp_path)
    assert error(result) == THRESHOLD
    assert 10 <= len(ran) <= 10 + limit - 1


# ----------------------------------------------------------------- thresholds


def test_within_tolerance_every_child_runs_and_the_map_succeeds(ran):
    xs = marked(1000, lambda i: i % 10 == 0)
    result = execute(machine(MARKED, ItemsPath="$.xs", ToleratedFailureCount=100), {"xs": xs})
    assert result.succeeded and len(ran) == 1000
    assert result.output.count({"Error": "Broken", "Cause": "marked item"}) == 100


def test_count_threshold_stops_at_the_first_failure_beyond_it(ran):
    xs = marked(1000, lambda i: i >= 500)
    result = execute(machine(MARKED, ItemsPath="$.xs", ToleratedFailureCount=3), {"xs": xs})
    assert error(result) == THRESHOLD and len(ran) == 504


def test_percentage_over_jsonata_items_is_judged_at_once(ran):
    xs = marked(1000, lambda i: i < 200)
    result = execute(machine(MARKED_JSONATA, QueryLanguage="JSONata", Items="{% $states.input.xs %}",
                             ToleratedFailurePercentage=10), {"xs": xs})
    assert error(result) == THRESHOLD and len(ran) == 101


def test_early_failures_within_the_percentage_of_the_whole_do_not_stop_the_map(ran):
    xs = marked(1000, lambda i: i < 100)  # 100% of the first 100 items, 10% of the Map
    result = execute(machine(MARKED, ItemsPath="$.xs", ToleratedFailurePercentagePath="$.p"), {"xs": xs, "p": 10})
    assert result.succeeded and len(ran) == 1000


def test_percentage_with_an_item_reader_waits_for_the_reader_to_end(tmp_path, ran):
    write_csv(tmp_path, marked(1000, lambda i: i < 100))
    assert execute(machine(MARKED, ItemReader=CSV_READER, ToleratedFailurePercentage=10), {}, tmp_path).succeeded
    assert len(ran) == 1000
    ran.clear()
    write_csv(tmp_path, marked(1000, lambda i: i < 200))
    result = execute(machine(MARKED, ItemReader=CSV_READER, ToleratedFailurePercentage=10), {}, tmp_path)
    assert error(result) == THRESHOLD and len(ran) == 1000


def test_a_failed_batch_counts_all_its_items(ran):
    result = execute(machine(ItemsPath="$.xs", ToleratedFailureCount=15, ItemBatcher={"MaxItemsPerBatch": 10}),
                     {"xs": list(range(1000))})
    assert error(result) == THRESHOLD and len(ran) == 2


def test_catch_still_catches_the_error(ran):
    result = execute(machine(ItemsPath="$.xs", catch=True), {"xs": list(range(N))})
    assert result.succeeded and result.output == {"Error": THRESHOLD[0], "Cause": THRESHOLD[1]}
    assert ran == [0]


def test_the_shared_entry_point_hands_an_asl_map_to_its_own_run(ran):
    """``fanout.run_distributed`` (used by the Airflow engine for a Map-level Retry) runs an ASL Map
    with the ASL limits (``MaxConcurrencyPath``, ``ToleratedFailureCountPath``) and stops early too."""
    definition = machine(wait=True, ItemsPath="$.xs", MaxConcurrencyPath="$.c", ToleratedFailureCountPath="$.t")
    interp = Interpreter(definition, integrations=load_mocks({}), clock=FakeClock())
    value = {"xs": list(range(N)), "c": 3, "t": 0}
    with pytest.raises(FlowError) as err:
        fanout.run_distributed(interp, definition.graph["M"], value, interp.new_context(value))
    assert (err.value.code, err.value.detail) == THRESHOLD
    assert 1 <= len(ran) <= 3


# ----------------------------------------------------------------- ResultWriter


@pytest.mark.parametrize("wait", [False, True])
def test_result_writer_files_hold_exactly_the_children_that_ran(tmp_path, ran, wait):
    (tmp_path / "out").mkdir()
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out", "Prefix": "runs"}}
    xs = marked(2000, lambda i: i % 3 == 0)
    result = execute(machine(MARKED, wait=wait, ItemsPath="$.xs", MaxConcurrency=4, ToleratedFailureCount=10,
                             ResultWriter=writer), {"xs": xs}, tmp_path)
    assert error(result) == THRESHOLD and len(ran) < 40
    (run_dir,) = (tmp_path / "out" / "runs").iterdir()
    files: dict[str, list[dict]] = {}
    for path in sorted(run_dir.glob("*_*.json")):
        files.setdefault(path.name.split("_")[0], []).extend(json.loads(path.read_text()))
    names = sorted(int(r["Name"].rsplit("-", 1)[1]) for rs in files.values() for r in rs)
    assert names == sorted(ran)
    assert len(files["FAILED"]) == sum(1 for i in ran if i % 3 == 0) >= 11
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["ResultFiles"]["PENDING"] == []
