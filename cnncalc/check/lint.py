"""Advice rules drawn from the lecture: warnings about networks that compute but are unwise.

Each rule is a small unit (yamllint style): a code from ``diagnostics.RULES``, a check function
over the ``Analysis`` that yields diagnostics, and a docstring that says why, with a passing and
a failing example (``cnncalc rules CODE`` prints them and runs the failing one; the tests check
that the failing example is reported and the passing one is not). Rules see only layers the
analysis computed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cnncalc.analyze import Analysis, LayerResult
from cnncalc.check.units import digits_text
from cnncalc.diagnostics import RULES, Diagnostic, Rule, Severity
from cnncalc.shapes import article
from cnncalc.spec import (
    INPUT_NAME,
    LRN,
    Activation,
    BatchNorm,
    Conv,
    Crop,
    Dropout,
    Pool,
    Ref,
    Span,
    fmt_pair,
)

Check = Callable[[Analysis], Iterator[Diagnostic]]


@dataclass(frozen=True)
class LintRule:
    code: str
    check: Check

    @property
    def rule(self) -> Rule:
        return RULES[self.code]

    @property
    def doc(self) -> str:
        return self.check.__doc__ or ""


LINT_RULES: list[LintRule] = []


def lint_rule(code: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        assert code in RULES, code
        LINT_RULES.append(LintRule(code, check))
        return check

    return register


def run_lint(analysis: Analysis) -> list[Diagnostic]:
    return [d for r in LINT_RULES for d in r.check(analysis)]


def pad_text(notation: str, pad: int) -> str:
    """How a padding is written in the file's own notation."""
    if notation == "keras":
        return 'padding="same"'
    if notation == "pytorch":
        return f"padding={pad}"
    return f"pad {pad}"


def _hw(shape: tuple[int, ...]) -> str:
    h, w = digits_text(shape[0]), digits_text(shape[1])
    return h if h == w else f"{h}x{w}"


_TRANSPARENT = (Activation, BatchNorm, Dropout, LRN)


def _shrinking_unpadded(r: LayerResult) -> bool:
    layer = r.layer
    return (isinstance(layer, Conv) and not layer.transposed and layer.padding.mode == "explicit"
            and layer.padding.h == (0, 0) and layer.padding.w == (0, 0)
            and r.input_shape is not None and r.output_shape is not None
            and len(r.input_shape) == 3 and r.output_shape[:2] != r.input_shape[:2])


@lint_rule("W501")
def fast_shrinking(analysis: Analysis) -> Iterator[Diagnostic]:
    """Two or more unpadded convolutions in a row, each shrinking the volume.

    The lecture: "32x32 input convolved repeatedly with 5x5 filters shrinks volumes spatially
    (32 -> 28 -> 24 ...). Shrinking too fast is not good, doesn't work well." Padding each
    convolution with (F - 1)/2 keeps the size at stride 1; downsample with pooling instead.

    "In a row" allows activations, batch norm, LRN and dropout between the convolutions; any
    other layer (pooling, a padded conv, FC) ends the stack. A convolution is unpadded when its
    padding is written as 0 (or ``valid``); ``same`` and ``pad ?`` are never reported. The
    finding is on the first convolution of the stack.

    Passing::

        [32x32x3] INPUT
        CONV1: 16 5x5 filters at stride 1, pad 2
        CONV2: 16 5x5 filters at stride 1, pad 2

    Failing::

        [32x32x3] INPUT
        CONV1: 16 5x5 filters at stride 1, pad 0
        CONV2: 16 5x5 filters at stride 1, pad 0
    """
    run: list[LayerResult] = []
    for r in (*analysis.layers, None):
        if r is not None and r.status == "ok":
            if isinstance(r.layer, Conv) and _shrinking_unpadded(r):
                run.append(r)
                continue
            if isinstance(r.layer, _TRANSPARENT):
                continue
        if len(run) >= 2:
            yield _shrink_finding(analysis, run)
        run = []


def _shrink_finding(analysis: Analysis, run: list[LayerResult]) -> Diagnostic:
    first = run[0]
    assert first.input_shape is not None and run[-1].output_shape is not None
    chain = " -> ".join(_hw(s) for s in [first.input_shape,
                                         *(r.output_shape for r in run if r.output_shape)])
    names = ", ".join(r.layer.name for r in run)
    layer = first.layer
    assert isinstance(layer, Conv)
    pad = (layer.kernel[0] - 1) // 2
    return Diagnostic(
        layer.span_of("kernel"), "W501",
        f"{len(run)} unpadded convolutions in a row shrink the volume {chain}: {names}",
        f"pad each with (F - 1)/2 to keep the size ({pad_text(analysis.spec.notation, pad)} "
        f"for {fmt_pair(layer.kernel)}), and downsample with pooling")


