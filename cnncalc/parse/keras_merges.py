"""Keras's merge layers, ``Add()``, ``Concatenate(axis=-1)`` and ``Multiply()``, as
:class:`cnncalc.spec.Merge` layers whose inputs are not wired yet.

A merge joins tensors that a functional model names (``layers.add([x, y])``,
``layers.Concatenate()([a, b, c])``): the reader that follows the tensors sets the Merge's
``inputs``. A Sequential model has one tensor only, so its reader refuses a merge (Keras does
too). ``Concatenate`` joins along the channels (the last axis, Keras's default ``axis=-1``):
another axis is refused, since cnncalc's concat stacks channels (or vectors end to end).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Literal

from cnncalc import spec
from cnncalc.parse.pycode import refuse
from cnncalc.spec import Layer

if TYPE_CHECKING:
    from cnncalc.parse.keras_layers import Args

MERGES: dict[str, Literal["add", "concat", "multiply"]] = {
    "Add": "add", "Concatenate": "concat", "Multiply": "multiply"}
"""Each merge layer class: the Merge op it makes."""

MERGE_FUNCTIONS = {"add": "Add", "concatenate": "Concatenate", "multiply": "Multiply"}
"""``layers.add(inputs, **kwargs)`` and the others: the layer class each function builds and
calls on its first argument (the list of tensors, for the functional reader to wire)."""


def as_layer_call(call: ast.Call) -> ast.Call:
    """``layers.concatenate([a, b], axis=-1)`` as the layer call ``Concatenate(axis=-1)``
    that it makes: the call without its tensors (the first argument, or ``inputs=``), which
    the functional reader wires; its arguments are then read as the class's."""
    keywords = [k for k in call.keywords if k.arg != "inputs"]
    made = ast.Call(func=call.func, args=call.args[1:], keywords=keywords)
    return ast.fix_missing_locations(ast.copy_location(made, call))


def merge(c: Args) -> list[Layer]:
    """``Add()``, ``Multiply()``, ``Concatenate(axis=-1)``: a Merge without inputs yet."""
    if c.cls == "Concatenate" and "axis" in c.nodes:
        axis = c.raw("axis", -1)
        channels = 1 if c.r.rank == 1 else 3
        if axis not in (-1, channels):
            raise refuse(c.arg_span("axis"), "P011", f"{c.name}: cnncalc concatenates along "
                         f"the channels only (axis -1, or {channels} here)",
                         "drop `axis` (Keras's default -1)")
    return [spec.Merge(name=c.name, span=c.span, op=MERGES[c.cls], fields=c.recorded())]
