"""Model → plan: the Airflow shape of a flow, checked without Airflow."""

from __future__ import annotations

import pytest

import textwrap

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.planning.plan import (
    ALL_DONE,
    ANY,
    FINISH,
    JOIN,
    JOIN_RULE,
    MAP_PROCESS,
    MAP_READ,
    MAP_WRITE,
    PARALLEL,
    REGION,
    STATE,
    plan,
    sanitize_id,
    strongly_connected,
)


def flow(states: str, start: str = "A") -> object:
    text = f"Type: StateMachine\nName: f\nSpecVersion: v1\nStartAt: {start}\nStates:\n" + textwrap.indent(
        textwrap.dedent(states), "  "
    )
    return load_definition_text(text, "f.flow.yaml")


def kinds(p):
    return {s.task_id: s.kind for s in p.steps}


def test_safe_names_are_kept_and_others_get_a_stable_hash():
    assert sanitize_id("Pass1") == "Pass1"
    assert sanitize_id("my-state_2") == "my-state_2"
    odd = sanitize_id("an example of function invocation.")
    assert odd.startswith("an_example_of_function_invocation_") and odd == sanitize_id("an example of function invocation.")
    assert sanitize_id("视频理解") != sanitize_id("视频生成")
    assert sanitize_id("a b") != sanitize_id("a_b")
    assert all(c.isalnum() or c in "_-" for c in sanitize_id("视频理解"))


def test_a_chain_is_one_task_per_state_then_finish():
    p = plan(flow("""
        - {Type: Pass, Name: A, Next: B}
        - {Type: Pass, Name: B, End: true}
    """))
    assert kinds(p) == {"A": STATE, "B": STATE, "finish": FINISH}
    assert p.step("B").upstream == ("A",) and p.step("B").inputs == (("A", "B"),)
    assert p.step("A").inputs == ()
    assert p.step("finish").upstream == ("B",) and p.step("finish").trigger_rule == ALL_DONE
    assert p.terminals == ("B",)


def test_choice_branches_join_after_whichever_branch_ran():
    p = plan(flow("""
        - Type: Choice
          Name: A
          Branches:
            - {Condition: '$Input.x == 1', Next: B}
          Default: C
        - {Type: Pass, Name: B, Next: C}
        - {Type: Pass, Name: C, End: true}
    """))
    join = p.step("C")
    assert set(join.upstream) == {"A", "B"}
    assert set(join.inputs) == {("A", "C"), ("B", "C")}
    assert join.trigger_rule == JOIN_RULE
    assert p.step("A").successors == {"B": "B", "C": "C"}


def test_catch_targets_are_successors_of_the_failing_state():
    p = plan(flow("""
        - Type: Task
          Name: A
          Action: FC:InvokeFunction
          Parameters: {resourceArn: x, invocationType: Sync}
          Catch:
            - {Errors: [FnF.ALL], Next: Handler}
          End: true
        - {Type: Pass, Name: Handler, End: true}
    """))
    assert p.step("A").successors == {"Handler": "Handler"}
    assert set(p.terminals) == {"A", "Handler"}


def test_a_loop_becomes_one_interpreted_region():
    machine = flow("""
        - {Type: Pass, Name: A, Next: Loop}
        - Type: Choice
          Name: Loop
          Branches:
            - {Condition: '$Input.n < 3', Next: Step}
          Default: Done
        - {Type: Pass, Name: Step, Next: Loop}
        - {Type: Pass, Name: Done, End: true}
    """)
    assert strongly_connected(machine.graph) == [frozenset({"Loop", "Step"})]
    p = plan(machine)
    region = [s for s in p.steps if s.kind == REGION]
    assert len(region) == 1 and set(region[0].region_states) == {"Loop", "Step"}
    assert region[0].inputs == (("A", "Loop"),)
    assert region[0].successors == {"Done": "Done"}
    assert p.step("Done").inputs == ((region[0].task_id, "Done"),)


