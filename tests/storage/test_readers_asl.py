"""ASL ItemReader through every backend, driven by the recorded AWS cases (dmap_item_reader_*)."""

from __future__ import annotations

import gzip
import json

import pytest

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.storage.readers.asl import GET_OBJECT, LIST_OBJECTS_V2, read_items
from tests.conftest import ASL_CASES_DIR
from tests.storage.spy import SpyStore

CASES = sorted((ASL_CASES_DIR / "distributed").glob("dmap_item_reader_*.json"))


def _reader(case):
    for state in case["definition"]["States"].values():
        if "ItemReader" in state:
            return state["ItemReader"]
    raise AssertionError("no ItemReader")


def _simple_cases():
    """Cases whose parameters are plain '$.X' paths and whose MaxItems is a literal or '$.MaxItems'."""
    out = []
    for path in CASES:
        case = json.loads(path.read_text())
        reader = _reader(case)
        if "Arguments" in reader or isinstance((reader.get("ReaderConfig") or {}).get("MaxItems"), str):
            continue  # JSONata: evaluated by the interpreter, not here
        if case["expected"].get("error") == "States.Runtime":
            continue  # raised by the interpreter before reading (MaxItemsPath not an integer)
        out.append(pytest.param(case, id=case["name"]))
    return out


def _max_items(config, case_input):
    if "MaxItemsPath" in config:
        return case_input[config["MaxItemsPath"].removeprefix("$.")]
    return config.get("MaxItems")


@pytest.mark.parametrize("case", _simple_cases())
def test_recorded_case(backend, case):
    for obj in case.get("s3_objects", []):
        backend.put(obj["key"], obj["body"])
    reader = _reader(case)
    params = {}
    for name, value in reader.get("Parameters", {}).items():
        params[name.removesuffix(".$")] = case["input"][value.removeprefix("$.")] if name.endswith(".$") else value
    params["Bucket"] = backend.bucket
    config = dict(reader.get("ReaderConfig") or {})
    expected = case["expected"]
    run = lambda: list(read_items(backend.store, reader["Resource"], params, config, max_items=_max_items(config, case["input"])))  # noqa: E731
    if expected["status"] == "FAILED":
        with pytest.raises(FlowError) as err:
            run()
        assert err.value.code == expected["error"]
        if "cause" in expected:
            assert err.value.detail == expected["cause"]
        return
    got = run()
    if reader["Resource"] == LIST_OBJECTS_V2:
        for item in got:
            assert item["Etag"].startswith('"') and isinstance(item["LastModified"], int)
            item["Etag"], item["LastModified"] = f"<Etag-{item['Key']}>", "<date>"
        got.sort(key=lambda i: i["Key"])
    assert got == expected["output"]


def test_recorded_causes_for_max_items_negative():
    with pytest.raises(FlowError) as err:
        read_items(None, GET_OBJECT, {"Bucket": "bkt", "Key": "k"}, {"InputType": "CSV"}, max_items=-1)
    assert (err.value.code, err.value.detail) == ("States.ItemReaderFailed", "field MaxItems must be positive")


@pytest.mark.parametrize("name, delim", [("PIPE", "|"), ("SEMICOLON", ";"), ("SPACE", " "), ("TAB", "\t"), ("COMMA", ",")])
def test_csv_delimiters(backend, name, delim):
    backend.put("d.csv", f"A{delim}B\n1{delim}2\n")
    cfg = {"InputType": "CSV", "CSVDelimiter": name}
    assert list(read_items(backend.store, GET_OBJECT, {"Bucket": backend.bucket, "Key": "d.csv"}, cfg)) == [{"A": "1", "B": "2"}]


def test_csv_quotes_escapes_and_gzip(backend):
    body = 'A,B\n"x, ""q""","multi\nline"\na\\,b,c\\d\n'
    backend.put("q.csv.gz", gzip.compress(body.encode()))
    got = list(read_items(backend.store, GET_OBJECT, {"Bucket": backend.bucket, "Key": "q.csv.gz"}, {"InputType": "CSV"}))
    assert got == [{"A": 'x, "q"', "B": "multi\nline"}, {"A": "a,b", "B": "cd"}]


