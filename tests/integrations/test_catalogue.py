"""default_registry(): every built-in integration, wired lazily; mocks first, real fallback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.exceptions import ErrorCodes, FlowError
from airflow_cloudflow.integrations.mocks import load_mocks
from airflow_cloudflow.integrations.registry import IntegrationRegistry
from airflow_cloudflow.runtime.ports import TaskCall
from airflow_cloudflow.integrations.catalogue import default_registry
from airflow_cloudflow.runtime.interpreter import Interpreter
from airflow_cloudflow.storage.resolver import StoreResolver
from tests.conftest import REPO_ROOT
from tests.integrations.local_http import LocalHttpServer, Reply

ACTIONS = ["FC:InvokeFunction", "HTTP:Request", "FNF:StartExecution", "OSS:GetObject", "OSS:PutObject",
           "OSS:CopyObject", "OSS:HeadObject", "OSS:ListObjects", "Python:Call",
           "arn:aws:states:::lambda:invoke", "arn:aws:states:::s3:getObject", "arn:aws:states:::aws-sdk:s3:listObjectsV2",
           "arn:aws:states:::states:startExecution.sync", "arn:aws:states:::http:invoke",
           "arn:aws:lambda:us-east-1:123:function:name"]


@pytest.mark.parametrize("action", ACTIONS)
def test_every_documented_action_has_a_runner(action):
    assert default_registry().runner_for(action) is not None


def test_unimplemented_actions_fail_naming_the_action():
    for action in ("MNS:SendMessage", "EventBridge:PutEvents", "ECS:DescribeInstances"):
        with pytest.raises(FlowError) as err:
            default_registry().invoke(TaskCall(action, {}, task_mode="WaitForCustomCallback"))
        assert err.value.code == ErrorCodes.ACTION_NOT_SUPPORTED and action in err.value.detail


def test_prefix_lookup_prefers_exact_then_longest():
    reg = IntegrationRegistry()
    reg.register_prefix("arn:aws:", lambda c: "short")
    reg.register_prefix("arn:aws:lambda:", lambda c: "long")
    reg.register("arn:aws:lambda:x", lambda c: "exact")
    assert reg.invoke(TaskCall("arn:aws:lambda:y", None)) == "long"
    assert reg.invoke(TaskCall("arn:aws:s3:y", None)) == "short"
    assert reg.invoke(TaskCall("arn:aws:lambda:x", None)) == "exact"
    assert reg.prefixes() == ("arn:aws:", "arn:aws:lambda:")


def test_construction_is_offline_and_light():
    script = ("import sys; from airflow_cloudflow.integrations.catalogue import default_registry; default_registry(); "
              "print(sorted(m for m in ('boto3', 'oss2', 'airflow', 'botocore') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


FLOW = """Type: StateMachine
Name: calls
SpecVersion: v1
StartAt: Fn
States:
  - Type: Task
    Name: Fn
    Action: FC:InvokeFunction
    Parameters:
      resourceArn: acs:fc:cn-hangzhou:1:functions/mocked/LATEST
      invocationType: Sync
      body.$: $Input
    Next: Web
  - Type: Task
    Name: Web
    Action: HTTP:Request
    Parameters:
      url.$: $Input.Body.url
      method: POST
      body.$: $Input.Body
    OutputConstructor:
      fn.$: $Input
      web.$: $Output.Body
    End: true
"""


def test_mocks_first_then_real_http_through_the_interpreter():
    with LocalHttpServer(lambda rec: Reply(200, {"Content-Type": "application/json"}, rec.body)) as server:
        mocks = load_mocks({"acs:fc:cn-hangzhou:1:functions/mocked/LATEST": {"behaviour": "identity"}})
        result = Interpreter(load_definition_text(FLOW), integrations=mocks).execute({"url": server.url})
    assert result.succeeded, result.error
    assert result.output == {"fn": {"Body": {"url": server.url}}, "web": {"url": server.url}}
    assert mocks.calls == {"acs:fc:cn-hangzhou:1:functions/mocked/LATEST": 1}


def test_secrets_never_reach_errors(monkeypatch):
    conn = {"conn_type": "alibaba_cloud", "extra": {"access_key_id": "AKID-123", "access_key_secret": "TOPSECRET",
                                                      "region": "cn-hangzhou", "fc_endpoint": "http://127.0.0.1:9"}}
    monkeypatch.setenv("AIRFLOW_CONN_ALIBABA_CLOUD_DEFAULT", json.dumps(conn))
    flow = FLOW.replace("mocked", "real")
    result = Interpreter(load_definition_text(flow), integrations=default_registry()).execute({"url": "http://x"})
    assert result.error.code == "FC.ConnectionError"
    assert "TOPSECRET" not in json.dumps(result.as_json()) and "AKID-123" not in json.dumps(result.as_json())
    assert "TOPSECRET" not in repr(default_registry().runner_for("FC:InvokeFunction"))


def test_oss_actions_use_the_given_stores(tmp_path):
    stores = StoreResolver.local(tmp_path)
    stores.for_scheme("oss").create_bucket("bkt")
    reg = default_registry(stores=stores)
    reg.invoke(TaskCall("OSS:PutObject", {"bucket": "bkt", "key": "k.txt", "body": "hi"}))
    assert (tmp_path / "bkt" / "k.txt").read_text() == "hi"
    assert reg.invoke(TaskCall("arn:aws:states:::s3:getObject", {"Bucket": "bkt", "Key": "k.txt"}))["Body"] == "hi"


def test_lint_knows_exactly_the_cloudflow_actions_that_have_an_integration():
    from airflow_cloudflow.validation.catalogue import KNOWN_ACTIONS, is_known_action

    registered = {a for a in default_registry().actions() if not a.startswith("arn:")}
    assert registered == set(KNOWN_ACTIONS) - {"Airflow:Operator"}  # that one is added by the Airflow layer
    assert not is_known_action("MNS:SendMessage") and not is_known_action("OSS:DeleteObject")
