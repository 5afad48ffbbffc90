"""Real-world shapes (our own, in the style of public Step Functions samples), run as on AWS.

Lambda and the services behind the resources cannot run here; they are mocked (``--mocks`` style)."""

from __future__ import annotations

import json
import time

from airflow_cloudflow.dialects import lint_text, load_definition_text
from airflow_cloudflow.integrations.mocks import load_mocks
from airflow_cloudflow.runtime.clock import SystemClock
from airflow_cloudflow.runtime.interpreter import Interpreter

# An order workflow in a China region: reserve stock and charge the card in parallel; the payment
# branch polls a job until it settles, the stock branch fails when the item is out of stock; the
# Parallel's Catch releases the reservation (a compensation) and the order fails.
ORDER_FULFILMENT = {
    "Comment": "Order fulfilment with compensation",
    "StartAt": "Fulfil",
    "States": {
        "Fulfil": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "StartPayment", "States": {
                    "StartPayment": {"Type": "Task", "Resource": "arn:aws-cn:states:::lambda:invoke",
                                     "Parameters": {"FunctionName": "start-payment", "Payload.$": "$"},
                                     "ResultSelector": {"job.$": "$.Payload.order"}, "Next": "WaitForPayment"},
                    "WaitForPayment": {"Type": "Wait", "Seconds": 1, "Next": "PaymentSettled?"},
                    "PaymentSettled?": {"Type": "Choice", "Choices": [
                        {"Variable": "$.settled", "BooleanEquals": True, "Next": "Paid"}], "Default": "WaitForPayment"},
                    "Paid": {"Type": "Succeed"}}},
                {"StartAt": "ReserveStock", "States": {
                    "ReserveStock": {"Type": "Task", "Resource": "arn:aws-cn:states:::dynamodb:updateItem",
                                     "Parameters": {"TableName": "stock", "Key": {"sku": {"S.$": "$.sku"}}},
                                     "Retry": [{"ErrorEquals": ["DynamoDB.ProvisionedThroughputExceededException"],
                                                "MaxAttempts": 2}],
                                     "End": True}}},
            ],
            "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.error",
                       "Next": "ReleaseReservation"}],
            "Next": "Done"},
        "ReleaseReservation": {"Type": "Task", "Resource": "arn:aws-cn:states:::dynamodb:deleteItem",
                               "Parameters": {"TableName": "reservations", "Key": {"order": {"S.$": "$.order"}}},
                               "ResultPath": None, "Next": "OrderFailed"},
        "OrderFailed": {"Type": "Fail", "Error": "OutOfStock", "Cause": "the item is out of stock"},
        "Done": {"Type": "Succeed"},
    },
}
MOCKS = {
    "start-payment": {"behaviour": "identity"},
    "arn:aws-cn:states:::dynamodb:updateItem": {"behaviour": "fail", "code": "DynamoDB.ConditionalCheckFailedException",
                                                "detail": "The conditional request failed"},
    "arn:aws:states:::dynamodb:deleteItem": {"behaviour": "identity"},  # keyed by the aws form
}


def test_order_fulfilment_compensates_at_once_when_stock_runs_out():
    text = json.dumps(ORDER_FULFILMENT)
    assert [i for i in lint_text(text, "order.asl.json")[1] if i.is_error] == []
    mocks = load_mocks(MOCKS)
    interp = Interpreter(load_definition_text(text, "order.asl.json"), integrations=mocks, clock=SystemClock())
    started = time.monotonic()
    result = interp.execute({"order": "o-1", "sku": "book-42"})
    took = time.monotonic() - started
    assert (result.error.code, result.error.detail, result.failed_state) == (
        "OutOfStock", "the item is out of stock", "OrderFailed")
    assert mocks.calls["arn:aws-cn:states:::dynamodb:deleteItem"] == 1  # the compensation ran
    assert took < 5  # the payment branch, polling for ever, was stopped


# The callback pattern of the samples: a Lambda gets the task token and a worker answers later;
# here the mocked Lambda completes the token itself, so the flow runs locally end to end.
CALLBACK = {
    "QueryLanguage": "JSONata",
    "StartAt": "RequestReview",
    "States": {
        "RequestReview": {"Type": "Task", "Resource": "arn:aws-us-gov:states:::lambda:invoke.waitForTaskToken",
                          "Arguments": {"FunctionName": "notify-reviewer",
                                        "Payload": {"doc": "{% $states.input.doc %}",
                                                    "token": "{% $states.context.Task.Token %}",
                                                    "requestId": "{% $uuid() %}"}},
                          "TimeoutSeconds": 3600, "HeartbeatSeconds": 600,
                          "Output": {"review": "{% $states.result.Payload %}",
                                     "sha": "{% $hash($states.input.doc, 'SHA-256') %}"},
                          "End": True}},
}


def test_the_callback_pattern_runs_locally_with_a_mock_completing_the_token():
    mocks = load_mocks({"notify-reviewer": {"behaviour": "identity"}})
    interp = Interpreter(load_definition_text(json.dumps(CALLBACK), "review.asl.json"), integrations=mocks,
                         clock=SystemClock())
    result = interp.execute({"doc": "contract.pdf"})
    assert result.succeeded, result.error
    review = result.output["review"]
    assert review["doc"] == "contract.pdf" and review["token"].startswith("cft-") and len(review["requestId"]) == 36
    assert len(result.output["sha"]) == 64
