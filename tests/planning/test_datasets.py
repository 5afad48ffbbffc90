"""What each planned step reads and writes, from the definition alone (``planning/datasets.py``)."""

from __future__ import annotations

import json
import textwrap

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.planning.datasets import step_data
from airflow_cloudflow.planning.plan import plan
from airflow_cloudflow.storage.locations import DataLocation

CLOUDFLOW = textwrap.dedent("""\
    Type: StateMachine
    Name: data_flow
    SpecVersion: v1
    StartAt: Fetch
    States:
      - Type: Task
        Name: Fetch
        Action: OSS:GetObject
        Parameters: {bucket: config, key: settings.json}
        Next: Copy
      - Type: Task
        Name: Copy
        Action: OSS:CopyObject
        Parameters:
          sourceBucket: raw
          sourceKey: day.csv
          bucket: archive
          key.$: $Input.archiveKey
        Next: Orders
      - Type: Map
        Name: Orders
        ProcessorConfig: {ExecutionMode: Express}
        ItemReader:
          SourceType: OSS_OBJECTS
          SourceParameters: {Bucket: raw, Prefix: "2024/"}
        Processor:
          StartAt: Store
          States:
            - Type: Task
              Name: Store
              Action: OSS:PutObject
              Parameters:
                bucket: out
                key.$: $Input.Key
                body: done
              End: true
        ResultWriter:
          Parameters: {Bucket: results, Prefix: orders/}
        Next: Inline
      - Type: Map
        Name: Inline
        ItemsPath: $Input.Items
        Processor:
          StartAt: Mark
          States:
            - Type: Task
              Name: Mark
              Action: OSS:PutObject
              Parameters: {bucket: out, key: marker, body: x}
              End: true
        End: true
    """)


def steps(machine):
    return {s.task_id: step_data(machine, s, machine.graph) for s in plan(machine).steps}


def test_cloudflow_tasks_maps_and_inline_maps_name_what_they_touch() -> None:
    data = steps(load_definition_text(CLOUDFLOW, "data.flow.yaml"))

    assert data["Fetch"].reads == (DataLocation("oss", "config", "settings.json"),) and not data["Fetch"].writes
    # the source is literal, the target key computed: known read, dynamic write
    assert data["Copy"].reads == (DataLocation("oss", "raw", "day.csv"),)
    assert data["Copy"].writes == () and data["Copy"].dynamic_writes
    assert data["Orders"].reads == (DataLocation("oss", "raw", "2024/", prefix=True),)
    assert data["Orders"].reads[0].uri == "oss://raw/2024"  # as Airflow normalises an asset URI
    assert data["Orders__process"].dynamic_writes and not data["Orders__process"].writes
    assert data["Orders__results"].writes == (DataLocation("oss", "results", "orders/", prefix=True),)
    assert data["Inline"].writes == (DataLocation("oss", "out", "marker"),)  # the inline Map's inner Task
    assert data["finish"].empty


def test_a_computed_reader_source_is_dynamic() -> None:
    flow = CLOUDFLOW.replace("SourceParameters: {Bucket: raw, Prefix: \"2024/\"}",
                             "SourceParameters: {Bucket.$: $Input.bucket, Prefix: x/}")
    data = steps(load_definition_text(flow, "data.flow.yaml"))

    assert data["Orders"].reads == () and data["Orders"].dynamic_reads


ASL = {
    "StartAt": "Head",
    "States": {
        "Head": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:headObject",
                 "Parameters": {"Bucket": "in", "Key": "data.json"}, "Next": "Write"},
        "Write": {"Type": "Task", "Resource": "arn:aws:states:::s3:putObject",
                  "Parameters": {"Bucket": "out", "Key": "flag", "Body": "ok"}, "Next": "Map"},
        "Map": {
            "Type": "Map",
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                           "ReaderConfig": {"InputType": "JSON"},
                           "Parameters": {"Bucket": "in", "Key.$": "$.key"}},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                              "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                             "Parameters": {"Bucket": "results", "Prefix": "runs"}},
            "End": True,
        },
    },
}


def test_asl_s3_tasks_and_a_distributed_map_are_s3_locations() -> None:
    data = steps(load_definition_text(json.dumps(ASL), "data.asl.json"))

    assert data["Head"].reads == (DataLocation("s3", "in", "data.json"),)
    assert data["Write"].writes == (DataLocation("s3", "out", "flag"),)
    assert data["Map"].reads == () and data["Map"].dynamic_reads  # Key.$
    assert [loc.uri for loc in data["Map__results"].writes] == ["s3://results/runs"]
