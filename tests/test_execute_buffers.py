"""The strided views the kernels read their windows through (``buffers.strided_view``)."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import as_strided

from cnncalc.execute.buffers import strided_view


def _windows(src: np.ndarray) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """3x3 windows at stride 1 over the rows of an (N, H, W, C) array."""
    n, h, w, c = src.shape
    sn, sy, sx, sc = src.strides
    return (n, h - 2, w - 2, 3, 3, c), (sn, sy, sx, sy, sx, sc)


@pytest.mark.parametrize("contiguous", [True, False])
def test_view_is_as_strided_and_read_only(contiguous):
    base = np.arange(2 * 7 * 6 * 3, dtype=np.float32).reshape(2, 7, 6, 3)
    src = base if contiguous else base[:, 1:]  # rows of several examples: not one buffer
    shape, strides = _windows(src)
    got = strided_view(src, shape, strides)
    assert np.array_equal(got, as_strided(src, shape, strides))
    assert np.shares_memory(got, base)
    assert not got.flags.writeable
    with pytest.raises(ValueError):
        got[0, 0, 0, 0, 0, 0] = 1.0


def test_view_past_the_source_is_refused():
    src = np.zeros((1, 5, 5, 2), dtype=np.float32)
    shape, strides = _windows(src)
    too_many = (shape[0], shape[1] + 1, *shape[2:])  # one window row below the last row
    with pytest.raises(ValueError):
        strided_view(src, too_many, strides)
