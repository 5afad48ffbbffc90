"""A distributed Map end to end through Airflow, beside the native Airflow way and the interpreter.

    .venv/bin/python bench/bench_airflow.py [--rows 100000] [--native 1000]

* **airflow-cloudflow through Airflow**: ``airflow-cloudflow run FLOW --engine airflow`` over a
  ``--rows`` CSV (ItemReader → shards → mapped processor instances → ResultWriter), the whole
  command timed (DAG parse, ``dag.test()``, every task).
* **native Airflow**: one mapped task instance per item (``@task.expand`` over ``--native`` items,
  each doing the same dict work), run with ``dag.test()``; items/s extrapolated.
* **interpreter alone**: ``airflow-cloudflow run FLOW --engine interpreter`` on the same CSV.

Prints a table with items/s and the ratios. Target: ≥ 5,000 items/s end to end on 2 cores.
Not a test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

BIN = Path(sys.executable).parent

FLOW = textwrap.dedent("""\
    Type: StateMachine
    Name: bench_orders
    SpecVersion: v1
    StartAt: Orders
    States:
      - Type: Map
        Name: Orders
        ProcessorConfig:
          ExecutionMode: Express
        ItemReader:
          SourceType: OSS_CSV
          SourceParameters:
            Bucket: bench
            ObjectName: orders.csv
        ItemConstructor:
          id.$: $Item.id
          amount.$: $Item.amount
        ToleratedFailurePercentage: 5
        Processor:
          StartAt: Check
          States:
            - Type: Choice
              Name: Check
              Branches:
                - Condition: $Input.amount == "-1"
                  Next: Reject
              Default: Accept
            - Type: Pass
              Name: Accept
              OutputConstructor:
                label.$: format("order {} ok", $Input.id)
              End: true
            - Type: Fail
              Name: Reject
              Code: Rejected
        ResultWriter:
          Parameters:
            Bucket: bench
            Prefix: results/
        End: true
    """)

NATIVE_DAG = textwrap.dedent("""\
    from airflow.sdk import DAG, task
    import datetime

    with DAG("bench_native", schedule=None, start_date=datetime.datetime(2024, 1, 1)):
        @task
        def items():
            return [{"id": f"o{i}", "amount": "-1" if i % 100 == 99 else str(i)} for i in range(__N__)]

        @task(max_active_tis_per_dagrun=16)
        def process(item):
            if item["amount"] == "-1":
                raise ValueError("Rejected")
            return {"label": "order {} ok".format(item["id"])}

        @task(trigger_rule="all_done")
        def collect(results):
            return len(list(results))

        collect(process.expand(item=items()))
    """)

NATIVE_RUN = textwrap.dedent("""\
    import sys
    from airflow.dag_processing.dagbag import DagBag
    bag = DagBag(collect_dags=True)
    dag = bag.dags["bench_native"]
    dag.test()
    """)


def write_csv(store: Path, rows: int) -> None:
    bucket = store / "bench"
    bucket.mkdir(parents=True, exist_ok=True)
    with (bucket / "orders.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "amount"])
        for i in range(rows):
            writer.writerow([f"o{i}", "-1" if i % 100 == 99 else str(i)])


def run_span(db: Path, dag_id: str) -> float:
    """Seconds from the first task's start to the last task's end of the DAG's latest run (the Map
    itself, without process start-up, imports and DAG parsing)."""
    with sqlite3.connect(db) as conn:
        run_id = conn.execute(
            "SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (dag_id,)
        ).fetchone()[0]
        first, last = conn.execute(
            "SELECT julianday(MIN(start_date)), julianday(MAX(end_date)) FROM task_instance "
            "WHERE dag_id = ? AND run_id = ?", (dag_id, run_id),
        ).fetchone()
    return (last - first) * 86400


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(cmd)}")
    return elapsed, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--native", type=int, default=1000, help="items for the one-task-per-item run (≤ 1024)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cloudflow-bench-"))
    try:
        home, store = work / "airflow", work / "store"
        (home / "dags").mkdir(parents=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update({
            "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CLOUDFLOW__SHARD_SIZE": "5000",
        })
        subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
        write_csv(store, args.rows)
        flow = work / "bench_orders.flow.yaml"
        flow.write_text(FLOW)
        cli = [str(BIN / "airflow-cloudflow"), "run", str(flow), "--store", str(store), "--json"]

        airflow_s, out = timed(cli + ["--engine", "airflow"], env)
        result = json.loads(out.strip().splitlines()[-1])
        assert result["status"] == "Succeeded", result
        span_s = run_span(home / "airflow.db", "bench_orders")
        interp_s, out = timed(cli + ["--engine", "interpreter"], env)
        assert json.loads(out.strip().splitlines()[-1])["status"] == "Succeeded"

        (home / "dags" / "bench_native.py").write_text(NATIVE_DAG.replace("__N__", str(args.native)))
        (work / "native_run.py").write_text(NATIVE_RUN)
        native_s, _ = timed([sys.executable, str(work / "native_run.py")], env)
        native_span_s = run_span(home / "airflow.db", "bench_native")

        rows = [
            ("airflow-cloudflow through Airflow", args.rows, airflow_s),
            ("  its DAG run alone (first task → last)", args.rows, span_s),
            ("native Airflow, one mapped TI per item", args.native, native_s),
            ("  its DAG run alone (first task → last)", args.native, native_span_s),
            ("airflow-cloudflow interpreter alone", args.rows, interp_s),
        ]
        base = args.rows / airflow_s
        print(f"\n{'engine':42} {'items':>8} {'seconds':>9} {'items/s':>10} {'vs Airflow engine':>18}")
        for name, items, seconds in rows:
            rate = items / seconds
            print(f"{name:42} {items:>8} {seconds:>9.1f} {rate:>10.0f} {rate / base:>17.3f}x")
        print(f"\nthrough Airflow: {base:.0f} items/s for the whole command, {args.rows / span_s:.0f} items/s "
              f"for the DAG run (target ≥ 5,000); native Airflow would need "
              f"{args.rows / (args.native / native_span_s) / 3600:.1f} h for {args.rows} items")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
