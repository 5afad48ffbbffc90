"""FC:InvokeFunction: ACS3-HMAC-SHA256 signing and response mapping.

Function Compute cannot run here, so the test starts a LOCAL HTTP server playing FC 3.0's
InvokeFunction endpoint. The server recomputes the V3 signature from the raw request it received
(its own implementation below, written from the signature spec, not the client's code) and
answers 403 SignatureNotMatch when it differs, as FC does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import quote, unquote

import pytest

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.integrations import acs_signing
from airflow_cloudflow.integrations.connections import CONNECTION_MISSING, environment_lookup
from airflow_cloudflow.integrations.fc import InvokeFunction, parse_arn
from airflow_cloudflow.runtime.ports import TaskCall
from tests.integrations.local_http import LocalHttpServer, Recorded, Reply

KEY_ID, SECRET = "LTAI-test-key", "s3cr3t-never-shown"
ARN = "acs:fc:cn-hangzhou:123456:functions/echo/LATEST"


def _enc(text: str, safe: str = "") -> str:
    return quote(text, safe="-_.~" + safe)


def verify_signature(rec: Recorded) -> bool:
    """Server side: rebuild the canonical request from what arrived and compare signatures."""
    auth = rec.headers.get("authorization", "")
    if not auth.startswith("ACS3-HMAC-SHA256 "):
        return False
    fields = dict(part.split("=", 1) for part in auth[len("ACS3-HMAC-SHA256 "):].split(","))
    if fields.get("Credential") != KEY_ID:
        return False
    signed = fields["SignedHeaders"].split(";")
    if not {"host", "x-acs-date", "x-acs-content-sha256", "x-acs-signature-nonce"} <= set(signed):
        return False
    payload_hash = hashlib.sha256(rec.body).hexdigest()
    if rec.headers.get("x-acs-content-sha256") != payload_hash:
        return False
    path = rec.raw_path.split("?", 1)[0]
    query = "&".join(f"{_enc(k)}={_enc(v)}" for k, v in sorted(rec.query.items()))
    headers = "".join(f"{h}:{rec.headers[h].strip()}\n" for h in signed)
    canonical = "\n".join(["POST", path, query, headers, ";".join(signed), payload_hash])
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    expected = hmac.new(SECRET.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["Signature"])


def fake_fc(rec: Recorded) -> Reply:
    if not verify_signature(rec):
        return Reply(403, {"Content-Type": "application/json"},
                     b'{"Code": "SignatureNotMatch", "Message": "signature mismatch"}')
    fn = unquote(rec.path.split("/")[3])
    event = rec.body.decode()
    if fn == "echo":
        if rec.headers.get("x-fc-invocation-type") == "Async":
            return Reply(202, {"x-fc-request-id": "req-async"}, b"")
        return Reply(200, {"x-fc-request-id": "req-1"}, rec.body)
    if fn == "text":
        return Reply(200, {}, b"plain words")
    if fn == "raises":
        return Reply(200, {"x-fc-error-type": "UnhandledInvocationError", "x-fc-request-id": "req-2"},
                     json.dumps({"errorMessage": "division by zero", "errorType": "ZeroDivisionError"}).encode())
    if fn == "leaky-raises":  # a function that puts the request it saw into its error message
        return Reply(200, {"x-fc-error-type": "UnhandledInvocationError"},
                     json.dumps({"errorMessage": f"headers seen: {rec.headers}"}).encode())
    if fn == "leaky":  # a gateway that echoes the request headers into its error response
        return Reply(400, {"Content-Type": "application/json"},
                     json.dumps({"Code": "BadRequest", "Message": json.dumps(rec.headers)}).encode())
    if fn == "busy":
        return Reply(429, {}, b'{"Code": "TooManyRequests", "Message": "slow down"}')
    if fn == "svc$fn2":
        return Reply(200, {}, json.dumps({"qualifier": rec.query.get("qualifier"), "event": event}).encode())
    return Reply(404, {"Content-Type": "application/json"}, b'{"Code": "FunctionNotFound", "Message": "no such function"}')


@pytest.fixture(scope="module")
def fc_server():
    with LocalHttpServer(fake_fc) as server:
        yield server


def runner(fc_server, secret: str = SECRET, **extra: str) -> InvokeFunction:
    conn = json.dumps({"conn_type": "alibaba_cloud", "extra": {
        "access_key_id": KEY_ID, "access_key_secret": secret, "region": "cn-hangzhou", "fc_endpoint": fc_server.url,
        **extra}})
    return InvokeFunction(environment_lookup({"AIRFLOW_CONN_ALIBABA_CLOUD_DEFAULT": conn}))


def invoke(fc_server, params, secret=SECRET, mode="RequestComplete"):
    return runner(fc_server, secret)(TaskCall("FC:InvokeFunction", params, task_mode=mode, state_name="S"))


def test_signed_sync_invoke_returns_json_body(fc_server):
    out = invoke(fc_server, {"resourceArn": ARN, "invocationType": "Sync", "body": {"a": 1}})
    assert out == {"Body": {"a": 1}}
    rec = fc_server.requests[-1]
    assert rec.path == "/2023-03-30/functions/echo/invocations" and rec.query == {"qualifier": "LATEST"}
    assert rec.headers["x-fc-invocation-type"] == "Sync"
    assert rec.headers["x-acs-action"] == "InvokeFunction" and rec.headers["x-acs-version"] == "2023-03-30"
    assert SECRET not in json.dumps(rec.headers)


def test_string_body_is_sent_raw_and_non_json_result_kept_as_text(fc_server):
    assert invoke(fc_server, {"resourceArn": ARN, "invocationType": "Sync", "body": "xxxx"}) == {"Body": "xxxx"}
    text_arn = "acs:fc:cn-hangzhou:123456:functions/text"
    assert invoke(fc_server, {"resourceArn": text_arn, "invocationType": "Sync"}) == {"Body": "plain words"}


def test_wrong_secret_is_rejected_by_the_checking_server(fc_server):
    with pytest.raises(FlowError) as err:
        invoke(fc_server, {"resourceArn": ARN, "invocationType": "Sync"}, secret="wrong")
    assert err.value.code == "FC.SignatureNotMatch"
    assert "wrong" not in str(err.value) and SECRET not in str(err.value)


def test_async_request_complete_returns_request_id(fc_server):
    out = invoke(fc_server, {"resourceArn": ARN, "invocationType": "Async", "body": {"a": 1}})
    assert out == {"Body": None, "RequestId": "req-async"}


def test_wait_for_system_callback_waits_for_the_result(fc_server):
    out = invoke(fc_server, {"resourceArn": ARN, "invocationType": "Async", "body": {"a": 2}},
                 mode="WaitForSystemCallback")
    assert out == {"Body": {"a": 2}}
    assert fc_server.requests[-1].headers["x-fc-invocation-type"] == "Sync"


@pytest.mark.parametrize("fn, code, detail", [
    ("raises", "FC.UnhandledInvocationError", "division by zero"),
    ("busy", "FC.ResourceThrottled", "slow down"),
    ("missing", "FC.FunctionNotFound", "no such function"),
])
def test_errors_map_to_fc_codes(fc_server, fn, code, detail):
    with pytest.raises(FlowError) as err:
        invoke(fc_server, {"resourceArn": f"acs:fc:cn-hangzhou:123456:functions/{fn}", "invocationType": "Sync"})
    assert err.value.code == code and detail in err.value.detail and err.value.state == "S"


def test_fc2_arn_calls_service_dollar_function(fc_server):
    out = invoke(fc_server, {"resourceArn": "acs:fc:::services/svc.LATEST/functions/fn2", "invocationType": "Sync",
                             "body": {"k": "v"}})
    assert out["Body"] == {"qualifier": "LATEST", "event": '{"k":"v"}'}
    assert fc_server.requests[-1].raw_path.startswith("/2023-03-30/functions/svc%24fn2/invocations")


def test_parse_arn_forms_and_rejects_others():
    assert parse_arn(ARN).name == "echo" and parse_arn(ARN).region == "cn-hangzhou"
    assert parse_arn("acs:fc:r:1:functions/f").qualifier is None
    with pytest.raises(FlowError) as err:
        parse_arn("arn:aws:lambda:us-east-1:1:function:f")
    assert err.value.code == "FC.InvalidArgument"


def test_missing_connection_names_the_variable_and_action():
    call = TaskCall("FC:InvokeFunction", {"resourceArn": ARN, "invocationType": "Sync"})
    with pytest.raises(FlowError) as err:
        InvokeFunction(environment_lookup({}))(call)
    assert err.value.code == CONNECTION_MISSING
    assert "AIRFLOW_CONN_ALIBABA_CLOUD_DEFAULT" in err.value.detail and "FC:InvokeFunction" in err.value.detail


def test_signature_is_deterministic_for_fixed_date_and_nonce():
    from datetime import datetime, timezone

    args = dict(method="POST", host="h", path="/a%20b/c", query={"z": "1", "a": "x y"}, headers={"content-type": "t"},
                body=b"{}", access_key_id="id", access_key_secret="k", action="A", version="V",
                now=datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc), nonce="n")
    one, two = acs_signing.sign(**args), acs_signing.sign(**args)
    assert one.headers["Authorization"] == two.headers["Authorization"]
    assert one.headers["x-acs-date"] == "2024-01-02T03:04:05Z"
    assert "/a%20b/c\na=x%20y&z=1\n" in one.canonical
    assert "SignedHeaders=content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;" in one.headers["Authorization"]
    assert "k" not in one.headers["Authorization"].split("Signature=")[0].replace("Credential", "")


CANARY_TOKEN = "CANARY-sts-token-7f3a9c"


@pytest.mark.parametrize("fn", ["leaky", "leaky-raises"])
def test_server_echoing_the_request_never_puts_credentials_into_the_error(fc_server, fn):
    """The STS token, the callback task token and the signature travel in headers; an endpoint that
    echoes them into its error text must not carry them into Detail (``--json``, XCom, UI)."""
    run = runner(fc_server, security_token=CANARY_TOKEN)
    call = TaskCall("FC:InvokeFunction", {"resourceArn": f"acs:fc:cn-hangzhou:123456:functions/{fn}"},
                    state_name="S", task_token="CANARY-task-token-42")
    with pytest.raises(FlowError) as err:
        run(call)
    seen = fc_server.requests[-1].headers
    assert seen["x-acs-security-token"] == CANARY_TOKEN  # it was sent, and echoed ...
    text = json.dumps(err.value.as_dict())
    for secret in (CANARY_TOKEN, "CANARY-task-token-42", seen["authorization"].rsplit("Signature=", 1)[1]):
        assert secret not in text  # ... but never reaches the error
    assert "***" in err.value.detail
