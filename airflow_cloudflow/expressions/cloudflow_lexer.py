"""Tokenizer of CloudFlow's expression language (see ``docs/expressions.md``).

Literals: strings in ``"…"`` (JSON escapes), ``'…'`` and backticks (raw), JSON numbers, and
variable paths ``$Root.field[0]["key"]`` lexed as one token. Every error carries the 0-based
position of the offending character.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NamedTuple

from ..exceptions import ExpressionSyntaxError

VARIABLES = frozenset({"Input", "Output", "Context", "Global", "Item"})
"""The variable roots: ``$Input``, ``$Output``, ``$Context``, ``$Global``, ``$Item``."""


class Token(NamedTuple):
    kind: str  # path | string | number | name | op | punct | end
    value: Any
    position: int


_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INDEX = re.compile(r"[ \t]*([0-9]+)[ \t]*")
_TWO_CHAR_OPS = frozenset({"==", "!=", ">=", "<=", "&&", "||"})
_ONE_CHAR_OPS = frozenset({">", "<", "!"})
_PUNCTUATION = frozenset("()[]{},:")
_WHITESPACE = frozenset(" \t\r\n")
COMPARISONS = frozenset({"==", "!=", ">", ">=", "<", "<="})


def _is_name_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class Lexer:
    """Turns a source text into tokens; every error carries the offending 0-based position."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, message: str, position: int) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(message, self.source, position)

    def tokens(self) -> list[Token]:
        src, i, out = self.source, 0, []
        n = len(src)
        while i < n:
            ch = src[i]
            if ch in _WHITESPACE:
                i += 1
            elif ch == "$":
                token, i = self._path(i)
                out.append(token)
            elif ch in "\"'`":
                value, end = self._string(i)
                out.append(Token("string", value, i))
                i = end
            elif ch.isdigit() or (ch == "-" and i + 1 < n and src[i + 1].isdigit()):
                value, end = self._number(i)
                out.append(Token("number", value, i))
                i = end
            elif ch.isalpha() or ch == "_":
                match = _NAME.match(src, i)
                if match is None or (match.end() < n and _is_name_char(src[match.end()])):
                    raise self.fail(f"unexpected character {ch!r}", i)
                out.append(Token("name", match.group(), i))
                i = match.end()
            elif src[i : i + 2] in _TWO_CHAR_OPS:
                out.append(Token("op", src[i : i + 2], i))
                i += 2
            elif ch in _ONE_CHAR_OPS:
                out.append(Token("op", ch, i))
                i += 1
            elif ch in _PUNCTUATION:
                out.append(Token("punct", ch, i))
                i += 1
            else:
                hint = " (use == to compare)" if ch == "=" else ""
                raise self.fail(f"unexpected character {ch!r}{hint}", i)
        out.append(Token("end", None, n))
        return out

    def _string(self, start: int) -> tuple[str, int]:
        """``"…"`` takes JSON escapes; ``'…'`` and backtick strings are raw (no escapes)."""
        src, quote = self.source, self.source[start]
        if quote == '"':
            try:
                return json.decoder.scanstring(src, start + 1, False)
            except json.JSONDecodeError as exc:
                if exc.msg.startswith("Unterminated"):
                    raise self.fail("unterminated string", start) from None
                raise self.fail(f"bad string escape ({exc.msg})", exc.pos) from None
        end = src.find(quote, start + 1)
        if end < 0:
            raise self.fail("unterminated string", start)
        return src[start + 1 : end], end + 1

    def _number(self, start: int) -> tuple[int | float, int]:
        """JSON numbers: ``12`` stays an int, ``12.5``/``1e3`` are floats, ``-3`` is negative."""
        src = self.source
        match = _NUMBER.match(src, start)
        end = match.end() if match else start
        if match is None or (end < len(src) and (_is_name_char(src[end]) or src[end] == ".")):
            raise self.fail("malformed number", start)
        text = match.group()
        try:
            value: int | float = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            raise self.fail("number too long", start) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail("number out of range", start)
        return value, end

    def _path(self, start: int) -> tuple[Token, int]:
        """``$Root`` then ``.field`` (letters, digits, ``_``; ``-`` after the first character) and
        ``[index]`` / ``["key"]`` steps, written without spaces between them."""
        src, n = self.source, len(self.source)
        i = start + 1
        while i < n and _is_name_char(src[i]):
            i += 1
        root = src[start + 1 : i]
        if not root:
            raise self.fail("expected a variable name after '$'", start)
        if root not in VARIABLES:
            raise self.fail(f"unknown variable ${root} (expected one of "
                            f"{', '.join('$' + v for v in sorted(VARIABLES))})", start)
        steps: list[tuple[bool, Any]] = []
        while i < n:
            if src[i] == ".":
                j = i + 1
                if j >= n or not _is_name_char(src[j]):
                    raise self.fail("expected a field name after '.'", j)
                while j < n and (_is_name_char(src[j]) or src[j] == "-"):
                    j += 1
                steps.append((False, src[i + 1 : j]))
                i = j
            elif src[i] == "[":
                index = _INDEX.match(src, i + 1)
                if index is not None:
                    if index.end() >= n or src[index.end()] != "]":
                        raise self.fail("expected ']'", index.end())
                    digits = index.group(1)
                    if len(digits) > 18:
                        raise self.fail("index too large", index.start(1))
                    steps.append((True, int(digits)))
                    i = index.end() + 1
                    continue
                j = i + 1
                while j < n and src[j] in " \t":
                    j += 1
                if j >= n or src[j] not in "\"'`":
                    raise self.fail("expected a non-negative index or a quoted key after '['", j)
                key, j = self._string(j)
                while j < n and src[j] in " \t":
                    j += 1
                if j >= n or src[j] != "]":
                    raise self.fail("expected ']'", j)
                steps.append((False, key))
                i = j + 1
            else:
                break
        return Token("path", (root, tuple(steps), src[start:i]), start), i



def tokenize(source: str) -> list[Token]:
    """All tokens of ``source``, ending with an ``end`` token at ``len(source)``."""
    return Lexer(source).tokens()
