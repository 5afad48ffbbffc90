"""A distributed Map under a real Airflow scheduler, beside the interpreter and native mapping.

    .venv/bin/python bench/bench_scheduler.py [--rows 100000 [--rows 1000000]] [--native 1000]
                                              [--executor local|celery [--workers 2] [--concurrency 16]]
                                              [--timeout 3600] [--keep]

The script starts its own Airflow (api-server, dag-processor, scheduler, triggerer; every one on
127.0.0.1) through ``tests.providers.cluster.AirflowCluster``, in a temporary home whose
configuration is **Airflow's defaults** except what is needed to run at all: AIRFLOW_HOME, a
temporary DAGs folder, ``load_examples = False``, the SQLite metadata DB (``airflow db migrate``),
the LocalExecutor, the API on 127.0.0.1 with a JWT secret and all users admin (for the REST token).
Not the test harness's tuned settings: parallelism 32, 16 active tasks per DAG, the dag-processor's
300 s refresh (the script runs ``airflow dags reserialize`` instead of waiting), 5 s heartbeats.
The ``[cloudflow]`` options keep their defaults too (no ``shard_size``/``max_shards`` override), so
the shard count is whatever the product plans; results are read only through the REST API and the
ResultWriter's manifest.

Per ``--rows`` (default: 100,000 then 1,000,000):

* **scheduler**: the example flow ``dags/examples/orders_map.flow.yaml`` (ItemReader OSS_CSV →
  shards as mapped ``ProcessOrders__process`` instances → ResultWriter ``ProcessOrders__results`` →
  ``finish``) over a CSV written like ``scripts/demo.py`` does (every 50th amount is -1: 2 % of the
  children fail, 10 % are tolerated). Timed from the REST trigger to the run's ``success`` (polled
  every 0.2 s). Counts are read through the ``finish`` task's XCom → manifest → result files and
  must be exact (rows × 0.98 succeeded, rows × 0.02 failed, every ExecutionName once), else the
  script exits 1. Per phase (TI start/end dates from the REST API): queueing, reader, shards
  (count, min/mean/max, span), ResultWriter (duration and the peak RSS of its task process, the one
  retitled ``airflow worker -- <ti id>``, sampled every 0.1 s with its kernel high-water mark
  VmHWM), finish, and the idle gaps between them; CPU seconds over the run (machine, all of
  Airflow's processes, task processes, each component) and task processes outliving their TI.
* **interpreter**: ``airflow-cloudflow run FLOW --engine interpreter`` on the same CSV, the whole
  command timed, immediately before the scheduler run (the cluster is up and idle meanwhile).

Once: **native** Airflow mapping, one ``@task.expand`` instance per item (``--native`` items,
≤ ``[core] max_map_length`` 1024) doing the same dict work, under the same scheduler; items/s is
extrapolated from its trigger → success time.

Targets: 1,000,000 items through the scheduler ≥ 1.0× the interpreter; 100,000 ≥ 0.4×.

``--executor celery`` uses ``tests/providers/celery_cluster.py`` (PostgreSQL, Redis, ``--workers``
Celery workers with ``--concurrency`` slots each, sharing no disk); its tuned test settings are put
back to Airflow's defaults, and input, staging and results live on the local OSS test server
(``tests/support/servers.py``). Every process the script starts is stopped on exit, Ctrl-C or
SIGTERM (and anything left with this run's AIRFLOW_HOME is killed by pid).
Not a test: numbers depend on the machine and its load (printed beside each run).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.providers.cluster import AirflowCluster, ClusterError  # noqa: E402

BIN = Path(sys.executable).parent
FLOW_FILE = REPO / "dags" / "examples" / "orders_map.flow.yaml"
MAP_DAG = "orders_map"
NATIVE_DAG_ID = "bench_native"
BUCKET = "demo-bucket"
FAIL_EVERY = 50  # every 50th row has amount -1: its child fails (2 %)
TARGETS = {1_000_000: 1.0, 100_000: 0.4}
TASK_TITLE = "airflow worker -- "  # a task process retitles itself "airflow worker -- <ti id>"

NATIVE_DAG = textwrap.dedent("""\
    # A native Airflow DAG (one mapped task instance per item): the orders_map work, item by item.
    import datetime
    import json

    from airflow.sdk import DAG, task

    with DAG("bench_native", schedule=None, start_date=datetime.datetime(2024, 1, 1), catchup=False):
        @task
        def items():
            return [{"order": f"order-{i:06d}", "amount": "-1" if i % 50 == 49 else f"{(i % 97) + 1}.50",
                     "currency": "EUR"} for i in range(__N__)]

        @task
        def process(item):
            if json.loads(item["amount"]) <= 0:
                raise ValueError("InvalidOrder: amount must be positive")
            return {"order": item["order"], "status": "accepted"}

        @task(trigger_rule="all_done")
        def collect(results):
            return len(list(results))

        collect(process.expand(item=items()))
    """)


# --------------------------------------------------------------------------- the Airflow home


@dataclass
class BenchHome:
    """What ``AirflowCluster`` needs: ``root`` and ``process_env``. Airflow defaults otherwise."""

    root: Path
    dags_folder: Path
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(64))  # ≥ 64 bytes for HS512

    @property
    def env(self) -> dict[str, str]:
        return {
            "AIRFLOW_HOME": str(self.root),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",  # Airflow 3's default, spelled out
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.root / 'airflow.db'}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        }

    def process_env(self, **extra: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        return {**base, **self.env, **extra}

    def airflow(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        self.root.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([str(BIN / "airflow"), *args], env=self.process_env(), cwd=self.root,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise SystemExit(f"airflow {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return done


# --------------------------------------------------------------------------- object storage


class LocalStorage:
    """``oss://bucket/key`` is ``root/bucket/key`` (the sidecar's ``local_store``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def sidecar(self) -> dict[str, Any]:
        return {"local_store": str(self.root)}

    def env(self) -> dict[str, str]:
        return {}

    def upload(self, bucket: str, key: str, path: Path) -> None:
        target = self.root / bucket / key
        if target.resolve() != path.resolve():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)

    def read(self, bucket: str, key: str) -> bytes:
        return (self.root / bucket / key).read_bytes()


