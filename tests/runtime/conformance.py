"""Helpers shared by the conformance tests: seed a store from a case, run it, match results
with the corpus README's rules (``<any>``, ``<map-run>``, ``<object-size>``, unordered result files)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

from tests.conftest import CLOUDFLOW_CASES_DIR

ANY = "<any>"
MAP_RUN = "<map-run>"
OBJECT_SIZE = "<object-size>"


def load_cases() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(CLOUDFLOW_CASES_DIR.glob("*.json"))]


def seed_store(root: Path, case: dict) -> None:
    """Create the case's buckets and objects as ``root/bucket/key`` (byte-exact)."""
    for bucket in case.get("oss_buckets", []):
        (root / bucket).mkdir(parents=True, exist_ok=True)
    for obj in case.get("oss_objects", []):
        path = root / obj["bucket"] / obj["key"]
        path.parent.mkdir(parents=True, exist_ok=True)
        if "body_base64" in obj:
            path.write_bytes(base64.b64decode(obj["body_base64"]))
        else:
            path.write_bytes(obj["body"].encode("utf-8"))


class Matcher:
    """Structural matching with the README's placeholders; ``map_run`` is bound on first sight."""

    def __init__(self) -> None:
        self.map_run: str | None = None

    def string(self, expected: str, actual: Any) -> bool:
        if MAP_RUN not in expected:
            return expected == actual
        if not isinstance(actual, str):
            return False
        parts = [re.escape(p) for p in expected.split(MAP_RUN)]
        found = re.fullmatch("([^/]+)".join(parts), actual)
        if not found:
            return False
        for value in found.groups():
            if self.map_run is None:
                self.map_run = value
            elif value != self.map_run:
                return False
        return True

    def match(self, expected: Any, actual: Any, *, unordered: bool = False) -> bool:
        if expected == ANY:
            return True
        if isinstance(expected, str):
            return self.string(expected, actual)
        if isinstance(expected, bool) or expected is None:
            return expected is actual
        if isinstance(expected, (int, float)):
            return not isinstance(actual, bool) and isinstance(actual, (int, float)) and expected == actual
        if isinstance(expected, dict):
            if not isinstance(actual, dict) or len(expected) != len(actual):
                return False
            for key, value in expected.items():
                matched = [k for k in actual if (self.string(key, k) if MAP_RUN in key else k == key)]
                if len(matched) != 1 or not self.match(value, actual[matched[0]]):
                    return False
            return True
        if isinstance(expected, list):
            if not isinstance(actual, list) or len(expected) != len(actual):
                return False
            if not unordered:
                return all(self.match(e, a) for e, a in zip(expected, actual))
            remaining = list(actual)
            for e in expected:
                for i, a in enumerate(remaining):
                    if self.match(e, a):
                        del remaining[i]
                        break
                else:
                    return False
            return True
        return expected == actual


def resolve(text: str, map_run: str | None) -> str:
    return text.replace(MAP_RUN, map_run or MAP_RUN)


def check_objects_after(matcher: Matcher, root: Path, expected_objects: list[dict]) -> list[str]:
    """Problems with ``oss_objects_after`` (empty when all match). Manifest first binds ``<map-run>``."""
    problems = []
    ordered = sorted(expected_objects, key=lambda o: 0 if o["key"].endswith("manifest.json") else 1)
    for obj in ordered:
        bucket_dir = root / obj["bucket"]
        key_pattern = obj["key"]
        if matcher.map_run is None and MAP_RUN in key_pattern:
            candidates = [p for p in bucket_dir.rglob("*") if p.is_file()]
            keys = [str(p.relative_to(bucket_dir)) for p in candidates]
            hits = [k for k in keys if Matcher().string(key_pattern, k)]
            if len(hits) != 1:
                problems.append(f"{key_pattern}: {len(hits)} candidates {hits}")
                continue
            matcher.string(key_pattern, hits[0])
        path = bucket_dir / resolve(key_pattern, matcher.map_run)
        if not path.is_file():
            problems.append(f"missing object {obj['bucket']}/{path.relative_to(bucket_dir)}")
            continue
        actual = json.loads(path.read_text(encoding="utf-8"))
        expected = obj["json"]
        is_result_file = isinstance(expected, list)
        if is_result_file:
            actual = [_parse_record(r) for r in actual]
            expected = [_parse_record(r) for r in expected]
        if not matcher.match(_sizes(expected, actual, bucket_dir, matcher), actual, unordered=is_result_file):
            problems.append(f"{path.name}: expected {expected!r}, got {actual!r}")
    return problems


def _parse_record(record: Any) -> Any:
    if isinstance(record, dict):
        return {k: (json.loads(v) if k in ("Input", "Output") and isinstance(v, str) and v != ANY else v)
                for k, v in record.items()}
    return record


def _sizes(expected: Any, actual: Any, bucket_dir: Path, matcher: Matcher) -> Any:
    """Replace ``<object-size>`` with the byte length of the entry's ``ObjectName``."""
    if isinstance(expected, dict):
        out = {}
        for k, v in expected.items():
            if k == "Size" and v == OBJECT_SIZE and "ObjectName" in expected:
                target = bucket_dir / resolve(expected["ObjectName"], matcher.map_run)
                out[k] = target.stat().st_size if target.is_file() else -1
            else:
                out[k] = _sizes(v, None, bucket_dir, matcher)
        return out
    if isinstance(expected, list):
        return [_sizes(v, None, bucket_dir, matcher) for v in expected]
    return expected