MAX_POOL_WINDOW = 3
"""The largest pooling window side not reported (the lecture's common settings: 2x2 and 3x3)."""
MAX_POOL_DISCARD = 4
"""Strides whose product exceeds this keep fewer than 1 in 4 positions (2x2 at stride 2 keeps
exactly 1 in 4, the most the lecture's common settings discard)."""


@lint_rule("W502")
def large_pool_window(analysis: Analysis) -> Iterator[Diagnostic]:
    """A pooling window wider than 3 on an axis, or strides that keep fewer than 1 in 4 positions.

    The lecture on pooling: "Don't make it too large or you lose too much"; common settings are
    F = 2, S = 2 and F = 3, S = 2 (overlapping). Both keep 1 output position in 4 (stride
    product 4). Reported: a window side larger than 3, or a stride product larger than 4 (e.g.
    stride 3, which keeps 1 in 9). Not reported: global and adaptive pooling, and a window that
    covers its whole input (a global pooling written as a window, e.g. a 7x7 average pool on a
    7x7 volume) -- write those as ``GLOBAL AVG POOL``.

    Passing::

        [32x32x16] INPUT
        MAX POOL1: 2x2 filters at stride 2

    Failing::

        [32x32x16] INPUT
        MAX POOL1: 4x4 filters at stride 4
    """
    for r in analysis.layers:
        layer = r.layer
        if r.status != "ok" or not isinstance(layer, Pool) or r.input_shape is None:
            continue
        (fh, fw), (sh, sw) = layer.kernel, layer.stride
        if fh >= r.input_shape[0] and fw >= r.input_shape[1]:
            continue
        window = fmt_pair(layer.kernel)
        if max(fh, fw) > MAX_POOL_WINDOW:
            yield Diagnostic(
                layer.span_of("kernel"), "W502",
                f"{layer.name}: a {window} pooling window is larger than 3x3: each output keeps "
                f"1 of {digits_text(fh * fw)} values",
                "use 2x2 at stride 2, or 3x3 at stride 2 (the lecture's common settings)")
        elif sh * sw > MAX_POOL_DISCARD:
            yield Diagnostic(
                layer.span_of("stride"), "W502",
                f"{layer.name}: stride {sh if sh == sw else f'{sh}x{sw}'} keeps 1 in "
                f"{digits_text(sh * sw)} positions: more than 3/4 of the volume is discarded",
                "use stride 2 (2x2 or 3x3 windows, the lecture's common settings)")


@lint_rule("W503")
def padding_only_window(analysis: Analysis) -> Iterator[Diagnostic]:
    """Padding so large that a window at the edge sees only zeros: P >= F on an axis.

    Padding exists so that edge pixels are seen as often as inner ones; (F - 1)/2 keeps the
    size at stride 1 (pad 1 for 3x3, 2 for 5x5, 3 for 7x7). With P >= F (F the dilated span)
    the first window along an axis lies entirely in the padding: its outputs are the bias alone
    (or zeros for pooling) and only cost MACs. The last window is checked too, since padding
    after the input can be larger than before it. Transposed convolutions, whose padding crops
    the output, are not checked.

    Passing::

        [32x32x3] INPUT
        CONV1: 16 3x3 filters at stride 1, pad 1

    Failing::

        [32x32x3] INPUT
        CONV1: 16 3x3 filters at stride 1, pad 3
    """
    for r in analysis.layers:
        layer = r.layer
        if (r.status != "ok" or not isinstance(layer, (Conv, Pool)) or r.padding is None
                or r.input_shape is None or r.output_shape is None
                or (isinstance(layer, Conv) and layer.transposed)):
            continue
        # per axis: the first window lies in the padding, or the last starts past the input
        (top, _), (left, _) = r.padding
        (kh, kw), (dh, dw), (sh, sw) = layer.kernel, layer.dilation, layer.stride
        ih, iw, oh, ow = r.input_shape[0], r.input_shape[1], r.output_shape[0], r.output_shape[1]
        tall = top >= dh * (kh - 1) + 1 or (oh - 1) * sh >= top + ih
        wide = left >= dw * (kw - 1) + 1 or (ow - 1) * sw >= left + iw
        if not (tall or wide):
            continue
        axes = [word for word, hit in (("height", tall), ("width", wide)) if hit]
        if axes:
            pads = r.padding
            shown = f"{pads[0][0]}" if len({*pads[0], *pads[1]}) == 1 else \
                f"{pads[0][0]},{pads[0][1]}x{pads[1][0]},{pads[1][1]}"
            keep = (layer.kernel[0] - 1) // 2
            noun = "filter" if isinstance(layer, Conv) else "window"
            yield Diagnostic(
                layer.span_of("pad"), "W503",
                f"{layer.name}: pad {shown} with {article(fmt_pair(layer.kernel))} "
                f"{fmt_pair(layer.kernel)} {noun}: windows at the edge along the "
                f"{' and '.join(axes)} see only zero padding",
                f"use at most {pad_text(analysis.spec.notation, keep)} ((F - 1)/2 keeps the size "
                "at stride 1); more padding only adds zeros")


