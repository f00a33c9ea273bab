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

from dataclasses import dataclass, field, replace
from typing import Literal

from cnncalc.diagnostics import Diagnostic
from cnncalc.shapes import arithmetic, article, nearest_fixes, out_size, smallest_fitting_pad
from cnncalc.spec import (
    LRN,
    Activation,
    Conv,
    Dense,
    Dropout,
    Flatten,
    Layer,
    Pair,
    Pool,
    Shape,
    Span,
    Spec,
    elements,
    fmt_pair,
    fmt_scalar_pair,
    fmt_shape,
    same_shape,
)

Status = Literal["ok", "error", "not-computed"]


@dataclass(frozen=True)
class Field:
    """Where the network stands after a layer, as the receptive-field recursion sees it.

    ``extent`` is the spatial size a flat vector was flattened from, so that an FC layer after
    an explicit FLATTEN sees the same region as one placed straight after the volume.
    """

    rf: Pair = (1, 1)
    jump: Pair = (1, 1)
    extent: Pair = (1, 1)

    def window(self, kernel: Pair, stride: Pair) -> Field:
        rf = (self.rf[0] + (kernel[0] - 1) * self.jump[0],
              self.rf[1] + (kernel[1] - 1) * self.jump[1])
        return Field(rf, (self.jump[0] * stride[0], self.jump[1] * stride[1]))


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

    @property
    def ok(self) -> bool:
        from cnncalc.diagnostics import has_errors

        return not has_errors(self.diagnostics)


class _Invalid(Exception):
    """Raised inside a layer's computation; carries the diagnostics that explain why."""

    def __init__(self, *diags: Diagnostic) -> None:
        super().__init__()
        self.diags = diags


def _validate(layer: Layer) -> list[Diagnostic]:
    """Values that are wrong whatever the input: zero strides, empty filters, bad rates."""
    out: list[Diagnostic] = []

    def need(ok: bool, fname: str, what: str, hint: str) -> None:
        if not ok:
            out.append(Diagnostic(layer.span_of(fname), "G106", f"{layer.name}: {what}", hint))

    if isinstance(layer, (Conv, Pool)):
        need(min(layer.kernel) >= 1, "kernel", f"a {fmt_pair(layer.kernel)} window is empty",
             "filter sizes are 1 or more")
        need(min(layer.stride) >= 1, "stride", f"stride {fmt_scalar_pair(layer.stride)} is not "
             "a step", "strides are 1 or more; stride 1 visits every position")
    if isinstance(layer, Conv):
        need(layer.filters >= 1, "filters", f"{layer.filters} filters make an empty output",
             "use 1 or more filters")
    if isinstance(layer, Dense):
        need(layer.units >= 1, "units", f"{layer.units} neurons make an empty output",
             "use 1 or more neurons")
    if isinstance(layer, Dropout):
        need(0 <= layer.p < 1, "p", f"dropout rate {layer.p} is outside [0, 1)",
             "a dropout rate is the probability of dropping a unit, e.g. 0.5")
    return out


def _a(kernel: Pair) -> str:
    text = fmt_pair(kernel)
    return f"{article(text)} {text}"


def _unique(items: list[tuple[str, Diagnostic]]) -> list[Diagnostic]:
    """One diagnostic per distinct axis computation, width first as the lecture speaks:
    a square layer on a square input is reported once, not once per axis."""
    seen: set[str] = set()
    out = []
    for key, diag in reversed(items):
        if key not in seen:
            seen.add(key)
            out.append(diag)
    return out


def _window(layer: Conv | Pool, shape: Shape) -> tuple[Shape, tuple[Pair, Pair],
                                                       list[Diagnostic]]:
    """Output size of a sliding window on both axes, or _Invalid explaining why it has none."""
    if len(shape) != 3:
        raise _Invalid(Diagnostic(
            layer.span, "G104",
            f"{layer.name} slides a window over a volume, but its input is the flat vector "
            f"[{fmt_shape(shape)}]",
            "move this layer before the flattening or FC layer"))
    notes: list[tuple[str, Diagnostic]] = []
    problems: list[tuple[str, Diagnostic]] = []
    pads: list[Pair] = []
    sizes: list[int] = []
    solving = layer.padding.mode == "fit"
    square = shape[0] == shape[1] and layer.kernel[0] == layer.kernel[1] \
        and layer.stride[0] == layer.stride[1]
    for axis, word in ((0, "high"), (1, "wide")):
        w, f, s = shape[axis], layer.kernel[axis], layer.stride[axis]
        where = "" if square else f" on the {w}-{word} axis"
        if solving:
            p = smallest_fitting_pad(w, f, s)
            if p is None:
                problems.append((f"{w},{f},{s}", Diagnostic(
                    layer.span_of("pad"), "G103",
                    f"{layer.name}: no padding makes {_a(layer.kernel)} window at stride {s} "
                    f"fit a {w}-{word} input: (W - F + 2P) is never a multiple of {s}",
                    nearest_fixes(w, f, 0, s).describe(word))))
                continue
            pad: Pair = (p, p)
            notes.append((f"{w},{f},{s}", Diagnostic(
                layer.span_of("pad"), "I301",
                f"{layer.name}: pad ? solved as pad {p}{where}: {arithmetic(w, f, pad, s)}")))
        else:
            pad = layer.padding.h if axis == 0 else layer.padding.w
        shown_pad = pad if solving or "pad" in dict(layer.fields) else None
        size = out_size(w, f, pad[0] + pad[1], s)
        key = f"{w},{f},{s},{pad}"
        if w + pad[0] + pad[1] < f:
            problems.append((key, Diagnostic(
                layer.span_of("kernel"), "G102",
                f"{layer.name}: {_a(layer.kernel)} filter is larger than its {w}-{word} "
                f"input ({w + pad[0] + pad[1]} with padding): {arithmetic(w, f, shown_pad, s)}",
                f"use a filter of at most {w + pad[0] + pad[1]}, or more padding")))
        elif size.denominator != 1:
            noun = "filter" if isinstance(layer, Conv) else "window"
            problems.append((key, Diagnostic(
                layer.span_of("kernel", "stride", "pad"), "G101",
                f"{arithmetic(w, f, shown_pad, s)}: {_a(layer.kernel)} {noun} at stride {s} "
                f"does not fit a {w}-{word} input",
                nearest_fixes(w, f, pad[0] + pad[1], s).describe(word))))
        pads.append(pad)
        sizes.append(int(size))
    if problems:
        raise _Invalid(*_unique(problems))
    depth = layer.filters if isinstance(layer, Conv) else shape[2]
    return (sizes[0], sizes[1], depth), (pads[0], pads[1]), _unique(notes)


