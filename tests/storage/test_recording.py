"""Which objects a task's stores touched (``storage/recording.py``), over a real local store."""

from __future__ import annotations

import threading

from airflow_cloudflow.storage import recording
from airflow_cloudflow.storage.locations import DataLocation
from airflow_cloudflow.storage.resolver import StoreResolver


def test_reads_writes_and_listings_are_noted_only_while_recording(tmp_path) -> None:
    stores = recording.RecordingResolver(StoreResolver.local(tmp_path))
    oss = stores.for_scheme("oss")
    oss.create_bucket("bkt")
    oss.put("bkt", "before.txt", b"x")  # not recording: not noted
    with recording.recording() as log:
        oss.put("bkt", "a.txt", b"1")
        with oss.open("bkt", "a.txt") as stream:
            assert stream.read() == b"1"
        list(stores.for_scheme("s3").list("bkt", "pre/"))
        oss.copy("bkt", "a.txt", "bkt", "c.txt")
        threads = [threading.Thread(target=oss.head, args=("bkt", "a.txt")) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    oss.put("bkt", "after.txt", b"x")

    assert list(log.writes) == [DataLocation("oss", "bkt", "a.txt"), DataLocation("oss", "bkt", "c.txt")]
    assert list(log.reads) == [DataLocation("oss", "bkt", "a.txt"), DataLocation("s3", "bkt", "pre/", prefix=True)]


def test_at_most_max_locations_are_kept_and_the_rest_counted(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(recording, "MAX_LOCATIONS", 3)
    oss = recording.RecordingResolver(StoreResolver.local(tmp_path)).for_scheme("oss")
    oss.create_bucket("bkt")
    with recording.recording() as log:
        for i in range(5):
            oss.put("bkt", f"k{i}", b"")

    assert [loc.key for loc in log.writes] == ["k0", "k1", "k2"] and log.dropped == 2


def test_a_result_writers_files_stand_for_its_prefix() -> None:
    writes = [DataLocation("oss", "r", k) for k in
              ("orders/run1/SUCCEED_0.json", "orders/run1/manifest.json", "run2/manifest.json", "other/x.json")]

    assert recording.result_folders(writes) == [
        (DataLocation("oss", "r", "orders", prefix=True), {"manifest": "orders/run1/manifest.json"}),
        (DataLocation("oss", "r", "", prefix=True), {"manifest": "run2/manifest.json"}),
        (DataLocation("oss", "r", "other/x.json"), {}),
    ]
    assert [loc.uri for loc, _ in recording.result_folders(writes)][:2] == ["oss://r/orders", "oss://r/"]
