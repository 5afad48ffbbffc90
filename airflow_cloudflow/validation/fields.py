"""Per-state value checks (ranges, enums, distributed-only fields) and expression variables.

Each check quotes its rule; limits and enums come from ``validate_catalogue``.
"""

from __future__ import annotations

from collections.abc import Iterator

from airflow_cloudflow.diagnostics import ERROR, WARNING, Issue
from airflow_cloudflow.model import (
    SOURCE_TYPES, ArrayTemplate, Choice, Expression, Literal, Location, Map, ObjectTemplate, Parallel, State,
    Task, Template, Wait,
)
from airflow_cloudflow.validation import catalogue as cat


def issue_at(file: str | None, loc: Location, suffix: str, code: str, message: str,
             severity: str = ERROR) -> Issue:
    """An issue at ``loc`` whose pointer is ``loc.pointer + suffix``."""
    return Issue(loc.file or file, loc.line, loc.column, code, message, severity, loc.pointer + suffix)


def expressions(template: Template | None) -> Iterator[Expression]:
    """Every expression inside a template."""
    if isinstance(template, Expression):
        yield template
    elif isinstance(template, ObjectTemplate):
        for _, value in template.fields:
            yield from expressions(value)
    elif isinstance(template, ArrayTemplate):
        for value in template.items:
            yield from expressions(value)


def template_keys(template: Template | None) -> set[str] | None:
    """Top-level keys of a mapping template (``None`` when it is not a mapping)."""
    if isinstance(template, ObjectTemplate):
        return {k for k, _ in template.fields}
    if isinstance(template, Literal) and isinstance(template.value, dict):
        return set(template.value)
    return None


