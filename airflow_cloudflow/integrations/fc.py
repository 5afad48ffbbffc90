"""``FC:InvokeFunction``: Function Compute 3.0 ``InvokeFunction`` over its signed HTTP API.

cloudflow-language §4.2: "``resourceArn`` (req): the function ARN. FC3 form
``acs:fc:{region}:{accountId}:functions/{fn}/{qualifier e.g. LATEST}``. FC2 form
``acs:fc:::services/{svc}.{qualifier}/functions/{fn}``"; "``invocationType`` (req): ``Sync`` |
``Async``"; "``body`` (optional): object or string, serialized to bytes and passed as the function's
event"; "the function's JSON return value is exposed as ``$Output.Body`` (parsed object)";
"A non-JSON return is probably kept as a string in ``Body``"; error codes "``FC.{ErrorCode}``:
Function Compute returned a non-200 status, e.g. ``FC.ResourceThrottled``".

The request: ``POST https://{accountId}.{region}.fc.aliyuncs.com/2023-03-30/functions/{fn}/invocations
?qualifier=…`` with ``x-fc-invocation-type``, signed ``ACS3-HMAC-SHA256`` (``acs_signing``) with the
``alibaba_cloud`` connection's AccessKey. Decisions (docs/integrations.md):

* output ``{"Body": <parsed JSON | text | null>}``; an ``Async`` request accepted by FC (202) gives
  ``{"Body": null, "RequestId": <x-fc-request-id>}``;
* ``WaitForSystemCallback`` ("waits until the async invocation completes") invokes ``Sync`` so the
  Task holds the function's result;
* a function that raised (``x-fc-error-type`` header) fails with ``FC.<x-fc-error-type>`` (e.g.
  ``FC.UnhandledInvocationError``), Detail its ``errorMessage``; an FC error response (JSON ``Code``
  or ``ErrorCode``) fails with ``FC.<Code>``; HTTP 429 is always ``FC.ResourceThrottled``; an error
  without a code is ``FC.Unknown``;
* an FC2 ARN calls the FC 3.0 function ``{service}${function}`` (how FC 3.0 names 2.0 functions).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from ..exceptions import FlowError
from ..masking import mask_secrets
from . import acs_signing, transport
from .connections import ALIBABA_CONN_ID, ConnectionLookup, alibaba_credentials
from .http import encode_body
from ..runtime.ports import TaskCall

ACTION = "FC:InvokeFunction"
API_VERSION = "2023-03-30"
_FC3 = re.compile(r"^acs:fc:(?P<region>[^:]*):(?P<account>[^:]*):functions/(?P<fn>[^/]+)(?:/(?P<qualifier>[^/]+))?$")
_FC2 = re.compile(
    r"^acs:fc:(?P<region>[^:]*):(?P<account>[^:]*):services/(?P<svc>[^/.]+)(?:\.(?P<qualifier>[^/]+))?/functions/(?P<fn>[^/]+)$"
)
DETAIL_LIMIT = 1000


@dataclass(frozen=True)
class FunctionRef:
    region: str
    account: str
    name: str
    qualifier: str | None


def parse_arn(arn: Any) -> FunctionRef:
    """An FC3 or FC2 function ARN → (region, account, FC 3.0 function name, qualifier)."""
    if isinstance(arn, str):
        match = _FC3.match(arn)
        if match:
            return FunctionRef(match["region"], match["account"], match["fn"], match["qualifier"])
        match = _FC2.match(arn)
        if match:
            return FunctionRef(match["region"], match["account"], f"{match['svc']}${match['fn']}", match["qualifier"])
    raise FlowError("FC.InvalidArgument", f"resourceArn {arn!r} is not an FC function ARN "
                    "(acs:fc:{region}:{accountId}:functions/{name}[/{qualifier}])")


def error_from_response(response: transport.Response, secrets: tuple[str | None, ...] = ()) -> FlowError | None:
    """The Task error a response means, or None for a successful invocation; ``secrets`` (the
    connection's own) and credential-looking values are masked out of its code and Detail."""
    text = response.text()
    request_id = response.header("x-fc-request-id")
    suffix = f" (request id {request_id})" if request_id else ""
    function_error = response.header("x-fc-error-type")
    payload: Any = None
    try:
        payload = json.loads(text) if text else None
    except ValueError:
        payload = None
    if function_error:
        message = payload.get("errorMessage") if isinstance(payload, dict) else None
        return FlowError(mask_secrets(f"FC.{function_error}", secrets),
                         mask_secrets(str(message) if message else text, secrets)[:DETAIL_LIMIT] + mask_secrets(suffix, secrets))
    if 200 <= response.status < 300:
        return None
    if response.status == 429:
        code = "ResourceThrottled"
    elif isinstance(payload, dict) and isinstance(payload.get("Code") or payload.get("ErrorCode"), str):
        code = payload.get("Code") or payload.get("ErrorCode")
    else:
        code = "Unknown"
    message = None
    if isinstance(payload, dict):
        message = payload.get("Message") or payload.get("ErrorMessage")
    detail = mask_secrets(f"HTTP {response.status}: {message or text}", secrets)[:DETAIL_LIMIT] + mask_secrets(suffix, secrets)
    return FlowError(mask_secrets(f"FC.{code}", secrets), detail)


def decode_result(body: bytes) -> Any:
    """The function's return value: parsed JSON, else the text, else null for an empty body."""
    if not body:
        return None
    text = body.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class InvokeFunction:
    """The ``FC:InvokeFunction`` runner; credentials come from ``lookup(conn_id)`` at call time."""

    lookup: ConnectionLookup
    conn_id: str = ALIBABA_CONN_ID
    timeout: float = transport.DEFAULT_TIMEOUT

    def __call__(self, call: TaskCall) -> dict[str, Any]:
        params = call.parameters if isinstance(call.parameters, dict) else {}
        ref = parse_arn(params.get("resourceArn"))
        invocation = params.get("invocationType", "Sync")
        if invocation not in ("Sync", "Async"):
            raise FlowError("FC.InvalidArgument", f"invocationType must be 'Sync' or 'Async', got {invocation!r}")
        if call.task_mode == "WaitForSystemCallback":
            invocation = "Sync"
        creds = alibaba_credentials(self.lookup, self.conn_id, ACTION)
        region = ref.region or creds.region
        account = ref.account or creds.account_id
        if creds.fc_endpoint:
            base = creds.fc_endpoint
        elif region and account:
            base = f"https://{account}.{region}.fc.aliyuncs.com"
        else:
            raise FlowError("FC.InvalidArgument", "the function's region and account id are needed: put them in "
                            "resourceArn or in the connection extra (region, account_id)")
        body, _ = encode_body(params.get("body"))
        body = body or b""
        path = f"/{API_VERSION}/functions/{quote(ref.name, safe='')}/invocations"
        query = {"qualifier": ref.qualifier} if ref.qualifier else {}
        host = urlsplit(base).netloc
        headers = {
            "content-type": "application/octet-stream",
            "x-fc-invocation-type": invocation,
            "x-fc-log-type": "None",
        }
        if call.task_token:
            headers["x-fnf-task-token"] = call.task_token
        secrets = (creds.access_key_id, creds.access_key_secret, creds.security_token, call.task_token)
        signed = acs_signing.sign(
            method="POST", host=host, path=path, query=query, headers=headers, body=body,
            access_key_id=creds.access_key_id, access_key_secret=creds.access_key_secret,
            action="InvokeFunction", version=API_VERSION, security_token=creds.security_token,
        )
        url = base + path + (f"?{urlencode(query)}" if query else "")
        try:
            response = transport.send("POST", url, headers=signed.headers, body=body, timeout=self.timeout)
        except transport.TransportError as exc:
            code = "FC.Timeout" if exc.timed_out else "FC.ConnectionError"
            raise FlowError(code, mask_secrets(str(exc), secrets), state=call.state_name or None) from None
        error = error_from_response(response, secrets)
        if error is not None:
            error.state = call.state_name or None
            raise error
        if invocation == "Async":
            return {"Body": None, "RequestId": response.header("x-fc-request-id")}
        return {"Body": decode_result(response.body)}
