"""Reading Python-like text with ``ast`` without running it, for the Keras and PyTorch front ends.

Nothing is evaluated, compiled or imported: :func:`literal` walks the tree and takes only what a
literal spells out, and names are resolved by the caller (``--define NAME=VALUE``, or
``NAME = 10`` above a Keras model). Whatever else stands in an argument (a call, an attribute,
a lambda, an f-string) is refused with a diagnostic, so that ``kernel_size=os.system(...)``
is text to cnncalc and nothing more.
"""

from __future__ import annotations

import ast
import bisect
import math
import re
import warnings
from array import array
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import TypeGuard

from cnncalc.diagnostics import Diagnostic
from cnncalc.spec import Span

Value = int | float | str | None | tuple["Value", ...]
"""What a literal argument can stand for; a list is read as a tuple."""

_OPS: dict[type[ast.operator], Callable[[int, int], int]] = {
    ast.Add: lambda x, y: x + y, ast.Sub: lambda x, y: x - y, ast.Mult: lambda x, y: x * y,
    ast.FloorDiv: lambda x, y: x // y if y else 1 << 64}
_SCALARS = (int, float, str)


class Refusal(Exception):
    """A statement, layer or value that cannot be read; ``diag`` is None when the problem was
    already reported (a Keras name whose own ``NAME = ...`` line could not be read)."""

    def __init__(self, diag: Diagnostic | None) -> None:
        super().__init__()
        self.diag = diag


def refuse(span: Span, code: str, message: str, hint: str = "") -> Refusal:
    return Refusal(Diagnostic(span, code, message, hint))


def is_int(v: object) -> TypeGuard[int]:
    """A whole number, which True and False are not (though Python's bool is an int)."""
    return isinstance(v, int) and not isinstance(v, bool)


def ints(v: object, n: int) -> tuple[int, ...] | None:
    """``v`` as ``n`` ints (one int stands for ``n`` copies), else None."""
    if is_int(v):
        return (v,) * n
    if not isinstance(v, tuple) or len(v) != n:
        return None
    for x in v:
        if type(x) is not int and not is_int(x):
            return None
    return tuple(v)


def exact(v: object) -> Fraction | None:
    """A number read from code as an exact Fraction: an int as itself, a float as the decimal
    it is written as (``0.1`` is 1/10, as Python prints it, not the binary 0.1000000000000000055);
    None for anything else, infinities and NaN included."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    if isinstance(v, int):
        return Fraction(v)
    return Fraction(repr(v)) if math.isfinite(v) else None


def quiet_parse() -> warnings.catch_warnings[None]:
    """Around ``ast.parse``: Python warns about odd code (``3x``, ``is`` with a literal) on
    stderr, which is not where findings go; a SyntaxError, when there is one, says it all.
    (``catch_warnings(action=...)`` is ``simplefilter`` on entry, without a generator.)"""
    return warnings.catch_warnings(action="ignore")


def parse_module(text: str, path: str, lines: Sequence[str]) -> ast.Module | Diagnostic:
    """``text`` as a Python module, or the P001 that says why it is not one: at the syntax
    error's line and column, or at 1:1 for text ``ast`` refuses (a NUL, nesting too deep)."""
    try:
        with quiet_parse():
            return ast.parse(text)
    except SyntaxError as exc:
        line = exc.lineno or 1
        col = min(exc.offset or 1, len(lines[line - 1]) + 1 if 0 < line <= len(lines) else 1)
        return Diagnostic(Span(path, line, col, col + 1), "P001",
                          f"the code is not Python cnncalc can read: {exc.msg}",
                          "check the brackets, colons and indentation")
    except (ValueError, RecursionError, MemoryError) as exc:
        return Diagnostic(Span(path, 1, 1, 2), "P001",
                          f"the code cannot be read: {type(exc).__name__}",
                          "save the file as UTF-8 text")


def char_col(row: str, offset: int) -> int:
    """How many characters of ``row`` stand before ``offset``, which ast counts in UTF-8 bytes.
    In an ASCII row (nearly every one) a byte is a character: no need to encode."""
    if row.isascii():
        return len(row[:offset])
    return len(row.encode("utf-8", "surrogatepass")[:offset].decode("utf-8", "ignore"))


_WIDE = re.compile(r"[^\x00-\x7f]")


class Columns:
    """:func:`char_col` for the rows of one text, with a table per row made the first time the
    row is asked about: the byte offset and column of each of its non-ASCII characters. One
    ``char_col`` costs time linear in its row, so a long non-ASCII row with a node every few
    characters (``Sequential([Dense(1), Dense(1), ...])``) would cost quadratic time."""

    def __init__(self, rows: Sequence[str]) -> None:
        self.rows = rows
        self.tables: dict[int, tuple[array[int], array[int]]] = {}

    def col(self, row: int, offset: int) -> int:
        """``char_col(rows[row], offset)`` (0-based row and result)."""
        text = self.rows[row]
        table = self.tables.get(row)
        if table is None:
            table = self.tables[row] = (array("q"), array("q"))
            if not text.isascii():
                extra = 0
                for m in _WIDE.finditer(text):
                    table[0].append(m.start() + extra)
                    table[1].append(m.start())
                    extra += len(m[0].encode("utf-8", "surrogatepass")) - 1
        starts, cols = table
        k = bisect.bisect_left(starts, offset)  # how many start before the offset
        if k == 0:
            return max(0, min(offset, len(text)))
        at, start = cols[k - 1], starts[k - 1]
        end = start + len(text[at].encode("utf-8", "surrogatepass"))
        return at if offset < end else min(at + 1 + offset - end, len(text))


def literal(node: ast.expr, name: Callable[[ast.Name], Value],
            not_literal: Callable[[ast.expr], Refusal], arithmetic: bool = False) -> Value:
    """The value a literal stands for, read from the tree: numbers, strings, None, True, False,
    tuples and lists of them, and a minus sign on a number; ``name`` gives a name's value or
    raises. ``arithmetic`` also reads signs on any number (``-width``, ``+3``) and integer
    ``+ - * //``, which printed PyTorch models and their constructors use; anything else is
    ``not_literal(node)``."""
    if isinstance(node, ast.Constant):  # the commonest case first: this runs per argument
        if node.value is None or isinstance(node.value, _SCALARS):
            return node.value
        raise not_literal(node)
    if isinstance(node, (ast.Tuple, ast.List)):  # (3, 3) needs no call per number
        return tuple([e.value if type(e) is ast.Constant and type(e.value) is int
                      else literal(e, name, not_literal, arithmetic) for e in node.elts])
    if isinstance(node, ast.Name):
        return name(node)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        num: object
        if arithmetic:
            num = literal(node.operand, name, not_literal, arithmetic)
        else:
            num = node.operand.value if isinstance(node.op, ast.USub) \
                and isinstance(node.operand, ast.Constant) else None
        if isinstance(num, (int, float)) and not isinstance(num, bool):
            return -num if isinstance(node.op, ast.USub) else num
    if arithmetic and isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        x = literal(node.left, name, not_literal, arithmetic)
        y = literal(node.right, name, not_literal, arithmetic)
        if type(x) is int and type(y) is int and abs(result := _OPS[type(node.op)](x, y)) < 1 << 60:
            return result
    raise not_literal(node)
