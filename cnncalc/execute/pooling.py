"""Pooling kernels on NHWC arrays: max and average pooling over windows (PyTorch's
conventions, see :mod:`cnncalc.execute.ops`: max pooling pads with -inf; average pooling
counts padded zeros in the divisor but not the cells a ceil-mode window reaches past the
padded edge), PyTorch's adaptive pooling, and global pooling."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from cnncalc.execute.buffers import output_array
from cnncalc.execute.geometry import CACHE_CHUNK, Pair, chunks, extent, overhang
from cnncalc.execute.ops import Scratch, _check_fits, _padded_rows, _step

Array = NDArray[Any]


def _taps_inside(limit: int, count: int, stride: int, taps: int, dilation: int) -> Array:
    """For each of ``count`` windows, how many of its taps lie before ``limit`` (the padded
    edge): window ``o`` has tap ``t`` at ``o*stride + t*dilation``. In Python ints (one per
    window), so that no stride or dilation the analysis accepts can overflow."""
    return np.array([min(max(-((o * stride - limit) // dilation), 0), taps)
                     for o in range(count)], dtype=np.int64)


def pool_overhang(in_hw: Pair, kernel: Pair, stride: Pair, dilation: Pair, pad_h: Pair,
                  pad_w: Pair, out_hw: Pair) -> tuple[Pair, Pair]:
    """The padding a pooling layer runs with: its own, and past the bottom and the right the
    cells a ceil-mode last window reaches beyond it."""
    more_h = overhang(in_hw[0], extent(kernel[0], dilation[0]), stride[0], pad_h, out_hw[0])
    more_w = overhang(in_hw[1], extent(kernel[1], dilation[1]), stride[1], pad_w, out_hw[1])
    return (pad_h[0], pad_h[1] + more_h), (pad_w[0], pad_w[1] + more_w)


def pool_chunks(batch: int, in_hw: Pair, channels: int, stride: int, run_w: Pair,
                out_rows: int, itemsize: int, cap: int) -> Pair:
    """Examples and output rows per chunk of a padded pooling layer: about ``cap`` bytes of
    padded input rows (``stride`` rows per output row)."""
    wide = (in_hw[1] + run_w[0] + run_w[1]) * channels * itemsize
    return chunks(batch, out_rows, max(stride, 1) * wide, cap)


def pool2d(x: Array, op: Literal["max", "avg"], kernel: Pair, stride: Pair, dilation: Pair,
           pad_h: Pair, pad_w: Pair, out_hw: Pair, out: Array | None = None,
           scratch: Scratch | None = None, cap: int = CACHE_CHUNK) -> Array:
    """Max or average pooling of ``out_hw`` windows; one vectorised step per window tap, chunk
    by chunk of output rows. A padded input is not copied whole: each chunk reads the padded
    rows it needs from a scratch buffer (``rows``, about ``cap`` bytes), padded with -inf
    for max pooling (padding never wins) and zeros for average pooling. ``out``: as in
    :func:`conv2d`."""
    x = np.ascontiguousarray(x)
    scratch = scratch or Scratch()
    n, h, w, c = x.shape
    ho, wo = out_hw
    span = (extent(kernel[0], dilation[0]), extent(kernel[1], dilation[1]))
    run_h, run_w = pool_overhang((h, w), kernel, stride, dilation, pad_h, pad_w, out_hw)
    _check_fits(h + run_h[0] + run_h[1], ho, stride[0], span[0])
    _check_fits(w + run_w[0] + run_w[1], wo, stride[1], span[1])
    stride = (_step(stride[0], ho), _step(stride[1], wo))
    dilation = (_step(dilation[0], kernel[0]), _step(dilation[1], kernel[1]))
    fill = -np.inf if op == "max" else 0.0
    padded = run_h != (0, 0) or run_w != (0, 0)
    acc = output_array(out, (n, ho, wo, c), x.dtype)
    nb, rows = pool_chunks(n, (h, w), c, stride[0], run_w, ho, x.itemsize, cap)
    for n0 in range(0, n, nb):
        for r0 in range(0, ho, rows):
            pn, pr = min(nb, n - n0), min(rows, ho - r0)
            top, need = r0 * stride[0] - run_h[0], (pr - 1) * stride[0] + span[0]
            src = _padded_rows(x, n0, pn, top, need, run_w, scratch, "rows", fill) \
                if padded else x[n0:n0 + pn, top:top + need]
            part = acc[n0:n0 + pn, r0:r0 + pr]
            for i in range(kernel[0]):
                for j in range(kernel[1]):
                    first, left = i * dilation[0], j * dilation[1]
                    tap = src[:, first:first + (pr - 1) * stride[0] + 1:stride[0],
                              left:left + (wo - 1) * stride[1] + 1:stride[1]]
                    if i == j == 0:
                        np.copyto(part, tap)
                    elif op == "max":
                        np.maximum(part, tap, out=part)
                    else:
                        np.add(part, tap, out=part)
    if op == "avg":
        ch = _taps_inside(h + pad_h[0] + pad_h[1], ho, stride[0], kernel[0], dilation[0])
        cw = _taps_inside(w + pad_w[0] + pad_w[1], wo, stride[1], kernel[1], dilation[1])
        acc /= (ch[:, None] * cw[None, :]).astype(x.dtype)[None, :, :, None]
    return acc


def _adaptive_axis(x: Array, axis: int, out: int, op: Literal["max", "avg"]) -> Array:
    size = x.shape[axis]
    i = np.arange(out, dtype=np.int64)
    starts = (i * size) // out
    ends = -((-(i + 1) * size) // out)
    widest = int((ends - starts).max())
    idx = starts[:, None] + np.arange(widest, dtype=np.int64)[None, :]
    valid = idx < ends[:, None]
    gathered = np.take(x, np.minimum(idx, ends[:, None] - 1), axis=axis)
    shape = [1] * gathered.ndim
    shape[axis], shape[axis + 1] = out, widest
    if op == "max":
        top: Array = gathered.max(axis=axis + 1)  # clamped indices repeat a window's cell
        return top
    gathered *= valid.reshape(shape).astype(x.dtype)
    counts = (ends - starts).astype(x.dtype).reshape(shape[:axis + 1] + shape[axis + 2:])
    total: Array = gathered.sum(axis=axis + 1)
    total /= counts
    return total


def adaptive_pool2d(x: Array, op: Literal["max", "avg"], out_hw: Pair) -> Array:
    """PyTorch's adaptive pooling: cell ``i`` of ``O`` on an axis of ``W`` covers
    ``[floor(i*W/O), ceil((i+1)*W/O))``. Both reductions are separable, so one axis at a time."""
    return _adaptive_axis(_adaptive_axis(x, 1, out_hw[0], op), 2, out_hw[1], op)


def global_pool(x: Array, op: Literal["max", "avg"], keepdims: bool) -> Array:
    y = x.max(axis=(1, 2), keepdims=keepdims) if op == "max" else \
        x.mean(axis=(1, 2), keepdims=keepdims, dtype=x.dtype)
    return np.ascontiguousarray(y)
