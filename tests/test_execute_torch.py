"""The kernels against PyTorch's, for the same weights, where torch is installed (it is not a
dependency: these tests skip without it). Layout: NHWC here, NCHW in torch."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cnncalc.execute import activations, ops, pooling
from cnncalc.execute.geometry import transposed, window_count

torch = pytest.importorskip("torch")
F = torch.nn.functional

RNG = np.random.default_rng(7)


def nchw(x: np.ndarray):
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def nhwc(t) -> np.ndarray:
    return t.detach().numpy().transpose(0, 2, 3, 1)


@pytest.mark.parametrize(("kernel", "stride", "pad", "dilation", "groups"), list(
    itertools.product([(3, 3), (2, 3)], [(1, 1), (2, 2)], [(0, 0), (1, 2)], [(1, 1), (2, 2)],
                      [1, 2, 4])))
def test_conv2d_against_torch(kernel, stride, pad, dilation, groups):
    x = RNG.standard_normal((2, 9, 10, 4))
    w_torch = RNG.standard_normal((8, 4 // groups, *kernel))  # (K, Cg, Fh, Fw)
    bias = RNG.standard_normal(8)
    want = nhwc(F.conv2d(nchw(x), torch.from_numpy(w_torch), torch.from_numpy(bias), stride,
                         pad, dilation, groups))
    hwio = w_torch.transpose(2, 3, 1, 0)
    ready = hwio.reshape(*kernel, 4 // groups, groups, 8 // groups).transpose(
        3, 0, 1, 2, 4).reshape(groups, -1, 8 // groups)
    got, _ = ops.conv2d(x, ready, bias, kernel, stride, dilation, (pad[0], pad[0]),
                        (pad[1], pad[1]), want.shape[1:3], 1 << 20)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("channels", "mult"), [(5, 1), (64, 1), (80, 2)])
@pytest.mark.parametrize(("kernel", "stride", "pad", "dilation"), [
    ((3, 3), (1, 1), (1, 1), (1, 1)), ((3, 3), (2, 2), (1, 1), (1, 1)),
    ((5, 3), (2, 1), (2, 0), (1, 2)), ((3, 3), (1, 2), (0, 1), (2, 1))])
def test_depthwise_against_torch(channels, mult, kernel, stride, pad, dilation):
    """Depthwise (groups = channels) in float32, by the tap loop (5 channels) and by einsum
    (64 and more), with depth multipliers, against torch's grouped convolution."""
    x = RNG.standard_normal((2, 17, 15, channels)).astype(np.float32)
    k = channels * mult
    w_torch = RNG.standard_normal((k, 1, *kernel)).astype(np.float32)
    bias = RNG.standard_normal(k).astype(np.float32)
    want = nhwc(F.conv2d(nchw(x), torch.from_numpy(w_torch), torch.from_numpy(bias), stride,
                         pad, dilation, channels))
    ready = w_torch.reshape(channels, mult, kernel[0] * kernel[1]).transpose(0, 2, 1)
    got, _ = ops.conv2d(x, np.ascontiguousarray(ready), bias, kernel, stride, dilation,
                        (pad[0], pad[0]), (pad[1], pad[1]), want.shape[1:3], 1 << 20)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("kernel", "stride", "pad", "dilation", "groups", "out_pad"), [
    case for case in itertools.product([(3, 3), (4, 2)], [(1, 1), (2, 2), (3, 2)],
                                       [(0, 0), (1, 2)], [(1, 1), (2, 1)], [1, 2],
                                       [(0, 0), (1, 1)])
    if all(op < max(s, d) for op, s, d in zip(case[5], case[1], case[3], strict=True))])
