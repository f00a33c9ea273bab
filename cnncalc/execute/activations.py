"""Activation functions on arrays of any shape, written in place where they can be so that
each allocates little besides its output (``TEMPORARIES`` tells the memory estimate how much).

GELU is the exact ``x * Phi(x)`` (PyTorch's default, not the tanh approximation), with erfc
from a Chebyshev fit of relative error below 1.2e-7 (numpy has no erf). Softmax and
log-softmax act over the last axis: the channels of an NHWC volume (PyTorch's ``dim=1`` on
NCHW) or the features of a vector; the others are element-wise.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from cnncalc.execute.ops import Array, filled_row

_ERFC = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
         -1.13520398, 1.48851587, -0.82215223, 0.17087277)


def erfc(x: Array) -> Array:
    """The complementary error function, Chebyshev fit of Numerical Recipes (``erfcc``):
    relative error below 1.2e-7 everywhere, so GELU stays accurate in its far negative tail
    (numpy has no erf). Written in place: three input-sized arrays at a time."""
    z = np.abs(x)
    t = z * 0.5
    t += 1.0
    np.reciprocal(t, out=t)
    poly = np.full_like(t, _ERFC[-1])
    for c in _ERFC[-2::-1]:
        poly *= t
        poly += c
    np.multiply(z, z, out=z)
    poly -= z
    del z
    np.exp(poly, out=poly)
    poly *= t
    np.subtract(2.0, poly, out=poly, where=x < 0)
    return poly


def _gelu(x: Array) -> Array:
    y = erfc(x * (-1.0 / math.sqrt(2.0)))
    y *= x
    y *= 0.5
    return y


def _sigmoid(x: Array) -> Array:
    """``(1 + tanh(x/2))/2``: the same function, without overflow for large ``|x|``."""
    y = x * 0.5
    np.tanh(y, out=y)
    y += 1.0
    y *= 0.5
    return y


def _silu(x: Array) -> Array:
    y = _sigmoid(x)
    y *= x
    return y


def _hardsigmoid(x: Array) -> Array:
    y = x + 3.0
    np.clip(y, 0.0, 6.0, out=y)
    y /= 6.0
    return y


def _hardswish(x: Array) -> Array:
    y = _hardsigmoid(x)
    y *= x
    return y


def _softmax(x: Array) -> Array:
    e: Array = x - x.max(axis=-1, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=-1, keepdims=True)
    return e


def _relu(x: Array, out: Array | None = None) -> Array:
    """``max(x, 0)``, NaN kept, against a row of zeros as long as the last axis."""
    return np.maximum(x, filled_row(0.0, x.shape[-1] if x.ndim else 1, x.dtype.str), out=out)


def _relu6(x: Array, out: Array | None = None) -> Array:
    """``min(max(x, 0), 6)``, NaN kept, -0.0 kept (as PyTorch's ``ReLU6``): one pass of
    ``np.clip``, half the time of a maximum then a minimum on arrays of 50K values or more."""
    y: Array = np.clip(x, x.dtype.type(0), x.dtype.type(6), out=out)
    return y


def _logsoftmax(x: Array) -> Array:
    shifted: Array = x - x.max(axis=-1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted


ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "relu": _relu,
    "relu6": _relu6,
    "leakyrelu": lambda x: np.where(x > 0, x, x * x.dtype.type(0.01)),
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "gelu": _gelu,
    "silu": _silu,
    "swish": _silu,
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "softmax": _softmax,
    "logsoftmax": _logsoftmax,
    "hardswish": _hardswish,
    "hardsigmoid": _hardsigmoid,
    "identity": lambda x: x,
}
"""Element-wise, except softmax and log-softmax, which act over the last axis: the channels
of an NHWC volume (PyTorch's ``dim=1`` on NCHW) or the features of a vector."""

INTO: dict[str, Callable[[Array, Array | None], Array]] = {"relu": _relu, "relu6": _relu6}
"""The same functions writing into a given array (``out``): their input itself, for an input
no later layer reads, or the output's place in the block of :mod:`cnncalc.execute.arena`."""

IN_PLACE: dict[str, Callable[[Array], Array]] = {
    name: functools.partial(lambda fn, x: fn(x, x), fn) for name, fn in INTO.items()}
"""The same functions written over their input, for an input no later layer reads."""

TEMPORARIES: dict[str, float] = {"gelu": 3.25, "elu": 2.25, "leakyrelu": 1.25, "logsoftmax": 1}
"""Input-sized temporaries each activation allocates besides its output (default none; a
boolean mask counts a quarter of a float32 array), for the memory estimate."""
