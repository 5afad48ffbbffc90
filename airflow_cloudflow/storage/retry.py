"""Retries for transient object-storage faults.

Transient faults (HTTP 5xx, 503 SlowDown / throttling, connection resets and timeouts) are retried
with exponential backoff and *full jitter* -- ``sleep(uniform(0, min(cap, base * 2**attempt)))`` --
for a bounded number of attempts. Final faults (NoSuchBucket, NoSuchKey, AccessDenied, other 4xx)
are never retried. Stores translate SDK exceptions into ``StoreError`` (``retriable`` set) first;
this module only decides whether and when to try again.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from ..exceptions import StoreError

T = TypeVar("T")

THROTTLING_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequests",
        "RequestThrottled",
        "ServiceUnavailable",
        "InternalError",
        "RequestTimeout",
        "RequestTimeTooSkewed",
    }
)


def is_transient(status: int | None, code: str | None = None) -> bool:
    """True for 5xx, 429, 408 and the throttling/internal error codes above."""
    if code and code in THROTTLING_CODES:
        return True
    return status is not None and (status >= 500 or status in (408, 429))


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` counts every try (the first included); delays in seconds."""

    max_attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 5.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)
    rand: Callable[[float, float], float] = field(default=random.uniform, compare=False, repr=False)

    def delay(self, attempt: int) -> float:
        """Full jitter: uniform in ``[0, min(max_delay, base_delay * 2**attempt)]`` (attempt 0-based)."""
        return self.rand(0.0, min(self.max_delay, self.base_delay * (2**attempt)))


NO_RETRY = RetryPolicy(max_attempts=1)


def call_with_retry(fn: Callable[[], T], policy: RetryPolicy) -> T:
    """Call ``fn``; on a retriable ``StoreError`` wait and call again, up to ``policy.max_attempts``."""
    attempt = 0
    while True:
        try:
            return fn()
        except StoreError as exc:
            attempt += 1
            if not exc.retriable or attempt >= policy.max_attempts:
                raise
            policy.sleep(policy.delay(attempt - 1))
