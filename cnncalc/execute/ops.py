"""NumPy kernels on NHWC arrays (batch, height, width, channels), or (batch, features).

The convolutions are im2col: for each chunk of output rows, a strided view of the (zero
padded) input rows it reads, gathered into a contiguous scratch buffer, then one matrix product
per group. Chunks are whole examples, or rows of one, of about 4 MiB, so that the columns are
still in cache when the product reads them and the gather costs little next to the product; a
product whose weights are wide gets at least four rows per weight column, and no chunk exceeds
the cap. Each kernel returns the multiply-accumulates it performed, counted from the dimensions
of those products (``M*K*N`` of an ``(M, K) @ (K, N)`` product, summed), never from a formula
of the layer. Pooling is in :mod:`cnncalc.execute.pooling`, depthwise convolutions in
:mod:`cnncalc.execute.depthwise`.

Conventions (PyTorch's where the frameworks differ):

- weights of a convolution are kept GEMM-ready, ``(groups, Fh*Fw*Cg, Kg)``; of a transposed
  convolution ``(groups, Cg, Fh*Fw*Kg)``; of an FC layer ``(in, out)``;
- max pooling pads with -inf (padding never wins); average pooling counts padded zeros in the
  divisor (``count_include_pad=True``) but not the cells a ceil-mode window reaches past the
  padded edge (PyTorch clips its window there too). The same holds for ``pad same``, where
  Keras would leave the padding out of the divisor: the shapes agree, border values differ;
- local response normalisation is PyTorch's ``LocalResponseNorm``:
  ``b_c = a_c / (k + alpha/n * sum of a^2 over channels c-n//2 .. c+(n-1)//2)^beta``;
- batch norm's epsilon is PyTorch's 1e-5. Activations are in ``activations``.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cnncalc.execute.buffers import output_array, strided_view
from cnncalc.execute.depthwise import depthwise2d
from cnncalc.execute.fusion import ChunkHook, finish
from cnncalc.execute.gather import gather
from cnncalc.execute.geometry import (
    GeometryError,
    Pair,
    Transposed,
    chunk_budget,
    chunks,
    extent,
)

Array = NDArray[Any]


def pad_hw(x: Array, h: Pair, w: Pair, value: float = 0.0, out: Array | None = None
           ) -> Array:
    """``x`` padded on height (top, bottom) and width (left, right); ``x`` itself if no pad.
    A negative count crops that side instead, as PyTorch's ZeroPad2d does. ``out``: an array
    of the result's shape to write it into (then never ``x`` or a view of it)."""
    if out is not None:
        if min(*h, *w) < 0 or (h == (0, 0) and w == (0, 0)):
            np.copyto(out, pad_hw(x, h, w, value))
            return out
    elif h == (0, 0) and w == (0, 0):
        return x
    if min(*h, *w) < 0:
        rows, cols = x.shape[1], x.shape[2]
        x = x[:, max(-h[0], 0):rows - max(-h[1], 0), max(-w[0], 0):cols - max(-w[1], 0), :]
        h, w = (max(h[0], 0), max(h[1], 0)), (max(w[0], 0), max(w[1], 0))
        if h == (0, 0) and w == (0, 0):
            return x
    n, rows, cols, c = x.shape
    out = output_array(out, (n, rows + h[0] + h[1], cols + w[0] + w[1], c), x.dtype)
    out.fill(value)
    out[:, h[0]:h[0] + rows, w[0]:w[0] + cols, :] = x
    return out


def _check_fits(size: int, count: int, stride: int, span: int) -> None:
    if count < 1 or (count - 1) * stride + span > size:
        raise GeometryError(f"{count} windows of {span} at stride {stride} need more than "
                            f"{size} cells")


