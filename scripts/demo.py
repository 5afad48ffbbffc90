"""The README's main job: a distributed Map over a generated CSV, run through Airflow.

1. writes ``.demo/store/demo-bucket/orders.csv`` (``--rows`` orders, every 50th with a bad amount);
2. prepares an embedded Airflow home (``.demo/airflow``: SQLite, migrated once);
3. runs ``airflow-cloudflow run dags/examples/orders_map.flow.yaml --engine airflow --store .demo/store``;
4. prints the Map Run's counts and where the results went, from the ResultWriter's manifest.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / ".demo"
STORE = DEMO / "store"
HOME = DEMO / "airflow"
FLOW = ROOT / "dags" / "examples" / "orders_map.flow.yaml"
BIN = Path(sys.executable).parent


def write_orders(rows: int) -> Path:
    bucket = STORE / "demo-bucket"
    bucket.mkdir(parents=True, exist_ok=True)
    path = bucket / "orders.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["order_id", "amount"])
        for i in range(rows):
            writer.writerow([f"order-{i:06d}", "-1" if i % 50 == 49 else f"{(i % 97) + 1}.50"])
    return path


def airflow_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(HOME / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME / 'airflow.db'}",
        "AIRFLOW__CLOUDFLOW__SHARD_SIZE": "500",
    })
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000, help="orders in the generated CSV (default 5000)")
    args = parser.parse_args()

    csv_path = write_orders(args.rows)
    print(f"input: oss://demo-bucket/orders.csv ({args.rows} rows) = {csv_path}")
    env = airflow_env()
    (HOME / "dags").mkdir(parents=True, exist_ok=True)
    if not (HOME / "airflow.db").exists():
        print("preparing the embedded Airflow metadata DB (SQLite, once) …")
        subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)

    started = time.monotonic()
    run = subprocess.run(
        [str(BIN / "airflow-cloudflow"), "run", str(FLOW), "--engine", "airflow", "--store", str(STORE),
         "--input", json.dumps({"bucket": "demo-bucket", "object": "orders.csv", "currency": "EUR"}), "--json"],
        env=env, capture_output=True, text=True,
    )
    elapsed = time.monotonic() - started
    if not run.stdout.strip():
        print(run.stderr[-4000:], file=sys.stderr)
        return 2
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"status: {result['status']} ({elapsed:.1f} s through Airflow)")
    if result["status"] != "Succeeded":
        print(f"error: {result['error']}")
        print(run.stderr[-3000:], file=sys.stderr)
        return 1
    details = result["output"]["ResultWriterDetails"]
    manifest_path = STORE / details["Bucket"] / details["Key"]
    manifest = json.loads(manifest_path.read_text())
    counts = {}
    for status, files in manifest["ResultFiles"].items():
        counts[status] = sum(len(json.loads((STORE / details["Bucket"] / f["ObjectName"]).read_text())) for f in files)
    print(f"Map Run {manifest['MapRunName']}: {counts.get('SUCCEED', 0)} child executions succeeded, "
          f"{counts.get('FAILED', 0)} failed (tolerated: ≤ 10 %)")
    print(f"results: oss://{details['Bucket']}/{details['Key']}")
    for status, files in manifest["ResultFiles"].items():
        for f in files:
            print(f"  {status:8} oss://{details['Bucket']}/{f['ObjectName']} ({f['Size']} bytes)")
    print(f"local copy under {STORE / details['Bucket']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
