"""Nothing outside ``airflow_cloudflow/providers/`` imports Airflow, and ``lint`` works without it."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO_ROOT

SCRIPT = r"""
import json, pkgutil, sys, importlib
import airflow_cloudflow
names = []
for info in pkgutil.walk_packages(airflow_cloudflow.__path__, "airflow_cloudflow."):
    if info.name.startswith("airflow_cloudflow.providers"):
        continue
    importlib.import_module(info.name)
    names.append(info.name)
from airflow_cloudflow.cli import main
status = main(["lint", sys.argv[1]])
loaded = sorted(m for m in sys.modules if m == "airflow" or m.startswith("airflow."))
print(json.dumps({"imported": names, "status": status, "airflow": loaded}))
"""


def test_core_modules_and_lint_do_not_import_airflow(tmp_path):
    flow = tmp_path / "x.flow.yaml"
    flow.write_text("Type: StateMachine\nName: x\nSpecVersion: v1\nStartAt: A\nStates:\n"
                    "  - Type: Pass\n    Name: A\n    End: true\n")
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(flow)], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 0
    assert "airflow_cloudflow.dialects.cloudflow" in result["imported"]
    assert "airflow_cloudflow.validation.graph" in result["imported"]
    assert result["airflow"] == []
