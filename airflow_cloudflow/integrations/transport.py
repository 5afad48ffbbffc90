"""One HTTP exchange with the standard library (used by ``HTTP:Request``, ``http:invoke`` and FC).

Only ``http``/``https`` URLs are sent (``file://``, ``ftp://`` … are refused, so a definition
cannot read local files through a Task). Redirects are followed for http(s) only. Every status is
returned as data (a 500 is a ``Response``, not an exception); connection failures raise
``TransportError`` with a message that never contains request headers (they may carry secrets).
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urlsplit

from ..masking import mask_secrets

DEFAULT_TIMEOUT = 60.0
"""Seconds a request may stall (connect or read) when the Task sets no shorter ``Timeout``."""
MAX_BODY_BYTES = 32 * 1024 * 1024
"""Responses larger than this are refused (state I/O is limited to 64 KiB anyway)."""


class TransportError(Exception):
    """The request could not be completed (refused connection, DNS failure, timeout, bad URL)."""

    def __init__(self, message: str, *, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = field(repr=False)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def header_map(self) -> dict[str, str]:
        """Headers as one map; repeated names are joined with ``, `` (RFC 9110 §5.3)."""
        merged: dict[str, str] = {}
        for key, value in self.headers:
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return merged

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


SENSITIVE_HEADERS = ("authorization", "proxy-authorization", "cookie", "x-acs-", "x-fnf-", "x-amz-security-token")
"""Header names (or prefixes) never forwarded to another host on a redirect: credentials, FC's
signature and STS token, the callback task token."""


class _SameHostCredentialsRedirect(urllib.request.HTTPRedirectHandler):
    """Follows http(s) redirects, but drops credential headers when the redirect leaves the host
    (urllib would otherwise copy ``Authorization`` & co. to wherever ``Location`` points)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401 - urllib's signature
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is None:
            return None
        check_url(new.full_url, "redirect location")
        if urlsplit(new.full_url).netloc.lower() != urlsplit(req.full_url).netloc.lower():
            for name in list(new.headers):
                if name.lower().startswith(SENSITIVE_HEADERS):
                    del new.headers[name]
        return new


def _opener() -> urllib.request.OpenerDirector:
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        _SameHostCredentialsRedirect(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def check_url(url: str, what: str = "url") -> str:
    if not isinstance(url, str):
        raise TransportError(f"{what} must be a string")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise TransportError(f"{what} must be an absolute http:// or https:// URL, got {mask_secrets(url)[:200]!r}")
    return url


def send(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Response:
    """Send one request and return the response, whatever its status."""
    check_url(url)
    request = urllib.request.Request(url, data=body, method=method.upper(), headers=dict(headers or {}))
    try:
        raw = _opener().open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:  # a non-2xx status: still a response
        raw = exc
    except (socket.timeout, TimeoutError):
        raise TransportError(f"{method.upper()} {_origin(url)} timed out after {timeout:g}s", timed_out=True) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        timed_out = isinstance(reason, (socket.timeout, TimeoutError))
        raise TransportError(f"{method.upper()} {_origin(url)} failed: {mask_secrets(str(reason))}", timed_out=timed_out) from None
    except (OSError, ValueError) as exc:
        raise TransportError(f"{method.upper()} {_origin(url)} failed: {type(exc).__name__}: {mask_secrets(str(exc))}") from None
    try:
        with raw:
            data = raw.read(MAX_BODY_BYTES + 1)
    except (socket.timeout, TimeoutError):
        raise TransportError(f"{method.upper()} {_origin(url)} timed out reading the response", timed_out=True) from None
    except OSError as exc:
        raise TransportError(f"{method.upper()} {_origin(url)} failed reading the response: {mask_secrets(str(exc))}") from None
    if len(data) > MAX_BODY_BYTES:
        raise TransportError(f"{method.upper()} {_origin(url)}: response larger than {MAX_BODY_BYTES} bytes")
    status = getattr(raw, "status", None) or raw.getcode()
    return Response(int(status), str(getattr(raw, "reason", "") or ""), tuple(raw.headers.items()), data)


def _origin(url: str) -> str:
    """``scheme://host[:port]/path`` without query or credentials (for messages)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
