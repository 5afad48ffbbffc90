"""``pip install`` of the package into a fresh venv holding only Airflow makes Airflow list the provider.

Builds and installs the package for real (a wheel from this checkout, pinned by requirements.lock)
into a new virtual environment, then asks that environment's ``airflow providers list``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

LOCK = REPO_ROOT / "requirements.lock"


def _installer(venv_python: Path) -> list[list[str]]:
    uv = Path(sys.executable).parent / "uv"
    uv = str(uv) if uv.exists() else shutil.which("uv")
    if uv:
        return [[uv, "venv", "-q", str(venv_python.parent.parent), "--python", sys.executable],
                [uv, "pip", "install", "-q", "--python", str(venv_python), "apache-airflow==3.3.2", "-c", str(LOCK)],
                [uv, "pip", "install", "-q", "--python", str(venv_python), str(REPO_ROOT), "-c", str(LOCK)]]
    return [[sys.executable, "-m", "venv", str(venv_python.parent.parent)],
            [str(venv_python), "-m", "pip", "install", "-q", "apache-airflow==3.3.2", "-c", str(LOCK)],
            [str(venv_python), "-m", "pip", "install", "-q", str(REPO_ROOT), "-c", str(LOCK)]]


def test_a_fresh_airflow_venv_lists_the_provider_after_pip_install(tmp_path):
    venv_python = tmp_path / "venv" / "bin" / "python"
    for command in _installer(venv_python):
        subprocess.run(command, check=True, capture_output=True, text=True, cwd=tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
    listed = subprocess.run([str(venv_python.parent / "airflow"), "providers", "list"], env=env,
                            capture_output=True, text=True, check=True)
    row = [line for line in listed.stdout.splitlines() if line.startswith("airflow-cloudflow")]
    assert row and "0.1.0" in row[0]
    assert (venv_python.parent / "airflow-cloudflow").exists()  # the console script came with it
