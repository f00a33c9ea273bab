"""The bounds that vouch for a layer's output being finite (``cnncalc.execute.bounds``): every
rule is an upper bound of what the layer's kernel makes, on every layer kind; where they
vouch, the forward pass looks at nothing but the input; where they cannot, it looks, and
still finds an overflow."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import analyze_text, spec_text
from test_execute_graph import NETWORKS
from test_execute_network import EVERY_KIND

from cnncalc.execute import bounds, fusion, network
from cnncalc.execute.modules import Context
from cnncalc.execute.network import Network, plan, random_input

SPECS = {"every kind": EVERY_KIND, **NETWORKS}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("mode", ["test", "train"])
def test_each_bound_holds_what_its_layer_makes(name, dtype, mode):
    """Layer by layer on fresh arrays, each fed its inputs' true largest |value|: the bound
    is at least the output's, or inf."""
    a = analyze_text(SPECS[name])
    p = plan(a)
    net = Network(p.modules, dtype, seed=3)
    x = random_input(a.input, 3, dtype, 0) * 4  # values up to about 16
    tensors, largest = {0: x}, {0: float(np.abs(x).max())}
    said = 0
    for i, m in enumerate(net.modules, start=1):
        ctx = Context(mode)  # type: ignore[arg-type]
        tensors[i] = m.run([tensors[j] for j in m.reads], ctx, None)[0]
        largest[i] = float(np.abs(tensors[i]).max())
        got = bounds.after(m, [largest[j] for j in m.reads], np.dtype(dtype), net.gains)
        assert largest[i] <= got, (m.layer.name, largest[i], got)
        said += got < math.inf
    assert said >= len(net.modules) // 2  # most kinds have a rule


def test_the_bounds_vouch_for_a_mobilenet_without_looking(monkeypatch):
    """Batch norm, ReLU6 and depthwise and pointwise convolutions all have rules: nothing
    is looked at but the input, and every layer is finite."""
    looked: list[tuple[int, ...]] = []
    real = fusion.magnitude

    def spy(y):
        looked.append(y.shape)
        return real(y)

    monkeypatch.setattr(fusion, "magnitude", spy)
    monkeypatch.setattr(network, "magnitude", spy)
    text = spec_text("33x33x3", "CONV1: 16 3x3 filters at stride 2, pad 1, no bias", "BN1",
                     "RELU6_1", "DWCONV2: 3x3 filters, pad 1, no bias", "BN2", "RELU6_2",
                     "CONV3: 24 1x1 filters, no bias", "BN3", "MAX POOL: 2x2 filters at stride 2",
                     "GLOBAL AVG POOL", "FC: 5 neurons")
    a = analyze_text(text)
    p = plan(a)
    net = Network(p.modules, "float32", 0, output=p.output)
    measured = net.forward(random_input(a.input, 2, "float32", 0), Context())
    assert looked == [(2, 33, 33, 3)]
    assert all(m.finite for m in measured)


def test_a_stack_the_bounds_give_up_on_is_looked_at_and_its_overflow_found():
    """Forty 3x3 convolutions of 64 channels, no normalisation: the bound grows by about
    sum |w| (over 500) a layer and passes float32's largest value long before the values
    do; from there each output is looked at. With weights scaled up by 50 the values
    overflow too, and the first layer that holds an inf is the first not finite."""
    layers = [f"CONV{k}: 64 3x3 filters, pad 1, no bias" for k in range(1, 41)]
    a = analyze_text(spec_text("8x8x64", *layers))
    p = plan(a)
    net = Network(p.modules, "float32", 0, output=p.output)
    x = random_input(a.input, 1, "float32", 0)
    assert all(m.finite for m in net.forward(x, Context()))
    for m in net.modules:
        m.arrays["weight"] = m.arrays["weight"] * np.float32(50)
    measured = net.forward(x, Context())
    flags = [m.finite for m in measured]
    first = flags.index(False)
    assert first > 0 and not any(flags[first:])
    y = x
    for m in net.modules[:first + 1]:
        with np.errstate(all="ignore"):
            y = m.run([y], Context(), None)[0]
    assert not np.isfinite(y).all()  # the layer flagged first is the first with an inf


