"""The NumPy kernels with strides and dilations far beyond any array size, which the analysis
accepts whenever only one window (or one tap) uses them: the kernels must compute the same
values as with a small step, never hand the step to NumPy's int64 arithmetic and overflow.

Each case is checked against the same kernel with a step of 1 (whose first windows are the
ones a huge step leaves), which test_execute_ops checks against loop references.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnncalc.execute import ops, pooling

HUGE = 10**20
RNG = np.random.default_rng(20)


def rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("pad", [((0, 0), (0, 0)), ((1, 0), (2, 0))])
def test_conv2d_with_a_huge_stride_is_its_first_window(groups: int, pad) -> None:
    x = rand(2, 8, 8, 4)
    weights = rand(groups, 3 * 3 * 4 // groups, 6 // groups)
    bias = rand(6)
    got, macs = ops.conv2d(x, weights, bias, (3, 3), (HUGE, HUGE), (1, 1), pad[0], pad[1],
                           (1, 1), 1 << 26)
    ho, wo = 8 + sum(pad[0]) - 2, 8 + sum(pad[1]) - 2
    every, _ = ops.conv2d(x, weights, bias, (3, 3), (1, 1), (1, 1), pad[0], pad[1], (ho, wo),
                          1 << 26)
    assert got.shape == (2, 1, 1, 6)
    np.testing.assert_allclose(got, every[:, :1, :1], rtol=1e-12, atol=1e-12)
    assert macs == 2 * 6 * 3 * 3 * 4 // groups


def test_conv2d_with_a_huge_stride_on_one_axis() -> None:
    x = rand(1, 7, 8, 3)
    weights = rand(1, 2 * 3 * 3, 4)
    got, _ = ops.conv2d(x, weights, None, (2, 3), (1, HUGE), (1, 1), (0, 0), (0, 0), (6, 1),
                        1)
    every, _ = ops.conv2d(x, weights, None, (2, 3), (1, 1), (1, 1), (0, 0), (0, 0), (6, 6), 1)
    np.testing.assert_allclose(got, every[:, :, :1], rtol=1e-12, atol=1e-12)


def test_conv2d_with_a_huge_dilation_of_a_single_tap() -> None:
    """A 1x3 kernel dilated 10**20 down its one row: the dilation moves nothing."""
    x = rand(2, 5, 6, 3)
    weights = rand(1, 1 * 3 * 3, 4)
    got, _ = ops.conv2d(x, weights, None, (1, 3), (1, 1), (HUGE, 1), (0, 0), (0, 0), (5, 4),
                        1 << 26)
    plain, _ = ops.conv2d(x, weights, None, (1, 3), (1, 1), (1, 1), (0, 0), (0, 0), (5, 4),
                          1 << 26)
    np.testing.assert_allclose(got, plain, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["max", "avg"])
@pytest.mark.parametrize("pad", [(0, 0), (1, 1)])
def test_pool2d_with_a_huge_stride_is_its_first_window(op: str, pad) -> None:
    x = rand(2, 7, 7, 3)
    got = pooling.pool2d(x, op, (3, 3), (HUGE, HUGE), (1, 1), pad, pad, (1, 1))
    every = pooling.pool2d(x, op, (3, 3), (1, 1), (1, 1), pad, pad, (5 + 2 * pad[0],) * 2)
    assert got.shape == (2, 1, 1, 3)
    np.testing.assert_allclose(got, every[:, :1, :1], rtol=1e-15)


@pytest.mark.parametrize("op", ["max", "avg"])
def test_pool2d_ceil_window_past_the_edge_with_a_huge_stride(op: str) -> None:
    """Ceil mode: a 3x3 window on a 2x2 input hangs over the end; the average divides by the
    taps inside the padded edge, as with any stride."""
    x = rand(1, 2, 2, 3)
    got = pooling.pool2d(x, op, (3, 3), (HUGE, HUGE), (1, 1), (0, 0), (0, 0), (1, 1))
    small = pooling.pool2d(x, op, (3, 3), (5, 5), (1, 1), (0, 0), (0, 0), (1, 1))
    want = x.max(axis=(1, 2)) if op == "max" else x.mean(axis=(1, 2))
    np.testing.assert_allclose(got[:, 0, 0], want, rtol=1e-15)
    np.testing.assert_array_equal(got, small)


@pytest.mark.parametrize("op", ["max", "avg"])
def test_pool2d_single_tap_with_a_huge_dilation_is_the_identity(op: str) -> None:
    x = rand(1, 4, 5, 2)
    got = pooling.pool2d(x, op, (1, 1), (1, 1), (HUGE, HUGE), (0, 0), (0, 0), (4, 5))
    np.testing.assert_array_equal(got, x)
