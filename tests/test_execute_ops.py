"""Each NumPy kernel against a direct loop-based reference on small random inputs, over grids
of filter, stride, padding, dilation, groups and rounding settings.

The references are written from the definitions (a window sum, a scatter of each input pixel
times the kernel, a brute-force max or mean), with their own output-size arithmetic, and share
nothing with the kernels but the weight layout.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from cnncalc.execute import activations, ops, pooling
from cnncalc.execute.geometry import transposed

RNG = np.random.default_rng(1234)


def rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def conv_ready(hwio: np.ndarray, groups: int) -> np.ndarray:
    """``(Fh, Fw, Cg, K)`` -> the kernel's GEMM-ready ``(groups, Fh*Fw*Cg, K/groups)``."""
    fh, fw, cg, k = hwio.shape
    return hwio.reshape(fh, fw, cg, groups, k // groups).transpose(3, 0, 1, 2, 4).reshape(
        groups, fh * fw * cg, k // groups)


def conv_reference(x, hwio, bias, stride, pad_h, pad_w, dilation, groups):
    """Every output is the sum over its window: zeros outside the input."""
    n, h, w, _ = x.shape
    fh, fw, cg, k = hwio.shape
    kg = k // groups
    ho = (h + sum(pad_h) - ((fh - 1) * dilation[0] + 1)) // stride[0] + 1
    wo = (w + sum(pad_w) - ((fw - 1) * dilation[1] + 1)) // stride[1] + 1
    y = np.zeros((n, ho, wo, k))
    for b, oy, ox, g in itertools.product(range(n), range(ho), range(wo), range(groups)):
        acc = np.zeros(kg)
        for i, j in itertools.product(range(fh), range(fw)):
            iy = oy * stride[0] + i * dilation[0] - pad_h[0]
            ix = ox * stride[1] + j * dilation[1] - pad_w[0]
            if 0 <= iy < h and 0 <= ix < w:
                acc += x[b, iy, ix, g * cg:(g + 1) * cg] @ hwio[i, j, :, g * kg:(g + 1) * kg]
        y[b, oy, ox, g * kg:(g + 1) * kg] = acc
    return y + (0 if bias is None else bias)


CONV_GRID = list(itertools.product(
    [(1, 1), (3, 3), (2, 3)],            # filter
    [(1, 1), (2, 2), (2, 1)],            # stride
    [((0, 0), (0, 0)), ((1, 1), (1, 1)), ((2, 1), (0, 2))],   # padding (top, bottom), (l, r)
    [(1, 1), (2, 1)],                    # dilation
    [1, 2],                              # groups
))


@pytest.mark.parametrize(("kernel", "stride", "pad", "dilation", "groups"), CONV_GRID)
def test_conv2d_matches_window_sums(kernel, stride, pad, dilation, groups):
    x = rand(2, 7, 8, 4)
    hwio = rand(kernel[0], kernel[1], 4 // groups, 6)
    bias = rand(6)
    want = conv_reference(x, hwio, bias, stride, pad[0], pad[1], dilation, groups)
    for cap in (1, 1 << 26):  # one output row per chunk, and the whole batch in one
        got, macs = ops.conv2d(x, conv_ready(hwio, groups), bias, kernel, stride, dilation,
                               pad[0], pad[1], want.shape[1:3], cap)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
        assert macs == want.size * kernel[0] * kernel[1] * (4 // groups)


def test_depthwise_is_one_group_per_channel():
    x = rand(1, 6, 6, 3)
    hwio = rand(3, 3, 1, 6)  # multiplier 2
    want = conv_reference(x, hwio, None, (1, 1), (1, 1), (1, 1), (1, 1), 3)
    got, macs = ops.conv2d(x, conv_ready(hwio, 3), None, (3, 3), (1, 1), (1, 1), (1, 1),
                           (1, 1), (6, 6), 1 << 20)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    assert macs == 6 * 6 * 6 * 9


def test_conv2d_in_float32_stays_float32():
    x = rand(1, 5, 5, 2).astype(np.float32)
    w = conv_ready(rand(3, 3, 2, 4), 1).astype(np.float32)
    y, _ = ops.conv2d(x, w, None, (3, 3), (1, 1), (1, 1), (0, 0), (0, 0), (3, 3), 1 << 20)
    assert y.dtype == np.float32


def transposed_reference(x, weights, bias, kernel, stride, dilation, pad, out_pad, groups):
    """Scatter: each input pixel times the kernel, added at ``i*S + t*D``; then the crop."""
    n, h, w, c = x.shape
    cg = c // groups
    kg = weights.shape[2] // (kernel[0] * kernel[1])
    k = kg * groups
    size = [(s - 1) * st - p[0] - p[1] + d * (f - 1) + op + 1
            for s, st, p, d, f, op in zip((h, w), stride, pad, dilation, kernel, out_pad,
                                          strict=True)]
    full = np.zeros((n, h * stride[0] + 2 * kernel[0] * dilation[0] + size[0],
                     w * stride[1] + 2 * kernel[1] * dilation[1] + size[1], k))
    for b, iy, ix, ch in itertools.product(range(n), range(h), range(w), range(c)):
        g = ch // cg
        taps = weights[g, ch % cg].reshape(kernel[0], kernel[1], kg)
        for i, j in itertools.product(range(kernel[0]), range(kernel[1])):
            full[b, iy * stride[0] + i * dilation[0], ix * stride[1] + j * dilation[1],
                 g * kg:(g + 1) * kg] += x[b, iy, ix, ch] * taps[i, j]
    y = full[:, pad[0][0]:pad[0][0] + size[0], pad[1][0]:pad[1][0] + size[1]]
    return y + (0 if bias is None else bias)


TRANSPOSED_GRID = [case for case in itertools.product(
    [(2, 2), (3, 3), (3, 2)],            # filter
    [(1, 1), (2, 2), (3, 2)],            # stride
    [((0, 0), (0, 0)), ((1, 1), (1, 1)), ((1, 0), (2, 1))],
    [(1, 1), (2, 2)],                    # dilation
    [1, 2],                              # groups
    [(0, 0), (1, 1)],                    # output padding: below the stride or the dilation
) if all(op < max(s, d) for op, s, d in zip(case[5], case[1], case[3], strict=True))]


@pytest.mark.parametrize(("kernel", "stride", "pad", "dilation", "groups", "out_pad"),
                         TRANSPOSED_GRID)
def test_conv_transpose2d_matches_scatter(kernel, stride, pad, dilation, groups, out_pad):
    x = rand(2, 3, 4, 4)
    weights = rand(groups, 4 // groups, kernel[0] * kernel[1] * (6 // groups))
    bias = rand(6)
    want = transposed_reference(x, weights, bias, kernel, stride, dilation, pad, out_pad,
                                groups)
    axes = [transposed(size, kernel[a], stride[a], dilation[a], pad[a], out_pad[a])
            for a, size in ((0, 3), (1, 4))]
    for cap in (1, 1 << 26):
        got, macs = ops.conv_transpose2d(x, weights, bias, kernel, stride, dilation, axes[0],
                                         axes[1], cap)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
        assert macs == 2 * 3 * 4 * 4 * kernel[0] * kernel[1] * 6 // groups


def pool_reference(x, op, kernel, stride, dilation, pad_h, pad_w, ceil):
    """Brute force in unpadded coordinates. Output count: floor, or PyTorch's ceil formula;
    max ignores padding; avg divides by the taps inside the padded edge (count_include_pad)."""
    n, h, w, c = x.shape

    def count(size, f, s, d, pad):
        room = size + pad[0] + pad[1] - (d * (f - 1) + 1)
        if not ceil:
            return room // s + 1
        out = math.ceil(room / s) + 1
        return out - 1 if (out - 1) * s >= size + pad[0] else out

    ho = count(h, kernel[0], stride[0], dilation[0], pad_h)
    wo = count(w, kernel[1], stride[1], dilation[1], pad_w)
    y = np.zeros((n, ho, wo, c))
    for oy, ox in itertools.product(range(ho), range(wo)):
        cells, divisor = [], 0
        for i, j in itertools.product(range(kernel[0]), range(kernel[1])):
            iy = oy * stride[0] + i * dilation[0] - pad_h[0]
            ix = ox * stride[1] + j * dilation[1] - pad_w[0]
            if iy < h + pad_h[1] and ix < w + pad_w[1]:
                divisor += 1
            if 0 <= iy < h and 0 <= ix < w:
                cells.append(x[:, iy, ix, :])
        if op == "max":
            y[:, oy, ox] = np.max(cells, axis=0)
        else:
            y[:, oy, ox] = np.sum(cells, axis=0) / divisor
    return y


POOL_GRID = list(itertools.product(
    ["max", "avg"],
    [(2, 2), (3, 3), (3, 2)],
    [(1, 1), (2, 2), (3, 2)],
    [((0, 0), (0, 0)), ((1, 1), (1, 1)), ((1, 0), (0, 1))],
    [(1, 1), (2, 1)],
    [False, True],
))


@pytest.mark.parametrize(("op", "kernel", "stride", "pad", "dilation", "ceil"), POOL_GRID)
def test_pool2d_matches_brute_force(op, kernel, stride, pad, dilation, ceil):
    """Whole, and chunk by chunk: a chunk of two examples, and one output row per chunk (the
    padded rows of each built in a reused buffer, first filled with NaN)."""
    x = rand(2, 8, 7, 3)
    want = pool_reference(x, op, kernel, stride, dilation, pad[0], pad[1], ceil)
    got = pooling.pool2d(x, op, kernel, stride, dilation, pad[0], pad[1], want.shape[1:3])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    scratch = ops.Scratch()
    scratch.take("rows", (1 << 12,), np.dtype(np.float64)).fill(np.nan)
    out = np.full(want.shape, np.nan)
    got = pooling.pool2d(x, op, kernel, stride, dilation, pad[0], pad[1], want.shape[1:3], out,
                     scratch, cap=1)
    assert got is out
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_floor_leaves_the_last_cells_unused():
    """(7 - 2)/2 + 1 = 3.5 -> 3 windows: the seventh row and column are never read."""
    x = rand(1, 7, 7, 1)
    y = pooling.pool2d(x, "max", (2, 2), (2, 2), (1, 1), (0, 0), (0, 0), (3, 3))
    x[:, 6, :, :] = 1e9
    x[:, :, 6, :] = 1e9
    np.testing.assert_array_equal(pooling.pool2d(x, "max", (2, 2), (2, 2), (1, 1), (0, 0), (0, 0),
                                             (3, 3)), y)


def test_ceil_mode_average_clips_the_window_at_the_padded_edge():
    """A 5-wide row, window 2, stride 2, pad 1, ceil: windows [-1,1) [1,3) [3,5); a fourth
    would start at 5 = W + P, in the right padding, and is dropped (PyTorch)."""
    x = np.arange(1.0, 6.0).reshape(1, 1, 5, 1)
    y = pooling.pool2d(x, "avg", (1, 2), (1, 2), (1, 1), (0, 0), (1, 1), (1, 3))
    np.testing.assert_allclose(y.ravel(), [(0 + 1) / 2, (2 + 3) / 2, (4 + 5) / 2])
    # 6 wide, window 3, stride 2, pad 1, ceil: the last window [5, 8) reaches past the padded
    # edge at 7; its divisor counts the padded zero at 6 but not the cell beyond (2 taps).
    x = np.arange(1.0, 7.0).reshape(1, 1, 6, 1)
    y = pooling.pool2d(x, "avg", (1, 3), (1, 2), (1, 1), (0, 0), (1, 1), (1, 4))
    np.testing.assert_allclose(y.ravel(), [(0 + 1 + 2) / 3, (2 + 3 + 4) / 3, (4 + 5 + 6) / 3,
                                           (6 + 0) / 2])


@pytest.mark.parametrize("op", ["max", "avg"])
def test_ceil_mode_window_wider_than_the_input_gives_one_output(op):
    """A 3-high window on 2 rows, ceil mode: one output hangs over the end (PyTorch); the
    average divides by the 2 rows inside the input."""
    x = rand(1, 2, 10, 2)
    want = pool_reference(x, op, (3, 1), (2, 1), (1, 1), (0, 0), (0, 0), ceil=True)
    assert want.shape == (1, 1, 10, 2)
    got = pooling.pool2d(x, op, (3, 1), (2, 1), (1, 1), (0, 0), (0, 0), (1, 10))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def adaptive_reference(x, op, out_hw):
    n, h, w, c = x.shape
    y = np.zeros((n, *out_hw, c))
    for i, j in itertools.product(range(out_hw[0]), range(out_hw[1])):
        r0, r1 = (i * h) // out_hw[0], math.ceil((i + 1) * h / out_hw[0])
        c0, c1 = (j * w) // out_hw[1], math.ceil((j + 1) * w / out_hw[1])
        window = x[:, r0:r1, c0:c1, :]
        y[:, i, j] = window.max(axis=(1, 2)) if op == "max" else window.mean(axis=(1, 2))
    return y


@pytest.mark.parametrize("op", ["max", "avg"])
@pytest.mark.parametrize("out_hw", [(1, 1), (3, 2), (4, 4), (6, 5), (9, 11), (7, 1)])
def test_adaptive_pool_windows(op, out_hw):
    x = rand(2, 7, 5, 3)
    got = pooling.adaptive_pool2d(x, op, out_hw)
    np.testing.assert_allclose(got, adaptive_reference(x, op, out_hw), rtol=1e-12)


@pytest.mark.parametrize(("op", "keepdims"), [("max", False), ("avg", True)])
def test_global_pool(op, keepdims):
    x = rand(2, 4, 3, 5)
    got = pooling.global_pool(x, op, keepdims)
    want = adaptive_reference(x, op, (1, 1))
    np.testing.assert_allclose(got, want if keepdims else want[:, 0, 0], rtol=1e-12)


def test_batch_norm_with_running_statistics():
    x, gamma, beta, mean = rand(2, 3, 3, 4), rand(4), rand(4), rand(4)
    var = RNG.uniform(0.5, 1.5, 4)
    got = ops.batch_norm(x, gamma, beta, mean, var)
    want = np.empty_like(x)
    for ch in range(4):
        want[..., ch] = (x[..., ch] - mean[ch]) / math.sqrt(var[ch] + 1e-5) * gamma[ch] \
            + beta[ch]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_batch_norm_without_running_statistics_uses_the_batch():
    x = rand(3, 4, 4, 2) * 5 + 2
    y = ops.batch_norm(x, None, None, None, None)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 1, 2)), 1, rtol=1e-4)


def test_lrn_matches_pytorch_definition():
    x = rand(2, 3, 3, 9) * 10
    got = ops.lrn(x)
    want = np.empty_like(x)
    for ch in range(9):
        lo, hi = max(0, ch - 2), min(9, ch + 3)
        s = (x[..., lo:hi] ** 2).sum(axis=-1)
        want[..., ch] = x[..., ch] / (2.0 + 1e-4 / 5 * s) ** 0.75
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_zero_pad():
    x = rand(2, 3, 4, 2)
    got = ops.pad_hw(x, (1, 2), (3, 0))
    assert got.shape == (2, 6, 7, 2)
    want = np.zeros((2, 6, 7, 2))
    for i, j in itertools.product(range(3), range(4)):
        want[:, i + 1, j + 3] = x[:, i, j]
    np.testing.assert_array_equal(got, want)


def test_dense_flattens_hwc_in_c_order():
    x = rand(2, 2, 3, 4)
    weights, bias = rand(24, 5), rand(5)
    got, macs = ops.dense(x, weights, bias)
    want = np.zeros((2, 5))
    for b, o in itertools.product(range(2), range(5)):
        cells = itertools.product(range(2), range(3), range(4))  # C order of H, W, C
        for k, (i, j, ch) in enumerate(cells):
            want[b, o] += x[b, i, j, ch] * weights[k, o]
        want[b, o] += bias[o]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert macs == 2 * 24 * 5


@pytest.mark.parametrize(("fn", "scalar"), [
    ("relu", lambda v: max(v, 0.0)),
    ("relu6", lambda v: min(max(v, 0.0), 6.0)),
    ("leakyrelu", lambda v: v if v > 0 else 0.01 * v),
    ("elu", lambda v: v if v > 0 else math.expm1(v)),
    ("gelu", lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2)))),
    ("silu", lambda v: v / (1 + math.exp(-v))),
    ("swish", lambda v: v / (1 + math.exp(-v))),
    ("sigmoid", lambda v: 1 / (1 + math.exp(-v))),
    ("tanh", math.tanh),
    ("hardswish", lambda v: v * min(max(v + 3, 0.0), 6.0) / 6),
    ("hardsigmoid", lambda v: min(max(v + 3, 0.0), 6.0) / 6),
    ("identity", lambda v: v),
])
def test_elementwise_activations(fn, scalar):
    x = np.concatenate([rand(50) * 4, [-700.0, -8.0, -3.0, 0.0, 3.0, 8.0, 700.0]])
    got = activations.ACTIVATIONS[fn](x)
    want = np.array([scalar(float(v)) for v in x])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=2e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu6_edge_values_as_pytorch(dtype):
    """NaN stays NaN, -0.0 stays -0.0 (PyTorch's ``ReLU6`` keeps both), infinities clip, in
    place and into another array alike."""
    x = np.array([np.nan, -0.0, 0.0, -np.inf, np.inf, -3.0, 5.5, 6.0, 7.0], dtype=dtype)
    want = np.array([np.nan, -0.0, 0.0, 0.0, 6.0, 0.0, 5.5, 6.0, 6.0], dtype=dtype)
    into = np.empty_like(x)
    for got in (activations.INTO["relu6"](x, into), activations.IN_PLACE["relu6"](x.copy())):
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
        assert np.array_equal(np.signbit(got), np.signbit(want))


