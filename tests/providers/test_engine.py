"""``run --engine airflow`` (``providers/engine.py``, ``dag.test()`` on the loader's DAG): the
real-world definitions of ``tests/asl/real_world`` (substitutions reach the DAG it builds, Jayway
paths and YAML 1.2 state names behave as in the interpreter); a failing branch stops its siblings,
and SIGTERM ends the run promptly (the run's process is the one ``dag.test()`` runs the tasks in)."""

from __future__ import annotations

import json
import signal
import time

import pytest

from tests.asl.test_real_world import FOLDER
from tests.commands.test_interrupt import FOREVER, start_run, stop_and_wait

CLOUDFLOW_REPRODUCER = """Type: StateMachine
Name: polling_and_failing
SpecVersion: v1
StartAt: P
States:
  - Type: Parallel
    Name: P
    Branches:
      - StartAt: W
        States:
          - {Type: Wait, Name: W, Seconds: 1, Next: C}
          - Type: Choice
            Name: C
            Branches:
              - {Condition: $Input.done == true, Next: S}
            Default: W
          - {Type: Succeed, Name: S}
      - StartAt: F
        States:
          - {Type: Fail, Name: F, Code: Boom}
    End: true
"""


def test_a_failing_cloudflow_branch_stops_its_polling_sibling_under_airflow(airflow_home, tmp_path):
    """The polling branch never ends by itself: that the run ends at all, failed with ``Boom``, is the
    stop (the time dag.test() takes to start its task on a loaded machine is not the point)."""
    from airflow_cloudflow.providers.engine import run_definition

    path = tmp_path / "polling.flow.yaml"
    path.write_text(CLOUDFLOW_REPRODUCER)
    result = run_definition(path, {})  # (dag.test() runs in the main thread: it installs signal handlers)
    assert result.status == "Failed" and result.error["Code"] == "Boom"
    assert result.task_states["P"] == "failed"  # one interpreted task (planning: waits_or_loops)


def test_sigterm_ends_an_airflow_engine_run_promptly(airflow_home, tmp_path):
    definition = tmp_path / "forever.asl.json"
    definition.write_text(json.dumps(FOREVER))
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr:
        proc = start_run(definition, "--engine", "airflow", env=airflow_home.process_env(), stderr=stderr)
        deadline = time.monotonic() + 240
        while "running task" not in log.read_text():  # dag.test() is running the Parallel's task
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
        time.sleep(2)
        returncode, out, _, took = stop_and_wait(proc, signal.SIGTERM, limit=30)
    assert returncode == 143 and took < 15, log.read_text()[-2000:]
    assert json.loads(out.strip().splitlines()[-1])["status"] == "Aborted"


@pytest.mark.parametrize(
    "name, execution_input, expected",
    [
        ("order_processing.asl.json", {"orderId": "o-1"}, {"orderId": "o-1", "charged": True}),
        ("pipes_enrichment.asl.json", {"$input": [{"messageId": "m-1", "eventSource": "s", "body": '{"priority": "low"}'}]},
         {"order": {"priority": "low"}, "messageId": "m-1", "attributes": ["m-1", "s"], "route": "standard"}),
        ("approval.asl.yaml", {"approved": True, "ticket": 3}, {"decision": "On", "ticket": 3}),
    ],
)
def test_real_world_definitions_run_under_airflow(name, execution_input, expected, airflow_home, tmp_path):
    from airflow_cloudflow.commands.substitutions import substitutions_for
    from airflow_cloudflow.providers.engine import run_definition

    definition = FOLDER / name
    substitutions, issues = substitutions_for(definition)
    assert issues == []
    mocks = FOLDER / "order_processing.mocks.json"
    result = run_definition(definition, execution_input, mocks=str(mocks), substitutions=substitutions)
    assert (result.status, result.output) == ("Succeeded", expected), json.dumps(result.task_states)
