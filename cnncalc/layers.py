"""Per-kind rules: a layer's output shape, weights, biases, buffers, MACs and receptive field
from its input shape. Pure functions; the formulas themselves live in ``shapes``.

- conv: weights ``Fh*Fw*(D1/groups)*K``, biases ``K``, MACs ``H2*W2*K*Fh*Fw*D1/groups``;
- transposed conv: same weights, MACs the multiplies really done, ``H1*W1*D1*Fh*Fw*K/groups``;
- FC: weights ``in*out``, biases ``out``, MACs ``in*out``;
- batch norm: params ``2C`` (gamma, beta), buffers ``2C`` (running mean and variance);
- pooling, normalisation, activations, dropout, flatten, zero padding: no params, no MACs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any, NamedTuple

from cnncalc.diagnostics import Diagnostic
from cnncalc.shapes import (
    adaptive_window,
    arithmetic,
    article,
    ceil_div,
    dilated,
    nearest_fixes,
    out_size,
    rounded_size,
    same_pad,
    smallest_fitting_pad,
    transposed_size,
)
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
    Pair,
    Pool,
    Rounding,
    Shape,
    Unparsed,
    ZeroPad,
    elements,
    fmt_pair,
    fmt_shape,
)

Num = int | Fraction


class Field(NamedTuple):
    """The receptive-field recursion's state after a layer: ``rf`` the side of the input
    region one neuron sees, ``jump`` the input distance between neighbouring neurons
    (a transposed convolution divides it, so it may be a fraction), and ``extent`` the spatial
    size a flat vector was flattened from, so that an FC layer after an explicit FLATTEN sees
    the same region as one placed straight after the volume."""

    rf: tuple[Num, Num] = (1, 1)
    jump: tuple[Num, Num] = (1, 1)
    extent: Pair = (1, 1)

    def window(self, span: Pair, stride: Pair) -> Field:
        rf = (self.rf[0] + (span[0] - 1) * self.jump[0], self.rf[1] + (span[1] - 1) * self.jump[1])
        return Field(rf, (self.jump[0] * stride[0], self.jump[1] * stride[1]))

    def upsample(self, span: Pair, stride: Pair) -> Field:
        """A transposed conv: each output sees ``ceil(span/S)`` inputs; the jump shrinks S-fold."""
        taps = (ceil_div(span[0], stride[0]), ceil_div(span[1], stride[1]))
        jump = (_div(self.jump[0], stride[0]), _div(self.jump[1], stride[1]))
        rf = (self.rf[0] + (taps[0] - 1) * self.jump[0], self.rf[1] + (taps[1] - 1) * self.jump[1])
        return Field(rf, jump)


def _div(a: Num, b: int) -> Num:
    q = Fraction(a) / b
    return q.numerator if q.denominator == 1 else q


class Computed(NamedTuple):
    """One layer's figures (named tuples here and in Field: one of each per layer, and a tuple
    is several times cheaper to make than a frozen dataclass)."""

    output: Shape
    field: Field
    weights: int = 0
    biases: int = 0
    buffers: int = 0
    macs: int = 0
    padding: tuple[Pair, Pair] | None = None
    rounded: bool = False
    notes: tuple[Diagnostic, ...] = ()


class Invalid(Exception):
    """A layer with no output; carries the diagnostics that explain why."""

    def __init__(self, *diags: Diagnostic) -> None:
        super().__init__()
        self.diags = diags


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


def flat_input(layer: Layer, shape: Shape) -> Invalid:
    """The error for a spatial layer whose input (not of 3 dimensions) is a flat vector."""
    return Invalid(Diagnostic(
        layer.span, "G104",
        f"{layer.name} works on an HxWxC volume, but its input is the flat vector "
        f"[{fmt_shape(shape)}]",
        "move this layer before the flattening or FC layer"))


def _check_declared(layer: Layer, what: str, declared: int | None, actual: int,
                    fname: str) -> tuple[Diagnostic, ...]:
    if declared is None or declared == actual:
        return ()
    return (Diagnostic(
        layer.span_of(fname, "in"), "C001",
        f"{layer.name} declares {declared} {what} but receives {actual}",
        f"write {actual}, or change the layer before it so that it gives {declared}"),)


def _whole_sizes(layer: Conv | Pool, shape: Shape) -> Pair | None:
    """The common case on its own, with nothing to report: explicit padding, and on both axes
    ``(W - F + 2P)/S + 1`` a whole number of at least 1. None for anything else (a size that
    is not whole, a window larger than its input, a bad value), which ``sliding`` explains."""
    (kh, kw), (sh, sw), (dh, dw) = layer.kernel, layer.stride, layer.dilation
    (top, bottom), (left, right) = layer.padding.h, layer.padding.w
    if kh < 1 or kw < 1 or sh < 1 or sw < 1 or dh < 1 or dw < 1:  # min() of them, faster
        return None
    free_h = shape[0] + top + bottom - (kh - 1) * dh - 1
    free_w = shape[1] + left + right - (kw - 1) * dw - 1
    if free_h < 0 or free_w < 0 or free_h % sh or free_w % sw:
        return None
    return free_h // sh + 1, free_w // sw + 1


def sliding(layer: Conv | Pool, shape: Shape, rounding: Rounding
            ) -> tuple[Pair, tuple[Pair, Pair], bool, tuple[Diagnostic, ...]]:
    """Output height and width of a window sliding over both axes, the padding used, whether
    a size was rounded, and the notes; raises Invalid when there is no output."""
    mode = layer.padding.mode
    dilation = layer.dilation
    if mode == "explicit" and rounding != "ceil" and not (
            isinstance(layer, Pool) and layer.ceil_mode):
        sizes_hw = _whole_sizes(layer, shape)
        if sizes_hw is not None:
            return sizes_hw, (layer.padding.h, layer.padding.w), False, ()
    square = shape[0] == shape[1] and layer.kernel[0] == layer.kernel[1] \
        and layer.stride[0] == layer.stride[1] and dilation[0] == dilation[1]
    if mode == "same" and square:
        # what the loop below gives, without its bookkeeping: a 'same' axis has nothing to
        # report. Square layers only, as the loop formats other layers' sizes into text first
        # (which fails past 4,300 digits), and that stays as it was.
        h, w, sh, sw = shape[0], shape[1], layer.stride[0], layer.stride[1]
        pad_h = same_pad(h, dilated(layer.kernel[0], dilation[0]), sh)
        size_h = ceil_div(h, sh)
        pad_w = same_pad(w, dilated(layer.kernel[1], dilation[1]), sw)
        return (size_h, ceil_div(w, sw)), (pad_h, pad_w), False, ()
    notes: list[tuple[str, Diagnostic]] = []
    problems: list[tuple[str, Diagnostic]] = []
    pads: list[Pair] = []
    sizes: list[int] = []
    rounded = False
    ceil_mode = isinstance(layer, Pool) and layer.ceil_mode
    up = rounds_up(layer, rounding)
    noun = "filter" if isinstance(layer, Conv) else "window"
    for axis, word in ((0, "high"), (1, "wide")):
        w, s = shape[axis], layer.stride[axis]
        f = dilated(layer.kernel[axis], dilation[axis])
        where = "" if square else f" on the {w}-{word} axis"
        if mode == "same":
            pad = same_pad(w, f, s)
            pads.append(pad)
            sizes.append(ceil_div(w, s))
            continue
        if mode == "fit":
            p = smallest_fitting_pad(w, f, s)
            if p is None:
                problems.append((f"{w},{f},{s}", Diagnostic(
                    layer.span_of("pad"), "G103",
                    f"{layer.name}: no padding makes {_a(layer.kernel)} {noun} at stride {s} "
                    f"fit {article(str(w))} {w}-{word} input: (W - F + 2P) is never a "
                    f"multiple of {s}",
                    nearest_fixes(w, f, 0, s).describe(word))))
                continue
            pad = (p, p)
            notes.append((f"{w},{f},{s}", Diagnostic(
                layer.span_of("pad"), "I301",
                f"{layer.name}: pad ? solved as pad {p}{where}: {arithmetic(w, f, pad, s)}")))
        else:
            pad = layer.padding.h if axis == 0 else layer.padding.w
        exact = out_size(w, f, pad[0] + pad[1], s)
        whole = isinstance(exact, int)
        size = int(exact)
        # PyTorch's ceil mode lets a last window hang over the padded input: 1 output at least
        too_large = w + pad[0] + pad[1] < f and not (up and rounded_size(w, f, pad, s, True) >= 1)
        if whole and not too_large:
            pads.append(pad)
            # ceil-mode pooling drops a last window that would start in the right padding, whole
            # size or not (PyTorch, Caffe); it matters only when that padding spans the window
            sizes.append(rounded_size(w, f, pad, s, True) if up and noun == "window" else size)
            continue
        shown_pad = pad if mode == "fit" or "pad" in dict(layer.fields) else None
        key = f"{w},{f},{s},{pad}"
        if too_large:
            problems.append((key, Diagnostic(
                layer.span_of("kernel"), "G102",
                f"{layer.name}: {_a(layer.kernel)} {noun} is larger than its {w}-{word} "
                f"input ({w + pad[0] + pad[1]} with padding): {arithmetic(w, f, shown_pad, s)}",
                f"use a {noun} of at most {w + pad[0] + pad[1]}, or more padding")))
        elif rounding == "strict" and not ceil_mode:
            problems.append((key, Diagnostic(
                layer.span_of("kernel", "stride", "pad"), "G101",
                f"{arithmetic(w, f, shown_pad, s)}: {_a(layer.kernel)} {noun} at stride {s} "
                f"does not fit {article(str(w))} {w}-{word} input",
                nearest_fixes(w, f, pad[0] + pad[1], s).describe(word)
                + "; or pass --rounding floor to round down as the frameworks do")))
        else:
            size = rounded_size(w, f, pad, s, up)
            rounded = True
            how = f"down (floor) to {size}"
            if up:  # a last window that would start in the right padding is dropped
                ceil = math.ceil(exact)
                how = f"up (ceil mode) to {ceil}" if ceil == size else (
                    f"up (ceil mode) to {ceil}, less a last window that would start in the "
                    f"padding: {size}")
            notes.append((key, Diagnostic(
                layer.span_of("kernel", "stride", "pad"), "G107",
                f"{layer.name}: {arithmetic(w, f, shown_pad, s)}{where} is rounded {how}",
                nearest_fixes(w, f, pad[0] + pad[1], s).describe(word))))
        pads.append(pad)
        sizes.append(size)
    if problems:
        raise Invalid(*_unique(problems))
    return (sizes[0], sizes[1]), (pads[0], pads[1]), rounded, tuple(_unique(notes))


def rounds_up(layer: Layer, rounding: Rounding) -> bool:
    """Whether a size of ``layer`` that is not whole is rounded up (ceil mode: a pooling
    layer's own ``ceil_mode``, or the ``ceil`` policy), else down."""
    return (isinstance(layer, Pool) and layer.ceil_mode) or rounding == "ceil"


def _conv(layer: Conv, shape: Shape, fld: Field, rounding: Rounding) -> Computed:
    if len(shape) != 3:
        raise flat_input(layer, shape)
    depth = shape[2]
    notes = () if layer.in_channels is None else _check_declared(
        layer, "input channels", layer.in_channels, depth, "in_channels")
    groups, filters = layer.groups, layer.filters
    if layer.depth_multiplier is not None:
        groups, filters = depth, depth * layer.depth_multiplier
    if depth % groups or filters % groups:
        raise Invalid(Diagnostic(
            layer.span_of("groups"), "C002",
            f"{layer.name}: {groups} groups do not divide {depth} input channels and "
            f"{filters} filters",
            "groups must divide both the input depth and the number of filters"))
    kernel, dilation = layer.kernel, layer.dilation
    span = (dilated(kernel[0], dilation[0]), dilated(kernel[1], dilation[1]))
    taps = kernel[0] * kernel[1] * (depth // groups)
    weights = taps * filters
    biases = filters if layer.bias else 0
    if layer.transposed:
        macs = shape[0] * shape[1] * depth * kernel[0] * kernel[1] * (filters // groups)
        return _transposed(layer, shape, fld, span, Computed(
            (0, 0, filters), fld, weights, biases, 0, macs, notes=notes))
    (h, w), pads, rounded, more = sliding(layer, shape, rounding)
    return Computed((h, w, filters), fld.window(span, layer.stride), weights, biases, 0,
                    h * w * filters * taps, pads, rounded, notes + more)


def _transposed(layer: Conv, shape: Shape, fld: Field, span: Pair, counts: Computed
                ) -> Computed:
    """Output size of a transposed convolution; ``counts`` has everything else."""
    sizes: list[int] = []
    pads: list[Pair] = []
    for axis, word in ((0, "high"), (1, "wide")):
        w, s, op = shape[axis], layer.stride[axis], layer.output_padding[axis]
        if op >= max(s, layer.dilation[axis]):
            raise Invalid(Diagnostic(
                layer.span_of("output_padding"), "G106",
                f"{layer.name}: output_padding {op} must be smaller than the stride {s} or "
                f"the dilation {layer.dilation[axis]}",
                "output_padding only picks among the sizes a strided transposed conv can give"))
        if layer.padding.mode == "same":
            pad = same_pad(w * s, span[axis], s)  # Keras: output W*S when output_padding is 0
            size = w * s + op
        else:
            pad = layer.padding.h if axis == 0 else layer.padding.w
            size = transposed_size(w, layer.kernel[axis], s, pad, layer.dilation[axis], op)
        if size < 1:
            raise Invalid(Diagnostic(
                layer.span_of("pad"), "G102",
                f"{layer.name}: (W - 1)*S - 2P + D*(F - 1) + output_padding + 1 = {size} "
                f"on the {w}-{word} input: the padding removes the whole output",
                "use less padding"))
        sizes.append(size)
        pads.append(pad)
    return counts._replace(output=(sizes[0], sizes[1], counts.output[2]),
                   field=fld.upsample(span, layer.stride), padding=(pads[0], pads[1]))


def _pool(layer: Pool, shape: Shape, fld: Field, rounding: Rounding) -> Computed:
    if len(shape) != 3:
        raise flat_input(layer, shape)
    (h, w), pads, rounded, notes = sliding(layer, shape, rounding)
    kernel, dilation = layer.kernel, layer.dilation
    span = (dilated(kernel[0], dilation[0]), dilated(kernel[1], dilation[1]))
    return Computed((h, w, shape[2]), fld.window(span, layer.stride), 0, 0, 0, 0, pads, rounded,
                    notes)


def _dense(layer: Dense, shape: Shape, fld: Field, rounding: Rounding) -> Computed:
    n_in = elements(shape)
    notes = _check_declared(layer, "input features", layer.in_features, n_in, "in_features")
    extent = (shape[0], shape[1]) if len(shape) == 3 else fld.extent
    biases = layer.units if layer.bias else 0
    return Computed((layer.units,), fld.window(extent, (1, 1)), n_in * layer.units, biases,
                    0, n_in * layer.units, notes=notes)


def _global_pool(layer: GlobalPool, shape: Shape, fld: Field, rounding: Rounding) -> Computed:
    if len(shape) != 3:
        raise flat_input(layer, shape)
    out = (1, 1, shape[2]) if layer.keepdims else (shape[2],)
    return Computed(out, fld.window((shape[0], shape[1]), (1, 1)))


def _adaptive_pool(layer: AdaptivePool, shape: Shape, fld: Field, rounding: Rounding
                   ) -> Computed:
    if len(shape) != 3:
        raise flat_input(layer, shape)
    span = (adaptive_window(shape[0], layer.output[0]),
            adaptive_window(shape[1], layer.output[1]))
    stride = (max(1, shape[0] // layer.output[0]), max(1, shape[1] // layer.output[1]))
    return Computed((layer.output[0], layer.output[1], shape[2]), fld.window(span, stride))


def _batch_norm(layer: BatchNorm, shape: Shape, fld: Field, rounding: Rounding) -> Computed:
    c = shape[-1]
    notes = () if layer.num_features is None else _check_declared(
        layer, "features", layer.num_features, c, "num_features")
    return Computed(shape, fld, c if layer.scale else 0, c if layer.center else 0,
                    2 * c if layer.running_stats else 0, 0, None, False, notes)


def _plus(n: int) -> str:
    """A term added in a sum as written out: ``+ 2``, ``- 4``."""
    return f"- {-n}" if n < 0 else f"+ {n}"


def _zero_pad(layer: ZeroPad, shape: Shape, fld: Field, rounding: Rounding) -> Computed:
    """Zero padding; a negative count crops that side (PyTorch's ``ZeroPad2d((1, 1, -1, -1))``).
    A crop moves no window, so the receptive field and jump pass through."""
    if len(shape) != 3:
        raise flat_input(layer, shape)
    p = layer.padding
    h, w = shape[0] + p.h[0] + p.h[1], shape[1] + p.w[0] + p.w[1]
    if h < 1 or w < 1:
        axis, size, cut = ("high", shape[0], p.h) if h < 1 else ("wide", shape[1], p.w)
        raise Invalid(Diagnostic(
            layer.span_of("pad", "top", "bottom", "left", "right"), "G102",
            f"{layer.name}: padding {cut[0]} and {cut[1]} leave nothing of the {size}-{axis} "
            f"input ({size} {_plus(cut[0])} {_plus(cut[1])} = {size + cut[0] + cut[1]})",
            "a negative padding crops that side: crop less than the input"))
    return Computed((h, w, shape[2]), fld)


def _flatten(layer: Flatten, shape: Shape, fld: Field, rounding: Rounding) -> Computed:
    extent = (shape[0], shape[1]) if len(shape) == 3 else fld.extent
    return Computed((elements(shape),), Field(fld.rf, fld.jump, extent))


def _same(layer: Layer, shape: Shape, fld: Field, rounding: Rounding) -> Computed:
    """Normalisation, activations, dropout: the volume passes through unchanged."""
    return Computed(shape, fld)


def _unreadable(layer: Layer, shape: Shape, fld: Field, rounding: Rounding) -> Computed:
    raise Invalid()  # a layer the front end could not read; it already said why


Rule = Callable[[Any, Shape, Field, Rounding], Computed]

RULES: dict[type[Layer], Rule] = {
    Conv: _conv, Pool: _pool, Dense: _dense, GlobalPool: _global_pool,
    AdaptivePool: _adaptive_pool, BatchNorm: _batch_norm, ZeroPad: _zero_pad,
    Flatten: _flatten, LRN: _same, Activation: _same, Dropout: _same, Unparsed: _unreadable,
}
"""Each layer class's rule, looked up by the layer's exact class: one dictionary lookup instead
of a chain of isinstance tests. ``rule_for`` answers for any other class."""


def rule_for(cls: type[Layer]) -> Rule:
    """The rule for a layer class, as a chain of isinstance tests would pick it (the first
    matching base class in the order above); a class none of them covers is unreadable."""
    for base, rule in RULES.items():
        if issubclass(cls, base):
            return rule
    return _unreadable


def compute(layer: Layer, shape: Shape, fld: Field, rounding: Rounding) -> Computed:
    """Everything about one layer from its input; raises Invalid when it has no output."""
    rule = RULES.get(type(layer)) or rule_for(type(layer))
    return rule(layer, shape, fld, rounding)
