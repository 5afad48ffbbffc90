"""A throw-away Redis on 127.0.0.1 (Debian's ``redis-server``) for tests and benchmarks::

    with RedisServer() as redis:
        redis.url      # redis://127.0.0.1:<port>/0

No persistence (``--save ''``, no AOF), foreground in its own process group, stopped on exit. When
``redis-server`` is not installed, the Debian package is installed with apt-get.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.apt import ensure_packages
from tests.support.ports import free_port
from tests.support.lifecycle import StartStop


class RedisError(RuntimeError):
    """redis-server did not start; carries its output."""


def redis_server_binary() -> str:
    """The path of ``redis-server``, installing the Debian package first when it is missing."""
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK) else None
    )
    if found:
        return found
    ensure_packages("redis-server")
    found = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.access(found, os.X_OK):
        raise RedisError("apt-get installed redis-server but no redis-server binary was found")
    return found


class RedisServer(StartStop):
    """One Redis server; a context manager (``start`` / ``stop`` also work)."""

    def __init__(self, *, port: int | None = None, parent: str | Path | None = None) -> None:
        self.port = port or free_port()
        self.parent = parent
        self.dir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.start_seconds = 0.0

    @property
    def url(self) -> str:
        """For ``[celery] broker_url``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30.0) -> None:
        started = time.monotonic()
        binary = redis_server_binary()
        self.dir = Path(tempfile.mkdtemp(prefix="redis-", dir=self.parent))
        log = open(self.dir / "redis.log", "wb")
        try:
            self.process = subprocess.Popen(
                [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
                 "--daemonize", "no", "--dir", str(self.dir), "--protected-mode", "yes"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RedisError(f"redis-server did not start (exit {self.process.poll()}):\n{self.log_tail()}")
            time.sleep(0.1)
        self.start_seconds = time.monotonic() - started

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL after 10 s; remove its directory."""
        if self.process is not None:
            if self.process.poll() is None:
                _signal_group(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    _signal_group(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=10)
            self.process = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def log_tail(self, lines: int = 30) -> str:
        if self.dir is None or not (self.dir / "redis.log").exists():
            return ""
        return "\n".join((self.dir / "redis.log").read_text(errors="replace").splitlines()[-lines:])


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
