"""Hostile data through the readers and JSONata: peak RSS and time of each case (docs/limits.md).

    .venv/bin/python bench/bench_hostile_data.py                 # every case, a table
    .venv/bin/python bench/bench_hostile_data.py csv-no-newline  # one case, one JSON line

Each case runs in a fresh subprocess (``--child CASE DIR``); peak RSS growth is /proc VmHWM after the
case minus VmHWM before it. Objects are written to a local store directory in 1 MiB chunks, so the
parent never holds them. Cases:

* ``csv-no-newline``: a 200 MB CSV object without a newline (OSS_CSV) -> a record-size reader error;
* ``csv-wide-field``: a quoted field of 1 M characters (over Python's default 131,072) -> read;
* ``gzip-bomb``: ~2 MB of gzip inflating to 2 GiB of CSV rows (ASL CSV ItemReader) -> an
  inflation-ratio reader error;
* ``jsonata-replace`` / ``jsonata-map-pad``: the two JSONata expressions of issue 14 -> bound errors.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BUCKET = "hostile-bucket"
MiB = 1 << 20
JSONATA = {
    "jsonata-replace": "{% $replace($pad('', 1000000, 'a'), 'a', $pad('', 400, 'b')) %}",
    "jsonata-map-pad": "{% $map([1..3000], function($i){ $pad('', 1000000, 'x') }) %}",
}


def _write(path: Path, chunks) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with open(path, "wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
            size += len(chunk)
    return size


def _gzip_chunks(total: int, unit: bytes):
    """gzip of ``total`` bytes of ``unit`` repeated, compressed in 1 MiB steps."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip container
    block = unit * (MiB // len(unit))
    for _ in range(total // len(block)):
        out = packer.compress(block)
        if out:
            yield out
    yield packer.flush()


def prepare(case: str, root: Path) -> str:
    """Write the case's object under ``root`` and return its key."""
    bucket = root / BUCKET
    if case == "csv-no-newline":
        _write(bucket / "flat.csv", [b"h\n"] + [b"x" * MiB] * 200)
        return "flat.csv"
    if case == "csv-wide-field":
        _write(bucket / "wide.csv", [b'a,b\n"', b"y" * 1_000_000, b'",2\n'])
        return "wide.csv"
    if case == "gzip-bomb":
        _write(bucket / "bomb.csv.gz", [b""] + list(_gzip_chunks(2048 * MiB, b"1,2,3,4\n")))
        return "bomb.csv.gz"
    return ""


def _hwm_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def child(case: str, root: str) -> dict:
    from airflow_cloudflow.exceptions import FlowError
    from airflow_cloudflow.expressions.asl.jsonata_expr import compile_jsonata
    from airflow_cloudflow.storage.local import LocalStore

    key = prepare(case, Path(root)) if case not in JSONATA else ""
    before, start, items, error = _hwm_kib(), time.monotonic(), 0, None
    try:
        if case in JSONATA:
            compile_jsonata(JSONATA[case], "Output").evaluate({"input": {}})
        else:
            for _ in _items(LocalStore(root), case, key):
                items += 1
    except FlowError as exc:
        error = f"{exc.code}: {exc.detail}"
    return {"case": case, "seconds": round(time.monotonic() - start, 2), "items": items,
            "rss_growth_mib": round((_hwm_kib() - before) / 1024, 1), "error": error}


def _items(store, case: str, key: str):
    """CloudFlow's OSS_CSV for the CSV cases; ASL's CSV ItemReader (which inflates gzip) for the bomb."""
    from airflow_cloudflow.storage.readers import asl
    from airflow_cloudflow.storage.readers.cloudflow import read_items

    if case == "gzip-bomb":
        return asl.read_items(store, asl.GET_OBJECT, {"Bucket": BUCKET, "Key": key}, {"InputType": "CSV"})
    return read_items(store, "OSS_CSV", {"Bucket": BUCKET, "ObjectName": key})


def measure(case: str) -> dict:
    with tempfile.TemporaryDirectory() as root:
        out = subprocess.run([sys.executable, __file__, "--child", case, root], capture_output=True, text=True,
                             check=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


CASES = ("csv-no-newline", "csv-wide-field", "gzip-bomb", *JSONATA)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        print(json.dumps(child(argv[1], argv[2])))
        return
    if argv:
        print(json.dumps(measure(argv[0])))
        return
    print(f"{'case':18} {'seconds':>8} {'RSS +MiB':>9} {'items':>8}  error")
    for case in CASES:
        r = measure(case)
        print(f"{case:18} {r['seconds']:>8} {r['rss_growth_mib']:>9} {r['items']:>8}  {(r['error'] or '')[:90]}")


if __name__ == "__main__":
    main(sys.argv[1:])
