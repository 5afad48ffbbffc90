"""CloudFlow FDL (``Type: StateMachine``, ``SpecVersion: v1``, ``States`` as a list) → the model.

Building never stops at the first problem: every field is type-checked and every issue recorded;
a state that cannot be built faithfully becomes a placeholder so the graph checks that follow do
not cascade. Semantic checks (graph, ranges) live in ``airflow_cloudflow.validation.graph``.
"""

from __future__ import annotations

from typing import Any

from ..diagnostics import Issue
from ..model import (
    Choice, ChoiceBranch, CatchRule, Fail, ItemBatcher, ItemReader, Literal, Map, Parallel, Pass,
    ResultWriter, RetryRule, State, StateGraph, StateMachine, Succeed, Task, Wait,
)
from .fields import FieldReader, child, warn
from .yaml_nodes import YamlDocument, load_yaml

DIALECT = "cloudflow"

TOP_KEYS = ("Type", "Name", "SpecVersion", "Description", "StartAt", "States", "Timeout")
_BASE = ("Type", "Name", "Description", "InputConstructor", "OutputConstructor", "GlobalConstructor")
_FLOW = ("Next", "End")
_ERRORS = ("Retry", "Catch")
STATE_KEYS: dict[str, tuple[str, ...]] = {
    "Pass": _BASE + _FLOW,
    "Task": _BASE + _FLOW + _ERRORS + ("Action", "TaskMode", "Parameters", "Timeout", "Timeout.$"),
    "Choice": _BASE + ("Branches", "Default"),
    "Parallel": _BASE + _FLOW + _ERRORS + ("Branches",),
    "Map": _BASE + _FLOW + _ERRORS + (
        "ItemsPath", "Processor", "ProcessorConfig", "ItemReader", "ItemConstructor", "ItemBatcher",
        "ResultWriter", "MaxConcurrency", "MaxConcuccency", "MaxItems", "ToleratedFailurePercentage",
        "ToleratedFailureCount",
    ),
    "Wait": _BASE + _FLOW + ("Seconds", "Seconds.$"),
    "Succeed": _BASE + ("End",),
    "Fail": _BASE + ("End", "Code", "Detail"),
}
_KEY_HINTS = {
    "Choice": {"Next": "; Choice has no Next: use Default", "End": "; Choice has no End: use Default"},
    "Succeed": {"Next": "; Succeed ends its scope and has no Next"},
    "Fail": {"Next": "; Fail ends the flow and has no Next"},
}
for _t in ("Pass", "Wait", "Choice", "Succeed", "Fail"):
    _KEY_HINTS.setdefault(_t, {}).update({k: f"; {k} is allowed only on Task, Parallel and Map" for k in _ERRORS})

GRAPH_KEYS = ("StartAt", "States")
RETRY_KEYS = ("Errors", "Description", "MaxAttempts", "IntervalSeconds", "BackoffRate", "MaxBackoffSeconds")
CATCH_KEYS = ("Errors", "Description", "Next", "OutputConstructor")
READER_KEYS = ("SourceType", "SourceParameters", "ReaderConfig")
BATCHER_KEYS = ("MaxItemsPerBatch", "MaxInputBytesPerBatch", "BatchInput")
CHOICE_BRANCH_KEYS = ("Condition", "Next")
PROCESSOR_CONFIG_KEYS = ("ExecutionMode",)
READER_CONFIG_KEYS = ("CSVHeaders",)
WRITER_KEYS = ("Parameters",)


