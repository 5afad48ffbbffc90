"""The typed, frozen model shared by both dialects (CloudFlow FDL and ASL).

Every dialect front-end (``airflow_cloudflow.dialects``) produces these objects; the validator, the
interpreter and the Airflow planner consume them and never look at raw YAML/JSON again.

Values that may be computed at run time are *templates*:

* ``Literal``        a JSON value written as is ("Without ``.$``, the value is a literal").
* ``Expression``     an expression parsed once at load ("a key ending in ``.$`` means the value is an
                     expression"); ``compiled`` is the dialect evaluator's object with
                     ``evaluate(variables) -> Any``.
* ``ObjectTemplate`` / ``ArrayTemplate``  nested containers holding templates.

A template with no expression anywhere inside is folded into a single ``Literal`` by the front-end,
so the hot path of the interpreter only walks containers that really compute something.

Runtime values are plain JSON (dict, list, str, int, float, bool, None) and are never mutated in
place: a state builds a new dict rather than editing its input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Union


# --------------------------------------------------------------------------- locations


@dataclass(frozen=True)
class Location:
    """Where a node stands in its source: 1-based line and column, and an RFC 6901 JSON pointer."""

    file: str | None
    line: int
    column: int
    pointer: str

    def __str__(self) -> str:
        return f"{self.file or '<string>'}:{self.line}:{self.column}"


UNKNOWN_LOCATION = Location(None, 0, 0, "")


# --------------------------------------------------------------------------- templates


class CompiledExpression(Protocol):
    """What a dialect's expression compiler returns (parsed once, evaluated many times)."""

    source: str

    def evaluate(self, variables: dict[str, Any]) -> Any:  # pragma: no cover - protocol
        ...


@dataclass(frozen=True)
class Literal:
    """A JSON value taken as written."""

    value: Any


@dataclass(frozen=True)
class Expression:
    """An expression in the dialect's language, compiled at load time."""

    source: str
    compiled: CompiledExpression = field(compare=False, repr=False)
    location: Location = field(default=UNKNOWN_LOCATION, compare=False, repr=False)


@dataclass(frozen=True)
class ObjectTemplate:
    """A JSON object some of whose values are computed; ``fields`` keep the source order.

    Keys are stored with the ``.$`` suffix already stripped ("The suffix is stripped from the
    resulting key").
    """

    fields: tuple[tuple[str, "Template"], ...]


@dataclass(frozen=True)
class ArrayTemplate:
    """A JSON array some of whose elements are computed."""

    items: tuple["Template", ...]


Template = Union[Literal, Expression, ObjectTemplate, ArrayTemplate]


# --------------------------------------------------------------------------- error handling


ALL_ERRORS = "FnF.ALL"
"""CloudFlow's wildcard in Retry/Catch ``Errors`` ("``FnF.ALL`` matches everything")."""


