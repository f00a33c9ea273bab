"""How large a layer's output can be, from how large its inputs are: bounds that vouch for an
output being finite without looking at it.

The executor says of every layer whether its output stayed finite (``Measured.finite``). It
used to look: one BLAS dot product per chunk (``fusion.magnitude``), 7% of a MobileNetV2
pass at batch 1. Instead each tensor carries an upper bound of its largest ``|value|``: the
network's input is measured once, and each layer's output is bounded from its inputs' bounds
by the rule of its kind below. Only where no rule applies, or the bound reaches the dtype's
largest value (deep stacks of unnormalised convolutions grow it geometrically), is the output
looked at, and what that measures becomes the bound from there on.

Every rule presumes finite inputs (an inf bound gives inf: look) and allows for rounding:
a sum of ``K`` products computed in any order is within ``(1 + K*u/(1 - K*u))`` of the sum of
their magnitudes (``u`` the unit roundoff), so a convolution is bounded by ``max over
outputs of sum |w|``, times the input's bound, times ``1 + 2*(K + 2)*u``, plus its largest
``|bias|``; past ``(K + 2)*u = 1/100`` it says nothing. The weight sums are made once per
weight array (a module's arrays are read-only once built: a change is a new array), a slice
at a time. An FC layer's output is looked at instead: it is small, and its weights are not
(summing VGG-16's first FC layer, 103 M weights, costs more than a batch-1 pass reads).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]

INF = math.inf
# activations whose output is at most 1 in magnitude, and those at most |x| (for finite x)
_UNIT = frozenset({"sigmoid", "hardsigmoid", "tanh", "softmax"})
_CONTRACTING = frozenset({"relu", "identity", "leakyrelu", "gelu", "silu", "swish",
                          "hardswish"})


@functools.lru_cache(maxsize=8)
def unit_roundoff(dtype: np.dtype[Any]) -> float:
    return float(np.finfo(dtype).eps) / 2 if dtype.kind in "fc" else 0.0


class Gains:
    """``max over outputs of sum |w|`` of weight arrays (``w`` seen as ``shape``, summed over
    ``axes``; ``axes`` None: ``max |w|``), made once per array and held with it, so that its
    id is not reused: one per network, which holds the arrays anyway."""

    def __init__(self) -> None:
        self._made: dict[tuple[int, tuple[int, ...] | None], tuple[Array, float]] = {}

    def __call__(self, w: Array, axes: tuple[int, ...] | None,
                 shape: tuple[int, ...] | None = None) -> float:
        key = (id(w), axes)
        if key not in self._made:
            with np.errstate(all="ignore"):
                gain = _largest_sum(w if shape is None else w.reshape(shape), axes)
            self._made[key] = (w, gain if math.isfinite(gain) else INF)
        return self._made[key][1]


BLOCK = 1 << 16  # elements of |w| made at a time: no temporary the size of the weights


def _largest_sum(w: Array, axes: tuple[int, ...] | None) -> float:
    """``max |w|`` (``axes`` None), else the largest of ``|w|`` summed over ``axes``, made a
    slice of ``BLOCK`` elements at a time along the first summed axis."""
    if w.size == 0:
        return 0.0
    if axes is None:
        return float(max(abs(float(w.max())), abs(float(w.min()))))
    along = axes[0]
    step = max(1, BLOCK * w.shape[along] // w.size)
    sums: Array | None = None
    for start in range(0, w.shape[along], step):
        part = np.abs(w[(slice(None),) * along + (slice(start, start + step),)])
        block = part.sum(axis=axes, dtype=np.float64)
        sums = block if sums is None else sums + block
    assert sums is not None
    return float(sums.max())


def _product(gains: Gains, b: float, w: Array, axes: tuple[int, ...], terms: int,
             bias: Array | None, u: float, shape: tuple[int, ...] | None = None) -> float:
    """``|sum of terms products| + |bias|`` for inputs within ``b``."""
    if (terms + 2) * u >= 0.01:
        return INF
    out = gains(w, axes, shape) * b * (1 + 2 * (terms + 2) * u)
    return out + gains(bias, None) if bias is not None else out


@functools.cache
def _kinds() -> tuple[Any, Any]:
    """The module kinds' modules (imported on first use: they import this one's importers)."""
    from cnncalc.execute import graph_modules, modules

    return modules, graph_modules


def after(module: Any, inputs: Sequence[float], dtype: np.dtype[Any], gains: Gains) -> float:
    """An upper bound of ``|value|`` over ``module``'s output, from its inputs' (inf: none);
    ``gains``: the network's weight sums."""
    em, gm = _kinds()
    if not inputs or not all(b < INF for b in inputs):
        return INF
    b, u = max(inputs), unit_roundoff(dtype)
    bias = module.arrays.get("bias")
    if isinstance(module, em.ConvModule):  # weights (groups, Fh*Fw*Cg, Kg)
        w = module.arrays["weight"]
        return _product(gains, b, w, (1,), w.shape[1], bias, u)
    if isinstance(module, em.TransposedModule):  # (groups, Cg, Fh*Fw*Kg): taps overlap
        w = module.arrays["weight"]
        taps = module.kernel[0] * module.kernel[1]
        return _product(gains, b, w, (1, 2), w.shape[1] * taps, bias, u,
                        (w.shape[0], w.shape[1], taps, w.shape[2] // taps))
    if isinstance(module, em.DenseModule):  # its output is small: looking costs less
        return INF
    if isinstance(module, em.BatchNormModule):
        affine = module.affine()
        if affine is None:
            return INF
        scale, shift = affine.reach
        return float((b * scale + shift) * (1 + 4 * u))
    if isinstance(module, em.ActivationModule):
        if module.fn == "relu6":
            return min(b, 6.0)
        if module.fn in _UNIT:
            return 1.0
        if module.fn == "elu":
            return max(b, 1.0)
        return b * (1 + 4 * u) if module.fn in _CONTRACTING else INF
    if isinstance(module, em.DropoutModule):
        return b if module.p >= 1 else b / (1 - module.p) * (1 + 2 * u)
    if isinstance(module, em.PoolModule) and module.op == "max":
        return b
    if isinstance(module, (em.PoolModule, em.GlobalPoolModule, em.AdaptivePoolModule)):
        cells = math.prod(module.in_shape[:2]) if len(module.in_shape) == 3 else 1
        return b * (1 + 2 * (cells + 2) * u) if (cells + 2) * u < 0.01 else INF
    if isinstance(module, gm.MergeModule):
        n = len(inputs)
        if module.op == "add":
            return sum(inputs) * (1 + 2 * n * u)
        if module.op == "multiply":
            return math.prod(inputs) * (1 + 2 * n * u)
        return b
    if isinstance(module, gm.UpsampleModule):
        return b * (1 + 8 * u)
    if isinstance(module, (em.FlattenModule, em.ZeroPadModule, gm.CropModule,
                           gm.SliceModule, gm.ShuffleModule, em.LRNModule)):
        return b  # values moved, or (LRN) divided by at least k**beta = 2**0.75
    return INF
