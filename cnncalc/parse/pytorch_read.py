"""One PyTorch module call, ``Conv2d(3, 64, kernel_size=(11, 11), stride=(4, 4))``, as a layer.

The call's text goes through ``ast`` and is never evaluated: only literals, names bound by
``--define`` and integer ``+ - * //`` are read; calls, attributes, lambdas and f-strings are
P009. The printed form leaves ``padding=same`` and ``padding_mode=reflect`` unquoted, so those
bare words stand for themselves. A number of more than MAX_DIGITS digits (a long ``0x``
literal) is P001: Python would not write it out.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from cnncalc.parse import DefineValue
from cnncalc.parse.bounds import excerpt
from cnncalc.parse.cursor import suggest
from cnncalc.parse.lexer import MAX_DIGITS
from cnncalc.parse.pycode import Refusal, Value, char_col, literal, refuse
from cnncalc.parse.pytorch_modules import FIELDS as _FIELD
from cnncalc.parse.pytorch_modules import MODULES, SIGNATURES, Args
from cnncalc.parse.pytorch_trees import CallTrees
from cnncalc.spec import Layer, Span

Read = tuple[type[Layer], dict[str, Any], tuple[tuple[str, Span], ...]]
"""What a call builds: the layer class, its keyword arguments and the spans of its fields."""

_AS_TEXT = {"padding_mode", "approximate", "device", "dtype", "mode"}  # bare words mean
# themselves (StochasticDepth's mode=row)
_NOT_LITERAL = {ast.Call: "a call", ast.Attribute: "attribute access", ast.Lambda: "a lambda",
                ast.JoinedStr: "an f-string", ast.Subscript: "indexing"}
_TOO_BIG = 10 ** MAX_DIGITS
_SHORT = 3000  # a shorter text spells no number as big (0x needs 3572 digits): not checked


_new = tuple.__new__  # Span(...) without NamedTuple's Python-level __new__


class _Unsure:
    """What _plain() says when it leaves a node to literal()."""


_UNSURE = _Unsure()
_LITERAL = (int, float, str, type(None))  # the constants literal() takes


def _plain(node: ast.expr) -> Value | _Unsure:
    """What :func:`literal` makes of the usual arguments, ``3`` and ``(3, 3)``, read faster;
    _UNSURE for anything else."""
    if type(node) is ast.Constant and isinstance(node.value, _LITERAL):
        return node.value
    if type(node) is not ast.Tuple:
        return _UNSURE
    items = []
    for e in node.elts:
        if type(e) is not ast.Constant or type(e.value) is not int:
            return _UNSURE
        items.append(e.value)
    return tuple(items)


def _too_big(v: Value) -> bool:
    """A number of more than MAX_DIGITS digits, which Python will not write out."""
    if isinstance(v, tuple):
        return any(_too_big(x) for x in v)
    return isinstance(v, int) and abs(v) >= _TOO_BIG


def _big_number(span: Span, what: str) -> Refusal:
    return refuse(span, "P001", f"{what} is a number of more than {MAX_DIGITS:,} digits",
                  f"cnncalc reads numbers of at most {MAX_DIGITS:,} digits")


def read_call(module: str, snippet: str, span: Span, line_end: Callable[[int], int],
              defines: Mapping[str, DefineValue], trees: CallTrees) -> Read:
    """What the text of one call to a module of :data:`MODULES` builds; ``span`` is the call's
    (it starts where the text does), ``line_end(line)`` the column after that line's text, and
    ``trees`` parses the text."""
    rows = snippet.split("\n")
    flat = len(rows) == 1 and snippet.isascii()  # columns are offsets into the line
    path, line, base = span.path, span.line, span.col

    def node_span(node: ast.expr | ast.keyword) -> Span:
        """The node's span; one that crosses lines stops at the end of its first line."""
        row = 0
        if flat:
            col, end = node.col_offset + base, (node.end_col_offset or 0) + base
        else:
            row = node.lineno - first
            text, shift = rows[row], base if row == 0 else 1
            col = char_col(text, node.col_offset) + shift
            if (node.end_lineno or node.lineno) - first != row:
                end = line_end(line + row)
            else:
                end = char_col(text, node.end_col_offset or 0) + shift
        return _new(Span, (path, line + row, col, end if end > col else col + 1))

    def name(as_text: bool, node: ast.Name) -> Value:
        if as_text or node.id in ("same", "valid"):
            return node.id
        if node.id in defines:
            v = defines[node.id]
            value = v if isinstance(v, int | float) else tuple(v)
            if _too_big(value):
                raise _big_number(node_span(node), f"`{node.id}`")
            return value
        raise refuse(node_span(node), "P008", f"`{node.id}` has no value",
                     f"bind it with --define {node.id}=VALUE")

    def not_literal(node: ast.expr) -> Refusal:
        return refuse(node_span(node), "P009", f"{_NOT_LITERAL.get(type(node), 'an expression')} "
                      "is not a literal: cnncalc never runs the text",
                      "write the value as a number, or bind a name with --define")

    try:
        call, first = trees.tree(snippet)
    except SyntaxError as exc:
        raise refuse(span, "P001",
                     f"`{excerpt(rows[0])}` is not a call cnncalc can read: {exc.msg}",
                     "check the brackets, commas and quotes") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # e.g. undecodable bytes, deep nesting
        raise refuse(span, "P001", f"`{excerpt(rows[0])}` is not a call cnncalc can read: "
                     f"{type(exc).__name__}", "save the file as UTF-8 text and check the "
                     "brackets") from None
    if not isinstance(call, ast.Call):
        raise refuse(span, "P001", f"`{excerpt(rows[0])}` is not a module call")
    params, allowed, required = SIGNATURES[module]
    positional, keywords = call.args, call.keywords
    if params is not None and len(positional) > len(params):
        raise refuse(node_span(positional[len(params)]), "P010",
                     f"{module} takes at most {len(params)} positional arguments",
                     f"{module} takes {', '.join(allowed) or 'no arguments'}")
    unpacked: list[ast.expr | ast.keyword] = [
        n for n in positional if isinstance(n, ast.Starred)] or [
        k for k in keywords if k.arg is None]
    if unpacked:
        raise refuse(node_span(unpacked[0]), "P009", "`*` or `**` unpacks values cnncalc "
                     "does not compute", "write the arguments out")
    args = Args(module, span)
    values, spans = args.values, args.spans  # spans in the order of the arguments
    unsure: list[tuple[str, ast.expr]] = []  # what _plain() leaves to literal()
    for i, node in enumerate(positional):
        key = params[i] if params else str(i)
        spans[key] = node_span(node)
        if isinstance(value := _plain(node), _Unsure):
            unsure.append((key, node))
        else:
            values[key] = value
    for kw in keywords:
        key = kw.arg or ""
        if params is not None and key not in allowed:
            raise refuse(node_span(kw), "P010", f"{module} has no argument `{key}`",
                         suggest(key, allowed) or f"{module} takes {', '.join(allowed)}")
        if key in spans:
            raise refuse(node_span(kw), "P010", f"{module}: `{key}` is given twice")
        spans[key] = node_span(kw)
        if isinstance(value := _plain(kw.value), _Unsure):
            unsure.append((key, kw.value))
        else:
            values[key] = value
    for key, node in unsure:
        values[key] = literal(node, partial(name, key in _AS_TEXT), not_literal, arithmetic=True)
    if len(snippet) > _SHORT:
        for key in spans:
            if _too_big(values[key]):
                raise _big_number(spans[key], f"{module}: {key}")
    for p in required:
        if p not in values:
            raise refuse(span, "P010", f"{module} needs {p}",
                         f"{module} takes {', '.join(allowed)}")
    cls, kwargs = MODULES[module][2](args)
    return cls, kwargs, tuple(zip(map(_FIELD.get, spans, spans), spans.values(), strict=True))