@dataclass(frozen=True, kw_only=True)
class RetryRule:
    """One ``Retry`` entry: retry *n* (1-based) waits
    ``min(IntervalSeconds * BackoffRate**(n-1), MaxBackoffSeconds)``; ``MaxAttempts`` counts retries."""

    errors: tuple[str, ...]
    max_attempts: int
    interval_seconds: float
    backoff_rate: float = 1.0
    max_backoff_seconds: float | None = None  # ASL: MaxDelaySeconds
    description: str | None = None
    jitter_strategy: str | None = None  # ASL: "FULL" | "NONE" (None: no jitter)
    location: Location = field(default=UNKNOWN_LOCATION, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class CatchRule:
    """One ``Catch`` entry; its OutputConstructor "builds the input of the Catch's ``Next`` state"."""

    errors: tuple[str, ...]
    next: str
    output_constructor: Template | None = None
    description: str | None = None
    asl: "AslIO | None" = None  # ASL: the catcher's ResultPath (JSONPath) or Output/Assign (JSONata)
    location: Location = field(default=UNKNOWN_LOCATION, compare=False, repr=False)


# --------------------------------------------------------------------------- ASL processing


@dataclass(frozen=True, kw_only=True)
class AslIO:
    """ASL input/output processing of one state (or one Catch rule, or one JSONata Choice rule).

    JSONPath: "InputPath selects part of the raw input; ResultPath places the result inside the
    *raw* state input; OutputPath selects the part passed on" (asl-distributed-map.md §2.8), with
    ``Parameters`` and ``ResultSelector`` payload templates between them. JSONata: "``Output``
    replaces ``ResultSelector``, ``ResultPath`` and ``OutputPath``. ``Assign`` sets variables"
    (§2.10). A path field is ``None`` when absent (``$``), ``Literal(None)`` when written ``null``,
    else an ``Expression`` holding the compiled path. The interpreter applies the record whenever a
    state carries one (``State.asl``), whatever the dialect of the file.
    """

    query_language: str = "JSONPath"  # "JSONPath" | "JSONata"
    input_path: "Template | None" = None
    parameters: "Template | None" = None  # Parameters (JSONPath) / Arguments (JSONata)
    result: "Template | None" = None  # Pass "Result"
    result_selector: "Template | None" = None
    result_path: "Template | None" = None
    output_path: "Template | None" = None
    output: "Template | None" = None  # JSONata Output
    assign: "Template | None" = None  # Assign (both languages)

    @property
    def jsonata(self) -> bool:
        return self.query_language == "JSONata"


@dataclass(frozen=True, kw_only=True)
class DynamicValue:
    """A Map/ItemReader/ItemBatcher number given as a literal, a ``*Path`` reference path or a
    JSONata expression; ``field`` names the written field (``MaxConcurrencyPath``…) for the causes
    AWS records ("The MaxConcurrencyPath field refers to value "NoNumber" which is not a valid
    integer: $.X")."""

    field: str
    template: "Template"
    kind: str = "literal"  # "literal" | "path" | "jsonata"


# --------------------------------------------------------------------------- states


@dataclass(frozen=True, kw_only=True)
class State:
    """Fields common to every state type."""

    name: str
    description: str | None = None
    input_constructor: Template | None = None
    output_constructor: Template | None = None
    global_constructor: Template | None = None
    next: str | None = None
    end: bool = False
    asl: AslIO | None = None  # ASL I/O processing (InputPath … Assign); None for CloudFlow states
    location: Location = field(default=UNKNOWN_LOCATION, compare=False, repr=False)

    type = "State"  # overridden by every subclass (a class attribute, not a field)

    @property
    def successors(self) -> tuple[str, ...]:
        """Names this state may hand control to, in its own scope (Next, branch targets, catchers)."""
        out: list[str] = []
        if self.next:
            out.append(self.next)
        for rule in getattr(self, "catch", ()):
            out.append(rule.next)
        return tuple(out)

    @property
    def is_terminal(self) -> bool:
        """True when reaching this state ends its scope."""
        return self.end or isinstance(self, (Succeed, Fail))


@dataclass(frozen=True, kw_only=True)
class Pass(State):
    """"Forwards its input to its output without doing any work.\""""

    type = "Pass"


@dataclass(frozen=True, kw_only=True)
class Task(State):
    """Calls ``Action`` (``<Service>:<APIOperation>``) through the integrations registry."""

    type = "Task"
    action: str
    task_mode: str = "RequestComplete"
    parameters: Template | None = None
    timeout: Template | None = None  # seconds; "0 means never time out"
    heartbeat: Template | None = None  # ASL HeartbeatSeconds(Path): enforced for .waitForTaskToken Tasks
    retry: tuple[RetryRule, ...] = ()
    catch: tuple[CatchRule, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ChoiceBranch:
    """``{Condition, Next}``: "Branch conditions are evaluated in order. The first one that
    evaluates to true wins.\""""

    condition: Expression
    next: str
    asl: AslIO | None = None  # ASL JSONata rule: its Assign / Output
    location: Location = field(default=UNKNOWN_LOCATION, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class Choice(State):
    """"Choice has NO state-level Next or End"; ``Default`` plays that role."""

    type = "Choice"
    branches: tuple[ChoiceBranch, ...] = ()
    default: str | None = None

    @property
    def successors(self) -> tuple[str, ...]:
        out = [b.next for b in self.branches]
        if self.default:
            out.append(self.default)
        return tuple(out)


@dataclass(frozen=True, kw_only=True)
class StateGraph:
    """A scope: the top level, one Parallel branch, or a Map Processor ("``End: true`` ends the
    current scope")."""

    start_at: str
    states: tuple[State, ...]
    location: Location = field(default=UNKNOWN_LOCATION, compare=False, repr=False)

    def __post_init__(self) -> None:
        index: dict[str, State] = {}
        for state in self.states:
            index.setdefault(state.name, state)  # first one wins; duplicates are a validation error
        object.__setattr__(self, "_index", index)

    def get(self, name: str) -> State | None:
        return self._index.get(name)  # type: ignore[attr-defined]

    def __getitem__(self, name: str) -> State:
        return self._index[name]  # type: ignore[attr-defined]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states)


@dataclass(frozen=True, kw_only=True)
class Parallel(State):
    """"The combined output is a map keyed ``Branch<Index>``.\""""

    type = "Parallel"
    branches: tuple[StateGraph, ...] = ()
    retry: tuple[RetryRule, ...] = ()
    catch: tuple[CatchRule, ...] = ()


# ---- distributed Map parts


SOURCE_TYPES = ("OSS_CSV", "OSS_JSON_LIST", "OSS_OBJECTS", "OSS_INVENTORY_FILES")


@dataclass(frozen=True, kw_only=True)
class ItemReader:
    """Reads items from object storage. ``source_parameters`` evaluates (against the Map's input)
    to ``{Bucket, ObjectName?, Prefix?}``; ``csv_headers`` is ``ReaderConfig.CSVHeaders``."""

    source_type: str
    source_parameters: Template
    csv_headers: tuple[str, ...] | None = None
    resource: str | None = None  # ASL: arn:aws:states:::s3:getObject | s3:listObjectsV2
    reader_config: Template | None = None  # ASL ReaderConfig (MaxItems excluded)
    max_items: DynamicValue | None = None  # ASL ReaderConfig MaxItems / MaxItemsPath
    location: Location = field(default=UNKNOWN_LOCATION, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class ItemBatcher:
    """Groups items: a batch's size is the compact JSON length of
    ``{"BatchInput": <BatchInput|null>, "Items": [...]}`` (conformance rule 3)."""

    max_items_per_batch: int | None = None
    max_input_bytes_per_batch: int | None = None
    batch_input: Template | None = None
    max_items_per_batch_value: DynamicValue | None = None  # ASL MaxItemsPerBatch(Path) / JSONata
    max_input_bytes_per_batch_value: DynamicValue | None = None
    location: Location = field(default=UNKNOWN_LOCATION, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class ResultWriter:
    """``ResultWriter.Parameters``: evaluates to ``{Bucket, Prefix}``."""

    parameters: Template
    resource: str | None = None  # ASL: arn:aws:states:::s3:putObject
    writer_config: Any = None  # ASL WriterConfig {OutputType, Transformation}
    location: Location = field(default=UNKNOWN_LOCATION, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class AslMapConfig:
    """The ASL Map fields the CloudFlow model has no slot for: ``Label``, ``ExecutionType``, JSONata
    ``Items``, and the limits that may be ``*Path`` or JSONata values."""

    label: str | None = None
    execution_type: str | None = None
    items: Template | None = None  # JSONata Items
    max_concurrency: DynamicValue | None = None
    tolerated_failure_count: DynamicValue | None = None
    tolerated_failure_percentage: DynamicValue | None = None


@dataclass(frozen=True, kw_only=True)
class Map(State):
    """Inline Map, or distributed Map when ``execution_mode`` is set (``ProcessorConfig``)."""

    type = "Map"
    processor: StateGraph
    items_path: Expression | None = None
    execution_mode: str | None = None  # ProcessorConfig.ExecutionMode: Express | Standard
    item_reader: ItemReader | None = None
    item_constructor: Template | None = None
    item_batcher: ItemBatcher | None = None
    result_writer: ResultWriter | None = None
    max_concurrency: int | None = None
    max_items: int | None = None
    tolerated_failure_percentage: float | None = None
    tolerated_failure_count: int | None = None
    asl_map: AslMapConfig | None = None
    retry: tuple[RetryRule, ...] = ()
    catch: tuple[CatchRule, ...] = ()

    @property
    def distributed(self) -> bool:
        """"The presence of ``ProcessorConfig`` is what marks a Map as distributed.\""""
        return self.execution_mode is not None


@dataclass(frozen=True, kw_only=True)
class Wait(State):
    """Waits ``Seconds`` (a literal or ``Seconds.$``)."""

    type = "Wait"
    seconds: Template
    timestamp: Template | None = None  # ASL Timestamp / TimestampPath (RFC 3339)


@dataclass(frozen=True, kw_only=True)
class Succeed(State):
    """"Acts like ``return``": ends its own scope successfully."""

    type = "Succeed"


@dataclass(frozen=True, kw_only=True)
class Fail(State):
    """"Acts like ``raise``": the flow ends with ``Code``/``Detail``."""

    type = "Fail"
    code: str | None = None
    detail: str | None = None
    code_template: Template | None = None  # ASL ErrorPath / JSONata Error
    detail_template: Template | None = None  # ASL CausePath / JSONata Cause


STATE_TYPES: dict[str, type[State]] = {
    cls.type: cls for cls in (Pass, Task, Choice, Parallel, Map, Wait, Succeed, Fail)
}


# --------------------------------------------------------------------------- the machine


@dataclass(frozen=True, kw_only=True)
class StateMachine:
    """One flow definition."""

    name: str
    graph: StateGraph
    dialect: str = "cloudflow"  # "cloudflow" | "asl"
    description: str | None = None
    spec_version: str | None = None
    timeout_seconds: int | None = None
    source_file: str | None = None
    source_text: str | None = field(default=None, compare=False, repr=False)
    dag_id: str | None = None
    """The DAG's id when it is not the one derived from ``name`` (a sidecar ``dag_id:``, or the
    loader's path-derived id for colliding file names; docs/loader.md "DAG ids")."""

    @property
    def start_at(self) -> str:
        return self.graph.start_at

    @property
    def states(self) -> tuple[State, ...]:
        return self.graph.states


def iter_scopes(graph: StateGraph, path: tuple[str, ...] = ()):
    """Yield ``(path, graph)`` for a scope and every nested scope (Parallel branches, processors)."""
    yield path, graph
    for state in graph.states:
        if isinstance(state, Parallel):
            for i, branch in enumerate(state.branches):
                yield from iter_scopes(branch, path + (state.name, f"Branch{i}"))
        elif isinstance(state, Map):
            yield from iter_scopes(state.processor, path + (state.name, "Processor"))