def _step(step: int, count: int) -> int:
    """``step`` (a stride between ``count`` windows, or a dilation between ``count`` taps) as
    an array offset: 1 when there is only one, whose position it does not move. The analysis
    accepts any stride, so a stride of 10**20 with one window is valid; NumPy's strides and
    int64 arithmetic are not, even where the step is never taken. With two or more the step is
    bounded by the (padded) array the windows lie in, which exists."""
    return step if count > 1 else 1


class Scratch:
    """Reusable workspace buffers, by name. A chunk loop writes every chunk into the same
    buffer, and the executor's context keeps the buffers from layer to layer and run to run:
    a fresh 4 MiB array per chunk would cost a page fault per 4 KiB, several times the gather
    itself, where a reused one is mapped and, at that size, still in cache."""

    def __init__(self) -> None:
        self._buffers: dict[str, Array] = {}

    def take(self, name: str, shape: tuple[int, ...], dtype: np.dtype[Any]) -> Array:
        size = math.prod(shape) * dtype.itemsize
        buf = self._buffers.get(name)
        if buf is None or buf.nbytes < size:
            self._buffers.pop(name, None)
            del buf  # the old buffer goes before the new one comes
            buf = self._buffers[name] = np.empty(size, dtype=np.uint8)
        return buf[:size].view(dtype).reshape(shape)

    @property
    def nbytes(self) -> int:
        return sum(b.nbytes for b in self._buffers.values())


def _padded_rows(x: Array, n0: int, nb: int, top: int, need: int, pad_w: Pair,
                 scratch: Scratch, name: str = "rows", value: float = 0.0) -> Array:
    """Rows ``top .. top + need`` (which may lie in the padding) of examples ``n0 .. n0+nb``,
    padded with ``value``: the part of the padded input one chunk reads, built in a scratch
    buffer instead of padding the whole batch."""
    _, h, w, c = x.shape
    block = scratch.take(name, (nb, need, w + pad_w[0] + pad_w[1], c), x.dtype)
    first, last = max(top, 0), min(top + need, h)
    if last > first:  # padding only where no input lands: the borders, rows above and below
        block[:, :first - top].fill(value)
        block[:, last - top:].fill(value)
        inside = block[:, first - top:last - top]
        inside[:, :, :pad_w[0]].fill(value)
        inside[:, :, pad_w[0] + w:].fill(value)
        inside[:, :, pad_w[0]:pad_w[0] + w] = x[n0:n0 + nb, first:last]
    else:
        block.fill(value)
    return block


def columns_are_input(kernel: Pair, pad_h: Pair, pad_w: Pair, in_hw: Pair, out_hw: Pair
                      ) -> bool:
    """Whether a convolution's im2col columns are its input as it is: a 1x1 filter, no
    padding and a window at every pixel (stride 1, or a single row or column)."""
    return kernel == (1, 1) and pad_h == (0, 0) and pad_w == (0, 0) and in_hw == out_hw


