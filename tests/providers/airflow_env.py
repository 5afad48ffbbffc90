"""A throw-away Airflow installation for tests: home, DAGs folder, SQLite DB, environment.

Airflow reads its configuration when ``airflow`` is first imported, so ``activate`` must run before
that (``tests/providers/conftest.py`` calls it at import time). This module imports no Airflow.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
AIRFLOW_BIN = str(VENV_BIN / "airflow")

# Tuned for tests: parse new files within seconds, notice dead task processes within ~15 s.
TEST_SETTINGS: dict[str, str] = {
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
    "AIRFLOW__CORE__PARALLELISM": "4",
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "2",
    "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "15",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
    "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "2",
    "AIRFLOW__API__HOST": "127.0.0.1",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
}


@dataclass(frozen=True)
class AirflowHome:
    """Where a test Airflow lives; ``env`` is what every Airflow process of it must see.

    ``db_url`` replaces the SQLite file in ``root`` (e.g. a PostgreSQL URL); ``settings`` are
    applied over ``TEST_SETTINGS`` (e.g. ``AIRFLOW__CORE__EXECUTOR``).
    """

    root: Path
    dags_folder: Path
    jwt_secret: str
    db_url: str | None = None
    settings: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def db_path(self) -> Path:
        return self.root / "airflow.db"

    @property
    def sql_alchemy_conn(self) -> str:
        return self.db_url or f"sqlite:///{self.db_path}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "AIRFLOW_HOME": str(self.root),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.sql_alchemy_conn,
            "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
            **TEST_SETTINGS,
            **self.settings,
        }

    def process_env(self, **extra: str) -> dict[str, str]:
        """A full environment for an Airflow subprocess of this home."""
        return {**os.environ, **self.env, **extra}

    def write_dag(self, name: str, source: str) -> Path:
        """Write a DAG file (dedented) into the DAGs folder; returns its path."""
        path = self.dags_folder / name
        path.write_text(textwrap.dedent(source))
        return path

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def create_home(
    parent: str | Path | None = None,
    *,
    root: str | Path | None = None,
    jwt_secret: str | None = None,
    db_url: str | None = None,
    settings: Mapping[str, str] | None = None,
) -> AirflowHome:
    """Make an empty home with a DAGs folder (no DB yet): a new temp directory under ``parent``,
    or the given ``root`` (created). ``jwt_secret`` defaults to a fresh random one."""
    if root is None:
        home_root = Path(tempfile.mkdtemp(prefix="airflow-home-", dir=parent))
    else:
        home_root = Path(root)
        home_root.mkdir(parents=True, exist_ok=True)
    dags = home_root / "dags"
    dags.mkdir(exist_ok=True)
    return AirflowHome(
        root=home_root,
        dags_folder=dags,
        jwt_secret=jwt_secret or secrets.token_urlsafe(32),
        db_url=db_url,
        settings=dict(settings or {}),
    )


def activate(home: AirflowHome) -> None:
    """Point this process's future ``import airflow`` at ``home``; refuses if it is too late."""
    loaded = sorted(name for name in sys.modules if name == "airflow" or name.startswith("airflow."))
    if loaded:
        raise RuntimeError(
            "airflow was imported before the test Airflow home was activated "
            f"({loaded[:3]}...): no module outside tests/providers may import airflow at collection"
        )
    os.environ.update(home.env)


def migrate(home: AirflowHome) -> float:
    """Run ``airflow db migrate`` in a subprocess; returns the seconds it took."""
    started = time.monotonic()
    result = subprocess.run(
        [AIRFLOW_BIN, "db", "migrate"],
        env=home.process_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{result.stdout}\n{result.stderr}")
    return time.monotonic() - started


def airflow_cli(home: AirflowHome, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one ``airflow`` CLI command against ``home`` and return its completed process."""
    return subprocess.run(
        [AIRFLOW_BIN, *args], env=home.process_env(), capture_output=True, text=True, check=False
    )
