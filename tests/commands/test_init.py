"""``airflow-cloudflow init DAGS_FOLDER`` writes the one-line loader, safely and idempotently."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from airflow_cloudflow.cli import main as cli_main
from airflow_cloudflow.loader_file import LOADER_NAME, LOADER_SOURCE

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_init_creates_the_folder_and_writes_the_loader(tmp_path, capsys):
    folder = tmp_path / "airflow" / "dags"
    assert cli_main(["init", str(folder)]) == 0
    assert (folder / LOADER_NAME).read_text() == LOADER_SOURCE
    out = capsys.readouterr().out
    assert f"created folder {folder}" in out and f"wrote {folder / LOADER_NAME}" in out


def test_init_is_idempotent_when_the_file_is_identical(tmp_path, capsys):
    assert cli_main(["init", str(tmp_path)]) == 0
    assert cli_main(["init", str(tmp_path)]) == 0
    assert "already up to date" in capsys.readouterr().out
    assert (tmp_path / LOADER_NAME).read_text() == LOADER_SOURCE


def test_init_refuses_to_overwrite_a_different_file(tmp_path, capsys):
    target = tmp_path / LOADER_NAME
    target.write_text("# mine\n")
    assert cli_main(["init", str(tmp_path)]) == 1
    assert "exists with different content" in capsys.readouterr().err
    assert target.read_text() == "# mine\n"


def test_init_refuses_a_path_that_is_a_file(tmp_path, capsys):
    path = tmp_path / "dags"
    path.write_text("x")
    assert cli_main(["init", str(path)]) == 1
    assert "is not a folder" in capsys.readouterr().err


def test_the_loader_is_one_statement_line_that_airflow_safe_mode_picks_up():
    code = [line for line in LOADER_SOURCE.splitlines() if line and not line.startswith("#")]
    assert code == ["from airflow_cloudflow.providers.loader import load_flows; load_flows(globals())  # noqa: E702"]
    ast.parse(LOADER_SOURCE)
    lowered = LOADER_SOURCE.lower()
    assert "airflow" in lowered and "dag" in lowered  # Airflow's DAG_DISCOVERY_SAFE_MODE heuristic


def test_the_repository_dags_folder_holds_exactly_what_init_writes():
    assert (REPO_ROOT / "dags" / LOADER_NAME).read_text() == LOADER_SOURCE


def test_init_does_not_import_airflow(tmp_path):
    code = (
        "import sys; from airflow_cloudflow.cli import main; rc = main(['init', sys.argv[1]]); "
        "assert not [m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')], 'airflow imported'; "
        "sys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