def test_conv_transpose2d_against_torch(kernel, stride, pad, dilation, groups, out_pad):
    x = RNG.standard_normal((2, 4, 5, 4))
    w_torch = RNG.standard_normal((4, 6 // groups, *kernel))  # (C, K/g, Fh, Fw)
    bias = RNG.standard_normal(6)
    want = nhwc(F.conv_transpose2d(nchw(x), torch.from_numpy(w_torch), torch.from_numpy(bias),
                                   stride, pad, out_pad, groups, dilation))
    cg, kg = 4 // groups, 6 // groups
    ready = w_torch.reshape(groups, cg, kg, *kernel).transpose(0, 1, 3, 4, 2).reshape(
        groups, cg, -1)
    axes = [transposed(size, kernel[a], stride[a], dilation[a], (pad[a], pad[a]), out_pad[a])
            for a, size in ((0, 4), (1, 5))]
    got, _ = ops.conv_transpose2d(x, ready, bias, kernel, stride, dilation, axes[0], axes[1],
                                  1 << 20)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("op", "kernel", "stride", "pad", "dilation", "ceil", "size"), [
    case for case in itertools.product(["max", "avg"], [(2, 2), (3, 3), (3, 2)],
                                       [(1, 1), (2, 2), (3, 2)], [(0, 0), (1, 1)],
                                       [(1, 1), (2, 2)], [False, True], [(7, 8), (6, 6)])
    if case[0] == "max" or case[4] == (1, 1)  # torch's avg pooling has no dilation
])
def test_pool2d_against_torch(op, kernel, stride, pad, dilation, ceil, size):
    x = RNG.standard_normal((2, *size, 3))
    if op == "max":
        want = F.max_pool2d(nchw(x), kernel, stride, pad, dilation, ceil_mode=ceil)
    else:
        want = F.avg_pool2d(nchw(x), kernel, stride, pad, ceil_mode=ceil,
                            count_include_pad=True)
    want = nhwc(want)
    span = [(k - 1) * d + 1 for k, d in zip(kernel, dilation, strict=True)]
    out_hw = tuple(window_count(size[a], span[a], stride[a], (pad[a], pad[a]), ceil)
                   for a in (0, 1))
    assert out_hw == want.shape[1:3]
    got = pooling.pool2d(x, op, kernel, stride, dilation, (pad[0], pad[0]), (pad[1], pad[1]),
                     out_hw)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["max", "avg"])
@pytest.mark.parametrize(("size", "kernel", "dilation"), [((2, 10), (3, 1), (1, 1)),
                                                          ((2, 10), (2, 3), (2, 2))])
def test_ceil_mode_window_hanging_over_the_input_against_torch(op, size, kernel, dilation):
    if op == "avg" and dilation != (1, 1):
        pytest.skip("torch's avg pooling has no dilation")
    x = RNG.standard_normal((1, *size, 2))
    if op == "max":
        want = F.max_pool2d(nchw(x), kernel, 2, 0, dilation, ceil_mode=True)
    else:
        want = F.avg_pool2d(nchw(x), kernel, 2, 0, ceil_mode=True)
    want = nhwc(want)
    span = [(k - 1) * d + 1 for k, d in zip(kernel, dilation, strict=True)]
    out_hw = tuple(window_count(size[a], span[a], 2, (0, 0), True) for a in (0, 1))
    assert out_hw == want.shape[1:3]
    got = pooling.pool2d(x, op, kernel, (2, 2), dilation, (0, 0), (0, 0), out_hw)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("op", ["max", "avg"])
@pytest.mark.parametrize("out_hw", [(1, 1), (3, 4), (6, 6), (10, 3)])
def test_adaptive_pool_against_torch(op, out_hw):
    x = RNG.standard_normal((2, 7, 9, 3))
    fn = F.adaptive_max_pool2d if op == "max" else F.adaptive_avg_pool2d
    want = nhwc(fn(nchw(x), out_hw))
    np.testing.assert_allclose(pooling.adaptive_pool2d(x, op, out_hw), want, rtol=1e-12)


def test_lrn_and_batch_norm_against_torch():
    x = RNG.standard_normal((2, 5, 4, 11)) * 10
    want = nhwc(torch.nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)(nchw(x)))
    np.testing.assert_allclose(ops.lrn(x), want, rtol=1e-12)
    gamma, beta, mean = (RNG.standard_normal(11) for _ in range(3))
    var = RNG.uniform(0.5, 1.5, 11)
    want = nhwc(F.batch_norm(nchw(x), torch.from_numpy(mean), torch.from_numpy(var),
                             torch.from_numpy(gamma), torch.from_numpy(beta), training=False,
                             eps=1e-5))
    np.testing.assert_allclose(ops.batch_norm(x, gamma, beta, mean, var), want, rtol=1e-10)


@pytest.mark.parametrize(("fn", "torch_fn"), [
    ("gelu", lambda t: F.gelu(t)), ("elu", F.elu), ("leakyrelu", F.leaky_relu),
    ("hardswish", F.hardswish), ("hardsigmoid", F.hardsigmoid), ("silu", F.silu),
    ("relu6", F.relu6), ("sigmoid", torch.sigmoid),
    ("softmax", lambda t: F.softmax(t, dim=-1)),
    ("logsoftmax", lambda t: F.log_softmax(t, dim=-1)),
])
def test_activations_against_torch(fn, torch_fn):
    x = (RNG.standard_normal((3, 4, 5)) * 6).astype(np.float32)
    want = torch_fn(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(activations.ACTIVATIONS[fn](x), want, rtol=2e-6, atol=2e-6)
