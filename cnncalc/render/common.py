"""What every renderer says the same way: a layer's settings, its receptive field, the
conventions line, and the JSON-ready record that json and csv are both built from."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from cnncalc.analyze import Analysis, LayerResult
from cnncalc.spec import Conv, Dense, Dropout, Pool, fmt_pair, fmt_scalar_pair, fmt_shape

CONVENTIONS = (
    "MACs = multiply-accumulates (bias additions not counted); FLOPs = 2 x MACs; "
    "params = weights + biases; acts = output elements per example; "
    "RF = receptive field in input pixels"
)


def describe(r: LayerResult) -> str:
    """Filter / stride / pad in a few characters: ``11x11 s4 p0``, ``max 3x3 s2``."""
    layer = r.layer
    if isinstance(layer, (Conv, Pool)):
        head = fmt_pair(layer.kernel)
        if isinstance(layer, Pool):
            head = f"{layer.op} {head}"
        text = f"{head} s{fmt_scalar_pair(layer.stride)}"
        if layer.padding.mode == "fit":
            solved = r.padding
            text += "" if solved is None else f" p?={fmt_scalar_pair((solved[0][0], solved[1][0]))}"
            return text if solved is not None else text + " p?"
        pad = layer.padding.describe()
        return text if pad == "0" and isinstance(layer, Pool) else f"{text} p{pad}"
    if isinstance(layer, Dense):
        return "fc" if layer.bias else "fc, no bias"
    if isinstance(layer, Dropout):
        return f"dropout {layer.p:g}"
    return layer.kind


def plain(x: int | Fraction) -> int | float:
    """A receptive-field figure for JSON: an int, or (after a transposed conv) a float."""
    return x if isinstance(x, int) else (x.numerator if x.denominator == 1 else
                                         round(float(x), 4))


def receptive_field(r: LayerResult) -> str:
    if r.field is None:
        return ""
    h, w = (plain(v) for v in r.field.rf)
    return f"{h:g}" if h == w else f"{h:g}x{w:g}"


def shape_list(shape: tuple[int, ...] | None) -> list[int] | None:
    return None if shape is None else list(shape)


def layer_record(r: LayerResult) -> dict[str, Any]:
    """One layer as the stable JSON keys name it (csv flattens the same record)."""
    return {
        "index": r.index,
        "name": r.layer.name,
        "kind": r.layer.kind,
        "line": r.layer.span.line,
        "layer": describe(r),
        "status": r.status,
        "input_shape": shape_list(r.input_shape),
        "output_shape": shape_list(r.output_shape),
        "weights": r.weights,
        "biases": r.biases,
        "params": r.params,
        "macs": r.macs,
        "flops": r.flops,
        "activations": r.activations,
        "buffers": r.buffers,
        "rounded": r.rounded,
        "receptive_field": None if r.field is None else [plain(v) for v in r.field.rf],
        "jump": None if r.field is None else [plain(v) for v in r.field.jump],
    }


def analysis_record(a: Analysis) -> dict[str, Any]:
    t = a.totals
    return {
        "path": a.spec.path,
        "notation": a.spec.notation,
        "input": shape_list(a.input),
        "layers": [layer_record(r) for r in a.layers],
        "totals": None if t is None else {
            "params": t.params, "weights": t.weights, "biases": t.biases, "buffers": t.buffers,
            "macs": t.macs, "flops": t.flops, "activations": t.activations,
        },
        "conventions": CONVENTIONS,
        "diagnostics": [d.to_dict() for d in a.diagnostics],
    }


def status_text(r: LayerResult) -> str:
    """What the output column says when there is no output."""
    return "error" if r.status == "error" else "not computed"


def volume(shape: tuple[int, ...] | None) -> str:
    return "" if shape is None else fmt_shape(shape)
