"""``run --engine airflow`` with ``AIRFLOW_HOME`` set by the user: a new, un-migrated folder is
migrated first (it used to die with ``no such table: task_instance``); a database that is not at this
Airflow's revision is left alone and the command says to run ``airflow db migrate`` (exit 2)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

HELLO = REPO_ROOT / "dags" / "examples" / "hello.flow.yaml"
CLI = str(Path(sys.executable).parent / "airflow-cloudflow")


def _run(home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CLOUDFLOW"))}
    env["AIRFLOW_HOME"] = str(home)
    return subprocess.run([CLI, "run", str(HELLO), "--engine", "airflow", "--input", '{"name": "Ada"}', "--json"],
                          capture_output=True, text=True, env=env, cwd=home.parent, timeout=600)


def test_a_new_airflow_home_is_migrated_and_the_run_succeeds(tmp_path):
    home = tmp_path / "fresh-home"
    done = _run(home)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["status"] == "Succeeded"
    assert "no such table" not in done.stderr
    tables = {row[0] for row in sqlite3.connect(home / "airflow.db").execute("select name from sqlite_master")}
    assert {"task_instance", "alembic_version"} <= tables


def test_a_database_at_another_revision_is_left_alone_with_the_command_to_run(tmp_path):
    home = tmp_path / "old-home"
    home.mkdir()
    with sqlite3.connect(home / "airflow.db") as db:
        db.execute("create table alembic_version (version_num varchar(32) not null)")
        db.execute("insert into alembic_version values ('0000000000aa')")
    done = _run(home)
    assert done.returncode == 2
    assert "run `airflow db migrate` with the same AIRFLOW_HOME" in done.stderr
    assert "Traceback" not in done.stderr
    tables = {row[0] for row in sqlite3.connect(home / "airflow.db").execute("select name from sqlite_master")}
    assert tables == {"alembic_version"}
