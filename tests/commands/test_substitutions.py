"""``--substitutions FILE`` and the sidecar's ``definition_substitutions:`` in lint / run / render."""

from __future__ import annotations

import json

from airflow_cloudflow.cli import main

TEMPLATE = ('{"StartAt": "W", "States": {\n'
            '  "W": {"Type": "Wait", "Seconds": ${Delay}, "Next": "P"},\n'
            '  "P": {"Type": "Pass", "Result": "${Greeting}", "End": true}}}\n')


def _definition(tmp_path, sidecar: str | None = None):
    path = tmp_path / "hello.asl.json"
    path.write_text(TEMPLATE)
    if sidecar is not None:
        (tmp_path / "hello.airflow.yaml").write_text(sidecar)
    return str(path)


def test_lint_without_values_reports_each_placeholder_once(tmp_path, capsys):
    path = _definition(tmp_path)
    assert main(["lint", path]) == 1
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" unresolved")[0] for line in out] == [f"{path}:2:36: CF-E130", f"{path}:3:36: CF-E130"]


def test_lint_picks_up_the_sidecar_and_the_file_adds_to_it(tmp_path, capsys):
    path = _definition(tmp_path, "definition_substitutions:\n  Delay: 1\n")
    values = tmp_path / "values.yaml"
    values.write_text("Greeting: hi\n")
    assert main(["lint", path, "--substitutions", str(values)]) == 0
    assert capsys.readouterr().out == ""


def test_lint_reports_a_bad_substitutions_file_at_its_own_path(tmp_path, capsys):
    path = _definition(tmp_path, "definition_substitutions:\n  Delay: [1]\n")
    assert main(["lint", path]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'hello.airflow.yaml'}:1:1: CF-E110 definition_substitutions: Delay: expected a string" in out


def test_run_and_render_use_the_file(tmp_path, capsys):
    path = _definition(tmp_path)
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"Delay": 0, "Greeting": "hello"}))
    assert main(["run", path, "--substitutions", str(values), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["output"] == "hello"
    assert main(["render", path, "--substitutions", str(values)]) == 0
    assert json.loads(capsys.readouterr().out)["dag_id"] == "hello"
    assert main(["render", path]) == 2
    assert "CF-E130" in capsys.readouterr().err


def test_a_substitutions_file_that_is_not_a_mapping_is_a_usage_error(tmp_path, capsys):
    path = _definition(tmp_path)
    values = tmp_path / "values.yaml"
    values.write_text("- Delay\n")
    assert main(["run", path, "--substitutions", str(values)]) == 2
    assert f"{values}:1:1: CF-E110 substitutions: expected a mapping" in capsys.readouterr().err
    assert main(["lint", path, "--substitutions", str(tmp_path / "missing.yaml")]) == 1
    assert "CF-E105 cannot read substitutions file" in capsys.readouterr().out
