"""The executor against the analysis on whole networks, the lecture's dropout argument in
numbers, and the memory estimate against what numpy really allocates."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from helpers import GRAPH_SPECS, SPECS, analyze_spec, analyze_text, spec_text

from cnncalc.analyze import Analysis
from cnncalc.execute.estimate import parse_size
from cnncalc.execute.memory import memory_estimate
from cnncalc.execute.modules import Context
from cnncalc.execute.network import Network, plan, random_input
from cnncalc.execute.report import RunRow, make_row
from cnncalc.render.memory import human_bytes

# the graphs run at a small input in test_graph_specs.py (U-Net's 150 GMACs at 572x572 and
# ResNet-50's 4 at 224x224 would take NumPy long here)
CLEAN_SPECS = sorted(p.name for p in SPECS.glob("*.txt")
                     if p.name not in GRAPH_SPECS and analyze_spec(p.name).ok)


def execute(a: Analysis, batch: int = 1, dtype: str = "float32", mode: str = "test"
            ) -> list[RunRow]:
    p = plan(a)
    assert p.stop is None and p.failure is None
    assert a.input is not None
    net = Network(p.modules, dtype, seed=0)
    ctx = Context(mode="train" if mode == "train" else "test")
    measured = net.forward(random_input(a.input, batch, dtype, 0), ctx)
    return [make_row(r, m.output_shape, m.params, m.buffers, m.macs, m.seconds, m.macs_whole)
            for r, m in zip(p.results, measured, strict=True)]


def test_every_clean_shipped_spec_is_checked():
    assert {"alexnet.txt", "lenet5.txt", "mobilenet_v1.txt", "vgg16.txt"} <= set(CLEAN_SPECS)


@pytest.mark.parametrize("name", CLEAN_SPECS)
def test_executor_agrees_with_the_analysis_on_shipped_specs(name):
    a = analyze_spec(name)
    rows = execute(a)
    assert [r.mismatches for r in rows if not r.match] == []
    assert len(rows) == len(a.layers)
    assert a.totals is not None
    assert sum(r.params for r in rows) == a.totals.params
    assert sum(r.macs for r in rows) == a.totals.macs
    assert sum(r.buffers for r in rows) == a.totals.buffers


EVERY_KIND = spec_text(
    "31x29x6",
    "ZEROPAD: top 1, bottom 2, left 0, right 1",
    "ZEROPAD: top -1, bottom 1, left -2, right -1",  # negative: a crop, as ZeroPad2d does
    "CONV1: 12 3x5 filters at stride 2x1, pad 1x2, dilation 1x2, groups 3",
    "BN1", "RELU1",
    "DWCONV2: 3x3 filters at stride 2, pad same, multiplier 2, no bias",
    "BN2: no scale, no stats", "RELU62",
    "MAX POOL1: 3x3 filters at stride 2, pad 1, ceil", "NORM1",
    "DECONV1: 8 4x4 filters at stride 2, pad 1, output padding 1, groups 2",
    "DECONV2: 8 3x3 filters at stride 2, pad same",
    "AVG POOL1: 3x3 filters at stride 2, pad 1, ceil",
    "CONV3: 16 3x3 filters, pad ?, no bias", "CONV4: 16 4x4 filters, pad same", "ELU", "GELU",
    "ADAPTIVE AVG POOL: 5x3", "ADAPTIVE MAX POOL: 7x2", "LEAKYRELU", "SILU", "HARDSWISH",
    "HARDSIGMOID", "SIGMOID", "TANH", "DROPOUT 0.5", "GLOBAL MAX POOL: keepdims", "FLATTEN",
    "FC1: 10 neurons, no bias", "SWISH", "IDENTITY", "SOFTMAX", "LOGSOFTMAX")


@pytest.mark.parametrize("rounding", ["floor", "ceil"])
@pytest.mark.parametrize(("dtype", "mode", "batch"), [("float32", "test", 1),
                                                      ("float64", "train", 3)])
def test_every_layer_kind_agrees(rounding, dtype, mode, batch):
    a = analyze_text(EVERY_KIND.replace("[31x29x6] INPUT", f"ROUNDING: {rounding}\n"
                                        "[31x29x6] INPUT"))
    assert [r.status for r in a.layers] == ["ok"] * len(a.layers)
    rows = execute(a, batch, dtype, mode)
    assert [(r.result.layer.name, r.mismatches) for r in rows if not r.match] == []


@pytest.mark.parametrize("line", [
    "CONV: 8 3x3 filters at stride 2, pad same",   # same: 4x4, padding (0, 1)
    "CONV: 8 4x4 filters, pad same",               # even kernel: (1, 2)
    "CONV: 8 5x5 filters at stride 3, pad same, dilation 2",
    "MAX POOL: 3x3 filters at stride 2, pad same",
    "CONV: 8 3x3 filters at stride 2, pad ?",
    "AVG POOL: 2x2 filters at stride 2, pad 1, ceil",  # the last window starts in the padding
    "MAX POOL: 3x3 filters at stride 2, ceil",
    "DECONV: 4 3x3 filters at stride 3, pad same",
])
@pytest.mark.parametrize("size", [7, 8])
def test_padding_and_rounding_settings_agree(line, size):
    a = analyze_text(spec_text(f"{size}x{size}x4", line))
    if a.layers[0].status != "ok":  # e.g. no padding fits an 8-wide input at stride 2
        assert plan(a).stop is a.layers[0] and plan(a).modules == ()
        return
    assert [r.mismatches for r in execute(a, 2) if not r.match] == []


def _random_layers(count: int) -> list[tuple[str, str, str]]:
    """(input, layer line, rounding) drawn from a fixed seed: every windowed kind with small
    random filters, strides, dilations, paddings (explicit, asymmetric, same, ?) and groups."""
    import random

    rng = random.Random(2024)
    out = []
    for _ in range(count):
        f, s, d = rng.randint(1, 4), rng.randint(1, 3), rng.randint(1, 2)
        pad = rng.choice(["", f", pad {rng.randint(0, 2)}", ", pad same", ", pad ?",
                          f", pad {rng.randint(0, 2)}x{rng.randint(0, 2)}"])
        kind = rng.choice(["conv", "deconv", "dw", "max", "avg", "adaptive"])
        if kind == "conv":
            line = (f"CONV: {rng.choice([2, 4, 6])} {f}x{rng.randint(1, 4)} filters at stride "
                    f"{s}{pad}, dilation {d}, groups {rng.choice([1, 2])}")
        elif kind == "deconv":
            line = (f"DECONV: {rng.choice([2, 4])} {f}x{f} filters at stride {s}"
                    f"{pad if '?' not in pad else ''}, dilation {d}, groups "
                    f"{rng.choice([1, 2])}, output padding {rng.randint(0, max(s, d) - 1)}")
        elif kind == "dw":
            line = f"DWCONV: {f}x{f} filters at stride {s}{pad}, multiplier {rng.randint(1, 2)}"
        elif kind == "adaptive":
            line = (f"ADAPTIVE {rng.choice(['AVG', 'MAX'])} POOL: {rng.randint(1, 9)}x"
                    f"{rng.randint(1, 9)}")
        else:
            line = (f"{kind.upper()} POOL: {f}x{rng.randint(1, 4)} filters at stride {s}{pad}, "
                    f"dilation {d}{rng.choice(['', ', ceil'])}")
        volume = f"{rng.randint(1, 12)}x{rng.randint(1, 12)}x4"
        out.append((volume, line, rng.choice(["strict", "floor", "ceil"])))
    return out


@pytest.mark.parametrize(("volume", "line", "rounding"), _random_layers(300))
def test_random_window_settings_agree(volume, line, rounding):
    a = analyze_text(spec_text(volume, line).replace("[", f"ROUNDING: {rounding}\n[", 1))
    if a.layers[0].status != "ok":
        assert plan(a).stop is a.layers[0]
        return
    assert [r.mismatches for r in execute(a, 2, "float64") if not r.match] == []


@pytest.mark.parametrize("line", ["AVG POOL: 2x2 filters at stride 2, pad 2, ceil",
                                  "MAX POOL: 1x1 filters at stride 1, pad 1, ceil"])
def test_ceil_mode_with_padding_wider_than_the_window(line):
    """4 + 2*2 - 2 = 6 = 3 strides: four windows fit exactly, starting at -2, 0, 2, 4; the
    last starts at 4 = W, inside the right padding, so PyTorch's rule drops it: 3x3."""
    a = analyze_text(spec_text("4x4x3", line))
    assert [r.mismatches for r in execute(a) if not r.match] == []


