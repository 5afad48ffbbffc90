"""``run --redrive MANIFEST``: the CLI redrives an earlier Map Run from its ResultWriter output.

The Map's Task calls a local HTTP server standing for the called function (``ChargeFunction``, it
counts the calls per order): buggy at first, it fails on negative amounts; then it is fixed and the
Map Run is redriven.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_cloudflow.cli import main
from tests.integrations.local_http import LocalHttpServer
from tests.support.charge_function import ChargeFunction

ROWS, BAD = 30, {4, 17, 25}

FLOW = """Type: StateMachine
Name: charge_orders
SpecVersion: v1
StartAt: Orders
States:
  - Type: Map
    Name: Orders
    ProcessorConfig: {ExecutionMode: Express}
    ItemReader:
      SourceType: OSS_CSV
      SourceParameters: {Bucket: data, ObjectName: orders.csv}
    ItemConstructor:
      id.$: $Item.id
      amount.$: stringToJson($Item.amount)
      url.$: $Input.url
    MaxConcurrency: 4
    ToleratedFailureCount: 5
    Processor:
      StartAt: Charge
      States:
        - Type: Task
          Name: Charge
          Action: HTTP:Request
          Parameters:
            method: POST
            url.$: $Input.url
            body:
              id.$: $Input.id
              amount.$: $Input.amount
          End: true
    ResultWriter:
      Parameters: {Bucket: data, Prefix: results/}
    End: true
"""
ASL = {
    "StartAt": "Orders",
    "States": {"Orders": {
        "Type": "Map", "End": True, "ToleratedFailureCount": 0,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                       "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                       "Parameters": {"Bucket": "data", "Key": "orders.csv"}},
        "ItemSelector": {"id.$": "$$.Map.Item.Value.id", "amount.$": "$$.Map.Item.Value.amount"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                          "StartAt": "Charge",
                          "States": {"Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:charge", "End": True}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "data", "Prefix": "asl/"}},
    }},
}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    rows = ["id,amount"] + [f"o{i:02d},{-1 if i in BAD else i}" for i in range(ROWS)]
    (tmp_path / "data" / "orders.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def run(capsys, *args: str) -> tuple[int, dict]:
    code = main(["run", *args, "--json"])
    return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def records(store: Path, manifest: dict, entry_key: str) -> dict[str, list[dict]]:
    return {status: [r for f in files for r in json.loads((store / "data" / f[entry_key]).read_text())]
            for status, files in manifest["ResultFiles"].items()}


def test_a_redrive_reruns_only_the_failed_children_and_rewrites_the_results(store, tmp_path, capsys):
    flow = tmp_path / "charge.flow.yaml"
    flow.write_text(FLOW.replace("ToleratedFailureCount: 5", "ToleratedFailureCount: 0"))
    function = ChargeFunction()
    with LocalHttpServer(function) as server:
        given = json.dumps({"url": server.url + "/charge"})
        code, first = run(capsys, str(flow), "--input", given, "--store", str(store))
        assert code == 1 and first["error"]["Code"] == "FnF.ExceedToleratedFailureThreshold"
        manifest_key = next((store / "data" / "results").glob("*/manifest.json")).relative_to(store / "data")
        before = dict(function.calls)
        function.fixed = True
        code, second = run(capsys, str(flow), "--input", given, "--store", str(store),
                           "--redrive", f"oss://data/{manifest_key}")
    assert code == 0, second
    assert second["output"]["ResultWriterDetails"]["Key"] == str(manifest_key)  # the same Map Run, rewritten
    manifest = json.loads((store / "data" / manifest_key).read_text())
    result = records(store, manifest, "ObjectName")
    assert result["FAILED"] == [] and sorted(json.loads(r["Input"])["id"] for r in result["SUCCEED"]) == [
        f"o{i:02d}" for i in range(ROWS)]
    failed_before = {f"o{i:02d}" for i in BAD} & set(before)
    assert failed_before
    for order, calls in function.calls.items():
        expected = before.get(order, 0) + (order in failed_before or order not in before)
        assert calls == expected, order  # the failed and the unstarted ran once more; successes never


def test_an_asl_redrive_counts_redrives_in_its_records(store, tmp_path, capsys):
    machine = tmp_path / "charge.asl.json"
    machine.write_text(json.dumps(ASL))
    broken, fixed = tmp_path / "broken.json", tmp_path / "fixed.json"
    lam = "arn:aws:lambda:us-east-1:123456789012:function:charge"
    broken.write_text(json.dumps({lam: {"behaviour": "fail", "code": "Lambda.Boom", "detail": "buggy"}}))
    fixed.write_text(json.dumps({lam: {"behaviour": "identity"}}))
    code, first = run(capsys, str(machine), "--store", str(store), "--mocks", str(broken))
    assert code == 1 and first["error"]["Code"] == "States.ExceedToleratedFailureThreshold"
    manifest_key = next((store / "data" / "asl").glob("*/manifest.json")).relative_to(store / "data")
    code, second = run(capsys, str(machine), "--store", str(store), "--mocks", str(fixed),
                       "--redrive", f"oss://data/{manifest_key}")
    assert code == 0, second
    result = records(store, json.loads((store / "data" / manifest_key).read_text()), "Key")
    assert result["FAILED"] == [] and result["SUCCEEDED"]
    assert {r["RedriveCount"] for r in result["SUCCEEDED"]} == {1}


def test_redrive_needs_a_readable_manifest_and_the_interpreter(store, tmp_path, capsys):
    flow = tmp_path / "charge.flow.yaml"
    flow.write_text(FLOW)
    code = main(["run", str(flow), "--store", str(store), "--redrive", "oss://data/results/none/manifest.json"])
    assert code == 2 and "--redrive" in capsys.readouterr().err
    code = main(["run", str(flow), "--engine", "airflow", "--redrive", "oss://data/x/manifest.json"])
    assert code == 2 and "Clear" in capsys.readouterr().err
