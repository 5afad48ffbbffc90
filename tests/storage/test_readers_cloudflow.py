"""CloudFlow readers through every backend (local, oss2 over the OSS bridge, boto3 over moto)."""

from __future__ import annotations

import gzip
import json

import pytest

from airflow_cloudflow.exceptions import ErrorCodes, FlowError
from airflow_cloudflow.storage.readers.cloudflow import read_items
from tests.storage.spy import SpyStore


def items(backend, source_type, **params):
    headers = params.pop("csv_headers", None)
    max_items = params.pop("max_items", None)
    return list(read_items(backend.store, source_type, {"Bucket": backend.bucket, **params}, csv_headers=headers, max_items=max_items))


def reader_error(backend, source_type, **params) -> str:
    with pytest.raises(FlowError) as err:
        items(backend, source_type, **params)
    assert err.value.code == ErrorCodes.ITEM_READER_FAILED
    return err.value.detail


# ------------------------------------------------------------------ OSS_CSV


def test_csv_first_row_is_header_values_are_strings(backend):
    backend.put("data.csv", 'ColA,ColB,ColC\ncol_a_1,col_b_1,col_c_1\n1,"two, quoted",""\n')
    assert items(backend, "OSS_CSV", ObjectName="data.csv") == [
        {"ColA": "col_a_1", "ColB": "col_b_1", "ColC": "col_c_1"},
        {"ColA": "1", "ColB": "two, quoted", "ColC": ""},
    ]


def test_csv_given_headers_make_every_row_data(backend):
    backend.put("no-header.csv", "1,apple,3\r\n2,banana,5\r\n")
    assert items(backend, "OSS_CSV", ObjectName="no-header.csv", csv_headers=["id", "fruit", "qty"]) == [
        {"id": "1", "fruit": "apple", "qty": "3"},
        {"id": "2", "fruit": "banana", "qty": "5"},
    ]


def test_csv_trailing_newline_and_blank_lines_add_no_item(backend):
    backend.put("d.csv", "A\n1\n\n2\n\n")
    assert items(backend, "OSS_CSV", ObjectName="d.csv") == [{"A": "1"}, {"A": "2"}]


def test_csv_quoted_newline_and_bom(backend):
    backend.put("d.csv", '\ufeffA,B\n"line1\nline2",x\n'.encode("utf-8"))
    assert items(backend, "OSS_CSV", ObjectName="d.csv") == [{"A": "line1\nline2", "B": "x"}]


def test_csv_header_only_or_empty_gives_no_items(backend):
    backend.put("h.csv", "A,B\n")
    backend.put("e.csv", "")
    assert items(backend, "OSS_CSV", ObjectName="h.csv") == []
    assert items(backend, "OSS_CSV", ObjectName="e.csv") == []


def test_csv_wrong_field_count_names_object_and_line(backend):
    backend.put("bad.csv", "A,B\n1,2\n3\n")
    detail = reader_error(backend, "OSS_CSV", ObjectName="bad.csv")
    assert f"oss://{backend.bucket}/bad.csv" in detail or f"s3://{backend.bucket}/bad.csv" in detail
    assert "line 3" in detail and "1 fields, expected 2" in detail


def test_csv_malformed_quotes(backend):
    backend.put("bad.csv", 'A,B\n"x"y,2\n')
    detail = reader_error(backend, "OSS_CSV", ObjectName="bad.csv")
    assert "malformed CSV" in detail and "line 2" in detail


def test_csv_duplicate_header_fails(backend):
    backend.put("dup.csv", "A,A\n1,2\n")
    assert "duplicate CSV header 'A'" in reader_error(backend, "OSS_CSV", ObjectName="dup.csv")
    backend.put("ok.csv", "1,2\n")
    assert "duplicate" in reader_error(backend, "OSS_CSV", ObjectName="ok.csv", csv_headers=["x", "x"])


def test_csv_not_utf8(backend):
    backend.put("latin.csv", b"A\n\xff\xfe\n")
    assert "not UTF-8" in reader_error(backend, "OSS_CSV", ObjectName="latin.csv")


# ------------------------------------------------------------------ OSS_JSON_LIST


def test_json_list_keeps_types(backend):
    value = [{"s": "x", "n": 1, "f": 1.5, "b": True, "z": None, "a": [1, {"k": "v"}]}, "plain", 3, None]
    backend.put("l.json", json.dumps(value, indent=2))
    assert items(backend, "OSS_JSON_LIST", ObjectName="l.json") == value


