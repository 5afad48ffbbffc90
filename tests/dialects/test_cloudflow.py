"""CloudFlow FDL → model: fields, templates, locations, quirks the docs need accepted."""

from __future__ import annotations

import pytest

from airflow_cloudflow.dialects import (
    DIALECTS, dialect_for, lint_path, lint_text, load_definition, load_definition_text,
)
from airflow_cloudflow.exceptions import DefinitionError
from airflow_cloudflow.model import (
    ArrayTemplate, Choice, Expression, Fail, Literal, Map, ObjectTemplate, Parallel, Succeed, Task, Wait,
)

HEAD = "Type: StateMachine\nName: demo\nSpecVersion: v1\n"


def load(body: str):
    return load_definition_text(HEAD + body, "demo.flow.yaml")


def test_templates_fold_literals_and_strip_the_suffix():
    machine = load("""StartAt: A
States:
  - Type: Pass
    Name: A
    InputConstructor:
      plain: $Input.not_an_expression
      fixed: {a: [1, {b: c}]}
      dyn.$: $Input.x
      list: [1, {v.$: $Input.v}]
    End: true
""")
    template = machine.states[0].input_constructor
    assert isinstance(template, ObjectTemplate)
    fields = dict(template.fields)
    assert fields["plain"] == Literal("$Input.not_an_expression")
    assert fields["fixed"] == Literal({"a": [1, {"b": "c"}]})
    assert isinstance(fields["dyn"], Expression) and fields["dyn"].source == "$Input.x"
    assert fields["dyn"].compiled.roots == frozenset({"Input"})
    assert isinstance(fields["list"], ArrayTemplate)
    assert fields["list"].items[0] == Literal(1)
    assert fields["dyn"].location.pointer == "/States/0/InputConstructor/dyn.$"
    assert fields["dyn"].location.line == 11


def test_all_literal_constructor_is_one_literal():
    machine = load("StartAt: A\nStates:\n  - Type: Pass\n    Name: A\n    InputConstructor:\n      FieldA: 123\n    End: true\n")
    assert machine.states[0].input_constructor == Literal({"FieldA": 123})


def test_task_fields_timeout_string_retry_catch():
    machine = load("""StartAt: T
States:
  - Type: Task
    Name: T
    Description: call it
    Action: FC:InvokeFunction
    TaskMode: WaitForCustomCallback
    Timeout: "60"
    Parameters:
      resourceArn: arn
      body.$: $Input
    Retry:
      - Errors: [FC.ResourceThrottled]
        Description: throttled
        MaxAttempts: 3
        IntervalSeconds: 2
        BackoffRate: 2.0
        MaxBackoffSeconds: 10
    Catch:
      - Errors: [FnF.ALL]
        OutputConstructor:
          code.$: $Context.Current.Error.Code
        Next: H
    Next: H
  - Type: Fail
    Name: H
    Code: Bad
    End: true
""")
    task, fail = machine.states
    assert isinstance(task, Task) and task.action == "FC:InvokeFunction"
    assert task.task_mode == "WaitForCustomCallback" and task.description == "call it"
    assert task.timeout == Literal(60)
    (retry,) = task.retry
    assert (retry.errors, retry.max_attempts, retry.interval_seconds, retry.backoff_rate, retry.max_backoff_seconds) == (
        ("FC.ResourceThrottled",), 3, 2, 2.0, 10)
    (catch,) = task.catch
    assert catch.next == "H" and isinstance(catch.output_constructor, ObjectTemplate)
    assert catch.location.pointer == "/States/0/Catch/0"
    assert isinstance(fail, Fail) and fail.code == "Bad" and fail.detail is None


def test_dynamic_timeout_and_seconds():
    machine = load("""StartAt: T
States:
  - Type: Task
    Name: T
    Action: HTTP:Request
    Timeout.$: $Input.timeout
    Next: W
  - Type: Wait
    Name: W
    Seconds.$: $Input.s
    Next: S
  - Type: Succeed
    Name: S
    End: true
""")
    task, wait, succeed = machine.states
    assert isinstance(task.timeout, Expression) and isinstance(wait.seconds, Expression)
    assert isinstance(succeed, Succeed) and succeed.is_terminal


def test_distributed_map_every_field():
    machine = load("""StartAt: M
States:
  - Type: Map
    Name: M
    ProcessorConfig:
      ExecutionMode: Standard
    ItemReader:
      SourceType: OSS_CSV
      SourceParameters:
        Bucket.$: $Input.bucket
        ObjectName: data.csv
      ReaderConfig:
        CSVHeaders: "ColA, ColB,ColC"
    ItemConstructor:
      Key.$: $Item.Key
    ItemBatcher:
      MaxItemsPerBatch: 5
      MaxInputBytesPerBatch: 1024
      BatchInput:
        run.$: $Input.run
    ResultWriter:
      Parameters:
        Bucket: out
        Prefix: res/
    MaxConcurrency: 10
    MaxItems: 100
    ToleratedFailurePercentage: 12.5
    ToleratedFailureCount: 3
    Processor:
      StartAt: P
      States:
        - Type: Pass
          Name: P
          End: true
    End: true
""")
    (m,) = machine.states
    assert isinstance(m, Map) and m.distributed and m.execution_mode == "Standard"
    assert m.item_reader.csv_headers == ("ColA", "ColB", "ColC")
    assert isinstance(m.item_reader.source_parameters, ObjectTemplate)
    assert m.item_reader.location.pointer == "/States/0/ItemReader"
    assert m.item_batcher.max_items_per_batch == 5 and m.item_batcher.max_input_bytes_per_batch == 1024
    assert m.result_writer.parameters == Literal({"Bucket": "out", "Prefix": "res/"})
    assert (m.max_concurrency, m.max_items, m.tolerated_failure_percentage, m.tolerated_failure_count) == (10, 100, 12.5, 3)
    assert m.processor.start_at == "P" and m.processor.location.pointer == "/States/0/Processor"
    assert m.items_path is None


