"""Install a Debian package the tests need when it is missing (CI starts from a fresh machine).

Tests never skip for a missing server binary: ``ensure_packages`` installs it with ``apt-get``.
Package scripts must not start system services while we install (they would listen on their
default ports, on more than 127.0.0.1): a temporary ``/usr/sbin/policy-rc.d`` refuses every
service start, and PostgreSQL is told not to create its ``main`` cluster.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
PG_CREATECLUSTER_CONF = Path("/etc/postgresql-common/createcluster.conf")
_LOCK = threading.Lock()
_updated = False


class PackageInstallError(RuntimeError):
    """apt-get could not install a package the tests need."""


def _run(args: list[str]) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PackageInstallError(
            f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )


def ensure_packages(*packages: str) -> None:
    """``apt-get install -y`` the packages (after one ``apt-get update`` per process)."""
    global _updated
    if os.geteuid() != 0:
        raise PackageInstallError(f"installing {packages} needs root (apt-get); install them by hand")
    with _LOCK:
        lock_wait = ["-o", "DPkg::Lock::Timeout=300"]
        if not _updated:
            _run(["apt-get", *lock_wait, "update"])
            _updated = True
        added_policy = False
        if not POLICY_RC_D.exists():
            POLICY_RC_D.write_text("#!/bin/sh\n# the airflow-cloudflow tests: no service starts while installing\nexit 101\n")
            POLICY_RC_D.chmod(0o755)
            added_policy = True
        if any(p.startswith("postgresql") for p in packages) and not PG_CREATECLUSTER_CONF.exists():
            PG_CREATECLUSTER_CONF.parent.mkdir(parents=True, exist_ok=True)
            PG_CREATECLUSTER_CONF.write_text("create_main_cluster = false\n")
        try:
            keep_conffiles = ["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]
            _run(["apt-get", *lock_wait, *keep_conffiles, "install", "-y", "--no-install-recommends", *packages])
        finally:
            if added_policy:
                POLICY_RC_D.unlink(missing_ok=True)
