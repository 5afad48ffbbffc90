"""``validate(machine)``: semantic checks on hand-built models and on warnings-only definitions."""

from __future__ import annotations

from airflow_cloudflow.dialects import lint_text
from airflow_cloudflow.model import (
    Choice, ChoiceBranch, Location, Map, Parallel, Pass, StateGraph, StateMachine, Succeed, Task,
)
from airflow_cloudflow.validation.graph import validate
from airflow_cloudflow.validation.catalogue import CODES, is_known_action

HEAD = "Type: StateMachine\nName: demo\nSpecVersion: v1\n"


def machine(*states, start="A", name="demo"):
    return StateMachine(name=name, graph=StateGraph(start_at=start, states=tuple(states)))


def codes(m):
    return sorted(i.code for i in validate(m))


def test_valid_hand_built_model_has_no_issues():
    assert validate(machine(Pass(name="A", next="B"), Succeed(name="B"))) == []


def test_returns_all_issues_at_once():
    m = machine(Pass(name="A", next="Nope"), Pass(name="A", end=True), Pass(name="C"), name="bad name")
    assert codes(m) == ["CF-E200", "CF-E202", "CF-E205", "CF-E300", "CF-W001"]


def test_issue_pointer_and_location_come_from_the_model():
    loc = Location("f.flow.yaml", 7, 5, "/States/0")
    (issue,) = validate(machine(Pass(name="A", next="Nope", location=loc)))
    assert (issue.file, issue.line, issue.column, issue.pointer) == ("f.flow.yaml", 7, 5, "/States/0/Next")


def test_cycle_without_exit_is_an_error_but_a_cycle_with_exit_is_fine():
    assert codes(machine(Pass(name="A", next="B"), Pass(name="B", next="A"))) == ["CF-E206"]
    loop = Choice(name="B", branches=(), default="A")
    assert "CF-E206" in codes(machine(Pass(name="A", next="B"), loop))
    exit_loop = Choice(name="B", branches=(ChoiceBranch(condition=_expr("$Input.done"), next="C"),), default="A")
    assert codes(machine(Pass(name="A", next="B"), exit_loop, Succeed(name="C"))) == []


def test_next_into_a_parallel_branch_is_leaving_scope():
    branch = StateGraph(start_at="X", states=(Pass(name="X", end=True),))
    m = machine(Parallel(name="A", branches=(branch,), next="X"))
    assert codes(m) == ["CF-E203"]


def test_nested_scopes_are_checked():
    inner = StateGraph(start_at="Q", states=(Pass(name="P", end=True),))
    m = machine(Map(name="A", processor=inner, end=True, items_path=None))
    assert codes(m) == ["CF-E201", "CF-E304"]  # no reachability without a valid StartAt


def test_unknown_action_is_a_warning_and_known_list_lives_in_one_place():
    assert is_known_action("FC:InvokeFunction") and is_known_action("OSS:PutObject")
    assert not is_known_action("ECS:DescribeInstances")
    (issue,) = validate(machine(Task(name="A", action="ECS:DescribeInstances", end=True)))
    assert (issue.code, issue.severity) == ("CF-W002", "warning")


def test_global_constructor_inside_map_warns():
    _, issues = lint_text(HEAD + """StartAt: M
States:
  - Type: Map
    Name: M
    ItemsPath: $Input.items
    Processor:
      StartAt: P
      States:
        - Type: Pass
          Name: P
          GlobalConstructor:
            last.$: $Input.id
          End: true
    End: true
""")
    assert [(i.code, i.severity, i.line) for i in issues] == [("CF-W004", "warning", 14)]


def test_quota_warnings_for_concurrency_and_items():
    _, issues = lint_text(HEAD + """StartAt: M
States:
  - Type: Map
    Name: M
    ProcessorConfig:
      ExecutionMode: Express
    ItemsPath: $Input.items
    MaxConcurrency: 301
    MaxItems: 20000
    Processor:
      StartAt: P
      States:
        - Type: Pass
          Name: P
          End: true
    End: true
""")
    assert [(i.code, i.line) for i in issues] == [("CF-W005", 11), ("CF-W005", 12)]
    assert all(not i.is_error for i in issues)


def test_inline_concurrency_quota_is_40():
    inner = StateGraph(start_at="P", states=(Pass(name="P", end=True),))
    m = machine(Map(name="A", processor=inner, end=True, max_concurrency=41,
                    items_path=_expr("$Input.items")))
    assert codes(m) == ["CF-W005"]


def test_item_allowed_in_distributed_item_constructor():
    _, issues = lint_text(HEAD + """StartAt: M
States:
  - Type: Map
    Name: M
    ProcessorConfig:
      ExecutionMode: Express
    ItemsPath: $Input.items
    ItemConstructor:
      k.$: $Item.k
      run.$: $Input.run
    Processor:
      StartAt: P
      States:
        - Type: Pass
          Name: P
          End: true
    End: true
""")
    assert issues == []


def test_output_allowed_in_output_and_global_constructors():
    _, issues = lint_text(HEAD + """StartAt: T
States:
  - Type: Task
    Name: T
    Action: FC:InvokeFunction
    OutputConstructor:
      a.$: $Output.Body
    GlobalConstructor:
      b.$: $Output.Body
    End: true
""")
    assert issues == []


def test_choice_branch_without_default_is_an_error():
    branch = ChoiceBranch(condition=_expr("$Input.ok"), next="B")
    assert codes(machine(Choice(name="A", branches=(branch,)), Succeed(name="B"))) == ["CF-E302"]


def test_catalogue_codes_are_well_formed():
    assert all(code.startswith(("CF-E", "CF-W")) and len(code) == 7 for code in CODES)


def _expr(source):
    from airflow_cloudflow.expressions.cloudflow import compile_expression
    from airflow_cloudflow.model import Expression

    return Expression(source, compile_expression(source))


def test_docs_list_every_code():
    from tests.conftest import REPO_ROOT

    text = (REPO_ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    assert [c for c in CODES if f"`{c}`" not in text] == []
