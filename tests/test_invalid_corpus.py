"""Each ``tests/invalid/*.flow.yaml`` declares its errors in a header ``# expect: CODE@LINE ...``;
the reported error set must equal it exactly (warnings are not compared)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from airflow_cloudflow.dialects import lint_path
from airflow_cloudflow.validation.catalogue import CODES

CORPUS = Path(__file__).parent / "invalid"
FILES = sorted(CORPUS.glob("*.flow.yaml"))
_EXPECT = re.compile(r"^#\s*expect:\s*(.*)$")


def header_expectation(path: Path) -> str:
    """The ``CODE@LINE ...`` list of a file's first line ``# expect: ...``."""
    match = _EXPECT.match(path.read_text(encoding="utf-8").splitlines()[0])
    assert match, f"{path.name}: first line must be '# expect: CODE@LINE ...'"
    return match.group(1)


def parse_expectation(text: str) -> set[tuple[str, int]]:
    """``"CF-E202@12 CF-W001@4"`` → ``{("CF-E202", 12), ("CF-W001", 4)}``."""
    out = set()
    for token in text.split():
        code, _, line = token.partition("@")
        out.add((code, int(line)))
    return out


def expected(path: Path) -> set[tuple[str, int]]:
    return parse_expectation(header_expectation(path))


def test_corpus_has_at_least_40_files():
    assert len(FILES) >= 40


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_invalid_file_reports_exactly_its_expected_errors(path):
    want = expected(path)
    assert want, "an invalid file must expect at least one error"
    issues = lint_path(path)
    got = {(i.code, i.line) for i in issues if i.is_error}
    assert got == want, "\n".join(str(i) for i in issues)
    assert all(i.code in CODES for i in issues)


def test_every_error_code_is_exercised_by_the_corpus_or_unit_tests():
    seen = {code for path in FILES for code, _ in expected(path)}
    elsewhere = {"CF-E105", "CF-E117"}  # file errors and unregistered dialects: tests/dialects
    errors = {c for c in CODES if c.startswith("CF-E")}
    assert errors - seen - elsewhere == set()
