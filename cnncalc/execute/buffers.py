"""Arrays a kernel writes its output into: one it is given (a view into the block of
``cnncalc.execute.arena``), else a new one."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import NDArray

Array = NDArray[Any]


def output_array(out: Array | None, shape: tuple[int, ...], dtype: np.dtype[Any]) -> Array:
    """``out`` when given (it must be contiguous, of ``shape`` and ``dtype``), else a new
    array to write a kernel's output into."""
    if out is None:
        return np.empty(shape, dtype=dtype)
    if out.shape != shape or out.dtype != dtype or not out.flags.c_contiguous:
        raise ValueError(f"an output of {shape} {dtype} cannot go in {out.shape} {out.dtype}")
    return out


def strided_view(src: Array, shape: tuple[int, ...], strides: tuple[int, ...]) -> Array:
    """A read-only view of ``src`` with ``shape`` and ``strides`` in bytes, as
    ``numpy.lib.stride_tricks.as_strided`` makes it. Where ``src`` is C-contiguous (nearly
    always: a padded chunk, whole examples) the view is made as an array over ``src``'s
    buffer, at about a seventh of the cost (one is made for every chunk of every layer) and
    checked to stay inside it (a ``ValueError`` if not)."""
    if not src.flags.c_contiguous:  # rows of several examples: not one buffer
        return as_strided(src, shape, strides, writeable=False)
    view: Array = np.ndarray(shape, src.dtype, src, 0, strides)
    view.flags.writeable = False
    return view
