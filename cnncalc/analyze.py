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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from cnncalc.diagnostics import Diagnostic, Severity, has_errors
from cnncalc.layers import RULES, Field, Invalid, rule_for
from cnncalc.shapes import fmt_fraction
from cnncalc.spec import (
    LRN,
    Activation,
    AdaptivePool,
    BatchNorm,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalPool,
    Layer,
    Padding,
    Pair,
    Pool,
    Rounding,
    Shape,
    Span,
    Spec,
    Unparsed,
    ZeroPad,
    elements,
    fmt_pair,
    fmt_scalar_pair,
    fmt_shape,
    same_shape,
)

__all__ = ["Analysis", "Field", "LayerResult", "Totals", "analyze"]

Status = Literal["ok", "error", "not-computed"]


# analyze() makes these with _result(), below, which must list the same fields (a test checks)
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
    assumed: str | None = None

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


_new = object.__new__


def _result(index: int, layer: Layer, status: Status, input_shape: Shape | None = None,
            output_shape: Shape | None = None, weights: int | None = None,
            biases: int | None = None, macs: int | None = None,
            padding: tuple[Pair, Pair] | None = None, field: Field | None = None,
            buffers: int | None = None, rounded: bool = False,
            assumed: str | None = None) -> LayerResult:
    """``LayerResult(...)`` with the same fields and defaults, made about 3x faster: a frozen
    dataclass's ``__init__`` sets each of its twelve fields with an ``object.__setattr__``
    call; here they go straight into the instance's ``__dict__``, in field order (so that the
    dictionary shares its keys with the other instances' as after ``__init__``, at a third of
    the size of a dictionary of its own). Still frozen, equal and hashed alike."""
    result = _new(LayerResult)
    values = result.__dict__
    values["index"] = index
    values["layer"] = layer
    values["status"] = status
    values["input_shape"] = input_shape
    values["output_shape"] = output_shape
    values["weights"] = weights
    values["biases"] = biases
    values["macs"] = macs
    values["padding"] = padding
    values["field"] = field
    values["buffers"] = buffers
    values["rounded"] = rounded
    values["assumed"] = assumed
    return result


ASSUMED_FIGURES = ("macs", "flops", "activations")
"""What rests on an assumed wiring: the volumes a layer receives, so its MACs and activations.
Params do not: every layer a wiring is assumed for declares its input channels or features
(PyTorch's ``Conv2d(64, ...)``), and a layer that receives others is a C001 error."""


@dataclass(frozen=True)
class Totals:
    weights: int
    biases: int
    params: int
    buffers: int
    macs: int
    flops: int
    activations: int
    assumed: tuple[str, ...] = ()  # the figures that rest on an assumed wiring


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


MAX_FIGURE_DIGITS = 4200
_MAX_FIGURE = 10**MAX_FIGURE_DIGITS
"""Figures of more than 4,200 digits are refused (G108): every figure cnncalc prints, and what
it is summed or multiplied into (totals over any number of layers, bytes at any batch), stays
under the 4,300 digits Python writes out, and no input makes the arithmetic slow."""


def _too_large(what: str, n: int, at: Span, name: str) -> Diagnostic:
    digits = n.bit_length() * 30103 // 100000 + 1  # about log10(n) + 1, without str(n)
    return Diagnostic(at, "G108", f"{name}: its {what} would be a number of about {digits:,} "
                      f"digits; cnncalc computes figures of up to {MAX_FIGURE_DIGITS:,} digits",
                      "use sizes a network can have")


def _invalid_values(layer: Layer) -> list[Diagnostic]:
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
    if isinstance(layer, (Conv, Pool)):
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
        bad("p", f"dropout rate {fmt_fraction(layer.p)} is outside [0, 1)",
            "a dropout rate is the probability of dropping a unit, e.g. 0.5")
    if not out:
        for fname, v in _numbers(layer):
            if abs(v) >= _MAX_FIGURE:
                out.append(_too_large(fname.replace("_", " "), abs(v), layer.span_of(fname),
                                      layer.name))
                break
    return out


def _numbers(layer: Layer) -> list[tuple[str, int]]:
    """The numbers a layer's arithmetic uses, by option name (G108 bounds them)."""
    found: list[tuple[str, int]] = []
    if isinstance(layer, (Conv, Pool, ZeroPad)):
        p = layer.padding
        found += [("pad", v) for v in (*p.h, *p.w)]
    if isinstance(layer, (Conv, Pool)):
        found += [("kernel", v) for v in layer.kernel] + [("stride", v) for v in layer.stride]
        found += [("dilation", v) for v in layer.dilation]
    if isinstance(layer, Conv):
        found += [("filters", layer.filters), ("groups", layer.groups),
                  ("depth_multiplier", layer.depth_multiplier or 1)]
        found += [("output_padding", v) for v in layer.output_padding]
    if isinstance(layer, AdaptivePool):
        found += [("output", v) for v in layer.output]
    if isinstance(layer, Dense):
        found.append(("units", layer.units))
    return found


