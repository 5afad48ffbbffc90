import json

import pytest

from airflow_cloudflow.storage.connections import (
    ConnectionConfigError,
    OssConnection,
    oss_connection,
    parse_connection,
    s3_connection,
)
from airflow_cloudflow.storage.oss import OssStore
from airflow_cloudflow.storage.resolver import StoreNotConfigured, StoreResolver
from airflow_cloudflow.storage.s3 import S3Store

SECRET = "s3cr3t-Value/+="

OSS_JSON = json.dumps({
    "conn_type": "oss",
    "extra": {"auth_type": "AK", "access_key_id": "AKID", "access_key_secret": SECRET, "region": "cn-hangzhou"},
})


def test_oss_json_form_official_provider_format():
    conn = oss_connection(OSS_JSON)
    assert (conn.access_key_id, conn.access_key_secret, conn.region) == ("AKID", SECRET, "cn-hangzhou")
    assert conn.resolved_endpoint == "https://oss-cn-hangzhou.aliyuncs.com"
    assert conn.auth_version == "v4"


def test_oss_json_extra_as_string_and_endpoint():
    raw = json.dumps({"conn_type": "oss", "extra": json.dumps(
        {"access_key_id": "A", "access_key_secret": SECRET, "region": "r", "endpoint": "http://127.0.0.1:9", "auth_version": "v1"})})
    conn = oss_connection(raw)
    assert conn.resolved_endpoint == "http://127.0.0.1:9" and conn.auth_version == "v1"


def test_oss_uri_form():
    conn = oss_connection("oss://?auth_type=AK&access_key_id=AKID&access_key_secret=s3cr3t%2F%2B%3D&region=cn-beijing")
    assert conn.access_key_secret == "s3cr3t/+=" and conn.region == "cn-beijing"
    extra = json.dumps({"access_key_id": "X", "access_key_secret": "Y", "region": "cn-shanghai"})
    assert oss_connection("oss://?__extra__=" + __import__("urllib.parse").parse.quote(extra)).region == "cn-shanghai"


def test_aws_json_and_uri_forms():
    conn = s3_connection(json.dumps({"conn_type": "aws", "login": "AKIA", "password": SECRET,
                                     "extra": {"endpoint_url": "http://127.0.0.1:5000", "region_name": "eu-west-1"}}))
    assert (conn.access_key_id, conn.secret_access_key, conn.endpoint_url, conn.region_name) == (
        "AKIA", SECRET, "http://127.0.0.1:5000", "eu-west-1")
    conn = s3_connection("aws://AKIA:s3cr3t%2FValue@/?region_name=us-east-2&endpoint_url=http%3A%2F%2Fh%3A1")
    assert (conn.access_key_id, conn.secret_access_key, conn.region_name, conn.endpoint_url) == (
        "AKIA", "s3cr3t/Value", "us-east-2", "http://h:1")


def test_secrets_never_in_repr_or_str():
    oss = oss_connection(OSS_JSON)
    aws = s3_connection(json.dumps({"conn_type": "aws", "login": "AKIA", "password": SECRET}))
    raw = parse_connection(OSS_JSON)
    store = OssStore.from_connection(oss)
    for text in (repr(oss), str(oss), repr(aws), str(aws), repr(raw), repr(store), repr(S3Store.from_connection(aws))):
        assert SECRET not in text and "AKID" not in text.replace("access_key_id='***'", "")


@pytest.mark.parametrize("value, fragment", [
    ("{not json", "not valid JSON"),
    (json.dumps({"conn_type": "oss", "extra": {"access_key_id": "A"}}), "required"),
    (json.dumps({"conn_type": "oss", "extra": {"access_key_id": "A", "access_key_secret": SECRET}}), "region"),
    (json.dumps({"conn_type": "http", "extra": {}}), "conn_type"),
    (json.dumps({"conn_type": "oss", "extra": {"auth_type": "STS", "access_key_id": "A", "access_key_secret": SECRET, "region": "r"}}), "auth_type"),
    ("plain-text", "URI"),
])
def test_bad_oss_connections_never_echo_secrets(value, fragment):
    with pytest.raises(ConnectionConfigError) as err:
        oss_connection(value)
    assert fragment in str(err.value) and SECRET not in str(err.value)


def test_resolver_from_environment_and_missing_scheme():
    env = {"AIRFLOW_CONN_OSS_DEFAULT": OSS_JSON,
           "AIRFLOW_CONN_AWS_DEFAULT": "aws://AKIA:x@/?region_name=us-east-1"}
    resolver = StoreResolver.from_environment(env)
    assert isinstance(resolver.for_scheme("oss"), OssStore)
    assert isinstance(resolver.for_scheme("s3"), S3Store)
    empty = StoreResolver.from_environment({})
    with pytest.raises(StoreNotConfigured) as err:
        empty.for_scheme("oss")
    assert "'oss://'" in str(err.value) and "AIRFLOW_CONN_OSS_DEFAULT" in str(err.value)


def test_resolver_local_serves_both_schemes(tmp_path):
    resolver = StoreResolver.local(tmp_path)
    assert resolver.for_scheme("oss").scheme == "oss" and resolver.for_scheme("s3").scheme == "s3"
    (tmp_path / "bkt").mkdir()
    resolver.for_scheme("s3").put("bkt", "k", b"v")
    assert resolver.for_scheme("oss").open("bkt", "k").read() == b"v"


def test_oss_connection_round_trip_is_frozen():
    conn = OssConnection("a", "b", "r")
    with pytest.raises(Exception):
        conn.region = "x"  # type: ignore[misc]
