"""The wheel ``python -m build`` makes, installed (not the checkout) into a fresh venv holding only
Airflow and the amazon provider (pinned by requirements.lock): Airflow lists the provider, every
entry point pyproject.toml declares loads (the ``airflow.plugins`` ones show in ``airflow plugins``),
``airflow-cloudflow lint`` checks the examples and ``schema`` prints the shipped schemas.

One wheel and one venv for the whole module (building and installing Airflow take most of a minute).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

LOCK = REPO_ROOT / "requirements.lock"
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CHECK_ENTRY_POINTS = r"""
import importlib.metadata as md, json, sys
declared = json.loads(sys.argv[1])
dist = md.distribution("airflow-cloudflow")
found = {(ep.group, ep.name): ep for ep in dist.entry_points}
loaded = {}
for group, names in declared.items():
    for name in names:
        obj = found[(group, name)].load()
        loaded[f"{group}:{name}"] = getattr(obj, "name", None) or getattr(obj, "__name__", type(obj).__name__)
import airflow_cloudflow
print(json.dumps({"loaded": loaded, "package": airflow_cloudflow.__file__}))
"""


def _pinned(name: str) -> str:
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{name}=="):
            return line.strip()
    raise AssertionError(f"{name} is not pinned in {LOCK.name}")


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _uv() -> str:
    uv = Path(sys.executable).parent / "uv"
    found = str(uv) if uv.exists() else shutil.which("uv")
    if not found:
        pytest.fail("uv is missing: ./scripts/bootstrap installs it into .venv")
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """``python -m build`` (sdist, then the wheel from it) from a copy of the tracked files, so the
    checkout stays clean and a file missing from the sdist shows."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    tracked = _run(["git", "ls-files", "-z"], cwd=REPO_ROOT).stdout.split("\0")
    for name in filter(None, tracked):
        origin, copy = REPO_ROOT / name, source / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_symlink():  # airflow_cloudflow/examples -> ../dags/examples
            copy.symlink_to(os.readlink(origin))
        elif origin.is_file():
            shutil.copy2(origin, copy)
    _run([sys.executable, "-m", "build", "--outdir", str(root / "dist"), str(source)], timeout=600)
    wheels = sorted((root / "dist").glob("airflow_cloudflow-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


@pytest.fixture(scope="module")
def fresh_venv(wheel, tmp_path_factory) -> Path:
    """A new venv with only Airflow, the amazon provider and the wheel (its dependencies from the lock)."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    uv = _uv()
    python = venv / "bin" / "python"
    _run([uv, "venv", "-q", str(venv), "--python", sys.executable])
    _run([uv, "pip", "install", "-q", "--python", str(python), _pinned("apache-airflow"),
          _pinned("apache-airflow-providers-amazon"), "-c", str(LOCK)], timeout=900)
    _run([uv, "pip", "install", "-q", "--python", str(python), str(wheel), "-c", str(LOCK)], timeout=600)
    return venv


def _airflow_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CLOUDFLOW"))}
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags")})
    return env


def test_the_wheel_holds_every_package_file_and_the_schemas(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = [n for n in _run(["git", "ls-files", "airflow_cloudflow"], cwd=REPO_ROOT).stdout.split()
               if not (REPO_ROOT / n).is_symlink()]
    examples = ["airflow_cloudflow/examples/" + n.removeprefix("dags/examples/")
                for n in _run(["git", "ls-files", "dags/examples"], cwd=REPO_ROOT).stdout.split()]
    missing = [name for name in tracked + examples if name not in names]
    assert missing == []
    assert "airflow_cloudflow/examples/orders_s3_map.asl.yaml" in names
    for kind in ("flow", "asl", "sidecar"):
        assert f"airflow_cloudflow/editor_schemas/{kind}.schema.json" in names
    assert not [n for n in names if n.startswith(("tests/", "dags/", "bench/"))]


def test_the_installed_wheel_not_the_checkout_is_what_runs(fresh_venv):
    done = _run([str(fresh_venv / "bin" / "python"), "-c", CHECK_ENTRY_POINTS, "{}"], cwd=fresh_venv)
    package = Path(json.loads(done.stdout.strip().splitlines()[-1])["package"])
    assert fresh_venv in package.parents
    assert REPO_ROOT not in package.parents


def test_airflow_lists_the_provider(fresh_venv, tmp_path):
    listed = _run([str(fresh_venv / "bin" / "airflow"), "providers", "list"], env=_airflow_env(tmp_path),
                  cwd=tmp_path)
    row = [line for line in listed.stdout.splitlines() if line.startswith("airflow-cloudflow")]
    assert row and PYPROJECT["project"]["version"] in row[0]


def test_every_declared_entry_point_loads_and_plugins_show_in_airflow(fresh_venv, tmp_path):
    declared = {group: sorted(points) for group, points in PYPROJECT["project"].get("entry-points", {}).items()}
    declared["console_scripts"] = sorted(PYPROJECT["project"].get("scripts", {}))
    assert declared["apache_airflow_provider"] == ["provider_info"]
    done = _run([str(fresh_venv / "bin" / "python"), "-c", CHECK_ENTRY_POINTS, json.dumps(declared)], cwd=tmp_path)
    loaded = json.loads(done.stdout.strip().splitlines()[-1])["loaded"]
    assert sorted(loaded) == sorted(f"{g}:{n}" for g, names in declared.items() for n in names)
    plugins = [loaded[f"airflow.plugins:{name}"] for name in declared.get("airflow.plugins", [])]
    if plugins:
        shown = _run([str(fresh_venv / "bin" / "airflow"), "plugins", "--output", "json"],
                     env=_airflow_env(tmp_path), cwd=tmp_path)
        names = {row.get("name") for row in json.loads(shown.stdout[shown.stdout.index("["):])}
        assert set(plugins) <= names, shown.stdout


def test_lint_and_schema_work_from_the_installed_wheel(fresh_venv, tmp_path):
    cli = str(fresh_venv / "bin" / "airflow-cloudflow")
    examples = REPO_ROOT / "dags" / "examples"
    done = _run([cli, "lint", str(examples)], cwd=tmp_path, env=_airflow_env(tmp_path))
    assert "0 error(s)" in done.stderr
    bad = tmp_path / "bad.flow.yaml"
    bad.write_text((examples / "hello.flow.yaml").read_text().replace("StartAt:", "StartAtt:", 1))
    failed = subprocess.run([cli, "lint", str(bad)], capture_output=True, text=True, cwd=tmp_path)
    assert failed.returncode == 1 and "CF-E112" in failed.stdout
    printed = _run([cli, "schema", "flow"], cwd=tmp_path).stdout
    assert printed == (REPO_ROOT / "airflow_cloudflow" / "editor_schemas" / "flow.schema.json").read_text()