def test_a_disagreement_names_both_figures():
    a = analyze_text(spec_text("8x8x3", "CONV1: 4 3x3 filters"))
    r = a.layers[0]
    row = make_row(r, (5, 6, 4), 112, 0, 999, 0.0)
    assert row.mismatches == (
        "output volume: the executor produced 5x6x4, the analysis computed 6x6x4",
        "MACs: the executor measured 999, the analysis computed 3,888")


def test_train_mode_dropout_matches_the_lecture_expectation():
    """The lecture: at test time a = w0*x + w1*y; in training with p = 0.5 each input is
    dropped half the time, so E[a] = 1/2 (w0*x + w1*y) -- hence "scale by 1/2". Inverted
    dropout scales the kept units by 1/(1-p) = 2 in training instead, so the mean of many
    training passes approaches the test-time value itself."""
    a = analyze_text(spec_text("2", "DROPOUT 0.5", "FC: 1 neurons, no bias"))
    p = plan(a)
    net = Network(p.modules, "float64", seed=0)
    w0, w1, x, y = 0.7, -0.2, 3.0, 5.0
    net.modules[1].arrays["weight"] = np.array([[w0], [w1]])  # its own are read-only
    batch = np.tile([x, y], (40_000, 1))
    test = net.forward(batch[:1], Context("test"))
    assert test[1].output_shape == (1,)
    test_value = w0 * x + w1 * y
    out = net.modules[1].forward(batch[:1], Context("test"))[0]
    assert out[0, 0] == pytest.approx(test_value)

    def mean_of_train_passes(inverted: bool) -> float:
        ctx = Context("train", np.random.default_rng(1), inverted=inverted)
        dropped = net.modules[0].forward(batch, ctx)[0]
        return float(net.modules[1].forward(dropped, ctx)[0].mean())

    assert mean_of_train_passes(True) == pytest.approx(test_value, rel=0.03)
    assert mean_of_train_passes(False) == pytest.approx(test_value / 2, rel=0.03)


