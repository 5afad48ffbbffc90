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
    out, err = capsys.readouterr()
    assert "CF-E201" in err and "bad.flow.yaml:4:" in err
    assert last_json(out)["error"]["Code"] == "CF-E201"  # --json on exit 2, both engines (issue 15)
    assert main(["run", str(bad).replace("bad.flow", "nope.flow"), "--engine", "airflow", "--json"]) == 2
    assert last_json(capsys.readouterr().out)["error"]["Code"] == "CF-E105"
    good = tmp_path / "good.flow.yaml"
    good.write_text(PASS_FLOW)
    assert main(["run", str(good), "--engine", "airflow", "--input", '{"x": NaN}', "--json"]) == 2
    assert last_json(capsys.readouterr().out)["error"]["Code"] == "CLI.InvalidArgument"


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


# ---------------------------------------------------------------------- hostile input (issue 14)

def strict_last_json(out: str) -> dict:
    """The last line, parsed as standard JSON only (``NaN``/``Infinity`` fail the test)."""
    from airflow_cloudflow.jsonvalues import loads_strict

    return loads_strict(out.strip().splitlines()[-1])


@pytest.mark.parametrize("value, reason", [
    ('{"x": NaN}', "NaN"),
    ('{"x": -Infinity}', "Infinity"),
    ('{"x": 1e400}', "beyond the range of a double"),
    ('{"x": ' + "9" * 4301 + "}", "4300 digits"),
    ('{"x": ' + "[" * 1000 + "]" * 1000 + "}", "nested deeper than 200"),
])
def test_non_standard_input_is_refused_with_a_json_line(tmp_path, capsys, value, reason):
    data = write(tmp_path, "in.json", value)
    for given in (value, "@" + data):
        assert main(["run", write(tmp_path, "a.flow.yaml", PASS_FLOW), "--input", given, "--json"]) == 2
        out, err = capsys.readouterr()
        assert reason in err and "Traceback" not in err
        assert strict_last_json(out)["error"]["Code"] == "CLI.InvalidArgument"


def test_input_file_that_is_not_utf8_exit_2(tmp_path, capsys):
    data = tmp_path / "in.json"
    data.write_bytes(b'{"name": "\xff"}')
    assert main(["run", write(tmp_path, "a.flow.yaml", PASS_FLOW), "--input", f"@{data}", "--json"]) == 2
    out, err = capsys.readouterr()
    assert "not UTF-8" in err and strict_last_json(out)["status"] == "Failed"


