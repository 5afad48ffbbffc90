"""Benchmark (not a test): a distributed Map over a 100,000-row CSV through the CLI, beside a plain
Python loop doing the same dict work.

    .venv/bin/python bench/bench_interpreter.py [--rows N] [--profile]

The flow: ItemReader OSS_CSV → ItemConstructor → processor Choice (→ Fail for 1% of rows) / Pass
with an OutputConstructor using ``format`` → ToleratedFailurePercentage 5 → ResultWriter to the
local store. The CLI run is timed as a whole subprocess (start-up, parsing, reading, writing);
counts are read back from the manifest and result files. Target: ≥ 20,000 items/s on 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

FLOW = """Type: StateMachine
Name: bench
SpecVersion: v1
StartAt: Map
States:
  - Type: Map
    Name: Map
    ProcessorConfig:
      ExecutionMode: Express
    ItemReader:
      SourceType: OSS_CSV
      SourceParameters:
        Bucket: bench
        ObjectName: rows.csv
    ItemConstructor:
      id.$: $Item.id
      name.$: $Item.name
      score.$: $Item.score
      bad.$: $Item.bad
      batch.$: $Input.batch
    ToleratedFailurePercentage: 5
    MaxConcurrency: 100
    Processor:
      StartAt: Check
      States:
        - Type: Choice
          Name: Check
          Branches:
            - Condition: $Input.bad == "1"
              Next: Reject
          Default: Shape
        - Type: Fail
          Name: Reject
          Code: BadRow
          Detail: row flagged
        - Type: Pass
          Name: Shape
          OutputConstructor:
            label.$: format('{}-{}', $Input.name, $Input.id)
            score.$: $Input.score
            batch.$: $Input.batch
          End: true
    ResultWriter:
      Parameters:
        Bucket: bench
        Prefix: results/
    End: true