class ServerStorage:
    """The local OSS test server (moto behind the OSS bridge): input, staging and results."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        for bucket in (BUCKET, "staging"):
            handle.create_bucket(bucket)

    def sidecar(self) -> dict[str, Any]:
        return {"staging_url": "oss://staging/cloudflow"}

    def env(self) -> dict[str, str]:
        return self.handle.env()

    def upload(self, bucket: str, key: str, path: Path) -> None:
        self.handle.put_object(bucket, key, path.read_bytes())

    def read(self, bucket: str, key: str) -> bytes:
        with self.handle.store().open(bucket, key) as stream:
            return stream.read()


# --------------------------------------------------------------------------- data and results


def write_orders(path: Path, rows: int) -> None:
    """The CSV of ``scripts/demo.py``: every 50th order has amount -1."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["order_id", "amount"])
        for i in range(rows):
            writer.writerow([f"order-{i:06d}", "-1" if i % FAIL_EVERY == FAIL_EVERY - 1 else f"{(i % 97) + 1}.50"])


def expected_counts(rows: int) -> tuple[int, int]:
    failed = rows // FAIL_EVERY
    return rows - failed, failed


def count_results(read: Callable[[str, str], bytes], details: dict[str, str]) -> dict[str, int]:
    """Records per status from the manifest ``details`` points at, plus unique ExecutionNames."""
    manifest = json.loads(read(details["Bucket"], details["Key"]))
    bucket = manifest.get("DestinationBucket", details["Bucket"])
    counts: dict[str, int] = {}
    names: set[str] = set()
    for status, files in manifest["ResultFiles"].items():
        counts[status] = 0
        for entry in files:
            records = json.loads(read(bucket, entry["ObjectName"]))
            counts[status] += len(records)
            names.update(r["ExecutionName"] for r in records)
            del records
    counts["unique_names"] = len(names)
    return counts


def check_counts(label: str, rows: int, counts: dict[str, int]) -> list[str]:
    succeeded, failed = expected_counts(rows)
    problems = []
    if counts.get("SUCCEED", 0) != succeeded:
        problems.append(f"{label}: {counts.get('SUCCEED', 0)} succeeded, expected {succeeded}")
    if counts.get("FAILED", 0) != failed:
        problems.append(f"{label}: {counts.get('FAILED', 0)} failed, expected {failed}")
    others = {k: v for k, v in counts.items() if k not in ("SUCCEED", "FAILED", "unique_names") and v}
    if others:
        problems.append(f"{label}: unexpected result statuses {others}")
    if counts.get("unique_names") != rows:
        problems.append(f"{label}: {counts.get('unique_names')} unique ExecutionNames, expected {rows}")
    return problems


# --------------------------------------------------------------------------- task-process sampler


@dataclass
class ProcSeen:
    first: float
    last: float
    rss: int = 0
    hwm: int = 0  # VmHWM: the kernel's peak resident set of the process (covers spikes between samples)
    cpu: float = 0.0  # user + system seconds at the last sample
    first_rss: int = 0  # RSS when first seen (mostly what the fork inherited from the supervisor)


