"""``WaitForCustomCallback``: task tokens that an external caller completes.

cloudflow-language §4.1: "CloudFlow sends a task token (``$Context.Current.TaskToken``) with the
request. The flow pauses until someone calls ``ReportTaskSucceeded(TaskToken, Output)`` or
``ReportTaskFailed(TaskToken, Error, Cause)``. The reported output becomes ``$Output``".

A token is a record ``<prefix><token>.json`` in an object store (``TokenStore``): ``pending`` when the
Task starts, then ``succeeded`` (with ``output``) or ``failed`` (with ``error``/``cause``) when
``complete`` is called -- by ``airflow-cloudflow callback succeed|fail TOKEN …`` or any code with
access to the same store. The waiting Task polls the record. The store is the CLI's local token
folder (``CLOUDFLOW_CALLBACK_DIR``, default ``~/.airflow-cloudflow/callbacks``) or, in Airflow, the
``callbacks/`` folder of the staging location, so any machine that can reach it can answer.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from ..exceptions import ErrorCodes, FlowError, NoSuchObject
from ..runtime.ports import TaskCall, new_task_token

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,200}$")
CALLBACK_DIR_ENV = "CLOUDFLOW_CALLBACK_DIR"
DEFAULT_POLL_SECONDS = 2.0
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
MAX_WAIT_SECONDS = 604800.0
"""A callback Task with no Timeout stops waiting after 7 days (the Task Timeout maximum)."""


class CallbackError(ValueError):
    """A token is malformed, unknown, or already completed."""


def check_token(token: Any) -> str:
    if not isinstance(token, str) or not TOKEN_PATTERN.match(token):
        raise CallbackError(f"malformed task token {str(token)[:60]!r}")
    return token


@dataclass(frozen=True)
class Outcome:
    """What a completed token reports."""

    succeeded: bool
    output: Any = None
    error: str | None = None
    cause: str | None = None

    def result(self) -> Any:
        """The Task's ``$Output``, or the reported error raised as a Task failure."""
        if self.succeeded:
            return self.output
        raise FlowError(self.error or ErrorCodes.TASK_FAILED, self.cause)


