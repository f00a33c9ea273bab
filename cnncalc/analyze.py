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
from dataclasses import replace

from cnncalc.diagnostics import Diagnostic, Severity, has_errors
from cnncalc.layers import RULES, Computed, Field, Invalid, rule_for
from cnncalc.parse.cursor import suggest
from cnncalc.results import (
    ASSUMED_FIGURES,
    Analysis,
    LayerResult,
    Status,
    Totals,
    peak_live,
)
from cnncalc.spec import (
    INPUT_NAME,
    Crop,
    Layer,
    Merge,
    Ref,
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


SUGGEST_AT_MOST, SUGGEST_AMONG = 20, 1000
"""A P016's hint proposes a near name for the first 20 unknown references of a file, among
the 1,000 latest names: a suggestion compares the word with each name, and a file of many
layers and many bad references would otherwise take quadratic time."""


FRAMEWORKS = {"pytorch": "PyTorch", "keras": "Keras"}
"""The notations whose text a framework computes, flooring sizes (and rounding up a ceil-mode
pool): a size rounded so is what the framework gives, said as information (I302), where the
lecture's strict arithmetic warns (G107)."""


def _as_framework(d: Diagnostic, framework: str) -> Diagnostic:
    return Diagnostic(d.span, "I302", f"{d.message}, as {framework} does")


class _Walk:
    """The layers in order, each computed from the outputs of the layers it reads (by
    index; 0 is the network's input), with the running totals. A layer that reads a layer
    with no output is not computed; one with an error of its own is an error."""

    def __init__(self, spec: Spec, shape: Shape | None, policy: Rounding,
                 diags: list[Diagnostic]) -> None:
        self.spec, self.policy, self.diags = spec, policy, diags
        # the framework whose own rounding the policy is: a size it rounds is information
        self.framework = FRAMEWORKS.get(spec.notation) if policy == "floor" else None
        self.results: list[LayerResult] = []
        self.outputs: list[Shape | None] = [shape]
        self.fields: list[Field | None] = [Field() if shape is not None else None]
        self.assumed: list[str | None] = [None]
        self.names: dict[str, int] = {INPUT_NAME: 0}
        self.flagged = _flagged_lines(spec.diagnostics)
        self.weights = self.biases = self.buffers = self.macs = self.activations = 0
        self.complete = True
        self.unknown = 0  # references to names not defined above, so far

    def resolve(self, ref: Ref) -> int | None:
        """The index of the latest earlier layer of that name, or None (P016 reported)."""
        found = self.names.get(ref.name)
        if found is None:
            self.unknown += 1
            near = list(self.names)[-SUGGEST_AMONG:] if self.unknown <= SUGGEST_AT_MOST else []
            hint = suggest(ref.name, near) or (
                "a layer reads only layers above it, by the name they are given "
                "(INPUT is the network's input)")
            self.diags.append(Diagnostic(
                ref.span, "P016", f"`{ref.name}` is not the name of a layer above", hint))
        return found

    def sources(self, index: int, layer: Layer) -> tuple[tuple[int, ...], bool]:
        """The indices the layer reads, and whether every reference resolved."""
        if not layer.inputs:
            return (index - 1,), True
        found = [self.resolve(ref) for ref in layer.inputs]
        return tuple(j for j in found if j is not None), None not in found

    def fail(self, index: int, layer: Layer, status: Status, reads: tuple[int, ...],
             assumed: str | None) -> None:
        shape = self.outputs[reads[0]] if reads else None
        self.results.append(LayerResult(index, layer, status, shape, assumed=assumed,
                                    inputs=reads))
        self.outputs.append(None)
        self.fields.append(None)
        self.complete = False

    def step(self, index: int, layer: Layer) -> None:
        if layer.origin is None:
            return self.compute(index, layer)
        before = len(self.diags)
        self.compute(index, layer)
        use = layer.origin.line
        self.diags[before:] = [replace(d, hint=(f"{d.hint}; " if d.hint else "") + (
            f"this is {layer.name}, made by the use of a block on line {use}"))
            for d in self.diags[before:]]
        return None

    def compute(self, index: int, layer: Layer) -> None:
        if layer.inputs or isinstance(layer, Merge):
            reads, resolved = self.sources(index, layer)
            assumed = layer.wiring or next(
                (w for w in map(self.assumed.__getitem__, reads) if w), None)
        else:  # a chain's layer reads the one before it (nearly every layer: kept quick)
            reads, resolved = (index - 1,), True
            assumed = layer.wiring or self.assumed[index - 1]
        like = None
        if isinstance(layer, Crop) and layer.like is not None:
            like = self.resolve(layer.like)  # before the layer's own name is defined
            resolved = resolved and like is not None
        self.names[layer.name] = index
        self.assumed.append(assumed)
        cls = type(layer)
        valid = VALID.get(cls)
        bad: Sequence[Diagnostic] = (
            () if valid is not None and valid(layer) else invalid_values(layer))
        if resolved and (layer.inputs or isinstance(layer, Merge)):
            bad = [*bad, *self.input_count(layer, reads)]
        misread = bool(self.flagged) and _on_lines(layer, self.flagged)
        if bad or misread or not resolved:
            self.diags.extend(bad)
            return self.fail(index, layer, "error", reads, assumed)
        outputs = self.outputs
        shapes = [outputs[j] for j in reads]
        if None in shapes:
            return self.fail(index, layer, "not-computed", reads, assumed)
        current = shapes[0]
        fld = self.fields[reads[0]]
        assert current is not None and fld is not None
        if layer.declared_input is not None and not same_shape(layer.declared_input[0],
                                                               current):
            given, at = layer.declared_input
            self.diags.append(Diagnostic(
                at, "C001", f"{layer.name} declares the input [{fmt_shape(given)}] but "
                f"receives [{fmt_shape(current)}]", _wiring_hint(assumed) if assumed else
                "an input shape after the first layer is a claim about what the layer "
                f"receives: write [{fmt_shape(current)}], or change the layers before it so "
                f"that they give [{fmt_shape(given)}]"))
            return self.fail(index, layer, "error", reads, assumed)
        try:
            if isinstance(layer, Merge):
                named = [(self.spec.layers[j - 1].name if j else INPUT_NAME, shape, field)
                         for j, shape, field in zip(reads, shapes, map(
                             self.fields.__getitem__, reads), strict=True)]
                from cnncalc.graph_rules import merge  # only for graphs: not at start-up
                computed = merge(layer, named)  # type: ignore[arg-type]
            elif like is not None:
                if self.outputs[like] is None:
                    return self.fail(index, layer, "not-computed", reads, assumed)
                computed = _rule(Crop)(layer, current, fld, self.policy,
                                               self.outputs[like])
            else:
                rule = _RULES.get(cls) or _rule(cls)  # what layers.compute does
                computed = rule(layer, current, fld, self.policy)
        except Invalid as exc:
            self.diags.extend(_blame_wiring(exc.diags, assumed))
            return self.fail(index, layer, "error", reads, assumed)
        self.record(index, layer, current, computed, reads, assumed)
        return None

    def input_count(self, layer: Layer, reads: tuple[int, ...]) -> list[Diagnostic]:
        """P017 for a merge of fewer than two layers, or another layer that reads several."""
        merging = isinstance(layer, Merge)
        if (len(reads) >= 2) == merging:
            return []
        at = layer.span_of("from")
        if merging:
            return [Diagnostic(at, "P017", f"{layer.name}: {layer.kind} reads "
                               f"{len(reads)} layer{'s' if len(reads) != 1 else ''}, and "
                               "combines two or more",
                               f"name the layers it combines: `{layer.kind.upper()} from a, b`")]
        return [Diagnostic(at, "P017", f"{layer.name} reads {len(reads)} layers: a "
                           f"{layer.kind} layer reads one",
                           "combine them first with ADD, CONCAT or MULTIPLY")]

    def record(self, index: int, layer: Layer, current: Shape, computed: Computed,
               reads: tuple[int, ...], assumed: str | None) -> None:
        output, out_field, w, b, buf, m, padding, rounded, notes = computed
        failed = False
        if notes:
            failed = has_errors(notes)
            if self.framework is not None:
                notes = tuple(_as_framework(d, self.framework) if d.code == "G107" else d
                              for d in notes)
            self.diags.extend(_blame_wiring(notes, assumed) if failed else notes)
        declared = layer.declared
        if declared is not None and declared != output and not same_shape(declared, output):
            self.diags.append(Diagnostic(
                layer.declared_span or layer.span, "D201",
                f"{layer.name} is declared [{fmt_shape(declared)}] but computes "
                f"[{fmt_shape(output)}]",
                f"write [{fmt_shape(output)}], or change the layer so that it gives "
                f"[{fmt_shape(declared)}]"))
            failed = True
        acts = elements(output)
        if not failed and (w >= MAX_FIGURE or m >= MAX_FIGURE or acts >= MAX_FIGURE
                           or buf >= MAX_FIGURE or not small_field(out_field)):
            self.diags.append(oversized(layer, acts, out_field, (w, b, buf, m)))
            failed = True
        if failed:  # its figures would rest on the error: neither shown nor passed on
            return self.fail(index, layer, "error", reads, assumed)
        if layer.declared_weights is not None and layer.declared_weights != w:
            with_biases = f"; weights leave out the {b:,} biases" if b else ""
            self.diags.append(Diagnostic(
                layer.declared_weights_span or layer.span, "D202",
                f"{layer.name} declares weights: {layer.declared_weights:,} but computes "
                f"{w:,}", f"write {w:,}{with_biases}"))
        self.results.append(LayerResult(index, layer, "ok", current, output, w, b, m, padding,
                                          out_field, buf, rounded, assumed, reads))
        self.outputs.append(output)
        self.fields.append(out_field)
        self.weights += w
        self.biases += b
        self.buffers += buf
        self.macs += m
        self.activations += acts
        return None

    def output(self, ref: Ref | None) -> int:
        """The index of the network's output: the layer the spec names, else the last."""
        if ref is None:
            return len(self.results)
        found = self.resolve(ref)
        if found is None:
            self.complete = False
        return found or 0


_RULES = dict(RULES)


def _rule(cls: type[Layer]) -> Callable[..., Computed]:
    """The rule of a layer class not in ``_RULES`` yet: the graph layers' (imported when a
    network first has one, so that a chain's start-up does not pay for them), else
    ``layers.rule_for``'s."""
    from cnncalc.graph_rules import RESHAPE_RULES
    _RULES.update(RESHAPE_RULES)
    return _RULES.get(cls) or rule_for(cls)


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

    walk = _Walk(spec, shape, policy, diags)
    for index, layer in enumerate(spec.layers, start=1):
        walk.step(index, layer)
    results = walk.results
    output = walk.output(spec.output)
    totals = None
    if shape is not None and results and walk.complete and not has_errors(diags):
        totals = Totals(walk.weights, walk.biases, walk.weights + walk.biases, walk.buffers,
                        walk.macs, 2 * walk.macs, walk.activations,
                        ASSUMED_FIGURES if any(r.assumed for r in results) else (),
                        peak_live(results, shape, output))
    if has_errors(diags):
        from cnncalc.input_order import explain_order

        diags = explain_order(shape, results, diags)
    diags.sort(key=lambda d: d.sort_key)
    return Analysis(spec, shape, tuple(results), tuple(diags), totals, policy, output)