def test_json_list_empty_array(backend):
    backend.put("e.json", " [ ] \n")
    assert items(backend, "OSS_JSON_LIST", ObjectName="e.json") == []


@pytest.mark.parametrize("body", ['{"a": [1]}', '"text"', "42", "null"])
def test_json_not_an_array(backend, body):
    backend.put("o.json", body)
    assert "not a JSON array" in reader_error(backend, "OSS_JSON_LIST", ObjectName="o.json")


@pytest.mark.parametrize(
    "body, fragment",
    [("[1, 2", "end of data"), ("[1, }", "malformed JSON"), ("[1 2]", "expected ','"), ("[1] x", "extra data"), ("", "empty")],
)
def test_json_malformed_names_byte_offset(backend, body, fragment):
    backend.put("m.json", body)
    detail = reader_error(backend, "OSS_JSON_LIST", ObjectName="m.json")
    assert fragment in detail and "byte offset" in detail


@pytest.mark.parametrize("body, fragment", [
    ("[1, " + "9" * 4301 + "]", "4300 digits"),
    ("[1, 1e400]", "beyond the range of a double"),
    ("[NaN]", "NaN"),
    ("[" + "[" * 300 + "]" * 300 + "]", "nested deeper than 200"),
])
def test_json_list_element_that_json_cannot_carry_is_a_reader_error(backend, body, fragment):
    """Issue 14: a 4,301-digit integer used to raise ``ValueError`` out of the reader."""
    backend.put("h.json", body)
    detail = reader_error(backend, "OSS_JSON_LIST", ObjectName="h.json")
    assert fragment in detail and "byte offset" in detail


# ------------------------------------------------------------------ OSS_OBJECTS


def test_objects_items_have_the_seed_shape_in_key_order(backend):
    for key, body in [("example-prefix/object_2", "22"), ("example-prefix/object_1", "object_1 content\n"), ("other/x", "x")]:
        backend.put(key, body)
    got = items(backend, "OSS_OBJECTS", Prefix="example-prefix")
    assert [i["Key"] for i in got] == ["example-prefix/object_1", "example-prefix/object_2"]
    first = got[0]
    assert list(first) == ["XMLName", "Key", "Type", "Size", "ETag", "Owner", "LastModified", "StorageClass", "RestoreInfo"]
    assert first["XMLName"] == {"Space": "", "Local": "Contents"}
    assert first["Owner"] == {"XMLName": {"Space": "", "Local": ""}, "ID": "", "DisplayName": ""}
    assert first["Size"] == 17 and first["Type"] == "Normal" and first["RestoreInfo"] == ""
    assert first["ETag"].startswith('"') and first["ETag"].endswith('"') and len(first["ETag"]) == 34
    assert len(first["LastModified"]) == 20 and first["LastModified"].endswith("Z")


def test_objects_without_prefix_lists_the_bucket(backend):
    backend.put("b", "1")
    backend.put("a", "1")
    assert [i["Key"] for i in items(backend, "OSS_OBJECTS")] == ["a", "b"]


# ------------------------------------------------------------------ OSS_INVENTORY_FILES


def _inventory(backend, files: list[tuple[str, str]], schema="Bucket, Key", destination=None):
    entries = []
    for key, rows in files:
        data = gzip.compress(rows.encode("utf-8"), mtime=0)
        backend.put(key, data)
        entries.append({"MD5checksum": "X", "key": key, "size": len(data)})
    manifest = {
        "creationTimestamp": "1704070860",
        "destinationBucket": destination or backend.bucket,
        "fileFormat": "CSV",
        "fileSchema": schema,
        "files": entries,
        "sourceBucket": backend.bucket,
        "version": "2019-09-01",
    }
    backend.put("inventory/manifest.json", json.dumps(manifest))


def test_inventory_file_by_file_named_by_schema(backend):
    _inventory(
        backend,
        [
            ("inventory/data/2.csv.gz", '"b","object_name_1"\n"b","object_name_2"\n'),
            ("inventory/data/1.csv.gz", '"b","object_name_3"\n'),
        ],
    )
    assert items(backend, "OSS_INVENTORY_FILES", ObjectName="inventory/manifest.json") == [
        {"Bucket": "b", "Key": "object_name_1"},
        {"Bucket": "b", "Key": "object_name_2"},
        {"Bucket": "b", "Key": "object_name_3"},
    ]