class CloudFlowBuilder:
    """Builds one ``StateMachine`` from a converted document, collecting issues in ``reader``."""

    def __init__(self, doc: YamlDocument, file: str | None):
        self.doc = doc
        self.file = file
        self.r = FieldReader(doc, file)

    @property
    def issues(self) -> list[Issue]:
        return self.r.issues

    # ------------------------------------------------------------------ top level

    def build(self) -> StateMachine | None:
        raw, r = self.doc.data, self.r
        if not isinstance(raw, dict):
            r.report("CF-E110", "a flow definition must be a mapping (Type, Name, SpecVersion, StartAt, States)", "")
            return None
        if "steps" in raw or "version" in raw:
            r.report("CF-E116", "this looks like the legacy FnF spec (version/steps); only "
                     "'Type: StateMachine' / 'SpecVersion: v1' definitions are supported", "")
            return None
        r.check_keys(raw, TOP_KEYS, "", "the flow")
        kind = r.string(raw, "Type", "", required=True, what="the flow")
        if kind is not None and kind != "StateMachine":
            r.report("CF-E113", f"flow Type must be 'StateMachine', got {kind!r}", "/Type")
        name = r.string(raw, "Name", "", required=True, what="the flow")
        version = r.string(raw, "SpecVersion", "", required=True, what="the flow")
        if version is not None and version != "v1":
            r.report("CF-E115", f"unsupported SpecVersion {version!r} (expected 'v1')", "/SpecVersion")
        timeout = r.integer(raw, "Timeout", "", numeric_string=True)
        return StateMachine(
            name=name or "",
            graph=self.graph(raw, "", "the flow"),
            dialect=DIALECT,
            description=r.string(raw, "Description", ""),
            spec_version=version,
            timeout_seconds=timeout,
            source_file=self.file,
        )

    def graph(self, raw: dict[str, Any], pointer: str, what: str) -> StateGraph:
        """A scope: ``StartAt`` plus the ``States`` list."""
        r = self.r
        start_at = r.string(raw, "StartAt", pointer, required=True, what=what)
        states_raw = raw.get("States")
        states: list[State] = []
        if "States" not in raw:
            r.report("CF-E111", f"{what} is missing required field 'States'", pointer)
        elif isinstance(states_raw, dict):
            r.report("CF-E110", "'States' must be a list of states (CloudFlow), not a mapping", child(pointer, "States"))
        elif not isinstance(states_raw, list) or not states_raw:
            r.report("CF-E110", "'States' must be a non-empty list of states", child(pointer, "States"))
        else:
            for i, item in enumerate(states_raw):
                state = self.state(item, child(child(pointer, "States"), i))
                if state is not None:
                    states.append(state)
        return StateGraph(start_at=start_at or "", states=tuple(states), location=r.location(pointer))

    # ------------------------------------------------------------------ states

    def state(self, raw: Any, pointer: str) -> State | None:
        r = self.r
        if not isinstance(raw, dict):
            r.report("CF-E110", "a state must be a mapping with at least Name and Type", pointer)
            return None
        name = r.string(raw, "Name", pointer, required=True, what="a state")
        kind = r.string(raw, "Type", pointer, required=True, what=f"state {name!r}" if name else "a state")
        what = f"{kind or 'a'} state {name!r}" if name else f"{kind or 'a'} state"
        allowed = STATE_KEYS.get(kind or "")
        if kind is not None and allowed is None:
            from difflib import get_close_matches

            close = get_close_matches(kind, list(STATE_KEYS), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f" (expected one of {', '.join(STATE_KEYS)})"
            r.report("CF-E114", f"unknown state Type {kind!r}{hint}", child(pointer, "Type"))
        if allowed is None:  # placeholder keeps the name so references to it do not cascade
            nxt = raw.get("Next") if isinstance(raw.get("Next"), str) else None
            return Pass(name=name or "", next=nxt, end=nxt is None, location=r.location(pointer))
        r.check_keys(raw, allowed, pointer, what, _KEY_HINTS.get(kind))
        common: dict[str, Any] = dict(
            name=name or "",
            description=r.string(raw, "Description", pointer),
            input_constructor=r.constructor(raw, "InputConstructor", pointer),
            output_constructor=r.constructor(raw, "OutputConstructor", pointer),
            global_constructor=r.constructor(raw, "GlobalConstructor", pointer),
            location=r.location(pointer),
        )
        if kind not in ("Choice",):
            end = r.boolean(raw, "End", pointer)
            if kind not in ("Succeed", "Fail"):
                common["next"] = r.string(raw, "Next", pointer)
                # a malformed End (already reported) counts as written, so CF-E205 does not cascade
                common["end"] = bool(end) if end is not None else ("End" in raw and "Next" not in raw)
        return getattr(self, f"_{kind.lower()}")(raw, pointer, what, common)

    def _pass(self, raw, pointer, what, common) -> State:
        return Pass(**common)

    def _succeed(self, raw, pointer, what, common) -> State:
        return Succeed(**common)

    def _fail(self, raw, pointer, what, common) -> State:
        # "Detail" is required by the tables but the docs' own example omits it: accepted silently.
        return Fail(code=self.r.string(raw, "Code", pointer), detail=self.r.string(raw, "Detail", pointer), **common)

    def _wait(self, raw, pointer, what, common) -> State:
        r = self.r
        seconds = r.dynamic_scalar(raw, "Seconds", pointer, r.integer)
        if seconds is None and "Seconds" not in raw and "Seconds.$" not in raw:
            r.report("CF-E111", f"{what} is missing required field 'Seconds' (or 'Seconds.$')", pointer)
        return Wait(seconds=seconds or Literal(None), **common)

    def _task(self, raw, pointer, what, common) -> State:
        r = self.r
        timeout = r.dynamic_scalar(raw, "Timeout", pointer,
                                   lambda d, k, p: r.integer(d, k, p, numeric_string=True))
        return Task(
            action=r.string(raw, "Action", pointer, required=True, what=what) or "",
            task_mode=r.string(raw, "TaskMode", pointer) or "RequestComplete",
            parameters=r.constructor(raw, "Parameters", pointer),
            timeout=timeout,
            retry=self.retry_rules(raw, pointer),
            catch=self.catch_rules(raw, pointer),
            **common,
        )

    def _choice(self, raw, pointer, what, common) -> State:
        r = self.r
        branches: list[ChoiceBranch] = []
        for i, item in enumerate(r.sequence(raw, "Branches", pointer) or ()):
            bp = child(child(pointer, "Branches"), i)
            if not isinstance(item, dict):
                r.report("CF-E110", "a Choice branch must be a mapping {Condition, Next}", bp)
                continue
            r.check_keys(item, CHOICE_BRANCH_KEYS, bp, "a Choice branch")
            source = r.string(item, "Condition", bp, required=True, what="a Choice branch")
            target = r.string(item, "Next", bp, required=True, what="a Choice branch")
            if source is not None and target is not None:
                condition = r.expression(source, child(bp, "Condition"))
                branches.append(ChoiceBranch(condition=condition, next=target, location=r.location(bp)))
        # Default is required ("so the flow always has a valid transition"); checked in validate.
        return Choice(branches=tuple(branches), default=r.string(raw, "Default", pointer), **common)

    def _parallel(self, raw, pointer, what, common) -> State:
        r = self.r
        branches: list[StateGraph] = []
        for i, item in enumerate(r.sequence(raw, "Branches", pointer) or ()):
            bp = child(child(pointer, "Branches"), i)
            if not isinstance(item, dict):
                r.report("CF-E110", "a Parallel branch must be a mapping {StartAt, States}", bp)
                continue
            r.check_keys(item, GRAPH_KEYS, bp, "a Parallel branch")
            branches.append(self.graph(item, bp, f"branch {i} of {what}"))
        return Parallel(branches=tuple(branches), retry=self.retry_rules(raw, pointer),
                        catch=self.catch_rules(raw, pointer), **common)

    def _map(self, raw, pointer, what, common) -> State:
        r = self.r
        proc_raw = r.mapping(raw, "Processor", pointer, required=True, what=what)
        if proc_raw is not None:
            r.check_keys(proc_raw, GRAPH_KEYS, child(pointer, "Processor"), "a Map Processor")
            processor = self.graph(proc_raw, child(pointer, "Processor"), f"the Processor of {what}")
        else:
            processor = StateGraph(start_at="", states=(), location=r.location(pointer))
        mode = None
        config = r.mapping(raw, "ProcessorConfig", pointer)
        if config is not None:
            cp = child(pointer, "ProcessorConfig")
            r.check_keys(config, PROCESSOR_CONFIG_KEYS, cp, "ProcessorConfig")
            mode = r.string(config, "ExecutionMode", cp, required=True, what="ProcessorConfig") or ""
        elif "ProcessorConfig" in raw:
            mode = ""  # present but malformed: still a distributed Map
        items_path = None
        source = r.string(raw, "ItemsPath", pointer)
        if source is not None:
            items_path = r.expression(source, child(pointer, "ItemsPath"))
        concurrency = r.integer(raw, "MaxConcurrency", pointer)
        if "MaxConcuccency" in raw:
            warn(r, "CF-W003", "'MaxConcuccency' is the docs' misspelling of 'MaxConcurrency'; accepted",
                 child(pointer, "MaxConcuccency"))
            if "MaxConcurrency" in raw:
                r.report("CF-E120", "give either 'MaxConcurrency' or 'MaxConcuccency', not both",
                         child(pointer, "MaxConcuccency"))
            else:
                concurrency = r.integer(raw, "MaxConcuccency", pointer)
        return Map(
            processor=processor,
            items_path=items_path,
            execution_mode=mode,
            item_reader=self.item_reader(raw, pointer),
            item_constructor=r.constructor(raw, "ItemConstructor", pointer),
            item_batcher=self.item_batcher(raw, pointer),
            result_writer=self.result_writer(raw, pointer),
            max_concurrency=concurrency,
            max_items=r.integer(raw, "MaxItems", pointer),
            tolerated_failure_percentage=r.number(raw, "ToleratedFailurePercentage", pointer),
            tolerated_failure_count=r.integer(raw, "ToleratedFailureCount", pointer),
            retry=self.retry_rules(raw, pointer),
            catch=self.catch_rules(raw, pointer),
            **common,
        )

    # ------------------------------------------------------------------ distributed Map parts

    def item_reader(self, raw, pointer) -> ItemReader | None:
        r = self.r
        reader = r.mapping(raw, "ItemReader", pointer)
        if reader is None:
            return None
        rp = child(pointer, "ItemReader")
        r.check_keys(reader, READER_KEYS, rp, "ItemReader")
        source_type = r.string(reader, "SourceType", rp, required=True, what="ItemReader")
        params = r.constructor(reader, "SourceParameters", rp)
        headers = None
        config = r.mapping(reader, "ReaderConfig", rp)
        if config is not None:
            cp = child(rp, "ReaderConfig")
            r.check_keys(config, READER_CONFIG_KEYS, cp, "ReaderConfig")
            value = config.get("CSVHeaders")
            if isinstance(value, str):  # the seed table's example is "ColA,ColB,ColC"
                headers = tuple(h.strip() for h in value.split(","))
            elif "CSVHeaders" in config:
                headers = r.string_list(config, "CSVHeaders", cp)
        if source_type is None:
            return None
        return ItemReader(source_type=source_type, source_parameters=params or Literal({}),
                          csv_headers=headers, location=r.location(rp))

    def item_batcher(self, raw, pointer) -> ItemBatcher | None:
        r = self.r
        batcher = r.mapping(raw, "ItemBatcher", pointer)
        if batcher is None:
            return None
        bp = child(pointer, "ItemBatcher")
        r.check_keys(batcher, BATCHER_KEYS, bp, "ItemBatcher")
        return ItemBatcher(
            max_items_per_batch=r.integer(batcher, "MaxItemsPerBatch", bp),
            max_input_bytes_per_batch=r.integer(batcher, "MaxInputBytesPerBatch", bp),
            batch_input=r.constructor(batcher, "BatchInput", bp),
            location=r.location(bp),
        )

    def result_writer(self, raw, pointer) -> ResultWriter | None:
        r = self.r
        writer = r.mapping(raw, "ResultWriter", pointer)
        if writer is None:
            return None
        wp = child(pointer, "ResultWriter")
        r.check_keys(writer, WRITER_KEYS, wp, "ResultWriter")
        params = r.constructor(writer, "Parameters", wp, required=True, what="ResultWriter")
        return None if params is None else ResultWriter(parameters=params, location=r.location(wp))

    # ------------------------------------------------------------------ error handling

    def _rules(self, raw, pointer, key: str):
        for i, item in enumerate(self.r.sequence(raw, key, pointer) or ()):
            rp = child(child(pointer, key), i)
            if not isinstance(item, dict):
                self.r.report("CF-E110", f"a {key} rule must be a mapping", rp)
                continue
            yield item, rp

    def retry_rules(self, raw, pointer) -> tuple[RetryRule, ...]:
        r = self.r
        rules = []
        for item, rp in self._rules(raw, pointer, "Retry"):
            r.check_keys(item, RETRY_KEYS, rp, "a Retry rule")
            errors = r.string_list(item, "Errors", rp)  # missing or empty: CF-E317 in validate
            attempts = r.integer(item, "MaxAttempts", rp, required=True, what="a Retry rule")
            interval = r.number(item, "IntervalSeconds", rp, required=True, what="a Retry rule")
            rate = r.number(item, "BackoffRate", rp)
            rules.append(RetryRule(
                errors=errors or (), max_attempts=attempts or 0, interval_seconds=interval or 0,
                backoff_rate=1.0 if rate is None else rate,
                max_backoff_seconds=r.number(item, "MaxBackoffSeconds", rp),
                description=r.string(item, "Description", rp), location=r.location(rp),
            ))
        return tuple(rules)

    def catch_rules(self, raw, pointer) -> tuple[CatchRule, ...]:
        r = self.r
        rules = []
        for item, rp in self._rules(raw, pointer, "Catch"):
            r.check_keys(item, CATCH_KEYS, rp, "a Catch rule")
            errors = r.string_list(item, "Errors", rp)  # missing or empty: CF-E317 in validate
            target = r.string(item, "Next", rp, required=True, what="a Catch rule")
            constructor = r.constructor(item, "OutputConstructor", rp)
            if target is None:
                continue
            rules.append(CatchRule(errors=errors or (), next=target, output_constructor=constructor,
                                   description=r.string(item, "Description", rp), location=r.location(rp)))
        return tuple(rules)


def parse_cloudflow(text: str, file: str | None = None) -> tuple[StateMachine | None, list[Issue], YamlDocument]:
    """Load ``text`` (line-aware, safe) and build the model; returns the load issues too."""
    doc = load_yaml(text, file)
    if doc.issues and doc.data is None:
        return None, list(doc.issues), doc
    builder = CloudFlowBuilder(doc, file)
    machine = builder.build()
    if machine is not None:
        machine = _with_text(machine, text)
    return machine, list(doc.issues) + builder.issues, doc


def _with_text(machine: StateMachine, text: str) -> StateMachine:
    from dataclasses import replace

    return replace(machine, source_text=text)
