"""The distributed Map: streaming child inputs, tolerance, results, child contexts, concurrency."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from itertools import islice

import pytest

from airflow_cloudflow.exceptions import ErrorCodes, FlowError
from airflow_cloudflow.integrations.registry import IntegrationRegistry
from airflow_cloudflow.runtime.clock import FakeClock
from airflow_cloudflow.runtime.fanout import iter_child_inputs, map_result, tolerance_exceeded
from airflow_cloudflow.runtime.children import ChildInput, in_index_order, run_child
from airflow_cloudflow.runtime.records import ChildExecution
from tests.runtime.flows import dmap, interpreter, run


def map_state(interp):
    return interp.machine.graph["M"]


# ----------------------------------------------------------------- tolerance


@pytest.mark.parametrize("count, pct, failed, total, exceeded", [
    (None, None, 0, 10, False),
    (None, None, 1, 10, True),          # default: one failure fails
    (2, None, 2, 10, False),            # equal passes
    (2, None, 3, 10, True),             # one more fails
    (None, 10, 2, 20, False),           # exactly 10% passes
    (None, 10, 3, 20, True),
    (None, 0, 1, 1000, True),
    (5, 10, 3, 20, True),               # either threshold
    (1, 50, 2, 20, True),
    (None, 100, 5, 5, False),
])
def test_tolerance_boundaries(count, pct, failed, total, exceeded):
    interp = interpreter(dmap())
    state = map_state(interp)
    from dataclasses import replace

    state = replace(state, tolerated_failure_count=count, tolerated_failure_percentage=pct)
    assert tolerance_exceeded(state, failed, total) is exceeded


def record(index, ok=True, items=1, output=None):
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    return ChildExecution(f"r-{index}", index, "Succeeded" if ok else "Failed", {"i": index},
                          output if ok else None, None if ok else "E", None if ok else "d", now, now,
                          index, items)


def test_failed_batch_counts_all_its_items():
    interp = interpreter(dmap("  ToleratedFailureCount: 2\n"))
    ctx = interp.new_context({})
    children = [record(0, items=3), record(1, ok=False, items=3)]
    with pytest.raises(FlowError) as err:
        map_result(interp, map_state(interp), children, map_run_name="r", map_input={}, ctx=ctx)
    assert err.value.code == ErrorCodes.TOLERANCE_EXCEEDED
    assert "3 of 6 items" in err.value.detail


def test_map_result_orders_outputs_and_fills_failed_slots():
    interp = interpreter(dmap("  ToleratedFailureCount: 1\n"))
    ctx = interp.new_context({})
    children = [record(2, output="c"), record(0, output="a"), record(1, ok=False)]
    out = map_result(interp, map_state(interp), children, map_run_name="r", map_input={}, ctx=ctx)
    assert out == {"Items": ["a", {"ErrorCode": "E", "Detail": "d"}, "c"]}


def test_in_index_order_reorders_completion_order():
    got = [c.index for c in in_index_order([record(i) for i in (1, 0, 3, 2, 4)])]
    assert got == [0, 1, 2, 3, 4]


# ----------------------------------------------------------------- child inputs


class EndlessItems:
    """A ``ports.MapStorage`` whose ItemReader never ends."""

    def for_scheme(self, scheme):
        return None

    def read_cloudflow_items(self, store, source_type, parameters, *, csv_headers, max_items):
        n = 0
        while True:
            yield {"n": n}
            n += 1


def test_child_inputs_stream_without_materialising():
    interp = interpreter(dmap(items="""ItemReader:
    SourceType: OSS_JSON_LIST
    SourceParameters:
      Bucket: bkt
      ObjectName: x.json"""))
    interp.stores = EndlessItems()
    ctx = interp.new_context({})
    got = list(islice(iter_child_inputs(interp, map_state(interp), {}, ctx), 3))
    assert got == [ChildInput(0, 0, 1, {"n": 0}), ChildInput(1, 1, 1, {"n": 1}), ChildInput(2, 2, 1, {"n": 2})]


def test_max_items_then_constructor_then_batches():
    interp = interpreter(dmap("""  MaxItems: 5
  ItemConstructor:
    v.$: $Item.x
    tag.$: $Input.tag
  ItemBatcher:
    MaxItemsPerBatch: 2
    BatchInput:
      b.$: $Input.tag
