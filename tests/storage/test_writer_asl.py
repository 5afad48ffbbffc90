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
