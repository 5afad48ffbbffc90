"""``.waitForTaskToken`` (runtime/asl/states.py): ``$$.Task.Token``, the callback, heartbeats, timeouts.

The service that receives the token (SQS here) cannot run here: a runner stands in for it and hands
the token it was sent to a "worker" thread, which completes it through the token store as
``airflow-cloudflow callback`` does."""

from __future__ import annotations

import json
import threading
import time

import pytest

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.integrations.callbacks import CallbackWaiter, Outcome, TokenStore
from airflow_cloudflow.integrations.catalogue import IntegrationCatalogue
from airflow_cloudflow.integrations.mocks import load_mocks
from airflow_cloudflow.runtime.clock import SystemClock
from airflow_cloudflow.runtime.interpreter import Interpreter

SEND = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"


def machine(**task):
    """The human-approval sample: send the order with its token to a queue, wait for the answer."""
    definition = {"StartAt": "AskApproval", "States": {
        "AskApproval": {"Type": "Task", "Resource": SEND,
                        "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/approvals",
                                       "MessageBody": {"order.$": "$.order", "taskToken.$": "$$.Task.Token"}},
                        "ResultPath": "$.approval",
                        "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.error", "Next": "Rejected"}],
                        "Next": "Approved", **task},
        "Approved": {"Type": "Succeed"},
        "Rejected": {"Type": "Fail", "Error": "OrderRejected"}}}
    return load_definition_text(json.dumps(definition), "approval.asl.json")


class Queue:
    """Stands in for SQS: records each message; ``worker(body, tokens)`` answers it in a thread."""

    def __init__(self, tokens: TokenStore, worker):
        self.tokens, self.worker, self.messages = tokens, worker, []

    def __call__(self, call):
        self.messages.append(call.parameters["MessageBody"])
        threading.Thread(target=self.worker, args=(call.parameters["MessageBody"], self.tokens), daemon=True).start()
        return {"MessageId": "m-1"}


def run(tmp_path, worker, **task):
    tokens = TokenStore.local(tmp_path)
    registry = IntegrationCatalogue(CallbackWaiter(lambda: tokens, poll_seconds=0.05))
    queue = Queue(tokens, worker)
    registry.register("arn:aws:states:::sqs:sendMessage", queue)
    interp = Interpreter(machine(**task), integrations=registry, clock=SystemClock())
    started = time.monotonic()
    result = interp.execute({"order": {"id": 7}})
    return result, queue, time.monotonic() - started


def test_the_token_is_sent_and_send_task_success_gives_the_output(tmp_path):
    def approve(body, tokens):
        time.sleep(0.2)
        tokens.complete(body["taskToken"], Outcome(True, {"approvedBy": "ana"}))

    result, queue, _ = run(tmp_path, approve)
    assert result.succeeded, result.error
    assert result.output == {"order": {"id": 7}, "approval": {"approvedBy": "ana"}}
    assert queue.messages[0]["order"] == {"id": 7} and queue.messages[0]["taskToken"].startswith("cft-")


def test_send_task_failure_fails_the_task_with_its_error_and_catch_applies(tmp_path):
    def reject(body, tokens):
        tokens.complete(body["taskToken"], Outcome(False, error="Rejected", cause="too expensive"))

    result, _, _ = run(tmp_path, reject)
    assert result.error.code == "OrderRejected" and result.failed_state == "Rejected"


def test_heartbeats_keep_the_task_alive_and_a_missed_one_is_a_heartbeat_timeout(tmp_path):
    def slow_but_beating(body, tokens):
        for _ in range(6):
            time.sleep(0.3)
            tokens.heartbeat(body["taskToken"])
        tokens.complete(body["taskToken"], Outcome(True, "done"))

    result, _, took = run(tmp_path / "a", slow_but_beating, HeartbeatSeconds=1)
    assert result.succeeded and result.output["approval"] == "done" and took > 1.5

    result, _, took = run(tmp_path / "b", lambda body, tokens: None, HeartbeatSeconds=1)
    assert result.error.code == "States.HeartbeatTimeout" and result.failed_state == "AskApproval"
    assert took < 10


def test_timeout_seconds_is_a_states_timeout(tmp_path):
    result, _, took = run(tmp_path, lambda body, tokens: None, TimeoutSeconds=1)
    assert result.error.code == "States.Timeout" and took < 10


def test_a_mock_completes_the_token_with_its_answer_and_sees_the_token():
    mocks = load_mocks({SEND: {"behaviour": "identity"}})
    result = Interpreter(machine(), integrations=mocks, clock=SystemClock()).execute({"order": {"id": 1}})
    assert result.succeeded, result.error
    body = result.output["approval"]["MessageBody"]
    assert body["order"] == {"id": 1} and body["taskToken"].startswith("cft-")


@pytest.mark.parametrize("partition", ["aws", "aws-cn"])
def test_every_integration_may_wait_for_a_token(partition):
    """A Lambda (the most common sample) and any other service: the token is minted for all."""
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": f"arn:{partition}:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}}, "End": True}}}
    machine_ = load_definition_text(json.dumps(definition), "l.asl.json")
    result = Interpreter(machine_, integrations=load_mocks({"notify": {"behaviour": "identity"}}),
                         clock=SystemClock()).execute({})
    assert result.succeeded and result.output["Payload"]["token"].startswith("cft-")
