"""Airflow with the CeleryExecutor, its workers set up as if each ran on a machine of its own.

* PostgreSQL 15 (``tests/support/postgres.py``) is the metadata DB and Celery's result backend;
  Redis (``tests/support/redis_server.py``) is the broker. Both on 127.0.0.1, thrown away on exit.
* The control plane (api-server, scheduler, dag-processor, triggerer) is an ``AirflowCluster`` on
  one home (``<work_dir>/control``), migrated with ``airflow db migrate``.
* Each Celery worker (``airflow celery worker --skip-serve-logs``) has its own directory
  ``<work_dir>/worker-<n>``: its AIRFLOW_HOME (logs, config), its own copy of the DAGs folder, its
  own TMPDIR and HOME. Workers share no disk with each other or with the control plane; they share
  only the metadata DB, the broker, the execution API URL, the JWT secret and the environment given
  as ``env`` (connections, e.g. to the local S3/OSS test servers).
* ``[core] hostname_callable`` on worker ``worker-<n>`` returns ``worker-<n>``, so a task
  instance's ``hostname`` (REST API) tells which worker ran it.

Inside or outside pytest (outside, put the repository root on ``sys.path``; this module imports
no Airflow, it drives ``airflow`` subprocesses and the REST API)::

    from tests.providers.celery_cluster import CeleryCluster

    with CeleryCluster("/tmp/work", env={"AIRFLOW_CONN_OSS_DEFAULT": ...}, workers=2, concurrency=2,
                       dags=Path("my_dags")) as cluster:
        print(cluster.timings)               # seconds: postgres, redis, db_migrate, control_plane, workers, total
        cluster.wait_for_dag("orders_map"); cluster.unpause("orders_map")
        run_id = cluster.trigger("orders_map", conf={...})
        cluster.wait_for_run("orders_map", run_id)
        cluster.task_instances("orders_map", run_id)   # .hostname: "worker-1" / "worker-2"
        cluster.kill_worker("worker-1")      # SIGKILL its process group and every descendant
        cluster.start_worker()               # a fresh worker-3 (own home, TMPDIR, DAGs copy)

Every component and worker runs in its own process group; on exit the groups and every descendant
are killed, then Redis and PostgreSQL are stopped. ``timings`` holds how long each start-up phase took.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import tempfile
import textwrap
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from tests.providers.airflow_env import AIRFLOW_BIN, AirflowHome, create_home, migrate
from tests.providers.cluster import AirflowCluster, ClusterError, process_family
from tests.support.postgres import PostgresServer
from tests.support.redis_server import RedisServer

HOSTNAME_ENV = "CLOUDFLOW_TEST_WORKER_HOSTNAME"
HOSTNAME_MODULE = "cloudflow_test_hostname"
HOSTNAME_SOURCE = textwrap.dedent(f'''\
    """[core] hostname_callable of a test Celery worker: the name the harness gave it."""
    import os
    import socket


    def hostname() -> str:
        return os.environ.get("{HOSTNAME_ENV}") or socket.getfqdn()
    ''')
WORKER_READY = " ready."
"""What Celery logs once a worker consumes its queues (``celery@worker-1 ready.``)."""


@dataclass(frozen=True)
class CeleryWorker:
    """One worker's private world; ``name`` is both its Celery node name and its TI hostname."""

    name: str
    root: Path
    home: AirflowHome
    tmp_dir: Path
    concurrency: int
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    """The environment the worker was started with."""

    @property
    def log_path(self) -> Path:
        return self.root / "worker.log"


