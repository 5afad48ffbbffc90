"""Definition substitutions: ``${Name}`` placeholders filled in before a definition is parsed.

Deployed definitions are often templates, filled in by CloudFormation's ``DefinitionSubstitutions``
(and SAM, CDK, Terraform's ``templatefile``): ``"Resource": "${FnArn}"``,
``arn:${AWS::Partition}:states:::lambda:invoke``, ``"Seconds": ${Delay}``. CloudFormation's rule is
plain text replacement: "a map (string to string) that specifies the mappings for placeholder
variables in the state machine definition … ``${key_name}``". So a placeholder is replaced wherever
it appears (inside a string, or as a bare JSON value), by the value's text, before the JSON/YAML is
read. A placeholder without a value is one ``CF-E130`` issue at its own line and column, saying
where to supply it; the definition is then not parsed further (its other errors would only be
echoes of the placeholder).

Pseudo-parameters (``${AWS::Region}``, ``${AWS::AccountId}``, …) are ordinary names here and take
their values from the same map. Only ``AWS::Partition`` and ``AWS::URLSuffix`` have defaults,
derived from ``AWS::Region`` when it is given (``cn-…`` → ``aws-cn``/``amazonaws.com.cn``,
``us-gov-…`` → ``aws-us-gov``) and otherwise ``aws``/``amazonaws.com``; see docs/loader.md.

Values must be one line, so every line number in later errors stays that of the file on disk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..diagnostics import ERROR, Issue

UNRESOLVED = "CF-E130"
"""Issue code: a ``${…}`` placeholder has no value."""
PLACEHOLDER = re.compile(r"\$\{([^{}\n]*)\}")


def check_values(raw: Any) -> dict[str, str]:
    """The substitutions of a settings file: ``{name: value}``, values strings, numbers or
    booleans (written as CloudFormation writes them: ``true``/``false``) on one line. Raises
    ``ValueError`` saying what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError("expected a mapping of placeholder names to values")
    out: dict[str, str] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not name or PLACEHOLDER.fullmatch("${" + name + "}") is None:
            raise ValueError(f"{name!r} is not a placeholder name (write it without '${{' and '}}')")
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            text = str(value)
        else:
            raise ValueError(f"{name}: expected a string, number or boolean")
        if "\n" in text or "\r" in text:
            raise ValueError(f"{name}: a value must be one line (line numbers in errors would shift)")
        out[name] = text
    return out


def with_pseudo_parameters(values: Mapping[str, str]) -> dict[str, str]:
    """``values`` plus the defaults of ``AWS::Partition`` and ``AWS::URLSuffix``."""
    region = values.get("AWS::Region", "")
    if region.startswith("cn-"):
        partition, suffix = "aws-cn", "amazonaws.com.cn"
    elif region.startswith("us-gov-"):
        partition, suffix = "aws-us-gov", "amazonaws.com"
    else:
        partition, suffix = "aws", "amazonaws.com"
    return {"AWS::Partition": partition, "AWS::URLSuffix": suffix, **values}


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _hint(file: str | None) -> str:
    stem = re.sub(r"\.(asl|flow)\.(json|ya?ml)$", "", Path(file).name, flags=re.I) if file else "<name>"
    return (f"give it a value under 'definition_substitutions:' in {stem}.airflow.yaml (or in a "
            "cloudflow.defaults.yaml above it), or pass 'airflow-cloudflow lint/run/render --substitutions FILE'")


def substitute(text: str, file: str | None, values: Mapping[str, str] | None) -> tuple[str, list[Issue]]:
    """``text`` with every ``${name}`` that has a value replaced, and one ``CF-E130`` issue per
    placeholder that has none (at its line and column in ``text``)."""
    if "${" not in text:
        return text, []
    known = with_pseudo_parameters(values or {})
    issues: list[Issue] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in known:
            return known[name]
        line, column = _position(text, match.start())
        issues.append(Issue(file, line, column, UNRESOLVED,
                            f"unresolved substitution '${{{name}}}': {_hint(file)}", ERROR, ""))
        return match.group(0)

    return PLACEHOLDER.sub(replace, text), issues


__all__ = ["PLACEHOLDER", "UNRESOLVED", "check_values", "substitute", "with_pseudo_parameters"]
