"""``airflow-cloudflow render``: the plan as JSON, without Airflow."""

from __future__ import annotations

import json

from airflow_cloudflow.cli import main

FLOW = """\
Type: StateMachine
Name: render-me
SpecVersion: v1
StartAt: Map
States:
  - Type: Map
    Name: Map
    ProcessorConfig: {ExecutionMode: Express}
    ItemsPath: $Input.Items
    Processor:
      StartAt: P
      States:
        - {Type: Pass, Name: P, End: true}
    End: true
"""


def test_render_prints_the_distributed_map_plan(tmp_path, capsys):
    path = tmp_path / "render.flow.yaml"
    path.write_text(FLOW)
    assert main(["render", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dag_id"] == "render-me"
    assert [(s["task_id"], s["kind"]) for s in out["steps"]] == [
        ("Map", "map_read"), ("Map__process", "map_process"), ("Map__results", "map_write"), ("finish", "finish")
    ]
    assert out["steps"][1]["mapped"] is True
    assert out["steps"][2]["trigger_rule"] == "all_done"


def test_render_reports_an_invalid_definition_with_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.flow.yaml"
    path.write_text(FLOW.replace("StartAt: Map", "StartAt: Nope"))
    assert main(["render", str(path)]) == 2
    assert "CF-E201" in capsys.readouterr().err
