"""Depthwise convolutions (one group per input channel) as a sum over the kernel's taps.

A depthwise convolution does ``Fh*Fw`` multiply-adds per output value, so an im2col product
``(M, Fh*Fw) @ (Fh*Fw, m)`` per channel is all gather and no arithmetic: it runs at about
1 GFLOP/s. Here each tap is a strided view of the (zero padded) input, the same shape as the
output, times that tap's per-channel weights, added into the output: ``Fh*Fw`` broadcast
multiply-adds over arrays that stay in cache, chunk by chunk (whole examples, or rows of one,
of about :data:`CHUNK` bytes of output). A tap's output row is one contiguous run of the input
row (with a stride ``S`` along the width, of one of ``S`` phases of its columns, copied apart
once per chunk), so the multiply runs over ``Wo*C`` values at once against the tap's weights
tiled ``Wo`` times, instead of ``Wo`` runs of ``C``.

Weights are the GEMM-ready ``(C, Fh*Fw, m)`` of a convolution with ``C`` groups of one channel
(``m`` the depth multiplier); output channel ``c*m + j`` is filter ``j`` of channel ``c``, as in
:func:`cnncalc.execute.ops.conv2d`. The multiply-accumulates returned are counted from the
arrays multiplied: one per element of a tap's product, summed over taps and chunks.
"""

from __future__ import annotations

import contextvars
import functools
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import NDArray

from cnncalc.execute.geometry import GeometryError, Pair, chunks
from cnncalc.execute.threads import pool, threads

if TYPE_CHECKING:
    from cnncalc.execute.fusion import ChunkHook
    from cnncalc.execute.ops import Scratch

Array = NDArray[Any]

CHUNK = 512 * 1024  # bytes of output per chunk: it, a product and the input rows stay in L2
PARALLEL = 1024 * 1024  # outputs of at least this many bytes are split among threads


EINSUM_ROW = 256  # bytes of channels per pixel from which a chunk is one np.einsum


