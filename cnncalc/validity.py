"""What values a layer may have, whatever its input: the checks that come before any
arithmetic (G106 invalid values, and G108 numbers too long to compute with), and the bound on
the figures the arithmetic gives (G108). Pure functions of a layer, used by the analysis.

Figures are exact integers of up to 4,200 digits: every figure cnncalc prints, and what it is
summed or multiplied into (totals over any number of layers, bytes at any batch), then stays
under the 4,300 digits Python writes out, and no input makes the arithmetic slow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnncalc.diagnostics import Diagnostic
from cnncalc.layers import Field
from cnncalc.shapes import fmt_fraction
from cnncalc.spec import (
    LRN,
    Activation,
    AdaptivePool,
    BatchNorm,
    Conv,
    Crop,
    Dense,
    Dropout,
    Flatten,
    GlobalPool,
    Layer,
    Merge,
    Padding,
    Pool,
    Shuffle,
    Slice,
    Span,
    Unparsed,
    Upsample,
    ZeroPad,
    fmt_pair,
    fmt_scalar_pair,
)

MAX_FIGURE_DIGITS = 4200
MAX_FIGURE = 10**MAX_FIGURE_DIGITS
"""Figures of more than 4,200 digits are refused (G108): every figure cnncalc prints, and what
it is summed or multiplied into (totals over any number of layers, bytes at any batch), stays
under the 4,300 digits Python writes out, and no input makes the arithmetic slow."""


def too_large(what: str, n: int, at: Span, name: str) -> Diagnostic:
    digits = n.bit_length() * 30103 // 100000 + 1  # about log10(n) + 1, without str(n)
    return Diagnostic(at, "G108", f"{name}: its {what} would be a number of about {digits:,} "
                      f"digits; cnncalc computes figures of up to {MAX_FIGURE_DIGITS:,} digits",
                      "use sizes a network can have")


def invalid_values(layer: Layer) -> list[Diagnostic]:
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
    if isinstance(layer, Upsample) and not min(layer.factor) >= 1:
        bad("factor", f"upsampling by {fmt_scalar_pair(layer.factor)}",
            "an upsampling factor is 1 or more")
    if isinstance(layer, Shuffle) and not layer.groups >= 1:
        bad("groups", f"{layer.groups} groups", "groups are 1 or more")
    if isinstance(layer, Crop) and layer.size is not None and not min(layer.size) >= 1:
        bad("size", f"a crop to {fmt_pair(layer.size)}", "a crop keeps 1x1 or more")
    if isinstance(layer, Dropout) and not 0 <= layer.p < 1:
        bad("p", f"dropout rate {fmt_fraction(layer.p)} is outside [0, 1)",
            "a dropout rate is the probability of dropping a unit, e.g. 0.5")
    if not out:
        for fname, v in _numbers(layer):
            if abs(v) >= MAX_FIGURE:
                out.append(too_large(fname.replace("_", " "), abs(v), layer.span_of(fname),
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
    if isinstance(layer, Upsample):
        found += [("factor", v) for v in layer.factor]
    if isinstance(layer, Crop) and layer.size is not None:
        found += [("size", v) for v in layer.size]
    if isinstance(layer, Slice):
        found += [("start", layer.start), ("stop", layer.stop)]
    if isinstance(layer, Shuffle):
        found.append(("groups", layer.groups))
    return found


def _padding_valid(padding: Padding) -> bool:
    (top, bottom), (left, right) = padding.h, padding.w
    return top >= 0 and bottom >= 0 and left >= 0 and right >= 0


def _window_valid(layer: Conv | Pool) -> bool:
    kernel, stride, dilation, pad = layer.kernel, layer.stride, layer.dilation, layer.padding
    return (kernel[0] >= 1 and kernel[1] >= 1 and stride[0] >= 1 and stride[1] >= 1
            and _padding_valid(pad) and dilation[0] >= 1 and dilation[1] >= 1
            and max(*kernel, *stride, *dilation, *pad.h, *pad.w) < MAX_FIGURE)


def _conv_valid(layer: Conv) -> bool:
    multiplier, output_padding = layer.depth_multiplier, layer.output_padding
    return (_window_valid(layer) and (layer.filters >= 1 or multiplier is not None)
            and layer.groups >= 1 and (multiplier is None or multiplier >= 1)
            and output_padding[0] >= 0 and output_padding[1] >= 0
            and max(layer.filters, layer.groups, multiplier or 1, *output_padding)
            < MAX_FIGURE)


def _no_values(layer: Layer) -> bool:
    return True


VALID: dict[type[Layer], Callable[[Any], bool]] = {
    Conv: _conv_valid,
    Pool: _window_valid,
    ZeroPad: lambda layer: max(map(abs, (*layer.padding.h, *layer.padding.w))) < MAX_FIGURE,
    AdaptivePool: lambda layer: (layer.output[0] >= 1 and layer.output[1] >= 1
                                 and max(layer.output) < MAX_FIGURE),
    Dense: lambda layer: 1 <= layer.units < MAX_FIGURE,
    Dropout: lambda layer: 0 <= layer.p < 1,
    Upsample: lambda layer: min(layer.factor) >= 1 and max(layer.factor) < MAX_FIGURE,
    Shuffle: lambda layer: 1 <= layer.groups < MAX_FIGURE,
    Crop: lambda layer: layer.size is None or (min(layer.size) >= 1
                                               and max(layer.size) < MAX_FIGURE),
    Slice: lambda layer: max(abs(layer.start), abs(layer.stop)) < MAX_FIGURE,
    **dict.fromkeys((BatchNorm, GlobalPool, LRN, Activation, Flatten, Unparsed, Merge),
                    _no_values),
}
"""Per layer class, ``invalid_values``'s tests for that class negated, in its order: True
means it would report nothing, which a valid layer (nearly all) learns from one dictionary
lookup and a few comparisons instead of its chain of isinstance tests. ``min(pair) >= 1`` is
written ``pair[0] >= 1 and pair[1] >= 1`` (a Pair is two ints, and min() is several times
slower). A class not here, and any layer a test fails for, goes through ``invalid_values``
itself, which writes the messages."""


def small_field(fld: Field) -> bool:
    """Whether the receptive field and jump are within the limit (a fraction's terms too)."""
    for v in (*fld.rf, *fld.jump):
        if type(v) is int:
            if v >= MAX_FIGURE:
                return False
        elif max(v.numerator, v.denominator) >= MAX_FIGURE:
            return False
    return True


def oversized(layer: Layer, acts: int, fld: Field, counts: tuple[int, int, int, int]
               ) -> Diagnostic:
    """G108 for the first figure of a computed layer past the limit."""
    for what, n in (("activations", acts), ("weights", counts[0]), ("biases", counts[1]),
                    ("buffers", counts[2]), ("MACs", counts[3])):
        if n >= MAX_FIGURE:
            return too_large(what, n, layer.span, layer.name)
    big = max(v if isinstance(v, int) else max(v.numerator, v.denominator)
              for v in (*fld.rf, *fld.jump))
    return too_large("receptive field", big, layer.span, layer.name)
