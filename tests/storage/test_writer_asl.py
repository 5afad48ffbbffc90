"""ASL ResultWriter through every backend."""

import json
from datetime import datetime, timezone

import pytest

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.runtime.records import ChildExecution
from airflow_cloudflow.storage.writers.asl import write_results

ARN = "arn:aws:states:us-east-1:111111111111:mapRun:sm/TestMap:0f8e-uuid"
T = datetime(2025, 2, 4, 1, 49, 50, 99000, tzinfo=timezone.utc)


def kid(i, status="Succeeded"):
    return ChildExecution(name=f"c{i}", index=i, status=status, input={"i": i, "s": "é<"}, output={"r": i} if status == "Succeeded" else None,
                          error_code=None if status == "Succeeded" else "States.TaskFailed", error_detail="boom", started=T, stopped=T)


def read(backend, key):
    with backend.store.open(backend.bucket, key) as fh:
        return json.loads(fh.read())


def test_layout_manifest_and_records(backend):
    out = write_results(backend.store, bucket=backend.bucket, prefix="mapJobs", map_run_arn=ARN,
                        children=[kid(0), kid(1, "Failed"), kid(2, "Pending")])
    assert out["ResultWriterDetails"] == {"Bucket": backend.bucket, "Key": "mapJobs/0f8e-uuid/manifest.json"}
    manifest = read(backend, "mapJobs/0f8e-uuid/manifest.json")
    assert manifest == out["manifest"] and manifest["MapRunArn"] == ARN
    files = manifest["ResultFiles"]
    assert [e["Key"] for e in files["SUCCEEDED"]] == ["mapJobs/0f8e-uuid/SUCCEEDED_0.json"]
    assert [e["Key"] for e in files["FAILED"]] == ["mapJobs/0f8e-uuid/FAILED_0.json"]
    assert [e["Key"] for e in files["PENDING"]] == ["mapJobs/0f8e-uuid/PENDING_0.json"]
    [ok] = read(backend, "mapJobs/0f8e-uuid/SUCCEEDED_0.json")
    assert ok["Input"] == '{"i":0,"s":"é<"}' and ok["Output"] == '{"r":0}' and ok["Status"] == "SUCCEEDED"
    assert ok["ExecutionArn"] == "arn:aws:states:us-east-1:111111111111:execution:sm/TestMap:c0"
    assert ok["StateMachineArn"] == "arn:aws:states:us-east-1:111111111111:stateMachine:sm/TestMap"
    assert ok["StartDate"] == "2025-02-04T01:49:50.099Z"
    [bad] = read(backend, "mapJobs/0f8e-uuid/FAILED_0.json")
    assert (bad["Error"], bad["Cause"], bad["Status"]) == ("States.TaskFailed", "boom", "FAILED") and "Output" not in bad


def test_empty_status_lists_and_bad_arn(backend):
    out = write_results(backend.store, bucket=backend.bucket, prefix="", map_run_arn=ARN, children=[kid(0)])
    assert out["manifest"]["ResultFiles"]["FAILED"] == [] and out["manifest"]["ResultFiles"]["PENDING"] == []
    with pytest.raises(FlowError) as err:
        write_results(backend.store, bucket=backend.bucket, prefix="", map_run_arn="arn:nope", children=[])
    assert err.value.code == "States.ResultWriterFailed"


def _local(tmp_path):
    from airflow_cloudflow.storage.local import LocalStore

    store = LocalStore(tmp_path, scheme="s3")
    store.create_bucket("bkt")
    return store


def test_lone_surrogate_is_written_as_replacement_character(tmp_path):
    store = _local(tmp_path)
    child = ChildExecution(name="c0", index=0, status="Succeeded", input={"s": "\ud800"}, output="x\udc00",
                           started=T, stopped=T)
    out = write_results(store, bucket="bkt", prefix="p", map_run_arn=ARN, children=[child])
    key = out["manifest"]["ResultFiles"]["SUCCEEDED"][0]["Key"]
    record = json.loads(store.open("bkt", key).read())[0]
    assert record["Input"] == '{"s":"\ufffd"}' and record["Output"] == '"x\ufffd"'