def by_einsum(channels: int, itemsize: int) -> bool:
    """Whether the taps are summed by one ``np.einsum`` per chunk over a strided view of the
    input rows (no product buffer, no phases): faster once a pixel's channels make a long
    inner loop (64 float32 values), slower below that, where a tap's whole row is the better
    inner loop."""
    return channels * itemsize >= EINSUM_ROW


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
        if by_einsum(channels, itemsize):
            continue
        out["product" + tag] = nb * rows * wo * outputs * itemsize
        if stride[1] > 1:
            out["phases" + tag] = stride[1] * nb * need * -(-padded_w // stride[1]) \
                * channels * itemsize
    return out


def depthwise2d(x: Array, weights: Array, bias: Array | None, kernel: Pair, stride: Pair,
                dilation: Pair, pad_h: Pair, out_hw: Pair,
                src: Callable[[int, int, int, int, str], Array], scratch: Scratch,
                epilogue: ChunkHook | None = None) -> tuple[Array, int]:
    """``x`` (NHWC, contiguous) convolved channel by channel. ``stride`` and ``dilation`` are
    already array offsets (see ``ops._step``), the window counts already checked against the
    padded input; ``src(n0, nb, top, need, name)`` gives rows ``top .. top + need`` of the
    padded input of examples ``n0 .. n0 + nb`` (built in scratch buffer ``name`` where it
    needs padding). An output of at least :data:`PARALLEL` bytes is cut into one piece per
    thread (:func:`split`), each with buffers of its own: "product", "rows", "phases",
    suffixed ``@1``, ``@2`` ... past the first (:func:`buffers` gives their sizes).
    ``epilogue`` is called on each finished chunk of the output, in the thread that made it."""
    n, _, _, c = x.shape
    groups, taps, mult = weights.shape
    if groups != c or taps != kernel[0] * kernel[1]:
        raise GeometryError(f"weights {weights.shape} do not fit {c} input channels")
    ho, wo = out_hw
    k = c * mult
    span_h = (kernel[0] - 1) * dilation[0] + 1
    y = np.empty((n, ho, wo, k), dtype=x.dtype)
    flat, sw = mult == 1, stride[1]
    if flat:  # per tap, the weights of a whole output row
        w_taps = np.tile(np.ascontiguousarray(weights[:, :, 0].T), (1, wo))
    else:
        w_taps = np.ascontiguousarray(weights.transpose(1, 0, 2).reshape(taps, c, mult))
    w_taps = w_taps.astype(x.dtype, copy=False)
    phases = sorted({j * dilation[1] % sw for j in range(kernel[1])})

    def accumulate(block: Array, out: Array, tmp: Array) -> int:
        """The taps of ``out``'s rows, read from ``block``: the padded rows they need, as
        ``sw`` phases of their columns (phase ``q`` holds columns ``q, q + sw, ...``)."""
        pn, pr = out.shape[:2]
        whole = out
        if flat:
            out, tmp = out.reshape(pn, pr, wo * k), tmp.reshape(pn, pr, wo * k)
        else:
            out, tmp = out.reshape(pn, pr, wo, c, mult), tmp.reshape(pn, pr, wo, c, mult)
        for t in range(taps):
            i, j = divmod(t, kernel[1])
            top, (left, q) = i * dilation[0], divmod(j * dilation[1], sw)
            tap = block[q, :, top:top + (pr - 1) * stride[0] + 1:stride[0], left:left + wo]
            tap = tap.reshape(pn, pr, wo * c) if flat else tap[..., None]
            if t == 0:
                np.multiply(tap, w_taps[t], out=out)
            else:
                np.multiply(tap, w_taps[t], out=tmp)
                out += tmp
        if bias is not None:
            whole += bias  # while the rows are in cache
        if epilogue is not None:
            epilogue(whole, len(parts))
        return int(taps * out.size)

    einsum = by_einsum(c, x.itemsize)
    if einsum:  # (Fh, Fw, C, m): the weights of each tap and channel
        w_grid = np.ascontiguousarray(weights.transpose(1, 0, 2).reshape(
            kernel[0], kernel[1], c, mult)).astype(x.dtype, copy=False)

    def summed(block: Array, out: Array) -> int:
        """``out``'s rows as one sum of products over the taps of a strided view of
        ``block``, the padded rows they need."""
        pn, pr = out.shape[:2]
        sn, sy, sx, sc = block.strides
        windows = as_strided(block, (pn, pr, wo, kernel[0], kernel[1], c),
                             (sn, sy * stride[0], sx * stride[1], sy * dilation[0],
                              sx * dilation[1], sc), writeable=False)
        if mult == 1:
            np.einsum("nrwijc,ijc->nrwc", windows, w_grid[..., 0], out=out)
        else:
            np.einsum("nrwijc,ijcm->nrwcm", windows, w_grid,
                      out=out.reshape(pn, pr, wo, c, mult))
        if bias is not None:
            out += bias  # while the rows are in cache
        if epilogue is not None:
            epilogue(out, len(parts))
        return int(taps * out.size)

    def piece(part: int, e0: int, e1: int, q0: int, q1: int) -> int:
        """Output rows ``q0 .. q1`` of examples ``e0 .. e1``, chunk by chunk, in buffers of
        its own (``part`` names them), so that the pieces can run side by side."""
        tag = "" if part == 0 else f"@{part}"
        nb, rows = depthwise_chunks(e1 - e0, (q1 - q0, wo), k, x.itemsize)
        if not einsum:
            product = scratch.take("product" + tag, (nb, rows, wo, k), x.dtype)
        done = 0
        for n0 in range(e0, e1, nb):
            for r0 in range(q0, q1, rows):
                pn, pr = min(nb, e1 - n0), min(rows, q1 - r0)
                block = src(n0, pn, r0 * stride[0] - pad_h[0], (pr - 1) * stride[0] + span_h,
                            "rows" + tag)
                if einsum:
                    done += summed(block, y[n0:n0 + pn, r0:r0 + pr])
                    continue
                if sw == 1:
                    block = block[None]
                else:  # the columns of each phase side by side: a tap's row is one run
                    by_phase = scratch.take("phases" + tag, (sw, pn, block.shape[1],
                                                             -(-block.shape[2] // sw), c),
                                            x.dtype)
                    for q in phases:
                        cols = block[:, :, q::sw]
                        by_phase[q, :, :, :cols.shape[2]] = cols
                    block = by_phase
                done += accumulate(block, y[n0:n0 + pn, r0:r0 + pr], product[:pn, :pr])
        return done

    workers = threads() if y.nbytes >= PARALLEL else 1
    parts = split(n, ho, workers)
    if len(parts) == 1:
        return y, piece(0, 0, n, 0, ho)
    # each piece in a copy of the caller's context: NumPy's error state (np.errstate) is a
    # context variable, which a pool's thread would not otherwise see
    jobs = [pool(workers).submit(functools.partial(contextvars.copy_context().run, piece, part,
                                                   *bounds))
            for part, bounds in enumerate(parts)]
    return y, sum(job.result() for job in jobs)


def split(examples: int, rows: int, parts: int) -> list[tuple[int, int, int, int]]:
    """An output of ``examples`` x ``rows`` output rows cut into at most ``parts`` pieces
    (first example, last + 1, first row, last + 1): by examples when there are enough, else
    by rows."""
    if examples >= parts:
        cuts = [examples * p // parts for p in range(parts + 1)]
        return [(a, b, 0, rows) for a, b in itertools.pairwise(cuts) if b > a]
    cuts = [rows * p // parts for p in range(parts + 1)]
    return [(0, examples, a, b) for a, b in itertools.pairwise(cuts) if b > a]