def _padding_valid(padding: Padding) -> bool:
    (top, bottom), (left, right) = padding.h, padding.w
    return top >= 0 and bottom >= 0 and left >= 0 and right >= 0


def _window_valid(layer: Conv | Pool) -> bool:
    kernel, stride, dilation, pad = layer.kernel, layer.stride, layer.dilation, layer.padding
    return (kernel[0] >= 1 and kernel[1] >= 1 and stride[0] >= 1 and stride[1] >= 1
            and _padding_valid(pad) and dilation[0] >= 1 and dilation[1] >= 1
            and max(*kernel, *stride, *dilation, *pad.h, *pad.w) < _MAX_FIGURE)


def _conv_valid(layer: Conv) -> bool:
    multiplier, output_padding = layer.depth_multiplier, layer.output_padding
    return (_window_valid(layer) and (layer.filters >= 1 or multiplier is not None)
            and layer.groups >= 1 and (multiplier is None or multiplier >= 1)
            and output_padding[0] >= 0 and output_padding[1] >= 0
            and max(layer.filters, layer.groups, multiplier or 1, *output_padding)
            < _MAX_FIGURE)


def _no_values(layer: Layer) -> bool:
    return True


_VALID: dict[type[Layer], Callable[[Any], bool]] = {
    Conv: _conv_valid,
    Pool: _window_valid,
    ZeroPad: lambda layer: max(map(abs, (*layer.padding.h, *layer.padding.w))) < _MAX_FIGURE,
    AdaptivePool: lambda layer: (layer.output[0] >= 1 and layer.output[1] >= 1
                                 and max(layer.output) < _MAX_FIGURE),
    Dense: lambda layer: 1 <= layer.units < _MAX_FIGURE,
    Dropout: lambda layer: 0 <= layer.p < 1,
    **dict.fromkeys((BatchNorm, GlobalPool, LRN, Activation, Flatten, Unparsed), _no_values),
}
"""Per layer class, ``_invalid_values``'s tests for that class negated, in its order: True
means it would report nothing, which a valid layer (nearly all) learns from one dictionary
lookup and a few comparisons instead of its chain of isinstance tests. ``min(pair) >= 1`` is
written ``pair[0] >= 1 and pair[1] >= 1`` (a Pair is two ints, and min() is several times
slower). A class not here, and any layer a test fails for, goes through ``_invalid_values``
itself, which writes the messages."""


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


_INPUT_CODES = frozenset(("P004", "P005", "P007", "G105"))
"""Errors about the network's input or the file as a whole, not about a layer on their line
(a missing input is reported at the first layer's span)."""

def _flagged_lines(front_end: tuple[Diagnostic, ...]) -> frozenset[int]:
    """The lines on which the front end reported an error about a layer."""
    return frozenset(d.span.line for d in front_end
                     if d.code not in _INPUT_CODES and d.severity is Severity.ERROR)


def _on_lines(layer: Layer, lines: frozenset[int]) -> bool:
    """Whether the layer's text, or the text of one of its options, is on one of ``lines``."""
    return layer.span.line in lines or any(s.line in lines for _, s in layer.fields)


def _small_field(fld: Field) -> bool:
    """Whether the receptive field and jump are within the limit (a fraction's terms too)."""
    for v in (*fld.rf, *fld.jump):
        if type(v) is int:
            if v >= _MAX_FIGURE:
                return False
        elif max(v.numerator, v.denominator) >= _MAX_FIGURE:
            return False
    return True


def _oversized(layer: Layer, acts: int, fld: Field, counts: tuple[int, int, int, int]
               ) -> Diagnostic:
    """G108 for the first figure of a computed layer past the limit."""
    for what, n in (("activations", acts), ("weights", counts[0]), ("biases", counts[1]),
                    ("buffers", counts[2]), ("MACs", counts[3])):
        if n >= _MAX_FIGURE:
            return _too_large(what, n, layer.span, layer.name)
    big = max(v if isinstance(v, int) else max(v.numerator, v.denominator)
              for v in (*fld.rf, *fld.jump))
    return _too_large("receptive field", big, layer.span, layer.name)


def _wiring_hint(wiring: str) -> str:
    whose = ("the order forward() calls the `self.` modules in" if wiring == "self"
             else f"the wiring of `{wiring}` (its forward() is not known)")
    return (f"cnncalc assumed {whose}: the real network may pool, reshape or branch before "
            "this layer; check that first")


