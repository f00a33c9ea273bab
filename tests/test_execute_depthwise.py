"""Depthwise convolutions (one group per input channel), which ``ops.conv2d`` computes as a
sum over the kernel's taps (``cnncalc.execute.depthwise``), against the loop reference of
``test_execute_ops``: strides, paddings (uneven, and wider than the kernel reaches), dilation,
depth multipliers, batches, chunks of rows and of whole examples, float32."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from test_execute_ops import conv_ready, conv_reference

from cnncalc.execute import depthwise, ops
from cnncalc.execute.weights import WeightSource

RNG = np.random.default_rng(99)

GRID = list(itertools.product(
    [(3, 3), (2, 3), (1, 1)],                                 # filter
    [(1, 1), (2, 2), (1, 2), (2, 1)],                         # stride
    [((0, 0), (0, 0)), ((1, 1), (1, 1)), ((2, 1), (0, 3))],   # padding (top, bottom), (l, r)
    [(1, 1), (2, 2)],                                         # dilation
    [1, 2],                                                   # depth multiplier
    [1, 4],                                                   # batch
))


@pytest.fixture
def taps_taken(monkeypatch):
    """How many calls reached the tap path (so that a test cannot pass on the GEMM path)."""
    calls = []
    real = ops.depthwise2d

    def spy(*args, **kwargs):
        calls.append(args[1].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(ops, "depthwise2d", spy)
    return calls


@pytest.fixture(params=["rows", "pixels"])
def path(request, monkeypatch):
    """Either way of summing the taps: whole output rows where they can be (the default), or
    pixel by pixel everywhere."""
    monkeypatch.setattr(depthwise, "ROWS", request.param == "rows")
    return request.param


@pytest.mark.parametrize(("kernel", "stride", "pad", "dilation", "mult", "batch"), GRID)
def test_depthwise_matches_window_sums(kernel, stride, pad, dilation, mult, batch, taps_taken,
                                       monkeypatch, path):
    c = 5
    x = RNG.standard_normal((batch, 9, 8, c))
    hwio = RNG.standard_normal((*kernel, 1, c * mult))
    bias = RNG.standard_normal(c * mult)
    want = conv_reference(x, hwio, bias, stride, pad[0], pad[1], dilation, c)
        # one output row per chunk, the whole batch in one chunk, and that chunk cut among three
    # threads (by examples or by rows)
    for chunk, workers in ((1, 1), (1 << 26, 1), (1 << 26, 3)):
        monkeypatch.setattr(depthwise, "CHUNK", chunk)
        monkeypatch.setattr(depthwise, "PARALLEL", 0)
        monkeypatch.setattr(depthwise, "threads", lambda workers=workers: workers)
        got, macs = ops.conv2d(x, conv_ready(hwio, c), bias, kernel, stride, dilation, pad[0],
                               pad[1], want.shape[1:3], 1 << 20)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
        assert macs == want.size * kernel[0] * kernel[1]
    assert len(taps_taken) == 3


def test_depthwise_chunks_of_several_examples(taps_taken, monkeypatch, path):
    """A chunk of two examples of a batch of five: the last chunk is a partial one."""
    x = RNG.standard_normal((5, 6, 7, 3))
    hwio = RNG.standard_normal((3, 3, 1, 3))
    want = conv_reference(x, hwio, None, (1, 1), (1, 1), (1, 1), (1, 1), 3)
    monkeypatch.setattr(depthwise, "CHUNK", 2 * 6 * 7 * 3 * 8)
    got, _ = ops.conv2d(x, conv_ready(hwio, 3), None, (3, 3), (1, 1), (1, 1), (1, 1), (1, 1),
                        (6, 7), 1 << 20)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    assert taps_taken == [(3, 9, 1)]


def test_depthwise_in_float32_within_the_float32_tolerance(taps_taken, path):
    x = RNG.standard_normal((2, 12, 11, 16))
    hwio = RNG.standard_normal((3, 3, 1, 16))
    want = conv_reference(x, hwio, None, (2, 2), (1, 1), (1, 1), (1, 1), 16)
    got, _ = ops.conv2d(x.astype(np.float32), conv_ready(hwio, 16).astype(np.float32), None,
                        (3, 3), (2, 2), (1, 1), (1, 1), (1, 1), want.shape[1:3], 1 << 20)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert taps_taken


def test_ceil_mode_overhang_reads_zeros(taps_taken, path):
    """A last window that reaches past the padded edge (ceil mode's overhang, passed as extra
    bottom/right padding) reads zeros there."""
    x = RNG.standard_normal((1, 6, 6, 2))
    hwio = RNG.standard_normal((3, 3, 1, 2))
    want = conv_reference(x, hwio, None, (2, 2), (0, 1), (0, 1), (1, 1), 2)
    assert want.shape[1:3] == (3, 3)
    got, _ = ops.conv2d(x, conv_ready(hwio, 2), None, (3, 3), (2, 2), (1, 1), (0, 1), (0, 1),
                        (3, 3), 1 << 20)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_few_groups_keep_the_product_per_group(taps_taken):
    """Two channels per group is not depthwise: the GEMM path, same figures."""
    x = RNG.standard_normal((1, 5, 5, 4))
    hwio = RNG.standard_normal((3, 3, 2, 4))
    want = conv_reference(x, hwio, None, (1, 1), (1, 1), (1, 1), (1, 1), 2)
    got, _ = ops.conv2d(x, conv_ready(hwio, 2), None, (3, 3), (1, 1), (1, 1), (1, 1), (1, 1),
                        (5, 5), 1 << 20)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    assert taps_taken == []


def test_weights_that_do_not_fit_are_refused():
    x = RNG.standard_normal((1, 5, 5, 3))
    with pytest.raises(ops.GeometryError):
        depthwise.depthwise2d(x, RNG.standard_normal((3, 4, 1)), None, (3, 3), (1, 1), (1, 1),
                              (1, 1), (5, 5), lambda *a: x, ops.Scratch())


@pytest.mark.parametrize(("examples", "rows", "parts", "want"), [
    (4, 5, 2, [(0, 2, 0, 5), (2, 4, 0, 5)]),
    (3, 5, 2, [(0, 1, 0, 5), (1, 3, 0, 5)]),
    (1, 5, 2, [(0, 1, 0, 2), (0, 1, 2, 5)]),
    (1, 2, 3, [(0, 1, 0, 1), (0, 1, 1, 2)]),  # fewer rows than threads: no empty piece
    (1, 7, 1, [(0, 1, 0, 7)]),
])
def test_a_chunk_is_split_by_examples_else_by_rows(examples, rows, parts, want):
    assert depthwise.split(examples, rows, parts) == want


@pytest.mark.parametrize(("env", "want"), [
    ({"OPENBLAS_NUM_THREADS": "3"}, 3),
    ({"OMP_NUM_THREADS": "2"}, 2),
    ({"OPENBLAS_NUM_THREADS": "64"}, 8),
    ({"OPENBLAS_NUM_THREADS": "0", "OMP_NUM_THREADS": "1"}, 1),
])
def test_threads_follow_the_blas_variables(env, want, monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert depthwise.threads() == want


@pytest.mark.parametrize("groups", [1, 2, 6])  # the GEMM path, grouped, depthwise
def test_stale_scratch_does_not_leak_into_the_padding(groups, monkeypatch):
    """The padded rows are built in a reused buffer that only gets zeros where no input lands:
    a buffer full of NaN from an earlier layer must not show through."""
    monkeypatch.setattr(depthwise, "CHUNK", 1)
    x = RNG.standard_normal((2, 6, 5, 6))
    hwio = RNG.standard_normal((3, 3, 6 // groups, 6))
    want = conv_reference(x, hwio, None, (2, 1), (2, 1), (1, 2), (1, 1), groups)
    scratch = ops.Scratch()
    for name in ("rows", "cols", "product"):
        scratch.take(name, (1 << 14,), np.dtype(np.float64)).fill(np.nan)
    got, _ = ops.conv2d(x, conv_ready(hwio, groups), None, (3, 3), (2, 1), (1, 1), (2, 1),
                        (1, 2), want.shape[1:3], 1, scratch)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(("line", "workers"), [
    ("DWCONV: 3x3 filters at stride 1, pad 1", 1),
    ("DWCONV: 3x3 filters at stride 2, pad 1", 2),
    ("DWCONV: 3x3 filters at stride 2, dilation 2, multiplier 2", 3),
    ("CONV: 64 3x3 filters at stride 1x3, pad 2, groups 32", 2),
])
def test_the_estimate_names_and_sizes_every_buffer_taken(line, workers, monkeypatch, path):
    """The memory guard's scratch figures are the buffers the depthwise path takes, one set
    per thread: no more names, none larger."""
    from helpers import analyze_text, spec_text

    from cnncalc.execute.modules import Context
    from cnncalc.execute.network import plan

    monkeypatch.setattr(depthwise, "threads", lambda: workers)
    monkeypatch.setattr(depthwise, "PARALLEL", 0)
    monkeypatch.setattr(depthwise, "CHUNK", 40_000)
    module = plan(analyze_text(spec_text("29x29x32", line))).modules[0]
    module.allocate(WeightSource(np.random.default_rng(0), np.dtype(np.float32)))
    ctx = Context()
    module.forward(RNG.standard_normal((3, 29, 29, 32)).astype(np.float32), ctx)
    taken = {name: buf.nbytes for name, buf in ctx.scratch._buffers.items()}
    assert taken == module.scratch(3, 4, ctx.cap)
    assert set(taken) <= {"rows", *(f"rows@{k}" for k in range(1, workers))}
    assert len({name.partition("@")[2] for name in taken}) == (workers if taken else 0)
