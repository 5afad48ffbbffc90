"""ASL input/output processing with JSONPath: ``InputPath``, ``ResultPath``, ``OutputPath``.

"InputPath selects part of the raw input; ResultPath places the result inside the *raw* state
input; OutputPath selects the part passed on" (asl-distributed-map.md §2.8).  ``null`` in
InputPath/OutputPath gives ``{}``; ``ResultPath: null`` "discards the result and passes the input
through".  The input is never mutated: ``apply_result_path`` copies only the containers along the
path.

Causes follow AWS (recorded in ``other_catch_states_runtime``): ``Invalid path '<path>' :
<Jayway message>``; the interpreter prefixes ``An error occurred while executing the state …``
(see ``state_cause``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.expressions.asl.jsonpath import (
    Indexes, JsonPath, Names, PathNotFound, compact_json, compile_path,
)
from airflow_cloudflow.expressions.asl.jsonpath import compile_reference_path

RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"


def state_cause(state_name: str, entered_event_id: int, detail: str) -> str:
    """AWS's prefix for runtime causes: ``An error occurred while executing the state 'S'
    (entered at the event id #2). <detail>``."""
    return (
        f"An error occurred while executing the state '{state_name}' "
        f"(entered at the event id #{entered_event_id}). {detail}"
    )


@lru_cache(maxsize=1024)
def _compiled(source: str, reference: bool) -> JsonPath:
    return compile_reference_path(source) if reference else compile_path(source)


def _as_path(path: "JsonPath | str", reference: bool = False) -> JsonPath:
    return path if isinstance(path, JsonPath) else _compiled(path, reference)


def _select(
    value: Any,
    path: "JsonPath | str | None",
    context: dict[str, Any] | None,
    variables: dict[str, Any] | None,
) -> Any:
    if path is None:
        return {}
    compiled = _as_path(path)
    if compiled.root == "input" and not compiled.segments:
        return value
    env = {"input": value, "context": context, "variables": variables or {}}
    try:
        return compiled.evaluate(env)
    except PathNotFound as exc:
        raise FlowError(exc.code, f"Invalid path '{compiled.source}' : {exc.detail}") from None


def apply_input_path(
    state_input: Any,
    path: "JsonPath | str | None",
    context: dict[str, Any] | None = None,
    variables: dict[str, Any] | None = None,
) -> Any:
    """``InputPath``: the selected part of ``state_input`` (``$$…`` reads ``context``); ``None``
    (``"InputPath": null``) gives ``{}``.  Pass ``"$"`` when the field is absent."""
    return _select(state_input, path, context, variables)


def apply_output_path(
    output: Any,
    path: "JsonPath | str | None",
    context: dict[str, Any] | None = None,
    variables: dict[str, Any] | None = None,
) -> Any:
    """``OutputPath``: the selected part of the state output; ``None`` gives ``{}``."""
    return _select(output, path, context, variables)


def apply_result_path(state_input: Any, result: Any, path: "JsonPath | str | None") -> Any:
    """``ResultPath``: ``None`` keeps ``state_input``; ``$`` is ``result``; ``$.a.b`` writes
    ``result`` at ``a.b`` in a copy of ``state_input``, creating missing objects on the way.

    A path that crosses a non-object (or an index outside an array) raises
    ``States.ResultPathMatchFailure``."""
    if path is None:
        return state_input
    compiled = _as_path(path, reference=True)
    if not compiled.is_reference:
        raise FlowError(RESULT_PATH_MATCH_FAILURE, f"Invalid ResultPath '{compiled.source}'")
    if not compiled.segments:
        return result
    return _put(state_input, compiled.segments, 0, result, compiled, state_input)


def _put(node: Any, segments: tuple, i: int, result: Any, path: JsonPath, whole: Any) -> Any:
    segment = segments[i]
    last = i == len(segments) - 1
    if isinstance(segment, Names):
        if not isinstance(node, dict):
            raise _mismatch(path, whole)
        key = segment.names[0]
        child = result if last else _put(node.get(key, {}), segments, i + 1, result, path, whole)
        copy = dict(node)
        copy[key] = child
        return copy
    assert isinstance(segment, Indexes)
    index = segment.indexes[0]
    if not isinstance(node, list) or not -len(node) <= index < len(node):
        raise _mismatch(path, whole)
    child = result if last else _put(node[index], segments, i + 1, result, path, whole)
    items = list(node)
    items[index] = child
    return items


def _mismatch(path: JsonPath, whole: Any) -> FlowError:
    return FlowError(
        RESULT_PATH_MATCH_FAILURE,
        f"Unable to apply ResultPath '{path.source}' to input '{compact_json(whole)}'",
    )
