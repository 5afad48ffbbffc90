"""The CloudFlow conformance cases that read or write object storage, run over the OSS server
(oss2 → the OSS bridge → moto's S3 engine) instead of a local folder.

Each case gets a server of its own: the cases share bucket names (``example-bucket``), and an
``OSS_OBJECTS`` listing or a ``<map-run>`` key search must not see another case's objects.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.integrations.mocks import load_mocks
from airflow_cloudflow.runtime.clock import FakeClock
from airflow_cloudflow.runtime.interpreter import Interpreter
from airflow_cloudflow.storage.resolver import StoreResolver
from tests.runtime.conformance import Matcher, check_objects_after, load_cases
from tests.support.servers import start_oss_server

CASES = [c for c in load_cases() if "ItemReader:" in c["definition_yaml"] or "ResultWriter:" in c["definition_yaml"]]


def download(store, buckets: set[str], root: Path) -> None:
    """Copy every object of ``buckets`` to ``root/bucket/key`` (for the shared file-based checks)."""
    for bucket in buckets:
        for info in store.list(bucket):
            path = root / bucket / info.key
            path.parent.mkdir(parents=True, exist_ok=True)
            with store.open(bucket, info.key) as stream:
                path.write_bytes(stream.read())


def test_the_oss_cases_are_the_storage_ones():
    assert len(CASES) >= 10
    assert all(c["oss_buckets"] or c["oss_objects"] or "ResultWriter" in c["definition_yaml"] for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_over_the_oss_server(case, tmp_path):
    server = start_oss_server()
    try:
        server.upload_case(case)
        store = server.store()
        machine = load_definition_text(case["definition_yaml"], f"{case['name']}.flow.yaml")
        interpreter = Interpreter(machine, integrations=load_mocks(case.get("functions") or {}),
                                  stores=StoreResolver({"oss": store}), clock=FakeClock())
        result = interpreter.execute(case["input"])
        expected = case["expected"]
        matcher = Matcher()
        detail = f"{result.status} output={result.output!r} error={result.error!r}"
        assert result.status == expected["status"], detail
        if expected["status"] == "Succeeded":
            assert matcher.match(expected["output"], result.output), detail
        else:
            assert matcher.match(expected["error"]["Code"], result.error.code), detail
        if "oss_objects_after" in expected:
            download(store, {o["bucket"] for o in expected["oss_objects_after"]}, tmp_path)
            assert check_objects_after(matcher, tmp_path, expected["oss_objects_after"]) == []
    finally:
        server.stop()