def test_test_mode_dropout_passes_everything_through():
    a = analyze_text(spec_text("4x4x2", "DROPOUT 0.9"))
    p = plan(a)
    x = random_input((4, 4, 2), 2, "float32", 0)
    y, _ = Network(p.modules).modules[0].forward(x, Context("test"))
    np.testing.assert_array_equal(y, x)


def test_runs_are_deterministic_for_a_seed():
    a = analyze_text(spec_text("9x9x3", "CONV: 4 3x3 filters", "DROPOUT 0.5", "FC: 5 neurons"))

    def output(seed: int) -> np.ndarray:
        p = plan(a)
        net = Network(p.modules, "float64", seed)
        x = random_input((9, 9, 3), 2, "float64", seed)
        ctx = Context("train", np.random.default_rng([seed, 2]))
        for m in net.modules:
            x, _ = m.forward(x, ctx)
        return x

    np.testing.assert_array_equal(output(3), output(3))
    assert not np.array_equal(output(3), output(4))


def test_a_huge_spec_is_estimated_in_python_ints_without_allocating():
    a = analyze_text(spec_text(f"8x8x{10**30}", "CONV: 1000 3x3 filters, pad 1"))
    p = plan(a)
    est = memory_estimate(p.modules, (8, 8, 10**30), 2, 4)
    assert est.param_bytes == (9 * 10**30 * 1000 + 1000) * 4
    assert est.peak_bytes > 10**33
    assert "YiB" in human_bytes(est.peak_bytes)


@pytest.mark.parametrize(("line", "cols"), [
    ("CONV: 64 3x3 filters, pad 1", 4 * 2**20),  # narrow weights: a cache-sized chunk
    ("CONV: 8192 3x3 filters, pad 1", 64 * 2**20),  # wide weights: more rows, up to the cap
])
def test_the_im2col_workspace_is_chunked(line, cols):
    """Batch 64 at 224x224x64 would need 7 GiB of columns at once; a chunk takes rows of one
    example, and the padded input rows it reads, no more."""
    module = plan(analyze_text(spec_text("224x224x64", line))).modules[0]
    scratch = module.scratch(64, 4, 64 * 2**20)
    assert scratch["cols"] <= cols
    row = 224 * 9 * 64 * 4
    assert scratch["cols"] > cols - row
    assert scratch["rows"] < scratch["cols"] / 2
    assert module.workspace(64, 4, 64 * 2**20) == 0  # no padded copy of the whole batch


@pytest.mark.parametrize("text", [
    spec_text("32x32x8", "CONV: 16 3x3 filters, pad 1", "MAX POOL: 2x2 filters at stride 2",
              "CONV: 32 3x3 filters, pad 1, groups 4", "NORM", "BN", "GELU",
              "DECONV: 8 4x4 filters at stride 2, pad 1", "ADAPTIVE AVG POOL: 6x6",
              "FC: 64 neurons"),
])
def test_the_estimate_bounds_what_numpy_allocates(text):
    """tracemalloc sees numpy's data buffers: the measured peak of building and running stays
    below the estimate, and not far below (the estimate is not a wild overshoot)."""
    a = analyze_text(text)
    p = plan(a)
    est = memory_estimate(p.modules, (32, 32, 8), 16, 4, cap=1 << 20)
    tracemalloc.start()
    try:
        net = Network(p.modules, "float32")
        x = random_input((32, 32, 8), 16, "float32", 0)
        net.forward(x, Context(cap=1 << 20))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 0.5 * est.peak_bytes < peak <= est.peak_bytes * 1.05


@pytest.mark.parametrize(("text", "size"), [("8G", 8 * 2**30), ("500M", 500 * 2**20),
                                            ("1.5G", 3 * 2**29), ("64KiB", 65536),
                                            ("2 GB", 2 * 2**30), ("1000", 1000)])
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "G", "-1G", "0", "8X", "1.5.2G"])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError, match="write a size such as 8G"):
        parse_size(text)
