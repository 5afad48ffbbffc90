"""The ``run`` command: exit codes, ``--json`` contract, inputs, mocks, stores, engines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_cloudflow.cli import main
from tests.conftest import REPO_ROOT
from tests.runtime.conformance import Matcher, check_objects_after, load_cases, seed_store

PASS_FLOW = """Type: StateMachine
Name: hello
SpecVersion: v1
StartAt: Greet
States:
  - Type: Pass
    Name: Greet
    OutputConstructor:
      greeting.$: format('hello {}', $Input.name)
    End: true
"""

FAIL_FLOW = """Type: StateMachine
Name: boom
SpecVersion: v1
StartAt: Stop
States:
  - Type: Fail
    Name: Stop
    Code: Biz.Bad
    Detail: it went wrong
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_json_success(tmp_path, capsys):
    code = main(["run", write(tmp_path, "a.flow.yaml", PASS_FLOW), "--input", '{"name": "Ada"}', "--json"])
    assert code == 0
    assert last_json(capsys.readouterr().out) == {"status": "Succeeded", "output": {"greeting": "hello Ada"}, "error": None}


def test_json_failure_exit_1(tmp_path, capsys):
    code = main(["run", write(tmp_path, "b.flow.yaml", FAIL_FLOW), "--json"])
    assert code == 1
    assert last_json(capsys.readouterr().out) == {
        "status": "Failed", "output": None, "error": {"Code": "Biz.Bad", "Detail": "it went wrong"}}


def test_human_output(tmp_path, capsys):
    assert main(["run", write(tmp_path, "a.flow.yaml", PASS_FLOW), "--input", '{"name": "x"}']) == 0
    assert json.loads(capsys.readouterr().out) == {"greeting": "hello x"}
    assert main(["run", write(tmp_path, "b.flow.yaml", FAIL_FLOW)]) == 1
    out = capsys.readouterr().out
    assert "Stop" in out and "Biz.Bad" in out and "it went wrong" in out


def test_input_from_file(tmp_path, capsys):
    data = write(tmp_path, "in.json", '{"name": "file"}')
    assert main(["run", write(tmp_path, "a.flow.yaml", PASS_FLOW), "--input", "@" + data, "--json"]) == 0
    assert last_json(capsys.readouterr().out)["output"] == {"greeting": "hello file"}


@pytest.mark.parametrize("value", ["{not json", "[1, 2]", "@/nonexistent/input.json"])
def test_bad_input_exit_2(tmp_path, capsys, value):
    assert main(["run", write(tmp_path, "a.flow.yaml", PASS_FLOW), "--input", value, "--json"]) == 2
    assert "input" in capsys.readouterr().err


def test_invalid_definition_exit_2_with_lint_lines(tmp_path, capsys):
    bad = PASS_FLOW.replace("End: true", "Next: Nowhere")
    path = write(tmp_path, "bad.flow.yaml", bad)
    assert main(["run", path, "--json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and all(line.startswith(path + ":") for line in err)


def test_bad_mocks_exit_2(tmp_path, capsys):
    mocks = write(tmp_path, "m.json", '{"arn": {"behaviour": "explode"}}')
    assert main(["run", write(tmp_path, "a.flow.yaml", PASS_FLOW), "--mocks", mocks]) == 2
    assert "behaviour" in capsys.readouterr().err


def test_airflow_engine_lints_before_it_starts_airflow(tmp_path, capsys):
    """``--engine airflow`` goes to ``run_airflow``, which rejects an invalid definition (exit 2,
    lint lines on stderr) before anything of Airflow is imported or started."""
    from airflow_cloudflow.cli import main

    bad = tmp_path / "bad.flow.yaml"
    bad.write_text("Type: StateMachine\nName: bad\nSpecVersion: v1\nStartAt: Nope\nStates:\n  - {Type: Pass, Name: A, End: true}\n")
    assert main(["run", str(bad), "--engine", "airflow", "--json"]) == 2
    err = capsys.readouterr().err
    assert "CF-E201" in err and "bad.flow.yaml:4:" in err


CLI_CASES = [c for c in load_cases() if c["name"] in {
    "seed_result_writer_tolerated_failure_percentage",
    "sem_task_catch_after_retry_exhausted",
    "sem_fail_code_and_detail",
    "seed_item_reader_oss_csv",
    "doc_parallel_branch_outputs",
}]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c["name"] for c in CLI_CASES])
def test_cli_subprocess_contract(case, tmp_path):
    """The real console entry point, as external checks call it."""
    store = tmp_path / "store"
    store.mkdir()
    seed_store(store, case)
    flow = write(tmp_path, "case.flow.yaml", case["definition_yaml"])
    mocks = write(tmp_path, "mocks.json", json.dumps(case.get("functions") or {}))
    proc = subprocess.run(
        [sys.executable, "-m", "airflow_cloudflow.cli", "run", flow, "--input", json.dumps(case["input"]),
         "--mocks", mocks, "--store", str(store), "--json"],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
    )
    expected = case["expected"]
    result = last_json(proc.stdout)
    assert set(result) == {"status", "output", "error"}
    assert result["status"] == expected["status"], proc.stderr
    assert proc.returncode == (0 if expected["status"] == "Succeeded" else 1)
    matcher = Matcher()
    if expected["status"] == "Succeeded":
        assert result["error"] is None
        assert matcher.match(expected["output"], result["output"])
    else:
        assert matcher.match(expected["error"]["Code"], result["error"]["Code"])
    if "oss_objects_after" in expected:
        assert check_objects_after(matcher, store, expected["oss_objects_after"]) == []
