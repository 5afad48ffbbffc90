"""OssStore (oss2 over the OSS bridge, auth v1 and v4) and S3Store (boto3 over moto), for real."""

import pytest

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.storage.readers.cloudflow import read_items
from airflow_cloudflow.storage.resolver import StoreResolver


@pytest.fixture(params=["oss", "s3"])
def server(request):
    return request.getfixturevalue(f"{request.param}_server")


def test_multipart_put_above_threshold(server):
    server.create_bucket("mp-bucket")
    part = 102400 if server.kind == "oss" else 5 * 1024 * 1024
    store = server.store(multipart_threshold=part, part_size=part)
    data = bytes(range(256)) * ((part * 2 + 1000) // 256)
    store.put("mp-bucket", "big.bin", data)
    info = store.head("mp-bucket", "big.bin")
    assert info.size == len(data)
    assert info.etag.strip('"').endswith("-3")  # three parts went up
    with store.open("mp-bucket", "big.bin") as fh:
        assert fh.read() == data


def test_oss_auth_v1_also_works(oss_server):
    oss_server.create_bucket("v1-bucket")
    store = oss_server.store(auth_version="v1")
    store.put("v1-bucket", "k", b"v1")
    assert store.open("v1-bucket", "k").read() == b"v1"
    assert [i.key for i in store.list("v1-bucket")] == ["k"]


def test_oss_listing_speaks_oss(oss_server):
    oss_server.create_bucket("shape-bucket")
    oss_server.put_object("shape-bucket", "a/b", b"1234")
    [info] = list(oss_server.store().list("shape-bucket", "a/"))
    assert (info.object_type, info.storage_class, info.size) == ("Normal", "Standard", 4)


def test_resolver_from_connection_env_reads_through_server(server):
    server.create_bucket("env-bucket")
    server.put_object("env-bucket", "l.json", b'[{"a": 1}]')
    resolver = StoreResolver.from_environment(server.env())
    store = resolver.for_scheme(server.kind)
    assert list(read_items(store, "OSS_JSON_LIST", {"Bucket": "env-bucket", "ObjectName": "l.json"})) == [{"a": 1}]


def test_reader_error_on_transient_fault_exhaustion_names_object(server):
    from airflow_cloudflow.storage.retry import RetryPolicy

    server.create_bucket("env-bucket")
    store = server.store(retry=RetryPolicy(max_attempts=2, sleep=lambda s: None))
    server.inject_faults(2, status=503, code="SlowDown")
    with pytest.raises(FlowError) as err:
        list(read_items(store, "OSS_CSV", {"Bucket": "env-bucket", "ObjectName": "x.csv"}))
    assert "env-bucket/x.csv" in err.value.detail and "SlowDown" in err.value.detail


def test_a_server_echoing_the_secret_into_its_error_code_has_it_masked(server):
    from airflow_cloudflow.exceptions import StoreError
    from airflow_cloudflow.storage.retry import NO_RETRY

    server.create_bucket("env-bucket")
    server.put_object("env-bucket", "k", b"v")
    server.inject_faults(1, status=500, code=server.access_key_secret)
    with pytest.raises(StoreError) as err:
        server.store(retry=NO_RETRY).open("env-bucket", "k")
    assert server.access_key_secret not in str(err.value) and "***" in str(err.value)
