"""Benchmark: OSS_CSV through ``read_items`` vs oss2 + csv directly, over the OSS bridge.

    .venv/bin/python bench/bench_reader.py            # 100k and 1M rows (~100 MB)
    .venv/bin/python bench/bench_reader.py 10000 50000

Each measurement runs in a fresh subprocess; peak RSS growth is /proc VmHWM after reading minus
VmHWM before (ru_maxrss would include the parent's pages: it survives fork+exec). Data is generated here (no committed files).
Targets: RSS growth < 100 MB at any size; throughput within 3x of the direct read.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BUCKET = "bench-bucket"


def make_csv(rows: int) -> bytes:
    lines = ["id,name,city,amount,note"]
    lines += [f"{i},user_{i},city_{i % 97},{i * 3 % 10007}.{i % 100:02d},{'x' * 60}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def child(mode: str, endpoint: str, key: str) -> None:
    import oss2

    from airflow_cloudflow.storage.oss import OssStore
    from airflow_cloudflow.storage.readers.cloudflow import read_items
    from tests.support.servers import ACCESS_KEY_ID, ACCESS_KEY_SECRET, OSS_REGION

    base = _proc_kb("VmHWM")
    start = time.perf_counter()
    n = 0
    if mode == "reader":
        store = OssStore(endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET, OSS_REGION)
        for _ in read_items(store, "OSS_CSV", {"Bucket": BUCKET, "ObjectName": key}):
            n += 1
    else:
        import csv

        bucket = oss2.Bucket(oss2.AuthV4(ACCESS_KEY_ID, ACCESS_KEY_SECRET), endpoint, BUCKET, region=OSS_REGION)
        result = bucket.get_object(key)
        text = io.TextIOWrapper(io.BufferedReader(_Raw(result)), encoding="utf-8", newline="")
        for _ in csv.DictReader(text):
            n += 1
    elapsed = time.perf_counter() - start
    peak = _proc_kb("VmHWM")
    print(json.dumps({"items": n, "seconds": elapsed, "rss_growth_mb": (peak - base) / 1024, "peak_mb": peak / 1024}))


def _proc_kb(field: str) -> int:
    """Peak RSS of this process image (/proc VmHWM; unlike ru_maxrss it is not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class _Raw(io.RawIOBase):
    def __init__(self, result):
        self.result = result

    def readable(self):
        return True

    def readinto(self, buf):
        data = self.result.read(len(buf))
        buf[: len(data)] = data
        return len(data)


def run(mode: str, endpoint: str, key: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, endpoint, key], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(sizes: list[int]) -> None:
    from tests.support.servers import start_oss_server

    server = start_oss_server()
    try:
        server.create_bucket(BUCKET)
        store = server.store(multipart_threshold=16 * 1024 * 1024, part_size=16 * 1024 * 1024)
        print(f"{'rows':>9} {'MB':>6} {'reader it/s':>12} {'direct it/s':>12} {'ratio':>6} {'reader RSS+MB':>14} {'direct RSS+MB':>14} {'reader peak MB':>15}")
        for rows in sizes:
            data = make_csv(rows)
            key = f"bench-{rows}.csv"
            store.put(BUCKET, key, data)
            del data
            r, d = run("reader", server.endpoint, key), run("direct", server.endpoint, key)
            assert r["items"] == d["items"] == rows
            ratio = r["seconds"] / d["seconds"]  # >1: the reader is slower
            print(f"{rows:>9} {server.store().head(BUCKET, key).size / 1e6:>6.1f} {rows / r['seconds']:>12.0f} "
                  f"{rows / d['seconds']:>12.0f} {ratio:>6.2f} {r['rss_growth_mb']:>14.1f} {d['rss_growth_mb']:>14.1f} {r['peak_mb']:>15.1f}")
    finally:
        server.stop()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
    else:
        main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
