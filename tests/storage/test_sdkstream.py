"""Resumable reads (``sdkstream.py``): a connection reset mid-download resumes with a ranged GET
from the first byte not yet delivered, within the retry budget, against moto's S3 server and the
OSS bridge with the fault injector resetting the TCP connection mid-body (no SDK is mocked)."""

import json

import pytest

from airflow_cloudflow.exceptions import FlowError, StoreError
from airflow_cloudflow.storage.readers.cloudflow import read_items
from airflow_cloudflow.storage.retry import RetryPolicy

ROWS = 20_000
BUDGET = RetryPolicy(max_attempts=3, sleep=lambda s: None)


@pytest.fixture(params=["oss", "s3"])
def server(request):
    handle = request.getfixturevalue(f"{request.param}_server")
    handle.create_bucket("resume-bucket")
    yield handle
    handle.inject_faults(0)  # no fault left over for the next test


def lines(n: int = ROWS) -> bytes:
    return "".join(json.dumps({"id": i, "pad": "x" * 20}) + "\n" for i in range(n)).encode()


def test_a_reset_mid_body_resumes_and_every_record_arrives_exactly_once(server):
    data = lines()
    server.put_object("resume-bucket", "rows.jsonl", data)
    store = server.store(retry=BUDGET)
    server.inject_faults(4, reset_after=len(data) // 5)  # the GET and three resumed GETs are each cut
    items = list(_jsonl(store))
    assert server.faults_served() == 4
    assert [item["id"] for item in items] == list(range(ROWS))


def _jsonl(store):
    with store.open("resume-bucket", "rows.jsonl") as raw:
        for line in raw.read().splitlines():
            yield json.loads(line)


def test_the_raw_stream_counts_its_resumes_and_delivers_the_same_bytes(server):
    data = bytes(range(256)) * 2000
    server.put_object("resume-bucket", "blob.bin", data)
    server.inject_faults(2, reset_after=100_000)
    with server.store(retry=BUDGET).open("resume-bucket", "blob.bin") as raw:
        got = b"".join(iter(lambda: raw.read(65536), b""))
        assert raw.resumes == 2
    assert got == data


def test_resets_without_progress_exhaust_the_retry_budget(server):
    server.put_object("resume-bucket", "blob.bin", b"y" * 300_000)
    server.inject_faults(10, reset_after=0)  # every GET is reset before its first body byte
    stream = server.store(retry=BUDGET).open("resume-bucket", "blob.bin")
    with pytest.raises(StoreError) as err:
        while stream.read(65536):
            pass
    assert err.value.retriable and server.faults_served() == BUDGET.max_attempts
    assert "resume-bucket/blob.bin" in str(err.value)
    stream.close()


def test_an_object_replaced_mid_download_fails_instead_of_being_spliced(server):
    server.put_object("resume-bucket", "moving.bin", b"a" * 300_000)
    server.inject_faults(1, reset_after=150_000)
    stream = server.store(retry=BUDGET).open("resume-bucket", "moving.bin")
    assert stream.read(1000) == b"a" * 1000
    server.put_object("resume-bucket", "moving.bin", b"b" * 300_000)
    with pytest.raises(StoreError) as err:
        while stream.read(65536):
            pass
    assert not err.value.retriable
    stream.close()


def test_a_reader_over_a_resetting_connection_yields_each_row_once(server):
    header = "id,name\n"
    body = "".join(f"{i},name-{i}\n" for i in range(ROWS))
    server.put_object("resume-bucket", "rows.csv", header + body)
    server.inject_faults(3, reset_after=50_000)
    items = list(read_items(server.store(retry=BUDGET), "OSS_CSV", {"Bucket": "resume-bucket", "ObjectName": "rows.csv"}))
    assert [item["id"] for item in items] == [str(i) for i in range(ROWS)]
    assert server.faults_served() == 3


def test_without_resume_budget_a_reset_is_a_reader_error_naming_the_object(server):
    server.put_object("resume-bucket", "rows.csv", "id\n" + "".join(f"{i}\n" for i in range(ROWS)))
    server.inject_faults(1, reset_after=10_000)
    with pytest.raises(FlowError) as err:
        list(read_items(server.store(retry=RetryPolicy(max_attempts=1)), "OSS_CSV",
                        {"Bucket": "resume-bucket", "ObjectName": "rows.csv"}))
    assert "resume-bucket/rows.csv" in err.value.detail


def test_a_distributed_map_over_resetting_connections_gives_the_same_result(oss_server):
    """The conformance case reading an OSS_CSV object, run by the interpreter over the OSS server
    while every object GET of the run is reset after 7 body bytes: the Map's output is the
    recorded one (each row once), where before the reset failed the whole Map."""
    from airflow_cloudflow.dialects import load_definition_text
    from airflow_cloudflow.integrations.mocks import load_mocks
    from airflow_cloudflow.runtime.clock import FakeClock
    from airflow_cloudflow.runtime.interpreter import Interpreter
    from airflow_cloudflow.storage.resolver import StoreResolver
    from tests.runtime.conformance import Matcher, load_cases

    [case] = [c for c in load_cases() if c["name"] == "seed_item_reader_oss_csv"]
    oss_server.upload_case(case)
    machine = load_definition_text(case["definition_yaml"], "case.flow.yaml")
    interpreter = Interpreter(machine, integrations=load_mocks(case.get("functions") or {}),
                              stores=StoreResolver({"oss": oss_server.store(retry=BUDGET)}), clock=FakeClock())
    oss_server.inject_faults(2, reset_after=7)  # the GET and its first resume are both cut
    result = interpreter.execute(case["input"])
    assert oss_server.faults_served() == 2
    assert result.status == "Succeeded", result.error
    assert Matcher().match(case["expected"]["output"], result.output)
