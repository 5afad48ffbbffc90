"""ASL field compilation on top of ``FieldReader``: documents with positions, JSONPath payloads,
JSONata templates, paths, ``*Path``/literal numbers, Retry and Catch.

Everything is compiled once here; a value that does not compile is reported (``ASL-E4xx``) and
replaced by a stand-in so building goes on and every problem is found in one pass.
"""

from __future__ import annotations

import json
from typing import Any

from airflow_cloudflow.exceptions import ExpressionSyntaxError
from airflow_cloudflow.expressions.asl.payload import compile_payload
from airflow_cloudflow.expressions.asl.jsonata_expr import compile_jsonata_template, is_jsonata
from airflow_cloudflow.expressions.asl.jsonpath import compile_path, compile_reference_path
from airflow_cloudflow.model import AslIO, CatchRule, DynamicValue, Expression, Literal, RetryRule, Template
from airflow_cloudflow.dialects.fields import FieldReader, child, type_name
from airflow_cloudflow.dialects.yaml_nodes import UNPORTABLE_VALUE, YamlDocument, load_yaml
from airflow_cloudflow.jsonvalues import RejectedJson, loads_strict
from airflow_cloudflow.diagnostics import ERROR, Issue
from airflow_cloudflow.validation import catalogue as cat

JSONPATH, JSONATA = "JSONPath", "JSONata"
ALL = "States.ALL"
RETRY_KEYS = ("ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy",
              "Comment")
CATCH_KEYS = ("ErrorEquals", "Next", "ResultPath", "Comment", "Output", "Assign")
JITTER_STRATEGIES = ("FULL", "NONE")


def load_document(text: str, file: str | None) -> YamlDocument:
    """``*.asl.json``: parsed with ``json`` (the truth for values: ``1e5`` is a number), positions
    from the YAML composer when it can read the text (JSON is YAML-compatible); ``*.asl.yaml``:
    the safe line-aware YAML loader."""
    if not (file or "").lower().endswith(".json") and not text.lstrip().startswith("{"):
        return load_yaml(text, file)
    try:
        data = loads_strict(text)
    except json.JSONDecodeError as exc:
        doc = YamlDocument()
        doc.issues.append(Issue(file, exc.lineno, exc.colno, "ASL-E100", f"JSON syntax error: {exc.msg}", ERROR, ""))
        return doc
    except RejectedJson as exc:  # NaN, Infinity, a huge integer, deep nesting: never into a run
        doc = YamlDocument()
        doc.issues.append(Issue(file, 1, 1, UNPORTABLE_VALUE, f"{exc}", ERROR, ""))
        return doc
    doc = load_yaml(text, file)
    if doc.data is None or doc.issues:
        doc = YamlDocument(marks=doc.marks, values=doc.values)  # positions are best effort
    doc.data = data
    return doc


