"""SIGTERM/SIGINT end ``airflow-cloudflow run`` promptly (commands/interrupt.py), interpreter engine.

The Airflow engine's test is ``tests/providers/test_engine.py`` (it needs an Airflow home)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

# a branch polling for ever next to one waiting long: nothing ends this run but a signal
FOREVER = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
    {"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 1, "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.done", "IsPresent": True, "Next": "S"}], "Default": "W"},
        "S": {"Type": "Succeed"}}},
    {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 3600, "End": True}}},
]}}}


def start_run(definition: Path, *extra: str, env=None, stderr=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "airflow_cloudflow.cli", "run", str(definition), "--json", *extra],
        stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=REPO_ROOT, env=env,
    )


def wait_for_branches(proc: subprocess.Popen, limit: float = 60.0) -> None:
    """Until the run's Parallel is running: its branch threads exist (Linux ``/proc``)."""
    deadline = time.monotonic() + limit
    while len(os.listdir(f"/proc/{proc.pid}/task")) < 3:
        assert proc.poll() is None and time.monotonic() < deadline, "the run did not start its branches"
        time.sleep(0.05)
    time.sleep(0.3)


def stop_and_wait(proc: subprocess.Popen, signum: int, limit: float = 10.0) -> tuple[int, str, str, float]:
    """Send ``signum``; the exit code, stdout, stderr and how long the process took to end."""
    sent = time.monotonic()
    proc.send_signal(signum)
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the run did not end within {limit}s of the signal: {(err or '')[-2000:]}")
    return proc.returncode, out, err or "", time.monotonic() - sent


@pytest.mark.parametrize("signum,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_a_run_that_would_never_end(tmp_path, signum, code):
    definition = tmp_path / "forever.asl.json"
    definition.write_text(json.dumps(FOREVER))
    proc = start_run(definition)
    wait_for_branches(proc)
    returncode, out, err, took = stop_and_wait(proc, signum)
    assert returncode == code and took < 5, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == "Aborted" and signal.Signals(signum).name in result["error"]["Detail"]
    assert "Traceback" not in err
