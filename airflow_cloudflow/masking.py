"""Masking credentials out of error text built from remote responses (docs/integrations.md "Secrets in
error text").

"Credentials only from Airflow connections, never in logs, results or UI responses": a server may
echo the request (headers, URL, body) into its error message, and that message becomes an error's
Cause/Detail, which reaches ``--json``, XCom and the UI. ``mask_secrets`` is applied wherever an error
is built from remote text. It replaces, with ``***``:

* each of the caller's own secret values (the connection's key secret, session/STS token, key id,
  the callback task token, the Task's own credential headers), wherever they appear;
* the userinfo of any URL (``https://user:secret@host`` -> ``https://***@host``);
* the value after a credential-looking header or parameter name (``Authorization: …``,
  ``X-Amz-Security-Token=…``, ``"access_key_secret": "…"``, ``password=…``, ``X-Amz-Signature=…``).
"""

from __future__ import annotations

import re
from typing import Any, Iterable
from urllib.parse import urlsplit

MASK = "***"
MIN_SECRET_CHARS = 4
"""Shorter values are not masked by value (masking ``"k"`` would garble every message)."""

SECRET_NAMES = (
    r"authorization|proxy-authorization|cookie|set-cookie"
    r"|x-amz-security-token|x-amz-signature|x-amz-credential|x-acs-security-token|x-acs-signature"
    r"|x-fnf-task-token|x-cloudflow-task-token|security-?token|session-?token|task-?token"
    r"|aws_secret_access_key|aws_session_token|access_?key_?secret|secret_?access_?key|secret|password|passwd"
    r"|x-api-key|api[_-]?key|signature|token"
)
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@\"'<>]+@")
# "Name": "value"  /  'Name': 'value'  (JSON or a Python repr of a header dict)
_QUOTED = re.compile(rf"""(?i)(["'])({SECRET_NAMES})\1(\s*[:=]\s*)(["'])((?:\\.|(?!\4).)*)\4""")
# Name: value up to the end of the line (a header line; Authorization values contain spaces)
_HEADER = re.compile(rf"(?im)(^|[\s{{,;(\[])({SECRET_NAMES})(\s*:\s*)([^\r\n\"'<>]+)")
# name=value up to the next separator (a query string or form)
_PARAM = re.compile(rf"(?i)(^|[\s?&;,(\[\"'{{])({SECRET_NAMES})(=)([^\s&;,\"'<>)\]}}]+)")
# <Name>value</Name> (an XML error body)
_XML = re.compile(rf"(?i)<({SECRET_NAMES})>[^<]*</\1>")


def mask_value(value: str | None) -> str | None:
    """``***`` for a credential shown in a repr (``None`` stays ``None``: "not set" is no secret)."""
    return None if value is None else MASK


def mask_secrets(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with ``secrets`` (by value), URL userinfo and credential-named values masked."""
    if not text:
        return text
    values = sorted({s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True)
    for value in values:
        text = text.replace(value, MASK)
    text = _USERINFO.sub(rf"\1{MASK}@", text)
    text = _QUOTED.sub(rf"\1\2\1\3\4{MASK}\4", text)
    text = _XML.sub(rf"<\1>{MASK}</\1>", text)
    text = _PARAM.sub(rf"\1\2\3{MASK}", text)
    return _HEADER.sub(rf"\1\2\3{MASK}", text)


def client_secrets(client: Any) -> tuple[str, ...]:
    """The credential values a boto3 client signs with, and its endpoint URL's userinfo (masked by
    value in error text built from a server's answer)."""
    values: list[str] = []
    try:
        frozen = client._request_signer._credentials.get_frozen_credentials()  # botocore's signer
        values += [frozen.access_key, frozen.secret_key, frozen.token]
    except Exception:  # no credentials, or another client shape: URL and name masking still apply
        pass
    try:
        parts = urlsplit(client.meta.endpoint_url)
        values += [parts.username, parts.password]
    except Exception:
        pass
    return tuple(v for v in values if v)


__all__ = ["MASK", "client_secrets", "mask_secrets"]