class _Checker:
    def __init__(self, state: State, file: str | None):
        self.state = state
        self.file = file
        self.issues: list[Issue] = []

    def error(self, suffix: str, code: str, message: str, loc: Location | None = None) -> None:
        self.issues.append(issue_at(self.file, loc or self.state.location, suffix, code, message))

    def warn(self, suffix: str, code: str, message: str, loc: Location | None = None) -> None:
        self.issues.append(issue_at(self.file, loc or self.state.location, suffix, code, message, WARNING))

    # ------------------------------------------------------------------ expression variables

    def roots(self, template: Template | None, forbidden: set[str], where: str) -> None:
        """"``$Item`` (distributed ItemConstructor only)"; "``$Output`` is usable only inside
        OutputConstructor (and GlobalConstructor)"."""
        for expr in expressions(template):
            used = getattr(expr.compiled, "roots", frozenset())
            loc = expr.location
            if "Item" in used and "Item" in forbidden:
                self.issues.append(issue_at(self.file, loc, "", "CF-E403",
                                            f"$Item is only defined in a distributed Map's ItemConstructor, not in {where}"))
            if "Output" in used and "Output" in forbidden:
                self.issues.append(issue_at(self.file, loc, "", "CF-E404",
                                            f"$Output is only defined in OutputConstructor and GlobalConstructor, not in {where}"))

    def common(self, in_map: bool) -> None:
        s = self.state
        self.roots(s.input_constructor, {"Item", "Output"}, "InputConstructor")
        self.roots(s.output_constructor, {"Item"}, "OutputConstructor")
        self.roots(s.global_constructor, {"Item"}, "GlobalConstructor")
        if in_map and s.global_constructor is not None:
            self.warn("/GlobalConstructor", "CF-W004",
                      "GlobalConstructor inside a Map processor: iterations share $Global and overwrite each other")
        for rule in getattr(s, "catch", ()):
            self.roots(rule.output_constructor, {"Item", "Output"}, "a Catch OutputConstructor")
            if not rule.errors:
                self.error("/Errors", "CF-E317", "a Catch rule needs Errors: a non-empty list of error names", rule.location)
        for rule in getattr(s, "retry", ()):
            self.retry(rule)

    def retry(self, rule) -> None:
        loc = rule.location
        if not rule.errors:
            self.error("/Errors", "CF-E317", "a Retry rule needs Errors: a non-empty list of error names", loc)
        if not 0 <= rule.max_attempts <= cat.MAX_RETRY_ATTEMPTS:
            self.error("/MaxAttempts", "CF-E312", f"MaxAttempts must be 0-{cat.MAX_RETRY_ATTEMPTS}, got {rule.max_attempts}", loc)
        if not 0 <= rule.interval_seconds <= cat.MAX_RETRY_INTERVAL:
            self.error("/IntervalSeconds", "CF-E312",
                       f"IntervalSeconds must be 0-{cat.MAX_RETRY_INTERVAL}, got {rule.interval_seconds}", loc)
        if rule.max_backoff_seconds is not None and not 0 <= rule.max_backoff_seconds <= cat.MAX_RETRY_INTERVAL:
            self.error("/MaxBackoffSeconds", "CF-E312",
                       f"MaxBackoffSeconds must be 0-{cat.MAX_RETRY_INTERVAL}, got {rule.max_backoff_seconds}", loc)
        if not 0 < rule.backoff_rate <= cat.MAX_BACKOFF_RATE:
            self.error("/BackoffRate", "CF-E312",
                       f"BackoffRate must be > 0 and at most {cat.MAX_BACKOFF_RATE:.0f}, got {rule.backoff_rate:g}", loc)

    # ------------------------------------------------------------------ per type

    def task(self, s: Task) -> None:
        if s.action:
            service, _, operation = s.action.partition(":")
            if not service or not operation:
                self.error("/Action", "CF-E316", f"Action {s.action!r} must be '<Service>:<APIOperation>'")
            elif not cat.is_known_action(s.action):
                self.warn("/Action", "CF-W002", f"no integration for Action {s.action!r} yet; it fails at run time")
        if s.task_mode not in cat.TASK_MODES:
            self.error("/TaskMode", "CF-E315", f"TaskMode {s.task_mode!r} must be one of {', '.join(cat.TASK_MODES)}")
        low, high = cat.TASK_TIMEOUT
        if isinstance(s.timeout, Literal) and isinstance(s.timeout.value, int) and not low <= s.timeout.value <= high:
            self.error("/Timeout", "CF-E311", f"Timeout must be {low}-{high} seconds, got {s.timeout.value}")
        self.roots(s.parameters, {"Item", "Output"}, "Parameters")
        self.roots(s.timeout, {"Item", "Output"}, "Timeout.$")

    def choice(self, s: Choice) -> None:
        if not s.branches:
            self.error("", "CF-E301", f"Choice {s.name!r} needs at least one branch in Branches")
        if not s.default:
            self.error("", "CF-E302", f"Choice {s.name!r} needs a Default (required so the flow always has a transition)")
        for branch in s.branches:
            self.roots(branch.condition, {"Item", "Output"}, "a Choice Condition")

    def parallel(self, s: Parallel) -> None:
        if not s.branches or len(s.branches) > cat.MAX_PARALLEL_BRANCHES:
            self.error("/Branches", "CF-E313",
                       f"Parallel needs 1-{cat.MAX_PARALLEL_BRANCHES} branches, got {len(s.branches)}")

    def wait(self, s: Wait) -> None:
        low, high = cat.WAIT_SECONDS
        value = s.seconds.value if isinstance(s.seconds, Literal) else None
        if isinstance(value, int) and not low <= value <= high:
            self.error("/Seconds", "CF-E310", f"Seconds must be {low}-{high}, got {value}")
        self.roots(s.seconds, {"Item", "Output"}, "Seconds.$")

    def map(self, s: Map) -> None:
        if not s.distributed:
            for suffix, present in (
                ("/ItemReader", s.item_reader), ("/ItemBatcher", s.item_batcher),
                ("/ResultWriter", s.result_writer), ("/ItemConstructor", s.item_constructor),
                ("/MaxItems", s.max_items), ("/ToleratedFailurePercentage", s.tolerated_failure_percentage),
                ("/ToleratedFailureCount", s.tolerated_failure_count),
            ):
                if present is not None:
                    self.error(suffix, "CF-E303", f"{suffix[1:]} needs a distributed Map (add ProcessorConfig: "
                               "{ExecutionMode: Express|Standard})")
        elif s.execution_mode and s.execution_mode not in cat.EXECUTION_MODES:
            self.error("/ProcessorConfig/ExecutionMode", "CF-E314",
                       f"ExecutionMode {s.execution_mode!r} must be Express or Standard")
        if s.items_path is None and s.item_reader is None:
            self.error("", "CF-E304", f"Map {s.name!r} needs ItemsPath (or, when distributed, an ItemReader)")
        self.limits(s)
        if s.item_reader is not None:
            self.reader(s)
        if s.item_batcher is not None:
            batcher = s.item_batcher
            for suffix, value in (("/MaxItemsPerBatch", batcher.max_items_per_batch),
                                  ("/MaxInputBytesPerBatch", batcher.max_input_bytes_per_batch)):
                if value is not None and value <= 0:
                    self.error(suffix, "CF-E307", f"{suffix[1:]} must be > 0, got {value}", batcher.location)
            self.roots(batcher.batch_input, {"Item", "Output"}, "BatchInput")
        if s.result_writer is not None:
            self.parameters(s.result_writer.parameters, cat.RESULT_WRITER_PARAMETERS, s.result_writer.location,
                            "/Parameters", "ResultWriter Parameters")
        self.roots(s.items_path, {"Item", "Output"}, "ItemsPath")
        self.roots(s.item_constructor, {"Output"}, "ItemConstructor")

    def limits(self, s: Map) -> None:
        quota = cat.DISTRIBUTED_MAX_CONCURRENCY if s.distributed else cat.INLINE_MAX_CONCURRENCY
        if s.max_concurrency is not None:
            if s.max_concurrency < 0:
                self.error("/MaxConcurrency", "CF-E309", f"MaxConcurrency must be >= 0, got {s.max_concurrency}")
            elif s.max_concurrency > quota:
                self.warn("/MaxConcurrency", "CF-W005",
                          f"MaxConcurrency {s.max_concurrency} is above the default quota {quota}")
        if s.max_items is not None:
            if s.max_items < 0:
                self.error("/MaxItems", "CF-E309", f"MaxItems must be >= 0, got {s.max_items}")
            elif s.max_items > cat.MAX_ITEMS_QUOTA:
                self.warn("/MaxItems", "CF-W005", f"MaxItems {s.max_items} is above the default quota {cat.MAX_ITEMS_QUOTA}")
        pct = s.tolerated_failure_percentage
        if pct is not None and not 0 <= pct <= 100:
            self.error("/ToleratedFailurePercentage", "CF-E308", f"ToleratedFailurePercentage must be 0-100, got {pct}")
        if s.tolerated_failure_count is not None and s.tolerated_failure_count < 0:
            self.error("/ToleratedFailureCount", "CF-E308",
                       f"ToleratedFailureCount must be >= 0, got {s.tolerated_failure_count}")

    def reader(self, s: Map) -> None:
        reader = s.item_reader
        assert reader is not None
        if reader.source_type not in SOURCE_TYPES:
            self.error("/SourceType", "CF-E305",
                       f"SourceType {reader.source_type!r} must be one of {', '.join(SOURCE_TYPES)}", reader.location)
            return
        required, _ = cat.SOURCE_PARAMETERS[reader.source_type]
        self.parameters(reader.source_parameters, (required, ("Bucket", "ObjectName", "Prefix")), reader.location,
                        "/SourceParameters", f"SourceParameters of {reader.source_type}")

    def parameters(self, template: Template, spec, loc: Location, suffix: str, what: str) -> None:
        self.roots(template, {"Item", "Output"}, what)
        keys = template_keys(template)
        if keys is None:
            return
        required, optional = spec
        for key in required:
            if key not in keys:
                self.error(suffix, "CF-E306", f"{what} needs {key!r}", loc)
        for key in sorted(keys - set(required) - set(optional)):
            self.error(f"{suffix}/{key}", "CF-E306", f"{what}: unknown parameter {key!r}", loc)


def check_state(state: State, file: str | None, in_map: bool) -> list[Issue]:
    """Every value/expression issue of one state (not its nested scopes)."""
    checker = _Checker(state, file)
    checker.common(in_map)
    method = getattr(checker, state.type.lower(), None)
    if method is not None:
        method(state)
    return checker.issues
