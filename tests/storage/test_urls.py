import pytest

from airflow_cloudflow.storage.urls import UnsafeKey, format_url, join_key, parse_url, safe_bucket, safe_key


@pytest.mark.parametrize("key", ["a", "a/b/c.csv", "dir/", "a..b", "..a/b", "é/ü"])
def test_safe_keys_pass_unchanged(key):
    assert safe_key(key) == key


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "..", "a/..", "a\x00b", "\\x", "a\\..\\b", "k" * 1024])
def test_unsafe_keys_rejected(key):
    with pytest.raises(UnsafeKey):
        safe_key(key)


def test_empty_prefix_allowed_only_when_asked():
    assert safe_key("", allow_empty=True) == ""


@pytest.mark.parametrize("bucket", ["..", "a", "A-upper", "has/slash", "x" * 64, "a..b"])
def test_bad_buckets(bucket):
    with pytest.raises(UnsafeKey):
        safe_bucket(bucket)


def test_parse_and_format_round_trip():
    url = parse_url("oss://example-bucket/dir/k.csv")
    assert (url.scheme, url.bucket, url.key) == ("oss", "example-bucket", "dir/k.csv")
    assert str(url) == "oss://example-bucket/dir/k.csv"
    assert parse_url("s3://bkt/").key == ""
    assert format_url("s3", "bkt", "k") == "s3://bkt/k"


@pytest.mark.parametrize("url", ["http://b/k", "oss:/b/k", "oss://b/../k", "gs://bkt/k"])
def test_parse_rejects(url):
    with pytest.raises(UnsafeKey):
        parse_url(url)


def test_join_key_normalises_slashes():
    assert join_key("example-prefix/", "run", "f.json") == "example-prefix/run/f.json"
    assert join_key("example-prefix", "run") == "example-prefix/run"
    assert join_key("", "run") == "run"
