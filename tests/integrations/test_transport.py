"""The one HTTP exchange: credentials never follow a redirect to another host (real local servers)."""

from __future__ import annotations

import pytest

from airflow_cloudflow.integrations.transport import TransportError, send
from tests.integrations.local_http import LocalHttpServer, Reply

SECRETS = {"Authorization": "ACS3-HMAC-SHA256 Credential=AK,Signature=abc", "x-acs-security-token": "sts",
           "x-fnf-task-token": "token-1", "X-Trace": "keep-me"}


def test_a_redirect_to_another_host_drops_the_credentials():
    with LocalHttpServer(lambda r: Reply(200, body=b"landed")) as other:
        with LocalHttpServer(lambda r: Reply(302, {"Location": other.url + "/there"})) as first:
            response = send("GET", first.url + "/here", headers=SECRETS)
    assert (response.status, response.body) == (200, b"landed")
    assert first.requests[0].headers["authorization"].startswith("ACS3")
    forwarded = other.requests[0].headers
    assert "authorization" not in forwarded and "x-acs-security-token" not in forwarded
    assert "x-fnf-task-token" not in forwarded
    assert forwarded["x-trace"] == "keep-me"


def test_a_redirect_on_the_same_host_keeps_them():
    def responder(record):
        return Reply(200, body=b"ok") if record.path == "/there" else Reply(302, {"Location": "/there"})

    with LocalHttpServer(responder) as server:
        send("GET", server.url + "/here", headers=SECRETS)
    assert server.requests[1].headers["authorization"].startswith("ACS3")


def test_a_redirect_to_a_non_http_url_is_not_followed():
    with LocalHttpServer(lambda r: Reply(302, {"Location": "file:///etc/passwd"}, b"moved")) as server:
        response = send("GET", server.url + "/here")
    assert (response.status, response.body) == (302, b"moved")


def test_only_http_urls_are_sent():
    with pytest.raises(TransportError):
        send("GET", "file:///etc/passwd")