def test_jsonl(backend):
    backend.put("l.jsonl", '{"a": 1}\n\n[2]\n"s"\n')
    got = list(read_items(backend.store, GET_OBJECT, {"Bucket": backend.bucket, "Key": "l.jsonl"}, {"InputType": "JSONL"}))
    assert got == [{"a": 1}, [2], "s"]
    backend.put("bad.jsonl", '{"a": 1}\n{oops\n')
    with pytest.raises(FlowError) as err:
        list(read_items(backend.store, GET_OBJECT, {"Bucket": backend.bucket, "Key": "bad.jsonl"}, {"InputType": "JSONL"}))
    assert "line 2" in err.value.detail and "bad.jsonl" in err.value.detail


def test_s3_inventory_manifest(backend):
    data = gzip.compress(b'"src","a.txt","12","2024-01-01T00:00:00.000Z"\n"src","b.txt","3","2024-01-02T00:00:00.000Z"\n')
    backend.put("inv/data/1.csv.gz", data)
    backend.put("inv/manifest.json", json.dumps({
        "sourceBucket": "src", "destinationBucket": f"arn:aws:s3:::{backend.bucket}", "version": "2016-11-30",
        "fileFormat": "CSV", "fileSchema": "Bucket, Key, Size, LastModifiedDate",
        "files": [{"key": "inv/data/1.csv.gz", "size": len(data), "MD5checksum": "x"}]}))
    got = list(read_items(backend.store, GET_OBJECT, {"Bucket": backend.bucket, "Key": "inv/manifest.json"}, {"InputType": "MANIFEST"}))
    assert got == [
        {"Bucket": "src", "Key": "a.txt", "Size": "12", "LastModifiedDate": "2024-01-01T00:00:00.000Z"},
        {"Bucket": "src", "Key": "b.txt", "Size": "3", "LastModifiedDate": "2024-01-02T00:00:00.000Z"},
    ]


def test_missing_object_and_bucket(backend):
    with pytest.raises(FlowError) as err:
        list(read_items(backend.store, GET_OBJECT, {"Bucket": backend.bucket, "Key": "nope.json"}, {"InputType": "JSON"}))
    assert err.value.code == "States.ItemReaderFailed" and "nope.json" in err.value.detail
    with pytest.raises(FlowError) as err:
        list(read_items(backend.store, LIST_OBJECTS_V2, {"Bucket": "no-such-bucket-z"}, None))
    assert "bucket does not exist" in err.value.detail


def test_max_items_stops_early(backend):
    backend.put("big.csv", "n\n" + "".join(f"{i}\n" for i in range(200000)))
    spy = SpyStore(backend.store)
    got = list(read_items(spy, GET_OBJECT, {"Bucket": backend.bucket, "Key": "big.csv"}, {"InputType": "CSV"}, max_items=2))
    assert got == [{"n": "0"}, {"n": "1"}]
    assert spy.streams[0].closed and spy.streams[0].bytes_read < 300_000


def test_unsafe_key_and_bad_config(backend):
    for params, cfg in [({"Bucket": backend.bucket, "Key": "../x"}, {}), ({"Bucket": backend.bucket, "Key": "k"}, {"InputType": "XML"}),
                        ({"Bucket": backend.bucket, "Key": "k"}, {"InputType": "CSV", "CSVHeaderLocation": "GIVEN"})]:
        with pytest.raises(FlowError):
            list(read_items(backend.store, GET_OBJECT, params, cfg))


# ------------------------------------------------------------------ bad objects are reader errors


@pytest.fixture
def local(tmp_path):
    from airflow_cloudflow.storage.local import LocalStore

    store = LocalStore(tmp_path, scheme="s3")
    store.create_bucket("bkt")
    return store


def _error(store, input_type, key="k"):
    with pytest.raises(FlowError) as err:
        list(read_items(store, GET_OBJECT, {"Bucket": "bkt", "Key": key}, {"InputType": input_type}))
    assert err.value.code == "States.ItemReaderFailed"
    return err.value.detail


@pytest.mark.parametrize("input_type", ["JSON", "JSONL"])
def test_deeply_nested_json_is_a_reader_error(local, input_type):
    local.put("bkt", "k", ("[" * 200_000 + "]" * 200_000).encode())
    detail = _error(local, input_type)
    assert "s3://bkt/k" in detail and "nested too deeply" in detail


