"""``CallbackTrigger`` is rebuilt from its serialised kwargs alone and fires once the token is
completed, or when its wait runs out (no timing: ``max_seconds=0`` times out at the first look)."""

from __future__ import annotations

import asyncio

from airflow_cloudflow.integrations.callbacks import Outcome, TokenStore
from airflow_cloudflow.runtime.ports import TaskCall


def _first_event(trigger):
    async def first():
        return await anext(trigger.run())

    return asyncio.run(first()).payload


def _rebuilt(trigger):
    from airflow.sdk._shared.module_loading import import_string

    classpath, kwargs = trigger.serialize()
    return import_string(classpath)(**kwargs)


def test_the_trigger_round_trips_and_fires_on_completion_or_timeout(airflow_home, tmp_path):
    from airflow_cloudflow.providers.triggers import CallbackTrigger

    staging = tmp_path / "staging"
    store = TokenStore.local(staging)  # the layout of <staging_url>/callbacks/
    token = "cft-" + "a" * 40
    store.open_token(token, TaskCall("HTTP:Request", {}, "WaitForCustomCallback", "Ask", "e1"))
    trigger = CallbackTrigger(token=token, staging_url=staging.as_uri(), max_seconds=0)
    assert trigger.serialize()[0] == "airflow_cloudflow.providers.triggers.CallbackTrigger"
    assert _first_event(_rebuilt(trigger)) == {"token": token, "status": "timeout"}

    store.complete(token, Outcome(True, {"ok": 1}))
    assert _first_event(_rebuilt(trigger)) == {"token": token, "status": "completed"}
    unknown = CallbackTrigger(token="cft-" + "b" * 40, staging_url=staging.as_uri())
    assert _first_event(unknown)["status"] == "unknown"


def test_the_wait_deadline_survives_a_rebuild(airflow_home, tmp_path):
    """A triggerer that rebuilds the trigger (restart, reassignment) keeps the original deadline."""
    import time

    from airflow_cloudflow.providers.triggers import CallbackTrigger

    staging = tmp_path / "staging"
    token = "cft-" + "c" * 40
    TokenStore.local(staging).open_token(token, TaskCall("HTTP:Request", {}, "WaitForCustomCallback", "Ask", "e1"))
    trigger = CallbackTrigger(token=token, staging_url=staging.as_uri(), max_seconds=3600)
    rebuilt = _rebuilt(trigger)
    assert rebuilt.deadline == trigger.deadline
    rebuilt.deadline = time.time() - 1  # as if the hour had passed before the rebuild
    assert _first_event(_rebuilt(rebuilt))["status"] == "timeout"
