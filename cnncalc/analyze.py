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

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from cnncalc.diagnostics import Diagnostic, Severity, has_errors
from cnncalc.layers import RULES, Field, Invalid, rule_for
from cnncalc.spec import (
    Layer,
    Pair,
    Rounding,
    Shape,
    Span,
    Spec,
    elements,
    fmt_shape,
    same_shape,
)
from cnncalc.validity import (
    MAX_FIGURE,
    VALID,
    invalid_values,
    oversized,
    small_field,
    too_large,
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
    elif elements(shape) >= MAX_FIGURE:
        diags.append(too_large("element count", elements(shape),
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
        valid = VALID.get(cls)
        bad_values: Sequence[Diagnostic] = (
            () if valid is not None and valid(layer) else invalid_values(layer))
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
        if w >= MAX_FIGURE or m >= MAX_FIGURE or acts >= MAX_FIGURE or buf >= MAX_FIGURE \
                or not small_field(out_field):
            diags.append(oversized(layer, acts, out_field, (w, b, buf, m)))
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