def _compute(layer: Layer, shape: Shape, fld: Field) -> tuple[LayerResult, list[Diagnostic]]:
    """One layer's output shape and counts from its input shape; index filled in by caller."""
    if isinstance(layer, (Conv, Pool)):
        out, pads, notes = _window(layer, shape)
        new_field = fld.window(layer.kernel, layer.stride)
        if isinstance(layer, Pool):
            return LayerResult(0, layer, "ok", shape, out, 0, 0, 0, pads, new_field), notes
        taps = layer.kernel[0] * layer.kernel[1] * shape[2]
        weights = taps * layer.filters
        biases = layer.filters if layer.bias else 0
        macs = out[0] * out[1] * layer.filters * taps
        result = LayerResult(0, layer, "ok", shape, out, weights, biases, macs, pads, new_field)
        return result, notes
    if isinstance(layer, Dense):
        n_in = elements(shape)
        extent = (shape[0], shape[1]) if len(shape) == 3 else fld.extent
        new_field = fld.window(extent, (1, 1))
        biases = layer.units if layer.bias else 0
        return LayerResult(0, layer, "ok", shape, (layer.units,), n_in * layer.units, biases,
                           n_in * layer.units, None, new_field), []
    if isinstance(layer, Flatten):
        extent = (shape[0], shape[1]) if len(shape) == 3 else fld.extent
        return LayerResult(0, layer, "ok", shape, (elements(shape),), 0, 0, 0, None,
                           Field(fld.rf, fld.jump, extent)), []
    if isinstance(layer, (LRN, Activation, Dropout)):
        return LayerResult(0, layer, "ok", shape, shape, 0, 0, 0, None, fld), []
    raise _Invalid()  # a layer the front end could not read; it already said why


def _missing_input(spec: Spec, diags: list[Diagnostic]) -> None:
    """P004, unless the INPUT line is there and already has an error of its own."""
    at = spec.input_span
    if at is not None:
        if not any(d.span.line == at.line for d in diags):
            diags.append(Diagnostic(at, "P004", "INPUT declares no volume",
                                    "write it as `[227x227x3] INPUT`, or pass --input 227x227x3"))
        return
    line = spec.layers[0].span.line if spec.layers else 1
    diags.append(Diagnostic(
        Span(spec.path, line, 1, 2), "P004", "no input volume: the spec has no INPUT line",
        "add a first line such as `[227x227x3] INPUT`, or pass --input 227x227x3"))


def analyze(spec: Spec, input_override: Shape | None = None) -> Analysis:
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
            res, notes = _compute(layer, current, fld)
        except _Invalid as exc:
            diags.extend(exc.diags)
            results.append(LayerResult(index, layer, "error", input_shape=current))
            current = None
            continue
        diags.extend(notes)
        res = replace(res, index=index)
        if layer.declared is not None and res.output_shape is not None and not same_shape(
                layer.declared, res.output_shape):
            diags.append(Diagnostic(
                layer.declared_span or layer.span, "D201",
                f"{layer.name} is declared [{fmt_shape(layer.declared)}] but computes "
                f"[{fmt_shape(res.output_shape)}]",
                f"write [{fmt_shape(res.output_shape)}], or change the layer so that it gives "
                f"[{fmt_shape(layer.declared)}]"))
        results.append(res)
        current, fld = res.output_shape, res.field

    totals = None
    if shape is not None and results and all(r.status == "ok" for r in results):
        w = sum(r.weights or 0 for r in results)
        b = sum(r.biases or 0 for r in results)
        m = sum(r.macs or 0 for r in results)
        totals = Totals(w, b, w + b, m, 2 * m, sum(r.activations or 0 for r in results))
    diags.sort(key=lambda d: d.sort_key)
    return Analysis(spec, shape, tuple(results), tuple(diags), totals)
