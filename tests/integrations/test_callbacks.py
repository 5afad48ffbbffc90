"""WaitForCustomCallback end to end in the interpreter: the HTTP endpoint receives the task token
in X-FnF-Http-Callback-Task-Token and reports back (through the token store or the CLI command);
the Task's output is what was reported."""

from __future__ import annotations

import threading
import time

import pytest

from airflow_cloudflow.cli import main as cli
from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.exceptions import ErrorCodes, FlowError
from airflow_cloudflow.integrations.callbacks import CallbackError, Outcome, TokenStore, check_token
from airflow_cloudflow.runtime.ports import new_task_token
from airflow_cloudflow.runtime.ports import TaskCall
from airflow_cloudflow.integrations.catalogue import default_registry
from airflow_cloudflow.runtime.interpreter import Interpreter
from tests.integrations.local_http import LocalHttpServer, Recorded, Reply

FLOW = """Type: StateMachine
Name: approval
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
        question: ok?
    End: true
"""


def run_with_answer(tmp_path, answer):
    """The endpoint answers the callback from another thread, as an external system would."""
    tokens = TokenStore.local(tmp_path)
    seen: list[str] = []

    def endpoint(rec: Recorded) -> Reply:
        token = rec.headers["x-fnf-http-callback-task-token"]
        seen.append(token)
        threading.Thread(target=answer, args=(tokens, token)).start()
        return Reply(202, {}, b"accepted")

    registry = default_registry(callbacks=lambda: tokens, callback_poll_seconds=0.02, announce_callbacks=False)
    with LocalHttpServer(endpoint) as server:
        result = Interpreter(load_definition_text(FLOW), integrations=registry).execute({"url": server.url})
    return result, seen


def test_reported_output_becomes_the_task_output(tmp_path):
    result, seen = run_with_answer(tmp_path, lambda store, tok: store.complete(tok, Outcome(True, {"approved": True})))
    assert result.succeeded and result.output == {"approved": True}
    assert len(seen) == 1 and check_token(seen[0])


def test_reported_failure_fails_the_task_with_its_code(tmp_path):
    result, _ = run_with_answer(tmp_path, lambda store, tok: store.complete(tok, Outcome(False, error="Rejected", cause="no")))
    assert result.error.code == "Rejected" and result.error.detail == "no"


def test_cli_command_completes_the_token(tmp_path, capsys):
    def answer(store, token):
        assert cli(["callback", "succeed", token, "--output", '{"via": "cli"}', "--at", str(tmp_path)]) == 0

    result, _ = run_with_answer(tmp_path, answer)
    assert result.output == {"via": "cli"}


def test_unknown_and_repeated_tokens_are_refused(tmp_path, capsys):
    store = TokenStore.local(tmp_path)
    token = new_task_token()
    with pytest.raises(CallbackError):
        store.complete(token, Outcome(True, 1))
    store.open_token(token, TaskCall("HTTP:Request", {}, state_name="S"))
    assert store.outcome(token) is None
    store.complete(token, Outcome(True, 1))
    assert store.outcome(token) == Outcome(True, 1)
    assert cli(["callback", "fail", token, "--error", "E", "--at", str(tmp_path)]) == 2
    assert "already completed" in capsys.readouterr().err
    with pytest.raises(CallbackError):
        check_token("../../etc/passwd")


def test_wait_gives_up_when_stopped(tmp_path):
    store = TokenStore.local(tmp_path)
    token = new_task_token()
    store.open_token(token, TaskCall("X:Y", {}))
    stop = threading.Event()
    stop.set()
    with pytest.raises(FlowError) as err:
        store.wait(token, poll_seconds=0.01, stop=stop)
    assert err.value.code == ErrorCodes.TASK_TIMEOUT


def test_unknown_action_fails_before_a_token_is_made(tmp_path):
    registry = default_registry(callbacks=lambda: TokenStore.local(tmp_path), announce_callbacks=False)
    with pytest.raises(FlowError) as err:
        registry.invoke(TaskCall("MNS:SendMessage", {}, task_mode="WaitForCustomCallback"))
    assert err.value.code == ErrorCodes.ACTION_NOT_SUPPORTED
    assert not (tmp_path / "callbacks").exists() or not list((tmp_path / "callbacks").iterdir())


def test_a_heartbeat_restarts_the_heartbeat_clock_and_the_cli_sends_it(tmp_path, capsys):
    """``SendTaskHeartbeat``: ``airflow-cloudflow callback heartbeat TOKEN``."""
    store = TokenStore.local(tmp_path)
    token = new_task_token()
    store.open_token(token, TaskCall("arn:aws:states:::sqs:sendMessage.waitForTaskToken", {}))
    opened = time.time()
    assert not store.heartbeat_missed(token, 10, now=opened + 5)
    assert store.heartbeat_missed(token, 10, now=opened + 11)
    time.sleep(0.5)
    assert cli(["callback", "heartbeat", token, "--at", str(tmp_path)]) == 0
    assert not store.heartbeat_missed(token, 10, now=opened + 10.3)  # 10 s after the heartbeat: not yet
    assert not store.heartbeat_missed(token, None, now=opened + 10**6)  # no HeartbeatSeconds: never
    store.complete(token, Outcome(True, 1))
    assert cli(["callback", "heartbeat", token, "--at", str(tmp_path)]) == 2  # completed: refused
    assert "already completed" in capsys.readouterr().err


def test_wait_fails_with_a_heartbeat_timeout(tmp_path):
    store = TokenStore.local(tmp_path)
    token = new_task_token()
    store.open_token(token, TaskCall("X:Y", {}))
    with pytest.raises(FlowError) as err:
        store.wait(token, poll_seconds=0.05, heartbeat_seconds=0.2)
    assert err.value.code == "States.HeartbeatTimeout"
