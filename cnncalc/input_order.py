"""Hints for an input volume written in another order than cnncalc's HxWxC: PyTorch's CxHxW
(``--input 3x224x224``), or one side alone (``--input 224``, read as a flat vector of 224).

The analysis reads the volume as given and reports what follows from it (an 11x11 filter
larger than a 3-high input); these hints only replace the advice of the errors on the layers
that read the input, which would otherwise suggest changing a filter that is right."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from cnncalc.diagnostics import Diagnostic, Severity
from cnncalc.results import LayerResult
from cnncalc.spec import Conv, Layer, Pool, Shape, fmt_shape

IMAGE_CHANNELS = (1, 3, 4)
"""Grey, RGB, RGBA: the depths a first dimension is taken for channels at, when the layer
that reads the input does not declare its own."""


def _first_channels(layer: Layer) -> int | None:
    return layer.in_channels if isinstance(layer, Conv) else None


def order_hint(shape: Shape, layer: Layer) -> str | None:
    """The hint for ``layer`` reading the input ``shape``, when the shape looks written in
    another order than HxWxC; None when it does not."""
    if not isinstance(layer, Conv | Pool):
        return None
    declared = _first_channels(layer)
    if len(shape) == 1:
        side = shape[0]
        channels = f" ({side}x{side}x{declared} for the {declared} input channels it " \
            "declares)" if declared else ""
        return (f"{side} is read as a flat vector of {side} values, and a {_noun(layer)} "
                f"reads an HxWxC volume: for a {side}x{side} image write {side}x{side}xC"
                f"{channels}")
    if len(shape) != 3:
        return None
    c, h, w = shape
    if not c < min(h, w):  # channels outnumber a side: not an image in CxHxW order
        return None
    if not (declared == c != w if declared is not None else c in IMAGE_CHANNELS):
        return None
    return (f"volumes are HxWxC, so {fmt_shape(shape)} is {c} high, {h} wide and {w} deep; "
            f"for {c} channels of {h}x{w} (PyTorch's CxHxW order) write {h}x{w}x{c}")


def _noun(layer: Layer) -> str:
    return "conv" if isinstance(layer, Conv) else "pooling window"


def explain_order(shape: Shape | None, results: Sequence[LayerResult],
                  diags: list[Diagnostic]) -> list[Diagnostic]:
    """``diags`` with the hint of each error on a layer that reads the network's input
    replaced by ``order_hint``'s, where it has one."""
    if shape is None:
        return diags
    hints: dict[tuple[str, int], str] = {}
    for r in results:
        if r.status == "error" and r.inputs == (0,):
            hint = order_hint(shape, r.layer)
            if hint is not None:
                hints[(r.layer.span.path, r.layer.span.line)] = hint
    if not hints:
        return diags
    return [replace(d, hint=hints[(d.span.path, d.span.line)])
            if d.severity is Severity.ERROR and (d.span.path, d.span.line) in hints else d
            for d in diags]