@dataclass(frozen=True)
class TokenStore:
    """Token records in ``store`` (an ``ObjectStore``) under ``bucket``/``prefix``."""

    store: Any
    bucket: str
    prefix: str = "callbacks/"

    @classmethod
    def local(cls, root: str | os.PathLike[str] | None = None) -> "TokenStore":
        """A token folder on this machine: ``root`` / ``$CLOUDFLOW_CALLBACK_DIR`` / ``~/.airflow-cloudflow``."""
        from ..storage.local import LocalStore

        folder = Path(root or os.environ.get(CALLBACK_DIR_ENV) or Path.home() / ".airflow-cloudflow")
        store = LocalStore(folder)
        store.create_bucket("callbacks")
        return cls(store, "callbacks", "")

    def _key(self, token: str) -> str:
        return f"{self.prefix}{check_token(token)}.json"

    def _read(self, token: str) -> dict[str, Any] | None:
        try:
            with self.store.open(self.bucket, self._key(token)) as stream:
                return json.loads(stream.read().decode("utf-8"))
        except NoSuchObject:
            return None

    def _write(self, token: str, record: dict[str, Any]) -> None:
        self.store.put(self.bucket, self._key(token), json.dumps(record).encode("utf-8"))

    def open_token(self, token: str, call: TaskCall) -> None:
        """Record ``token`` as pending (before the request carrying it is sent)."""
        self._write(token, {"status": "pending", "execution": call.execution_name, "state": call.state_name,
                            "action": call.action, "beat_at": time.time()})

    def heartbeat(self, token: str) -> None:
        """``SendTaskHeartbeat``: the worker is still on it (resets the ``HeartbeatSeconds`` clock)."""
        record = self._read(token)
        if record is None:
            raise CallbackError(f"unknown task token {token!r}")
        if record.get("status") != "pending":
            raise CallbackError(f"task token {token!r} was already completed ({record.get('status')})")
        record["beat_at"] = time.time()
        self._write(token, record)

    def heartbeat_missed(self, token: str, heartbeat_seconds: float | None, now: float | None = None) -> bool:
        """Whether a pending token went ``heartbeat_seconds`` without a heartbeat (since it was opened)."""
        if not heartbeat_seconds:
            return False
        record = self._read(token)
        if record is None or record.get("status") != "pending":
            return False
        return (now if now is not None else time.time()) - float(record.get("beat_at") or 0) > heartbeat_seconds

    def complete(self, token: str, outcome: Outcome) -> None:
        """Report a result; an unknown or already completed token is refused."""
        record = self._read(token)
        if record is None:
            raise CallbackError(f"unknown task token {token!r}")
        if record.get("status") != "pending":
            raise CallbackError(f"task token {token!r} was already completed ({record.get('status')})")
        if outcome.succeeded:
            record.update(status="succeeded", output=outcome.output)
        else:
            record.update(status="failed", error=outcome.error or ErrorCodes.TASK_FAILED, cause=outcome.cause)
        self._write(token, record)

    def outcome(self, token: str) -> Outcome | None:
        """The reported outcome, or None while the token is pending."""
        record = self._read(token)
        if record is None:
            raise CallbackError(f"unknown task token {token!r}")
        status = record.get("status")
        if status == "succeeded":
            return Outcome(True, record.get("output"))
        if status == "failed":
            return Outcome(False, error=record.get("error"), cause=record.get("cause"))
        return None

    def wait(self, token: str, *, poll_seconds: float = DEFAULT_POLL_SECONDS,
             max_seconds: float = MAX_WAIT_SECONDS, stop: threading.Event | None = None,
             heartbeat_seconds: float | None = None) -> Outcome:
        """Poll until the token is completed; ``FnF.TaskTimeout`` after ``max_seconds``;
        ``States.HeartbeatTimeout`` once ``heartbeat_seconds`` pass without a heartbeat."""
        stop = stop or threading.Event()
        waited = 0.0
        while True:
            found = self.outcome(token)
            if found is not None:
                return found
            if self.heartbeat_missed(token, heartbeat_seconds):
                raise FlowError(HEARTBEAT_TIMEOUT, f"no heartbeat for task token {token} within {heartbeat_seconds:g}s")
            if waited >= max_seconds or stop.is_set():
                raise FlowError(ErrorCodes.TASK_TIMEOUT, f"no callback for task token {token} within {waited:g}s")
            stop.wait(poll_seconds)
            waited += poll_seconds


@dataclass(frozen=True)
class CallbackWaiter:
    """Runs a call in ``WaitForCustomCallback`` mode: token → pending record → the request → wait."""

    tokens: Callable[[], TokenStore]
    poll_seconds: float = DEFAULT_POLL_SECONDS
    announce: Callable[[str, TaskCall], None] | None = None

    def __call__(self, call: TaskCall, send: Callable[[TaskCall], Any]) -> Any:
        token = call.task_token or new_task_token(call.execution_name, call.state_name)
        call = replace(call, task_token=token)
        store = self.tokens()
        store.open_token(token, call)
        if self.announce is not None:
            self.announce(token, call)
        send(call)  # the request's own response is not the Task's output
        poll = min(self.poll_seconds, call.heartbeat_seconds / 2) if call.heartbeat_seconds else self.poll_seconds
        return store.wait(token, poll_seconds=poll, heartbeat_seconds=call.heartbeat_seconds).result()


def print_announcement(token: str, call: TaskCall) -> None:
    """The CLI's notice: how to complete the waiting Task."""
    import sys

    print(f"[{call.state_name}] waiting for a callback; complete it with:\n"
          f"  airflow-cloudflow callback succeed {token} --output '{{}}'\n"
          f"  airflow-cloudflow callback fail {token} --error CODE --cause TEXT", file=sys.stderr, flush=True)
