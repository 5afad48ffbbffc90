"""Retry then Catch: matching, intervals, backoff, MaxBackoffSeconds, RetryCount (§3)."""

from __future__ import annotations

from airflow_cloudflow.exceptions import ErrorCodes
from airflow_cloudflow.model import CatchRule, RetryRule
from airflow_cloudflow.runtime.clock import FakeClock
from airflow_cloudflow.runtime.errors import RetryBudget, first_match, matches, retry_delay
from tests.runtime.flows import FC, fc_task, run


def rule(**kw) -> RetryRule:
    base = dict(errors=("E",), max_attempts=3, interval_seconds=2)
    base.update(kw)
    return RetryRule(**base)


def test_wildcard_and_exact_matching():
    assert matches(("FnF.ALL",), "anything") and matches(("A", "B"), "B") and not matches(("A",), "B")


def test_first_matching_rule_wins():
    rules = (CatchRule(errors=("A",), next="x"), CatchRule(errors=("FnF.ALL",), next="y"), CatchRule(errors=("B",), next="z"))
    assert first_match(rules, "B")[1].next == "y"
    assert first_match(rules, "A")[0] == 0
    assert first_match((), "A") is None


def test_delay_constant_without_backoff_rate():
    assert [retry_delay(rule(), n) for n in (1, 2, 3)] == [2, 2, 2]


def test_delay_backoff_and_cap():
    r = rule(backoff_rate=2.0, max_backoff_seconds=5)
    assert [retry_delay(r, n) for n in (1, 2, 3, 4)] == [2, 4, 5, 5]


def test_delay_does_not_overflow_after_a_thousand_retries():
    """MaxAttempts 1100, BackoffRate 2, MaxDelaySeconds 5: 2.0 ** 1024 overflowed a float."""
    capped = rule(max_attempts=1100, backoff_rate=2, max_backoff_seconds=5)
    assert [retry_delay(capped, n) for n in (1024, 1025, 1100, 10**9)] == [5, 5, 5, 5]
    assert retry_delay(rule(backoff_rate=2.0, max_backoff_seconds=5, jitter_strategy="FULL"), 5000) <= 5


def test_delay_without_a_cap_stops_at_one_day():
    uncapped = rule(backoff_rate=2.0)
    assert retry_delay(uncapped, 10) == 2 * 2**9
    assert retry_delay(uncapped, 17) == 86400 and retry_delay(uncapped, 5000) == 86400
    assert retry_delay(rule(interval_seconds=0, backoff_rate=2.0), 5000) == 0
    assert retry_delay(rule(backoff_rate=0.5), 5000) == 0


def test_budget_runs_past_the_overflow_point():
    budget = RetryBudget((rule(max_attempts=1100, backoff_rate=2, max_backoff_seconds=5),))
    delays = [budget.next_delay("E") for _ in range(1101)]
    assert delays[-1] is None and delays[-2] == 5 and len([d for d in delays if d is not None]) == 1100


def test_budget_counts_retries_per_rule():
    budget = RetryBudget((rule(errors=("A",), max_attempts=1), rule(errors=("FnF.ALL",), max_attempts=2, interval_seconds=1)))
    assert budget.next_delay("A") == 2
    assert budget.next_delay("A") is None  # the first matching rule is used, and it is spent
    assert budget.next_delay("B") == 1 and budget.next_delay("B") == 1 and budget.next_delay("B") is None
    assert budget.total == 3


RETRY = """
Retry:
  - Errors: [Biz.Flaky]
    Description: flaky
    MaxAttempts: 3
    IntervalSeconds: 2
    BackoffRate: 2
    MaxBackoffSeconds: 5
"""


def test_retry_timing_through_the_clock_then_success():
    clock = FakeClock()
    mocks = {FC: {"behaviour": "fail_first_n", "n": 3, "code": "Biz.Flaky", "detail": "d"}}
    r = run(fc_task("T", extra=RETRY), {"a": 1}, mocks=mocks, clock=clock)
    assert r.output == {"Body": {"a": 1}}
    assert clock.sleeps == [2, 4, 5]


def test_max_attempts_counts_retries_not_tries():
    clock = FakeClock()
    r = run(fc_task("T", extra=RETRY), {}, mocks={FC: {"behaviour": "fail", "code": "Biz.Flaky"}}, clock=clock)
    assert r.error.code == "Biz.Flaky"
    assert len(clock.sleeps) == 3  # 1 try + 3 retries


def test_retry_count_is_visible_in_context():
    mocks = {FC: {"behaviour": "fail_first_n", "n": 2, "code": "Biz.Flaky"}}
    r = run(fc_task("T", body="body.$: $Context.Current.RetryCount", extra=RETRY), {}, mocks=mocks)
    assert r.output == {"Body": 2}


def test_catch_without_output_constructor_passes_error_object():
    r = run(fc_task("T", end=False, extra="""
Catch:
  - Errors: [FnF.ALL]
    Description: all
    Next: H
Next: H
""") + "- Type: Pass\n  Name: H\n  End: true", {}, mocks={FC: {"behaviour": "fail", "code": "C1", "detail": "D1"}})
    assert r.output == {"Code": "C1", "Detail": "D1"}
    assert r.visited == ("T", "H")


def test_catch_output_constructor_sees_error_and_input():
    r = run(fc_task("T", end=False, extra="""
InputConstructor:
  k.$: $Input.k
Catch:
  - Errors: [Other]
    Description: not this one
    Next: Wrong
  - Errors: [C1]
    Description: this one
    OutputConstructor:
      code.$: $Context.Current.Error.Code
      detail.$: $Context.Current.Error.Detail
      k.$: $Input.k
    Next: H
Next: H
""") + "- Type: Pass\n  Name: H\n  End: true\n- Type: Pass\n  Name: Wrong\n  End: true",
            {"k": 9}, mocks={FC: {"behaviour": "fail", "code": "C1", "detail": "D1"}})
    assert r.output == {"code": "C1", "detail": "D1", "k": 9}


def test_unmatched_error_is_neither_retried_nor_caught():
    clock = FakeClock()
    r = run(fc_task("T", extra=RETRY + """
Catch:
  - Errors: [Other]
    Description: other
    Next: T
"""), {}, mocks={FC: {"behaviour": "fail", "code": "Biz.Hard"}}, clock=clock)
    assert r.error.code == "Biz.Hard" and clock.sleeps == []


def test_flow_timeout_is_not_caught():
    clock = FakeClock()
    r = run(fc_task("T", end=False, extra="""
Retry:
  - Errors: [FnF.ALL]
    Description: all
    MaxAttempts: 10
    IntervalSeconds: 4
Catch:
  - Errors: [FnF.ALL]
    Description: all
    Next: H
Next: H
""") + "- Type: Pass\n  Name: H\n  End: true", {}, mocks={FC: {"behaviour": "fail", "code": "X"}},
            clock=clock, extra="Timeout: 10\n")
    assert r.error.code == ErrorCodes.TIMEOUT
    assert clock.slept == 10
