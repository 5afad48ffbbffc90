"""The one catalogue of issue codes, the limits they enforce and the known Task actions.

``docs/validation.md`` mirrors ``CODES``; a test keeps the two in step.
"""

from __future__ import annotations

CODES: dict[str, str] = {
    # structure / YAML
    "CF-E100": "YAML syntax error (reported at the parser's position)",
    "CF-E101": "duplicate key in a mapping",
    "CF-E102": "document expands to too many nodes (alias bomb)",
    "CF-E103": "unsupported YAML construct (custom tag, non-scalar key, bad merge key)",
    "CF-E105": "file cannot be read",
    "CF-E106": "a number JSON cannot carry (NaN, Infinity, an integer over 4,300 digits, beyond a double, nested over 200 deep)",
    "CF-E110": "wrong type (not a mapping / list / string / integer / number / boolean as required)",
    "CF-E111": "missing required field",
    "CF-E112": "unknown field (likely a typo; with a 'did you mean' hint)",
    "CF-E113": "flow Type is not 'StateMachine'",
    "CF-E114": "unknown state Type",
    "CF-E115": "unsupported SpecVersion (only 'v1')",
    "CF-E116": "legacy FnF spec (version/steps) is not supported",
    "CF-E117": "no dialect registered for this kind of file",
    "CF-E120": "a field is given twice (literal and '.$' form, or both spellings)",
    "CF-E130": "unresolved ${…} definition substitution (no value in definition_substitutions or --substitutions)",
    # references / graph
    "CF-E200": "duplicate state name in a scope",
    "CF-E201": "StartAt names no state of its scope",
    "CF-E202": "Next / Default / branch Next / Catch Next names an unknown state",
    "CF-E203": "Next / Default / branch Next / Catch Next names a state of another scope",
    "CF-E204": "both Next and End",
    "CF-E205": "neither Next nor End",
    "CF-E206": "no terminal state is reachable from StartAt (the scope can never end)",
    # fields / values
    "CF-E300": "flow Name does not match [A-Za-z_][A-Za-z0-9_-]{0,127}",
    "CF-E301": "Choice without Branches",
    "CF-E302": "Choice without Default",
    "CF-E303": "distributed-only field on an inline Map (no ProcessorConfig)",
    "CF-E304": "Map without ItemsPath and without ItemReader",
    "CF-E305": "unknown ItemReader SourceType",
    "CF-E306": "SourceParameters / ResultWriter Parameters miss a field the source needs, or has an unknown one",
    "CF-E307": "ItemBatcher limit is zero or negative",
    "CF-E308": "ToleratedFailurePercentage outside 0-100 or ToleratedFailureCount negative",
    "CF-E309": "MaxConcurrency or MaxItems negative",
    "CF-E310": "Wait Seconds outside 1-300",
    "CF-E311": "Task Timeout outside 0-604800, or flow Timeout outside 0-31536000 (one year)",
    "CF-E312": "Retry value out of range (MaxAttempts outside 0-99999999, intervals outside 0-86400, BackoffRate outside (0, 99999999])",
    "CF-E313": "Parallel without branches or with more than 50",
    "CF-E314": "ProcessorConfig ExecutionMode is not Express or Standard",
    "CF-E315": "TaskMode is not RequestComplete, WaitForSystemCallback or WaitForCustomCallback",
    "CF-E316": "Task Action is not '<Service>:<APIOperation>'",
    "CF-E317": "Retry/Catch Errors is empty",
    # expressions
    "CF-E401": "expression syntax error (reported at the column inside the value)",
    "CF-E402": "a '.$' value is not an expression string",
    "CF-E403": "$Item used outside a distributed Map's ItemConstructor",
    "CF-E404": "$Output used outside an OutputConstructor / GlobalConstructor",
    # warnings
    "CF-W001": "state is unreachable from StartAt",
    "CF-W002": "Task Action has no integration yet",
    "CF-W003": "'MaxConcuccency' (the docs' misspelling) accepted as MaxConcurrency",
    "CF-W004": "GlobalConstructor inside a Map processor (iterations overwrite each other)",
    "CF-W005": "value above the documented default quota (MaxConcurrency, MaxItems)",
}

FLOW_NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_-]{0,127}"
""""[A-Za-z0-9_-], first character a letter or _, 1-128 characters" (flows and executions)."""

KNOWN_ACTIONS: frozenset[str] = frozenset({
    "FC:InvokeFunction", "HTTP:Request", "FNF:StartExecution",
    "OSS:GetObject", "OSS:PutObject", "OSS:CopyObject", "OSS:HeadObject", "OSS:ListObjects",
    "Python:Call", "Airflow:Operator",  # Airflow-native extensions (docs/integrations.md)
})
"""The CloudFlow Actions with an integration (``integrations.catalogue``; a test keeps the two
equal). Any other Action — MNS, EventBridge, plain OpenAPI calls — gets the ``CF-W002`` warning
and fails at run time with ``FnF.ActionNotSupported`` naming it."""
KNOWN_ACTION_SERVICES: frozenset[str] = frozenset()

TASK_MODES = ("RequestComplete", "WaitForSystemCallback", "WaitForCustomCallback")
EXECUTION_MODES = ("Express", "Standard")

