"""``${name}`` placeholders (CloudFormation DefinitionSubstitutions): filled before parsing, one
``CF-E130`` per placeholder left without a value wherever it appears, line numbers kept."""

from __future__ import annotations

import json

import pytest

from airflow_cloudflow.dialects import lint_text, load_definition_text
from airflow_cloudflow.dialects.substitutions import check_values, substitute, with_pseudo_parameters

TEMPLATE = """{
  "StartAt": "Call",
  "States": {
    "Call": {
      "Type": "Task",
      "Resource": "${FnArn}",
      "Next": "Hold"
    },
    "Hold": {"Type": "Wait", "Seconds": ${Delay}, "Next": "Invoke"},
    "Invoke": {
      "Type": "Task",
      "Resource": "arn:${AWS::Partition}:states:::lambda:invoke",
      "Parameters": {"FunctionName": "${FnName}", "Payload.$": "$"},
      "End": true
    }
  }
}
"""
VALUES = {"FnArn": "arn:aws:lambda:eu-west-1:123456789012:function:f", "Delay": "5", "FnName": "g"}


def test_placeholders_are_replaced_as_text_before_parsing():
    machine = load_definition_text(TEMPLATE, "m.asl.json", VALUES)
    call, hold, invoke = machine.states
    assert call.action == VALUES["FnArn"]
    assert hold.seconds.value == 5  # a bare ${Delay} becomes a JSON number, as CloudFormation writes it
    assert invoke.action == "arn:aws:states:::lambda:invoke"


def test_every_unresolved_placeholder_is_one_cf_e130_at_its_own_line_and_column():
    machine, issues = lint_text(TEMPLATE, "orders.asl.json", {"Delay": "5"})
    assert machine is None
    assert [(i.code, i.line, i.column) for i in issues] == [("CF-E130", 6, 20), ("CF-E130", 13, 39)]
    assert "'${FnArn}'" in issues[0].message
    assert "definition_substitutions:" in issues[0].message and "orders.airflow.yaml" in issues[0].message
    assert "--substitutions FILE" in issues[0].message


def test_a_placeholder_inside_an_arn_is_reported_like_a_whole_value():
    text = json.dumps({"StartAt": "T", "States": {"T": {"Type": "Task", "End": True,
                      "Resource": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:f"}}})
    issues = lint_text(text, "x.asl.json")[1]
    assert [(i.code, i.message.split("': ")[0] + "'") for i in issues] == [
        ("CF-E130", "unresolved substitution '${AWS::Region}'"),
        ("CF-E130", "unresolved substitution '${AWS::AccountId}'"),
    ]


def test_a_placeholder_in_a_cloudflow_flow_is_the_same_error():
    flow = "Type: StateMachine\nName: f\nSpecVersion: v1\nStartAt: A\nStates:\n  - Type: Pass\n    Name: A\n    End: true\n    Description: ${Text}\n"
    assert [(i.code, i.line) for i in lint_text(flow, "f.flow.yaml")[1]] == [("CF-E130", 9)]
    assert lint_text(flow, "f.flow.yaml", {"Text": "hello"})[0].states[0].description == "hello"


def test_line_numbers_of_later_errors_stay_those_of_the_file():
    text = TEMPLATE.replace('"Next": "Invoke"', '"Next": "Nowhere"')
    issues = lint_text(text, "m.asl.json", VALUES)[1]
    assert [(i.code, i.line) for i in issues if i.is_error] == [("CF-E202", 9)]


@pytest.mark.parametrize(
    "region, partition, suffix",
    [(None, "aws", "amazonaws.com"), ("eu-west-1", "aws", "amazonaws.com"),
     ("cn-north-1", "aws-cn", "amazonaws.com.cn"), ("us-gov-west-1", "aws-us-gov", "amazonaws.com")],
)
def test_partition_and_url_suffix_follow_the_region(region, partition, suffix):
    values = with_pseudo_parameters({"AWS::Region": region} if region else {})
    assert (values["AWS::Partition"], values["AWS::URLSuffix"]) == (partition, suffix)
    assert with_pseudo_parameters({"AWS::Partition": "aws-iso"})["AWS::Partition"] == "aws-iso"


def test_values_are_written_as_cloudformation_writes_them():
    assert check_values({"A": 5, "B": True, "C": "x", "AWS::Region": "eu-west-1"}) == {
        "A": "5", "B": "true", "C": "x", "AWS::Region": "eu-west-1"}


@pytest.mark.parametrize("raw", [["A"], {"A": ["x"]}, {"A": "two\nlines"}, {"${A}": "x"}, {"": "x"}])
def test_bad_values_say_what_is_wrong(raw):
    with pytest.raises(ValueError):
        check_values(raw)


def test_text_without_placeholders_is_returned_unchanged():
    assert substitute('{"a": "$.b", "c": "{}"}', None, {}) == ('{"a": "$.b", "c": "{}"}', [])
