"""Retry and Catch: name matching and backoff (cloudflow-language §3).

"``Retry`` is evaluated first. ``Catch`` is evaluated only after all retries are exhausted, or when
no retry rule matched." "Within ``Retry``, and within ``Catch``, the first rule whose ``Errors``
contains the error (or ``FnF.ALL``) is used. Later matching rules are ignored."
"""

from __future__ import annotations

import math
import random
from typing import Sequence, TypeVar

from ..model import ALL_ERRORS, CatchRule, RetryRule
from .bounds import RUNAWAY_CODES

R = TypeVar("R", RetryRule, CatchRule)


ASL_ALL = "States.ALL"
ASL_TASK_FAILED = "States.TaskFailed"
ASL_RUNTIME = "States.Runtime"
ASL_TIMEOUT = "States.Timeout"
ASL_NOT_MATCHED_BY_ALL = frozenset({"States.DataLimitExceeded"})
# The longest retry interval when the rule sets no MaxBackoffSeconds / MaxDelaySeconds: the
# CloudFlow language's upper bound for IntervalSeconds and MaxBackoffSeconds (one day).
MAX_RETRY_INTERVAL_SECONDS = 86400.0


def matches(errors: Sequence[str], code: str) -> bool:
    """True when ``errors`` names ``code`` or holds the wildcard ``FnF.ALL``.

    ASL: "``States.ALL`` … matches any known error name"; it does not match
    ``States.DataLimitExceeded``, and ``States.Runtime`` is never retried nor caught, "not even with
    an explicit catcher" [REC other_catch_states_runtime]. "``States.TaskFailed`` acts as a wildcard
    that matches any known error name except for ``States.Timeout``". A runaway bound
    (``bounds.RUNAWAY_CODES``) is never matched either, not even by its own name.
    """
    if code in RUNAWAY_CODES:
        return False
    if code in errors or ALL_ERRORS in errors:
        return code != ASL_RUNTIME
    if ASL_ALL in errors:
        return code != ASL_RUNTIME and code not in ASL_NOT_MATCHED_BY_ALL
    if ASL_TASK_FAILED in errors:
        return code not in (ASL_RUNTIME, ASL_TIMEOUT) and code not in ASL_NOT_MATCHED_BY_ALL
    return False


def first_match(rules: Sequence[R], code: str) -> tuple[int, R] | None:
    """The index and rule of the first rule matching ``code``, or None."""
    for i, rule in enumerate(rules):
        if matches(rule.errors, code):
            return i, rule
    return None


def retry_delay(rule: RetryRule, retry_number: int) -> float:
    """Seconds before retry ``retry_number`` (1-based) under ``rule``:
    ``min(IntervalSeconds * BackoffRate**(n-1), MaxBackoffSeconds)``.

    "BackoffRate … When omitted, the interval is constant"; "MaxBackoffSeconds: upper bound on the
    computed interval". Without a MaxBackoffSeconds (ASL: MaxDelaySeconds) the interval stops
    growing at ``MAX_RETRY_INTERVAL_SECONDS`` (86400 s). ``BackoffRate**(n-1)`` overflowing a float
    (n ≈ 1025 at rate 2) counts as infinitely long, so the cap applies.
    """
    rate = float(rule.backoff_rate) if rule.backoff_rate else 1.0
    cap = rule.max_backoff_seconds if rule.max_backoff_seconds is not None else MAX_RETRY_INTERVAL_SECONDS
    interval = rule.interval_seconds
    if interval <= 0:
        delay = 0.0
    elif rate == 1.0 or retry_number <= 1:
        delay = interval
    else:
        try:
            delay = interval * rate ** (retry_number - 1)
        except OverflowError:
            delay = math.inf
    delay = min(delay, cap)
    if rule.jitter_strategy == "FULL":  # ASL: "a random delay between 0 and the computed interval"
        delay = random.uniform(0.0, delay)
    return max(delay, 0.0)


class RetryBudget:
    """Counts retries per rule for one state entry. ``MaxAttempts`` is "Maximum retry attempts":
    the number of *retries* a rule allows after the first try (docs/semantics.md)."""

    __slots__ = ("rules", "used", "total")

    def __init__(self, rules: Sequence[RetryRule]):
        self.rules = rules
        self.used = [0] * len(rules)
        self.total = 0

    def next_delay(self, code: str) -> float | None:
        """The delay before the next retry for ``code``, or None when no rule allows one more."""
        found = first_match(self.rules, code)
        if found is None:
            return None
        index, rule = found
        if self.used[index] >= rule.max_attempts:
            return None
        self.used[index] += 1
        self.total += 1
        return retry_delay(rule, self.used[index])
