"""``airflow-cloudflow schema flow|asl|sidecar`` prints the generated schema (what editors load)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from airflow_cloudflow.cli import main
from airflow_cloudflow.editor_schemas import generate
from tests.conftest import REPO_ROOT


@pytest.mark.parametrize("kind", ["flow", "asl", "sidecar"])
def test_prints_the_generated_schema(kind, capsys):
    assert main(["schema", kind]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == generate(kind)
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_an_unknown_kind_is_a_usage_error_naming_the_kinds():
    done = subprocess.run([sys.executable, "-m", "airflow_cloudflow.cli", "schema", "dag"], capture_output=True,
                          text=True, cwd=REPO_ROOT)
    assert done.returncode == 2
    assert "choose from 'flow', 'asl', 'sidecar'" in done.stderr