def conv2d(x: Array, weights: Array, bias: Array | None, kernel: Pair, stride: Pair,
           dilation: Pair, pad_h: Pair, pad_w: Pair, out_hw: Pair, cap: int,
           scratch: Scratch | None = None, epilogue: ChunkHook | None = None,
           out: Array | None = None) -> tuple[Array, int]:
    """A (grouped) convolution; ``pad_h``/``pad_w`` include any ceil-mode overhang. One input
    channel per group (depthwise) goes to :func:`depthwise2d`. ``epilogue`` is called on
    each chunk of the output once it is complete (bias added), to work on it in place while
    it is in cache (:mod:`cnncalc.execute.fusion`), as a 2-D array of whole output rows
    (``Wo*K`` values each). ``out``: a contiguous array of the output's shape and dtype to
    write it into (else a new one)."""
    x = np.ascontiguousarray(x)
    scratch = scratch or Scratch()
    n, h, w, c = x.shape
    groups, depth, per_group = weights.shape
    cg = c // groups
    if groups * cg != c or depth != kernel[0] * kernel[1] * cg:
        raise GeometryError(f"weights {weights.shape} do not fit {c} input channels")
    ho, wo = out_hw
    span = (extent(kernel[0], dilation[0]), extent(kernel[1], dilation[1]))
    _check_fits(h + pad_h[0] + pad_h[1], ho, stride[0], span[0])
    _check_fits(w + pad_w[0] + pad_w[1], wo, stride[1], span[1])
    stride = (_step(stride[0], ho), _step(stride[1], wo))
    dilation = (_step(dilation[0], kernel[0]), _step(dilation[1], kernel[1]))
    padded = pad_h != (0, 0) or pad_w != (0, 0)
    if cg == 1 and groups > 1:  # depthwise: a sum over the taps, not a product per group
        def rows_of(n0: int, nb: int, top: int, need: int, name: str) -> Array:
            if padded:
                return _padded_rows(x, n0, nb, top, need, pad_w, scratch, name)
            return x[n0:n0 + nb, top:top + need]

        return depthwise2d(x, weights, bias, kernel, stride, dilation, pad_h, out_hw, rows_of,
                           scratch, epilogue, out)
    y = output_array(out, (n, ho, wo, groups * per_group), x.dtype)
    bias_row = None if bias is None else np.tile(bias, wo)  # for whole output rows
    pointwise = columns_are_input(kernel, pad_h, pad_w, (h, w), out_hw)
    budget = chunk_budget(depth * x.itemsize, per_group, cap)
    nb, rows = chunks(n, ho, wo * kernel[0] * kernel[1] * c * x.itemsize, budget)
    def windows(n0: int, pn: int, r0: int, pr: int) -> Array:
        """The chunk's windows, ``(N, R, W, Fh, Fw, G, Cg)``: a strided view of its rows of
        the (padded) input."""
        top = r0 * stride[0] - pad_h[0]
        if padded:
            src = _padded_rows(x, n0, pn, top, (pr - 1) * stride[0] + span[0], pad_w, scratch)
        else:
            src = x[n0:n0 + pn, top:]
        sn, sy, sx, sc = src.strides
        return strided_view(src, (pn, pr, wo, kernel[0], kernel[1], groups, cg),
                            (sn, sy * stride[0], sx * stride[1], sy * dilation[0],
                             sx * dilation[1], sc * cg, sc))

    macs = 0
    for n0 in range(0, n, nb):
        for r0 in range(0, ho, rows):
            pn, pr = min(nb, n - n0), min(rows, ho - r0)
            m = pn * pr * wo
            out = y[n0:n0 + pn, r0:r0 + pr].reshape(m, groups * per_group)
            if groups == 1 and pointwise:  # the input rows are the columns already
                np.matmul(x[n0:n0 + pn, r0:r0 + pr].reshape(m, depth), weights[0], out=out)
            elif groups == 1:
                part = windows(n0, pn, r0, pr)
                cols = scratch.take("cols", part.shape, x.dtype)
                gather(cols, part)
                np.matmul(cols.reshape(m, depth), weights[0], out=out)
            else:
                part = windows(n0, pn, r0, pr)
                cols = scratch.take("cols", (groups, pn, pr, wo, *kernel, cg), x.dtype)
                np.copyto(cols, part.transpose(5, 0, 1, 2, 3, 4, 6))
                prod = scratch.take("product", (groups, m, per_group), x.dtype)
                np.matmul(cols.reshape(groups, m, depth), weights, out=prod)
                out.reshape(m, groups, per_group)[...] = prod.transpose(1, 0, 2)
            # while the chunk is in cache, as whole output rows (long inner loops)
            finish(out.reshape(pn * pr, wo * groups * per_group), bias_row, epilogue)
            macs += groups * m * depth * per_group
    return y, macs


