"""The executor's seeded weights (``cnncalc.execute.weights``): reproducible, different for
another seed, not degenerate (the stated spread per layer, no two layers or windows alike), at
a scale that keeps a deep stack's activations from vanishing or exploding; and ``run``'s
set-up and ``--repeat`` figures in its JSON (their keys and arithmetic, never their speed)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from helpers import analyze_text

from cnncalc.cli import cli
from cnncalc.execute.modules import Context
from cnncalc.execute.network import Network, plan, random_input
from cnncalc.execute.report import median_pass
from cnncalc.execute.weights import POOL, WINDOW, WeightSource, he_half

# both paths: CONV1's 216 weights are drawn directly, FC1's 16*16*16*300 from the pool
NET = ("[16x16x3] INPUT\nCONV1: 16 3x3 filters, pad 1\nRELU1\nCONV2: 16 3x3 filters, pad 1\n"
       "RELU2\nFC1: 300 neurons\nRELU3\nFC2: 10 neurons\n")
# 20 convs of one shape
CONVS = "[16x16x16] INPUT\n" + "".join(
    f"CONV{i}: 16 3x3 filters, pad 1\nRELU{i}\n" for i in range(1, 21))
# a deep plain stack (no batch norm, no padding to thin the signal at the borders), every
# weight matrix (512x512) from the pool
DEEP = "[1x1x512] INPUT\n" + "".join(
    f"FC{i}: 512 neurons, no bias\nRELU{i}\n" for i in range(1, 21))


def build(text: str, seed: int, dtype: str = "float32") -> tuple[Network, np.ndarray]:
    a = analyze_text(text)
    p = plan(a)
    assert a.input is not None and p.stop is None and p.failure is None
    net = Network(p.modules, dtype, seed=seed)
    x = random_input(a.input, 2, dtype, seed)
    net.forward(x, Context())
    assert net.result is not None
    return net, net.result


def arrays(net: Network) -> list[tuple[str, str, np.ndarray]]:
    return [(m.layer.name, k, a) for m in net.modules for k, a in m.arrays.items()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_same_seed_gives_the_same_weights_and_outputs(dtype):
    one, y1 = build(NET, 7, dtype)
    two, y2 = build(NET, 7, dtype)
    assert any(a.size > WINDOW for _, _, a in arrays(one))  # the pool's path is covered
    for (n1, k1, a1), (n2, k2, a2) in zip(arrays(one), arrays(two), strict=True):
        assert (n1, k1) == (n2, k2) and a1.dtype == np.dtype(dtype)
        assert np.array_equal(a1, a2)
    assert np.array_equal(y1, y2)


def test_another_seed_gives_other_weights_and_outputs():
    one, y1 = build(NET, 7)
    two, y2 = build(NET, 8)
    for (_, _, a1), (_, _, a2) in zip(arrays(one), arrays(two), strict=True):
        assert not np.array_equal(a1, a2)
        assert np.mean(a1 == a2) < 0.01
    assert not np.allclose(y1, y2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_each_layers_weights_have_the_stated_spread(dtype):
    """Weights inside +-sqrt(12/fan_in) with variance 2/fan_in (He's), biases inside +-0.1
    with variance 0.01/6; mean and variance within 5 standard errors of those (a triangular
    distribution's sample variance has a relative spread of sqrt(1.4/n)): 2.4% for FC1's
    1.2 M weights, 40% for CONV1's 432."""
    net, _ = build(NET, 0, dtype)
    for m in net.modules:
        for name, a in m.arrays.items():
            half = he_half(m.fan_in) if name == "weight" else 0.1
            var = half * half / 6
            if name == "weight":
                assert var == pytest.approx(2 / m.fan_in)
            assert np.unique(a).size > a.size // 2
            assert np.abs(a).max() <= half * (1 + 1e-6)
            assert abs(float(a.mean())) < 5 * math.sqrt(var / a.size), (m.layer.name, name)
            rel = 5 * math.sqrt(1.4 / a.size)
            assert float(a.var()) == pytest.approx(var, rel=rel), (m.layer.name, name)


def test_layers_of_the_same_shape_get_different_weights():
    net, _ = build(CONVS, 0)
    weights = [m.arrays["weight"] for m in net.modules if "weight" in m.arrays]
    assert len(weights) == 20 and len({w.shape for w in weights}) == 1
    for i, w in enumerate(weights):
        for v in weights[i + 1:]:
            assert np.mean(w == v) < 0.01
            assert abs(float(np.corrcoef(w.ravel(), v.ravel())[0, 1])) < 0.1


def test_no_two_windows_of_a_large_array_repeat_and_it_is_not_periodic():
    source = WeightSource(np.random.default_rng(3), np.dtype("float32"))
    n = 40 * WINDOW + 123
    a = source.triangular((n,), 1.0)
    windows = a[: 40 * WINDOW].reshape(40, WINDOW)
    assert np.unique(windows, axis=0).shape[0] == 40
    assert not np.array_equal(a[:1000], a[POOL:POOL + 1000])  # the pool's length is no period
    assert float(a.var()) == pytest.approx(1 / 6, rel=0.02)
    # the values of neighbouring windows are not correlated on the whole
    assert abs(float(np.corrcoef(windows[:-1].ravel(), windows[1:].ravel())[0, 1])) < 0.05
    b = source.triangular((n,), 1.0)  # the next array from the same source differs
    assert np.mean(a == b) < 0.01


def test_a_deep_stack_neither_vanishes_nor_explodes():
    """20 dense+ReLU layers: He's variance keeps the output's root mean square within 1/4 to
    4 times the input's (a standard normal: 1). Weights with half or twice that variance
    would move it by a factor of about 2**10; i.i.d. uniform weights of the same variance
    give 0.68 to 1.36 on seeds 0 to 7, the pool's 0.81 to 2.34."""
    for seed in range(4):
        _, y = build(DEEP, seed)
        rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
        assert 0.25 < rms < 4, (seed, rms)


def test_median_pass_picks_the_median_total_and_its_rows():
    assert median_pass([[1.0, 2.0], [5.0, 5.0], [2.0, 2.0]]) == (2.0, 2.0)
    assert median_pass([[1.0, 1.0], [9.0, 9.0], [2.0, 2.0], [3.0, 4.0]]) == (2.5, 3.0)
    assert median_pass([[0.5, 0.25]]) == (0.5, 0.25)
    assert median_pass([]) == ()


def run_json(runner, *args: str) -> tuple[int, dict]:
    result = runner.invoke(cli, ["run", "--format", "json", *args])
    return result.exit_code, json.loads(result.stdout)


def test_repeat_reports_the_median_of_the_timed_passes_and_the_set_up(runner):
    code, record = run_json(runner, "--repeat", "5", "specs/lenet5.txt")
    assert code == 0 and record["repeat"] == 5
    totals = record["totals"]
    passes = totals["pass_seconds"]
    assert len(passes) == 5 and all(p > 0 for p in passes)
    assert totals["seconds"] == pytest.approx(sorted(passes)[2])
    assert totals["seconds"] == pytest.approx(sum(r["seconds"] for r in record["layers"]))
    assert isinstance(totals["setup_seconds"], float) and totals["setup_seconds"] > 0
    code, even = run_json(runner, "--repeat", "2", "specs/lenet5.txt")
    assert code == 0
    assert even["totals"]["seconds"] == pytest.approx(sum(even["totals"]["pass_seconds"]) / 2)


def test_without_repeat_one_pass_runs_and_set_up_is_reported(runner):
    code, record = run_json(runner, "specs/lenet5.txt")
    assert code == 0 and record["repeat"] is None
    totals = record["totals"]
    assert len(totals["pass_seconds"]) == 1
    assert totals["seconds"] == pytest.approx(totals["pass_seconds"][0])
    assert isinstance(totals["setup_seconds"], float) and totals["setup_seconds"] > 0
    table = runner.invoke(cli, ["run", "--width", "120", "--repeat", "3", "specs/lenet5.txt"])
    assert table.exit_code == 0
    assert "Set-up " in table.stdout and "(median of 3 after a warm-up)" in table.stdout


@pytest.mark.parametrize("n", ["0", "1001", "x"])
def test_repeat_is_bounded(runner, n):
    result = runner.invoke(cli, ["run", "--repeat", n, "specs/lenet5.txt"])
    assert result.exit_code == 2 and "--repeat" in result.stderr


def test_nothing_run_has_no_set_up(runner):
    result = runner.invoke(cli, ["run", "--format", "json", "-"], input="CONV1: 4 3x3 filters\n")
    record = json.loads(result.stdout)
    assert record["layers"] == [] and record["totals"]["setup_seconds"] is None
    assert record["totals"]["pass_seconds"] == []


def test_the_values_do_not_depend_on_the_number_of_threads():
    shape = (37 * WINDOW + 5,)
    made = [WeightSource(np.random.default_rng(9), np.dtype("float32"), threads=t)
            .triangular(shape, 0.5) for t in (1, 2, 3, 8)]
    for other in made[1:]:
        assert np.array_equal(made[0], other)