UNUSED_NAMES_SHOWN = 3
"""Layers named in one W504 finding; a block used many times names the first few and counts
the rest."""


@lint_rule("W504")
def unused_output(analysis: Analysis) -> Iterator[Diagnostic]:
    """A layer whose output no later layer reads, and that is not the network's output.

    In a graph a layer is read by the layers that name it after ``from`` (a chain's layer by
    the one below it, and ``CROP ... like NAME`` counts as reading NAME); the network's output
    is the last layer, or the one ``OUTPUT from NAME`` names. Any other layer that nothing
    reads is computed for nothing: its MACs and memory are spent, and no figure or result
    depends on it. It is almost always a branch someone forgot to merge (a shortcut left out
    of its ``ADD``, an Inception branch left out of its ``CONCAT``) or an output named wrong.

    Only the end of a dead branch is reported (the layers before it are read by it), once per
    line: a block used several times names the first instances and counts the others. A chain
    (no ``from``, no ``OUTPUT``) is never reported. Judged only when the wiring is known in
    full: not when a line was not read or a reference did not resolve (P errors), since the
    missing reader would make a layer look unused; and layers with an error or not computed
    are not reported (their own findings come first). A second head the network really has
    (an auxiliary classifier) can keep its line with ``# cnncalc: ignore[W504]``.

    Passing::

        [8x8x16] INPUT
        CONV1: 16 3x3 filters at stride 1, pad 1
        CONV2 from INPUT: 16 1x1 filters
        ADD from CONV1, CONV2

    Failing::

        [8x8x16] INPUT
        CONV1: 16 3x3 filters at stride 1, pad 1
        CONV2 from INPUT: 16 1x1 filters
        ADD from CONV1, INPUT
    """
    spec = analysis.spec
    if spec.output is None and not any(layer.inputs for layer in spec.layers):
        return  # a chain: each layer is read by the next, and the last is the output
    if any(d.severity is Severity.ERROR and d.code[0] == "P" for d in analysis.diagnostics):
        return  # a line not read or a reference not resolved: the readers are not all known
    results = analysis.layers
    read = [False] * (len(results) + 1)
    read[analysis.output] = True
    names = {INPUT_NAME: 0}  # as the analysis resolves names: the latest layer so named
    for r in results:
        for j in r.inputs:
            read[j] = True
        layer = r.layer
        if isinstance(layer, Crop) and layer.like is not None:
            like = names.get(layer.like.name)  # before the crop's own name, as analyze does
            if like is not None:
                read[like] = True
        names[layer.name] = r.index
    unused: dict[Span, list[LayerResult]] = {}
    for r in results:
        if not read[r.index] and r.status == "ok":
            unused.setdefault(r.layer.span, []).append(r)
    for span, group in unused.items():
        yield _unused_finding(analysis, span, group)


def _unused_finding(analysis: Analysis, span: Span, group: list[LayerResult]) -> Diagnostic:
    from cnncalc.render.spec_text import _ref  # the canonical way to write a reference

    first = group[0].layer
    shown = [r.layer.name for r in group[:UNUSED_NAMES_SHOWN]]
    more = len(group) - len(shown)
    names = ", ".join(shown) + (f" and {more} more" if more else "")
    one = len(group) == 1
    output = (analysis.layers[analysis.output - 1].layer.name if analysis.output
              else INPUT_NAME)
    ref = _ref(Ref(first.name, span))
    hint = (f"read it in a later layer with `from {ref}` (e.g. `ADD from {ref}, ...`), name "
            f"it as the network's output with `OUTPUT from {ref}`, or delete it" if one else
            "the line makes a layer in each use of its block: read it in a later layer of the "
            "block with `from` and the name it has there, or delete the line")
    return Diagnostic(
        span, "W504",
        f"{names} {'is' if one else 'are'} computed for nothing: no later layer reads "
        f"{'it' if one else 'them'}, and the network's output is {output}", hint)
