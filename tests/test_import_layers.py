"""The architecture is enforced: the import-linter contracts of ``pyproject.toml`` hold (layers, the
core importing no adapter, Airflow only in providers/, independent dialects, no cycle), and no two
modules import each other, lazy imports inside functions included (``scripts/import_cycles.py``)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _cycles_script():
    spec = importlib.util.spec_from_file_location("import_cycles", REPO_ROOT / "scripts" / "import_cycles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_import_contracts_are_kept():
    done = _lint_imports(REPO_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.fixture
def package_copy(tmp_path):
    """A copy of the package and its contracts, to break on purpose."""
    shutil.copytree(REPO_ROOT / "airflow_cloudflow", tmp_path / "airflow_cloudflow",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_a_lazy_import_of_an_adapter_from_the_runtime_fails_naming_both_modules(package_copy):
    records = package_copy / "airflow_cloudflow" / "runtime" / "records.py"
    records.write_text(records.read_text() + textwrap.dedent("""

        def _late():
            from ..storage import resolver

            return resolver
        """))
    done = _lint_imports(package_copy)
    assert done.returncode == 1
    out = " ".join(done.stdout.split())
    assert "airflow_cloudflow.runtime is not allowed to import airflow_cloudflow.storage" in out
    assert "airflow_cloudflow.runtime.records -> airflow_cloudflow.storage.resolver" in out
    assert "BROKEN" in out.split("Broken contracts")[0]


def test_airflow_outside_providers_fails(package_copy):
    model = package_copy / "airflow_cloudflow" / "model.py"
    model.write_text(model.read_text() + "\n\ndef _late():\n    import airflow\n\n    return airflow\n")
    done = _lint_imports(package_copy)
    assert done.returncode == 1
    assert "airflow_cloudflow.model -> airflow" in " ".join(done.stdout.split())


def test_no_module_is_in_an_import_cycle():
    script = _cycles_script()
    assert script.cycles(script.import_graph(REPO_ROOT / "airflow_cloudflow")) == []


def test_the_cycle_count_sees_lazy_imports_and_skips_type_checking(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def f():\n    from .a import x\n")  # lazy: still a cycle
    (package / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n")
    (package / "d.py").write_text("from .c import y\n")
    script = _cycles_script()
    graph = script.import_graph(package)
    assert graph["pkg.c"] == set()
    assert script.cycles(graph) == [["pkg.a", "pkg.b"]]
    assert script.main([str(package)]) == 1
