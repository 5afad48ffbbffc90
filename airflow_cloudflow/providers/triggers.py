"""``CallbackTrigger``: waits in the triggerer for a ``WaitForCustomCallback`` task token.

cloudflow-language §4.1: "The flow pauses until someone calls ``ReportTaskSucceeded(TaskToken,
Output)`` or ``ReportTaskFailed(TaskToken, Error, Cause)``". The token record lives in the staging
location's ``callbacks/`` folder (``integrations.callbacks.TokenStore``); ``airflow-cloudflow
callback succeed|fail TOKEN --at <staging_url>`` completes it. The trigger is rebuilt in the
triggerer from its kwargs alone (classpath + staging URL, the DAG's storage connection ids and local
store), polls the record every ``poll_seconds`` and fires once it is completed, or after
``max_seconds`` (the Task then fails with ``FnF.TaskTimeout``). The outcome itself is read again by
the resumed task, so the event only says why the wait ended.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent
from asgiref.sync import sync_to_async

from ..integrations.callbacks import DEFAULT_POLL_SECONDS, MAX_WAIT_SECONDS, CallbackError


class CallbackTrigger(BaseTrigger):
    """Fires ``{"token", "status": "completed" | "timeout" | "heartbeat_timeout" | "unknown"}``."""

    def __init__(self, token: str, staging_url: str, oss_conn_id: str = "oss_default",
                 aws_conn_id: str = "aws_default", local_store: str | None = None,
                 poll_seconds: float = DEFAULT_POLL_SECONDS, max_seconds: float | None = MAX_WAIT_SECONDS,
                 deadline: float | None = None, heartbeat_seconds: float | None = None):
        super().__init__()
        self.heartbeat_seconds = heartbeat_seconds  # ASL HeartbeatSeconds: a missed heartbeat ends the wait
        self.token = token
        self.staging_url = staging_url
        self.oss_conn_id = oss_conn_id
        self.aws_conn_id = aws_conn_id
        self.local_store = local_store
        self.poll_seconds = poll_seconds
        self.max_seconds = MAX_WAIT_SECONDS if max_seconds is None else max_seconds
        # An absolute deadline (epoch seconds), fixed when the task defers and carried through
        # serialisation, so a restarted or reassigned triggerer does not start the wait again.
        self.deadline = deadline if deadline is not None else time.time() + self.max_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return "airflow_cloudflow.providers.triggers.CallbackTrigger", {
            "token": self.token, "staging_url": self.staging_url, "oss_conn_id": self.oss_conn_id,
            "aws_conn_id": self.aws_conn_id, "local_store": self.local_store,
            "poll_seconds": self.poll_seconds, "max_seconds": self.max_seconds, "deadline": self.deadline,
            "heartbeat_seconds": self.heartbeat_seconds,
        }

    def _store(self):
        store = getattr(self, "_tokens", None)
        if store is None:
            from .integrations import _token_store
            from .options import DagOptions

            store = self._tokens = _token_store(DagOptions(
                staging_url=self.staging_url, oss_conn_id=self.oss_conn_id,
                aws_conn_id=self.aws_conn_id, local_store=self.local_store))
        return store

    def _status(self) -> str | None:
        try:
            store = self._store()
            if store.outcome(self.token) is not None:
                return "completed"
            return "heartbeat_timeout" if store.heartbeat_missed(self.token, self.heartbeat_seconds) else None
        except CallbackError:
            return "unknown"

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            status = await sync_to_async(self._status)()
            left = self.deadline - time.time()
            if status is None and left <= 0:
                status = "timeout"
            if status is not None:
                yield TriggerEvent({"token": self.token, "status": status})
                return
            await asyncio.sleep(min(self.poll_seconds, left))
