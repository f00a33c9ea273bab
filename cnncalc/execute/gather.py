"""The im2col gather: a strided view of the input's windows copied into a contiguous buffer.

NumPy copies a strided view one innermost run at a time, and a convolution's innermost run is
a window row's channels: three values for an RGB input, where the per-run overhead is most of
the copy (VGG's first layer gathers 27 values per output pixel in nine runs of three). Two
things make it cheaper, neither changing a value:

- when a window row's taps are adjacent in memory (one group, no dilation along the width),
  its ``Fw * C`` values are one run, and a short run (at most :data:`SHORT_RUN` bytes) is
  copied as a single opaque element of that many bytes instead of value by value;
- a large copy is cut among the threads (NumPy releases the GIL while it copies), as the BLAS
  product after it is.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import NDArray

from cnncalc.execute.threads import ranges, run_split, threads

Array = NDArray[Any]

SHORT_RUN = 256  # bytes: a window row at most this long is copied as one element
PARALLEL_COPY = 1 << 20  # bytes: copies at least this large are cut among threads


def _as_runs(a: Array, run: int) -> Array:
    """``a`` (windows ``(N, R, W, Fh, Fw, 1, C)`` whose ``Fw*C`` values are adjacent) as
    ``(N, R, W, Fh)`` elements of ``run`` bytes each."""
    raw = a.view(np.uint8)  # the last axis (the channels) is contiguous
    by = as_strided(raw, (*a.shape[:4], run), (*a.strides[:4], 1),
                    writeable=a.flags.writeable)
    return by.view(np.dtype((np.void, run)))[..., 0]


def _short_runs(windows: Array) -> int:
    """The bytes of a window row when they are one short run in memory, else 0."""
    _, _, _, _, fw, groups, cg = windows.shape
    item = int(windows.itemsize)
    run = int(fw * cg * item)
    if groups != 1 or run > SHORT_RUN or windows.strides[6] != item:
        return 0
    if fw > 1 and windows.strides[4] != cg * item:
        return 0
    return run


def gather(cols: Array, windows: Array) -> None:
    """``cols[...] = windows``: ``windows`` a 7-D strided view ``(N, R, W, Fh, Fw, G, Cg)`` of
    the input, ``cols`` a contiguous buffer of its shape."""
    run = _short_runs(windows)
    dst, src = (_as_runs(cols, run), _as_runs(windows, run)) if run else (cols, windows)
    workers = threads() if cols.nbytes >= PARALLEL_COPY else 1
    axis = 1 if dst.shape[1] >= workers else 2
    size = dst.shape[axis]
    if workers < 2 or size < 2:
        np.copyto(dst, src)
        return
    parts = [(slice(a, b),) for a, b in ranges(size, workers)]
    index = (slice(None),) * axis
    run_split([functools.partial(np.copyto, dst[index + p], src[index + p]) for p in parts])
