import os

import pytest

from airflow_cloudflow.exceptions import NoSuchBucket, NoSuchObject, StoreError
from airflow_cloudflow.storage.local import TMP_PREFIX, LocalStore
from airflow_cloudflow.storage.urls import UnsafeKey


@pytest.fixture
def store(tmp_path):
    s = LocalStore(tmp_path)
    s.create_bucket("bkt")
    return s


def test_object_is_the_file_root_bucket_key(store, tmp_path):
    store.put("bkt", "a/b.txt", b"hello")
    assert (tmp_path / "bkt" / "a" / "b.txt").read_bytes() == b"hello"
    with store.open("bkt", "a/b.txt") as fh:
        assert fh.read() == b"hello"


def test_missing_bucket_and_object(store):
    with pytest.raises(NoSuchBucket):
        store.open("other", "k")
    with pytest.raises(NoSuchBucket):
        list(store.list("other"))
    with pytest.raises(NoSuchObject):
        store.open("bkt", "missing")
    with pytest.raises(NoSuchObject):
        store.head("bkt", "missing")


def test_list_is_lexicographic_by_key_with_prefix_and_start_after(store):
    for key in ["b", "a-c", "a/b", "a/a", "c/d/e"]:
        store.put("bkt", key, b"x")
    # '-' (0x2d) sorts before '/' (0x2f): a directory walk order would differ
    assert [i.key for i in store.list("bkt")] == ["a-c", "a/a", "a/b", "b", "c/d/e"]
    assert [i.key for i in store.list("bkt", "a/")] == ["a/a", "a/b"]
    assert [i.key for i in store.list("bkt", start_after="a/b")] == ["b", "c/d/e"]


def test_head_reports_size_quoted_md5_and_utc_time(store):
    store.put("bkt", "k", b"abc")
    info = store.head("bkt", "k")
    assert info.size == 3
    assert info.etag == '"900150983CD24FB0D6963F7D28E17F72"'
    assert info.last_modified.tzinfo is not None


def test_put_is_atomic_and_leaves_no_temp_files(store, tmp_path):
    store.put("bkt", "k", b"one")
    store.put("bkt", "k", b"two")
    assert store.open("bkt", "k").read() == b"two"
    assert not [n for n in os.listdir(tmp_path / "bkt") if n.startswith(TMP_PREFIX)]


def test_temp_files_are_not_listed(store, tmp_path):
    (tmp_path / "bkt" / f"{TMP_PREFIX}abc").write_bytes(b"partial")
    store.put("bkt", "real", b"x")
    assert [i.key for i in store.list("bkt")] == ["real"]


@pytest.mark.parametrize("key", ["../escape", "a/../../escape", "/etc/passwd", "a\x00b"])
def test_unsafe_keys_refused(store, key):
    with pytest.raises(UnsafeKey):
        store.put("bkt", key, b"x")
    with pytest.raises(UnsafeKey):
        store.open("bkt", key)


def test_symlink_out_of_bucket_is_not_an_object(store, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_bytes(b"secret")
    os.symlink(outside, tmp_path / "bkt" / "link")
    with pytest.raises(NoSuchObject):
        store.open("bkt", "link")
    with pytest.raises(NoSuchObject):
        store.head("bkt", "link")
    with pytest.raises(UnsafeKey):
        store.put("bkt", "link", b"overwrite")
    assert outside.read_bytes() == b"secret"


def test_listing_shows_only_regular_files_and_never_follows_links(store, tmp_path):
    """A link to a file outside the store would reveal its size and MD5; a FIFO or a link to
    /dev/zero would hang the listing (each read to the end for the ETag)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    bucket = tmp_path / "bkt"
    store.put("bkt", "real", b"x")
    os.symlink(outside / "secret.txt", bucket / "file-link")
    os.symlink(outside, bucket / "dir-link")
    os.symlink(bucket / "real", bucket / "inside-link")
    os.symlink("/dev/zero", bucket / "zero")
    os.mkfifo(bucket / "fifo")
    assert [i.key for i in store.list("bkt")] == ["real"]
    for key in ["dir-link/secret.txt", "fifo", "zero", "inside-link"]:
        with pytest.raises(NoSuchObject):
            store.open("bkt", key)


def test_symlinked_bucket_directory_is_no_bucket(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "k").write_bytes(b"secret")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "bkt")
    with pytest.raises(NoSuchBucket):
        list(LocalStore(root).list("bkt"))


@pytest.mark.parametrize("key", ["./x", "a/./x", "a//x", "x/", "."])
def test_keys_a_directory_cannot_represent_are_refused(store, key):
    """OSS/S3 keys are opaque: ``./x`` is not ``x``, so the local store refuses it rather than
    serving ``x`` under another name."""
    store.put("bkt", "x", b"one")
    with pytest.raises(UnsafeKey):
        store.put("bkt", key, b"two")
    with pytest.raises(UnsafeKey):
        store.open("bkt", key)
    with pytest.raises(UnsafeKey):
        store.copy("bkt", "x", "bkt", key)
    assert store.open("bkt", "x").read() == b"one"


def test_repr_names_root(store, tmp_path):
    assert str(tmp_path) in repr(store)


def test_a_key_that_is_also_a_prefix_is_a_store_error_not_an_os_error(store):
    """Issue 14: a ResultWriter prefix equal to an existing object raised ``NotADirectoryError``."""
    store.put("bkt", "taken", b"an object")
    for write in (lambda: store.put("bkt", "taken/part-0.json", b"{}"),
                  lambda: store.copy("bkt", "taken", "bkt", "taken/copy")):
        with pytest.raises(StoreError) as err:
            write()
        assert "prefix" in str(err.value) and "taken/" in str(err.value)
    store.put("bkt", "dir/child", b"x")
    with pytest.raises(StoreError):
        store.put("bkt", "dir", b"the folder is in the way")
