"""Retry policy, unit level (injected sleep) and end to end: faults are injected by the test
servers' WSGI fault middleware (tests/support/faults.py); oss2 and boto3 run for real."""

import pytest

from airflow_cloudflow.exceptions import AccessDenied, StoreError
from airflow_cloudflow.storage.retry import RetryPolicy, call_with_retry, is_transient


def test_full_jitter_delays_are_bounded_and_exponential():
    calls = []
    policy = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=5.0, rand=lambda lo, hi: calls.append((lo, hi)) or hi)
    assert [policy.delay(a) for a in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert all(lo == 0.0 for lo, _ in calls)


def test_transient_errors_retried_then_succeed():
    slept, attempts = [], []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise StoreError("503", retriable=True)
        return "ok"

    assert call_with_retry(flaky, RetryPolicy(max_attempts=5, sleep=slept.append, rand=lambda lo, hi: hi)) == "ok"
    assert len(attempts) == 3 and slept == [0.2, 0.4]


def test_attempts_are_bounded():
    attempts = []

    def always():
        attempts.append(1)
        raise StoreError("503", retriable=True)

    with pytest.raises(StoreError):
        call_with_retry(always, RetryPolicy(max_attempts=4, sleep=lambda s: None))
    assert len(attempts) == 4


def test_final_errors_never_retried():
    attempts = []

    def denied():
        attempts.append(1)
        raise AccessDenied("no")

    with pytest.raises(AccessDenied):
        call_with_retry(denied, RetryPolicy(max_attempts=5, sleep=lambda s: None))
    assert attempts == [1]


@pytest.mark.parametrize("status, code, expected", [(503, "SlowDown", True), (500, "", True), (429, "", True),
                                                    (404, "NoSuchKey", False), (403, "AccessDenied", False), (400, "Throttling", True)])
def test_is_transient(status, code, expected):
    assert is_transient(status, code) is expected


@pytest.fixture(params=["oss", "s3"])
def server(request):
    return request.getfixturevalue(f"{request.param}_server")


def test_sdk_store_retries_injected_slowdown(server):
    server.create_bucket("retry-bucket")
    server.put_object("retry-bucket", "k", b"payload")
    slept = []
    store = server.store(retry=RetryPolicy(max_attempts=4, sleep=slept.append))
    server.inject_faults(2, status=503, code="SlowDown")
    with store.open("retry-bucket", "k") as fh:
        assert fh.read() == b"payload"
    assert server.faults_served() == 2 and len(slept) == 2


def test_sdk_store_gives_up_after_bounded_attempts(server):
    server.create_bucket("retry-bucket")
    store = server.store(retry=RetryPolicy(max_attempts=3, sleep=lambda s: None))
    server.inject_faults(5, status=500, code="InternalError")
    try:
        with pytest.raises(StoreError) as err:
            store.open("retry-bucket", "k")
        assert err.value.retriable and "InternalError" in str(err.value)
    finally:
        server.inject_faults(0)


def test_sdk_access_denied_is_mapped_and_not_retried(server):
    server.create_bucket("retry-bucket")
    store = server.store(retry=RetryPolicy(max_attempts=5, sleep=lambda s: None))
    server.inject_faults(3, status=403, code="AccessDenied")
    try:
        with pytest.raises(AccessDenied):
            list(store.list("retry-bucket"))
        assert server.faults_served() == 1
    finally:
        server.inject_faults(0)
