"""A real Airflow on 127.0.0.1: api-server, dag-processor, scheduler and triggerer as processes.

They share the session's SQLite home and run tasks with the LocalExecutor. ``AirflowCluster`` is a
context manager: every component gets its own process group, and on exit the groups and every
descendant (task supervisors and task processes, which start their own groups) are killed.
The REST API (``/api/v2``) is reached with a token from the simple auth manager (all admins).
``tests/providers/celery_cluster.py`` builds the PostgreSQL + Redis + CeleryExecutor variant on it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil

from tests.support.ports import free_port
from tests.providers.airflow_env import AIRFLOW_BIN, AirflowHome
from tests.support.lifecycle import StartStop

T = TypeVar("T")
COMPONENTS = ("api-server", "dag-processor", "scheduler", "triggerer")
TERMINAL_RUN_STATES = {"success", "failed"}


class ClusterError(RuntimeError):
    """A component died, the API refused a call, or a wait ran out; carries the logs' tails."""


@dataclass(frozen=True)
class TaskInstanceInfo:
    """One task instance as the REST API reports it."""

    id: str
    task_id: str
    map_index: int
    state: str | None
    try_number: int
    pid: int | None
    rendered_map_index: str | None
    hostname: str | None = None
    """What ``[core] hostname_callable`` returned on the worker that ran (or runs) this try."""


