"""``InputType: PARQUET`` (the optional ``parquet`` extra, installed in the locked test environment)."""

from __future__ import annotations

import datetime
import io

import pytest

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow import extras
from airflow_cloudflow.storage.readers import parquet
from airflow_cloudflow.storage.readers.asl import GET_OBJECT, LIST_OBJECTS_V2, read_items

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def _parquet(table, row_group_size=None) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out, row_group_size=row_group_size)
    return out.getvalue()


def test_one_item_per_row_in_file_order_across_row_groups(backend):
    table = pa.table({"id": list(range(2500)), "name": [f"n{i}" for i in range(2500)]})
    backend.put("rows.parquet", _parquet(table, row_group_size=700))
    items = list(read_items(backend.store, GET_OBJECT, {"Bucket": backend.bucket, "Key": "rows.parquet"},
                            {"InputType": "PARQUET"}, max_items=2001))
    assert len(items) == 2001 and items[0] == {"id": 0, "name": "n0"} and items[-1] == {"id": 2000, "name": "n2000"}


def test_values_become_json(backend):
    table = pa.table({
        "when": pa.array([datetime.datetime(2024, 1, 2, 3, 4, 5)], pa.timestamp("ms")),
        "day": pa.array([datetime.date(2024, 1, 2)]),
        "tags": pa.array([["a", "b"]]),
        "point": pa.array([{"x": 1.5, "y": None}]),
        "blob": pa.array([b"\x00\x01"]),
        "flag": pa.array([True]),
    })
    backend.put("t.parquet", _parquet(table))
    assert list(read_items(backend.store, GET_OBJECT, {"Bucket": backend.bucket, "Key": "t.parquet"},
                           {"InputType": "PARQUET"})) == [{
        "when": "2024-01-02T03:04:05", "day": "2024-01-02", "tags": ["a", "b"], "point": {"x": 1.5, "y": None},
        "blob": "AAE=", "flag": True}]


def test_load_and_flatten_reads_parquet_objects(backend):
    backend.put("p/a.parquet", _parquet(pa.table({"n": [1, 2]})))
    backend.put("p/b.parquet", _parquet(pa.table({"n": [3]})))
    got = read_items(backend.store, LIST_OBJECTS_V2, {"Bucket": backend.bucket, "Prefix": "p/"},
                     {"InputType": "PARQUET", "Transformation": "LOAD_AND_FLATTEN"})
    assert list(got) == [{"n": 1}, {"n": 2}, {"n": 3}]


def test_not_parquet_is_a_reader_error(backend):
    backend.put("fake.parquet", b"not parquet at all")
    with pytest.raises(FlowError) as err:
        list(read_items(backend.store, GET_OBJECT, {"Bucket": backend.bucket, "Key": "fake.parquet"}, {"InputType": "PARQUET"}))
    assert err.value.code == "States.ItemReaderFailed" and "as Parquet" in err.value.detail


def test_without_pyarrow_the_run_says_what_to_install(backend, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    assert not extras.parquet_available()
    backend.put("x.parquet", b"PAR1")
    with pytest.raises(FlowError) as err:
        list(read_items(backend.store, GET_OBJECT, {"Bucket": backend.bucket, "Key": "x.parquet"}, {"InputType": "PARQUET"}))
    assert err.value.detail == extras.PARQUET_HINT