def conv_transpose2d(x: Array, weights: Array, bias: Array | None, kernel: Pair, stride: Pair,
                     dilation: Pair, axis_h: Transposed, axis_w: Transposed, cap: int,
                     scratch: Scratch | None = None, out: Array | None = None
                     ) -> tuple[Array, int]:
    """A (grouped) transposed convolution: one product ``(M, Cg) @ (Cg, Fh*Fw*Kg)`` per group
    per chunk of input pixels, whose columns are scattered (added) into the output canvas at
    ``i*stride + tap*dilation``; the output is the canvas cropped by the padding."""
    x = np.ascontiguousarray(x)
    scratch = scratch or Scratch()
    n, h, w, c = x.shape
    groups, cg, width = weights.shape
    taps = kernel[0] * kernel[1]
    per_group = width // taps
    if groups * cg != c or per_group * taps != width:
        raise GeometryError(f"weights {weights.shape} do not fit {c} input channels")
    k = groups * per_group
    canvas = np.zeros((n, axis_h.length, axis_w.length, k), dtype=x.dtype)
    grouped = canvas.reshape(n, axis_h.length, axis_w.length, groups, per_group)
    budget = chunk_budget(width * x.itemsize, cg, cap)
    nb, rows = chunks(n, h, w * taps * k * x.itemsize, budget)
    macs = 0
    for n0 in range(0, n, nb):
        for r0 in range(0, h, rows):
            part = x[n0:n0 + nb, r0:r0 + rows]
            pn, pr = part.shape[0], part.shape[1]
            m = pn * pr * w
            prod = scratch.take("cols", (groups, m, width), x.dtype)
            if groups == 1:
                np.matmul(part.reshape(m, c), weights[0], out=prod[0])
            else:
                split = scratch.take("rows", (groups, pn, pr, w, cg), x.dtype)
                np.copyto(split, part.reshape(pn, pr, w, groups, cg).transpose(3, 0, 1, 2, 4))
                np.matmul(split.reshape(groups, m, cg), weights, out=prod)
            macs += groups * m * cg * width
            cols = prod.reshape(groups, pn, pr, w, kernel[0], kernel[1], per_group)
            for i in range(kernel[0]):
                top = r0 * stride[0] + i * dilation[0]
                for j in range(kernel[1]):
                    left = j * dilation[1]
                    target = grouped[n0:n0 + pn, top:top + (pr - 1) * stride[0] + 1:stride[0],
                                     left:left + (w - 1) * stride[1] + 1:stride[1]]
                    target += np.moveaxis(cols[:, :, :, :, i, j, :], 0, 3)
    y = canvas[:, axis_h.crop:axis_h.crop + axis_h.out, axis_w.crop:axis_w.crop + axis_w.out]
    if out is not None:
        into = output_array(out, y.shape, y.dtype)
        if bias is not None:
            return np.add(y, bias, out=into), macs
        np.copyto(into, y)
        return into, macs
    return (y + bias if bias is not None else np.ascontiguousarray(y)), macs


def batch_norm(x: Array, gamma: Array | None, beta: Array | None, mean: Array | None,
               var: Array | None, eps: float = 1e-5, out: Array | None = None) -> Array:
    """Inference: ``(x - mean)/sqrt(var + eps)*gamma + beta`` with the running statistics;
    without them (``track_running_stats=False``) the batch's own, as PyTorch does. ``out``
    (``x`` itself, to normalise in place) receives the result."""
    if mean is None or var is None:
        axes = tuple(range(x.ndim - 1))
        mean, var = x.mean(axis=axes), x.var(axis=axes)
    return Affine(*bn_affine(gamma, beta, mean, var, x.dtype, eps)).apply(x, out)


def bn_affine(gamma: Array | None, beta: Array | None, mean: Array, var: Array,
              dtype: np.dtype[Any], eps: float = 1e-5) -> tuple[Array, Array]:
    """Batch norm as ``x * scale + shift``, per channel."""
    scale = (1.0 / np.sqrt(var + eps)).astype(dtype)
    if gamma is not None:
        scale = scale * gamma
    shift = -mean * scale
    if beta is not None:
        shift = shift + beta
    return scale, shift


