"""ASL Lambda and S3 resources.

moto 5 runs Lambda code only in docker, which is not available here, so the Lambda tests drive the
real boto3 client against a LOCAL HTTP server answering Lambda's Invoke API
(``POST /2015-03-31/functions/{name}/invocations``), which checks the request mapping and returns
the documented response forms. S3 runs against moto's S3 server.
"""

from __future__ import annotations

import json

import boto3
import botocore.config
import pytest

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.integrations.aws import LambdaInvoke, S3Action
from airflow_cloudflow.runtime.ports import TaskCall
from airflow_cloudflow.storage.resolver import StoreResolver
from tests.integrations.local_http import LocalHttpServer, Recorded, Reply

LAMBDA = "arn:aws:states:::lambda:invoke"


def fake_lambda(rec: Recorded) -> Reply:
    name = rec.path.split("/")[3]
    event = json.loads(rec.body or b"{}")
    if name == "missing":
        return Reply(404, {"x-amzn-ErrorType": "ResourceNotFoundException", "Content-Type": "application/json"},
                     b'{"Type": "User", "message": "Function not found"}')
    if name == "raises":
        return Reply(200, {"X-Amz-Function-Error": "Unhandled", "X-Amz-Executed-Version": "$LATEST"},
                     json.dumps({"errorType": "ValueError", "errorMessage": "bad"}).encode())
    if name == "leaky":  # an endpoint that echoes the request headers into its API error
        return Reply(400, {"x-amzn-ErrorType": "InvalidRequestContentException", "Content-Type": "application/json"},
                     json.dumps({"Type": "User", "message": f"bad request {rec.headers}"}).encode())
    if name == "leaky-raises":  # a function whose error quotes what it was called with
        return Reply(200, {"X-Amz-Function-Error": "Unhandled"},
                     json.dumps({"errorType": "Leak", "errorMessage": json.dumps(rec.headers)}).encode())
    if name == "crashes":
        return Reply(200, {"X-Amz-Function-Error": "Unhandled"}, b'{"errorMessage": "Task timed out"}')
    return Reply(200, {"X-Amz-Executed-Version": "$LATEST"},
                 json.dumps({"got": event, "qualifier": rec.query.get("Qualifier")}).encode())


@pytest.fixture(scope="module")
def clients():
    with LocalHttpServer(fake_lambda) as server:
        client = boto3.client("lambda", endpoint_url=server.url, region_name="us-east-1",
                              aws_access_key_id="k", aws_secret_access_key="s")
        yield lambda service: client


def test_lambda_invoke_optimized_output(clients):
    out = LambdaInvoke(clients)(TaskCall("arn:aws:states:::lambda:invoke",
                                         {"FunctionName": "fn", "Payload": {"a": 1}, "Qualifier": "v2"}))
    assert out == {"ExecutedVersion": "$LATEST", "Payload": {"got": {"a": 1}, "qualifier": "v2"}, "StatusCode": 200}


def test_plain_lambda_arn_passes_input_and_returns_result(clients):
    arn = "arn:aws:lambda:us-east-1:123:function:fn"
    assert LambdaInvoke(clients, optimized=False)(TaskCall(arn, {"x": [1]})) == {"got": {"x": [1]}, "qualifier": None}


def test_function_errors_use_error_type_or_lambda_unknown(clients):
    with pytest.raises(FlowError) as err:
        LambdaInvoke(clients)(TaskCall("arn:aws:states:::lambda:invoke", {"FunctionName": "raises"}, state_name="L"))
    assert err.value.code == "ValueError" and json.loads(err.value.detail)["errorMessage"] == "bad"
    with pytest.raises(FlowError) as err:
        LambdaInvoke(clients)(TaskCall("arn:aws:states:::lambda:invoke", {"FunctionName": "crashes"}))
    assert err.value.code == "Lambda.Unknown"


def test_api_errors_are_lambda_prefixed(clients):
    with pytest.raises(FlowError) as err:
        LambdaInvoke(clients)(TaskCall("arn:aws:states:::lambda:invoke", {"FunctionName": "missing"}))
    assert err.value.code == "Lambda.ResourceNotFoundException"


def test_s3_actions_against_moto(s3_server):
    s3_server.create_bucket("asl-bucket")
    stores = StoreResolver({"s3": s3_server.store()})

    def run(op, params):
        return S3Action(op, stores)(TaskCall(f"arn:aws:states:::aws-sdk:s3:{op}", params))

    assert run("putObject", {"Bucket": "asl-bucket", "Key": "a/1.json", "Body": {"v": 1}})["ETag"]
    run("putObject", {"Bucket": "asl-bucket", "Key": "a/2.txt", "Body": "two"})
    got = run("getObject", {"Bucket": "asl-bucket", "Key": "a/1.json"})
    assert got["Body"] == '{"v":1}' and got["ContentLength"] == 7
    page = run("listObjectsV2", {"Bucket": "asl-bucket", "Prefix": "a/", "MaxKeys": 1})
    assert [c["Key"] for c in page["Contents"]] == ["a/1.json"] and page["IsTruncated"]
    rest = run("listObjectsV2", {"Bucket": "asl-bucket", "Prefix": "a/", "ContinuationToken": page["NextContinuationToken"]})
    assert [c["Key"] for c in rest["Contents"]] == ["a/2.txt"] and rest["KeyCount"] == 1
    with pytest.raises(FlowError) as err:
        run("getObject", {"Bucket": "asl-bucket", "Key": "nope"})
    assert err.value.code == "S3.NoSuchKeyException"
    with pytest.raises(FlowError) as err:
        run("getObject", {"Bucket": "asl-bucket", "Key": "../x"})
    assert err.value.code == "S3.InvalidArgumentException"


CANARY_KEY, CANARY_SECRET, CANARY_TOKEN = "AKIACANARY0000000001", "canary/secret+key=1", "CANARY-session-token-9b2"


@pytest.mark.parametrize("name", ["leaky", "leaky-raises"])
def test_lambda_errors_never_carry_the_session_token_or_signature(name):
    with LocalHttpServer(fake_lambda) as server:
        client = boto3.client("lambda", endpoint_url=server.url, region_name="us-east-1",
                              aws_access_key_id=CANARY_KEY, aws_secret_access_key=CANARY_SECRET,
                              aws_session_token=CANARY_TOKEN)
        with pytest.raises(FlowError) as err:
            LambdaInvoke(lambda service: client)(TaskCall(LAMBDA, {"FunctionName": name}))
        seen = server.requests[-1].headers
    assert seen["x-amz-security-token"] == CANARY_TOKEN  # sent and echoed back ...
    text = json.dumps(err.value.as_dict())
    signature = seen["authorization"].rsplit("Signature=", 1)[1]
    for secret in (CANARY_TOKEN, CANARY_SECRET, CANARY_KEY, signature):
        assert secret not in text  # ... but masked out of the error
    assert "***" in err.value.detail


def test_lambda_connection_error_does_not_quote_endpoint_userinfo():
    client = boto3.client("lambda", endpoint_url="http://user:CANARY-pw@127.0.0.1:9", region_name="us-east-1",
                          aws_access_key_id="k", aws_secret_access_key="s",
                          config=botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=2))
    with pytest.raises(FlowError) as err:
        LambdaInvoke(lambda service: client)(TaskCall(LAMBDA, {"FunctionName": "f"}))
    assert err.value.code == "Lambda.SdkClientException"
    assert "CANARY-pw" not in str(err.value) and "127.0.0.1" in err.value.detail
