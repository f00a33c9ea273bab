"""A Keras layer call's arguments, worked out by the interpreter, handed to the layer readers
of :mod:`cnncalc.parse.keras_layers` (one table for Sequential and functional code).

Those readers take a call's ``ast`` node and read its arguments as literals. The interpreter
has already worked each argument out (``filters * 2``, a helper's parameter, ``x.shape[-1]``),
so the reader gets a call of those values as literals instead, each placed where the code
writes its argument: the reader's messages and the layers' ``fields`` point at the text. A
value that is no number, text or tuple of them (a regulariser, ``tf.nn.relu``) stands as a
name the reader refuses only if the layer needs its value (P009).
"""

from __future__ import annotations

import ast
from typing import Any

from cnncalc.parse.code.values import Node, Value, describe
from cnncalc.parse.keras_layers import Source
from cnncalc.parse.pycode import Refusal


class Values(Source):
    """The layer reader's source: the file's text, with the values the interpreter worked
    out as the arguments. A value that is not a number, text or a tuple of them stands as a
    name the reader cannot read (it is refused only if the layer needs it)."""

    def __init__(self, text: str, path: str) -> None:
        super().__init__(text, path, {})
        self.opaque: dict[int, Value] = {}

    def name_value(self, node: ast.Name) -> Value:
        v = self.opaque.get(id(node))
        raise Refusal(_unreadable(self, node, v))


def _unreadable(src: Source, node: ast.expr, v: Value) -> Any:
    from cnncalc.diagnostics import Diagnostic

    return Diagnostic(src.span(node), "P009", f"`{src.segment(node)}` is {describe(v)}, not a "
                      "number, text or a tuple of them", "give the layer a plain value here")


def _constant(v: Value, at: ast.AST, values: Values) -> ast.expr:
    """``v`` as a literal node placed at ``at``."""
    node: ast.expr
    if v is None or isinstance(v, bool | int | float | str):
        node = ast.Constant(v)
    elif isinstance(v, list | tuple):
        node = ast.Tuple([_constant(x, at, values) for x in v], ast.Load())
    else:
        node = ast.Name(f"_{id(v)}", ast.Load())
        values.opaque[id(node)] = v
    return ast.copy_location(node, at) if hasattr(at, "lineno") else node


def call_node(node: Node, args: list[Value], kwargs: dict[str, Value], values: Values
              ) -> ast.Call:
    """A call of the values, each placed where the code writes its argument."""
    written: dict[str | None, ast.keyword] = {}
    plain = False  # each positional argument is a node of its own (no `*args`)
    spread: ast.AST = node  # where `**kwargs` is written
    if isinstance(node, ast.Call):
        written = {k.arg: k for k in node.keywords}
        plain = not any(isinstance(a, ast.Starred) for a in node.args)
        spread = written.get(None, node)
    pos = [_constant(v, node.args[i] if plain else node, values)  # type: ignore[attr-defined]
           for i, v in enumerate(args)]
    kws = [ast.copy_location(ast.keyword(k, _constant(v, written[k].value if k in written
                                                       else spread, values)),
                             written.get(k, spread))
           for k, v in kwargs.items()]
    return ast.copy_location(ast.Call(ast.Name("layer", ast.Load()), pos, kws), node)
