"""NumPy kernels of the layers that make a network a graph, on NHWC arrays (batch, height,
width, channels) or (batch, features): the merges (add, concat, multiply) and the reshaping
steps (centre crop, channel slice, channel shuffle, upsampling).

None of them performs a matrix product, so none counts multiply-accumulates. Each returns a
new array, never a view of its input: a view would keep the whole input alive after the
executor has dropped it, so that the memory the run holds would not be the tensors it counts.
Each can write into an array it is given instead (``out``: the output's place in the block of
:mod:`cnncalc.execute.arena`); the merges also over an input the caller gives up, which the
executor does only when no later layer reads it. The sums are taken in the same order either
way.

Conventions (PyTorch's, torchvision's):

- a centre crop starts at ``(size - target) // 2``: an odd cell left over is cut after (at
  the bottom, on the right). torchvision's ``center_crop`` rounds ``(size - target)/2`` half
  to even instead, which cuts it before when ``size - target`` is 3 mod 4 (7 -> 4 starts at
  2); the output shapes agree;
- a channel shuffle in ``g`` groups is ShuffleNet's: the channels, seen as ``(g, C/g)``, are
  transposed to ``(C/g, g)`` and flattened, so output channel ``i*g + j`` is input channel
  ``j*C/g + i`` (4 channels, 2 groups: 0, 2, 1, 3);
- nearest upsampling by an integer factor ``f`` repeats each cell ``f`` times (PyTorch's
  ``nearest``: source ``floor(d/f)``);
- bilinear upsampling is ``torch.nn.Upsample(mode="bilinear", align_corners=False)``: output
  cell ``d`` samples the input at ``s = max((d + 0.5)/f - 0.5, 0)``, between cells
  ``floor(s)`` and ``floor(s) + 1`` (the last cell repeated at the edge), weighted by
  ``1 - (s - floor(s))`` and ``s - floor(s)``: each row interpolated along the width, then
  two rows weighted along the height, the grouping of PyTorch's CPU kernel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cnncalc.execute.buffers import output_array
from cnncalc.execute.ops import Array


def add(xs: Sequence[Array], out: Array | None = None) -> Array:
    """``xs[0] + xs[1] + ...`` in that order; ``out`` may be ``xs[0]`` or ``xs[1]``."""
    acc = np.add(xs[0], xs[1], out=out)
    for x in xs[2:]:
        acc += x
    return acc


def multiply(xs: Sequence[Array], out: Array | None = None) -> Array:
    """``xs[0] * xs[1] * ...`` in that order, broadcast (a ``(N, 1, 1, C)`` gate over
    ``(N, H, W, C)``); ``out`` may be ``xs[0]`` or ``xs[1]`` when it has the output's shape."""
    acc = np.multiply(xs[0], xs[1], out=out)
    for x in xs[2:]:
        acc *= x
    return acc


def concat(xs: Sequence[Array], out: Array | None = None) -> Array:
    """Along the last axis: channels stacked, or vectors end to end."""
    return np.concatenate(xs, axis=-1, out=out)


def _copy(view: Array, out: Array | None) -> Array:
    """``view`` copied into ``out``, or into a new array."""
    into = output_array(out, view.shape, view.dtype)
    np.copyto(into, view)
    return into


def center_crop(x: Array, size: tuple[int, int], out: Array | None = None) -> Array:
    """The ``size[0] x size[1]`` centre of each example; offsets rounded down."""
    _, h, w, _ = x.shape
    top, left = (h - size[0]) // 2, (w - size[1]) // 2
    return _copy(x[:, top:top + size[0], left:left + size[1]], out)


def channel_slice(x: Array, start: int, stop: int, out: Array | None = None) -> Array:
    """Channels (or a vector's elements) ``start`` to ``stop``, exclusive."""
    return _copy(x[..., start:stop], out)


def channel_shuffle(x: Array, groups: int) -> Array:
    n, h, w, c = x.shape
    return x.reshape(n, h, w, groups, c // groups).transpose(0, 1, 2, 4, 3).reshape(n, h, w, c)


def upsample_nearest(x: Array, factor: tuple[int, int], out: Array | None = None) -> Array:
    n, h, w, c = x.shape
    fh, fw = factor
    y = output_array(out, (n, h * fh, w * fw, c), x.dtype)
    y.reshape(n, h, fh, w, fw, c)[...] = x[:, :, None, :, None, :]
    return y


def linear_taps(size: int, factor: int) -> tuple[Array, Array, Array, Array]:
    """For the ``size * factor`` output cells of one axis: the two input cells each reads and
    their weights (float64), as ``align_corners=False`` defines them."""
    d = np.arange(size * factor, dtype=np.float64)
    src = np.maximum((d + 0.5) / factor - 0.5, 0.0)
    first = np.minimum(np.floor(src).astype(np.int64), size - 1)
    second = np.minimum(first + 1, size - 1)
    frac = src - first
    return first, second, 1.0 - frac, frac


def _linear_axis(x: Array, axis: int, factor: int, out: Array | None = None) -> Array:
    first, second, w0, w1 = linear_taps(x.shape[axis], factor)
    shape = [1] * x.ndim
    shape[axis] = -1
    kind: Any = x.dtype
    lo = np.take(x, first, axis=axis, out=out)
    lo *= w0.astype(kind).reshape(shape)
    hi = np.take(x, second, axis=axis)
    hi *= w1.astype(kind).reshape(shape)
    lo += hi
    return lo


def upsample_bilinear(x: Array, factor: tuple[int, int], out: Array | None = None) -> Array:
    """Workspace: the width-interpolated array (``N x H x W*fw x C``) while the height pass
    makes two arrays of the output's size (one becomes the output, or goes into ``out``)."""
    return _linear_axis(_linear_axis(x, 2, factor[1]), 1, factor[0], out)
