"""ASL Task resources on AWS: Lambda and S3.

* ``arn:aws:states:::lambda:invoke`` -- Parameters ``FunctionName`` (req), ``Payload``,
  ``InvocationType``, ``Qualifier``, ``ClientContext``; output ``{"ExecutedVersion", "Payload",
  "StatusCode"}`` with ``Payload`` the parsed function result (as Step Functions returns it).
* a plain function ARN (``arn:aws:lambda:…:function:name``) -- the Parameters (the effective input)
  are the payload and the output is the function's result itself.
* Errors, with the names Step Functions uses: a function that raised → its ``errorType`` (e.g.
  ``ValueError``), or ``Lambda.Unknown`` when the payload names none, Cause the payload text;
  an API error → ``Lambda.<Code>`` (``Lambda.ResourceNotFoundException``, ``Lambda.ServiceException``,
  ``Lambda.TooManyRequestsException``…); no connection → ``Lambda.SdkClientException``.
* S3 (``arn:aws:states:::s3:getObject|putObject|headObject|listObjectsV2`` and the
  ``arn:aws:states:::aws-sdk:s3:<op>`` forms) through the ``s3`` store: ``Bucket``/``Key``
  (``Body`` for put; ``Prefix``/``StartAfter``/``MaxKeys``/``ContinuationToken`` for list); outputs in
  the SDK's PascalCase; errors ``S3.NoSuchKeyException``, ``S3.NoSuchBucketException``,
  ``S3.AccessDeniedException``, ``S3.InvalidArgumentException``, else ``S3.S3Exception``.

boto3 is imported only when a call is made. Clients come from ``clients(service)``: in Airflow the
amazon provider's hooks (``aws_conn_id``), outside it ``AIRFLOW_CONN_AWS_DEFAULT``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from ..exceptions import AccessDenied, FlowError, NoSuchBucket, NoSuchObject, StoreError
from ..masking import client_secrets, mask_secrets
from ..storage.urls import UnsafeKey, safe_bucket, safe_key
from .connections import AWS_CONN_ID, ConnectionLookup
from .oss_actions import StoresSource, body_bytes, read_object, store_for
from ..runtime.ports import TaskCall

AwsClients = Callable[[str], Any]
"""service name (``lambda``) → a boto3 client."""
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
LAMBDA_ARN_PREFIX = "arn:aws:lambda:"
S3_OPERATIONS = ("getObject", "putObject", "headObject", "listObjectsV2")


def environment_clients(lookup: ConnectionLookup, conn_id: str = AWS_CONN_ID) -> AwsClients:
    """boto3 clients from the ``aws`` connection (keys, ``region_name``, ``endpoint_url``); boto3's own
    credential chain fills what the connection leaves out, and a missing connection is not an error."""

    def make(service: str) -> Any:
        import boto3

        from ..storage.connections import ConnectionConfigError, S3Connection

        try:
            conn = S3Connection.from_raw(lookup(conn_id), name=f"connection {conn_id!r}")
        except ConnectionConfigError:
            conn = S3Connection()
        return boto3.client(
            service,
            region_name=conn.region_name or "us-east-1",
            endpoint_url=conn.endpoint_url,
            aws_access_key_id=conn.access_key_id,
            aws_secret_access_key=conn.secret_access_key,
            aws_session_token=conn.session_token,
        )

    return make


def _payload_bytes(payload: Any) -> bytes:
    return json.dumps(payload if payload is not None else {}, separators=(",", ":")).encode("utf-8")


def _decode(data: bytes) -> Any:
    if not data:
        return None
    text = data.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class LambdaInvoke:
    """``lambda:invoke`` (``optimized=True``) or a plain Lambda ARN resource."""

    clients: AwsClients
    optimized: bool = True

    def __call__(self, call: TaskCall) -> Any:
        params = call.parameters
        if self.optimized:
            if not isinstance(params, dict) or not isinstance(params.get("FunctionName"), str):
                raise FlowError("States.Runtime", "lambda:invoke needs Parameters.FunctionName", state=call.state_name or None)
            request = {"FunctionName": params["FunctionName"], "Payload": _payload_bytes(params.get("Payload"))}
            for key in ("InvocationType", "Qualifier", "ClientContext", "LogType"):
                if params.get(key) is not None:
                    request[key] = params[key]
        else:
            request = {"FunctionName": call.action, "Payload": _payload_bytes(params)}
        client = self.clients("lambda")
        response = self._invoke(client, call, request)
        payload = _decode(response["Payload"].read() if response.get("Payload") is not None else b"")
        if response.get("FunctionError"):
            error_type = payload.get("errorType") if isinstance(payload, dict) else None
            cause = json.dumps(payload) if not isinstance(payload, str) else payload
            raise FlowError(mask_secrets(str(error_type or "Lambda.Unknown"), client_secrets(client)),
                            mask_secrets(cause, client_secrets(client)), state=call.state_name or None)
        if not self.optimized:
            return payload
        return {"ExecutedVersion": response.get("ExecutedVersion"), "Payload": payload,
                "StatusCode": response.get("StatusCode")}

    @staticmethod
    def _invoke(client: Any, call: TaskCall, request: dict) -> dict:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return client.invoke(**request)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code") or "ServiceException"
            message = exc.response.get("Error", {}).get("Message") or ""
            secrets = client_secrets(client)
            raise FlowError(mask_secrets(f"Lambda.{code}", secrets), mask_secrets(message, secrets),
                            state=call.state_name or None) from None
        except BotoCoreError as exc:
            raise FlowError("Lambda.SdkClientException", mask_secrets(str(exc), client_secrets(client)),
                            state=call.state_name or None) from None


_S3_ERRORS = {NoSuchObject: "NoSuchKeyException", NoSuchBucket: "NoSuchBucketException",
              AccessDenied: "AccessDeniedException", UnsafeKey: "InvalidArgumentException"}


def _s3_info(info) -> dict[str, Any]:
    return {"ContentLength": info.size, "ETag": info.etag,
            "LastModified": info.last_modified.isoformat() if info.last_modified else None}


@dataclass(frozen=True)
class S3Action:
    """One S3 operation (``getObject`` …) on the ``s3`` store."""

    operation: str
    stores: StoresSource

    def __call__(self, call: TaskCall) -> dict[str, Any]:
        params = call.parameters if isinstance(call.parameters, dict) else {}
        try:
            store = store_for(self.stores, "s3")
            return getattr(self, "_" + self.operation)(store, params)
        except StoreError as exc:
            raise FlowError("S3." + _S3_ERRORS.get(type(exc), "S3Exception"), str(exc),
                            state=call.state_name or None) from None

    @staticmethod
    def _bucket_key(params: dict) -> tuple[str, str]:
        bucket, key = params.get("Bucket"), params.get("Key")
        if not isinstance(bucket, str) or not isinstance(key, str):
            raise UnsafeKey("Bucket and Key must be strings")
        return safe_bucket(bucket), safe_key(key)

    def _getObject(self, store, params: dict) -> dict[str, Any]:
        bucket, key = self._bucket_key(params)
        data = read_object(store, bucket, key)
        return {**_s3_info(store.head(bucket, key)), "Body": data.decode("utf-8", errors="replace"),
                "ContentLength": len(data)}

    def _putObject(self, store, params: dict) -> dict[str, Any]:
        bucket, key = self._bucket_key(params)
        store.put(bucket, key, body_bytes(params.get("Body")))
        return {"ETag": store.head(bucket, key).etag}

    def _headObject(self, store, params: dict) -> dict[str, Any]:
        return _s3_info(store.head(*self._bucket_key(params)))

    def _listObjectsV2(self, store, params: dict) -> dict[str, Any]:
        bucket = params.get("Bucket")
        if not isinstance(bucket, str):
            raise UnsafeKey("Bucket must be a string")
        prefix = safe_key(params.get("Prefix") or "", allow_empty=True)
        max_keys = params.get("MaxKeys", 1000)
        if not isinstance(max_keys, int) or not 1 <= max_keys <= 1000:
            raise UnsafeKey("MaxKeys must be an integer 1-1000")
        after = params.get("ContinuationToken") or params.get("StartAfter") or None
        contents: list[dict[str, Any]] = []
        truncated = False
        for info in store.list(safe_bucket(bucket), prefix, after):
            if len(contents) == max_keys:
                truncated = True
                break
            contents.append({"Key": info.key, "Size": info.size, "ETag": info.etag,
                             "LastModified": info.last_modified.isoformat() if info.last_modified else None,
                             "StorageClass": info.storage_class})
        out: dict[str, Any] = {"Name": bucket, "Prefix": prefix, "MaxKeys": max_keys, "KeyCount": len(contents),
                               "IsTruncated": truncated, "Contents": contents}
        if truncated:
            out["NextContinuationToken"] = contents[-1]["Key"]
        return out


__all__ = ["LAMBDA_ARN_PREFIX", "LAMBDA_INVOKE", "LambdaInvoke", "S3Action", "S3_OPERATIONS",
           "environment_clients"]
