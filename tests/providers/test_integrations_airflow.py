"""Real Task integrations through Airflow (``dag.test()`` on the DAG the loader builds):
HTTP against a local server, Python:Call and Airflow:Operator under the allow-list, a sub-flow,
and a custom callback answered through the CLI while the task waits."""

from __future__ import annotations

import shutil
import threading
import uuid
from pathlib import Path

import pytest

from airflow_cloudflow.cli import main as cli
from tests.integrations.local_http import LocalHttpServer, Recorded, Reply

FLOW = """Type: StateMachine
Name: {name}
SpecVersion: v1
StartAt: Web
States:
  - Type: Task
    Name: Web
    Action: HTTP:Request
    Parameters:
      url.$: $Input.url
      method: POST
      body:
        n.$: $Input.n
    Next: Py
  - Type: Task
    Name: Py
    Action: Python:Call
    Parameters:
      callable: tests.integrations.pkg_allowed.add
      kwargs:
        a.$: $Input.Body.n
        b: 10
    Next: Op
  - Type: Task
    Name: Op
    Action: Airflow:Operator
    Parameters:
      operator: airflow.providers.standard.operators.bash.BashOperator
      arguments:
        bash_command: echo from-bash
    OutputConstructor:
      bash.$: $Output
    Next: Sub
  - Type: Task
    Name: Sub
    Action: FNF:StartExecution
    TaskMode: WaitForSystemCallback
    Parameters:
      resourceArn: acs:fnf:cn-hangzhou::flow/{child}
      input:
        from: parent
    End: true
"""

CHILD = """Type: StateMachine
Name: {child}
SpecVersion: v1
StartAt: P
States:
  - Type: Pass
    Name: P
    InputConstructor:
      child_got.$: $Input.from
    End: true
"""

CALLBACK_FLOW = """Type: StateMachine
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
    End: true
"""


@pytest.fixture()
def allowed(monkeypatch):
    from airflow_cloudflow.providers import config

    monkeypatch.setenv("AIRFLOW__CLOUDFLOW__ALLOWED_MODULES",
                       "tests.integrations.pkg_allowed,airflow.providers.standard.operators.bash")
    config.settings.cache_clear()
    yield
    config.settings.cache_clear()


@pytest.fixture()
def child_in_dags_folder(airflow_home):
    from airflow.configuration import conf

    name = "child_" + uuid.uuid4().hex[:8]
    folder = Path(conf.get("core", "dags_folder")) / f"subflows-{name}"
    folder.mkdir(parents=True)
    (folder / f"{name}.flow.yaml").write_text(CHILD.format(child=name))
    yield name
    shutil.rmtree(folder, ignore_errors=True)


def test_http_python_operator_and_subflow_in_a_dag_run(airflow_home, tmp_path, allowed, child_in_dags_folder):
    from airflow_cloudflow.providers.engine import run_definition

    def echo(rec: Recorded) -> Reply:
        return Reply(200, {"Content-Type": "application/json"}, rec.body)

    name = "integr_" + uuid.uuid4().hex[:6]
    definition = tmp_path / f"{name}.flow.yaml"
    definition.write_text(FLOW.format(name=name, child=child_in_dags_folder))
    with LocalHttpServer(echo) as server:
        result = run_definition(definition, {"url": server.url, "n": 5}, store_dir=str(tmp_path))
    assert result.status == "Succeeded", result
    assert result.output == {"child_got": "parent"}
    assert server.requests[0].body == b'{"n":5}'


def test_disallowed_callable_fails_the_run_with_a_clear_error(airflow_home, tmp_path, monkeypatch):
    from airflow_cloudflow.providers import config
    from airflow_cloudflow.providers.engine import run_definition

    monkeypatch.setenv("AIRFLOW__CLOUDFLOW__ALLOWED_MODULES", "")
    config.settings.cache_clear()
    name = "denied_" + uuid.uuid4().hex[:6]
    definition = tmp_path / f"{name}.flow.yaml"
    definition.write_text(f"""Type: StateMachine
Name: {name}
SpecVersion: v1
StartAt: Py
States:
  - Type: Task
    Name: Py
    Action: Python:Call
    Parameters:
      callable: os.system
      kwargs:
        command: "true"
    End: true
""")
    try:
        result = run_definition(definition, {}, store_dir=str(tmp_path))
    finally:
        config.settings.cache_clear()
    assert result.status == "Failed"
    assert result.error["Code"] == "Extension.NotAllowed" and "allowed_modules" in result.error["Detail"]


def test_custom_callback_answered_by_the_cli_while_the_task_waits(airflow_home, tmp_path):
    """The task defers on CallbackTrigger, which polls the token in the run's staging folder."""
    from airflow.configuration import conf

    from airflow_cloudflow.providers.engine import run_definition

    dags = Path(conf.get("core", "dags_folder"))
    answers: list[int] = []

    def answer(token: str) -> None:
        record = next(dags.rglob(f"callbacks/{token}.json"))
        staging = record.parent.parent
        answers.append(cli(["callback", "succeed", token, "--output", '{"approved": true}', "--at", str(staging)]))

    def endpoint(rec: Recorded) -> Reply:
        threading.Thread(target=answer, args=(rec.headers["x-fnf-http-callback-task-token"],)).start()
        return Reply(200, {}, b"")

    name = "cb_" + uuid.uuid4().hex[:6]
    definition = tmp_path / f"{name}.flow.yaml"
    definition.write_text(CALLBACK_FLOW.format(name=name))
    with LocalHttpServer(endpoint) as server:
        result = run_definition(definition, {"url": server.url}, store_dir=str(tmp_path))
    assert answers == [0]
    assert result.status == "Succeeded" and result.output == {"approved": True}
