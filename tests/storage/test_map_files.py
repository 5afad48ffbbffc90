"""``StoreResolver`` as the runtime's ``MapStorage`` port: ItemReader items in, ResultWriter files out."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from airflow_cloudflow.runtime.records import FAILED, SUCCEEDED, ChildExecution
from airflow_cloudflow.storage.resolver import StoreResolver

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def children():
    return [ChildExecution.make("c-0", 0, SUCCEEDED, {"n": 0}, {"ok": 0}, None, None, T0, T0, 0, 1),
            ChildExecution.make("c-1", 1, FAILED, {"n": 1}, None, "E", "boom", T0, T0, 1, 1)]


def test_cloudflow_items_stream_from_the_store(tmp_path):
    (tmp_path / "bkt").mkdir()
    (tmp_path / "bkt" / "rows.csv").write_text("id,name\n1,a\n2,b\n3,c\n")
    stores = StoreResolver.local(tmp_path)
    items = stores.read_cloudflow_items(stores.for_scheme("oss"), "OSS_CSV", {"Bucket": "bkt", "ObjectName": "rows.csv"},
                                        csv_headers=None, max_items=2)
    assert list(items) == [{"id": "1", "name": "a"}, {"id": "2", "name": "b"}]


def test_cloudflow_results_return_the_manifest_key_they_wrote(tmp_path):
    (tmp_path / "out").mkdir()
    stores = StoreResolver.local(tmp_path)
    key = stores.write_cloudflow_results(stores.for_scheme("oss"), bucket="out", prefix="res", map_run_name="run1",
                                         flow_name="f", children=children())
    manifest = json.loads((tmp_path / "out" / key).read_text())
    assert key.endswith("manifest.json") and manifest["MapRunName"] == "run1"
    assert [entry for entry in manifest["ResultFiles"]] == ["FAILED", "SUCCEED"]


def test_asl_items_and_results(tmp_path):
    (tmp_path / "bkt").mkdir()
    (tmp_path / "bkt" / "items.json").write_text(json.dumps([{"a": 1}, {"a": 2}]))
    stores = StoreResolver.local(tmp_path)
    s3 = stores.for_scheme("s3")
    items = stores.read_asl_items(s3, "arn:aws:states:::s3:getObject", {"Bucket": "bkt", "Key": "items.json"},
                                  {"InputType": "JSON"}, max_items=None)
    assert list(items) == [{"a": 1}, {"a": 2}]
    arn = "arn:aws:states:us-east-1:123456789012:mapRun:m/M:5f2a7c1e-0000-4000-8000-000000000000"
    written = stores.write_asl_results(s3, bucket="bkt", prefix="out", map_run_arn=arn, children=children())
    details = written["ResultWriterDetails"]
    assert details["Bucket"] == "bkt" and (tmp_path / "bkt" / details["Key"]).is_file()
