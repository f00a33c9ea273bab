"""Keras layers that prepare images inside a model or resize them: ``Rescaling``,
``Normalization``, ``CenterCrop``, ``Cropping2D``, ``UpSampling2D``, and the augmentation and
noise layers (``RandomFlip``...).

cnncalc computes shapes and counts, not values, and reads a model as it runs at inference:

- ``Rescaling(scale, offset)`` multiplies and adds elementwise: shape-preserving, no weights,
  no MACs; read as the identity. Its arguments change no shape, so ``1.0 / 255`` is not read.
- ``Normalization()`` is ``(x - mean) / sqrt(variance)`` per channel, batch normalisation at
  inference without gamma and beta, and is read as that: a BatchNorm with neither scale nor
  center. Keras keeps ``mean`` and ``variance`` (C each) as non-trainable weights, which cnncalc
  counts as buffers, as it counts batch normalisation's moving mean and variance. Keras's
  third non-trainable weight, the scalar ``count`` of samples seen by ``adapt()``, is a
  counter like PyTorch's ``num_batches_tracked`` and is not counted, as that one is not: Keras's
  non-trainable total is cnncalc's buffers plus 1 per such layer. Given ``mean=`` and
  ``variance=``, Keras stores them as constants, not weights: no buffers. Only the channel
  axis (Keras's default ``axis=-1``) is read.
- ``CenterCrop(height, width)`` is a centre crop to that size (a crop larger than its input is
  an error here; Keras would resize the image instead).
- ``UpSampling2D(size)`` repeats rows and columns (``nearest``, or ``bilinear``).
- ``Cropping2D`` cuts rows and columns off each side: zero padding of minus as many;
- ``RandomFlip``, ``RandomRotation``, ``RandomZoom``, ``RandomTranslation``,
  ``RandomContrast``, ``RandomBrightness`` and ``GaussianNoise`` pass their input through
  unchanged at inference and have no weights: the identity (``SpatialDropout2D`` and
  ``GaussianDropout`` are read as Dropout).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from cnncalc import spec
from cnncalc.parse.pycode import ints, refuse
from cnncalc.spec import Layer, Padding

if TYPE_CHECKING:
    from cnncalc.parse.keras_layers import Args

# the argument each identity layer requires (RandomFlip requires none)
_NEEDED = {"Rescaling": "scale", "RandomZoom": "height_factor",
           "RandomTranslation": "height_factor", "GaussianNoise": "stddev"}


def identity(c: Args) -> list[Layer]:
    """Rescaling, the augmentation layers and GaussianNoise: the identity at inference. An
    argument Keras requires (``scale``, ``factor``...) must be there, but is not read."""
    if c.cls != "RandomFlip":
        needed = _NEEDED.get(c.cls, "factor")
        if needed not in c.nodes:
            raise refuse(c.span, "P010", f"{c.cls} needs `{needed}`",
                         f"give it, e.g. `{c.cls}({needed}=...)`")
    if "data_format" in c.nodes:
        c.data_format()
    return [spec.Activation(name=c.name, span=c.span, fn="identity", fields=c.recorded())]


def normalization(c: Args) -> list[Layer]:
    """Normalization: a BatchNorm without gamma and beta; mean and variance are buffers unless
    given as constants."""
    if "axis" in c.nodes and c.raw("axis", -1) not in (-1, 1 if c.r.rank == 1 else 3):
        raise refuse(c.arg_span("axis"), "P011", f"{c.name}: cnncalc normalises only along "
                     "the channel axis", "drop `axis` (Keras's default -1)")
    given = [k for k in ("mean", "variance") if k in c.nodes and not _none(c, k)]
    if len(given) == 1:
        raise refuse(c.arg_span(given[0]), "P010", f"{c.name}: `mean` and `variance` are given "
                     "together or not at all", "give both, or neither (Keras learns them in "
                     "adapt())")
    return [spec.BatchNorm(name=c.name, span=c.span, scale=False, center=False,
                           running_stats=not given, fields=c.recorded())]


def _none(c: Args, name: str) -> bool:
    """Whether the argument is written as ``None`` (its value is not read: only whether it is
    given decides the count)."""
    node = c.nodes[name]
    return isinstance(node, ast.Constant) and node.value is None


def center_crop(c: Args) -> list[Layer]:
    height, width = c.count("height"), c.count("width")
    c.data_format()
    return [spec.Crop(name=c.name, span=c.span, size=(height, width), fields=c.recorded())]


def upsampling(c: Args) -> list[Layer]:
    size = c.pair("size", (2, 2))
    c.data_format()
    mode = c.raw("interpolation", "nearest")
    if mode not in ("nearest", "bilinear"):
        raise c.bad("interpolation", "'nearest' or 'bilinear'")
    if ints(size, 2) is None or min(size) < 1:
        raise c.bad("size", "a whole number or a pair, 1 or more")
    return [spec.Upsample(name=c.name, span=c.span, factor=size,
                          mode="nearest" if mode == "nearest" else "bilinear",
                          fields=c.recorded())]


def cropping(c: Args) -> list[Layer]:
    """Cropping2D: ``N``, ``(H, W)`` (symmetric) or ``((top, bottom), (left, right))``; read as
    zero padding of minus as many (a negative padding crops, as PyTorch's ZeroPad2d does)."""
    v = c.raw("cropping", ((0, 0), (0, 0)))
    c.data_format()
    hw = ints(v, 2)
    h, w = ((hw[0],) * 2, (hw[1],) * 2) if hw else (ints(v[0], 2), ints(v[1], 2)) \
        if isinstance(v, tuple) and len(v) == 2 else (None, None)
    if h is None or w is None or min(*h, *w) < 0:
        raise c.bad("cropping", "N, (H, W) or ((top, bottom), (left, right)), 0 or more")
    return [spec.ZeroPad(name=c.name, span=c.span, fields=c.recorded(),
                         padding=Padding("explicit", (-h[0], -h[1]), (-w[0], -w[1])))]
