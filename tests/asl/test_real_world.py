"""Definitions in the style of public SAM / CDK / Terraform samples (``tests/asl/real_world``):
templates filled from the sidecar's ``definition_substitutions``, EventBridge Pipes' ``$.[0]``
paths, states named ``Yes``/``No``. They lint clean and run as on AWS."""

from __future__ import annotations

import io
import json
from pathlib import Path

from airflow_cloudflow.cli import main
from airflow_cloudflow.commands import lint

FOLDER = Path(__file__).parent / "real_world"


def _run(capsys, name: str, *extra: str) -> dict:
    code = main(["run", str(FOLDER / name), "--json", *extra])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == (0 if result["status"] == "Succeeded" else 1)
    return result


def test_the_folder_lints_clean_with_its_sidecars_and_folder_defaults():
    out, err = io.StringIO(), io.StringIO()
    assert lint.run([str(FOLDER)], out, err) == lint.EXIT_OK, out.getvalue()
    assert out.getvalue() == ""


def test_a_sam_template_runs_with_its_substitutions(capsys):
    result = _run(capsys, "order_processing.asl.json", "--input", '{"orderId": "o-1"}',
                  "--mocks", str(FOLDER / "order_processing.mocks.json"))
    assert result == {"status": "Succeeded", "output": {"orderId": "o-1", "charged": True}, "error": None}


def test_a_pipes_enrichment_reads_the_batch_with_dot_bracket_paths(capsys):
    batch = [{"messageId": "m-1", "eventSource": "aws:sqs", "body": '{"priority": "high"}'},
             {"messageId": "m-2", "eventSource": "aws:sqs", "body": "{}"}]
    result = _run(capsys, "pipes_enrichment.asl.json", "--input", json.dumps(batch))
    assert result["output"] == {
        "order": {"priority": "high"}, "messageId": "m-1",
        "attributes": ["m-1", "aws:sqs", "m-2", "aws:sqs"], "route": "expedite",
    }


def test_states_named_yes_and_no_in_yaml_are_strings(capsys):
    approved = _run(capsys, "approval.asl.yaml", "--input", '{"approved": true, "ticket": 7}')
    assert approved["output"] == {"decision": "On", "ticket": 7}
    rejected = _run(capsys, "approval.asl.yaml", "--input", '{"approved": false}')
    assert rejected["status"] == "Failed" and rejected["error"]["Code"] == "Rejected"
    assert rejected["error"]["Detail"] == "Off"


def test_writer_config_none_alone_outputs_the_full_execution_records(capsys, tmp_path):
    definition = tmp_path / "records.asl.json"
    definition.write_text(json.dumps({"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, "ResultWriter": {"WriterConfig": {"Transformation": "NONE"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P",
                          "States": {"P": {"Type": "Pass", "End": True}}}}}}))
    code = main(["run", str(definition), "--json", "--input", "[1, 2]"])
    records = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["output"]
    assert code == 0 and [(r["Status"], r["Input"], r["Output"]) for r in records] == [
        ("SUCCEEDED", "1", "1"), ("SUCCEEDED", "2", "2")]