"""))
    ctx = interp.new_context({})
    xs = [{"x": i} for i in range(9)]
    children = list(iter_child_inputs(interp, map_state(interp), {"xs": xs, "tag": "t"}, ctx))
    assert [(c.index, c.first_item, c.item_count) for c in children] == [(0, 0, 2), (1, 2, 2), (2, 4, 1)]
    assert children[0].input == {"BatchInput": {"b": "t"}, "Items": [{"v": 0, "tag": "t"}, {"v": 1, "tag": "t"}]}


def test_batch_without_batch_input_has_only_items():
    interp = interpreter(dmap("  ItemBatcher:\n    MaxItemsPerBatch: 10\n"))
    ctx = interp.new_context({})
    children = list(iter_child_inputs(interp, map_state(interp), {"xs": [1, 2]}, ctx))
    assert [c.input for c in children] == [{"Items": [1, 2]}]


# ----------------------------------------------------------------- child executions


def test_child_has_its_own_execution_and_no_parent_globals():
    interp = interpreter(dmap(processor="""
      - Type: Pass
        Name: P
        OutputConstructor:
          name.$: $Context.Execution.Name
          input.$: $Context.Execution.Input
          g.$: $Global.g
        End: true"""))
    ctx = interp.new_context({})
    ctx.merge_globals({"g": "parent"})
    child = run_child(interp, map_state(interp), ChildInput(4, 4, 1, {"k": 1}), map_run_name="abc", ctx=ctx)
    assert child.status == "Succeeded" and child.name == "child-abc-4"
    assert child.output == {"name": "child-abc-4", "input": {"k": 1}, "g": None}


def test_failed_child_record_carries_the_error():
    interp = interpreter(dmap(processor="""
      - Type: Fail
        Name: F
        Code: Bad
        Detail: why"""))
    child = run_child(interp, map_state(interp), ChildInput(0, 0, 1, {}), map_run_name="abc", ctx=interp.new_context({}))
    assert (child.status, child.error_code, child.error_detail, child.output) == ("Failed", "Bad", "why", None)


def test_result_writer_output_and_files(tmp_path):
    (tmp_path / "bkt").mkdir()
    r = run(dmap("""  ToleratedFailureCount: 5
  ResultWriter:
    Parameters:
      Bucket: bkt
      Prefix: out
"""), {"xs": [1, 2]}, store=tmp_path)
    run_name = r.output["MapRunName"]
    assert len(run_name) == 32 and all(c in "0123456789abcdef" for c in run_name)
    assert r.output["ResultWriterDetails"] == {"Bucket": "bkt", "Key": f"out/{run_name}/manifest.json"}
    manifest = json.loads((tmp_path / "bkt" / "out" / run_name / "manifest.json").read_text())
    assert manifest["MapRunName"] == run_name


def test_item_reader_without_store_fails_cleanly():
    r = run(dmap(items="""ItemReader:
    SourceType: OSS_CSV
    SourceParameters:
      Bucket: bkt
      ObjectName: x.csv"""))
    assert r.error.code == ErrorCodes.ITEM_READER_FAILED


def test_max_concurrency_is_honoured():
    """Children block until ``limit`` of them run together; never more than ``limit`` at once."""
    limit, total = 3, 9
    barrier = threading.Barrier(limit, timeout=20)
    lock = threading.Lock()
    state = {"active": 0, "peak": 0}

    def block(call):
        with lock:
            state["active"] += 1
            state["peak"] = max(state["peak"], state["active"])
        try:
            barrier.wait()
        finally:
            with lock:
                state["active"] -= 1
        return call.parameters

    processor = """
      - Type: Task
        Name: T
        Action: Test:Block
        Parameters:
          v.$: $Input
        End: true"""
    r = run(dmap(f"  MaxConcurrency: {limit}\n", processor=processor), {"xs": list(range(total))},
            integrations=IntegrationRegistry({"Test:Block": block}), clock=FakeClock())
    assert r.status == "Succeeded", r.error
    assert r.output == {"Items": [{"v": i} for i in range(total)]}
    assert state["peak"] == limit
