"""A throw-away PostgreSQL 15 cluster on 127.0.0.1 for tests and benchmarks.

PostgreSQL refuses to run as root, so the cluster belongs to the ``postgres`` system user: its data
directory is a fresh temp directory owned by that user (the Unix socket lives there too)::

    with PostgresServer() as pg:
        pg.url                 # postgresql+psycopg2://airflow@127.0.0.1:<port>/airflow
        pg.celery_result_backend   # db+postgresql+psycopg2://...

Trust authentication, ``fsync`` off (the data is thrown away). ``stop`` shuts the server down
(``pg_ctl stop -m fast``, then ``immediate``, then SIGKILL) and removes the directory. If the
binaries are missing, ``postgresql-15`` is installed with apt-get.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.apt import ensure_packages
from tests.support.ports import free_port
from tests.support.lifecycle import StartStop

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_USER = "postgres"


class PostgresError(RuntimeError):
    """initdb, pg_ctl or createdb failed; carries the server log's tail."""


def ensure_postgres() -> None:
    """Install ``postgresql-15`` when its server binaries (or the ``postgres`` user) are missing."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists() or not _user_exists(PG_USER):
        ensure_packages("postgresql-15")


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class PostgresServer(StartStop):
    """One cluster and one database; a context manager (``start`` / ``stop`` also work)."""

    def __init__(
        self,
        *,
        database: str = "airflow",
        user: str = "airflow",
        port: int | None = None,
        parent: str | Path | None = None,
        max_connections: int = 300,
    ) -> None:
        self.database = database
        self.user = user
        self.port = port or free_port()
        self.parent = parent
        self.max_connections = max_connections
        self.data_dir: Path | None = None
        self.start_seconds = 0.0

    # -- addresses --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the database (``[database] sql_alchemy_conn``)."""
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{self.database}"

    @property
    def celery_result_backend(self) -> str:
        """Celery's database result backend on the same database (``[celery] result_backend``)."""
        return f"db+{self.url}"

    @property
    def pid(self) -> int | None:
        """The postmaster's pid while the server runs."""
        if self.data_dir is None:
            return None
        try:
            return int((self.data_dir / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    @property
    def log_path(self) -> Path:
        assert self.data_dir is not None, "not started"
        return self.data_dir / "server.log"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        started = time.monotonic()
        ensure_postgres()
        self.data_dir = Path(tempfile.mkdtemp(prefix="pg-", dir=self.parent))
        self.data_dir.chmod(0o700)
        shutil.chown(self.data_dir, PG_USER, PG_USER)
        pgdata = self.data_dir / "data"
        self._as_postgres(
            [str(PG_BIN / "initdb"), "-D", str(pgdata), "-A", "trust", "-U", self.user, "-E", "UTF8",
             "--no-sync", "--locale", "C"],
            "initdb",
        )
        options = " ".join([
            f"-k {self.data_dir}",
            "-h 127.0.0.1",
            f"-p {self.port}",
            f"-c max_connections={self.max_connections}",
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
            "-c shared_buffers=64MB",
        ])
        self._as_postgres(
            [str(PG_BIN / "pg_ctl"), "-D", str(pgdata), "-l", str(self.log_path), "-o", options,
             "-w", "-t", "60", "start"],
            "pg_ctl start",
        )
        result = subprocess.run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, self.database],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise PostgresError(f"createdb failed: {result.stderr}\n{self.log_tail()}")
        self.start_seconds = time.monotonic() - started

    def stop(self) -> None:
        """Shut the server down and remove its directory (safe to call twice)."""
        if self.data_dir is None:
            return
        pgdata = self.data_dir / "data"
        if (pgdata / "postmaster.pid").exists():
            for mode in ("fast", "immediate"):
                result = subprocess.run(
                    ["runuser", "-u", PG_USER, "--", str(PG_BIN / "pg_ctl"), "-D", str(pgdata),
                     "-m", mode, "-w", "-t", "20", "stop"],
                    capture_output=True, text=True, check=False,
                )
                if result.returncode == 0:
                    break
            self._kill_leftover(pgdata)
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir = None

    # -- helpers -----------------------------------------------------------------------------

    def _as_postgres(self, args: list[str], what: str) -> None:
        result = subprocess.run(
            ["runuser", "-u", PG_USER, "--", *args],
            cwd=self.data_dir, capture_output=True, text=True, check=False,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise PostgresError(
                f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n{self.log_tail()}"
            )

    @staticmethod
    def _kill_leftover(pgdata: Path) -> None:
        """If the postmaster survived both stop modes, SIGKILL it (its children exit with it)."""
        try:
            pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)

    def log_tail(self, lines: int = 40) -> str:
        if self.data_dir is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