class CeleryCluster(AirflowCluster):
    """``with CeleryCluster(work_dir, env=..., workers=2, concurrency=2, dags=folder) as cluster:``.

    ``work_dir``: where the homes and logs go (a fresh temp directory, removed on exit, when None;
    a given directory is left in place with the logs). ``env``: extra environment for every
    component and worker (connections ``AIRFLOW_CONN_*``, ``[cloudflow]`` options...). ``dags``: a
    folder copied into the control plane's DAGs folder and into each worker's own copy.
    ``settings``: more Airflow options for every process, over the Celery test defaults.
    """

    def __init__(
        self,
        work_dir: str | Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        workers: int = 2,
        concurrency: int = 2,
        dags: str | Path | None = None,
        settings: Mapping[str, str] | None = None,
        startup_timeout: float = 300.0,
    ) -> None:
        self._own_work_dir = work_dir is None
        self.work_dir = Path(work_dir or tempfile.mkdtemp(prefix="celery-cluster-")).resolve()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.worker_count = workers
        self.concurrency = concurrency
        self.dags_source = Path(dags) if dags is not None else None
        self.postgres = PostgresServer()  # in the system temp dir: the postgres user must reach it
        self.redis = RedisServer(parent=self.work_dir)
        self.celery_settings = {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(max(8, 2 * workers * concurrency)),
            "AIRFLOW__CELERY__BROKER_URL": self.redis.url,
            "AIRFLOW__CELERY__RESULT_BACKEND": self.postgres.celery_result_backend,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(concurrency),
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "86400",
            **(settings or {}),
        }
        home = create_home(
            root=self.work_dir / "control",
            jwt_secret=secrets.token_urlsafe(64),  # >= 64 bytes: no short-HMAC-key warning
            db_url=self.postgres.url,
            settings=self.celery_settings,
        )
        super().__init__(
            home, startup_timeout=startup_timeout, extra_env=env, log_dir=self.work_dir / "control-logs"
        )
        self.workers: dict[str, CeleryWorker] = {}
        self._worker_serial = 0
        self.timings: dict[str, float] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        started = time.monotonic()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.postgres.start()
        self.timings["postgres"] = self.postgres.start_seconds
        self.redis.start()
        self.timings["redis"] = self.redis.start_seconds
        if self.dags_source is not None:
            shutil.copytree(self.dags_source, self.home.dags_folder, dirs_exist_ok=True)
        self.timings["db_migrate"] = migrate(self.home)
        super().start()
        self.timings["control_plane"] = self.start_seconds
        phase = time.monotonic()
        names = [self.start_worker(wait=False).name for _ in range(self.worker_count)]
        for name in names:
            self.wait_for_worker(name)
        self.timings["workers"] = time.monotonic() - phase
        self.start_seconds = time.monotonic() - started
        self.timings["total"] = self.start_seconds

    def stop(self, grace: float = 20.0) -> None:
        try:
            super().stop(grace)
        finally:
            self.redis.stop()
            self.postgres.stop()
            if self._own_work_dir:
                shutil.rmtree(self.work_dir, ignore_errors=True)

    # -- workers ---------------------------------------------------------------------------

    def start_worker(self, *, concurrency: int | None = None, wait: bool = True) -> CeleryWorker:
        """Start a new worker ``worker-<n>`` (n counts up, never reused) with a fresh copy of the
        control plane's DAGs folder; waits until Celery reports it ready unless ``wait=False``."""
        self._worker_serial += 1
        name = f"worker-{self._worker_serial}"
        concurrency = concurrency or self.concurrency
        root = self.work_dir / name
        tmp_dir = root / "tmp"
        pylib = root / "pylib"
        for folder in (tmp_dir, pylib):
            folder.mkdir(parents=True, exist_ok=True)
        (pylib / f"{HOSTNAME_MODULE}.py").write_text(HOSTNAME_SOURCE)
        home = create_home(
            root=root / "home",
            jwt_secret=self.home.jwt_secret,
            db_url=self.postgres.url,
            settings={**self.celery_settings, "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(concurrency)},
        )
        shutil.copytree(self.home.dags_folder, home.dags_folder, dirs_exist_ok=True)
        env = home.process_env(**{
            **self.extra_env,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": self.execution_api_url,
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{HOSTNAME_MODULE}.hostname",
            HOSTNAME_ENV: name,
            "TMPDIR": str(tmp_dir),
            "HOME": str(root),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(pylib), os.environ.get("PYTHONPATH")])),
        })
        worker = CeleryWorker(name=name, root=root, home=home, tmp_dir=tmp_dir, concurrency=concurrency, env=env)
        args = [AIRFLOW_BIN, "celery", "worker", "--skip-serve-logs", "--celery-hostname", name,
                "--concurrency", str(concurrency), "--without-gossip", "--without-mingle"]
        self.workers[name] = worker
        self.spawn(name, args, env=env, cwd=root, log_path=worker.log_path)
        if wait:
            self.wait_for_worker(name)
        return worker

    def wait_for_worker(self, name: str, timeout: float = 120.0) -> None:
        """Wait until worker ``name`` consumes its queues."""
        log = self.workers[name].log_path
        self.wait_until(
            lambda: log.exists() and WORKER_READY in log.read_text(errors="replace"), timeout, f"{name} ready"
        )

    def kill_worker(self, name: str) -> list[int]:
        """SIGKILL worker ``name``: the Celery main process's whole process group, its forked pool
        processes and the task supervisors and task processes below them. Returns the pids."""
        if name not in self.workers or name not in self.processes:
            raise ClusterError(f"no running worker {name!r} (running: {self.live_workers()})")
        return self.kill_group(name)

    def live_workers(self) -> list[str]:
        return [name for name in self.workers if name in self.processes]

    def worker_pids(self, name: str) -> list[int]:
        """The worker's main process and every descendant (pool processes, supervisors, tasks)."""
        proc = self.processes.get(name)
        return [] if proc is None else [p.pid for p in process_family(proc.pid)]

    def listening_sockets(self) -> dict[str, list[tuple[str, int]]]:
        """Every address a process of the cluster listens on (TCP listen, bound UDP), by component:
        the control plane's components, each live worker, ``postgres`` and ``redis``."""
        roots = {name: proc.pid for name, proc in self.processes.items()}
        roots["redis"] = self.redis.process.pid if self.redis.process else None
        roots["postgres"] = self.postgres.pid
        found: dict[str, list[tuple[str, int]]] = {}
        for name, pid in roots.items():
            addresses: set[tuple[str, int]] = set()
            for proc in process_family(pid) if pid else []:
                try:
                    connections = proc.net_connections(kind="inet")
                except psutil.Error:
                    continue
                for conn in connections:
                    listening = conn.status == psutil.CONN_LISTEN or (
                        conn.type == socket.SOCK_DGRAM and conn.laddr and not conn.raddr
                    )
                    if listening:
                        addresses.add((conn.laddr.ip, conn.laddr.port))
            found[name] = sorted(addresses)
        return found

    # -- DAG files -------------------------------------------------------------------------

    def deploy(self, relative_path: str, content: str | bytes) -> None:
        """Write one file into the control plane's DAGs folder and every worker's own copy."""
        folders = [self.home.dags_folder, *(w.home.dags_folder for w in self.workers.values())]
        for folder in folders:
            path = folder / relative_path
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)

    def log_tails(self, lines: int = 30) -> str:
        tails = super().log_tails(lines)
        for worker in self.workers.values():
            if worker.log_path.exists():
                tail = worker.log_path.read_text(errors="replace").splitlines()[-lines:]
                tails += f"\n--- {worker.name} ({worker.log_path}) ---\n" + "\n".join(tail)
        for name in ("postgres", "redis"):
            server = getattr(self, name)
            tail = server.log_tail(lines)
            if tail:
                tails += f"\n--- {name} ---\n{tail}"
        return tails

