"""Run-time steps of the Airflow engine, without Airflow: each must give what the interpreter gives."""

from __future__ import annotations

import textwrap

import pytest

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.exceptions import ErrorCodes, FlowError
from airflow_cloudflow.integrations.mocks import load_mocks
from airflow_cloudflow.planning.shards import Staging
from airflow_cloudflow.planning.sizing import plan_shards
from airflow_cloudflow.planning.steps import (
    Handoff,
    MapRun,
    map_process_step,
    map_read_step,
    map_write_step,
    new_context,
    parallel_join_step,
    parallel_start_step,
    pick_handoff,
    run_region_step,
    wait_state_finish,
    wait_state_input,
)
from airflow_cloudflow.runtime.clock import FakeClock
from airflow_cloudflow.runtime.interpreter import Interpreter
from airflow_cloudflow.storage.local import LocalStore
from airflow_cloudflow.storage.resolver import StoreResolver


def machine(states: str):
    text = "Type: StateMachine\nName: f\nSpecVersion: v1\nStartAt: M\nStates:\n" + textwrap.indent(
        textwrap.dedent(states), "  "
    )
    return load_definition_text(text, "f.flow.yaml")


MAP = """
- Type: Map
  Name: M
  ProcessorConfig: {ExecutionMode: Express}
  InputConstructor:
    Items.$: $Input.Items
    Limit.$: $Input.Limit
  ItemsPath: $Input.Items
  ItemConstructor:
    v.$: $Item.v
    limit.$: $Input.Limit
  ItemBatcher: {MaxItemsPerBatch: 2}
  ToleratedFailureCount: 1
  Processor:
    StartAt: C
    States:
      - Type: Choice
        Name: C
        Branches:
          - {Condition: '$Input.Items[0].v > $Input.Items[0].limit', Next: F}
        Default: P
      - {Type: Pass, Name: P, End: true}
      - {Type: Fail, Name: F, Code: TooBig}
  OutputConstructor:
    n.$: length($Output.Items)
  Catch:
    - {Errors: [FnF.ALL], Next: Caught}
  End: true
- {Type: Pass, Name: Caught, End: true}
"""


@pytest.fixture
def staging(tmp_path):
    store = LocalStore(tmp_path)
    store.create_bucket("staging")
    return lambda name: Staging(store, "staging", f"run/{name}")


def TWO_SHARDS_AT_MOST(children: int):
    return plan_shards(children, parallel=1, max_shards=2, shard_size=1)


def interpreter(m, tmp_path=None):
    stores = StoreResolver.local(tmp_path) if tmp_path else None
    return Interpreter(m, integrations=load_mocks({}), stores=stores, clock=FakeClock())


def distributed(m, given: Handoff, staging) -> Handoff:
    interp = interpreter(m)
    ctx = new_context(interp, "exec", given.output, {})
    run = map_read_step(interp, m.graph["M"], given, ctx, staging, plan_for=TWO_SHARDS_AT_MOST)
    run = MapRun.from_json(run.to_json())  # it travels by XCom
    area = staging(run.map_run_name)
    for shard in run.shards:
        map_process_step(interp, m.graph["M"], run.map_run_name, shard, area, new_context(interp, "exec", given.output, {}),
                         concurrency=1, tolerance=run.tolerance, total_items=run.total_items)
    return map_write_step(interp, m.graph["M"], run, area, new_context(interp, "exec", given.output, {}))


@pytest.mark.parametrize("limit, caught", [(10, False), (2, False), (1, True)])
def test_distributed_map_steps_match_the_interpreter(limit, caught, staging):
    m = machine(MAP)
    items = [{"v": v} for v in (1, 5, 2, 7, 3)]
    execution_input = {"Items": items, "Limit": limit}
    expected = interpreter(m).execute(execution_input)
    result = distributed(m, Handoff(execution_input, "M"), staging)
    assert result.output == expected.output
    assert result.next == ("Caught" if caught else None)
    assert list(expected.visited) == (["M", "Caught"] if caught else ["M"])


def test_a_reader_error_is_replayed_so_the_maps_catch_sees_it(staging, tmp_path):
    m = machine(MAP.replace("ItemsPath: $Input.Items", "ItemsPath: $Input.Missing"))
    result = distributed(m, Handoff({"Items": [], "Limit": 1}, "M"), staging)
    assert result.next == "Caught"
    assert result.output["Code"] == ErrorCodes.RUNTIME


def test_the_shards_hold_every_child_and_only_refs_travel(staging):
    m = machine(MAP)
    interp = interpreter(m)
    ctx = new_context(interp, "exec", {}, {})
    given = Handoff({"Items": [{"v": i} for i in range(9)], "Limit": 100}, "M")
    run = map_read_step(interp, m.graph["M"], given, ctx, staging, plan_for=TWO_SHARDS_AT_MOST)
    assert len(run.shards) == 2  # 5 batches of ≤ 2 items, at most 2 shards
    assert sum(s.child_count for s in run.shards) == 5 and sum(s.item_count for s in run.shards) == 9
    assert "Items" not in str(run.to_json()["shards"])