def test_inventory_seed_case_data_file(backend, tmp_path):
    from tests.conftest import CLOUDFLOW_CASES_DIR

    case = json.loads((CLOUDFLOW_CASES_DIR / "seed_item_reader_oss_inventory_files.json").read_text())
    import base64

    for obj in case["oss_objects"]:
        body = base64.b64decode(obj["body_base64"]) if "body_base64" in obj else obj["body"]
        backend.put(obj["key"], body)
    manifest = json.loads(case["oss_objects"][0]["body"])
    manifest["destinationBucket"] = backend.bucket
    backend.put(case["oss_objects"][0]["key"], json.dumps(manifest))
    got = items(backend, "OSS_INVENTORY_FILES", ObjectName=case["oss_objects"][0]["key"])
    assert got == [{"Bucket": "example-bucket", "Key": "object_name_1"}, {"Bucket": "example-bucket", "Key": "object_name_2"}]


def test_inventory_rejects_escaping_data_keys_and_other_buckets(backend):
    manifest = {"destinationBucket": backend.bucket, "fileFormat": "CSV", "fileSchema": "Key", "files": [{"key": "../x"}]}
    backend.put("m.json", json.dumps(manifest))
    assert "'..' segment" in reader_error(backend, "OSS_INVENTORY_FILES", ObjectName="m.json")
    manifest = {"destinationBucket": "acs:oss:::another-bucket", "fileSchema": "Key", "files": []}
    backend.put("m2.json", json.dumps(manifest))
    assert "differs" in reader_error(backend, "OSS_INVENTORY_FILES", ObjectName="m2.json")


def test_inventory_row_with_wrong_width(backend):
    _inventory(backend, [("inv/d.csv.gz", '"b","k","extra"\n')])
    detail = reader_error(backend, "OSS_INVENTORY_FILES", ObjectName="inventory/manifest.json")
    assert "inv/d.csv.gz" in detail and "line 1" in detail


def test_inventory_manifest_not_json(backend):
    backend.put("m.json", "nope")
    assert "invalid inventory manifest" in reader_error(backend, "OSS_INVENTORY_FILES", ObjectName="m.json")


# ------------------------------------------------------------------ errors, safety, MaxItems


@pytest.mark.parametrize("source", ["OSS_CSV", "OSS_JSON_LIST", "OSS_INVENTORY_FILES"])
def test_missing_object(backend, source):
    detail = reader_error(backend, source, ObjectName="absent.csv")
    assert "absent.csv" in detail and "object does not exist" in detail


@pytest.mark.parametrize("source", ["OSS_CSV", "OSS_OBJECTS"])
def test_missing_bucket(backend, source):
    with pytest.raises(FlowError) as err:
        list(read_items(backend.store, source, {"Bucket": "no-such-bucket-x", "ObjectName": "k"}))
    assert err.value.code == ErrorCodes.ITEM_READER_FAILED
    assert "no-such-bucket-x" in err.value.detail and "bucket does not exist" in err.value.detail


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../../b"])
def test_unsafe_object_names_refused_before_any_request(backend, key):
    assert "'..'" in reader_error(backend, "OSS_CSV", ObjectName=key) or "start with '/'" in reader_error(
        backend, "OSS_CSV", ObjectName=key
    )


def test_bad_parameters():
    with pytest.raises(FlowError, match="Bucket is required"):
        read_items(None, "OSS_CSV", {"ObjectName": "k"})
    with pytest.raises(FlowError, match="ObjectName is required"):
        read_items(None, "OSS_CSV", {"Bucket": "bkt"})
    with pytest.raises(FlowError, match="unknown SourceType"):
        read_items(None, "S3_CSV", {"Bucket": "bkt"})


def test_max_items_stops_reading_and_closes_the_stream(backend):
    rows = "".join(f"{i},{'x' * 90}\n" for i in range(20000))  # ~2 MB
    backend.put("big.csv", "n,pad\n" + rows)
    spy = SpyStore(backend.store)
    got = list(read_items(spy, "OSS_CSV", {"Bucket": backend.bucket, "ObjectName": "big.csv"}, max_items=10))
    assert [g["n"] for g in got] == [str(i) for i in range(10)]
    [stream] = spy.streams
    assert stream.closed
    assert stream.bytes_read < 300_000  # a few chunks, not the 2 MB object


