"""``HTTP:Request`` (CloudFlow) and ``arn:aws:states:::http:invoke`` (ASL).

CloudFlow (cloudflow-language §4.3): "``url``: full public URL including the scheme";
"``method``: GET/POST/PATCH/PUT/DELETE/HEAD. The example uses ``Get``, so it is presumably
case-insensitive"; "``body``: a string is sent as-is; an object or array is JSON-encoded";
"``headers``: map". "Output: ``{"Header": {...}, "Code": 200, "Body": "hello world"}``".
"WaitForCustomCallback: the task token is sent in the HTTP header ``X-FnF-Http-Callback-Task-Token``".

Decisions (the spec leaves them open, see docs/integrations.md):

* ``Body`` is the response text; when the response ``Content-Type`` is JSON (``application/json``
  or ``*+json``) and the text parses, ``Body`` is the parsed value.
* A status outside 200-299 fails the Task with ``HTTP.<status>`` (e.g. ``HTTP.500``), matchable
  by Retry/Catch; ``Detail`` is the first 1,000 characters of the response body.
* A connection failure is ``HTTP.ConnectionError``; a stalled request ``HTTP.Timeout`` after
  ``transport.DEFAULT_TIMEOUT`` seconds (a shorter Task ``Timeout`` ends the wait first).

ASL ``http:invoke``: Parameters ``ApiEndpoint``, ``Method``, ``Headers``, ``QueryParameters``,
``RequestBody``; output ``{"Headers", "ResponseBody", "StatusCode", "StatusText"}``; a non-2xx
status fails with ``States.Http.StatusCode.<status>`` (the name AWS uses).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..exceptions import FlowError
from ..masking import SECRET_NAMES, mask_secrets
from . import transport
from ..runtime.ports import TaskCall

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
CALLBACK_HEADER = "X-FnF-Http-Callback-Task-Token"
DETAIL_LIMIT = 1000


def encode_body(body: Any) -> tuple[bytes | None, str | None]:
    """(bytes, default content type): a string as is, anything else (object, array, number) as JSON."""
    if body is None:
        return None, None
    if isinstance(body, str):
        return body.encode("utf-8"), "text/plain; charset=utf-8"
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), "application/json"


def is_json_type(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def decode_body(response: transport.Response) -> Any:
    """The response text, parsed when it is declared JSON and parses."""
    text = response.text()
    if text and is_json_type(response.header("Content-Type")):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _headers(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FlowError("HTTP.InvalidParameter", f"{what} must be an object of header names to values")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


def _method(value: Any, default: str = "GET") -> str:
    method = (value or default)
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise FlowError("HTTP.InvalidParameter", f"method must be one of {', '.join(METHODS)}, got {method!r}")
    return method.upper()


_SECRET_NAME = re.compile(rf"(?i)^(?:{SECRET_NAMES})$|^x-acs-|^x-fnf-")


def request_secrets(url: str, headers: dict[str, str]) -> tuple[str, ...]:
    """The credential values a request carries (credential-named headers and query parameters, URL
    userinfo): masked by value in error text built from the response, which may echo them."""
    parts = urlsplit(url)
    values = [v for k, v in headers.items() if _SECRET_NAME.search(k)]
    values += [v for k, v in parse_qsl(parts.query) if _SECRET_NAME.search(k)]
    values += [parts.username or "", parts.password or ""]
    return tuple(v for v in values if v)


def _send(method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float, prefix: str):
    try:
        return transport.send(method, url, headers=headers, body=body, timeout=timeout)
    except transport.TransportError as exc:
        code = f"{prefix}.Timeout" if exc.timed_out else f"{prefix}.ConnectionError"
        raise FlowError(code, mask_secrets(str(exc), request_secrets(url, headers))) from None


def _status_detail(response: transport.Response, url: str, headers: dict[str, str]) -> str:
    """The start of an error response's body, credentials masked (an endpoint may echo them)."""
    return mask_secrets(response.text(), request_secrets(url, headers))[:DETAIL_LIMIT]


@dataclass(frozen=True)
class HttpRequest:
    """The ``HTTP:Request`` runner."""

    timeout: float = transport.DEFAULT_TIMEOUT

    def __call__(self, call: TaskCall) -> dict[str, Any]:
        params = call.parameters if isinstance(call.parameters, dict) else {}
        url = params.get("url")
        try:
            transport.check_url(url, "url")
        except transport.TransportError as exc:
            raise FlowError("HTTP.InvalidParameter", mask_secrets(str(exc)), state=call.state_name or None) from None
        method = _method(params.get("method"))
        headers = _headers(params.get("headers"), "headers")
        body, content_type = encode_body(params.get("body"))
        if content_type and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = content_type
        if call.task_token:
            headers[CALLBACK_HEADER] = call.task_token
        response = _send(method, url, headers, body, self.timeout, "HTTP")
        if not 200 <= response.status < 300:
            raise FlowError(f"HTTP.{response.status}", _status_detail(response, url, headers),
                            state=call.state_name or None)
        return {"Header": response.header_map(), "Code": response.status, "Body": decode_body(response)}


@dataclass(frozen=True)
class HttpInvoke:
    """The ASL ``arn:aws:states:::http:invoke`` runner (``Authentication`` is not used here)."""

    timeout: float = transport.DEFAULT_TIMEOUT

    def __call__(self, call: TaskCall) -> dict[str, Any]:
        params = call.parameters if isinstance(call.parameters, dict) else {}
        url = params.get("ApiEndpoint")
        try:
            transport.check_url(url, "ApiEndpoint")
        except transport.TransportError as exc:
            raise FlowError("States.Runtime", mask_secrets(str(exc)), state=call.state_name or None) from None
        query = params.get("QueryParameters")
        if isinstance(query, dict) and query:
            joiner = "&" if urlsplit(url).query else "?"
            url = url + joiner + urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in query.items()})
        headers = _headers(params.get("Headers"), "Headers")
        body, content_type = encode_body(params.get("RequestBody"))
        if content_type and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = content_type
        response = _send(_method(params.get("Method")), url, headers, body, self.timeout, "States.Http")
        if not 200 <= response.status < 300:
            raise FlowError(
                f"States.Http.StatusCode.{response.status}", _status_detail(response, url, headers),
                state=call.state_name or None
            )
        return {
            "Headers": response.header_map(),
            "ResponseBody": decode_body(response),
            "StatusCode": response.status,
            "StatusText": response.reason,
        }