def test_inline_input_that_is_not_utf8_exit_2(tmp_path):
    flow = write(tmp_path, "a.flow.yaml", PASS_FLOW)
    proc = subprocess.run([sys.executable, "-m", "airflow_cloudflow.cli", "run", flow, "--input", b'{"name": "\xff"}',
                           "--json"], capture_output=True, cwd=REPO_ROOT, timeout=120, env={"LC_ALL": "C.UTF-8",
                                                                                      "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2, proc.stderr
    assert b"not UTF-8" in proc.stderr and b"Traceback" not in proc.stderr
    assert strict_last_json(proc.stdout.decode())["error"]["Code"] == "CLI.InvalidArgument"


def test_invalid_definition_prints_the_json_object_too(tmp_path, capsys):
    path = write(tmp_path, "bad.flow.yaml", PASS_FLOW.replace("End: true", "Next: Nowhere"))
    assert main(["run", path, "--json"]) == 2
    out, err = capsys.readouterr()
    result = strict_last_json(out)
    assert result["status"] == "Failed" and result["output"] is None
    assert result["error"]["Code"] == "CF-E202" and err.strip() in result["error"]["Detail"]


@pytest.mark.parametrize("name, text, code", [
    ("empty.asl.json", '{"StartAt": "A", "States": {}}', "CF-E110"),
    ("branch.asl.json", '{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, '
                        '"Branches": [{"StartAt": "X", "States": {}}]}}}', "CF-E110"),
    ("ee.asl.json", '{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",'
                    ' "End": true, "Catch": [{"ErrorEquals": 5, "Next": "A"}]}}}', "CF-E110"),
    ("nan.asl.json", '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": NaN, "End": true}}}', "CF-E106"),
    ("big.asl.json", '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": ' + "9" * 5000 + ', "End": true}}}',
     "CF-E106"),
    ("timeout.asl.json", '{"StartAt": "A", "TimeoutSeconds": 100000000000000, '
                         '"States": {"A": {"Type": "Pass", "End": true}}}', "ASL-E321"),
    ("timeout.flow.yaml", PASS_FLOW.replace("StartAt:", "Timeout: 100000000000000\nStartAt:"), "CF-E311"),
    ("nan.flow.yaml", PASS_FLOW.replace("greeting.$:", "n: .nan\n      greeting.$:"), "CF-E106"),
])
def test_definitions_that_used_to_crash_are_coded_errors(tmp_path, capsys, name, text, code):
    path = write(tmp_path, name, text)
    assert main(["lint", path]) == 1
    assert code in capsys.readouterr().out
    assert main(["run", path, "--json"]) == 2
    out, err = capsys.readouterr()
    assert strict_last_json(out)["error"]["Code"] == code and "Traceback" not in err
    assert main(["render", path]) == 2
    assert code in capsys.readouterr().err


def test_definition_that_is_not_utf8_is_cf_e105_for_run_and_render(tmp_path, capsys):
    path = tmp_path / "bad.flow.yaml"
    path.write_bytes(PASS_FLOW.replace("hello", "h\xe9llo").encode("latin-1"))
    assert main(["run", str(path), "--json"]) == 2
    out, err = capsys.readouterr()
    assert strict_last_json(out)["error"]["Code"] == "CF-E105" and "not UTF-8" in err
    assert main(["render", str(path)]) == 2
    assert "CF-E105" in capsys.readouterr().err


def test_output_is_never_written_with_nan(tmp_path, capsys, monkeypatch):
    """An integration answering ``NaN`` (Python's reader accepts it from a server) or a 5,000-digit
    integer: the run fails with a coded error instead of printing non-JSON."""
    from airflow_cloudflow.runtime.interpreter import ExecutionResult, Interpreter

    for output, code in ((float("nan"), 1), ({"big": 10 ** 5000}, 1)):
        monkeypatch.setattr(Interpreter, "execute", lambda self, *a, _o=output, **k: ExecutionResult("Succeeded", _o))
        for dialect, name, expected in (("cloudflow", "a.flow.yaml", "FnF.RuntimeError"),
                                        ("asl", "a.asl.json", "States.Runtime")):
            text = PASS_FLOW if dialect == "cloudflow" else '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}'
            path = write(tmp_path, name, text)
            assert main(["run", path, "--json"]) == code
            out = capsys.readouterr().out
            assert "NaN" not in out
            assert strict_last_json(out)["error"]["Code"] == expected
            assert main(["run", path]) == code
            assert "not standard JSON" in capsys.readouterr().out


def test_mocks_file_with_nan_is_refused(tmp_path, capsys):
    mocks = write(tmp_path, "m.json", '{"arn": {"behaviour": "constant", "value": NaN}}')
    assert main(["run", write(tmp_path, "a.flow.yaml", PASS_FLOW), "--mocks", mocks, "--json"]) == 2
    assert "NaN" in capsys.readouterr().err


def test_result_writer_prefix_equal_to_an_existing_object_is_a_coded_error(tmp_path, capsys):
    flow = """Type: StateMachine
Name: rw
SpecVersion: v1
StartAt: M
States:
  - Name: M
    Type: Map
    ProcessorConfig:
      ExecutionMode: Express
    ItemsPath: $Input.items
    Processor:
      StartAt: P
      States:
        - {Name: P, Type: Pass, End: true}
    ResultWriter:
      Parameters:
        Bucket: out
        Prefix: taken
    End: true
"""
    store = tmp_path / "store"
    (store / "out").mkdir(parents=True)
    (store / "out" / "taken").write_text("an object")
    code = main(["run", write(tmp_path, "rw.flow.yaml", flow), "--store", str(store), "--input", '{"items": [1]}',
                 "--json"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    error = strict_last_json(out)["error"]
    assert error["Code"] == "FnF.ResultWriterFailed" and "prefix" in error["Detail"]


def test_the_backstop_turns_an_unexpected_exception_into_the_contract(tmp_path, capsys, monkeypatch):
    from airflow_cloudflow.runtime.interpreter import Interpreter

    def explode(self, *args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(Interpreter, "execute", explode)
    assert main(["run", write(tmp_path, "a.flow.yaml", PASS_FLOW), "--json"]) == 1
    out, err = capsys.readouterr()
    assert strict_last_json(out)["error"] == {"Code": "CloudFlow.InternalError", "Detail": "ZeroDivisionError: a bug"}
    assert "Traceback" not in err and "CloudFlow.InternalError" in err
