"""Depthwise convolutions (one group per input channel) as a sum over the kernel's taps.

A depthwise convolution does ``Fh*Fw`` multiply-adds per output value, so an im2col product
``(M, Fh*Fw) @ (Fh*Fw, m)`` per channel is all gather and no arithmetic: it runs at about
1 GFLOP/s. Here the taps are summed by one ``np.einsum`` per chunk of output rows (whole
examples, or rows of one, of about :data:`CHUNK` bytes of output) over a strided view of the
(zero padded) input rows it reads, with no product buffer:

- at a stride of 1 along the width with a depth multiplier of 1 (:data:`ROWS`), over whole
  output rows: a tap's output row ``(Wo, C)`` is then one contiguous run of its input row, so
  the einsum's inner loop is the ``Wo*C`` values of a row against the tap's weights tiled
  ``Wo`` times, whatever ``C`` (4x faster than pixel by pixel at 32 channels, as fast from
  256);
- otherwise pixel by pixel, the inner loop over a pixel's ``C`` channels (a stride along the
  width would need each tap's columns copied apart, which costs more than it saves).

Weights are the GEMM-ready ``(C, Fh*Fw, m)`` of a convolution with ``C`` groups of one channel
(``m`` the depth multiplier); output channel ``c*m + j`` is filter ``j`` of channel ``c``, as in
:func:`cnncalc.execute.ops.conv2d`. The multiply-accumulates returned are counted from the
arrays multiplied: ``Fh*Fw`` per output value the einsum wrote, summed over chunks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from cnncalc.execute.buffers import output_array, strided_view
from cnncalc.execute.geometry import GeometryError, Pair, chunks
from cnncalc.execute.threads import ranges, run_split, threads

if TYPE_CHECKING:
    from cnncalc.execute.fusion import ChunkHook
    from cnncalc.execute.ops import Scratch

Array = NDArray[Any]

CHUNK = 512 * 1024  # bytes of output per chunk: it and the input rows it reads stay in cache
PARALLEL = 1024 * 1024  # outputs of at least this many bytes are split among threads
ROWS = True  # sum whole output rows where the multiplier is 1 (tests turn it off to check
# the pixel path on the same cases)


def by_rows(multiplier: int, stride_w: int) -> bool:
    """Whether the taps are summed over whole output rows (see the module's docstring);
    ``stride_w`` as an array offset (1 where there is one output column)."""
    return ROWS and multiplier == 1 and stride_w == 1


def depthwise_chunks(batch: int, out_hw: Pair, channels: int, itemsize: int) -> Pair:
    """Examples per chunk and output rows per chunk: about :data:`CHUNK` bytes of output."""
    return chunks(batch, out_hw[0], out_hw[1] * channels * itemsize, CHUNK)


def buffers(batch: int, out_hw: Pair, channels: int, outputs: int, stride: Pair,
            span_h: int, padded_w: int, padded: bool, itemsize: int) -> dict[str, int]:
    """The scratch bytes :func:`depthwise2d` takes, by buffer name (``stride`` as array
    offsets, ``padded_w`` the padded input's width, ``padded`` whether it has padding)."""
    ho, wo = out_hw
    workers = threads() if batch * ho * wo * outputs * itemsize >= PARALLEL else 1
    out: dict[str, int] = {}
    for part, (e0, e1, q0, q1) in enumerate(split(batch, ho, workers)):
        tag = "" if part == 0 else f"@{part}"
        nb, rows = depthwise_chunks(e1 - e0, (q1 - q0, wo), outputs, itemsize)
        need = (rows - 1) * stride[0] + span_h
        if padded:
            out["rows" + tag] = nb * need * padded_w * channels * itemsize
    return out


def depthwise2d(x: Array, weights: Array, bias: Array | None, kernel: Pair, stride: Pair,
                dilation: Pair, pad_h: Pair, out_hw: Pair,
                src: Callable[[int, int, int, int, str], Array], scratch: Scratch,
                epilogue: ChunkHook | None = None, out: Array | None = None
                ) -> tuple[Array, int]:
    """``x`` (NHWC, contiguous) convolved channel by channel. ``stride`` and ``dilation`` are
    already array offsets (see ``ops._step``), the window counts already checked against the
    padded input; ``src(n0, nb, top, need, name)`` gives rows ``top .. top + need`` of the
    padded input of examples ``n0 .. n0 + nb``, each row contiguous (built in scratch buffer
    ``name`` where it needs padding). An output of at least :data:`PARALLEL` bytes is cut
    into one piece per thread (:func:`split`), each with a "rows" buffer of its own, suffixed
    ``@1``, ``@2`` ... past the first (:func:`buffers` gives their sizes). ``epilogue`` is
    called on each finished chunk of the output, as a 2-D array of whole output rows
    (``Wo*K`` values each), in the thread that made it. ``out``: as in ``ops.conv2d``."""
    n, _, _, c = x.shape
    groups, taps, mult = weights.shape
    if groups != c or taps != kernel[0] * kernel[1]:
        raise GeometryError(f"weights {weights.shape} do not fit {c} input channels")
    ho, wo = out_hw
    kh, kw = kernel
    k = c * mult
    span_h = (kh - 1) * dilation[0] + 1
    sw = stride[1]
    y = output_array(out, (n, ho, wo, k), x.dtype)
    rows_path = by_rows(mult, sw)
    bias_row = None if bias is None else np.tile(bias, wo)
    if rows_path:  # (Fh, Fw, Wo*C): each tap's weights for a whole output row
        w_grid = np.tile(weights[:, :, 0].T.reshape(kh, kw, 1, c), (1, 1, wo, 1)).reshape(
            kh, kw, wo * c).astype(x.dtype, copy=False)
    else:  # (Fh, Fw, C, m): the weights of each tap and channel
        w_grid = np.ascontiguousarray(weights.transpose(1, 0, 2).reshape(
            kh, kw, c, mult)).astype(x.dtype, copy=False)

    def summed(block: Array, out: Array) -> int:
        """``out``'s rows as one sum of products over the taps of a strided view of
        ``block``, the padded rows they need."""
        pn, pr = out.shape[:2]
        sn, sy, sx, sc = block.strides
        if not rows_path:
            windows = strided_view(block, (pn, pr, wo, kh, kw, c),
                                   (sn, sy * stride[0], sx * sw, sy * dilation[0],
                                    sx * dilation[1], sc))
            np.einsum("nrwijc,ijcm->nrwcm", windows, w_grid,
                      out=out.reshape(pn, pr, wo, c, mult))
        else:  # tap (i, j) of output row r: the run of Wo*C values from column j*dilation
            windows = strided_view(block, (pn, pr, kh, kw, wo * c),
                                   (sn, sy * stride[0], sy * dilation[0], sx * dilation[1],
                                    sc))
            np.einsum("nrijk,ijk->nrk", windows, w_grid, out=out.reshape(pn, pr, wo * c))
        rows = out.reshape(pn * pr, wo * k)  # whole output rows: long inner loops
        if bias_row is not None:
            rows += bias_row  # while the rows are in cache
        if epilogue is not None:
            epilogue(rows, len(parts))
        return int(taps * out.size)

    def piece(part: int, e0: int, e1: int, q0: int, q1: int) -> int:
        """Output rows ``q0 .. q1`` of examples ``e0 .. e1``, chunk by chunk, in buffers of
        its own (``part`` names them), so that the pieces can run side by side."""
        tag = "" if part == 0 else f"@{part}"
        nb, rows = depthwise_chunks(e1 - e0, (q1 - q0, wo), k, x.itemsize)
        done = 0
        for n0 in range(e0, e1, nb):
            for r0 in range(q0, q1, rows):
                pn, pr = min(nb, e1 - n0), min(rows, q1 - r0)
                block = src(n0, pn, r0 * stride[0] - pad_h[0], (pr - 1) * stride[0] + span_h,
                            "rows" + tag)
                done += summed(block, y[n0:n0 + pn, r0:r0 + pr])
        return done

    workers = threads() if y.nbytes >= PARALLEL else 1
    parts = split(n, ho, workers)
    if len(parts) == 1:
        return y, piece(0, 0, n, 0, ho)
    return y, sum(run_split([functools.partial(piece, part, *bounds)
                             for part, bounds in enumerate(parts)]))


def split(examples: int, rows: int, parts: int) -> list[tuple[int, int, int, int]]:
    """An output of ``examples`` x ``rows`` output rows cut into at most ``parts`` pieces
    (first example, last + 1, first row, last + 1): by examples when there are enough, else
    by rows."""
    if examples >= parts:
        return [(a, b, 0, rows) for a, b in ranges(examples, parts)]
    return [(0, examples, a, b) for a, b in ranges(rows, parts)]
