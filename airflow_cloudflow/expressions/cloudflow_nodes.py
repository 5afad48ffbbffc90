"""Compiled nodes of CloudFlow expressions: each node is a closure ``run(variables) -> value``.

Nodes whose children are all constant are folded when built ("parse once, evaluate many"). Errors
raise ``EvaluationError`` naming types and paths, never values; ``CloudFlowExpression.evaluate``
turns them into ``FlowError(FnF.RuntimeError, …)``.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from .builtins import BUILTINS, EvaluationError, is_number, json_equal, type_name

Runner = Callable[[Any], Any]

_NOT_CONSTANT = object()


class Node(NamedTuple):
    run: Runner
    constant: Any = _NOT_CONSTANT

    @property
    def is_constant(self) -> bool:
        return self.constant is not _NOT_CONSTANT


def constant(value: Any) -> Node:
    return Node(lambda _variables: value, value)


def folded(run: Runner, children: tuple[Node, ...], foldable: bool = True) -> Node:
    """Fold a node whose children are all constant (parse once, evaluate many); a node whose
    folding fails keeps failing at evaluation time, where the error belongs."""
    if foldable and all(child.is_constant for child in children):
        try:
            return constant(run(None))
        except EvaluationError:
            pass
    return Node(run)


def path_node(root: str, steps: tuple[tuple[bool, Any], ...], text: str) -> Node:
    """A missing key, an out-of-range index and any step into null give null; stepping into
    another scalar, or indexing a non-array, is an error naming the path."""

    def run(variables: Any) -> Any:
        try:
            current = variables[root]
        except KeyError:
            raise EvaluationError(f"${root} is not available here") from None
        for is_index, key in steps:
            if type(current) is dict and not is_index:
                current = current.get(key)
                continue
            if current is None:
                return None
            if is_index:
                if not isinstance(current, list):
                    raise EvaluationError(f"{text}: cannot index {type_name(current)} with [{key}]")
                current = current[key] if key < len(current) else None
            elif isinstance(current, dict):
                current = current.get(key)
            else:
                raise EvaluationError(f"{text}: cannot read field {key!r} of {type_name(current)}")
        return current

    if not steps:

        def run_root(variables: Any) -> Any:
            try:
                return variables[root]
            except KeyError:
                raise EvaluationError(f"${root} is not available here") from None

        return Node(run_root)
    return Node(run)


def _require_boolean(value: Any, operator: str) -> bool:
    if value is True or value is False:
        return value
    raise EvaluationError(f"operand of {operator} must be boolean, got {type_name(value)}")


def and_node(left: Node, right: Node) -> Node:
    lrun, rrun = left.run, right.run

    def run(variables: Any) -> bool:
        left_value = lrun(variables)
        if left_value is False:
            return False
        if left_value is not True:
            _require_boolean(left_value, "&&")
        return _require_boolean(rrun(variables), "&&")

    return folded(run, (left, right))


def or_node(left: Node, right: Node) -> Node:
    lrun, rrun = left.run, right.run

    def run(variables: Any) -> bool:
        left_value = lrun(variables)
        if left_value is True:
            return True
        if left_value is not False:
            _require_boolean(left_value, "||")
        return _require_boolean(rrun(variables), "||")

    return folded(run, (left, right))


def not_node(operand: Node) -> Node:
    orun = operand.run
    return folded(lambda variables: not _require_boolean(orun(variables), "!"), (operand,))


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def comparison_node(operator: str, left: Node, right: Node) -> Node:
    """Typed comparison: ``==``/``!=`` never match across types (``true != "true"``), numbers
    compare by value; ordering works on two numbers or two strings, anything else is an error."""
    lrun, rrun = left.run, right.run
    if operator == "==":
        run: Runner = lambda variables: json_equal(lrun(variables), rrun(variables))  # noqa: E731
    elif operator == "!=":
        run = lambda variables: not json_equal(lrun(variables), rrun(variables))  # noqa: E731
    else:
        order = _ORDERINGS[operator]

        def run(variables: Any) -> bool:
            a, b = lrun(variables), rrun(variables)
            kind = type(a)
            if kind is type(b) and (kind is int or kind is float or kind is str):
                return order(a, b)
            if (is_number(a) and is_number(b)) or (isinstance(a, str) and isinstance(b, str)):
                return order(a, b)
            raise EvaluationError(f"cannot compare {type_name(a)} {operator} {type_name(b)}")

    return folded(run, (left, right))


def call_node(name: str, arguments: tuple[Node, ...]) -> Node:
    builtin = BUILTINS[name]
    function = builtin.function
    runs = tuple(argument.run for argument in arguments)
    if len(runs) == 1:
        (only,) = runs
        run: Runner = lambda variables: function(only(variables))  # noqa: E731
    elif len(runs) == 2:
        first, second = runs
        run = lambda variables: function(first(variables), second(variables))  # noqa: E731
    else:
        run = lambda variables: function(*[r(variables) for r in runs])  # noqa: E731
    return folded(run, arguments, foldable=builtin.deterministic)


def array_node(elements: tuple[Node, ...]) -> Node:
    runs = tuple(element.run for element in elements)
    return folded(lambda variables: [r(variables) for r in runs], elements)


def object_node(members: tuple[tuple[str, Node], ...]) -> Node:
    runs = tuple((key, node.run) for key, node in members)
    return folded(
        lambda variables: {key: r(variables) for key, r in runs}, tuple(n for _, n in members)
    )