@pytest.mark.parametrize("input_type, body", [("JSON", b'[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]' * 300),
                                              ("JSONL", b'{"a": 1}\n' * 3000),
                                              ("CSV", b"a,b\n" + b"1,2\n" * 3000)])
def test_corrupt_gzip_is_a_reader_error(local, input_type, body):
    packed = gzip.compress(body)
    local.put("bkt", "k", packed[:20] + bytes(b ^ 0x55 for b in packed[20:60]) + packed[60:])
    detail = _error(local, input_type)
    assert "s3://bkt/k" in detail and "byte offset" in detail


@pytest.mark.parametrize("input_type, body", [("JSON", b'[{"x": NaN}]'), ("JSONL", b'{"x": 1}\n{"x": -Infinity}\n')])
def test_nan_and_infinity_are_refused(local, input_type, body):
    local.put("bkt", "k", body)
    detail = _error(local, input_type)
    assert "is not valid JSON" in detail


def test_jsonl_line_length_is_capped(local, monkeypatch):
    from airflow_cloudflow.storage.readers import streams

    monkeypatch.setattr(streams, "MAX_ELEMENT_CHARS", 1000)
    local.put("bkt", "k", b'{"a": 1}\n"' + b"x" * 5000 + b'"\n')
    detail = _error(local, "JSONL")
    assert "line 2" in detail and "longer than 1000 characters" in detail
    local.put("bkt", "k", b'{"a": 1}\n"' + b"x" * 900 + b'"\n')
    assert list(read_items(local, GET_OBJECT, {"Bucket": "bkt", "Key": "k"}, {"InputType": "JSONL"})) == [{"a": 1}, "x" * 900]


# --------------------------------------------------------------------------- ItemsPointer, LOAD_AND_FLATTEN, defaults


def _get(backend, key, config):
    return list(read_items(backend.store, GET_OBJECT, {"Bucket": backend.bucket, "Key": key}, config))


def test_get_object_without_reader_config_reads_a_json_array(backend):
    backend.put("plain.json", '[{"id": 1}, {"id": 2}]')
    assert _get(backend, "plain.json", None) == [{"id": 1}, {"id": 2}]


def test_items_pointer_selects_a_nested_array(backend):
    backend.put("inv.json.gz", gzip.compress(json.dumps(
        {"inventory": {"products": {"featured": [{"sku": "a"}, {"sku": "b"}], "a/b": [1]}}}).encode()))
    assert _get(backend, "inv.json.gz", {"InputType": "JSON", "ItemsPointer": "/inventory/products/featured"}) == [
        {"sku": "a"}, {"sku": "b"}]
    assert _get(backend, "inv.json.gz", {"InputType": "JSON", "ItemsPointer": "/inventory/products/a~1b"}) == [1]
    for pointer, cause in [("/inventory/none", "selects nothing"), ("/inventory", "non-iterable"),
                           ("inventory", "must be a JSON Pointer")]:
        with pytest.raises(FlowError) as err:
            _get(backend, "inv.json.gz", {"InputType": "JSON", "ItemsPointer": pointer})
        assert err.value.code == "States.ItemReaderFailed" and cause in err.value.detail


def test_load_and_flatten_reads_every_listed_object_and_max_items_counts_its_items(backend):
    backend.put("orders/2024-01.jsonl", '{"n": 1}\n{"n": 2}\n')
    backend.put("orders/2024-02.jsonl", '{"n": 3}\n')
    if backend.server is not None:  # a console "folder" placeholder (a local store cannot hold one)
        backend.put("orders/", b"")
    config = {"InputType": "JSONL", "Transformation": "LOAD_AND_FLATTEN"}
    params = {"Bucket": backend.bucket, "Prefix": "orders/"}
    assert list(read_items(backend.store, LIST_OBJECTS_V2, params, config)) == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert list(read_items(backend.store, LIST_OBJECTS_V2, params, config, max_items=2)) == [{"n": 1}, {"n": 2}]
    with pytest.raises(FlowError) as err:
        list(read_items(backend.store, LIST_OBJECTS_V2, params, {"Transformation": "LOAD_AND_FLATTEN"}))
    assert "needs ReaderConfig.InputType" in err.value.detail