"""


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "score", "bad"])
        for i in range(rows):
            w.writerow([i, f"name{i}", i % 97, "1" if i % 100 == 7 else "0"])


def count_results(store: Path) -> tuple[int, int]:
    manifest = next((store / "bench" / "results").glob("*/manifest.json"))
    data = json.loads(manifest.read_text())
    counts = []
    for status in ("SUCCEED", "FAILED"):
        n = 0
        for entry in data["ResultFiles"][status]:
            n += len(json.loads((store / "bench" / entry["ObjectName"]).read_text()))
        counts.append(n)
    return counts[0], counts[1]


def run_cli(tmp: Path, store: Path, profile: bool) -> tuple[float, float, dict]:
    flow = tmp / "bench.flow.yaml"
    flow.write_text(FLOW, encoding="utf-8")
    cmd = [sys.executable]
    if profile:
        cmd += ["-m", "cProfile", "-o", str(tmp / "run.prof")]
        cmd += ["-m", "airflow_cloudflow.cli"]
    else:
        cmd += ["-m", "airflow_cloudflow.cli"]
    cmd += ["run", str(flow), "--input", '{"batch": "b1"}', "--store", str(store), "--json"]
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"CLI failed ({proc.returncode}): {proc.stderr[-2000:]} {proc.stdout[-2000:]}")
    if profile:
        import pstats

        pstats.Stats(str(tmp / "run.prof")).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative")).print_stats(35)
    return elapsed, cpu, json.loads(proc.stdout.strip().splitlines()[-1])


def plain_loop(csv_path: Path, out_dir: Path) -> tuple[float, int, int]:
    """The same dict work in plain Python: read, construct, check, format, write records."""
    start = time.perf_counter()
    ok, failed = [], []
    with csv_path.open(newline="", encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            item = {"id": row["id"], "name": row["name"], "score": row["score"], "bad": row["bad"], "batch": "b1"}
            if item["bad"] == "1":
                failed.append({"ExecutionName": f"x-{i}", "Input": json.dumps(item, sort_keys=True, separators=(",", ":")),
                               "Output": '{"ErrorCode":"BadRow"}', "Status": "Failed"})
            else:
                out = {"label": "{}-{}".format(item["name"], item["id"]), "score": item["score"], "batch": item["batch"]}
                ok.append({"ExecutionName": f"x-{i}", "Input": json.dumps(item, sort_keys=True, separators=(",", ":")),
                           "Output": json.dumps(out, sort_keys=True, separators=(",", ":")), "Status": "Succeeded"})
    (out_dir / "SUCCEED.json").write_text(json.dumps(ok, indent=4))
    (out_dir / "FAILED.json").write_text(json.dumps(failed, indent=4))
    return time.perf_counter() - start, len(ok), len(failed)


def in_process(store: Path, rows: int) -> tuple[float, float]:
    """Where the time goes: the interpreter alone (no ResultWriter) and ``write_results`` alone,
    both in CPU seconds of this process."""
    sys.path.insert(0, str(REPO))
    from datetime import datetime, timezone

    from airflow_cloudflow.dialects import load_definition_text
    from airflow_cloudflow.runtime.interpreter import Interpreter
    from airflow_cloudflow.runtime.records import ChildExecution
    from airflow_cloudflow.storage.resolver import StoreResolver
    from airflow_cloudflow.storage.writers.cloudflow import write_results

    flow = FLOW.split("    ResultWriter:")[0] + "    End: true\n"
    interp = Interpreter(load_definition_text(flow), stores=StoreResolver.local(store))
    start = time.process_time()
    result = interp.execute({"batch": "b1"})
    interp_s = time.process_time() - start
    assert result.status == "Succeeded", result.error
    now = datetime.now(timezone.utc)
    children = [ChildExecution(f"c-{i}", i, "Succeeded", {"id": str(i), "name": f"name{i}", "batch": "b1"},
                               out, None, None, now, now) for i, out in enumerate(result.output["Items"])]
    start = time.process_time()
    write_results(StoreResolver.local(store).for_scheme("oss"), bucket="bench", prefix="breakdown/", map_run_name="x" * 32, flow_name="bench", children=children)
    return interp_s, time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="run the CLI under cProfile and print the top")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        store = tmp / "store"
        (store / "bench").mkdir(parents=True)
        write_csv(store / "bench" / "rows.csv", args.rows)
        cli_s, cli_cpu, result = run_cli(tmp, store, args.profile)
        assert result["status"] == "Succeeded", result
        succeeded, failed = count_results(store)
        assert succeeded + failed == args.rows, (succeeded, failed)
        plain_dir = tmp / "plain"
        plain_dir.mkdir()
        plain_s, p_ok, p_failed = plain_loop(store / "bench" / "rows.csv", plain_dir)
        assert (p_ok, p_failed) == (succeeded, failed)
        interp_cpu, writer_cpu = in_process(store, args.rows)
    cli_rate, plain_rate = args.rows / cli_s, args.rows / plain_s
    print(f"\nrows={args.rows} succeeded={succeeded} failed={failed}")
    print(f"{'engine':<28}{'seconds':>10}{'items/s':>12}")
    print(f"{'CLI (whole subprocess)':<28}{cli_s:>10.2f}{cli_rate:>12,.0f}")
    print(f"{'CLI (subprocess CPU time)':<28}{cli_cpu:>10.2f}{args.rows / cli_cpu:>12,.0f}")
    print(f"{'plain Python loop':<28}{plain_s:>10.2f}{plain_rate:>12,.0f}")
    print(f"{'  interpreter only (CPU)':<28}{interp_cpu:>10.2f}{args.rows / interp_cpu:>12,.0f}")
    print(f"{'  write_results only (CPU)':<28}{writer_cpu:>10.2f}{args.rows / writer_cpu:>12,.0f}")
    print(f"(wall-clock numbers are inflated when other work shares the 2 cores: load {os.getloadavg()[0]:.1f})")
    print(f"ratio plain/CLI: {plain_rate / cli_rate:.1f}x   target CLI >= 20,000 items/s: "
          f"{'met' if cli_rate >= 20_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
