"""Memory bounds of one JSONata evaluation (docs/expressions.md "JSONata limits", docs/limits.md).

The wrapper (``jsonata_expr``) already bounds time and depth; this module bounds memory, which a
time limit does not: ``$replace`` can build a 400-million-character string in half a second, and
``$map`` over ``$pad`` gigabytes before the time limit fires. Three bounds, each refused with
``States.QueryEvaluationError`` naming the bound:

* **one string** may hold at most ``MAX_STRING_CHARS`` characters (``bounds.py``): ``$replace``,
  ``$join`` and ``$string`` compute the size *before* building the string; every other string result
  (``&``, ``$pad``, a user function) is checked when its node returns;
* **one array** may hold at most ``MAX_ARRAY_ITEMS`` items (``$split`` checks before splitting; a lazy
  range ``[1..n]`` is not materialised and not counted);
* **all strings built** by function calls and ``&`` in one evaluation may total at most
  ``MAX_BUILT_CHARS`` characters (so many strings each under the first bound cannot add up to
  gigabytes).
"""

from __future__ import annotations

from typing import Any

from airflow_cloudflow.expressions.bounds import MAX_STRING_CHARS, string_too_long, text_size

MAX_ARRAY_ITEMS = 1_000_000
MAX_BUILT_CHARS = 32 * 1024 * 1024
_BUILDING_NODES = frozenset({"function", "partial", "apply"})


class BoundExceeded(Exception):
    """A memory bound of one evaluation was reached (the message names it)."""


def _refuse_long(what: str, size: int) -> None:
    problem = string_too_long(what, size)
    if problem:
        raise BoundExceeded(problem)


class MemoryBudget:
    """Counts what one evaluation builds; hooked in as the expression's node-exit callback (after
    any callback already there, e.g. jsonata-python's ``Timebox``). ``reset()`` before each evaluation."""

    def __init__(self, expression: Any):
        frame = expression.environment
        self._previous = frame.lookup("__evaluate_exit")
        self.built = 0
        frame.set_evaluate_exit_callback(self._exit)
        apply = expression.apply

        def counted_apply(*args: Any) -> Any:
            """Every function application, including the ones ``$map`` & co. make (no node exit)."""
            result = apply(*args)
            if isinstance(result, str):
                _refuse_long("a function call", len(result))
                self._add(len(result))
            return result

        expression.apply = counted_apply  # the instance's own calls (self.apply) go through it

    def reset(self) -> None:
        self.built = 0

    def _exit(self, node: Any, input: Any, environment: Any, result: Any) -> None:
        if self._previous is not None:
            self._previous(node, input, environment, result)
        kind = getattr(node, "type", None)
        building = kind in _BUILDING_NODES or (kind == "binary" and getattr(node, "value", None) == "&")
        if isinstance(result, str):
            if building:
                _refuse_long(f"the expression at position {getattr(node, 'position', '?')}", len(result))
                self._add(len(result))
        elif isinstance(result, list) and type(result).__name__ != "RangeList":
            if len(result) > MAX_ARRAY_ITEMS:
                raise BoundExceeded(f"an array of {len(result)} items is larger than {MAX_ARRAY_ITEMS}")
            if building:
                self._add(len(result) + sum(len(item) for item in result if isinstance(item, str)))

    def _add(self, chars: int) -> None:
        self.built += chars
        if self.built > MAX_BUILT_CHARS:
            raise BoundExceeded(f"the expression built more than {MAX_BUILT_CHARS} characters of strings")


def bounded_functions(Jsonata: Any) -> dict[str, Any]:
    """``$replace``, ``$join``, ``$string`` and ``$split`` with their result size checked first."""
    from jsonata.functions import Functions

    class SizeChecked(Jsonata.JNativeFunction):
        def call(self, input: Any, args: Any) -> Any:
            self.check(list(args or ()) + [None] * 4)
            return super().call(input, args)

    class Replace(SizeChecked):
        def check(self, args: list) -> None:
            text, pattern, replacement, limit = args[:4]
            if not isinstance(text, str) or not isinstance(replacement, str):
                return  # a function replacement: its results are counted as they are built
            count, longest = _matches(text, pattern, limit, len(replacement))
            _refuse_long("$replace", len(text) + (len(replacement) + replacement.count("$") * longest) * count)

    class Join(SizeChecked):
        def check(self, args: list) -> None:
            items, separator = args[0], args[1] if isinstance(args[1], str) else ""
            if isinstance(items, list):
                _refuse_long("$join", sum(len(s) for s in items if isinstance(s, str)) + len(separator) * len(items))

    class String(SizeChecked):
        def check(self, args: list) -> None:
            if not isinstance(args[0], str):
                _refuse_long("$string", text_size(args[0]))

    class Split(SizeChecked):
        def check(self, args: list) -> None:
            text, separator = args[0], args[1]
            if isinstance(text, str) and isinstance(separator, str):
                pieces = len(text) if separator == "" else text.count(separator) + 1
                if pieces > MAX_ARRAY_ITEMS and not isinstance(args[2], (int, float)):
                    raise BoundExceeded(f"$split would make {pieces} items; the limit is {MAX_ARRAY_ITEMS}")

    return {
        "replace": Replace("replace", "<s-(sf)(sf)n?:s>", Functions, "replace"),
        "join": Join("join", "<a<s>s?:s>", Functions, "join"),
        "string": String("string", "<x-b?:s>", Functions, "string"),
        "split": Split("split", "<s-(sf)n?:a<s>>", Functions, "split"),
    }


def _matches(text: str, pattern: Any, limit: Any, each: int) -> tuple[int, int]:
    """(how many matches ``$replace`` would replace, the longest one's length), counting at most
    ``limit`` and stopping once ``each`` characters per match are over the string bound."""
    cap = int(limit) if isinstance(limit, (int, float)) and not isinstance(limit, bool) and limit >= 0 else None
    if isinstance(pattern, str):
        count = text.count(pattern) if pattern else 0
        return (count if cap is None else min(count, cap)), len(pattern)
    if not hasattr(pattern, "finditer"):  # a compiled regex (stdlib re or a pluggable engine)
        return 0, 0
    count = longest = 0
    for match in pattern.finditer(text):
        if (cap is not None and count >= cap) or count * max(each, 1) > MAX_STRING_CHARS:
            break
        count += 1
        longest = max(longest, len(match.group(0)))
    return count, longest