def _component_args(name: str, port: int) -> list[str]:
    if name == "api-server":
        return [name, "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    if name in ("scheduler", "triggerer"):
        return [name, "--skip-serve-logs"]
    return [name]


class AirflowCluster(StartStop):
    """Start with ``with AirflowCluster(home) as cluster:``; ``start_seconds`` is the time to healthy."""

    def __init__(
        self,
        home: AirflowHome,
        *,
        startup_timeout: float = 240.0,
        components: tuple[str, ...] = COMPONENTS,
        extra_env: Mapping[str, str] | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.home = home
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.startup_timeout = startup_timeout
        self.components = components
        self.extra_env = dict(extra_env or {})
        self.log_dir = log_dir or home.root / "cluster-logs"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.stopped: dict[str, subprocess.Popen[bytes]] = {}
        """Processes killed on purpose (``kill_group``): no longer checked for being alive."""
        self.start_seconds = 0.0
        self._client: httpx.Client | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def component_env(self) -> dict[str, str]:
        """The environment of the control-plane components (api-server, scheduler, ...)."""
        return self.home.process_env(
            AIRFLOW__API__PORT=str(self.port),
            AIRFLOW__API__BASE_URL=self.base_url,
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=self.execution_api_url,
            AIRFLOW__API__WORKERS="1",
            **self.extra_env,
        )

    @property
    def execution_api_url(self) -> str:
        return f"{self.base_url}/execution/"

    def start(self) -> None:
        started = time.monotonic()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = self.component_env()
        for name in self.components:
            self.spawn(name, [AIRFLOW_BIN, *_component_args(name, self.port)], env=env, cwd=self.home.root)
        self.wait_until(self._healthy, self.startup_timeout, "all components healthy")
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self._token()}"},
            timeout=30,
            trust_env=False,  # never route 127.0.0.1 through a proxy from the environment
        )
        self.start_seconds = time.monotonic() - started

    def spawn(
        self, name: str, args: list[str], *, env: Mapping[str, str], cwd: Path, log_path: Path | None = None
    ) -> subprocess.Popen[bytes]:
        """Start one process in its own process group, logging to ``log_path`` (``<log_dir>/<name>.log``)."""
        with open(log_path or self.log_dir / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                args,
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = proc
        return proc

    def kill_group(self, name: str) -> list[int]:
        """SIGKILL process ``name``'s whole process group and every descendant (also those in other
        groups, such as task processes); returns the pids killed. It is not restarted."""
        proc = self.processes.pop(name)
        self.stopped[name] = proc
        family = process_family(proc.pid)
        _signal_group(proc.pid, signal.SIGKILL)
        for member in family:
            _kill(member.pid)
        psutil.wait_procs(family, timeout=10)
        proc.wait(timeout=10)
        return [member.pid for member in family]

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM every component's process group, then SIGKILL whatever is left (descendants too)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        family = self._all_processes()
        for proc in self.processes.values():
            _signal_group(proc.pid, signal.SIGTERM)
        _, alive = psutil.wait_procs(family, timeout=grace)
        for proc in self.processes.values():
            _signal_group(proc.pid, signal.SIGKILL)
        for leftover in alive:
            _kill(leftover.pid)
        psutil.wait_procs(alive, timeout=5)
        for proc in [*self.processes.values(), *self.stopped.values()]:
            if proc.poll() is None:
                proc.wait(timeout=5)
        self.processes.clear()
        self.stopped.clear()  # their groups were SIGKILLed and reaped by kill_group

    def _all_processes(self) -> list[psutil.Process]:
        family: list[psutil.Process] = []
        for proc in self.processes.values():
            family += process_family(proc.pid)
        return family

    # -- waiting ---------------------------------------------------------------------------

    def wait_until(self, probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.5) -> T:
        """Poll ``probe`` until it returns something truthy; fail with the logs if a component died.
        A probe whose API call timed out (the api-server is slow on a loaded machine) is asked again."""
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            try:
                value = probe()
            except httpx.TimeoutException:
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.log_tails()}")
            time.sleep(interval)

    def _check_alive(self) -> None:
        dead = {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}
        if dead:
            raise ClusterError(f"components exited: {dead}\n{self.log_tails()}")

    def _healthy(self) -> bool:
        try:
            health = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5, trust_env=False).json()
        except (httpx.HTTPError, ValueError):
            return False
        parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
        return all((health.get(part) or {}).get("status") == "healthy" for part in parts)

    def log_tails(self, lines: int = 30) -> str:
        out = []
        for path in sorted(self.log_dir.glob("*.log")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.name} ---\n" + "\n".join(tail))
        return "\n".join(out)

    # -- REST API --------------------------------------------------------------------------

    def _token(self) -> str:
        response = httpx.get(f"{self.base_url}/auth/token", timeout=10, trust_env=False)
        if response.status_code >= 400:
            raise ClusterError(f"cannot get a token: {response.status_code} {response.text}")
        return response.json()["access_token"]

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """One ``/api/v2`` call; returns the decoded JSON (``None`` for 404 on GET)."""
        assert self._client is not None, "cluster not started"
        response = self._client.request(method, f"/api/v2{path}", **kwargs)
        if method == "GET" and response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise ClusterError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def wait_for_dag(self, dag_id: str, timeout: float = 120.0) -> dict:
        """Wait until the dag-processor has parsed ``dag_id`` (it lists the folder every 2 s)."""
        return self.wait_until(lambda: self.api("GET", f"/dags/{dag_id}"), timeout, f"DAG {dag_id} parsed")

    def unpause(self, dag_id: str) -> None:
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        """Trigger a manual run with ``conf``; returns its run id."""
        body = {"logical_date": None, "conf": dict(conf or {})}
        return self.api("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300.0) -> str:
        """Wait until the run is success or failed; returns that state."""
        return self.wait_until(
            lambda: (s := self.run_state(dag_id, run_id)) in TERMINAL_RUN_STATES and s,
            timeout,
            f"run {run_id} of {dag_id} to finish",
            interval=1.0,
        )

    def task_instances(self, dag_id: str, run_id: str) -> list[TaskInstanceInfo]:
        data = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 1000})
        return sorted(
            (
                TaskInstanceInfo(
                    id=ti["id"],
                    task_id=ti["task_id"],
                    map_index=ti["map_index"],
                    state=ti["state"],
                    try_number=ti["try_number"],
                    pid=ti.get("pid"),
                    rendered_map_index=ti.get("rendered_map_index"),
                    hostname=ti.get("hostname") or None,
                )
                for ti in data["task_instances"]
            ),
            key=lambda ti: (ti.task_id, ti.map_index),
        )

    def task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> TaskInstanceInfo:
        return next(
            ti
            for ti in self.task_instances(dag_id, run_id)
            if ti.task_id == task_id and ti.map_index == map_index
        )

    def task_instance_tries(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> list[dict]:
        """Every try of one task instance (``try_number``, ``state``, ``hostname``...), oldest first."""
        data = self.api(
            "GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/tries"
        )
        return sorted(data["task_instances"], key=lambda t: t["try_number"])

    def xcom(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1, key: str = "return_value") -> Any:
        entry = self.api(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
            params={"map_index": map_index, "deserialize": True},
        )
        return None if entry is None else entry["value"]

    # -- task processes --------------------------------------------------------------------

    def task_processes(self, ti_id: str) -> TaskProcesses | None:
        """The running task process of a TI and its supervisor (the LocalExecutor worker).

        The task process retitles itself ``airflow worker -- <ti id>``; its parent is the
        supervisor, a LocalExecutor worker forked by the scheduler and retitled
        ``airflow worker -- LocalExecutor: <ti id>`` while it runs that TI.
        """
        scheduler = self.processes.get("scheduler")
        if scheduler is None:
            return None
        try:
            candidates = psutil.Process(scheduler.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return None
        task_title = f"airflow worker -- {ti_id}"  # the supervisor's is "... LocalExecutor: <ti id>"
        for proc in candidates:
            try:
                if " ".join(proc.cmdline()).strip() == task_title:
                    return TaskProcesses(task_pid=proc.pid, supervisor_pid=proc.ppid())
            except psutil.Error:
                continue
        return None


@dataclass(frozen=True)
class TaskProcesses:
    """PIDs of one running task instance under the LocalExecutor."""

    task_pid: int
    """The forked task process (runs the operator; its own process group)."""
    supervisor_pid: int
    """The supervisor that forked it and heartbeats for it (a LocalExecutor worker)."""


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def process_family(pid: int) -> list[psutil.Process]:
    """The process and all its descendants (empty once it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def read_pid(path: Path) -> int | None:
    """The pid a spike task wrote into ``path``, or None while it is not written yet."""
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text else None
