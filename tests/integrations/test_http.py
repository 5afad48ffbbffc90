"""HTTP:Request and ASL http:invoke against a real HTTP server on 127.0.0.1 started by the test."""

from __future__ import annotations

import json

import pytest

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.integrations.http import CALLBACK_HEADER, HttpInvoke, HttpRequest
from airflow_cloudflow.runtime.ports import TaskCall
from tests.integrations.local_http import LocalHttpServer, Recorded, Reply


def echo(rec: Recorded) -> Reply:
    if rec.path == "/text":
        return Reply(200, {"Content-Type": "text/plain; charset=utf-8"}, b"hello world")
    if rec.path == "/json":
        return Reply(200, {"Content-Type": "application/json"}, b'{"a": [1, 2]}')
    if rec.path == "/badjson":
        return Reply(200, {"Content-Type": "application/json"}, b"{nope")
    if rec.path.startswith("/echo-headers"):  # an endpoint that echoes the request into its error
        return Reply(502, {"Content-Type": "text/plain"}, f"bad gateway for {rec.raw_path} with {rec.headers}".encode())
    if rec.path.startswith("/status/"):
        code = int(rec.path.rsplit("/", 1)[1])
        return Reply(code, {"Content-Type": "text/plain"}, b"x" * 3000 if code == 500 else b"gone")
    return Reply(201, {"Content-Type": "application/json", "X-Seen-Method": rec.method},
                 json.dumps({"body": rec.body.decode(), "type": rec.headers.get("content-type")}).encode())


@pytest.fixture(scope="module")
def shared_server():
    with LocalHttpServer(echo) as srv:
        yield srv


@pytest.fixture()
def server(shared_server):
    shared_server.requests.clear()
    return shared_server


def http(params, **kw):
    return HttpRequest()(TaskCall("HTTP:Request", params, state_name="Req", **kw))


def test_get_text_body_matches_documented_shape(server):
    out = http({"url": server.url + "/text", "method": "Get"})
    assert out["Code"] == 200
    assert out["Body"] == "hello world"
    assert out["Header"]["Content-Type"] == "text/plain; charset=utf-8"
    assert server.requests[0].method == "GET"


def test_json_response_is_parsed_and_bad_json_kept_as_text(server):
    assert http({"url": server.url + "/json"})["Body"] == {"a": [1, 2]}
    assert http({"url": server.url + "/badjson"})["Body"] == "{nope"


def test_object_body_is_json_encoded_and_string_sent_as_is(server):
    out = http({"url": server.url + "/echo", "method": "post", "body": {"k": [1, "v"]}})
    assert out["Code"] == 201
    assert json.loads(out["Body"]["body"]) == {"k": [1, "v"]}
    assert out["Body"]["type"] == "application/json"
    out = http({"url": server.url + "/echo", "method": "PUT", "body": "raw text",
                "headers": {"Content-Type": "text/csv", "X-Custom": "1"}})
    assert out["Body"] == {"body": "raw text", "type": "text/csv"}
    assert server.requests[-1].headers["x-custom"] == "1"
    assert server.requests[-1].method == "PUT"


def test_non_2xx_fails_with_http_status_code_and_truncated_detail(server):
    with pytest.raises(FlowError) as err:
        http({"url": server.url + "/status/500"})
    assert err.value.code == "HTTP.500"
    assert len(err.value.detail) == 1000
    with pytest.raises(FlowError) as err:
        http({"url": server.url + "/status/404", "method": "DELETE"})
    assert err.value.code == "HTTP.404" and err.value.detail == "gone"


def test_callback_token_is_sent_in_header(server):
    http({"url": server.url + "/text"}, task_mode="WaitForCustomCallback", task_token="tok-1")
    assert server.requests[0].headers[CALLBACK_HEADER.lower()] == "tok-1"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x/y", "not a url", None, "http://"])
def test_only_http_urls_are_sent(url):
    with pytest.raises(FlowError) as err:
        http({"url": url})
    assert err.value.code == "HTTP.InvalidParameter"


def test_unknown_method_is_rejected(server):
    with pytest.raises(FlowError) as err:
        http({"url": server.url, "method": "TRACE"})
    assert err.value.code == "HTTP.InvalidParameter" and not server.requests


def test_refused_connection_is_a_connection_error():
    with LocalHttpServer(echo) as gone:
        url = gone.url
    with pytest.raises(FlowError) as err:
        http({"url": url + "/text"})
    assert err.value.code == "HTTP.ConnectionError"


def test_asl_http_invoke_shape_and_status_error(server):
    out = HttpInvoke()(TaskCall("arn:aws:states:::http:invoke", {
        "ApiEndpoint": server.url + "/echo", "Method": "POST", "RequestBody": {"x": 1},
        "QueryParameters": {"q": "a b"}, "Headers": {"X-H": "v"}}))
    assert out["StatusCode"] == 201 and out["ResponseBody"]["body"] == '{"x":1}'
    assert out["Headers"]["X-Seen-Method"] == "POST" and out["StatusText"] == "Created"
    assert server.requests[0].query == {"q": "a b"}
    with pytest.raises(FlowError) as err:
        HttpInvoke()(TaskCall("arn:aws:states:::http:invoke", {"ApiEndpoint": server.url + "/status/404", "Method": "GET"}))
    assert err.value.code == "States.Http.StatusCode.404"


CANARY = "CANARY-bearer-5e1d"


def test_an_endpoint_echoing_credentials_into_its_error_has_them_masked(server):
    with pytest.raises(FlowError) as err:
        http({"url": server.url + "/echo-headers?api_key=CANARY-query-key", "method": "GET",
              "headers": {"Authorization": f"Bearer {CANARY}", "X-Trace": "visible"}}, task_token="CANARY-cb-token")
    assert err.value.code == "HTTP.502"
    assert server.requests[-1].headers["authorization"] == f"Bearer {CANARY}"
    for secret in (CANARY, "CANARY-query-key", "CANARY-cb-token"):
        assert secret not in err.value.detail
    assert "visible" in err.value.detail and "***" in err.value.detail
    with pytest.raises(FlowError) as err:
        HttpInvoke()(TaskCall("arn:aws:states:::http:invoke", {
            "ApiEndpoint": server.url + "/echo-headers", "Method": "GET",
            "Headers": {"x-api-key": CANARY}}))
    assert err.value.code == "States.Http.StatusCode.502" and CANARY not in err.value.detail


def test_url_userinfo_never_reaches_an_error():
    with pytest.raises(FlowError) as err:
        http({"url": "http://user:CANARY-pw@127.0.0.1:9/x", "method": "GET"})
    assert err.value.code == "HTTP.ConnectionError" and "CANARY-pw" not in str(err.value)
    with pytest.raises(FlowError) as err:
        http({"url": "ftp://user:CANARY-pw@127.0.0.1/x", "method": "GET"})
    assert "CANARY-pw" not in str(err.value)
