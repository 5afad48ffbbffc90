"""CloudFlow ResultWriter through every backend."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from airflow_cloudflow.exceptions import ErrorCodes, FlowError
from airflow_cloudflow.runtime.records import ChildExecution
from airflow_cloudflow.storage.writers.cloudflow import result_prefix, write_results
from airflow_cloudflow.storage.writers.gojson import go_json

T0 = datetime(2024, 1, 1, 1, 1, 1, 500000, tzinfo=timezone.utc)


def child(i, ok=True, **kw):
    inp = {"Key": i + 1, "FailedValue": 4}
    return ChildExecution(
        name=f"run-{i}", index=i, status="Succeeded" if ok else "Failed", input=inp,
        output=inp if ok else None, error_code=None if ok else "MockError", started=T0, stopped=T0, **kw,
    )


def read_json(backend, key):
    with backend.store.open(backend.bucket, key) as fh:
        return json.loads(fh.read())


def test_seed_layout_and_records(backend):
    children = [child(i, ok=i != 4) for i in range(5)]
    manifest = write_results(backend.store, bucket=backend.bucket, prefix="example-prefix/", map_run_name="run1",
                             flow_name="MyWorkflow", children=children)
    base = "example-prefix/run1"
    assert manifest["DestinationBucket"] == backend.bucket and manifest["MapRunName"] == "run1"
    assert [e["ObjectName"] for e in manifest["ResultFiles"]["SUCCEED"]] == [f"{base}/SUCCEED_0.json"]
    assert [e["ObjectName"] for e in manifest["ResultFiles"]["FAILED"]] == [f"{base}/FAILED_0.json"]
    assert read_json(backend, f"{base}/manifest.json") == manifest
    for entry in manifest["ResultFiles"]["SUCCEED"] + manifest["ResultFiles"]["FAILED"]:
        assert backend.store.head(backend.bucket, entry["ObjectName"]).size == entry["Size"]
    failed = read_json(backend, f"{base}/FAILED_0.json")
    assert failed == [{
        "ExecutionName": "run-4", "FlowName": "MyWorkflow", "Input": '{"FailedValue":4,"Key":5}',
        "Output": '{"ErrorCode":"MockError"}', "Status": "Failed",
        "StartedTime": "2024-01-01T01:01:01Z", "StoppedTime": "2024-01-01T01:01:01Z",
    }]
    succeeded = read_json(backend, f"{base}/SUCCEED_0.json")
    assert [r["Input"] for r in succeeded] == [f'{{"FailedValue":4,"Key":{k}}}' for k in (1, 2, 3, 4)]
    assert all(r["Output"] == r["Input"] and r["Status"] == "Succeeded" for r in succeeded)


@pytest.mark.parametrize("prefix, base", [("example-prefix/", "example-prefix/r"), ("example-prefix", "example-prefix/r"), ("", "r"), ("a/b//", "a/b/r")])
def test_prefix_normalised(prefix, base):
    assert result_prefix(prefix, "r") == base


def test_no_failures_writes_no_failed_file(backend):
    manifest = write_results(backend.store, bucket=backend.bucket, prefix="", map_run_name="r2", flow_name="f",
                             children=[child(0)])
    assert manifest["ResultFiles"]["FAILED"] == []
    assert [e["ObjectName"] for e in manifest["ResultFiles"]["SUCCEED"]] == ["r2/SUCCEED_0.json"]
    assert [i.key for i in backend.store.list(backend.bucket, "r2/")] == ["r2/SUCCEED_0.json", "r2/manifest.json"]


def test_split_at_size_never_splitting_a_record_and_rewrite_is_idempotent(backend):
    children = (child(i) for i in range(30))  # an iterator, streamed
    kwargs = dict(bucket=backend.bucket, prefix="p", map_run_name="r3", flow_name="f", max_file_bytes=1000)
    manifest = write_results(backend.store, children=children, **kwargs)
    files = manifest["ResultFiles"]["SUCCEED"]
    assert len(files) > 3
    assert [f["ObjectName"] for f in files] == [f"p/r3/SUCCEED_{n}.json" for n in range(len(files))]
    records = [r for f in files for r in read_json(backend, f["ObjectName"])]
    assert [r["ExecutionName"] for r in records] == [f"run-{i}" for i in range(30)]
    assert all(f["Size"] <= 1000 for f in files)
    before = {f["ObjectName"]: backend.store.open(backend.bucket, f["ObjectName"]).read() for f in files}
    assert write_results(backend.store, children=[child(i) for i in reversed(range(30))], **kwargs) == manifest
    after = {f["ObjectName"]: backend.store.open(backend.bucket, f["ObjectName"]).read() for f in files}
    assert before == after


def test_oversized_single_record_gets_its_own_file(backend):
    big = ChildExecution(name="big", index=1, status="Succeeded", input={"pad": "x" * 3000}, output=None)
    manifest = write_results(backend.store, bucket=backend.bucket, prefix="p", map_run_name="r4", flow_name="f",
                             children=[child(0), big, child(2)], max_file_bytes=1000)
    assert len(manifest["ResultFiles"]["SUCCEED"]) == 3
    assert read_json(backend, "p/r4/SUCCEED_1.json")[0]["Output"] == "null"


def test_out_of_order_iterator_rejected():
    with pytest.raises(ValueError, match="ascending index order"):
        write_results(None, bucket="bkt", prefix="", map_run_name="r", flow_name="f", children=iter([child(1), child(0)]))


def test_missing_bucket_is_a_result_writer_error(backend):
    with pytest.raises(FlowError) as err:
        write_results(backend.store, bucket="no-such-bucket-y", prefix="p", map_run_name="r", flow_name="f", children=[child(0)])
    assert err.value.code == ErrorCodes.RESULT_WRITER_FAILED
    assert "no-such-bucket-y/p/r/SUCCEED_0.json" in err.value.detail


@pytest.mark.parametrize("prefix, run", [("../up", "r"), ("/abs", "r"), ("p", "a/b"), ("p", "")])
def test_unsafe_targets_rejected(prefix, run):
    with pytest.raises(FlowError) as err:
        write_results(None, bucket="bkt", prefix=prefix, map_run_name=run, flow_name="f", children=[])
    assert err.value.code == ErrorCodes.RESULT_WRITER_FAILED


def test_go_json_matches_go_marshal():
    assert go_json({"b": 1, "a": [True, None, "x"]}) == '{"a":[true,null,"x"],"b":1}'
    assert go_json({"h": "<a href='x'>&</a>"}) == '{"h":"\\u003ca href=\'x\'\\u003e\\u0026\\u003c/a\\u003e"}'
    assert go_json("é\u2028") == '"é\\u2028"'


def _local(tmp_path):
    from airflow_cloudflow.storage.local import LocalStore

    store = LocalStore(tmp_path, scheme="oss")
    store.create_bucket("bkt")
    return store


def test_lone_surrogate_is_written_as_replacement_character(tmp_path):
    store = _local(tmp_path)
    kid = ChildExecution(name="run-0", index=0, status="Succeeded", input={"s": "a\ud800b"}, output={"t": "\udfff"},
                         started=T0, stopped=T0)
    manifest = write_results(store, bucket="bkt", prefix="p", map_run_name="run1", flow_name="F", children=[kid])
    body = store.open("bkt", manifest["ResultFiles"]["SUCCEED"][0]["ObjectName"]).read()
    assert "a\ufffdb".encode() in body and "\ufffd".encode() in body
    record = json.loads(body)[0]
    assert record["Input"] == '{"s":"a\ufffdb"}' and record["Output"] == '{"t":"\ufffd"}'


@pytest.mark.parametrize("output", [float("nan"), float("inf"), {"x": object()}])
def test_non_json_output_is_the_writer_error(tmp_path, output):
    kid = ChildExecution(name="run-0", index=0, status="Succeeded", input={}, output=output, started=T0, stopped=T0)
    with pytest.raises(FlowError) as err:
        write_results(_local(tmp_path), bucket="bkt", prefix="p", map_run_name="run1", flow_name="F", children=[kid])
    assert err.value.code == ErrorCodes.RESULT_WRITER_FAILED and "run-0" in err.value.detail
