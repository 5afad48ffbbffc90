"""Helpers for the ASL conformance corpus (``shared/conformance/asl``): load cases, swap the Lambda
placeholders, bind the three Lambda behaviours to mocks, seed the S3 store, and compare results with
the README's wildcards.

* Placeholders: ``${LAMBDA_ARN:name}`` → ``arn:aws:lambda:us-east-1:123456789012:function:name``,
  ``${LAMBDA_NAME:name}`` → ``name``.
* Behaviours: *identity* returns its event; *raise_exception* fails with Error ``Exception`` and the
  Cause text Lambda produces for ``raise Exception("Some exception was raised.")``;
  *wait_60_seconds* runs 60 s on the execution's (fake) clock, then returns its event.
* Wildcards: ``<partition>``, ``<region>``, ``111111111111``, ``snf_role_arn``, ``<ArnPart_0idx>``,
  ``<ExecArnPart_0idx>``, ``<MapRunArnPart0_0idx>``, ``<MapRunArnPart1_0idx>``,
  ``<lambda_function_name>``, ``<uuid:N>`` anywhere in a string; the bare strings ``date``,
  ``timestamp``, ``start-date``, ``stop-date`` and ``<date>`` match any string.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.conftest import ASL_CASES_DIR

EXECUTION_GROUPS = ("distributed", "inline", "other", "intrinsics")
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}"
WILDCARD_TOKENS = ("<partition>", "<region>", "111111111111", "snf_role_arn", "<ArnPart_0idx>", "<ExecArnPart_0idx>",
                   "<MapRunArnPart0_0idx>", "<MapRunArnPart1_0idx>", "<lambda_function_name>")
BARE_WILDCARDS = ("date", "timestamp", "start-date", "stop-date", "<date>")
_UUID = re.compile(r"<uuid:\d+>")
RAISE_CAUSE = json.dumps({
    "errorMessage": "Some exception was raised.",
    "errorType": "Exception",
    "requestId": "00000000-0000-0000-0000-000000000000",
    "stackTrace": ["  File \"/var/task/handler.py\", line 2, in handler\n    raise Exception(\"Some exception was raised.\")\n"],
}, separators=(",", ":"))


def case_paths(group: str) -> list[Path]:
    return sorted((ASL_CASES_DIR / group).glob("*.json"))


def load_case(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def substitute(value: Any) -> Any:
    """The value with the Lambda placeholders swapped for an ARN / a function name."""
    text = json.dumps(value)
    text = re.sub(r"\$\{LAMBDA_ARN:([^}]+)\}", lambda m: LAMBDA_ARN.format(m.group(1)), text)
    text = re.sub(r"\$\{LAMBDA_NAME:([^}]+)\}", lambda m: m.group(1), text)
    return json.loads(text)


def mocks_for(case: dict) -> dict[str, Any]:
    """The ``--mocks`` object binding the case's functions (keyed by function name)."""
    mocks: dict[str, Any] = {}
    for fn in case.get("lambda_functions", []):
        behaviour = fn["behaviour"]
        if behaviour.startswith("identity"):
            mocks[fn["name"]] = {"behaviour": "identity"}
        elif "raise" in behaviour:
            mocks[fn["name"]] = {"behaviour": "fail", "code": "Exception", "detail": RAISE_CAUSE}
        elif "sleeps 60" in behaviour or "wait" in behaviour:
            mocks[fn["name"]] = {"behaviour": "identity", "sleep_seconds": 60}
        else:  # pragma: no cover - the README names only three behaviours
            raise AssertionError(f"unknown behaviour {behaviour!r}")
    return mocks


def seed_store(root: Path, case: dict) -> None:
    for bucket in case.get("s3_buckets", []):
        (root / bucket).mkdir(parents=True, exist_ok=True)
    for obj in case.get("s3_objects", []):
        path = root / obj["bucket"] / obj["key"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(obj["body"].encode("utf-8"))


def _pattern(expected: str) -> re.Pattern[str]:
    tokens = "|".join(re.escape(t) for t in WILDCARD_TOKENS) + r"|<uuid:\d+>"
    pieces = re.split(f"({tokens})", expected)
    regex = "".join(".+?" if i % 2 else re.escape(p) for i, p in enumerate(pieces))
    return re.compile(regex, re.DOTALL)


def strings_match(expected: str, actual: Any) -> bool:
    if not isinstance(actual, str):
        return False
    if expected in BARE_WILDCARDS:
        return True
    if not any(t in expected for t in WILDCARD_TOKENS) and not _UUID.search(expected):
        return expected == actual
    return _pattern(expected).fullmatch(actual) is not None


def matches(expected: Any, actual: Any, ignore: tuple[str, ...] = ()) -> bool:
    if isinstance(expected, str):
        if isinstance(actual, str) and expected.startswith("{") and actual.startswith("{"):
            try:  # a JSON text (a Lambda Cause): compare structurally
                return matches(json.loads(expected), json.loads(actual), ignore)
            except ValueError:
                pass
        return strings_match(expected, actual)
    if isinstance(expected, bool) or expected is None:
        return expected is actual
    if isinstance(expected, (int, float)):
        return not isinstance(actual, bool) and isinstance(actual, (int, float)) and expected == actual
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        keys = set(expected) - set(ignore)
        if keys != set(actual) - set(ignore):
            return False
        return all(matches(expected[k], actual[k], ignore) for k in keys)
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(
            matches(e, a, ignore) for e, a in zip(expected, actual))
    return expected == actual


def compare(case: dict, status: str, output: Any, error: str | None, cause: str | None) -> list[str]:
    """Differences between the recorded outcome and ours (empty when they match)."""
    expected = case["expected"]
    hints = case.get("compare") or {}
    problems = []
    if expected["status"] != status:
        problems.append(f"status {status} != recorded {expected['status']} ({error}: {cause})")
        return problems
    if status == "SUCCEEDED" and "output" in expected:
        ours = output
        key = hints.get("sort_output_by")
        if key and isinstance(ours, list):
            ours = sorted(ours, key=lambda item: item.get(key))
        if not matches(expected["output"], ours, tuple(hints.get("ignore_fields", ()))):
            problems.append(f"output {json.dumps(ours)[:600]} != recorded {json.dumps(expected['output'])[:600]}")
    if status == "FAILED":
        if expected.get("error") != error:
            problems.append(f"error {error!r} != recorded {expected.get('error')!r}")
        recorded = expected.get("cause")
        if recorded is None and cause is not None or recorded is not None and not matches(recorded, cause):
            problems.append(f"cause {cause!r} != recorded {recorded!r}")
    return problems
