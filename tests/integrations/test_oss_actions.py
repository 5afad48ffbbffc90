"""OSS:* actions through the stores: a local folder, and oss2 against the OSS bridge test server."""

from __future__ import annotations

import itertools

import pytest

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.integrations.oss_actions import OssAction, parse_range
from airflow_cloudflow.runtime.ports import TaskCall
from airflow_cloudflow.storage.resolver import StoreResolver

_n = itertools.count()


@pytest.fixture(params=["local", "oss"])
def resolver(request, tmp_path):
    bucket = f"actions-{next(_n)}"
    if request.param == "local":
        res = StoreResolver.local(tmp_path)
        res.for_scheme("oss").create_bucket(bucket)
    else:
        server = request.getfixturevalue("oss_server")
        server.create_bucket(bucket)
        res = StoreResolver({"oss": server.store()})
    return res, bucket


def act(resolver, operation, params):
    return OssAction(operation, resolver)(TaskCall(f"OSS:{operation}", params, state_name="S"))


def test_put_then_get_head_list_copy(resolver):
    res, bucket = resolver
    put = act(res, "PutObject", {"bucket": bucket, "key": "dir/a.json", "body": {"x": 1}})
    assert put["bucket"] == bucket and put["key"] == "dir/a.json" and put["contentLength"] == 7
    got = act(res, "GetObject", {"bucket": bucket, "key": "dir/a.json", "region": "cn-hangzhou"})
    assert got["content"] == '{"x":1}' and got["bucket"] == bucket and got["key"] == "dir/a.json"
    assert act(res, "GetObject", {"bucket": bucket, "key": "dir/a.json", "range": "1-"})["content"] == '"x":1}'
    assert act(res, "GetObject", {"bucket": bucket, "key": "dir/a.json", "range": "1-3"})["content"] == '"x"'
    act(res, "PutObject", {"bucket": bucket, "key": "dir/b.txt", "body": "plain"})
    copied = act(res, "CopyObject", {"sourceKey": "dir/b.txt", "bucket": bucket, "key": "other/c.txt"})
    assert copied["contentLength"] == 5
    assert act(res, "HeadObject", {"bucket": bucket, "key": "other/c.txt"})["contentLength"] == 5
    listing = act(res, "ListObjects", {"bucket": bucket, "prefix": "dir/", "maxKeys": 1})
    assert [o["key"] for o in listing["objects"]] == ["dir/a.json"]
    assert listing["isTruncated"] and listing["nextStartAfter"] == "dir/a.json"
    rest = act(res, "ListObjects", {"bucket": bucket, "prefix": "dir/", "startAfter": "dir/a.json"})
    assert [o["key"] for o in rest["objects"]] == ["dir/b.txt"] and not rest["isTruncated"]


def test_missing_object_and_bucket_codes(resolver):
    res, bucket = resolver
    with pytest.raises(FlowError) as err:
        act(res, "GetObject", {"bucket": bucket, "key": "nope"})
    assert err.value.code == "OSS.NoSuchKey" and err.value.state == "S"
    with pytest.raises(FlowError) as err:
        act(res, "HeadObject", {"bucket": "no-such-bucket-x", "key": "k"})
    assert err.value.code in ("OSS.NoSuchBucket", "OSS.NoSuchKey")


@pytest.mark.parametrize("key", ["../escape", "a/../../b", "/abs", "a\x00b"])
def test_keys_cannot_escape_the_bucket(tmp_path, key):
    res = StoreResolver.local(tmp_path)
    res.for_scheme("oss").create_bucket("bkt")
    with pytest.raises(FlowError) as err:
        act(res, "PutObject", {"bucket": "bkt", "key": key, "body": "x"})
    assert err.value.code == "OSS.InvalidArgument"
    assert not any(p.name == "escape" for p in tmp_path.rglob("*"))


def test_unsupported_conditions_are_refused(tmp_path):
    with pytest.raises(FlowError) as err:
        act(StoreResolver.local(tmp_path), "GetObject", {"bucket": "bkt", "key": "k", "versionId": "v1"})
    assert err.value.code == "OSS.InvalidArgument" and "versionId" in err.value.detail


def test_no_oss_store_configured_is_a_clear_error():
    with pytest.raises(FlowError) as err:
        act(StoreResolver({}), "GetObject", {"bucket": "bkt", "key": "k"})
    assert err.value.code == "OSS.ServiceError" and "AIRFLOW_CONN_OSS_DEFAULT" in err.value.detail


def test_parse_range():
    assert parse_range("1024-") == (1024, None) and parse_range("0-99") == (0, 99)
    for bad in ("x", "5-1", "-3", 7):
        with pytest.raises(FlowError):
            parse_range(bad)
