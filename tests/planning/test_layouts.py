"""The ResultWriter's record layout the shards render with, per dialect."""

from __future__ import annotations

import json

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.planning.layouts import result_layout
from airflow_cloudflow.runtime.context import new_map_run_name
from airflow_cloudflow.runtime.interpreter import Interpreter
from tests.runtime.flows import dmap, machine

def _asl(writer: dict) -> Interpreter:
    proc = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": True}}}
    doc = {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemProcessor": proc, "End": True, **writer}}}
    return Interpreter(load_definition_text(json.dumps(doc), "m.asl.json"))


def test_cloudflow_layout_only_with_a_result_writer():
    with_writer = Interpreter(machine(dmap("  ResultWriter:\n    Parameters:\n      Bucket: out\n")))
    without = Interpreter(machine(dmap()))
    ctx = with_writer.new_context({})
    assert result_layout(with_writer.machine.graph["M"], ctx, "run1").series == ("SUCCEED", "FAILED")
    assert result_layout(without.machine.graph["M"], without.new_context({}), "run1") is None


def test_asl_layout_needs_a_result_writer_resource():
    writing = _asl({"ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out"}}})
    config_only = _asl({"ResultWriter": {"WriterConfig": {"OutputType": "JSON", "Transformation": "NONE"}}})
    layout = result_layout(writing.machine.graph["M"], writing.new_context({}), new_map_run_name())
    assert layout.series == ("SUCCEEDED", "FAILED", "PENDING")
    assert result_layout(config_only.machine.graph["M"], config_only.new_context({}), new_map_run_name()) is None