def test_softmax_and_logsoftmax_over_the_last_axis():
    x = rand(2, 3, 5) * 30
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    want = e / e.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(activations.ACTIVATIONS["softmax"](x), want, rtol=1e-12)
    np.testing.assert_allclose(activations.ACTIVATIONS["logsoftmax"](x), np.log(want), rtol=1e-9,
                               atol=1e-12)
    assert np.all(np.isfinite(activations.ACTIVATIONS["softmax"](np.array([[1e4, -1e4]]))))


def test_dropout_keeps_units_with_probability_one_minus_p():
    x = np.ones((200, 100))
    y = ops.dropout(x, 0.25, np.random.default_rng(0))
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.75)
    raw = ops.dropout(x, 0.25, np.random.default_rng(0), scale=False)
    np.testing.assert_array_equal(raw != 0, kept)
    np.testing.assert_array_equal(raw[kept], 1.0)


@pytest.mark.parametrize(("size", "line"), [
    (57, "MAX POOL: 3x3 filters at stride 2, pad 1"),
    (56, "AVG POOL: 3x3 filters at stride 2, pad 1, ceil mode"),
    (56, "MAX POOL: 2x2 filters at stride 2")])
def test_a_pooling_layer_takes_the_rows_buffer_its_estimate_names(size, line):
    """The memory guard's figure for a pooling layer is the padded rows buffer it takes (none
    without padding): no larger, none other."""
    from helpers import analyze_text, spec_text

    from cnncalc.execute.modules import Context
    from cnncalc.execute.network import plan

    module = plan(analyze_text(spec_text(f"{size}x{size}x16", line))).modules[0]
    ctx = Context(cap=1 << 16)
    module.forward(rand(3, size, size, 16), ctx)
    taken = {name: buf.nbytes for name, buf in ctx.scratch._buffers.items()}
    assert taken == module.scratch(3, 8, ctx.cap)
    assert ("pad 1" in line) == bool(taken)
