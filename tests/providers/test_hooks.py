"""OssHook and store_resolver_for: Airflow connections (as AIRFLOW_CONN_* JSON) → object stores."""

from __future__ import annotations

import json

import pytest

from airflow_cloudflow.providers.hooks import LazyStoreResolver, OssHook, raw_connection, s3_store_for, store_resolver_for
from airflow_cloudflow.providers.options import DagOptions
from airflow_cloudflow.storage.connections import ConnectionConfigError
from airflow_cloudflow.storage.local import LocalStore
from airflow_cloudflow.storage.oss import OssStore
from airflow_cloudflow.storage.resolver import StoreNotConfigured
from airflow_cloudflow.storage.s3 import S3Store
from tests.support.fixtures import oss_server, s3_server  # noqa: F401  (session fixtures)

SECRET = "very-secret-value-123"
OSS_JSON = {
    "conn_type": "oss",
    "extra": {"auth_type": "AK", "access_key_id": "AKID-example", "access_key_secret": SECRET, "region": "cn-hangzhou"},
}


def _set(monkeypatch, conn_id: str, value: dict) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(value))


def test_oss_hook_declares_the_oss_connection_type():
    assert (OssHook.conn_name_attr, OssHook.default_conn_name, OssHook.conn_type) == ("oss_conn_id", "oss_default", "oss")
    assert OssHook.hook_name == "Alibaba Cloud OSS (CloudFlow)"
    assert OssHook().oss_conn_id == "oss_default"


def test_oss_hook_reads_the_official_extra_format(monkeypatch):
    _set(monkeypatch, "oss_test", OSS_JSON)
    conn = OssHook("oss_test").get_oss_connection()
    assert (conn.access_key_id, conn.access_key_secret, conn.region) == ("AKID-example", SECRET, "cn-hangzhou")
    assert conn.resolved_endpoint == "https://oss-cn-hangzhou.aliyuncs.com"
    store = OssHook("oss_test").get_store()
    assert isinstance(store, OssStore) and store.endpoint == "https://oss-cn-hangzhou.aliyuncs.com"


def test_an_explicit_endpoint_wins_over_the_region(monkeypatch):
    value = json.loads(json.dumps(OSS_JSON))
    value["extra"]["endpoint"] = "oss-cn-shanghai-internal.aliyuncs.com"
    _set(monkeypatch, "oss_ep", value)
    assert OssHook("oss_ep").get_store().endpoint == "https://oss-cn-shanghai-internal.aliyuncs.com"


def test_secrets_stay_out_of_reprs_and_errors(monkeypatch):
    _set(monkeypatch, "oss_test", OSS_JSON)
    hook = OssHook("oss_test")
    for text in (repr(hook), repr(hook.get_oss_connection()), repr(hook.get_store()), repr(raw_connection(hook.get_connection("oss_test")))):
        assert SECRET not in text
    broken = {"conn_type": "oss", "extra": {"auth_type": "AK", "access_key_id": "k", "region": "cn-hangzhou"}}
    _set(monkeypatch, "oss_broken", broken)
    with pytest.raises(ConnectionConfigError, match="connection 'oss_broken': access_key_id and access_key_secret"):
        OssHook("oss_broken").get_store()


def test_the_ui_form_hides_unused_fields_and_shows_the_extra_format():
    behaviour = OssHook.get_ui_field_behaviour()
    assert set(behaviour["hidden_fields"]) == {"host", "schema", "port", "login", "password"}
    placeholder = json.loads(behaviour["placeholders"]["extra"])
    assert set(placeholder) == {"auth_type", "access_key_id", "access_key_secret", "region", "endpoint"}
    assert isinstance(OssHook.get_connection_form_widgets(), dict)


def test_local_store_option_serves_both_schemes_from_one_folder(tmp_path):
    resolver = store_resolver_for(DagOptions(local_store=str(tmp_path)))
    assert isinstance(resolver.for_scheme("oss"), LocalStore) and isinstance(resolver.for_scheme("s3"), LocalStore)


def test_stores_are_created_lazily_so_oss_only_flows_need_no_aws_connection(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_AWS_MISSING", raising=False)
    _set(monkeypatch, "oss_test", OSS_JSON)
    resolver = store_resolver_for(DagOptions(oss_conn_id="oss_test", aws_conn_id="aws_missing"))
    assert isinstance(resolver, LazyStoreResolver) and resolver.schemes == ("oss", "s3")
    assert "created=[]" in repr(resolver)
    store = resolver.for_scheme("oss")
    assert isinstance(store, OssStore) and resolver.for_scheme("oss") is store
    with pytest.raises(StoreNotConfigured):
        resolver.for_scheme("gs")


def test_a_missing_oss_connection_fails_only_on_first_use(monkeypatch):
    resolver = store_resolver_for(DagOptions(oss_conn_id="oss_absent_for_sure"))
    with pytest.raises(Exception, match="oss_absent_for_sure"):
        resolver.for_scheme("oss")


def test_s3_store_uses_the_s3_hook_client(monkeypatch):
    _set(monkeypatch, "aws_test", {"conn_type": "aws", "login": "AKIAEXAMPLE", "password": SECRET,
                                   "extra": {"endpoint_url": "http://127.0.0.1:9", "region_name": "eu-west-1"}})
    store = s3_store_for("aws_test")
    assert isinstance(store, S3Store)
    assert store._client.meta.endpoint_url == "http://127.0.0.1:9"
    assert store._client.meta.region_name == "eu-west-1"
    assert SECRET not in repr(store)


def test_round_trip_through_the_oss_hook_against_the_oss_bridge(oss_server, monkeypatch):  # noqa: F811
    _set(monkeypatch, "oss_bridge", oss_server.connection())
    oss_server.create_bucket("hook-bucket")
    store = store_resolver_for(DagOptions(oss_conn_id="oss_bridge")).for_scheme("oss")
    store.put("hook-bucket", "dir/hello.txt", b"hello oss")
    assert store.open("hook-bucket", "dir/hello.txt").read() == b"hello oss"
    assert [o.key for o in store.list("hook-bucket", "dir/")] == ["dir/hello.txt"]


def test_round_trip_through_the_s3_hook_against_moto(s3_server, monkeypatch):  # noqa: F811
    _set(monkeypatch, "aws_moto", s3_server.connection())
    s3_server.create_bucket("hook-bucket")
    store = store_resolver_for(DagOptions(aws_conn_id="aws_moto")).for_scheme("s3")
    store.put("hook-bucket", "dir/hello.txt", b"hello s3")
    assert store.open("hook-bucket", "dir/hello.txt").read() == b"hello s3"
    assert [o.key for o in store.list("hook-bucket", "dir/")] == ["dir/hello.txt"]
