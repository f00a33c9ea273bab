"""Analysis: a pure function from a Spec to per-layer records, totals and diagnostics.

Conventions (also stated in the README and under every table):

- weights: conv ``Fh*Fw*D1*K``, FC ``in*out``; biases: ``K`` / ``out``; params = weights + biases.
- MACs (multiply-accumulates): conv ``H2*W2*K*Fh*Fw*D1``, FC ``in*out``; bias additions, pooling,
  normalisation and activations are not counted. FLOPs = 2 x MACs.
- activations: elements of each layer's output volume (the network input is not counted).
- receptive field: the side of the input region one output neuron sees, counted in padded input
  pixels, with the jump (product of strides); ``rf' = rf + (F - 1)*jump``, ``jump' = jump*S``.

Every count is a Python int. A layer whose output cannot be computed is an error and every
layer after it is marked not computed: nothing is guessed, and totals are then absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from cnncalc.diagnostics import Diagnostic, has_errors
from cnncalc.layers import Field, Invalid, compute
from cnncalc.spec import (
    AdaptivePool,
    Conv,
    Dense,
    Dropout,
    Layer,
    Pair,
    Pool,
    Rounding,
    Shape,
    Span,
    Spec,
    ZeroPad,
    elements,
    fmt_pair,
    fmt_scalar_pair,
    fmt_shape,
    same_shape,
)

__all__ = ["Analysis", "Field", "LayerResult", "Totals", "analyze"]

Status = Literal["ok", "error", "not-computed"]


@dataclass(frozen=True)
class LayerResult:
    index: int
    layer: Layer
    status: Status
    input_shape: Shape | None = None
    output_shape: Shape | None = None
    weights: int | None = None
    biases: int | None = None
    macs: int | None = None
    padding: tuple[Pair, Pair] | None = None
    field: Field | None = None
    buffers: int | None = None
    rounded: bool = False

    @property
    def params(self) -> int | None:
        if self.weights is None or self.biases is None:
            return None
        return self.weights + self.biases

    @property
    def flops(self) -> int | None:
        return None if self.macs is None else 2 * self.macs

    @property
    def activations(self) -> int | None:
        return None if self.output_shape is None else elements(self.output_shape)


@dataclass(frozen=True)
class Totals:
    weights: int
    biases: int
    params: int
    buffers: int
    macs: int
    flops: int
    activations: int


@dataclass(frozen=True)
class Analysis:
    spec: Spec
    input: Shape | None
    layers: tuple[LayerResult, ...]
    diagnostics: tuple[Diagnostic, ...]
    totals: Totals | None = field(default=None)
    rounding: Rounding = "strict"

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def _validate(layer: Layer) -> list[Diagnostic]:
    """Values that are wrong whatever the input: zero strides, empty filters, bad rates.
    Each test comes before its message, so that a valid layer (nearly all) formats none."""
    out: list[Diagnostic] = []

    def bad(fname: str, what: str, hint: str) -> None:
        out.append(Diagnostic(layer.span_of(fname), "G106", f"{layer.name}: {what}", hint))

    if isinstance(layer, (Conv, Pool)):
        if not min(layer.kernel) >= 1:
            bad("kernel", f"a {fmt_pair(layer.kernel)} window is empty",
                "filter sizes are 1 or more")
        if not min(layer.stride) >= 1:
            bad("stride", f"stride {fmt_scalar_pair(layer.stride)} is not a step",
                "strides are 1 or more; stride 1 visits every position")
    if isinstance(layer, (Conv, Pool, ZeroPad)):
        p = layer.padding
        if not min(p.h + p.w) >= 0:
            bad("pad", "negative padding", "padding is 0 or more")
    if isinstance(layer, (Conv, Pool)) and not min(layer.dilation) >= 1:
        bad("dilation", f"dilation {fmt_scalar_pair(layer.dilation)}", "dilation is 1 or more")
    if isinstance(layer, Conv):
        if not (layer.filters >= 1 or layer.depth_multiplier is not None):
            bad("filters", f"{layer.filters} filters make an empty output",
                "use 1 or more filters")
        if not layer.groups >= 1:
            bad("groups", f"{layer.groups} groups", "groups are 1 or more")
        if layer.depth_multiplier is not None and not layer.depth_multiplier >= 1:
            bad("depth_multiplier", f"depth multiplier {layer.depth_multiplier}",
                "the multiplier is 1 or more")
        if not min(layer.output_padding) >= 0:
            bad("output_padding", "negative output_padding", "output_padding is 0 or more")
    if isinstance(layer, AdaptivePool) and not min(layer.output) >= 1:
        bad("output", f"output size {fmt_pair(layer.output)}",
            "adaptive pooling gives 1 or more cells per axis")
    if isinstance(layer, Dense) and not layer.units >= 1:
        bad("units", f"{layer.units} neurons make an empty output", "use 1 or more neurons")
    if isinstance(layer, Dropout) and not 0 <= layer.p < 1:
        bad("p", f"dropout rate {layer.p} is outside [0, 1)",
            "a dropout rate is the probability of dropping a unit, e.g. 0.5")
    return out


def _missing_input(spec: Spec, diags: list[Diagnostic]) -> None:
    """P004, unless the INPUT line is there and already has an error of its own."""
    at = spec.input_span
    if at is not None:
        if not any(d.span.line == at.line for d in diags):
            diags.append(Diagnostic(at, "P004", "INPUT declares no volume",
                                    "write it as `[227x227x3] INPUT`, or pass --input 227x227x3"))
        return
    line = spec.layers[0].span.line if spec.layers else 1
    where = {"pytorch": "a comment `# cnncalc: input 224x224x3`",
             "keras": "an `input_shape=(28, 28, 1)` argument"}.get(
        spec.notation, "a first line such as `[227x227x3] INPUT`")
    diags.append(Diagnostic(
        Span(spec.path, line, 1, 2), "P004", "no input volume: the spec does not give one",
        f"add {where}, or pass --input 227x227x3"))


def analyze(spec: Spec, input_override: Shape | None = None,
            rounding: Rounding | None = None) -> Analysis:
    """Walk the layers in order. ``rounding`` None uses the notation's own policy."""
    policy: Rounding = rounding or spec.rounding
    diags: list[Diagnostic] = list(spec.diagnostics)
    shape = input_override if input_override is not None else spec.input
    if shape is None:
        _missing_input(spec, diags)
    elif min(shape) < 1:
        span = spec.input_span or Span(spec.path, 1, 1, 1)
        diags.append(Diagnostic(span, "G106", f"input volume [{fmt_shape(shape)}] is empty",
                                "every input dimension is 1 or more"))
        shape = None
    if not spec.layers and shape is not None and not spec.diagnostics:
        diags.append(Diagnostic(spec.input_span or Span(spec.path, 1, 1, 1), "G105",
                                "the spec has an input but no layers",
                                "add layers after the INPUT line, e.g. `CONV1: 16 3x3 filters`"))

    results: list[LayerResult] = []
    fld: Field | None = Field() if shape is not None else None
    current = shape
    for index, layer in enumerate(spec.layers, start=1):
        bad_values = _validate(layer)
        diags.extend(bad_values)
        if current is None or fld is None or bad_values:
            status: Status = "error" if bad_values else "not-computed"
            results.append(LayerResult(index, layer, status, input_shape=current))
            current = None
            continue
        try:
            c = compute(layer, current, fld, policy)
        except Invalid as exc:
            diags.extend(exc.diags)
            results.append(LayerResult(index, layer, "error", input_shape=current))
            current = None
            continue
        diags.extend(c.notes)
        res = LayerResult(index, layer, "ok", current, c.output, c.weights, c.biases, c.macs,
                          c.padding, c.field, c.buffers, c.rounded)
        if layer.declared is not None and res.output_shape is not None and not same_shape(
                layer.declared, res.output_shape):
            diags.append(Diagnostic(
                layer.declared_span or layer.span, "D201",
                f"{layer.name} is declared [{fmt_shape(layer.declared)}] but computes "
                f"[{fmt_shape(res.output_shape)}]",
                f"write [{fmt_shape(res.output_shape)}], or change the layer so that it gives "
                f"[{fmt_shape(layer.declared)}]"))
        if layer.declared_weights is not None and layer.declared_weights != res.weights:
            biases = f"; weights leave out the {res.biases:,} biases" if res.biases else ""
            diags.append(Diagnostic(
                layer.declared_weights_span or layer.span, "D202",
                f"{layer.name} declares weights: {layer.declared_weights:,} but computes "
                f"{res.weights:,}", f"write {res.weights:,}{biases}"))
        results.append(res)
        current, fld = res.output_shape, res.field

    totals = None
    if shape is not None and results and all(r.status == "ok" for r in results):
        w = sum(r.weights or 0 for r in results)
        b = sum(r.biases or 0 for r in results)
        m = sum(r.macs or 0 for r in results)
        totals = Totals(w, b, w + b, sum(r.buffers or 0 for r in results), m, 2 * m,
                        sum(r.activations or 0 for r in results))
    diags.sort(key=lambda d: d.sort_key)
    return Analysis(spec, shape, tuple(results), tuple(diags), totals, policy)