MAX_PARALLEL_BRANCHES = 50
WAIT_SECONDS = (1, 300)  # Standard; Express allows 1-20
TASK_TIMEOUT = (0, 604800)
MAX_RETRY_INTERVAL = 86400
MAX_FLOW_TIMEOUT = 31_536_000  # one year: the Standard mode's execution cap (Express: 5 minutes)
MAX_RETRY_ATTEMPTS = 99_999_999  # [INFERRED] AWS's MaxAttempts maximum; CloudFlow documents none
MAX_BACKOFF_RATE = 99_999_999.0  # [INFERRED] no documented maximum; a finite, bounded multiplier
ASL_MAX_SECONDS = 99_999_999  # AWS: TimeoutSeconds, HeartbeatSeconds, Wait Seconds, IntervalSeconds, MaxAttempts
ASL_MAX_DELAY_SECONDS = 31_622_400  # AWS: MaxDelaySeconds "must be greater than 0 and less than 31622401"
INLINE_MAX_CONCURRENCY = 40
DISTRIBUTED_MAX_CONCURRENCY = 300  # the seed's quota table (the language notes say 100)
MAX_ITEMS_QUOTA = 10000

SOURCE_PARAMETERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # SourceType: (required keys, optional keys)
    "OSS_CSV": (("Bucket", "ObjectName"), ()),
    "OSS_JSON_LIST": (("Bucket", "ObjectName"), ()),
    "OSS_INVENTORY_FILES": (("Bucket", "ObjectName"), ()),
    "OSS_OBJECTS": (("Bucket",), ("Prefix",)),
}
RESULT_WRITER_PARAMETERS = (("Bucket",), ("Prefix",))


def is_known_action(action: str) -> bool:
    """True when an integration exists (or is planned) for ``action``."""
    return action in KNOWN_ACTIONS or action.split(":", 1)[0] in KNOWN_ACTION_SERVICES

ASL_CODES: dict[str, str] = {
    # Amazon States Language (``*.asl.json`` / ``*.asl.yaml``). Structural problems shared with
    # CloudFlow keep their ``CF-E1xx``/``CF-E2xx`` codes (wrong type, missing/unknown field, graph).
    "ASL-E100": "JSON syntax error (reported at the parser's line and column)",
    "ASL-E301": "QueryLanguage is not JSONPath/JSONata, or a state uses JSONPath inside a JSONata machine",
    "ASL-E302": "a JSONPath-only field (…Path) in a JSONata state",
    "ASL-E303": "a field is given twice (literal and …Path form, ItemSelector and Parameters, …)",
    "ASL-E304": "a number field is negative or not a number (MaxConcurrency, TimeoutSeconds, tolerances, …)",
    "ASL-E305": "Retry/Catch ErrorEquals is empty",
    "ASL-E306": "States.ALL is not alone in its ErrorEquals",
    "ASL-E307": "a Retry/Catch rule with States.ALL is not the last rule",
    "ASL-E308": "Retry value out of range (MaxAttempts 0-99999999, IntervalSeconds 1-99999999, BackoffRate 1.0-99999999, MaxDelaySeconds 1-31622400, bad JitterStrategy)",
    "ASL-E309": "state name longer than 80 characters",
    "ASL-E310": "Wait state without exactly one of Seconds, SecondsPath, Timestamp, TimestampPath",
    "ASL-E311": "Choice state with an empty Choices array",
    "ASL-E312": "ProcessorConfig Mode/ExecutionType invalid",
    "ASL-E313": "distributed-only field (ItemReader, ItemBatcher, ResultWriter, Label, ToleratedFailure…) on an inline Map",
    "ASL-E314": "Map Label empty, longer than 40 characters, or holding a forbidden character",
    "ASL-E315": "unsupported ItemReader / ResultWriter Resource",
    "ASL-E316": "ItemBatcher without any limit",
    "ASL-E317": "empty ResultWriter (neither Resource/Parameters nor WriterConfig)",
    "ASL-E318": "duplicate Map Label in the definition",
    "ASL-E319": "Task Resource is not an ARN",
    "ASL-E320": "Timestamp is not an RFC 3339 timestamp",
    "ASL-E321": "a number of seconds above AWS's maximum (TimeoutSeconds, HeartbeatSeconds, Wait Seconds: 99999999)",
    "ASL-E330": "ReaderConfig value or combination AWS does not accept (InputType, Transformation, ItemsPointer, ManifestType)",
    "ASL-E331": "ReaderConfig InputType PARQUET without pyarrow installed (the 'parquet' extra)",
    "ASL-E332": "WriterConfig OutputType not JSON/JSONL or Transformation not NONE/COMPACT/FLATTEN",
    "ASL-E333": "an AWS Map option that is not implemented here (ManifestType ATHENA_DATA)",
    "ASL-E401": "invalid path, payload template, intrinsic function or JSONata expression",
    "ASL-E402": "invalid Choice rule (no Variable, several operators, wrong value type, JSONata without Condition)",
}
"""ASL issue codes (``lint`` reports them next to the shared structural ``CF-*`` codes)."""

ALL_CODES: dict[str, str] = {**CODES, **ASL_CODES}
