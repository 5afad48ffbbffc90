"""``airflow-cloudflow lint``: output format, folder search, exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_cloudflow.cli import main
from tests.conftest import CLOUDFLOW_CASES_DIR, REPO_ROOT

VALID = json.loads((CLOUDFLOW_CASES_DIR / "doc_minimal_pass.json").read_text())["definition_yaml"]
INVALID = "Type: StateMachine\nName: f\nSpecVersion: v1\nStartAt: A\nStates:\n  - Type: Pass\n    Name: A\n    Next: Nope\n"
WARNING_ONLY = VALID.replace("Type: Pass", "Type: Map\n    ItemsPath: $Input.items\n    MaxConcuccency: 3\n"
                             "    Processor:\n      StartAt: P\n      States:\n        - Type: Pass\n"
                             "          Name: P\n          End: true", 1)


def test_valid_file_exits_0_and_prints_nothing(tmp_path, capsys):
    path = tmp_path / "ok.flow.yaml"
    path.write_text(VALID)
    assert main(["lint", str(path)]) == 0
    assert capsys.readouterr().out == ""


def test_error_prints_path_line_col_code_and_exits_1(tmp_path, capsys):
    path = tmp_path / "bad.flow.yaml"
    path.write_text(INVALID)
    assert main(["lint", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{path}:8:5: CF-E202 Next 'Nope' of state 'A' names no state"]


def test_warnings_are_printed_but_exit_0(tmp_path, capsys):
    path = tmp_path / "warn.flow.yaml"
    path.write_text(WARNING_ONLY)
    assert main(["lint", str(path)]) == 0
    out = capsys.readouterr().out
    assert "CF-W003" in out and "CF-E" not in out


def test_folder_is_searched_recursively_for_definition_patterns_only(tmp_path, capsys):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.flow.yml").write_text(INVALID)
    (tmp_path / "top.flow.yaml").write_text(VALID)
    (tmp_path / "ignored.yaml").write_text(INVALID)
    (tmp_path / "notes.txt").write_text("not yaml: [")
    assert main(["lint", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "deep.flow.yml:8:5: CF-E202" in out
    assert "ignored.yaml" not in out and "notes.txt" not in out


def test_explicit_file_is_linted_whatever_its_extension(tmp_path, capsys):
    path = tmp_path / "definition.txt"
    path.write_text(INVALID)
    assert main(["lint", str(path)]) == 1
    assert "CF-E202" in capsys.readouterr().out


def test_missing_path_is_a_usage_error(tmp_path, capsys):
    assert main(["lint", str(tmp_path / "nope.flow.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_no_path_at_all_is_a_usage_error():
    with pytest.raises(SystemExit) as exc:
        main(["lint"])
    assert exc.value.code == 2


def test_several_paths_and_the_conformance_corpus_lint_clean(tmp_path, capsys):
    path = tmp_path / "ok.flow.yaml"
    path.write_text(VALID)
    assert main(["lint", str(path), str(path)]) == 0


def test_console_script_runs_as_a_subprocess(tmp_path):
    bad = tmp_path / "bad.flow.yaml"
    bad.write_text(INVALID)
    good = tmp_path / "good.flow.yaml"
    good.write_text(VALID)
    script = Path(sys.executable).parent / "airflow-cloudflow"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "airflow_cloudflow.cli"]
    done = subprocess.run(cmd + ["lint", str(bad)], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert done.returncode == 1
    assert f"{bad}:8:5: CF-E202" in done.stdout
    done = subprocess.run(cmd + ["lint", str(good)], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert (done.returncode, done.stdout) == (0, "")