def test_parallel_without_retry_becomes_groups_and_a_join():
    p = plan(flow("""
        - Type: Parallel
          Name: A
          Branches:
            - StartAt: X
              States:
                - {Type: Pass, Name: X, End: true}
            - StartAt: Y
              States:
                - {Type: Pass, Name: Y, Next: Z}
                - {Type: Pass, Name: Z, End: true}
          End: true
    """))
    k = kinds(p)
    assert k["A"] == PARALLEL and k["A__join"] == JOIN
    x = p.step("X")
    assert x.group == "A__branch0" and x.inputs == (("A", ANY),) and x.scope == ("A", "Branch0")
    join = p.step("A__join")
    assert join.branch_terminals == (("X",), ("Z",))
    assert set(join.upstream) == {"X", "Z"}
    assert p.terminals == ("A__join",)


def test_parallel_with_catch_is_interpreted_as_one_task():
    p = plan(flow("""
        - Type: Parallel
          Name: A
          Branches:
            - StartAt: X
              States:
                - {Type: Pass, Name: X, End: true}
          Catch:
            - {Errors: [FnF.ALL], Next: B}
          End: true
        - {Type: Pass, Name: B, End: true}
    """))
    assert kinds(p)["A"] == STATE and "X" not in kinds(p)


@pytest.mark.parametrize("branch", [
    "- {Type: Wait, Name: X, Seconds: 5, End: true}",
    "- {Type: Pass, Name: X, Next: L}\n                - {Type: Choice, Name: L, Branches: [{Condition: $Input.ok, Next: E}], Default: X}"
    "\n                - {Type: Succeed, Name: E}",
], ids=["wait", "loop"])
def test_parallel_with_a_branch_that_waits_or_loops_is_interpreted_as_one_task(branch):
    """A failing branch must stop a waiting or polling sibling at once: only in-process can it."""
    p = plan(flow(f"""
        - Type: Parallel
          Name: A
          Branches:
            - StartAt: X
              States:
                {branch}
            - StartAt: F
              States:
                - {{Type: Fail, Name: F, Code: Boom}}
          End: true
    """))
    assert kinds(p)["A"] == STATE and "F" not in kinds(p)


def test_distributed_map_reads_processes_shards_and_writes():
    p = plan(flow("""
        - Type: Map
          Name: A
          ProcessorConfig: {ExecutionMode: Express}
          ItemsPath: $Input.Items
          Processor:
            StartAt: P
            States:
              - {Type: Pass, Name: P, End: true}
          Next: B
        - {Type: Pass, Name: B, End: true}
    """))
    assert [(s.task_id, s.kind) for s in p.steps[:3]] == [
        ("A", MAP_READ), ("A__process", MAP_PROCESS), ("A__results", MAP_WRITE)
    ]
    assert p.step("A__process").is_mapped and p.step("A__process").upstream == ("A",)
    writer = p.step("A__results")
    assert writer.trigger_rule == ALL_DONE and writer.upstream == ("A", "A__process")
    assert p.step("B").inputs == (("A__results", "B"),)


def test_inline_map_is_one_task():
    p = plan(flow("""
        - Type: Map
          Name: A
          ItemsPath: $Input.Items
          Processor:
            StartAt: P
            States:
              - {Type: Pass, Name: P, End: true}
          End: true
    """))
    assert kinds(p) == {"A": STATE, "finish": FINISH}


def test_task_ids_never_collide():
    p = plan(flow("""
        - {Type: Pass, Name: "a b", Next: "a_b"}
        - {Type: Pass, Name: "a_b", Next: "finish"}
        - {Type: Pass, Name: "finish", End: true}
    """, start='"a b"'))
    ids = [s.task_id for s in p.steps]
    assert len(ids) == len(set(ids)) == 4


def test_a_state_catching_into_itself_is_an_interpreted_region():
    p = plan(flow("""
        - Type: Task
          Name: A
          Action: FC:InvokeFunction
          Parameters: {resourceArn: x, invocationType: Sync}
          Catch:
            - {Errors: [FnF.ALL], Next: A}
          End: true
    """))
    (region,) = [s for s in p.steps if s.kind == REGION]
    assert region.region_states == ("A",) and region.state == "A"
