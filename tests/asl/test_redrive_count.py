"""``$$.Execution.RedriveCount`` is the execution's redrive count (under Airflow: the DAG run's
clear number, set by the operators), and ASL result records carry each child's redrive count."""

from __future__ import annotations

from datetime import datetime, timezone

from airflow_cloudflow.runtime.asl.context import execution_object
from airflow_cloudflow.runtime.clock import FakeClock
from airflow_cloudflow.runtime.context import ExecutionContext
from airflow_cloudflow.runtime.records import SUCCEEDED, ChildExecution
from airflow_cloudflow.storage.writers.asl import layout

ARN = "arn:aws:states:us-east-1:123456789012:mapRun:machine/Map:0d3a3b1e-0000-4000-8000-000000000001"


def test_the_context_object_reports_the_redrive_count():
    ctx = ExecutionContext("exec", {}, clock=FakeClock(), flow_name="machine")
    assert execution_object(ctx)["RedriveCount"] == 0
    redriven = ExecutionContext("exec", {}, clock=FakeClock(), flow_name="machine")
    redriven.redrive_count = 2
    assert execution_object(redriven)["RedriveCount"] == 2


def test_result_records_carry_the_childs_redrive_count():
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    child = ChildExecution("c-1", 1, SUCCEEDED, {"a": 1}, {"b": 2}, started=now, stopped=now)
    assert b'"RedriveCount": 0' in layout(ARN).render(child)[1]
    assert b'"RedriveCount": 1' in layout(ARN, redrive_count=1).render(child)[1]