def _blame_wiring(found: Sequence[Diagnostic], wiring: str | None) -> Sequence[Diagnostic]:
    """On a layer whose input rests on an assumed wiring, an error is more likely the
    assumption's than the text's: its hint says so instead of proposing to change a figure
    that may be right."""
    if wiring is None:
        return found
    hint = _wiring_hint(wiring)
    return [replace(d, hint=hint) if d.severity is Severity.ERROR else d for d in found]


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
    elif elements(shape) >= _MAX_FIGURE:
        diags.append(_too_large("element count", elements(shape),
                                spec.input_span or Span(spec.path, 1, 1, 2), "the input"))
        shape = None
    if not spec.layers and shape is not None and not spec.diagnostics:
        diags.append(Diagnostic(spec.input_span or Span(spec.path, 1, 1, 1), "G105",
                                "the spec has an input but no layers",
                                "add layers after the INPUT line, e.g. `CONV1: 16 3x3 filters`"))

    results: list[LayerResult] = []
    flagged = _flagged_lines(spec.diagnostics)
    fld: Field | None = Field() if shape is not None else None
    current = shape
    # the totals, summed as the layers are computed; kept only when every layer computes
    weights = biases = buffers = macs = activations = 0
    complete = True
    assumed: str | None = None  # the container whose unknown wiring what follows rests on
    for index, layer in enumerate(spec.layers, start=1):
        cls = type(layer)
        assumed = layer.wiring or assumed
        valid = _VALID.get(cls)
        bad_values: Sequence[Diagnostic] = (
            () if valid is not None and valid(layer) else _invalid_values(layer))
        misread = bool(flagged) and _on_lines(layer, flagged)
        if bad_values or misread or current is None or fld is None:
            diags.extend(bad_values)
            status: Status = "error" if bad_values or misread else "not-computed"
            results.append(_result(index, layer, status, current, assumed=assumed))
            current = None
            complete = False
            continue
        if layer.declared_input is not None and not same_shape(layer.declared_input[0],
                                                               current):
            given, at = layer.declared_input
            diags.append(Diagnostic(
                at, "C001", f"{layer.name} declares the input [{fmt_shape(given)}] but "
                f"receives [{fmt_shape(current)}]", _wiring_hint(assumed) if assumed else
                "an input shape after the first layer is a claim about what the layer "
                f"receives: write [{fmt_shape(current)}], or change the layers before it so "
                f"that they give [{fmt_shape(given)}]"))
            results.append(_result(index, layer, "error", current, assumed=assumed))
            current = None
            complete = False
            continue
        try:
            rule = RULES.get(cls) or rule_for(cls)  # what layers.compute does
            output, out_field, w, b, buf, m, padding, rounded, notes = rule(
                layer, current, fld, policy)
        except Invalid as exc:
            diags.extend(_blame_wiring(exc.diags, assumed))
            results.append(_result(index, layer, "error", current, assumed=assumed))
            current = None
            complete = False
            continue
        failed = False
        if notes:
            failed = has_errors(notes)
            diags.extend(_blame_wiring(notes, assumed) if failed else notes)
        declared = layer.declared
        if declared is not None and declared != output and not same_shape(declared, output):
            diags.append(Diagnostic(
                layer.declared_span or layer.span, "D201",
                f"{layer.name} is declared [{fmt_shape(declared)}] but computes "
                f"[{fmt_shape(output)}]",
                f"write [{fmt_shape(output)}], or change the layer so that it gives "
                f"[{fmt_shape(declared)}]"))
            failed = True
        if failed:  # its figures would rest on the error: neither shown nor passed on
            results.append(_result(index, layer, "error", current, assumed=assumed))
            current = None
            complete = False
            continue
        acts = elements(output)
        if w >= _MAX_FIGURE or m >= _MAX_FIGURE or acts >= _MAX_FIGURE or buf >= _MAX_FIGURE \
                or not _small_field(out_field):
            diags.append(_oversized(layer, acts, out_field, (w, b, buf, m)))
            results.append(_result(index, layer, "error", current, assumed=assumed))
            current = None
            complete = False
            continue
        if layer.declared_weights is not None and layer.declared_weights != w:
            with_biases = f"; weights leave out the {b:,} biases" if b else ""
            diags.append(Diagnostic(
                layer.declared_weights_span or layer.span, "D202",
                f"{layer.name} declares weights: {layer.declared_weights:,} but computes "
                f"{w:,}", f"write {w:,}{with_biases}"))
        results.append(_result(index, layer, "ok", current, output, w, b, m, padding,
                               out_field, buf, rounded, assumed))
        weights += w or 0
        biases += b or 0
        buffers += buf or 0
        macs += m or 0
        activations += acts
        current, fld = output, out_field

    totals = None
    if shape is not None and results and complete and not has_errors(diags):
        totals = Totals(weights, biases, weights + biases, buffers, macs, 2 * macs, activations,
                        ASSUMED_FIGURES if assumed else ())
    diags.sort(key=lambda d: d.sort_key)
    return Analysis(spec, shape, tuple(results), tuple(diags), totals, policy)
