"""Batch norms and activations run inside the convolution before them, chunk by chunk
(``cnncalc.execute.fusion``): which layers fuse, that the results are bitwise those of the
layers run one by one, that each layer keeps its own figures, time and finiteness, and the
finiteness check itself."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from helpers import analyze_text, spec_text

from cnncalc.execute import fusion, ops
from cnncalc.execute.fusion import Epilogue, magnitude
from cnncalc.execute.modules import Context
from cnncalc.execute.network import Network, plan, random_input

MOBILE = spec_text("41x41x8", "CONV1: 16 3x3 filters at stride 2, pad 1, no bias", "BN1",
                   "RELU6_1", "DWCONV2: 3x3 filters at stride 1, pad 1, no bias", "BN2",
                   "RELU6_2", "CONV3: 24 1x1 filters, no bias", "BN3", "GLOBAL AVG POOL",
                   "FC: 5 neurons")

# a depthwise output of 2 MiB at batch 2: cut among threads, each running the fused layers
WIDE = spec_text("64x64x64", "DWCONV1: 3x3 filters at stride 1, pad 1", "BN1", "RELU6_1")

RNG = np.random.default_rng(8)

RESIDUAL = spec_text("8x8x4", "CONV1: 4 3x3 filters, pad 1", "BN1", "RELU1",
                     "CONV2: 4 3x3 filters, pad 1", "BN2", "ADD from BN2, RELU1", "RELU2",
                     "CONV3: 4 1x1 filters", "TANH")


def _network(text: str, dtype: str = "float32") -> tuple[Network, object]:
    p = plan(analyze_text(text))
    assert p.stop is None and p.failure is None
    return Network(p.modules, dtype, seed=3, output=p.output), p


def _names(net: Network) -> dict[str, tuple[str, ...]]:
    name = [m.layer.name for m in net.modules]
    return {name[i - 1]: tuple(name[j - 1] for j in members)
            for i, members in net.fused.items()}


def test_which_layers_fuse():
    net, _ = _network(MOBILE)
    assert _names(net) == {"CONV1": ("BN1", "RELU6_1"), "DWCONV2": ("BN2", "RELU6_2"),
                           "CONV3": ("BN3",)}
    # what matters is what a layer reads, not who reads it: RELU1 (read by CONV2 and by the
    # ADD) and BN2 (read by the ADD) fuse; RELU2 follows the ADD, not a convolution; TANH has
    # no in-place kernel
    net, _ = _network(RESIDUAL)
    assert _names(net) == {"CONV1": ("BN1", "RELU1"), "CONV2": ("BN2",), "CONV3": ()}


def test_the_network_output_is_not_written_over():
    net, _ = _network(spec_text("6x6x2", "CONV1: 3 3x3 filters", "BN1", "RELU1",
                                "OUTPUT from BN1"))
    assert _names(net) == {"CONV1": ("BN1",)}


def _one_by_one(net: Network, x: np.ndarray) -> list[np.ndarray]:
    tensors = [x]
    for m in net.modules:
        tensors.append(m.run([tensors[j] for j in m.reads], Context(), None)[0].copy())
    return tensors


@pytest.mark.parametrize(("text", "batch"), [(MOBILE, 1), (MOBILE, 3), (WIDE, 2)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cut", [False, True])
def test_fused_results_are_bitwise_those_of_the_layers_one_by_one(text, batch, dtype, cut,
                                                                   monkeypatch):
    if cut:  # every chunk's rows finished by three threads
        monkeypatch.setattr(fusion, "PARALLEL_FINISH", 0)
        monkeypatch.setattr(fusion, "threads", lambda: 3)
    net, p = _network(text, dtype)
    assert all(net.fused.values())
    x = random_input(net.modules[0].in_shape, batch, dtype, 0)
    measured = net.forward(x, Context())
    want = _one_by_one(net, x)
    assert net.result is not None
    np.testing.assert_array_equal(net.result, want[-1])
    for got, r in zip(measured, p.results, strict=True):  # every row still its own figures
        assert got.output_shape == r.output_shape
        assert got.params == r.params and got.macs == r.macs
        assert got.finite and got.seconds >= 0


def test_fused_layers_are_timed_within_the_convolution():
    net, _ = _network(MOBILE)
    x = random_input((41, 41, 8), 4, "float32", 0)
    net.forward(x, Context())
    measured = net.forward(x, Context())
    by = {m.layer.name: got.seconds for m, got in zip(net.modules, measured, strict=True)}
    assert all(by[n] > 0 for n in ("CONV1", "BN1", "RELU6_1", "DWCONV2", "BN2", "CONV3"))


def test_a_fused_layer_that_overflows_is_the_first_not_finite():
    """CONV1's output is finite; BN1's gamma of 1e38 makes inf; the flag stays down after."""
    net, _ = _network(MOBILE)
    bn1 = next(m for m in net.modules if m.layer.name == "BN1")
    bn1.arrays["gamma"] = np.full_like(bn1.arrays["gamma"], 1e38)  # its own are read-only
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning escapes, in any thread
        measured = net.forward(random_input((41, 41, 8), 2, "float32", 0), Context())
    finite = {m.layer.name: got.finite for m, got in zip(net.modules, measured, strict=True)}
    assert finite["CONV1"] and not finite["BN1"] and not finite["RELU6_1"]
    assert not finite["FC"]


def test_the_epilogue_splits_the_wall_time_and_checks_each_stage():
    seen: list[float] = []

    def stage(chunk: np.ndarray) -> None:
        seen.append(float(chunk.sum()))
        chunk *= np.inf

    epilogue = Epilogue([(stage, lambda b: math.inf)])  # no bound: its output is looked at
    epilogue(np.ones((2, 3)))
    epilogue(np.ones((2, 3)))
    assert seen == [6.0, 6.0] and epilogue.finite == [True, False]
    own, theirs = epilogue.split(10.0)
    assert len(theirs) == 1 and 0 < theirs[0] < 10.0 and own + theirs[0] <= 10.0



def test_chunks_done_by_several_threads_at_once_count_for_their_share(monkeypatch):
    ticks = iter(range(1000))
    monkeypatch.setattr(fusion.time, "perf_counter", lambda: float(next(ticks)))
    def negate(x: np.ndarray) -> None:
        np.negative(x, out=x)

    alone, shared = Epilogue([(negate, abs)]), Epilogue([(negate, abs)])
    alone(np.ones(3))       # each clock reading is a second later: the stage takes 1 s, the
    shared(np.ones(3), 4)   # two checks 2 s; done by four threads at once: a quarter of it
    assert alone.split(10.0) == (7.0, [1.0])   # the checks are no layer's time
    assert shared.split(10.0) == (9.25, [0.25])


def test_a_bound_that_cannot_vouch_for_a_stage_makes_it_look():
    """Values of 1e30 scaled by 1e10 overflow float32: the bound (1e40) is past the limit, so
    the output is looked at and found infinite; scaled by 2, the bound vouches for it."""
    def times(k: float):
        def stage(x: np.ndarray) -> None:
            x *= np.float32(k)
        return stage, lambda b: b * k

    for k, finite in ((2.0, True), (1e10, False)):
        epilogue = Epilogue([times(k)])
        with np.errstate(all="ignore"):
            epilogue(np.full((4, 4), 1e30, np.float32))
        assert epilogue.finite == [True, finite]


@pytest.mark.parametrize("shape", [(7,), (300, 41), (2, 5, 5, 64)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_magnitude_bounds_the_largest_value(shape, dtype):
    y = (RNG.standard_normal(shape) * 10.0 ** RNG.integers(-3, 30, shape)).astype(dtype)
    top = float(np.abs(y).max())
    assert top <= magnitude(y) <= math.sqrt(y.size) * top * 1.01  # the root of the squares


def all_finite(y: np.ndarray) -> bool:
    """What the executor concludes when it looks at an output."""
    return magnitude(y) < math.inf


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_all_finite(bad):
    a = np.ones((3, 4), np.float32)
    assert all_finite(a)
    a[1, 2] = bad
    assert not all_finite(a)
    # squares that overflow float32 are still finite values: the exact check decides
    assert all_finite(np.full((5, 5), 3e38, np.float32))
    assert all_finite(np.zeros(0)) and all_finite(np.arange(4))


def test_depthwise_pieces_keep_the_callers_numpy_error_state():
    """Pieces of a large depthwise output run in a thread pool; np.errstate is a context
    variable, so they run in a copy of the caller's context: an overflow there warns only if
    the caller lets it."""
    x = np.full((2, 128, 128, 32), 3e38, np.float32)  # 4 MiB out: cut among threads
    w = np.full((32, 9, 1), 10, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="ignore"):
            y, _ = ops.conv2d(x, w, None, (3, 3), (1, 1), (1, 1), (1, 1), (1, 1), (128, 128),
                              1 << 26)
    assert np.isinf(y).all()


def test_a_batch_norm_array_replaced_between_passes_takes_effect():
    """The fused stages are made once per set of a batch norm's arrays: a new gamma after a
    pass is used by the next one (the overflow it causes is found)."""
    net, _ = _network(MOBILE)
    x = random_input((41, 41, 8), 2, "float32", 0)
    assert all(m.finite for m in net.forward(x, Context()))
    bn1 = next(m for m in net.modules if m.layer.name == "BN1")
    bn1.arrays["gamma"] = np.full_like(bn1.arrays["gamma"], 1e38)
    finite = {m.layer.name: got.finite
              for m, got in zip(net.modules, net.forward(x, Context()), strict=True)}
    assert finite["CONV1"] and not finite["BN1"]