def _vm_hwm(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class TaskProcessSampler:
    """Every ``interval`` s: every process titled ``airflow worker -- <ti id>`` on this machine, with
    when it was first and last seen and its peak RSS. Keyed by TI id."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.seen: dict[str, ProcSeen] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TaskProcessSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            for proc in psutil.process_iter(["cmdline"]):
                try:
                    title = " ".join(proc.info["cmdline"] or ()).strip()
                    if not title.startswith(TASK_TITLE) or ":" in title[len(TASK_TITLE):]:
                        continue  # not a task process (the supervisor's is "... LocalExecutor: <id>")
                    ti_id = title[len(TASK_TITLE):].strip()
                    rss = proc.memory_info().rss
                    times = proc.cpu_times()
                except psutil.Error:
                    continue
                entry = self.seen.setdefault(ti_id, ProcSeen(now, now, first_rss=rss))
                entry.last = now
                entry.rss = max(entry.rss, rss)
                entry.cpu = max(entry.cpu, times.user + times.system)
                entry.hwm = max(entry.hwm, _vm_hwm(proc.pid))
            self._stop.wait(self.interval)

    def still_running(self) -> list[str]:
        """TI ids seen in the last sampling round (their task processes are alive)."""
        horizon = time.time() - 3 * self.interval - 0.5
        return [ti for ti, seen in self.seen.items() if seen.last >= horizon]


# --------------------------------------------------------------------------- REST helpers


def ts(value: str | None) -> float | None:
    return None if not value else datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def retrying(call: Callable[[], Any], attempts: int = 5) -> Any:
    """``call()``, again after a transport error (a REST call timing out while the api-server is
    saturated by task traffic on a loaded machine is not a failure of the run)."""
    for attempt in range(attempts):
        try:
            return call()
        except httpx.TransportError as exc:
            if attempt == attempts - 1:
                raise ClusterError(f"REST API unreachable after {attempts} attempts: {exc!r}") from exc
            print(f"(REST call failed: {exc!r}; retrying)", file=sys.stderr, flush=True)
            time.sleep(1 + attempt)


def api(cluster: Any, method: str, path: str, **kwargs: Any) -> Any:
    return retrying(lambda: cluster.api(method, path, **kwargs))


def all_task_instances(cluster: Any, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    """Every TI of a run (the API pages at ``[api] maximum_page_limit`` = 100)."""
    out: list[dict[str, Any]] = []
    while True:
        page = api(cluster, "GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                           params={"limit": 100, "offset": len(out), "order_by": "id"})
        out += page["task_instances"]
        if not page["task_instances"] or len(out) >= page["total_entries"]:
            return out


def wait_for_run(cluster: Any, dag_id: str, run_id: str, timeout: float) -> tuple[str, float]:
    """Poll the run every 0.2 s until it is success or failed: (state, time.time() when seen)."""
    def probe() -> str | None:
        state = api(cluster, "GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
        return state if state in ("success", "failed") else None

    if hasattr(cluster, "wait_until"):  # also fails fast when a component died
        state = cluster.wait_until(probe, timeout, f"run {run_id} of {dag_id}", interval=0.2)
        return state, time.time()
    deadline = time.monotonic() + timeout
    while (state := probe()) is None:
        if time.monotonic() > deadline:
            raise ClusterError(f"timed out after {timeout:.0f} s waiting for run {run_id} of {dag_id}")
        time.sleep(0.2)
    return state, time.time()


def wait_for_dags(cluster: Any, reserialize: Callable[[], Any], dag_ids: list[str], timeout: float = 300) -> None:
    """Wait until the API knows every DAG; reserialize again if the dag-processor is slow to."""
    deadline = time.monotonic() + timeout
    reserialized_at = time.monotonic()
    while True:
        missing = [d for d in dag_ids if api(cluster, "GET", f"/dags/{d}") is None]
        if not missing:
            return
        if time.monotonic() > deadline:
            raise ClusterError(f"DAGs not parsed after {timeout:.0f} s: {missing}\n{cluster.log_tails()}")
        if time.monotonic() - reserialized_at > 30:
            reserialize()
            reserialized_at = time.monotonic()
        time.sleep(0.5)


# --------------------------------------------------------------------------- measurements


@dataclass
class Measured:
    engine: str
    items: int
    seconds: float
    detail: dict[str, Any] = field(default_factory=dict)


def run_interpreter(work: Path, store: Path, flow: Path, rows: int, conf: dict[str, Any]) -> Measured:
    cmd = [str(BIN / "airflow-cloudflow"), "run", str(flow), "--engine", "interpreter", "--store", str(store),
           "--input", json.dumps(conf), "--json"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    load = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=work, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"interpreter failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["status"] != "Succeeded":
        raise SystemExit(f"interpreter run did not succeed: {result}")
    counts = count_results(lambda b, k: (store / b / k).read_bytes(), result["output"]["ResultWriterDetails"])
    return Measured("interpreter (CLI, whole command)", rows, seconds, {"counts": counts, "load": load})


class CpuMeter:
    """CPU seconds used between ``start`` and ``stop``: the whole machine; each component process's
    own threads; and the components' whole process trees (executor workers, task supervisors and
    task processes included: a live process counts its own time plus its reaped children's)."""

    def __init__(self, cluster: Any) -> None:
        self.roots: dict[str, psutil.Process] = {}
        for name, popen in (getattr(cluster, "processes", None) or {}).items():
            with contextlib.suppress(psutil.Error):
                self.roots[name] = psutil.Process(popen.pid)
        self.services: list[psutil.Process] = []  # the Celery harness's PostgreSQL and Redis
        for pid in (getattr(getattr(cluster, "postgres", None), "pid", None),
                    getattr(getattr(getattr(cluster, "redis", None), "process", None), "pid", None)):
            if isinstance(pid, int):  # psutil.Process(None) would be this process
                with contextlib.suppress(psutil.Error):
                    self.services.append(psutil.Process(pid))
        self.me = psutil.Process()
        self.used: dict[str, float] = {}
        self.machine = self.tree = self.bench = self.service = 0.0

    @staticmethod
    def _busy() -> float:
        t = psutil.cpu_times()
        return sum(t) - t.idle - getattr(t, "iowait", 0.0)

    @staticmethod
    def _times(proc: psutil.Process, children: bool = False) -> float:
        try:
            t = proc.cpu_times()
        except psutil.Error:
            return 0.0
        return t.user + t.system + ((t.children_user + t.children_system) if children else 0.0)

    def _tree(self, roots: Any) -> float:
        total = 0.0
        for root in roots:
            try:
                family = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            total += sum(self._times(p, children=True) for p in family)
        return total

    def _snapshot(self) -> tuple[float, float, float, float, dict[str, float]]:
        own = {name: self._times(proc) for name, proc in self.roots.items()}
        return self._busy(), self._tree(self.roots.values()), self._times(self.me), self._tree(self.services), own

    def start(self) -> None:
        self._before = self._snapshot()

    def stop(self) -> None:
        after = self._snapshot()
        self.machine, self.tree, self.bench, self.service = (a - b for a, b in zip(after[:4], self._before[:4]))
        self.used = {name: after[4][name] - self._before[4].get(name, 0.0) for name in after[4]}


def run_map(cluster: Any, storage: Any, rows: int, conf: dict[str, Any], timeout: float) -> Measured:
    """Trigger the Map flow, time it to success, break the run down by phase, check the results."""
    load = os.getloadavg()[0]
    cpu = CpuMeter(cluster)
    with TaskProcessSampler() as sampler:
        cpu.start()
        t0 = time.time()
        run_id = retrying(lambda: cluster.trigger(MAP_DAG, conf=conf), attempts=1)
        state, seen_end = wait_for_run(cluster, MAP_DAG, run_id, timeout)
        seconds = seen_end - t0
        cpu.stop()
        tis = all_task_instances(cluster, MAP_DAG, run_id)
        time.sleep(1.0)  # a moment more of sampling: which task processes outlive their TI
        lingering = sampler.still_running()
    if state != "success":
        bad = sorted({(t["task_id"], t["state"]) for t in tis if t["state"] != "success"})
        raise ClusterError(f"run {run_id} ended {state}: {bad}\n{cluster.log_tails()}")
    finish_output = retrying(lambda: cluster.xcom(MAP_DAG, run_id, "finish"))
    counts = count_results(storage.read, finish_output["ResultWriterDetails"])
    run = api(cluster, "GET", f"/dags/{MAP_DAG}/dagRuns/{run_id}")
    detail = {
        "run_id": run_id, "t0": t0, "seen_end": seen_end, "tis": tis, "counts": counts, "load": load,
        "procs": sampler.seen, "run_start": ts(run.get("start_date")), "run_end": ts(run.get("end_date")),
        "lingering": [t for t in tis if t["id"] in lingering], "cpu": cpu,
    }
    return Measured("scheduler, distributed Map", rows, seconds, detail)


def run_native(cluster: Any, items: int, timeout: float) -> Measured:
    t0 = time.time()
    run_id = retrying(lambda: cluster.trigger(NATIVE_DAG_ID), attempts=1)
    state, seen_end = wait_for_run(cluster, NATIVE_DAG_ID, run_id, timeout)
    tis = all_task_instances(cluster, NATIVE_DAG_ID, run_id)
    mapped = [t for t in tis if t["task_id"] == "process"]
    _, expected_failed = expected_counts(items)
    failed = sum(t["state"] == "failed" for t in mapped)
    problems = []
    if state != "success":
        problems.append(f"native run ended {state}")
    if len(mapped) != items or failed != expected_failed or len(mapped) - failed != items - expected_failed:
        problems.append(f"native: {len(mapped)} mapped TIs, {failed} failed (expected {items}, {expected_failed})")
    durations = [t["duration"] for t in mapped if t.get("duration") is not None]
    return Measured("native Airflow, one mapped TI per item", items, seen_end - t0,
                    {"run_id": run_id, "problems": problems, "durations": durations})


# --------------------------------------------------------------------------- reporting


def mb(value: int) -> str:
    return f"{value / 2**20:,.0f} MB" if value else "not seen"


def phase_report(m: Measured) -> list[str]:
    d = m.detail
    t0 = d["t0"]
    tis = d["tis"]
    process = sorted((t for t in tis if t["task_id"].endswith("__process")), key=lambda t: t["map_index"])
    writer = next(t for t in tis if t["task_id"].endswith("__results"))
    reader_id = writer["task_id"][: -len("__results")]
    reader = next(t for t in tis if t["task_id"] == reader_id)
    finish = next(t for t in tis if t["task_id"] == "finish")

    def start(t: dict) -> float:
        return ts(t["start_date"]) - t0

    def end(t: dict) -> float:
        return ts(t["end_date"]) - t0

    if not process or not all(t.get("start_date") and t.get("end_date") for t in [*process, reader, writer, finish]):
        return [f"\nMap run, {m.items:,} rows ({d['run_id']}): no shard TIs or missing dates",
                *(f"  {t['task_id']}[{t['map_index']}] {t['state']} {t['start_date']} → {t['end_date']}" for t in tis)]
    durations = [t["duration"] for t in process]
    first_start = min(start(t) for t in process)
    last_end = max(end(t) for t in process)
    span = last_end - first_start
    queue_delays = [ts(t["start_date"]) - ts(t["queued_when"]) for t in process if t.get("queued_when")]
    retried = sum(t["try_number"] > 1 for t in process)
    seen = d["procs"].get(writer["id"])
    rows = [
        ("trigger → reader starts (scheduling)", 0.0, start(reader)),
        (f"reader {reader['task_id']}", start(reader), reader["duration"]),
        ("  idle: reader end → first shard starts", end(reader), first_start - end(reader)),
        (f"shards {process[0]['task_id']} ×{len(process)}: span", first_start, span),
        ("  idle: last shard end → ResultWriter starts", last_end, start(writer) - last_end),
        (f"ResultWriter {writer['task_id']}", start(writer), writer["duration"]),
        ("  idle: ResultWriter end → finish starts", end(writer), start(finish) - end(writer)),
        ("finish", start(finish), finish["duration"]),
        ("  finish end → run success seen (0.2 s poll)", end(finish), m.seconds - end(finish)),
        ("trigger → run success seen", 0.0, m.seconds),
    ]
    out = [f"\nMap run, {m.items:,} rows ({d['run_id']}; load {d['load']:.1f} when triggered)",
           f"  {'phase':48} {'at s':>7} {'seconds':>8}"]
    out += [f"  {name:48} {at:>7.1f} {secs:>8.1f}" for name, at, secs in rows]
    busy = sum(durations)
    out.append(f"  shards: {len(process)} (items each ≈ {m.items / len(process):,.0f}), duration "
               f"min/mean/max {min(durations):.1f}/{statistics.mean(durations):.1f}/{max(durations):.1f} s, "
               f"Σ {busy:.0f} s = {busy / span:.1f} running on average over the span; "
               f"queued → running mean/max {statistics.mean(queue_delays):.1f}/{max(queue_delays):.1f} s"
               + (f"; {retried} retried" if retried else ""))
    rss = (f"ResultWriter task process peak RSS {mb(seen.hwm)} (VmHWM; sampled max {mb(seen.rss)}; "
           f"{mb(seen.first_rss)} when first seen, mostly inherited from its supervisor by the fork)") if seen \
        else "ResultWriter task process not seen by the sampler"
    out.append(f"  {rss}")
    cpu: CpuMeter = d["cpu"]
    task_cpu = {"reader": _cpu(d, [reader]), "shards": _cpu(d, process), "ResultWriter": _cpu(d, [writer]),
                "finish": _cpu(d, [finish])}
    tasks = sum(task_cpu.values())
    comps = ", ".join(f"{name} {secs:.1f}" for name, secs in cpu.used.items())
    out.append(f"  CPU s over the run: machine {cpu.machine:.0f} of {psutil.cpu_count() * m.seconds:.0f}; "
               f"Airflow (all its processes) {cpu.tree:.0f}; "
               + (f"PostgreSQL + Redis {cpu.service:.0f}; " if cpu.services else "")
               + f"this script {cpu.bench:.1f}; other tenants {cpu.machine - cpu.tree - cpu.service - cpu.bench:.0f}")
    out.append(f"    task processes {tasks:.1f}: reader {task_cpu['reader']:.1f}, shards {task_cpu['shards']:.1f} "
               f"({task_cpu['shards'] / len(process):.2f} each), ResultWriter {task_cpu['ResultWriter']:.1f}, "
               f"finish {task_cpu['finish']:.1f} (as last sampled)")
    out.append(f"    components' own threads: {comps}; executor workers + task supervisors "
               f"{cpu.tree - tasks - sum(cpu.used.values()):.0f}")
    hosts: dict[str, int] = {}
    for t in process:
        hosts[t.get("hostname") or "?"] = hosts.get(t.get("hostname") or "?", 0) + 1
    if len(hosts) > 1 or any(h.startswith("worker-") for h in hosts):
        out.append("  shards per worker: " + ", ".join(f"{h} {n}" for h, n in sorted(hosts.items()))
                   + f"; ResultWriter on {writer.get('hostname')}")
    if d["run_start"] and d["run_end"]:
        out.append(f"  run start_date → end_date (API): {d['run_end'] - d['run_start']:.1f} s; "
                   f"trigger → run start_date {d['run_start'] - t0:.1f} s")
    linger = []
    for t in tis:
        p = d["procs"].get(t["id"])
        if p and t.get("end_date") and p.last - ts(t["end_date"]) > 1.0:
            linger.append((p.last - ts(t["end_date"]), t["task_id"], t["map_index"]))
    if linger:
        worst = max(linger)
        out.append(f"  task processes alive > 1 s after their TI ended: {len(linger)} "
                   f"(worst {worst[0]:.1f} s: {worst[1]}[{worst[2]}])")
    if d["lingering"]:
        out.append(f"  still alive 1 s after the run ended: {[(t['task_id'], t['map_index']) for t in d['lingering']]}")
    return out


def _cpu(d: dict[str, Any], tis: list[dict[str, Any]]) -> float:
    return sum(p.cpu for t in tis if (p := d["procs"].get(t["id"])))


def print_report(results: list[Measured], native: Measured | None) -> None:
    interp = {m.items: m for m in results if m.engine.startswith("interpreter")}
    base_native = interp[min(interp)] if interp else None
    print(f"\n{'engine':40} {'items':>10} {'seconds':>9} {'items/s':>10} {'× interpreter':>14}")
    for m in results + ([native] if native else []):
        rate = m.items / m.seconds
        ref = interp.get(m.items) or base_native
        ratio = rate / (ref.items / ref.seconds) if ref else float("nan")
        note = "" if ref is None or ref.items == m.items else f"  (vs {ref.items:,})"
        print(f"{m.engine:40} {m.items:>10,} {m.seconds:>9.1f} {rate:>10,.0f} {ratio:>13.2f}x{note}")
    if native:
        rate = native.items / native.seconds
        d = native.detail["durations"]
        print(f"native: mapped TI duration mean {statistics.mean(d):.2f} s; at {rate:,.1f} items/s "
              f"1,000,000 items would take {1_000_000 / rate / 3600:.1f} h")
    for m in results:
        if not m.engine.startswith("scheduler"):
            continue
        for line in phase_report(m):
            print(line)
    print("\ntargets:")
    for rows, target in sorted(TARGETS.items(), reverse=True):
        sched = next((m for m in results if m.engine.startswith("scheduler") and m.items == rows), None)
        if sched is None or rows not in interp:
            print(f"  {rows:>9,} items: scheduler ≥ {target:.1f}× interpreter: not measured")
            continue
        ratio = (rows / sched.seconds) / (rows / interp[rows].seconds)
        print(f"  {rows:>9,} items: scheduler ≥ {target:.1f}× interpreter: {ratio:.2f}× "
              f"{'met' if ratio >= target else 'NOT met'}")
    for m in results:
        if m.engine.startswith("scheduler"):
            writer = next((t for t in m.detail["tis"] if t["task_id"].endswith("__results")), None)
            seen = m.detail["procs"].get(writer["id"]) if writer else None
            print(f"  ResultWriter peak RSS at {m.items:,} rows: {mb(seen.hwm) if seen else 'not seen'}")


# --------------------------------------------------------------------------- clusters


KEEP_SETTINGS = {"AIRFLOW__CORE__LOAD_EXAMPLES", "AIRFLOW__CORE__EXECUTOR", "AIRFLOW__API__HOST",
                 "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"}
"""Of the test harness's tuned settings, the ones a run here needs; the others go back to Airflow's defaults."""


@contextlib.contextmanager
def local_cluster(work: Path, args: argparse.Namespace) -> Iterator[tuple[Any, Any]]:
    """LocalExecutor on SQLite: the store is a local folder (``local_store``), staging Airflow's default."""
    home = BenchHome(root=work / "airflow", dags_folder=work / "airflow" / "dags")
    storage = LocalStorage(work / "store")
    dag_ids = write_dags(home.dags_folder, storage, args.native)
    home.airflow("db", "migrate")
    home.airflow("dags", "reserialize")  # the dag-processor would only list new files every 300 s
    with AirflowCluster(home) as cluster:  # type: ignore[arg-type]  (BenchHome: root + process_env)
        ready(cluster, lambda: home.airflow("dags", "reserialize"), dag_ids)
        yield cluster, storage


@contextlib.contextmanager
def celery_cluster(work: Path, args: argparse.Namespace) -> Iterator[tuple[Any, Any]]:
    """CeleryExecutor through ``tests/providers/celery_cluster.py`` (PostgreSQL, Redis, workers that
    share no disk); input, staging and results on the local OSS test server. The harness's tuned
    test settings are put back to Airflow's defaults (``[core] parallelism`` too), except
    ``KEEP_SETTINGS``; ``[celery] worker_concurrency`` is ``--concurrency`` (Airflow's default 16)."""
    try:
        from tests.providers.celery_cluster import CeleryCluster
    except ImportError as exc:
        raise SystemExit(f"--executor celery needs tests/providers/celery_cluster.py ({exc})") from None
    from tests.providers.airflow_env import AIRFLOW_BIN, TEST_SETTINGS
    from tests.support.servers import start_oss_server

    settings = airflow_defaults([k for k in TEST_SETTINGS if k not in KEEP_SETTINGS] + ["AIRFLOW__CORE__PARALLELISM"])
    oss = start_oss_server()
    try:
        storage = ServerStorage(oss)
        dag_ids = write_dags(work / "dags", storage, args.native)
        with CeleryCluster(work / "celery", env=storage.env(), workers=args.workers, concurrency=args.concurrency,
                           dags=work / "dags", settings=settings) as cluster:
            def reserialize() -> None:
                done = subprocess.run([AIRFLOW_BIN, "dags", "reserialize"], env=cluster.component_env(),
                                      capture_output=True, text=True, timeout=600)
                if done.returncode != 0:
                    raise SystemExit(f"airflow dags reserialize failed:\n{done.stderr[-3000:]}")

            reserialize()
            ready(cluster, reserialize, dag_ids)
            yield cluster, storage
    finally:
        oss.stop()


def airflow_defaults(env_keys: list[str]) -> dict[str, str]:
    """Airflow's own default of each ``AIRFLOW__SECTION__OPTION``, from its ``config.yml`` (read as a
    file: importing airflow here would pin this process's configuration)."""
    import importlib.util

    import yaml

    spec = importlib.util.find_spec("airflow")
    assert spec and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "config_templates" / "config.yml"
    config = yaml.safe_load(path.read_text())
    out = {}
    for key in env_keys:
        _, section, option = key.split("__", 2)
        default = config.get(section.lower(), {}).get("options", {}).get(option.lower(), {}).get("default")
        if default is not None:
            out[key] = str(default)
    return out


def write_dags(folder: Path, storage: Any, native: int) -> list[str]:
    """The Map flow (with its loader and a sidecar for ``storage``) and the native DAG; their ids."""
    from airflow_cloudflow.loader_file import LOADER_SOURCE

    flows = folder / "flows"
    flows.mkdir(parents=True)
    (flows / "cloudflow_dags.py").write_text(LOADER_SOURCE)
    shutil.copyfile(FLOW_FILE, flows / FLOW_FILE.name)
    sidecar = {**storage.sidecar(), "tags": ["bench"],
               "default_input": {"bucket": BUCKET, "object": "orders.csv", "currency": "EUR"}}
    (flows / "orders_map.airflow.yaml").write_text(json.dumps(sidecar, indent=2))
    dag_ids = [MAP_DAG]
    if native:
        (folder / "bench_native.py").write_text(NATIVE_DAG.replace("__N__", str(native)))
        dag_ids.append(NATIVE_DAG_ID)
    return dag_ids


def ready(cluster: Any, reserialize: Callable[[], Any], dag_ids: list[str]) -> None:
    """Wait until the API knows the DAGs, then unpause them ([core] dags_are_paused_at_creation
    stays at its default, True)."""
    wait_for_dags(cluster, reserialize, dag_ids)
    for dag_id in dag_ids:
        api(cluster, "PATCH", f"/dags/{dag_id}", json={"is_paused": False})


def sweep(work: Path) -> list[int]:
    """Kill (by pid) any process still running with an AIRFLOW_HOME or an argument under ``work``
    (this benchmark's own); returns their pids."""
    mine = {os.getpid(), *(p.pid for p in psutil.Process().parents())}
    prefix = str(work)
    killed = []
    for proc in psutil.process_iter():
        try:
            if proc.pid in mine:
                continue
            ours = proc.environ().get("AIRFLOW_HOME", "").startswith(prefix) or any(
                prefix in arg for arg in proc.cmdline())
            if ours:
                proc.kill()
                killed.append(proc.pid)
        except psutil.Error:
            continue
    return killed


def _terminate(signum: int, frame: Any) -> None:
    """Ctrl-C or SIGTERM: unwind (the ``finally`` blocks stop every process); a second signal
    during that clean-up is ignored so it cannot leave processes behind."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print(f"\n{signal.Signals(signum).name}: stopping every process of the benchmark …", file=sys.stderr, flush=True)
    raise KeyboardInterrupt(signal.Signals(signum).name)


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, action="append",
                        help="CSV rows of one Map run; repeatable (default: 100000 and 1000000)")
    parser.add_argument("--native", type=int, default=1000,
                        help="items of the native one-TI-per-item run (≤ 1024; 0 skips it)")
    parser.add_argument("--executor", choices=("local", "celery"), default="local")
    parser.add_argument("--workers", type=int, default=2, help="Celery workers (--executor celery)")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="[celery] worker_concurrency of each worker (Airflow's default: 16)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds one run may take")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, store) and print it")
    args = parser.parse_args()
    sizes = args.rows or [100_000, 1_000_000]
    if not 0 <= args.native <= 1024:
        parser.error("--native must be between 0 and 1024 ([core] max_map_length)")
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _terminate)

    work = Path(tempfile.mkdtemp(prefix="cloudflow-bench-sched-"))
    local_store = work / "store"
    results: list[Measured] = []
    native: Measured | None = None
    problems: list[str] = []
    started = time.monotonic()
    try:
        opener = local_cluster if args.executor == "local" else celery_cluster
        with opener(work, args) as (cluster, storage):
            print(f"cluster up in {cluster.start_seconds:.0f} s ({args.executor}; {work})", flush=True)
            try:
                for rows in sizes:
                    name = f"orders-{rows}.csv"
                    csv_path = local_store / BUCKET / name
                    write_orders(csv_path, rows)
                    storage.upload(BUCKET, name, csv_path)
                    conf = {"bucket": BUCKET, "object": name, "currency": "EUR"}
                    interp = run_interpreter(work, local_store, FLOW_FILE, rows, conf)
                    problems += check_counts(f"interpreter {rows:,}", rows, interp.detail["counts"])
                    results.append(interp)
                    print(f"{rows:,} rows: interpreter {interp.seconds:.1f} s", flush=True)
                    sched = run_map(cluster, storage, rows, conf, args.timeout)
                    problems += check_counts(f"scheduler {rows:,}", rows, sched.detail["counts"])
                    results.append(sched)
                    print(f"{rows:,} rows: scheduler {sched.seconds:.1f} s", flush=True)
                if args.native:
                    native = run_native(cluster, args.native, args.timeout)
                    problems += native.detail["problems"]
                    print(f"native {args.native} items: {native.seconds:.1f} s", flush=True)
            except ClusterError as exc:  # report what was measured before it; exit 1
                problems.append(f"aborted: {str(exc)[:4000]}")
    finally:
        leftovers = sweep(work)
        if leftovers:
            print(f"killed {len(leftovers)} leftover processes of this benchmark: {leftovers}", file=sys.stderr)
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_report(results, native)
    print(f"\n(whole benchmark {time.monotonic() - started:.0f} s; load now {os.getloadavg()[0]:.1f}; "
          f"Airflow and [cloudflow] defaults: [core] parallelism 32, max_active_tasks_per_dag 16)")
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems))
        return 1
    print("result counts: exact (98 % succeeded, 2 % failed, every ExecutionName once)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted; every process of the benchmark is stopped")
    except ClusterError as exc:
        sys.exit(f"benchmark failed: {exc}")
