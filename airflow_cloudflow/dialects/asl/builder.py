"""Amazon States Language (``*.asl.json`` / ``*.asl.yaml``) → the shared model.

"A State Machine is represented by a JSON Object" with ``States`` (an object keyed by state name),
``StartAt``, optional ``Comment``, ``TimeoutSeconds``, ``QueryLanguage``. ASL has no ``Name``: the
machine is named after the file stem (``orders.asl.json`` → ``orders``). ASL input/output
processing goes into ``State.asl`` (``AslIO``); Map specifics into ``Map.asl_map`` and the ASL
fields of ``ItemReader``/``ItemBatcher``/``ResultWriter``; Choice rules become compiled objects
used as ``ChoiceBranch.condition``. Building reports every issue and never stops at the first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from airflow_cloudflow.diagnostics import Issue
from airflow_cloudflow.expressions.asl.choice import ChoiceSyntaxError, JsonataCondition, compile_rule
from airflow_cloudflow.expressions.asl.jsonata_expr import compile_jsonata, is_jsonata
from airflow_cloudflow.partitions import waits_for_token
from airflow_cloudflow.validation.catalogue import ASL_MAX_SECONDS
from airflow_cloudflow.model import (
    AslIO, Choice, ChoiceBranch, Expression, Fail, Literal, Map, Parallel, Pass, State, StateGraph,
    StateMachine, Succeed, Task, Wait,
)
from airflow_cloudflow.dialects.asl.fields import JSONATA, JSONPATH, AslFields, load_document
from airflow_cloudflow.dialects.asl.map import AslMapBuilder
from airflow_cloudflow.dialects.fields import FieldReader, child
from airflow_cloudflow.dialects.yaml_nodes import YamlDocument

DIALECT = "asl"
TOP_KEYS = ("Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage")
_COMMON = ("Type", "Comment", "QueryLanguage")
_FLOW = ("Next", "End")
_JP_IO = ("InputPath", "OutputPath")
_JP_RESULT = ("ResultPath", "ResultSelector")
_JA = ("Output", "Assign")
JSONPATH_KEYS: dict[str, tuple[str, ...]] = {
    "Pass": _COMMON + _FLOW + _JP_IO + ("Result", "ResultPath", "Parameters", "Assign"),
    "Task": _COMMON + _FLOW + _JP_IO + _JP_RESULT + (
        "Resource", "Parameters", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds",
        "HeartbeatSecondsPath", "Retry", "Catch", "Credentials", "Assign"),
    "Choice": _COMMON + _JP_IO + ("Choices", "Default", "Assign"),
    "Wait": _COMMON + _FLOW + _JP_IO + ("Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Assign"),
    "Succeed": _COMMON + _JP_IO,
    "Fail": _COMMON + ("Error", "ErrorPath", "Cause", "CausePath"),
    "Parallel": _COMMON + _FLOW + _JP_IO + _JP_RESULT + ("Branches", "Parameters", "Retry", "Catch", "Assign"),
    "Map": _COMMON + _FLOW + _JP_IO + _JP_RESULT + (
        "ItemProcessor", "Iterator", "ItemsPath", "ItemSelector", "Parameters", "ItemReader", "ItemBatcher",
        "ResultWriter", "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailureCount",
        "ToleratedFailureCountPath", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "Label",
        "Retry", "Catch", "Assign"),
}
JSONATA_KEYS: dict[str, tuple[str, ...]] = {
    "Pass": _COMMON + _FLOW + _JA,
    "Task": _COMMON + _FLOW + _JA + ("Resource", "Arguments", "TimeoutSeconds", "HeartbeatSeconds", "Retry",
                                     "Catch", "Credentials"),
    "Choice": _COMMON + _JA + ("Choices", "Default"),
    "Wait": _COMMON + _FLOW + _JA + ("Seconds", "Timestamp"),
    "Succeed": _COMMON + ("Output",),
    "Fail": _COMMON + ("Error", "Cause"),
    "Parallel": _COMMON + _FLOW + _JA + ("Branches", "Arguments", "Retry", "Catch"),
    "Map": _COMMON + _FLOW + _JA + (
        "ItemProcessor", "Iterator", "Items", "ItemSelector", "ItemReader", "ItemBatcher", "ResultWriter",
        "MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage", "Label", "Retry", "Catch"),
}
GRAPH_KEYS = ("StartAt", "States", "Comment", "ProcessorConfig")
JSONATA_CHOICE_KEYS = ("Condition", "Next", "Comment", "Assign", "Output")
QUERY_LANGUAGES = (JSONPATH, JSONATA)


def machine_name(file: str | None) -> str:
    """"The machine's name: the file stem" (``orders.asl.json`` → ``orders``)."""
    if not file:
        return "state-machine"
    name = Path(file).name
    for suffix in (".asl.json", ".asl.yaml", ".asl.yml", ".json", ".yaml", ".yml"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or "state-machine"
    return name


class AslBuilder:
    """Builds one ``StateMachine`` from an ASL document, collecting issues."""

    def __init__(self, doc: YamlDocument, file: str | None):
        self.doc, self.file = doc, file
        self.r = FieldReader(doc, file)
        self.f = AslFields(self.r)
        self.maps = AslMapBuilder(self)

    @property
    def issues(self) -> list[Issue]:
        return self.r.issues

    def build(self) -> StateMachine | None:
        raw, r = self.doc.data, self.r
        if not isinstance(raw, dict):
            r.report("CF-E110", "an ASL state machine must be a JSON object (StartAt, States)", "")
            return None
        r.check_keys(raw, TOP_KEYS, "", "the state machine")
        language = self.language(raw, "", JSONPATH)
        timeout = r.integer(raw, "TimeoutSeconds", "")
        if timeout is not None and not 0 <= timeout <= ASL_MAX_SECONDS:
            r.report("ASL-E321", f"TimeoutSeconds must be 0-{ASL_MAX_SECONDS}, got {timeout}", "/TimeoutSeconds")
            timeout = None
        return StateMachine(
            name=machine_name(self.file), graph=self.graph(raw, "", "the state machine", language),
            dialect=DIALECT, description=r.string(raw, "Comment", ""), spec_version=raw.get("Version"),
            timeout_seconds=timeout, source_file=self.file,
        )

    def language(self, raw: dict, pointer: str, inherited: str) -> str:
        value = raw.get("QueryLanguage", inherited)
        if value not in QUERY_LANGUAGES:
            self.r.report("ASL-E301", f"QueryLanguage must be 'JSONPath' or 'JSONata', got {json.dumps(value)}",
                          child(pointer, "QueryLanguage"))
            return inherited
        if inherited == JSONATA and value == JSONPATH and pointer:
            self.r.report("ASL-E301", "a state cannot use JSONPath when the state machine uses JSONata",
                          child(pointer, "QueryLanguage"))
        return value

    def graph(self, raw: dict, pointer: str, what: str, language: str) -> StateGraph:
        r = self.r
        start_at = r.string(raw, "StartAt", pointer, required=True, what=what)
        states_raw = r.mapping(raw, "States", pointer, required=True, what=what)
        if states_raw == {}:
            r.report("CF-E110", "'States' must hold at least one state", child(pointer, "States"))
        states: list[State] = []
        for name, item in (states_raw or {}).items():
            sp = child(child(pointer, "States"), name)
            if len(name) > 80:
                r.report("ASL-E309", f"state name {name[:20]!r}… is longer than 80 characters", sp)
            state = self.state(name, item, sp, language)
            if state is not None:
                states.append(state)
        return StateGraph(start_at=start_at or "", states=tuple(states), location=r.location(pointer))

    # ---------------------------------------------------------------- states

    def state(self, name: str, raw: Any, pointer: str, inherited: str) -> State | None:
        r = self.r
        if not isinstance(raw, dict):
            r.report("CF-E110", f"state {name!r} must be an object", pointer)
            return None
        kind = r.string(raw, "Type", pointer, required=True, what=f"state {name!r}")
        language = self.language(raw, pointer, inherited)
        table = JSONATA_KEYS if language == JSONATA else JSONPATH_KEYS
        allowed = table.get(kind or "")
        if kind is not None and allowed is None:
            r.report("CF-E114", f"unknown state Type {kind!r} (expected one of {', '.join(table)})", child(pointer, "Type"))
        if allowed is None:
            nxt = raw.get("Next") if isinstance(raw.get("Next"), str) else None
            return Pass(name=name, next=nxt, end=nxt is None, location=r.location(pointer))
        other = (JSONPATH_KEYS if language == JSONATA else JSONATA_KEYS)[kind]
        hints = {k: f" (a {'JSONPath' if language == JSONATA else 'JSONata'} field; this state uses {language})"
                 for k in other if k not in allowed}
        r.check_keys(raw, allowed, pointer, f"{kind} state {name!r}", hints)
        common: dict[str, Any] = dict(name=name, description=r.string(raw, "Comment", pointer),
                                      location=r.location(pointer), asl=self.f.io(raw, pointer, language, kind))
        if kind not in ("Choice", "Succeed", "Fail"):
            end = r.boolean(raw, "End", pointer)
            common["next"] = r.string(raw, "Next", pointer)
            common["end"] = bool(end) if end is not None else ("End" in raw and "Next" not in raw)
        return getattr(self, f"_{kind.lower()}")(raw, pointer, language, common)

    def _pass(self, raw, pointer, language, common) -> State:
        return Pass(**common)

    def _succeed(self, raw, pointer, language, common) -> State:
        return Succeed(**common)

    def _fail(self, raw, pointer, language, common) -> State:
        r, f = self.r, self.f
        code = detail = code_t = detail_t = None
        for key, path_key, slot in (("Error", "ErrorPath", "code"), ("Cause", "CausePath", "detail")):
            if key in raw and path_key in raw:
                r.report("ASL-E303", f"give either {key!r} or {path_key!r}, not both", child(pointer, path_key))
            template = None
            if path_key in raw:
                template = self._path_or_intrinsic(raw, path_key, pointer)
            elif language == JSONATA and is_jsonata(raw.get(key)):
                template = f.payload(raw, key, pointer, language)
            if slot == "code":
                code, code_t = (None, template) if template is not None else (r.string(raw, key, pointer), None)
            else:
                detail, detail_t = (None, template) if template is not None else (r.string(raw, key, pointer), None)
        return Fail(code=code, detail=detail, code_template=code_t, detail_template=detail_t, **common)

    def _path_or_intrinsic(self, raw: dict, key: str, pointer: str):
        """``ErrorPath``/``CausePath``: "a reference path or an intrinsic function"."""
        value = raw.get(key)
        if isinstance(value, str) and value.startswith("States."):
            from airflow_cloudflow.expressions.asl.payload import compile_binding

            try:
                return Expression(value, compile_binding(value, key), self.r.location(child(pointer, key)))
            except Exception as exc:  # noqa: BLE001 - reported, never raised
                self.r.report("ASL-E401", f"invalid intrinsic function in {key!r}: {getattr(exc, 'message', exc)}",
                              child(pointer, key))
                return None
        return self.f.path(raw, key, pointer, nullable=False)

    def _wait(self, raw, pointer, language, common) -> State:
        r, f = self.r, self.f
        given = [k for k in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if k in raw]
        if len(given) != 1:
            r.report("ASL-E310", "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath",
                     pointer)
        seconds: Any = Literal(None)
        timestamp = None
        key = given[0] if given else None
        if key == "Seconds":
            seconds = f.dynamic(raw, "Seconds", pointer, language, maximum=ASL_MAX_SECONDS)
            seconds = seconds.template if seconds is not None else Literal(None)
        elif key == "SecondsPath":
            seconds = f.path(raw, "SecondsPath", pointer, nullable=False) or Literal(None)
        elif key == "Timestamp":
            value = raw["Timestamp"]
            timestamp = f.value(value, child(pointer, "Timestamp"), language, "Timestamp") \
                if language == JSONATA else Literal(value)
        elif key == "TimestampPath":
            timestamp = f.path(raw, "TimestampPath", pointer, nullable=False)
        return Wait(seconds=seconds, timestamp=timestamp, **common)

    def _task(self, raw, pointer, language, common) -> State:
        r, f = self.r, self.f
        resource = r.string(raw, "Resource", pointer, required=True, what=f"Task state {common['name']!r}") or ""
        timeout = f.dynamic(raw, "TimeoutSeconds", pointer, language, maximum=ASL_MAX_SECONDS)
        heartbeat = f.dynamic(raw, "HeartbeatSeconds", pointer, language, maximum=ASL_MAX_SECONDS)
        io = common["asl"]
        # ".waitForTaskToken": the Task waits for its token, as CloudFlow's WaitForCustomCallback does
        mode = {"task_mode": "WaitForCustomCallback"} if waits_for_token(resource) else {}
        return Task(action=resource, parameters=io.parameters, **mode,
                    timeout=timeout.template if timeout else None,
                    heartbeat=heartbeat.template if heartbeat else None,
                    retry=f.retry(raw, pointer), catch=f.catch(raw, pointer, language), **common)

    def _choice(self, raw, pointer, language, common) -> State:
        r, f = self.r, self.f
        branches: list[ChoiceBranch] = []
        choices = r.sequence(raw, "Choices", pointer, required=True, what=f"Choice state {common['name']!r}")
        if choices is not None and not choices:
            r.report("ASL-E311", "Choices must hold at least one rule", child(pointer, "Choices"))
        for i, item in enumerate(choices or ()):
            bp = child(child(pointer, "Choices"), i)
            target = r.string(item, "Next", bp, required=True, what="a Choice rule") if isinstance(item, dict) else None
            condition = self._condition(item, bp, language)
            if condition is None:
                continue
            io = None
            if isinstance(item, dict) and ("Assign" in item or "Output" in item):
                io = AslIO(query_language=language, assign=f.assign(item, bp, language),
                           output=f.payload(item, "Output", bp, language) if language == JSONATA else None)
            branches.append(ChoiceBranch(condition=condition, next=target or "", asl=io, location=r.location(bp)))
        return Choice(branches=tuple(branches), default=r.string(raw, "Default", pointer), **common)

    def _condition(self, item: Any, bp: str, language: str) -> Expression | None:
        r = self.r
        if language == JSONATA:
            if not isinstance(item, dict) or not is_jsonata(item.get("Condition")):
                r.report("ASL-E402", "a JSONata Choice rule needs 'Condition': '{% … %}'", bp)
                return None
            r.check_keys(item, JSONATA_CHOICE_KEYS, bp, "a Choice rule")
            try:
                expr = compile_jsonata(item["Condition"], "Condition")
            except Exception as exc:  # noqa: BLE001 - reported, never raised
                r.report("ASL-E401", f"invalid JSONata Condition: {exc}", child(bp, "Condition"))
                return None
            return Expression(expr.source, JsonataCondition(expr.source, expr), r.location(bp))
        try:
            rule = compile_rule(item, top=True)
        except ChoiceSyntaxError as exc:
            r.report("ASL-E402", f"invalid Choice rule: {exc}", bp + exc.pointer)
            return None
        except Exception as exc:  # noqa: BLE001 - a bad path inside the rule
            r.report("ASL-E401", f"invalid path in Choice rule: {getattr(exc, 'message', exc)}", bp)
            return None
        return Expression(rule.source, rule, r.location(bp))

    def _parallel(self, raw, pointer, language, common) -> State:
        r, f = self.r, self.f
        branches: list[StateGraph] = []
        items = r.sequence(raw, "Branches", pointer, required=True, what=f"Parallel state {common['name']!r}")
        for i, item in enumerate(items or ()):
            bp = child(child(pointer, "Branches"), i)
            if not isinstance(item, dict):
                r.report("CF-E110", "a Parallel branch must be an object {StartAt, States}", bp)
                continue
            r.check_keys(item, GRAPH_KEYS, bp, "a Parallel branch")
            branches.append(self.graph(item, bp, f"branch {i} of Parallel state {common['name']!r}", language))
        return Parallel(branches=tuple(branches), retry=f.retry(raw, pointer), catch=f.catch(raw, pointer, language),
                        **common)

    def _map(self, raw, pointer, language, common) -> State:
        return self.maps.build(raw, pointer, language, common)


def parse_asl(text: str, file: str | None = None) -> tuple[StateMachine | None, list[Issue], YamlDocument]:
    """Load ``text`` (JSON or YAML, line-aware, safe) and build the model; returns the load issues too."""
    doc = load_document(text, file)
    if doc.issues and doc.data is None:
        return None, list(doc.issues), doc
    builder = AslBuilder(doc, file)
    machine = builder.build()
    if machine is not None:
        from dataclasses import replace

        machine = replace(machine, source_text=text)
    return machine, list(doc.issues) + builder.issues, doc


__all__ = ["parse_asl", "machine_name", "DIALECT"]
