"""Deferred Task calls under ``dag.test()`` (its triggers run inline): a RequestComplete sub-flow
starts a real DAG run of the child flow's DAG, and a WaitForCustomCallback Task defers on
``CallbackTrigger`` until ``airflow-cloudflow callback`` completes its token.

(Waiting for a child run needs the scheduler, which ``dag.test()`` does not run: that is in
``test_deferred_cluster.py``.)
"""

from __future__ import annotations

import json
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_cloudflow.cli import main as cli
from tests.integrations.local_http import LocalHttpServer, Recorded, Reply
from tests.providers.dag_runs import run_dag_test

CHILD = """Type: StateMachine
Name: {child}
SpecVersion: v1
StartAt: P
States:
  - Type: Pass
    Name: P
    End: true
"""

START = """Type: StateMachine
Name: {name}
SpecVersion: v1
StartAt: Start
States:
  - Type: Task
    Name: Start
    Action: FNF:StartExecution
    Parameters:
      resourceArn: acs:fnf:cn-hangzhou::flow/{child}
      executionName.$: $Input.exec
      input:
        from: parent
        n.$: $Input.n
    OutputConstructor:
      started.$: $Output.ExecutionName
      flow.$: $Output.FlowName
    Catch:
      - Errors: [FnF.ALL]
        Next: Caught
    Next: Done
  - Type: Pass
    Name: Done
    End: true
  - Type: Pass
    Name: Caught
    End: true
"""

ASK = """Type: StateMachine
Name: {name}
SpecVersion: v1
StartAt: Ask
States:
  - Type: Task
    Name: Ask
    Action: HTTP:Request
    TaskMode: WaitForCustomCallback
    Parameters:
      url.$: $Input.url
      method: POST
      body:
        token.$: $Context.Current.TaskToken
    OutputConstructor:
      answer.$: $Output
    Catch:
      - Errors: [FnF.ALL]
        OutputConstructor:
          code.$: $Context.Current.Error.Code
          detail.$: $Context.Current.Error.Detail
        Next: Caught
    Next: Done
  - Type: Pass
    Name: Done
    End: true
  - Type: Pass
    Name: Caught
    End: true
"""


@pytest.fixture()
def folder(airflow_home, tmp_path) -> Iterator[Path]:
    """A DAGs sub-folder with the loader and a private staging area (for the callback tokens)."""
    from airflow_cloudflow.loader_file import LOADER_SOURCE

    path = airflow_home.dags_folder / f"deferred-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    (path / "cloudflow_dags.py").write_text(LOADER_SOURCE)
    (path / "cloudflow.defaults.yaml").write_text(json.dumps({"staging_url": (tmp_path / "staging").as_uri()}))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _dag_run(dag_id: str, run_id: str):
    from sqlalchemy import select

    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)).one_or_none()
        return None if run is None else (dict(run.conf or {}), str(run.state))


def _xcom(dag_id: str, run_id: str, task_id: str, key: str):
    from sqlalchemy import select

    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(select(XComModel).where(
            XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.task_id == task_id,
            XComModel.key == key)).one_or_none()
        return None if row is None else XComModel.deserialize_value(row)


def test_request_complete_starts_a_real_child_dag_run(folder):
    suffix = uuid.uuid4().hex[:6]
    child, parent = f"kid_{suffix}", f"starter_{suffix}"
    (folder / "kid.flow.yaml").write_text(CHILD.format(child=child))
    (folder / "starter.flow.yaml").write_text(START.format(name=parent, child=child))
    execution = f"sub_{suffix}"

    result = run_dag_test(parent, {"exec": execution, "n": 3})

    assert result.state == "success"
    assert result.xcoms[("finish", -1)] == {"started": execution, "flow": child}
    assert result.task_states[("Caught", -1)] == "skipped"
    assert _dag_run(child, execution) == ({"from": "parent", "n": 3}, "queued")  # dag.test runs only the parent
    assert _xcom(parent, result.run_id, "Start", "trigger_run_id") == execution


def test_a_reused_execution_name_fails_the_task(folder):
    suffix = uuid.uuid4().hex[:6]
    child, parent = f"kid_{suffix}", f"starter_{suffix}"
    (folder / "kid.flow.yaml").write_text(CHILD.format(child=child))
    (folder / "starter.flow.yaml").write_text(START.format(name=parent, child=child))
    assert run_dag_test(parent, {"exec": f"again_{suffix}", "n": 1}).state == "success"
    second = run_dag_test(parent, {"exec": f"again_{suffix}", "n": 2})
    assert second.state == "failed" and second.task_states[("Start", -1)] == "failed"


def _answering(outcome: list[str], staging: str):
    """An endpoint that completes the token it receives through the CLI, from another thread."""
    answers: list[tuple[int, str]] = []

    def answer(token: str) -> None:
        answers.append((cli(["callback", *outcome[:1], token, *outcome[1:], "--at", staging]), token))

    def endpoint(rec: Recorded) -> Reply:
        threading.Thread(target=answer, args=(json.loads(rec.body)["token"],)).start()
        return Reply(200, {}, b"")

    return endpoint, answers


@pytest.mark.parametrize("outcome, expected, next_state", [
    (["succeed", "--output", '{"approved": true}'], {"answer": {"approved": True}}, "Done"),
    (["fail", "--error", "Rejected", "--cause", "no"], {"code": "Rejected", "detail": "no"}, "Caught"),
])
def test_custom_callback_defers_until_the_cli_completes_the_token(folder, tmp_path, outcome, expected, next_state):
    name = f"ask_{uuid.uuid4().hex[:6]}"
    (folder / "ask.flow.yaml").write_text(ASK.format(name=name))
    endpoint, answers = _answering(outcome, (tmp_path / "staging").as_uri())
    with LocalHttpServer(endpoint) as server:
        result = run_dag_test(name, {"url": server.url})

    assert [code for code, _ in answers] == [0]
    assert result.state == "success" and result.xcoms[("finish", -1)] == expected
    assert result.task_states[(next_state, -1)] == "success"
    recorded = _xcom(name, result.run_id, "Ask", "cloudflow_deferred")  # pushed only when the task defers
    assert recorded["calls"][0]["call"]["token"] == answers[0][1]
