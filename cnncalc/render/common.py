"""What every renderer says the same way: a layer's settings, its receptive field, the
conventions line, and the JSON-ready record that json and csv are both built from."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Any

from cnncalc.analyze import Analysis, LayerResult
from cnncalc.diagnostics import Severity
from cnncalc.escape import escape
from cnncalc.layers import rounds_up
from cnncalc.render.memory import Memory, human_bytes
from cnncalc.shapes import fmt_fraction
from cnncalc.spec import (
    AdaptivePool,
    BatchNorm,
    Conv,
    Dense,
    Dropout,
    GlobalPool,
    Merge,
    Pool,
    ZeroPad,
    fmt_pair,
    fmt_scalar_pair,
    fmt_shape,
)

CONVENTIONS = (
    "MACs = multiply-accumulates (bias additions not counted); FLOPs = 2 x MACs; "
    "params = weights + biases; acts = output elements per example; "
    "inference peak = the most elements alive at once (input included; each output freed "
    "after its last reader); RF = receptive field in input pixels"
)
MERGES = ("merges (add, concat, multiply) have no params and no MACs: an elementwise sum or "
          "product is not a multiply-accumulate")
FOLDED = ("a folded row (#first-last) sums its layers' params, MACs and acts; its output and RF "
          "are its last layer's")


def conventions(a: Analysis, folded: bool = False) -> str:
    """The conventions line, with what the network (merges) and the view (folded rows) add."""
    extra = ([MERGES] if any(isinstance(r.layer, Merge) for r in a.layers) else []) + (
        [FOLDED] if folded else [])
    return "; ".join([CONVENTIONS, *extra])


def describe(r: LayerResult) -> str:
    """A layer's settings in a few characters: ``11x11 s4 p0``, ``max 3x3 s2``, ``dw 3x3 s1
    same``, ``up 4x4 s2 p1`` (transposed); ``d2`` dilation, ``g4`` groups, ``ceil`` ceil mode,
    ``nb`` no bias; ``p?=1`` a solved ``pad ?``."""
    layer = r.layer
    if isinstance(layer, (Conv, Pool)):
        parts = [fmt_pair(layer.kernel), f"s{fmt_scalar_pair(layer.stride)}"]
        if isinstance(layer, Pool):
            parts.insert(0, layer.op)
        elif layer.transposed:
            parts.insert(0, "up")
        elif layer.depth_multiplier is not None:
            parts.insert(0, "dw" if layer.depth_multiplier == 1 else f"dw*{layer.depth_multiplier}")
        pad = layer.padding
        if pad.mode == "fit":
            solved = r.padding
            parts.append("p?" if solved is None else
                         f"p?={fmt_scalar_pair((solved[0][0], solved[1][0]))}")
        elif pad.mode == "same":
            parts.append("same")
        elif not (isinstance(layer, Pool) and pad.describe() == "0"):
            parts.append(f"p{pad.describe()}")
        if layer.dilation != (1, 1):
            parts.append(f"d{fmt_scalar_pair(layer.dilation)}")
        if isinstance(layer, Conv):
            if layer.groups != 1:
                parts.append(f"g{layer.groups}")
            if layer.output_padding != (0, 0):
                parts.append(f"op{fmt_scalar_pair(layer.output_padding)}")
            if not layer.bias:
                parts.append("nb")
        elif layer.ceil_mode:
            parts.append("ceil")
        return " ".join(parts)
    if isinstance(layer, Dense):
        return "fc" if layer.bias else "fc nb"
    if isinstance(layer, Dropout):
        return f"dropout {fmt_fraction(layer.p)}"
    if isinstance(layer, GlobalPool):
        return f"global {layer.op}"
    if isinstance(layer, AdaptivePool):
        return f"adaptive {layer.op} {fmt_pair(layer.output)}"
    if isinstance(layer, BatchNorm):
        return "bn"
    if isinstance(layer, ZeroPad):
        return f"zeropad {layer.padding.describe()}"
    return layer.kind


def plain(x: int | Fraction) -> int | str:
    """A receptive-field or jump figure for JSON: an int, or (after a transposed conv, whose
    jump is a fraction) the exact value as text, ``"3.5"`` or ``"7/3"``: never a float."""
    if x.__class__ is int:
        return x
    if isinstance(x, int) or x.denominator == 1:
        return int(x)
    return fmt_fraction(x)


def receptive_field(r: LayerResult) -> str:
    if r.field is None:
        return ""
    rf_h, rf_w = r.field.rf
    h = fmt_fraction(rf_h)
    return h if rf_w == rf_h else f"{h}x{fmt_fraction(rf_w)}"


def shape_list(shape: tuple[int, ...] | None) -> list[int] | None:
    return None if shape is None else list(shape)


def layer_record(r: LayerResult) -> dict[str, Any]:
    """One layer as the stable JSON keys name it (csv flattens the same record)."""
    layer, field, out = r.layer, r.field, r.output_shape
    return {
        "index": r.index,
        "name": layer.name,
        "kind": layer.kind,
        "line": layer.span.line,
        "layer": describe(r),
        "status": r.status,
        "input_shape": None if r.input_shape is None else list(r.input_shape),
        "output_shape": None if out is None else list(out),
        "weights": r.weights,
        "biases": r.biases,
        "params": r.params,
        "macs": r.macs,
        "flops": r.flops,
        "activations": r.activations,
        "buffers": r.buffers,
        "rounded": r.rounded,
        "assumed": r.assumed,
        "receptive_field": None if field is None else [plain(v) for v in field.rf],
        "jump": None if field is None else [plain(v) for v in field.jump],
        "inputs": list(r.inputs),
    }


def layer_records(a: Analysis, memory: Memory | None = None) -> Iterator[dict[str, Any]]:
    """Each layer's record, with its activation bytes, made as it is asked for (``to_json``
    encodes one and drops it before making the next)."""
    scale = (memory or Memory()).activations(1)  # bytes an element
    for r in a.layers:
        rec = layer_record(r)
        acts = rec["activations"]
        rec["activation_bytes"] = None if acts is None else acts * scale
        yield rec


def analysis_record(a: Analysis, memory: Memory | None = None,
                    layers: bool = True) -> dict[str, Any]:
    """The whole analysis as JSON keys name it; without ``layers``, its ``layers`` list is
    left empty for the caller to fill from ``layer_records``."""
    t = a.totals
    mem = memory or Memory()
    return {
        "path": a.spec.path,
        "notation": a.spec.notation,
        "rounding": a.rounding,
        "batch": mem.batch,
        "dtype": mem.dtype,
        "input": shape_list(a.input),
        "layers": list(layer_records(a, mem)) if layers else [],
        "output": a.output,
        "totals": None if t is None else {
            "params": t.params, "weights": t.weights, "biases": t.biases, "buffers": t.buffers,
            "macs": t.macs, "flops": t.flops, "activations": t.activations,
            "activation_bytes": mem.activations(t.activations),
            "param_bytes": mem.params(t.params, t.buffers),
            "peak_activations": t.peak_activations,
            "peak_activation_bytes": mem.activations(t.peak_activations),
            "assumed": [*t.assumed, "activation_bytes", "peak_activations",
                        "peak_activation_bytes"] if t.assumed else [],
        },
        "conventions": conventions(a),
        "diagnostics": [d.to_dict() for d in a.diagnostics],
    }


def volume(shape: tuple[int, ...] | None) -> str:
    return "" if shape is None else fmt_shape(shape)


def withheld(a: Analysis) -> str:
    """Why the totals are absent: the first layer with an error, or the first error."""
    bad = next((r for r in a.layers if r.status == "error"), None)
    if bad is not None:
        return (f"totals withheld: layer {bad.index} ({escape(bad.layer.name)}, line "
                f"{bad.layer.span.line}) has an error")
    first = next((d for d in a.diagnostics if d.severity is Severity.ERROR), None)
    if first is not None:
        return f"totals withheld: the spec has an error ({first.code}, line {first.span.line})"
    return "totals withheld: the network was not computed"


def summary_line(a: Analysis, memory: Memory) -> str:
    """Exact totals in one sentence, with memory for the batch and dtype asked for, and the
    notation the text was read as."""
    t = a.totals
    said = f"Read as {a.spec.notation} notation."  # detected unless --notation named it
    if t is None:
        return f"{withheld(a)}. {said}"
    text = (f"{t.params:,} params ({t.weights:,} weights + {t.biases:,} biases), "
            f"{t.macs:,} MACs = {t.flops:,} FLOPs, {t.activations:,} activations in all, "
            f"{t.peak_activations:,} at the inference peak")
    if t.buffers:
        text += f"; {t.buffers:,} buffers (batch-norm running statistics, not params)"
    for up, how in ((False, "rounded down (floor)"), (True, "rounded up (ceil mode)")):
        rounded = [escape(r.layer.name) for r in a.layers
                   if r.rounded and rounds_up(r.layer, a.rounding) == up]
        if rounded:
            text += f"; {how}: {', '.join(rounded)}"
    text = (f"{text}. Memory ({memory.dtype}, batch {memory.batch}): activations "
            f"{human_bytes(memory.activations(t.activations))} in all, "
            f"{human_bytes(memory.activations(t.peak_activations))} at the inference peak; "
            f"parameters {human_bytes(memory.params(t.params, t.buffers))}. {said}")
    return f"{text} {assumption(a)}" if t.assumed else text


ASSUMED_MARK = "~"


def assumption(a: Analysis) -> str:
    """What the ``~`` marks rest on: the containers whose forward() is not known."""
    names = list(dict.fromkeys(r.assumed for r in a.layers if r.assumed))
    whose = ", ".join("the `self.` modules" if n == "self" else f"`{escape(n)}`" for n in names)
    return (f"{ASSUMED_MARK} rests on an assumed wiring: the forward() of {whose} is not known, "
            "so the children were read in the order written (P014); volumes, MACs and "
            "activations from there on are only as right as that order. Params are exact.")