def _tight(text: str, make_input) -> tuple[float, float]:
    """The largest |value| a one-layer network makes from an input built to reach its
    bound, and the bound."""
    a = analyze_text(text)
    p = plan(a)
    net = Network(p.modules, "float64", seed=5)
    m = net.modules[-1]
    xs = make_input(m)
    y = m.run(xs, Context(), None)[0]
    return float(np.abs(y).max()), bounds.after(m, [float(np.abs(x).max()) for x in xs],
                                                np.dtype("float64"), net.gains)


def _aligned(m, column_axis: int):
    """An input of 3s whose signs follow the weights of the output with the largest
    sum |w|: that output is exactly 3 * sum |w| (+ its bias)."""
    w = m.arrays["weight"]
    sums = np.abs(w).sum(axis=column_axis)
    k = np.unravel_index(np.argmax(sums), sums.shape)
    return w, k


def test_the_convolution_bound_is_reached():
    def pointwise(m):
        w, (g, k) = _aligned(m, 1)  # (1, C, K)
        return [3.0 * np.sign(w[g, :, k]).reshape(1, 1, 1, -1) * np.ones((1, 2, 2, 1))]

    got, bound = _tight(spec_text("2x2x7", "CONV: 5 1x1 filters, no bias"), pointwise)
    assert got <= bound <= got * 1.001

    def fc(m):
        w, (k,) = _aligned(m, 0)  # (in, out)
        return [3.0 * np.sign(w[:, k]).reshape(1, -1)]

    got, bound = _tight(spec_text("9", "FC: 4 neurons, no bias"), fc)
    assert bound == math.inf  # an FC layer's small output is looked at instead


@pytest.mark.parametrize("shape", [(3, 50, 7), (1, 1, 1), (4, 0, 2)])
def test_the_weight_sums_made_a_slice_at_a_time_are_the_whole_sums(shape, monkeypatch):
    w = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    want = float(np.abs(w).sum(axis=1, dtype=np.float64).max()) if w.size else 0.0
    monkeypatch.setattr(bounds, "BLOCK", 16)  # slices of 2 along the summed axis
    assert bounds.Gains()(w, (1,)) == pytest.approx(want, rel=1e-12)
    assert bounds.Gains()(w, None) == (float(np.abs(w).max()) if w.size else 0.0)


@pytest.mark.parametrize(("line", "value", "want"), [
    ("RELU6", 100.0, 6.0), ("RELU", 7.0, 7.0), ("SIGMOID", 50.0, 1.0), ("TANH", -50.0, 1.0),
    ("MAX POOL: 2x2 filters at stride 2", -9.0, 9.0), ("AVG POOL: 2x2 filters at stride 2", 9.0,
                                                         9.0)])
def test_the_activation_and_pooling_bounds_are_reached(line, value, want):
    got, bound = _tight(spec_text("4x4x2", line), lambda m: [np.full((1, 4, 4, 2), value)])
    assert got <= bound <= max(got, want) * 1.001 + 1e-12


@pytest.mark.parametrize(("op", "want"), [("ADD", 5.0), ("MULTIPLY", 6.0), ("CONCAT", 3.0)])
def test_the_merge_bounds_are_reached(op, want):
    text = spec_text("3x3x2", 'CONV "a": 2 1x1 filters', f"{op} from a, INPUT")

    def inputs(m):
        return [np.full((1, 3, 3, 2), 3.0), np.full((1, 3, 3, 2), 2.0)]

    got, bound = _tight(text, inputs)
    assert got == want and got <= bound <= got * 1.001


def test_the_batch_norm_bound_is_its_largest_scale_and_shift():
    """``|x * scale + shift| <= b * max|scale| + max|shift|``: reached where one channel
    has both (an input of 3s signed as that channel's scale and shift agree)."""
    def aligned(m):
        scale, shift = m.affine().scale, m.affine().shift
        return [np.full((1, 2, 2, scale.size), 3.0) * np.sign(scale) * np.sign(shift)]

    got, bound = _tight(spec_text("2x2x6", "BN"), aligned)
    m = plan(analyze_text(spec_text("2x2x6", "BN"))).modules[0]
    Network((m,), "float64", seed=5)  # builds its arrays
    a, c = m.affine().reach
    assert got <= bound <= (3 * a + c) * 1.001