def test_nan_output_is_the_writer_error(tmp_path):
    child = ChildExecution(name="c0", index=0, status="Succeeded", input={}, output=float("nan"), started=T, stopped=T)
    with pytest.raises(FlowError) as err:
        write_results(_local(tmp_path), bucket="bkt", prefix="p", map_run_arn=ARN, children=[child])
    assert err.value.code == "States.ResultWriterFailed" and "c0" in err.value.detail


# --------------------------------------------------------------------------- WriterConfig with a Resource


def kid_out(i, output, status="Succeeded"):
    child = kid(i, status)
    return ChildExecution(**{**child.__dict__, "output": output}) if status == "Succeeded" else child


def _text(backend, key):
    with backend.store.open(backend.bucket, key) as fh:
        return fh.read().decode("utf-8")


@pytest.mark.parametrize("how, expected", [
    ("COMPACT", [{"r": 0}, [1, 2], []]),
    ("FLATTEN", [{"r": 0}, 1, 2]),
])
def test_compact_and_flatten_write_the_outputs_and_failed_children_stay_full_records(backend, how, expected):
    children = [kid_out(0, {"r": 0}), kid_out(1, [1, 2]), kid_out(2, []), kid(3, "Failed")]
    out = write_results(backend.store, bucket=backend.bucket, prefix="p", map_run_arn=ARN, children=children,
                        writer_config={"OutputType": "JSON", "Transformation": how})
    files = out["manifest"]["ResultFiles"]
    assert read(backend, files["SUCCEEDED"][0]["Key"]) == expected
    [bad] = read(backend, files["FAILED"][0]["Key"])
    assert bad["Status"] == "FAILED" and bad["Name"] == "c3"


def test_jsonl_output_is_one_value_per_line_in_jsonl_files(backend):
    children = [kid_out(0, {"r": 0}), kid_out(1, [1, 2]), kid(2, "Failed")]
    out = write_results(backend.store, bucket=backend.bucket, prefix="p", map_run_arn=ARN, children=children,
                        writer_config={"OutputType": "JSONL", "Transformation": "FLATTEN"})
    files = out["manifest"]["ResultFiles"]
    assert files["SUCCEEDED"][0]["Key"] == "p/0f8e-uuid/SUCCEEDED_0.jsonl"
    assert _text(backend, files["SUCCEEDED"][0]["Key"]) == '{"r":0}\n1\n2\n'
    [line] = _text(backend, files["FAILED"][0]["Key"]).splitlines()
    assert json.loads(line)["Status"] == "FAILED"
    none = write_results(backend.store, bucket=backend.bucket, prefix="n", map_run_arn=ARN, children=children[:1],
                         writer_config={"OutputType": "JSONL"})
    [record] = _text(backend, none["manifest"]["ResultFiles"]["SUCCEEDED"][0]["Key"]).splitlines()
    assert json.loads(record)["Output"] == '{"r":0}'


def test_flatten_of_empty_outputs_only_writes_no_file(backend):
    out = write_results(backend.store, bucket=backend.bucket, prefix="e", map_run_arn=ARN, children=[kid_out(0, [])],
                        writer_config={"Transformation": "FLATTEN"})
    assert out["manifest"]["ResultFiles"]["SUCCEEDED"] == []


def test_express_children_get_express_execution_arns(tmp_path):
    """``ExecutionType: EXPRESS``: ``arn:…:express:<machine>/<label>:<map run>:<child>``."""
    from airflow_cloudflow.storage.local import LocalStore

    store = LocalStore(tmp_path)
    store.create_bucket("out")
    write_results(store, bucket="out", prefix="", map_run_arn=ARN, children=[kid(0)], express=True)
    manifest = read(type("B", (), {"store": store, "bucket": "out"}), "0f8e-uuid/manifest.json")
    record = read(type("B", (), {"store": store, "bucket": "out"}), manifest["ResultFiles"]["SUCCEEDED"][0]["Key"])[0]
    assert record["ExecutionArn"] == "arn:aws:states:us-east-1:111111111111:express:sm/TestMap:0f8e-uuid:c0"
    assert record["StateMachineArn"] == "arn:aws:states:us-east-1:111111111111:stateMachine:sm/TestMap"