def test_region_step_loops_until_control_leaves_the_region():
    m = machine("""
    - {Type: Pass, Name: M, Next: Loop}
    - Type: Choice
      Name: Loop
      Branches:
        - {Condition: '$Input.n < 3', Next: Inc}
      Default: Done
    - Type: Pass
      Name: Inc
      InputConstructor:
        n.$: intAdd($Input.n, 1)
      Next: Loop
    - {Type: Pass, Name: Done, End: true}
    """)
    interp = interpreter(m)
    out = run_region_step(interp, m.graph, ("Loop", "Inc"), "Loop", Handoff({"n": 0}, "Loop"),
                          new_context(interp, "e", {}, {}))
    assert (out.output, out.next) == ({"n": 3}, "Done")


def test_parallel_start_and_join_assemble_branch_outputs_and_globals():
    m = machine("""
    - Type: Parallel
      Name: M
      InputConstructor:
        x.$: $Input.a
      Branches:
        - StartAt: A
          States:
            - {Type: Pass, Name: A, End: true}
      OutputConstructor:
        first.$: $Output.Branch0.x
        seen.$: $Global.g
      End: true
    """)
    interp = interpreter(m)
    start = parallel_start_step(interp, m.graph["M"], Handoff({"a": 1}, "M"), new_context(interp, "e", {}, {}))
    assert start.output == {"x": 1}
    joined = parallel_join_step(interp, m.graph["M"], start, [Handoff({"x": 1}, None, {"g": "from-branch"})],
                                new_context(interp, "e", {}, {}))
    assert joined.output == {"first": 1, "seen": "from-branch"} and joined.next is None
    assert joined.globals == {"g": "from-branch"}


def test_wait_steps_split_the_wait_from_the_rest_of_the_state():
    m = machine("""
    - Type: Wait
      Name: M
      Seconds.$: $Input.s
      OutputConstructor:
        waited.$: $Input.s
      Next: After
    - {Type: Pass, Name: After, End: true}
    """)
    interp = interpreter(m)
    ctx = new_context(interp, "e", {}, {})
    value, seconds = wait_state_input(interp, m.graph["M"], Handoff({"s": 7}, "M"), ctx)
    assert (value, seconds) == ({"s": 7}, 7)
    done = wait_state_finish(interp, m.graph["M"], value, ctx)
    assert (done.output, done.next) == ({"waited": 7}, "After")
    assert interp.clock.slept == 0  # the waiting itself is Airflow's (a deferral), not the step's


def test_pick_handoff_takes_the_upstream_that_chose_this_state():
    chosen = Handoff({"k": 2}, "B")
    assert pick_handoff([("B", None), ("B", Handoff({}, "C")), ("B", chosen)], "B") is chosen
    assert pick_handoff([("*", chosen)], "X") is chosen
    with pytest.raises(FlowError):
        pick_handoff([("B", Handoff({}, "C"))], "B")


def test_the_join_merges_only_what_each_branch_changed_in_global():
    m = machine("""
    - Type: Parallel
      Name: M
      Branches:
        - StartAt: A
          States:
            - {Type: Pass, Name: A, End: true}
        - StartAt: B
          States:
            - {Type: Pass, Name: B, End: true}
      OutputConstructor:
        k.$: $Global.k
        j.$: $Global.j
      End: true
    """)
    interp = interpreter(m)
    start = Handoff({}, None, {"k": 0, "j": 0})
    branch0 = Handoff({}, None, {"k": 1, "j": 0})  # branch 0 set k
    branch1 = Handoff({}, None, {"k": 0, "j": 2})  # branch 1 set j, left k alone
    joined = parallel_join_step(interp, m.graph["M"], start, [branch0, branch1], new_context(interp, "e", {}, start.globals))
    assert joined.output == {"k": 1, "j": 2}


def test_every_task_of_a_run_shares_its_start_time_and_timeout_deadline():
    from datetime import timedelta

    m = load_definition_text(
        "Type: StateMachine\nName: f\nSpecVersion: v1\nTimeout: 60\nStartAt: A\nStates:\n  - {Type: Pass, Name: A, End: true}\n",
        "f.flow.yaml",
    )
    interp = interpreter(m)
    started = interp.clock.now() - timedelta(seconds=61)  # the run started 61 s before this task
    ctx = new_context(interp, "run", {}, {}, started=started)
    assert ctx.deadline == started + timedelta(seconds=60)
    assert ctx.current("A", {})["Execution"]["StartTime"] == started.isoformat()
    with pytest.raises(FlowError) as err:
        ctx.check_deadline()
    assert err.value.code == ErrorCodes.TIMEOUT