def test_max_items_json_stops_early(backend):
    backend.put("big.json", json.dumps([{"i": i, "pad": "y" * 100} for i in range(20000)]))
    spy = SpyStore(backend.store)
    got = list(read_items(spy, "OSS_JSON_LIST", {"Bucket": backend.bucket, "ObjectName": "big.json"}, max_items=3))
    assert [g["i"] for g in got] == [0, 1, 2]
    assert spy.streams[0].closed and spy.streams[0].bytes_read < 300_000


def test_max_items_zero_means_no_limit(backend):
    backend.put("l.json", "[1,2,3]")
    assert items(backend, "OSS_JSON_LIST", ObjectName="l.json", max_items=0) == [1, 2, 3]


def test_objects_paging_with_small_pages(backend):
    if backend.name != "local":
        backend.store.page_size = 3
    for i in range(11):
        backend.put(f"pg/{i:02d}", "x")
    assert [i["Key"] for i in items(backend, "OSS_OBJECTS", Prefix="pg/")] == [f"pg/{i:02d}" for i in range(11)]
    assert [i["Key"] for i in items(backend, "OSS_OBJECTS", Prefix="pg/", max_items=4)] == [f"pg/{i:02d}" for i in range(4)]


# ------------------------------------------------------------------ bad objects are reader errors


@pytest.fixture
def local(tmp_path):
    from airflow_cloudflow.storage.local import LocalStore

    store = LocalStore(tmp_path, scheme="oss")
    store.create_bucket("bkt")
    return store


def _local_error(store, source_type, key="k"):
    with pytest.raises(FlowError) as err:
        list(read_items(store, source_type, {"Bucket": "bkt", "ObjectName": key}))
    assert err.value.code == ErrorCodes.ITEM_READER_FAILED
    return err.value.detail


def test_deeply_nested_json_element_is_a_reader_error(local):
    local.put("bkt", "k", ("[" + "[" * 200_000 + "]" * 200_000 + "]").encode())
    detail = _local_error(local, "OSS_JSON_LIST")
    assert "oss://bkt/k" in detail and "nested too deeply" in detail and "byte offset 1" in detail


def test_corrupt_gzip_is_a_reader_error(local):
    body = gzip.compress(b"Bucket,Key\n" + b"b,k\n" * 1000)
    local.put("bkt", "data/1.csv.gz", body[:20] + bytes(b ^ 0x55 for b in body[20:60]) + body[60:])
    local.put("bkt", "inventory/manifest.json",
              json.dumps({"fileFormat": "CSV", "fileSchema": "Bucket, Key", "destinationBucket": "bkt",
                          "files": [{"key": "data/1.csv.gz"}]}).encode())
    detail = _local_error(local, "OSS_INVENTORY_FILES", "inventory/manifest.json")
    assert "oss://bkt/data/1.csv.gz" in detail and "byte offset" in detail


def test_deeply_nested_manifest_is_a_reader_error(local):
    local.put("bkt", "m.json", ('{"files":' + "[" * 200_000 + "]" * 200_000 + "}").encode())
    assert "nested too deeply" in _local_error(local, "OSS_INVENTORY_FILES", "m.json")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_list_refuses_nan_and_infinity(local, constant):
    local.put("bkt", "k", f'[1, {{"x": {constant}}}]'.encode())
    detail = _local_error(local, "OSS_JSON_LIST")
    assert f"{constant} is not valid JSON" in detail and "byte offset 4" in detail


def test_json_list_element_size_is_capped(local, monkeypatch):
    from airflow_cloudflow.storage.readers import streams

    monkeypatch.setattr(streams, "MAX_ELEMENT_CHARS", 100_000)
    local.put("bkt", "k", ('[1, "' + "x" * 300_000 + '"]').encode())
    assert "longer than 100000 characters" in _local_error(local, "OSS_JSON_LIST")


def test_big_element_is_decoded_a_logarithmic_number_of_times():
    """A 16 MB element read in 64 KiB chunks: re-decoded after every chunk it would take 256
    attempts (quadratic); growing the read geometrically takes about log2(256)."""
    import io

    from airflow_cloudflow.storage.readers.streams import JsonArrayScanner

    body = ('[{"a": "' + "x" * 16_000_000 + '"}, 2]').encode()
    scanner = JsonArrayScanner(io.BytesIO(body))
    calls = []
    decode = scanner._decoder.raw_decode
    scanner._decoder = type("Counting", (), {"raw_decode": lambda self, s, i: calls.append(i) or decode(s, i)})()
    values = list(scanner)
    assert values[1] == 2 and len(values[0]["a"]) == 16_000_000
    assert len(calls) <= 20
