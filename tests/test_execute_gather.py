"""The im2col gather (``cnncalc.execute.gather``) copies exactly what ``np.copyto`` copies:
window rows as short opaque runs where they are adjacent, and large copies cut among
threads, along rows or along the width."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import as_strided

from cnncalc.execute import gather as gather_module
from cnncalc.execute.gather import _short_runs, gather

RNG = np.random.default_rng(5)


def windows(x: np.ndarray, rows: int, wo: int, kernel: tuple[int, int],
            stride: tuple[int, int], dilation: tuple[int, int], groups: int) -> np.ndarray:
    n, _, _, c = x.shape
    sn, sy, sx, sc = x.strides
    cg = c // groups
    return as_strided(x, (n, rows, wo, *kernel, groups, cg),
                      (sn, sy * stride[0], sx * stride[1], sy * dilation[0], sx * dilation[1],
                       sc * cg, sc), writeable=False)


CASES = [
    # (n, h, w, c), rows, wo, kernel, stride, dilation, groups, run bytes (0: value by value)
    ((1, 10, 10, 3), 8, 8, (3, 3), (1, 1), (1, 1), 1, 36),       # VGG's first layer
    ((2, 23, 23, 3), 4, 4, (11, 11), (4, 4), (1, 1), 1, 132),    # AlexNet's
    ((1, 9, 9, 3), 5, 5, (3, 3), (1, 1), (2, 2), 1, 0),          # dilated: taps apart
    ((1, 9, 9, 4), 7, 7, (3, 3), (1, 1), (1, 1), 2, 0),          # grouped
    ((1, 6, 6, 64), 4, 4, (3, 3), (1, 1), (1, 1), 1, 0),         # a long run: value by value
    ((1, 6, 9, 5), 6, 4, (1, 3), (1, 2), (1, 1), 1, 60),         # strided width
]


@pytest.mark.parametrize(("shape", "rows", "wo", "kernel", "stride", "dilation", "groups",
                          "run"), CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("parallel", [False, True])
def test_gather_copies_what_copyto_copies(monkeypatch, shape, rows, wo, kernel, stride,
                                          dilation, groups, run, dtype, parallel):
    monkeypatch.setattr(gather_module, "PARALLEL_COPY", 0 if parallel else 1 << 60)
    monkeypatch.setattr(gather_module, "threads", lambda: 2)
    x = RNG.standard_normal(shape).astype(dtype)
    view = windows(x, rows, wo, kernel, stride, dilation, groups)
    run = run * np.dtype(dtype).itemsize // 4  # float32's in CASES
    assert _short_runs(view) == (run if run <= gather_module.SHORT_RUN else 0)
    cols = np.full(view.shape, np.nan, dtype=dtype)
    gather(cols, view)
    np.testing.assert_array_equal(cols, view)


@pytest.mark.parametrize("rows", [1, 5])
def test_a_parallel_copy_of_one_row_is_cut_along_the_width(monkeypatch, rows):
    monkeypatch.setattr(gather_module, "PARALLEL_COPY", 0)
    monkeypatch.setattr(gather_module, "threads", lambda: 3)
    x = RNG.standard_normal((1, 7, 30, 2)).astype(np.float32)
    view = windows(x, rows, 28, (3, 3), (1, 1), (1, 1), 1)
    cols = np.zeros(view.shape, dtype=np.float32)
    gather(cols, view)
    np.testing.assert_array_equal(cols, view)


@pytest.mark.parametrize(("line", "names"), [
    ("CONV: 16 1x1 filters", set()),                        # the input is the columns
    ("CONV: 16 1x1 filters at stride 2", {"cols"}),
    ("CONV: 16 1x1 filters, pad 1", {"cols", "rows"}),
    ("CONV: 16 3x3 filters, pad 1", {"cols", "rows"}),
    ("CONV: 16 3x3 filters", {"cols"}),
])
def test_the_estimate_names_and_sizes_every_buffer_a_convolution_takes(line, names):
    from helpers import analyze_text, spec_text
    from test_execute_ops import conv_reference

    from cnncalc.execute.modules import Context
    from cnncalc.execute.network import plan
    from cnncalc.execute.weights import WeightSource

    module = plan(analyze_text(spec_text("9x9x8", line))).modules[0]
    module.allocate(WeightSource(np.random.default_rng(0), np.dtype(np.float64)))
    ctx = Context()
    x = RNG.standard_normal((3, 9, 9, 8))
    y, _ = module.forward(x, ctx)
    taken = {name: buf.nbytes for name, buf in ctx.scratch._buffers.items()}
    assert set(taken) == names and taken == module.scratch(3, 8, ctx.cap)
    fh, fw = module.kernel
    hwio = module.arrays["weight"][0].reshape(fh, fw, 8, 16)
    want = conv_reference(x, hwio, module.arrays["bias"], module.stride, module.run_pad_h,
                          module.run_pad_w, (1, 1), 1)
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)