def test_inline_map_with_misspelled_concurrency_warns():
    machine, issues = lint_text(HEAD + """StartAt: M
States:
  - Type: Map
    Name: M
    ItemsPath: $Input.items
    MaxConcuccency: 28
    Processor:
      StartAt: P
      States:
        - Type: Pass
          Name: P
          End: true
    End: true
""")
    (m,) = machine.states
    assert not m.distributed and m.max_concurrency == 28
    assert [(i.code, i.severity, i.line) for i in issues] == [("CF-W003", "warning", 9)]


def test_choice_parallel_and_locations():
    machine = load("""StartAt: C
States:
  - Type: Choice
    Name: C
    Branches:
      - Condition: $Input.x > 1
        Next: P
    Default: P
  - Type: Parallel
    Name: P
    Branches:
      - StartAt: A
        States:
          - Type: Pass
            Name: A
            End: true
      - StartAt: B
        States:
          - Type: Succeed
            Name: B
    End: true
""")
    choice, parallel = machine.states
    assert isinstance(choice, Choice) and choice.default == "P"
    assert choice.branches[0].location.pointer == "/States/0/Branches/0"
    assert choice.branches[0].location.line == 9
    assert choice.branches[0].condition.location.pointer == "/States/0/Branches/0/Condition"
    assert isinstance(parallel, Parallel) and [b.start_at for b in parallel.branches] == ["A", "B"]
    assert parallel.branches[1].location.pointer == "/States/1/Branches/1"
    assert parallel.location.line == 12 and parallel.location.column == 5
    assert machine.states[0].location.file == "demo.flow.yaml"


def test_top_level_fields():
    machine = load_definition_text("Type: StateMachine\nName: t\nSpecVersion: v1\nDescription: d\nTimeout: 600\n"
                                   "StartAt: A\nStates:\n  - Type: Pass\n    Name: A\n    End: true\n")
    assert (machine.name, machine.description, machine.timeout_seconds, machine.spec_version) == ("t", "d", 600, "v1")
    assert machine.dialect == "cloudflow" and machine.source_text.startswith("Type:")


def test_all_issues_collected_not_just_the_first():
    with pytest.raises(DefinitionError) as exc:
        load("StartAt: A\nStates:\n  - Type: Pass\n    Name: A\n    Nxt: B\n    End: 1\n  - Type: Wat\n    Name: B\n")
    codes = sorted(i.code for i in exc.value.issues if i.is_error)
    assert codes == ["CF-E110", "CF-E112", "CF-E114"]
    assert exc.value.file == "demo.flow.yaml"


def test_expression_error_column_points_inside_the_value():
    _, issues = lint_text(HEAD + "StartAt: A\nStates:\n  - Type: Pass\n    Name: A\n    InputConstructor:\n"
                          "      x.$: $Input.a ==\n    End: true\n")
    (issue,) = issues
    assert (issue.code, issue.line, issue.column) == ("CF-E401", 9, 23)
    assert issue.pointer == "/States/0/InputConstructor/x.$"


def test_load_definition_from_file_and_lint_path(tmp_path):
    path = tmp_path / "f.flow.yaml"
    path.write_text("\ufeff" + HEAD + "StartAt: A\nStates:\n  - Type: Pass\n    Name: A\n    End: true\n", encoding="utf-8")
    assert load_definition(path).source_file == str(path)
    assert lint_path(path) == []
    assert [i.code for i in lint_path(tmp_path / "missing.flow.yaml")] == ["CF-E105"]


def test_dialect_dispatch_and_registry():
    assert dialect_for("x.flow.yaml") == dialect_for("x.flow.yml") == dialect_for("x.yaml") == "cloudflow"
    assert dialect_for("x.asl.json") == dialect_for("x.asl.yaml") == "asl"
    assert "cloudflow" in DIALECTS


def test_unregistered_dialect_is_an_issue(monkeypatch):
    monkeypatch.delitem(DIALECTS, "asl", raising=False)
    machine, issues = lint_text("{}", "x.asl.json")
    assert machine is None and [i.code for i in issues] == ["CF-E117"]


def test_states_named_yes_and_no_are_strings_in_a_flow_and_yes_is_no_boolean():
    """``*.flow.yaml`` uses the YAML 1.2 core schema too (docs/validation.md "YAML schema")."""
    from airflow_cloudflow.dialects import lint_text

    flow = ("Type: StateMachine\nName: f\nSpecVersion: v1\nStartAt: Ask\nStates:\n"
            "  - Type: Choice\n    Name: Ask\n    Branches:\n      - Condition: $Input.ok\n        Next: Yes\n"
            "    Default: No\n"
            "  - Type: Pass\n    Name: Yes\n    End: true\n"
            "  - Type: Pass\n    Name: No\n    End: yes\n")
    machine, issues = lint_text(flow, "f.flow.yaml")
    assert [s.name for s in machine.states] == ["Ask", "Yes", "No"]
    assert [(i.code, i.line) for i in issues if i.is_error] == [("CF-E110", 17)]