ROW_CAP = 1 << 16  # elements: rows up to this long are made for element-wise operands


class Affine:
    """``x * scale + shift`` per channel (the last axis), as batch norm computes it. An array
    whose last axis is whole rows of pixels (``Wo*C``, as a convolution's chunks are given to
    its fused layers) gets both vectors tiled to that length, made once per length: NumPy
    then runs each pass with one long inner loop instead of one per pixel, twice as fast,
    with the same operations on the same values. ``reach``: ``max|scale|``, ``max|shift|``."""

    def __init__(self, scale: Array, shift: Array) -> None:
        self.scale, self.shift = scale, shift
        self.reach = (float(np.abs(scale).max()) if scale.size else 0.0,
                      float(np.abs(shift).max()) if shift.size else 0.0)
        self._rows: dict[int, tuple[Array, Array]] = {}

    def rows(self, length: int) -> tuple[Array, Array]:
        c = self.scale.size
        if length == c or length % max(c, 1) or length > ROW_CAP:
            return self.scale, self.shift
        if length not in self._rows:
            self._rows[length] = (np.tile(self.scale, length // c),
                                  np.tile(self.shift, length // c))
        return self._rows[length]

    def apply(self, x: Array, out: Array | None = None) -> Array:
        scale, shift = self.rows(x.shape[-1] if x.ndim else 1)
        y: Array = np.multiply(x, scale, out=out)
        y += shift
        return y


@functools.lru_cache(maxsize=16)
def filled_row(value: float, length: int, dtype: str) -> Array | float:
    """A read-only row of ``length`` copies of ``value`` (``dtype`` by its ``str``): the
    other operand of an element-wise maximum or minimum over a last axis that long, which
    NumPy runs twice as fast against an array as against a scalar. The scalar itself past
    :data:`ROW_CAP`."""
    if length > ROW_CAP:
        return value
    row = np.full(length, value, dtype=np.dtype(dtype))
    row.flags.writeable = False
    return row


def lrn(x: Array, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0
        ) -> Array:
    """PyTorch's ``LocalResponseNorm`` across the last (channel) axis; AlexNet's constants."""
    c = x.shape[-1]
    before = size // 2
    squares = np.zeros((*x.shape[:-1], c + size - 1), dtype=x.dtype)
    np.multiply(x, x, out=squares[..., before:before + c])
    acc = squares[..., 0:c].copy()
    for t in range(1, size):
        acc += squares[..., t:t + c]
    del squares
    acc *= alpha / size
    acc += k
    if beta == 0.75:  # sqrt(a) * a**(1/4): two square roots are much cheaper than a power
        root = np.sqrt(acc)
        np.sqrt(root, out=acc)
        acc *= root
        del root
    else:
        acc **= beta
    np.divide(x, acc, out=acc)
    return acc


def dense(x: Array, weights: Array, bias: Array | None) -> tuple[Array, int]:
    """An FC layer on the C-order flattening of each example (HxWxC of an NHWC array)."""
    flat = np.ascontiguousarray(x).reshape(x.shape[0], -1)
    y = np.matmul(flat, weights)
    if bias is not None:
        y += bias
    return y, flat.shape[0] * flat.shape[1] * weights.shape[1]


def dropout(x: Array, p: float, rng: np.random.Generator, scale: bool = True) -> Array:
    """Training-time dropout: each unit is kept with probability ``1 - p``; ``scale`` (inverted
    dropout) divides the kept ones by ``1 - p`` so the expected output equals the test-time
    output, instead of scaling by ``1 - p`` at test time as the lecture's slide derives."""
    keep = rng.random(x.shape, dtype=x.dtype) >= p
    y = x * keep
    if scale and p > 0:
        y *= x.dtype.type(1.0 / (1.0 - p))
    return y
