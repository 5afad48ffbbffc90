"""``airflow-cloudflow callback succeed TOKEN [--output JSON|@FILE]`` and
``airflow-cloudflow callback fail TOKEN [--error CODE] [--cause TEXT]``: complete a Task waiting in
``WaitForCustomCallback`` mode (CloudFlow's ``ReportTaskSucceeded`` / ``ReportTaskFailed``) or an ASL
``.waitForTaskToken`` Task (``SendTaskSuccess`` / ``SendTaskFailure``);
``airflow-cloudflow callback heartbeat TOKEN`` is ``SendTaskHeartbeat`` (it restarts the Task's
``HeartbeatSeconds``).

``--at LOCATION`` is where the tokens live: a local folder (default ``$CLOUDFLOW_CALLBACK_DIR`` or
``~/.airflow-cloudflow``, what ``run`` uses), or, for flows run by Airflow, the staging location
(``[cloudflow] staging_url`` or the sidecar's, e.g. ``oss://bucket/prefix``, ``s3://…``, ``file:///…``),
whose ``callbacks/`` folder holds the tokens, with
the object-storage connection in ``AIRFLOW_CONN_OSS_DEFAULT`` / ``AIRFLOW_CONN_AWS_DEFAULT``.
Exit codes: 0 reported, 2 bad arguments, unknown or already completed token.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .run_setup import UsageError

EXIT_OK, EXIT_USAGE = 0, 2


def add_parser(sub) -> None:
    cb = sub.add_parser("callback", help="complete a Task waiting for a custom callback (task token)")
    cb.add_argument("outcome", choices=("succeed", "fail", "heartbeat"))
    cb.add_argument("token", metavar="TOKEN")
    cb.add_argument("--output", default="{}", help="succeed: the Task's output, a JSON text or @FILE")
    cb.add_argument("--error", default=None, help="fail: the error code (default FnF.TaskFailed)")
    cb.add_argument("--cause", default=None, help="fail: the error detail")
    cb.add_argument("--at", metavar="LOCATION", default=None,
                    help="where tokens live (in LOCATION/callbacks/): a directory or the staging oss:// s3:// file:// URL")


def parse_value(text: str, source: str) -> Any:
    """A JSON text, or ``@FILE`` holding one (any JSON value)."""
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise UsageError(f"cannot read {source}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source} is not valid JSON: {exc}") from None


def token_store(location: str | None):
    from ..integrations.callbacks import TokenStore

    if not location:
        return TokenStore.local()
    parsed = urlparse(location)
    if parsed.scheme in ("", "file"):
        return TokenStore.local(parsed.path if parsed.scheme else location)
    if parsed.scheme in ("oss", "s3"):
        from ..storage.resolver import StoreResolver

        store = StoreResolver.from_environment().for_scheme(parsed.scheme)
        base = parsed.path.strip("/")
        return TokenStore(store, parsed.netloc, f"{base}/callbacks/" if base else "callbacks/")
    raise UsageError(f"--at must be a folder or an oss://, s3:// or file:// URL, got {location!r}")


def main(args: argparse.Namespace) -> int:
    from ..exceptions import StoreError
    from ..integrations.callbacks import CallbackError, Outcome

    try:
        if args.outcome == "heartbeat":
            token_store(args.at).heartbeat(args.token)
            print(f"task token {args.token}: heartbeat reported")
            return EXIT_OK
        if args.outcome == "succeed":
            outcome = Outcome(True, parse_value(args.output, "--output"))
        else:
            outcome = Outcome(False, error=args.error, cause=args.cause)
        token_store(args.at).complete(args.token, outcome)
    except (UsageError, CallbackError, StoreError) as exc:
        print(f"airflow-cloudflow callback: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"task token {args.token}: {args.outcome} reported")
    return EXIT_OK
