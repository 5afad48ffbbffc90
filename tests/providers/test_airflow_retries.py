"""A Task's single Retry rule carried out by Airflow's retries (``retry_policy``), under ``dag.test()``."""

from __future__ import annotations

import json

from airflow_cloudflow.planning.plan import plan
from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.model import RetryRule
from tests.providers.dag_runs import read_run

ARN = "acs:fc:cn-hangzhou:1:functions/flaky/LATEST"


def flow(retry: str, catch: str = "") -> str:
    """A one-Task flow; ``retry``/``catch`` are YAML blocks for the Task (two-space indented)."""
    block = "".join("    " + line + "\n" for line in (retry + catch).splitlines())
    return (
        f"Type: StateMachine\nName: retries_{abs(hash(retry + catch)) % 10**6}\nSpecVersion: v1\nStartAt: Call\n"
        "States:\n"
        "  - Type: Task\n"
        "    Name: Call\n"
        "    Action: FC:InvokeFunction\n"
        "    Parameters:\n"
        f"      resourceArn: {ARN}\n"
        "      invocationType: Sync\n"
        "      body:\n"
        "        tries.$: $Context.Current.RetryCount\n"
        f"{block}"
        "    End: true\n"
    )


ONE_RULE = "Retry:\n  - {Errors: [FC.Flaky], MaxAttempts: 3, IntervalSeconds: 1, BackoffRate: 1.5}\n"


def test_only_a_task_with_one_rule_and_no_catch_uses_airflow_retries():
    one = plan(load_definition_text(flow(ONE_RULE), "a.flow.yaml")).step("Call")
    assert one.airflow_retry == RetryRule(errors=("FC.Flaky",), max_attempts=3, interval_seconds=1, backoff_rate=1.5)
    two_rules = ONE_RULE + "  - {Errors: [FnF.ALL], MaxAttempts: 1, IntervalSeconds: 1}\n"
    assert plan(load_definition_text(flow(two_rules), "b.flow.yaml")).step("Call").airflow_retry is None
    caught = "Catch:\n  - {Errors: [FnF.ALL], Next: Call}\n"  # (a self-loop: interpreted as a region)
    assert all(s.airflow_retry is None for s in plan(load_definition_text(flow(ONE_RULE, caught), "c.flow.yaml")).steps)


def _run(airflow_home, tmp_path, definition: str, mocks: dict):
    from airflow_cloudflow.providers.engine import run_definition

    path = tmp_path / "flaky.flow.yaml"
    path.write_text(definition)
    (tmp_path / "mocks.json").write_text(json.dumps(mocks))
    return run_definition(path, {}, mocks=str(tmp_path / "mocks.json"))


def test_the_retry_rule_runs_as_airflow_tries(airflow_home, tmp_path):
    mocks = {ARN: {"behaviour": "fail_first_n", "n": 2, "code": "FC.Flaky", "detail": "warming up"}}
    result = _run(airflow_home, tmp_path, flow(ONE_RULE), mocks)
    assert result.status == "Succeeded", result
    assert result.output == {"Body": {"tries": 2}}  # $Context.Current.RetryCount on the third try
    run = read_run(result.dag_id, result.run_id)
    assert run.try_numbers[("Call", -1)] == 3 and run.task_states[("Call", -1)] == "success"


def test_spent_retries_fail_the_run_with_the_flow_error(airflow_home, tmp_path):
    mocks = {ARN: {"behaviour": "fail", "code": "FC.Flaky", "detail": "never"}}
    result = _run(airflow_home, tmp_path, flow(ONE_RULE.replace("MaxAttempts: 3", "MaxAttempts: 1")), mocks)
    assert result.status == "Failed"
    assert result.error == {"Code": "FC.Flaky", "Detail": "never"}
    assert read_run(result.dag_id, result.run_id).try_numbers[("Call", -1)] == 2


def test_an_error_the_rule_does_not_match_is_not_retried(airflow_home, tmp_path):
    mocks = {ARN: {"behaviour": "fail", "code": "FC.Other", "detail": "no retry"}}
    result = _run(airflow_home, tmp_path, flow(ONE_RULE), mocks)
    assert result.error == {"Code": "FC.Other", "Detail": "no retry"}
    assert read_run(result.dag_id, result.run_id).try_numbers[("Call", -1)] == 1


def test_a_callback_task_keeps_its_own_retries():
    text = flow(ONE_RULE).replace("    End: true\n", "    TaskMode: WaitForCustomCallback\n    End: true\n")
    assert plan(load_definition_text(text, "d.flow.yaml")).step("Call").airflow_retry is None
