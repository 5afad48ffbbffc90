"""Line-aware safe YAML loading."""

from __future__ import annotations

import time

import pytest

from airflow_cloudflow.dialects.yaml_nodes import MAX_NODES, escape_pointer_token, load_yaml


def test_values_and_marks_for_every_pointer():
    doc = load_yaml("a: 1\nb:\n  - x: 'q'\n    y/z~: [true, null]\n")
    assert doc.issues == []
    assert doc.data == {"a": 1, "b": [{"x": "q", "y/z~": [True, None]}]}
    assert doc.marks["/a"] == (1, 1)
    assert doc.marks["/b/0"] == (3, 5)
    assert doc.marks["/b/0/x"] == (3, 5)
    assert doc.marks["/b/0/y~1z~0"] == (4, 5)
    assert doc.values["/b/0/x"].style == "'"


def test_mark_falls_back_to_nearest_ancestor():
    doc = load_yaml("a:\n  b: 1\n")
    assert doc.mark("/a/b/c/d") == (2, 3)
    assert doc.mark("/zzz") == (1, 1)


def test_value_column_accounts_for_quotes_and_rejects_block_scalars():
    doc = load_yaml('p: $Input.x\nq: "$Input.y"\nr: |\n  $Input.z\n')
    assert doc.value_column("/p", 3) == (1, 7)
    assert doc.value_column("/q", 3) == (2, 8)
    assert doc.value_column("/r", 0) is None


def test_syntax_error_reports_parser_position():
    doc = load_yaml("a: [1, 2\nb: 3\n")
    assert doc.data is None
    (issue,) = doc.issues
    assert issue.code == "CF-E100" and issue.line == 2


def test_duplicate_key_reported_at_second_key_and_first_value_kept():
    doc = load_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert doc.data == {"a": 1, "b": 2}
    (issue,) = doc.issues
    assert (issue.code, issue.line, issue.column, issue.file) == ("CF-E101", 3, 1, "f.yaml")


def test_unsafe_tags_are_rejected_not_constructed():
    doc = load_yaml("a: !!python/object/apply:os.system ['echo hi']\nb: !custom 1\n")
    assert {i.code for i in doc.issues} == {"CF-E103"}
    assert len(doc.issues) == 2


def test_timestamps_stay_text():
    assert load_yaml("d: 2024-01-01\n").data == {"d": "2024-01-01"}


def test_merge_keys_are_resolved():
    assert load_yaml("base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n").data["use"] == {"x": 1, "y": 2}


def test_billion_laughs_is_bounded_and_fast():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    start = time.perf_counter()
    doc = load_yaml("\n".join(lines) + "\n")
    assert time.perf_counter() - start < 2
    assert doc.data is None
    assert [i.code for i in doc.issues] == ["CF-E102"]
    assert MAX_NODES >= 10_000


def test_recursive_alias_does_not_hang():
    doc = load_yaml("a: &a [*a]\n")
    assert doc.issues and doc.issues[0].code in ("CF-E100", "CF-E102")


def test_small_aliases_are_fine():
    doc = load_yaml("a: &x {k: 1}\nb: *x\n")
    assert doc.issues == [] and doc.data["b"] == {"k": 1}


def test_empty_and_non_printable_input():
    assert load_yaml("").data is None and load_yaml("").issues == []
    assert [i.code for i in load_yaml("a: \x00\n").issues] == ["CF-E100"]
    assert [i.code for i in load_yaml("a: 1\n---\nb: 2\n").issues] == ["CF-E100"]


def test_pointer_escaping():
    assert escape_pointer_token("a/b~c") == "a~1b~0c"


# --------------------------------------------------------------------------- YAML 1.2 core schema


@pytest.mark.parametrize(
    "text, value",
    [("Yes", "Yes"), ("No", "No"), ("on", "on"), ("OFF", "OFF"), ("y", "y"), ("n", "n"),
     ("true", True), ("False", False), ("TRUE", True), ("~", None), ("Null", None), ("", None),
     ("0777", 777), ("0o17", 15), ("0x1F", 31), ("-3", -3), ("1e5", 100000.0), (".5", 0.5),
     ("1_000", "1_000"), ("0b101", "0b101"), ("1:30", "1:30"), ("=", "="), ("2024-01-01", "2024-01-01")],
)
def test_plain_scalars_resolve_by_the_yaml_1_2_core_schema(text, value):
    doc = load_yaml(f"v: {text}\n")
    assert doc.issues == [] and doc.data == {"v": value}
    assert type(doc.data["v"]) is type(value)


def test_merge_keys_still_work_under_the_core_schema():
    assert load_yaml("base: &b {x: 1}\nuse:\n  <<: *b\n  y: Yes\n").data["use"] == {"x": 1, "y": "Yes"}
