"""The executor's own geometry, in Python ints: how many windows fit, which padding ``same``
means, how long a transposed convolution's output is, where adaptive pooling's cells lie, and
how the im2col workspace is cut into chunks.

This is deliberately a second implementation, written from the frameworks' definitions rather
than imported from ``cnncalc.shapes``: the executor exists to check the analysis, so it must
not share its arithmetic. Both the kernels (on real array sizes) and the memory estimate (on
Python ints, before anything is allocated) use these functions, so the estimate describes the
arrays the kernels will really make.
"""

from __future__ import annotations

from dataclasses import dataclass

Pair = tuple[int, int]


class GeometryError(ValueError):
    """A layer the executor cannot build on the input it is given."""


def extent(taps: int, dilation: int) -> int:
    """Cells from the first tap of a dilated window to its last, inclusive."""
    return (taps - 1) * dilation + 1


def keras_same(size: int, span: int, stride: int) -> Pair:
    """TensorFlow's ``SAME``: ``out = ceil(size/stride)`` outputs and the total padding
    ``max((out - 1)*stride + span - size, 0)``, the odd cell going after (bottom, right)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def window_count(size: int, span: int, stride: int, pad: Pair, up: bool,
                 pooling: bool = True) -> int:
    """How many windows of ``span`` cells, ``stride`` apart, start on a padded axis.

    Floor (``up`` False): only windows that fit inside the padded axis, so a remainder leaves
    the last cells unused. Ceil (``up`` True): one more window when a remainder is left,
    unless that window would start inside the right padding (at or past ``size +
    pad_before``). For pooling this is PyTorch's (and Caffe's) ``ceil_mode`` formula taken
    literally: ``ceil(room/stride) + 1``, then the drop test whether or not anything was
    rounded, so a window lying wholly in the right padding is dropped even when the windows
    fit exactly (possible only with a padding of at least the window, which PyTorch rejects).
    Ceil also lets a window wider than the padded axis give one output, hanging over its end,
    as PyTorch does. For a convolution (``pooling`` False) ceil only rounds a size that is not
    whole."""
    room = size + pad[0] + pad[1] - span
    if not up or (not pooling and room % stride == 0):
        count = room // stride + 1 if room >= 0 else 0
    else:
        count = -(-room // stride) + 1
        if (count - 1) * stride >= size + pad[0]:
            count -= 1
    if count < 1:
        raise GeometryError(f"a window of {span} does not fit {size} cells padded by {pad}")
    return count


def overhang(size: int, span: int, stride: int, pad: Pair, count: int) -> int:
    """Cells the last of ``count`` windows reaches past the padded axis (ceil mode)."""
    return max(0, (count - 1) * stride + span - (size + pad[0] + pad[1]))


@dataclass(frozen=True)
class Transposed:
    """A transposed convolution on one axis: every input cell ``i`` spreads its kernel over
    canvas cells ``i*stride + t*dilation``; the output is the slice ``[crop, crop + out)`` of
    that canvas, which is made ``length`` long (zeros past the scattered part, where
    output padding reaches beyond it)."""

    out: int
    crop: int
    length: int


def transposed(size: int, taps: int, stride: int, dilation: int, pad: Pair | None,
               output_padding: int) -> Transposed:
    """``pad`` None means Keras's ``same``: an output ``size*stride (+ output_padding)`` cut
    from the canvas as the gradient of a ``same`` convolution from that size would pad it."""
    span = extent(taps, dilation)
    scattered = (size - 1) * stride + span
    if pad is None:
        base = size * stride
        before, _ = keras_same(base, span, stride)
        out = base + output_padding
    else:
        before = pad[0]
        out = scattered - pad[0] - pad[1] + output_padding
    if out < 1:
        raise GeometryError(f"the padding {pad} removes the whole output")
    return Transposed(out, before, max(scattered, before + out))


def adaptive_widest(size: int, out: int) -> int:
    """An upper bound on the widest cell of PyTorch's adaptive pooling, where output cell ``i``
    covers ``[floor(i*size/out), ceil((i + 1)*size/out))``: at most ``floor(size/out) + 2``
    cells, never more than the axis. For the memory estimate, so no loop over ``out``."""
    return min(size, size // out + 2)


CACHE_CHUNK = 4 * 2**20


def chunk_budget(row_bytes: int, reuse: int, cap: int) -> int:
    """Bytes for one im2col chunk of a product ``(M, K) @ (K, reuse)`` whose rows take
    ``row_bytes``: small enough to stay in cache (4 MiB), unless the other operand is wide, then
    at least ``4*reuse`` rows, so that the weights are not streamed again for every few rows;
    never above ``cap``."""
    return min(cap, max(CACHE_CHUNK, 4 * reuse * row_bytes))


def chunks(batch: int, rows: int, row_bytes: int, cap: int) -> Pair:
    """How to cut an im2col workspace of ``batch`` examples of ``rows`` output rows, each row
    needing ``row_bytes``, so that one chunk stays within ``cap`` bytes: whole examples when
    one fits (as many as fit), else whole rows of one example (at least one)."""
    example = rows * row_bytes
    if example <= cap:
        return max(1, min(batch, cap // max(example, 1))), rows
    return 1, max(1, min(rows, cap // max(row_bytes, 1)))