REDRIVE_MAP = """
- Type: Map
  Name: M
  ProcessorConfig: {ExecutionMode: Express}
  ItemsPath: $Input.Items
  ToleratedFailureCount: 10
  Processor:
    StartAt: T
    States:
      - Type: Task
        Name: T
        Action: FC:InvokeFunction
        Parameters:
          resourceArn: acs:fc:cn-hangzhou:123:functions/charge
          body.$: $Input
        End: true
  End: true
"""


def test_a_redriven_result_writer_reruns_the_failed_children_of_shards_that_succeeded(staging):
    """Failures within the tolerance leave the shard successful, so Clear → only failed does not
    run it again: the redriven ResultWriter step runs its failed children itself, once."""
    m = machine(REDRIVE_MAP)
    mocks = {"acs:fc:cn-hangzhou:123:functions/charge": {"behaviour": "fail_first_n", "n": 2, "code": "Boom"}}
    interp = Interpreter(m, integrations=load_mocks(mocks), clock=FakeClock())
    given = Handoff({"Items": [{"v": i} for i in range(6)]}, "M")
    ctx = new_context(interp, "exec", given.output, {})
    run = MapRun.from_json(map_read_step(interp, m.graph["M"], given, ctx, staging, plan_for=TWO_SHARDS_AT_MOST).to_json())
    area = staging(run.map_run_name)
    summaries = [map_process_step(interp, m.graph["M"], run.map_run_name, shard, area, ctx, concurrency=1,
                                  tolerance=run.tolerance, total_items=run.total_items) for shard in run.shards]
    assert sum(s.failed for s in summaries) == 2 and not any(s.map_run_failing for s in summaries)
    first = map_write_step(interp, m.graph["M"], run, area, new_context(interp, "exec", given.output, {}))
    assert [slot.get("ErrorCode") for slot in first.output["Items"]][:2] == ["Boom", "Boom"]

    redrive = new_context(interp, "exec", given.output, {})
    redrive.redrive_count = 1  # the DAG run was cleared once
    again = map_write_step(interp, m.graph["M"], run, area, redrive)
    assert again.output["Items"] == [{"Body": {"v": i}} for i in range(6)]
    assert map_write_step(interp, m.graph["M"], run, area, redrive).output == again.output  # nothing runs twice


ASL_WRITER_MAP = """{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "End": true,
  "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P",
    "States": {"P": {"Type": "Pass", "Parameters": {"pair.$": "States.Array($.v, $.v)"}, "OutputPath": "$.pair",
                     "End": true}}},
  "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out", "Prefix": "res"},
                   "WriterConfig": {"OutputType": "JSONL", "Transformation": "FLATTEN"}}}}}"""


def _written(store, details) -> list[str]:
    with store.open(details["Bucket"], details["Key"]) as fh:
        manifest = __import__("json").loads(fh.read())
    out = []
    for entry in manifest["ResultFiles"]["SUCCEEDED"]:
        assert entry["Key"].endswith(".jsonl")
        with store.open(details["Bucket"], entry["Key"]) as fh:
            out.append(fh.read().decode("utf-8"))
    return out


def test_shards_write_the_writer_config_files_the_interpreter_writes(staging, tmp_path):
    """WriterConfig goes through the dialect's ResultLayout, which the shards render with."""
    m = load_definition_text(ASL_WRITER_MAP, "w.asl.json")
    (tmp_path / "s3" / "out").mkdir(parents=True)
    stores = StoreResolver.local(tmp_path / "s3")
    execution_input = {"items": [{"v": i} for i in range(5)]}
    expected = Interpreter(m, integrations=load_mocks({}), stores=stores, clock=FakeClock()).execute(execution_input)
    interp = Interpreter(m, integrations=load_mocks({}), stores=stores, clock=FakeClock())
    given = Handoff(execution_input, "M")
    ctx = new_context(interp, "exec", given.output, {})
    run = MapRun.from_json(map_read_step(interp, m.graph["M"], given, ctx, staging, plan_for=TWO_SHARDS_AT_MOST).to_json())
    area = staging(run.map_run_name)
    for shard in run.shards:
        map_process_step(interp, m.graph["M"], run.map_run_name, shard, area, ctx, concurrency=1,
                         tolerance=run.tolerance, total_items=run.total_items)
    result = map_write_step(interp, m.graph["M"], run, area, new_context(interp, "exec", given.output, {}))
    store = stores.for_scheme("s3")
    assert "".join(_written(store, result.output["ResultWriterDetails"])) == "0\n0\n1\n1\n2\n2\n3\n3\n4\n4\n"
    assert "".join(_written(store, expected.output["ResultWriterDetails"])) == "0\n0\n1\n1\n2\n2\n3\n3\n4\n4\n"