class AslFields:
    """Compiles ASL field values, reporting into ``reader``."""

    def __init__(self, reader: FieldReader):
        self.r = reader

    # ---------------------------------------------------------------- expressions

    def _syntax(self, exc: Exception, pointer: str, what: str) -> None:
        where = getattr(exc, "pointer", None) or pointer
        message = exc.message if isinstance(exc, ExpressionSyntaxError) else str(exc)
        self.r.report("ASL-E401", f"invalid {what}: {message}", where)

    def path(self, raw: dict, key: str, pointer: str, *, reference: bool = False, nullable: bool = True) -> Template | None:
        """``InputPath``/``OutputPath``/``ResultPath``/``ItemsPath``…: None when absent,
        ``Literal(None)`` when null, else an ``Expression`` holding the compiled path."""
        if key not in raw:
            return None
        value = raw[key]
        where = child(pointer, key)
        if value is None and nullable:
            return Literal(None)
        if not isinstance(value, str) or not value.lstrip(" ").startswith("$"):
            self.r.report("ASL-E401", f"{key!r} must be a path starting with '$', got {json.dumps(value)}", where)
            return None
        try:
            compiled = compile_reference_path(value) if reference else compile_path(value)
        except ExpressionSyntaxError as exc:
            self._syntax(exc, where, f"path in {key!r}")
            return None
        return Expression(value, compiled, self.r.location(where))

    def payload(self, raw: dict, key: str, pointer: str, language: str, field: str | None = None) -> Template | None:
        """A payload template: JSONPath ``.$`` keys, or JSONata ``{% %}`` strings."""
        if key not in raw:
            return None
        return self.value(raw[key], child(pointer, key), language, field or key)

    def value(self, value: Any, pointer: str, language: str, field: str) -> Template:
        try:
            if language == JSONATA:
                return compile_jsonata_template(value, field, pointer, self.r.location)
            return compile_payload(value, pointer, self.r.location)
        except ExpressionSyntaxError as exc:
            self._syntax(exc, pointer, f"{'JSONata expression' if language == JSONATA else 'payload'} in {field!r}")
            return Literal(None)

    def dynamic(self, raw: dict, key: str, pointer: str, language: str, *, number: str = "integer",
                maximum: int | None = None) -> DynamicValue | None:
        """A number written as ``key`` (literal, or JSONata ``{% %}``) or as ``keyPath``; a literal
        above ``maximum`` (AWS's range for seconds fields) is ``ASL-E321``."""
        path_key = key + "Path"
        if key in raw and path_key in raw:
            self.r.report("ASL-E303", f"give either {key!r} or {path_key!r}, not both", child(pointer, path_key))
        if path_key in raw:
            if language == JSONATA:
                self.r.report("ASL-E302", f"{path_key!r} is a JSONPath field; in JSONata use {key!r} with {{% %}}",
                              child(pointer, path_key))
            template = self.path(raw, path_key, pointer, nullable=False)
            return None if template is None else DynamicValue(field=path_key, template=template, kind="path")
        if key not in raw:
            return None
        value = raw[key]
        if language == JSONATA and is_jsonata(value):
            return DynamicValue(field=key, template=self.value(value, child(pointer, key), language, key), kind="jsonata")
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if number == "integer":
            ok = ok and float(value).is_integer()
        if not ok or value < 0:
            self.r.report("ASL-E304", f"{key!r} must be a non-negative {number}, got {json.dumps(value)}", child(pointer, key))
            return None
        if maximum is not None and value > maximum:
            self.r.report("ASL-E321", f"{key!r} must be at most {maximum}, got {json.dumps(value)}", child(pointer, key))
            return None
        return DynamicValue(field=key, template=Literal(value))

    # ---------------------------------------------------------------- state I/O

    def io(self, raw: dict, pointer: str, language: str, kind: str) -> AslIO:
        """The state's processing record; which fields a type accepts is checked by the builder."""
        if language == JSONATA:
            return AslIO(
                query_language=JSONATA,
                parameters=self.payload(raw, "Arguments", pointer, language),
                output=self.payload(raw, "Output", pointer, language),
                assign=self.assign(raw, pointer, language),
            )
        parameters_key = "Parameters" if kind != "Map" else None
        return AslIO(
            query_language=JSONPATH,
            input_path=self.path(raw, "InputPath", pointer),
            parameters=self.payload(raw, parameters_key, pointer, language) if parameters_key else None,
            result=Literal(raw["Result"]) if "Result" in raw else None,
            result_selector=self.payload(raw, "ResultSelector", pointer, language),
            result_path=self.path(raw, "ResultPath", pointer, reference=True),
            output_path=self.path(raw, "OutputPath", pointer),
            assign=self.assign(raw, pointer, language),
        )

    def assign(self, raw: dict, pointer: str, language: str) -> Template | None:
        if "Assign" not in raw:
            return None
        value = raw["Assign"]
        if not isinstance(value, dict):
            self.r.report("CF-E110", f"'Assign' must be an object, got {type_name(value)}", child(pointer, "Assign"))
            return None
        return self.value(value, child(pointer, "Assign"), language, "Assign")

    # ---------------------------------------------------------------- Retry / Catch

    def _errors(self, item: dict, rp: str) -> tuple[str, ...]:
        errors = self.r.string_list(item, "ErrorEquals", rp, required=True, what="a Retry/Catch rule") or ()
        if not errors and item.get("ErrorEquals") == []:
            self.r.report("ASL-E305", "ErrorEquals must name at least one error", child(rp, "ErrorEquals"))
        if ALL in errors and len(errors) > 1:
            self.r.report("ASL-E306", "States.ALL must appear alone in its ErrorEquals", child(rp, "ErrorEquals"))
        return errors

    def _rules(self, raw: dict, key: str, pointer: str):
        items = self.r.sequence(raw, key, pointer) or ()
        rows = []
        for i, item in enumerate(items):
            rp = child(child(pointer, key), i)
            if not isinstance(item, dict):
                self.r.report("CF-E110", f"a {key} rule must be an object", rp)
                continue
            rows.append((item, rp))
        for n, (item, rp) in enumerate(rows):
            errors = item.get("ErrorEquals")
            if isinstance(errors, list) and ALL in errors and n != len(rows) - 1:
                self.r.report("ASL-E307", f"a {key} rule with States.ALL must be the last one", child(rp, "ErrorEquals"))
        return rows

    def retry(self, raw: dict, pointer: str) -> tuple[RetryRule, ...]:
        """"MaxAttempts … default 3", "IntervalSeconds … default 1", "BackoffRate … default 2.0";
        ``MaxDelaySeconds`` caps the interval; ``JitterStrategy`` FULL randomises it."""
        r, out = self.r, []
        for item, rp in self._rules(raw, "Retry", pointer):
            r.check_keys(item, RETRY_KEYS, rp, "a Retry rule")
            attempts = r.integer(item, "MaxAttempts", rp)
            interval = r.integer(item, "IntervalSeconds", rp)
            rate = r.number(item, "BackoffRate", rp)
            delay = r.integer(item, "MaxDelaySeconds", rp)
            jitter = r.string(item, "JitterStrategy", rp)
            if jitter is not None and jitter not in JITTER_STRATEGIES:
                r.report("ASL-E308", f"JitterStrategy must be FULL or NONE, got {jitter!r}", child(rp, "JitterStrategy"))
            for key, value, low, high in (("MaxAttempts", attempts, 0, cat.ASL_MAX_SECONDS),
                                          ("IntervalSeconds", interval, 1, cat.ASL_MAX_SECONDS),
                                          ("BackoffRate", rate, 1.0, cat.MAX_BACKOFF_RATE),
                                          ("MaxDelaySeconds", delay, 1, cat.ASL_MAX_DELAY_SECONDS)):
                if value is not None and not low <= value <= high:
                    r.report("ASL-E308", f"{key} must be {low}-{high:.0f}, got {value if isinstance(value, int) else f'{value:g}'}", child(rp, key))
            out.append(RetryRule(
                errors=self._errors(item, rp), max_attempts=3 if attempts is None else attempts,
                interval_seconds=1 if interval is None else interval, backoff_rate=2.0 if rate is None else rate,
                max_backoff_seconds=delay, jitter_strategy=jitter, description=r.string(item, "Comment", rp),
                location=r.location(rp),
            ))
        return tuple(out)

    def catch(self, raw: dict, pointer: str, language: str) -> tuple[CatchRule, ...]:
        r, out = self.r, []
        for item, rp in self._rules(raw, "Catch", pointer):
            allowed = CATCH_KEYS if language == JSONATA else tuple(k for k in CATCH_KEYS if k != "Output")
            if language == JSONATA:
                allowed = tuple(k for k in allowed if k != "ResultPath")
            r.check_keys(item, allowed, rp, "a Catch rule")
            target = r.string(item, "Next", rp, required=True, what="a Catch rule")
            if language == JSONATA:
                io = AslIO(query_language=JSONATA, output=self.payload(item, "Output", rp, language),
                           assign=self.assign(item, rp, language))
            else:
                io = AslIO(result_path=self.path(item, "ResultPath", rp, reference=True),
                           assign=self.assign(item, rp, language))
            out.append(CatchRule(errors=self._errors(item, rp), next=target or "", asl=io,
                                 description=r.string(item, "Comment", rp), location=r.location(rp)))
        return tuple(out)
