"""Each ``tests/invalid_asl/*.asl.yaml`` declares its errors in a header ``# expect: CODE@LINE ...``
(an ``*.asl.json`` file, which cannot hold a comment, in a sibling ``<file>.expect``); the reported
error set must equal it exactly (warnings are not compared)."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_cloudflow.dialects import lint_path
from airflow_cloudflow.validation.catalogue import ALL_CODES, ASL_CODES
from tests.test_invalid_corpus import header_expectation, parse_expectation

CORPUS = Path(__file__).resolve().parents[1] / "invalid_asl"
FILES = sorted([*CORPUS.glob("*.asl.yaml"), *CORPUS.glob("*.asl.json")])


def expected(path: Path) -> set[tuple[str, int]]:
    if path.suffix == ".json":
        return parse_expectation(Path(str(path) + ".expect").read_text(encoding="utf-8"))
    return parse_expectation(header_expectation(path))


def test_corpus_has_at_least_15_files():
    assert len(FILES) >= 15


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_invalid_asl_file_reports_exactly_its_expected_errors(path):
    want = expected(path)
    assert want, "an invalid file must expect at least one error"
    issues = lint_path(path)
    got = {(i.code, i.line) for i in issues if i.is_error}
    assert got == want, "\n".join(str(i) for i in issues)
    assert all(i.code in ALL_CODES for i in issues)


def test_most_asl_codes_are_exercised():
    seen = {code for path in FILES for code, _ in expected(path)}
    unit_tested = {"ASL-E301", "ASL-E302", "ASL-E304", "ASL-E305", "ASL-E309", "ASL-E311", "ASL-E315", "ASL-E317", "ASL-E331",
                   "ASL-E320"}
    assert set(ASL_CODES) - seen - unit_tested == set()
