"""Reader memory and time bounds under hostile data (``readers/streams.py``, docs/limits.md): a CSV
object without a newline, a wide CSV field, a gzip decompression bomb."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.storage.local import LocalStore
from airflow_cloudflow.storage.readers import asl
from airflow_cloudflow.storage.readers.cloudflow import read_items
from airflow_cloudflow.storage.readers.streams import (
    INFLATION_CHECK_BYTES, MAX_INFLATION_RATIO, MAX_RECORD_CHARS, BoundedLines, MalformedData, csv_rows,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path):
    s = LocalStore(tmp_path)
    s.create_bucket("bkt")
    return s


def test_a_200_mb_csv_object_without_newline_fails_with_memory_proportional_to_the_record_bound():
    """Measured in a fresh process (bench/bench_hostile_data.py): before, the whole line was read
    (400 MiB of RSS growth for 200 MB) and then refused at Python's undocumented 131,072-char field limit."""
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_hostile_data.py"), "csv-no-newline"],
                         capture_output=True, text=True, check=True, timeout=600)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert f"a CSV record is longer than {MAX_RECORD_CHARS} characters (line 2)" in result["error"]
    assert result["rss_growth_mib"] < 100


def test_a_field_wider_than_pythons_default_limit_is_read(store):
    store.put("bkt", "wide.csv", b'a,b\n"' + b"y" * 1_000_000 + b'",2\n')
    [item] = list(read_items(store, "OSS_CSV", {"Bucket": "bkt", "ObjectName": "wide.csv"}))
    assert item == {"a": "y" * 1_000_000, "b": "2"}


def test_a_quoted_field_spanning_many_lines_counts_towards_one_record():
    text = 'a\n"' + "x\n" * 60 + '"\nnext\n'
    assert [row for _, row in csv_rows(io.StringIO(text))] == [["a"], ["x\n" * 60], ["next"]]
    lines = BoundedLines(io.StringIO(text), limit=100)
    reader = csv.reader(lines, strict=True)
    assert next(reader) == ["a"]
    lines.pending = 0  # what csv_rows does before each record
    with pytest.raises(MalformedData, match="a CSV record is longer than 100 characters"):
        next(reader)


def _gzip(data_chunks) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join(packer.compress(c) for c in data_chunks) + packer.flush()


def test_a_gzip_bomb_fails_on_its_inflation_ratio(store):
    bomb = _gzip([b"["] + [b" " * (1 << 20)] * 64 + [b"]"])  # ~64 KB inflating to 64 MiB
    store.put("bkt", "bomb.json.gz", bomb)
    with pytest.raises(FlowError) as err:
        list(asl.read_items(store, asl.GET_OBJECT, {"Bucket": "bkt", "Key": "bomb.json.gz"}, {"InputType": "JSON"}))
    assert err.value.code == "States.ItemReaderFailed"
    assert f"gzip data inflates more than {MAX_INFLATION_RATIO} times its compressed size" in err.value.detail


def test_small_or_ordinary_gzip_objects_are_read_whatever_their_ratio(store):
    high_ratio = _gzip([b"["] + [b" " * (1 << 20)] * (INFLATION_CHECK_BYTES // (1 << 20) - 1) + [b"1]"])
    store.put("bkt", "small.json.gz", high_ratio)
    assert list(asl.read_items(store, asl.GET_OBJECT, {"Bucket": "bkt", "Key": "small.json.gz"}, {})) == [1]
    rows = "".join(f"{i},name-{i},{i * 7 % 13}\n" for i in range(100_000)).encode()
    store.put("bkt", "rows.csv.gz", _gzip([b"id,name,n\n", rows]))
    items = list(asl.read_items(store, asl.GET_OBJECT, {"Bucket": "bkt", "Key": "rows.csv.gz"}, {"InputType": "CSV"}))
    assert len(items) == 100_000 and items[-1] == {"id": "99999", "name": "name-99999", "n": str(99999 * 7 % 13)}
