"""``airflow-cloudflow init DAGS_FOLDER`` writes the one-line loader, safely and idempotently."""

from __future__ import annotations

import ast
import json
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


# --------------------------------------------------------------------------- --examples


def test_init_examples_copies_definitions_sidecars_and_their_store(tmp_path, capsys):
    from airflow_cloudflow.commands.lint import run as lint
    from airflow_cloudflow.providers.sidecar import load_options

    assert cli_main(["init", str(tmp_path), "--examples"]) == 0
    out = capsys.readouterr().out
    assert "every *.flow.yaml, *.asl.json and *.asl.yaml" in out and "airflow dags reserialize" in out
    examples = tmp_path / "examples"
    assert (examples / "orders_s3_map.asl.yaml").is_file() and (examples / "hello.flow.yaml").is_file()
    assert lint([str(tmp_path)], sys.stdout, sys.stderr) == 0
    for definition, key in (("orders_map.flow.yaml", "object"), ("orders_s3_map.asl.yaml", "key")):
        options = load_options(examples / definition, tmp_path)
        assert options.local_store == str(examples / "store")  # resolved beside the copied sidecar
        assert (Path(options.local_store) / options.default_input["bucket"] / options.default_input[key]).is_file()


def test_init_examples_leaves_existing_files_and_skips_results(tmp_path, capsys, monkeypatch):
    from airflow_cloudflow.commands import init

    shipped = tmp_path / "shipped"
    (shipped / "store" / "b" / "results" / "run1").mkdir(parents=True)
    (shipped / "store" / "b" / "results" / "run1" / "manifest.json").write_text("{}")
    (shipped / "a.flow.yaml").write_text("new")
    monkeypatch.setattr(init, "EXAMPLES", shipped)
    dags = tmp_path / "dags"
    (dags / "examples").mkdir(parents=True)
    (dags / "examples" / "a.flow.yaml").write_text("mine")
    assert cli_main(["init", str(dags), "--examples"]) == 0
    assert (dags / "examples" / "a.flow.yaml").read_text() == "mine"
    assert not (dags / "examples" / "store").exists()
    assert "1 existing file(s) left as they were" in capsys.readouterr().out


def test_the_shipped_examples_are_the_repository_examples():
    from airflow_cloudflow.commands.init import EXAMPLES

    assert EXAMPLES.resolve() == (REPO_ROOT / "dags" / "examples").resolve()


def _run_example(tmp_path, definition: str, store: Path, conf: dict) -> dict:
    done = subprocess.run([sys.executable, "-m", "airflow_cloudflow.cli", "run", str(definition), "--input",
                           json.dumps(conf), "--store", str(store), "--json"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_step_functions_example_maps_over_s3_and_writes_its_results(tmp_path):
    """The ASL distributed Map example through the interpreter: every CSV row a child, the bad rows
    failed but tolerated, the results in the input's bucket."""
    import yaml

    assert cli_main(["init", str(tmp_path / "dags"), "--examples"]) == 0
    examples = tmp_path / "dags" / "examples"
    conf = yaml.safe_load((examples / "orders_s3_map.airflow.yaml").read_text())["default_input"]
    result = _run_example(tmp_path, examples / "orders_s3_map.asl.yaml", examples / "store", conf)
    assert result["status"] == "Succeeded"
    details = result["output"]["ResultWriterDetails"]
    assert details["Bucket"] == "demo-bucket" and details["Key"].startswith("results-asl/")
    manifest = json.loads((examples / "store" / "demo-bucket" / details["Key"]).read_text())
    rows = (examples / "store" / "demo-bucket" / "orders.csv").read_text().splitlines()[1:]
    bad = [r for r in rows if float(r.split(",")[1]) <= 0]
    def records(status: str) -> list:
        return [record for part in manifest["ResultFiles"][status]
                for record in json.loads((examples / "store" / "demo-bucket" / part["Key"]).read_text())]

    assert len(records("FAILED")) == len(bad) >= 1
    succeeded = records("SUCCEEDED")
    assert len(succeeded) == len(rows) - len(bad)
    assert all(json.loads(r["Output"])["status"] == "accepted" for r in succeeded)
