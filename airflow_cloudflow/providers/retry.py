"""A Task's single Retry rule carried out by Airflow's retries (``retry_policy``, Airflow ≥ 3.2).

The operator runs one attempt per try (``Interpreter.run_attempt``); an error the rule matches
raises ``RetryableFlowFailure``, and this policy answers with the rule's wait for that retry —
``min(IntervalSeconds × BackoffRate^(n-1), MaxBackoffSeconds)`` — or fails the task once
``MaxAttempts`` retries are spent. Other exceptions (a lost worker…) get Airflow's default handling.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import RetryDecision, RetryPolicy
from airflow.sdk.exceptions import AirflowException

from ..model import RetryRule
from ..runtime.errors import retry_delay


class RetryableFlowFailure(AirflowException):
    """An attempt failed with an error the state's Retry rule matches."""

    def __init__(self, code: str, detail: str | None):
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)


class CloudFlowRetryPolicy(RetryPolicy):
    """Retry per the state's rule; ``try_number`` n means retry n comes next."""

    def __init__(self, rule: RetryRule):
        self.rule = rule

    def evaluate(self, exception, try_number, max_tries, context=None) -> RetryDecision:
        if not isinstance(exception, RetryableFlowFailure):
            return RetryDecision.default()
        if try_number > self.rule.max_attempts:
            return RetryDecision.fail(f"{exception.code}: MaxAttempts ({self.rule.max_attempts}) retries spent")
        delay = retry_delay(self.rule, try_number)
        return RetryDecision.retry(
            delay=timedelta(seconds=delay),
            reason=f"{exception.code}: retry {try_number} of {self.rule.max_attempts} in {delay:g} s",
        )

    def serialize(self) -> dict:
        return {"errors": list(self.rule.errors), "max_attempts": self.rule.max_attempts,
                "interval_seconds": self.rule.interval_seconds, "backoff_rate": self.rule.backoff_rate,
                "max_backoff_seconds": self.rule.max_backoff_seconds}

    @classmethod
    def deserialize(cls, data: dict) -> "CloudFlowRetryPolicy":
        return cls(RetryRule(errors=tuple(data["errors"]), max_attempts=data["max_attempts"],
                             interval_seconds=data["interval_seconds"], backoff_rate=data["backoff_rate"],
                             max_backoff_seconds=data["max_backoff_seconds"]))
