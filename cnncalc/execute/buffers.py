"""Arrays a kernel writes its output into: one it is given (a view into the block of
``cnncalc.execute.arena``), else a new one."""

from __future__ import annotations

from typing import Any

import numpy as np
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
