"""The record AWS writes for one child execution of a Map Run (``ResultWriter`` files, and a Map
whose ``WriterConfig.Transformation`` is ``NONE`` returns them inline): its ARN from the Map Run's,
its status, input, output or error, as the asl-distributed-map.md records show."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from airflow_cloudflow.runtime.records import ChildExecution


class NotAMapRunArn(ValueError):
    """A string that is not ``arn:…:mapRun:<sm>/<label>:<uuid>``."""


STATUSES = {"Succeeded": ("SUCCEEDED", "SUCCEEDED"), "Failed": ("FAILED", "FAILED"),
            "TimedOut": ("FAILED", "TIMED_OUT"), "Aborted": ("FAILED", "ABORTED"), "Pending": ("PENDING", "PENDING")}


def iso_millis(moment: datetime | None) -> str | None:
    """``2025-02-04T01:49:50.099Z`` (UTC, milliseconds), as the doc's records show."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def arns(map_run_arn: str, express: bool = False) -> tuple[str, str, str]:
    """``(state machine ARN, child execution ARN prefix, uuid)`` from
    ``arn:aws:states:<region>:<acct>:mapRun:<sm>/<label>:<uuid>``. A Standard child is
    ``…:execution:<sm>/<label>:<child>``; an Express child (``ExecutionType: EXPRESS``) is
    ``…:express:<sm>/<label>:<uuid>:<child>``, as Express executions are named."""
    head, sep, rest = map_run_arn.partition(":mapRun:")
    label, _, uuid = rest.rpartition(":")
    if not sep or not label or not uuid or "/" in uuid:
        raise NotAMapRunArn(f"not a Map Run ARN: {map_run_arn!r}")
    prefix = f"{head}:express:{label}:{uuid}:" if express else f"{head}:execution:{label}:"
    return f"{head}:stateMachine:{label}", prefix, uuid


def child_record(child: ChildExecution, state_machine_arn: str, execution_prefix: str, redrive_count: int = 0
                 ) -> tuple[str, dict[str, Any]]:
    """``(file name, record)`` for one child (``redrive_count``: how often it was redriven)."""
    file_name, status = STATUSES.get(child.status, ("FAILED", "FAILED"))
    record: dict[str, Any] = {
        "ExecutionArn": execution_prefix + child.name,
        "Input": json_text(child.input),
        "InputDetails": {"Included": True},
        "Name": child.name,
    }
    if status == "SUCCEEDED":
        record["Output"] = json_text(child.output)
        record["OutputDetails"] = {"Included": True}
    elif status != "PENDING":
        record["Error"] = child.error_code or "States.TaskFailed"
        record["Cause"] = child.error_detail or ""
    record.update({
        "RedriveCount": max(redrive_count, child.redrive_count),
        "RedriveStatus": "NOT_REDRIVABLE",
        "RedriveStatusReason": f"Execution is {status} and cannot be redriven",
        "StartDate": iso_millis(child.started),
        "StopDate": iso_millis(child.stopped),
        "StateMachineArn": state_machine_arn,
        "Status": status,
    })
    return file_name, record


__all__ = ["STATUSES", "NotAMapRunArn", "arns", "child_record", "iso_millis", "json_text"]
