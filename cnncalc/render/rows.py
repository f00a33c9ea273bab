"""The rows the table and the markdown show: one per layer, or, with ``--depth N``, the layers
of each nested block folded into one row, as torchinfo's ``depth`` does.

A layer's depth is the number of dot-separated parts of its name (``layer1.0.CONV1`` is 3).
At depth N, consecutive layers whose names share their first N parts and have more than N
parts fold into one row named by those parts (``layer1``): its params, MACs and acts are the
sums of its layers' (acts: every folded layer's output elements, so that the rows still add up
to the totals), its input the first layer's, its output and receptive field the last layer's
(a block's last layer is its output). A row with a layer in error is an error and shows no
figures; one with a layer not computed is not computed.

What a row reads: nothing to say when it reads only the row before it; otherwise the indices
of the layers it reads from outside itself (0 is the network's input), shown in a ``from``
column.
"""

from __future__ import annotations

from collections.abc import Sequence

from cnncalc.analyze import Analysis, LayerResult
from cnncalc.records import record
from cnncalc.render.common import ASSUMED_MARK, describe, receptive_field
from cnncalc.results import Status
from cnncalc.spec import Shape


@record
class Row:
    first: int  # the index of its first layer
    last: int  # of its last (== first for one layer)
    name: str
    layer: str  # the settings (``3x3 s1 p1 nb``), or ``14 layers`` for a folded row
    reads: tuple[int, ...]  # from outside the row, when not only the layer before it
    unresolved: bool  # a reference it makes did not resolve (P016): ``?`` in ``from``
    status: Status
    input_shape: Shape | None
    output_shape: Shape | None
    params: int | None
    macs: int | None
    activations: int | None
    rf: str
    rounded: bool  # a size in it was rounded (``*``)
    assumed: bool  # its figures rest on an assumed wiring (``~``)
    folded: bool = False  # a block's layers, folded by --depth

    def mark(self, text: str) -> str:
        """A figure of a row that rests on an assumed wiring gets the ``~`` mark."""
        return f"{text}{ASSUMED_MARK}" if self.assumed and text else text

    @property
    def missing(self) -> str:
        """What the output column says when there is no output."""
        return "error" if self.status == "error" else "not computed"

    @property
    def label(self) -> str:
        """Its ``#``: the layer's index, or the range of a folded row (``5-18``)."""
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


def output_row(a: Analysis) -> LayerResult | None:
    """The network's output layer when it is not the last (``OUTPUT from x``): the table and
    the markdown end with an ``OUTPUT`` row that names it."""
    return a.layers[a.output - 1] if 0 < a.output < len(a.layers) else None


def shows_from(a: Analysis, shown: Sequence[Row]) -> bool:
    """Whether the table needs a ``from`` column: a row reads other than the row above it,
    or the output is not the last layer. A chain's table has none."""
    return any(row.reads or row.unresolved for row in shown) or output_row(a) is not None


def from_text(reads: Sequence[int], unresolved: bool = False, width: int | None = None) -> str:
    """``9,4``; ``?`` for a reference that did not resolve. With a ``width``, lines of at most
    that many characters (when an index fits), broken after a comma: ``115,118,`` / ``123``."""
    items = [*map(str, reads), *(["?"] if unresolved else [])]
    if width is None:
        return ",".join(items)
    lines = [""]
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        if lines[-1] and len(lines[-1]) + len(piece) > width:
            lines.append("")
        lines[-1] += piece
    return "\n".join(lines)


def _unresolved(r: LayerResult) -> bool:
    return len(r.inputs) < len(r.layer.inputs)


def layer_row(r: LayerResult) -> Row:
    unresolved = _unresolved(r)
    return Row(r.index, r.index, r.layer.name, describe(r),
               () if r.inputs == (r.index - 1,) and not unresolved else r.inputs, unresolved,
               r.status,
               r.input_shape, r.output_shape, r.params, r.macs, r.activations,
               receptive_field(r), r.rounded, r.assumed is not None)


def block_of(name: str, depth: int) -> str | None:
    """The block a layer folds into at ``depth``, or None when it is shallow enough to stay a
    row of its own."""
    parts = name.split(".")
    return ".".join(parts[:depth]) if len(parts) > depth else None


def rows(a: Analysis, depth: int | None = None) -> list[Row]:
    """One row per layer, or (``depth``) per block of consecutive layers, in order."""
    if depth is None:
        return [layer_row(r) for r in a.layers]
    out: list[Row] = []
    group: list[LayerResult] = []
    key: str | None = None
    for r in a.layers:
        k = block_of(r.layer.name, depth)
        if group and (k is None or k != key):
            out.append(_fold(group, key))
            group = []
        if k is None:
            out.append(layer_row(r))
        else:
            group.append(r)
        key = k
    if group:
        out.append(_fold(group, key))
    return out


def _total(values: Sequence[int | None]) -> int | None:
    return None if None in values else sum(v for v in values if v is not None)


def _fold(group: list[LayerResult], name: str | None) -> Row:
    first, last = group[0], group[-1]
    statuses = {r.status for r in group}
    status: Status = ("error" if "error" in statuses else
                      "not-computed" if "not-computed" in statuses else "ok")
    ok = status == "ok"
    outside = sorted({j for r in group for j in r.inputs if j < first.index})
    reads = () if outside == [first.index - 1] else tuple(outside)
    return Row(first.index, last.index, name or "",
               f"{len(group)} layer{'s' if len(group) > 1 else ''}", reads,
               any(_unresolved(r) for r in group), status, first.input_shape,
               last.output_shape if ok else None,
               _total([r.params for r in group]) if ok else None,
               _total([r.macs for r in group]) if ok else None,
               _total([r.activations for r in group]) if ok else None,
               receptive_field(last) if ok else "", any(r.rounded for r in group),
               any(r.assumed is not None for r in group), folded=True)
