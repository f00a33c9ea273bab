"""The executor on graph networks: the kernels of the new layers against hand-worked numbers
(and PyTorch's, stored as a fixture), whole networks confirmed layer by layer, and the
tensors dropped after their last reader, so that the peak the run measures is the analysis's
inference-memory estimate."""

from __future__ import annotations

import json
import tracemalloc
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import analyze_text, spec_text

from cnncalc.analyze import Analysis
from cnncalc.execute import arena, graph_ops
from cnncalc.execute.geometry import GeometryError
from cnncalc.execute.graph_modules import MergeModule
from cnncalc.execute.liveness import held_across, last_readers
from cnncalc.execute.memory import memory_estimate, memory_plan
from cnncalc.execute.modules import Context
from cnncalc.execute.network import Measured, Network, plan, random_input
from cnncalc.execute.report import make_row
from cnncalc.spec import Merge, Span

FIXTURE = Path(__file__).parent / "fixtures" / "graph_ops" / "upsample.json"


def grid(h: int, w: int, c: int = 1) -> np.ndarray:
    """One example whose cell (i, j, k) holds 100*i + 10*j + k: a cell's value says where it
    came from."""
    i, j, k = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
    return (100 * i + 10 * j + k)[None].astype(np.float64)


# --- the kernels, by hand ----------------------------------------------------------------

def test_crop_of_5x5_to_3x3_keeps_rows_and_columns_1_to_3():
    y = graph_ops.center_crop(grid(5, 5), (3, 3))
    assert y[0, :, :, 0].tolist() == [[110, 120, 130], [210, 220, 230], [310, 320, 330]]


def test_crop_cuts_the_odd_cell_after():
    """6 -> 3 leaves 3 cells: one before, two after (the offset 1.5 rounded down); 7x4 -> 4x1:
    offsets 1 and 1."""
    assert graph_ops.center_crop(grid(6, 6), (3, 3))[0, :, 0, 0].tolist() == [110, 210, 310]
    assert graph_ops.center_crop(grid(7, 4), (4, 1))[0, :, :, 0].tolist() == [
        [110], [210], [310], [410]]


def test_crop_returns_a_copy():
    x = grid(5, 5)
    y = graph_ops.center_crop(x, (3, 3))
    assert y.base is None and not np.shares_memory(x, y)


def test_slice_takes_channels_start_to_stop():
    y = graph_ops.channel_slice(grid(2, 2, 6), 2, 5)
    assert y[0, 1, 0].tolist() == [102, 103, 104]
    assert graph_ops.channel_slice(np.arange(10.0)[None], 3, 6).tolist() == [[3, 4, 5]]


@pytest.mark.parametrize(("channels", "groups", "order"), [
    (4, 2, [0, 2, 1, 3]), (6, 3, [0, 2, 4, 1, 3, 5]), (6, 2, [0, 3, 1, 4, 2, 5]),
    (5, 1, [0, 1, 2, 3, 4]), (3, 3, [0, 1, 2])])
def test_shuffle_interleaves_the_groups(channels, groups, order):
    """(g, C/g) transposed: output channel i*g + j is input channel j*C/g + i."""
    y = graph_ops.channel_shuffle(grid(2, 3, channels), groups)
    assert (y[0, 1, 2] - 120).tolist() == order


def test_nearest_upsampling_repeats_each_cell():
    y = graph_ops.upsample_nearest(grid(2, 2), (2, 3))
    assert y[0, :, :, 0].tolist() == [[0, 0, 0, 10, 10, 10]] * 2 + [[100] * 3 + [110] * 3] * 2


def test_bilinear_upsampling_of_a_2x2_by_hand():
    """Along an axis of two cells a, b by 2 (align_corners=False), output d samples the
    input at max((d + 0.5)/2 - 0.5, 0) = 0, 0.25, 0.75, 1.25 (clamped to the last cell):
    a, 0.75a + 0.25b, 0.25a + 0.75b, b. On [[0, 1], [2, 3]], rows first, then columns."""
    x = np.array([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 2, 2, 1)
    y = graph_ops.upsample_bilinear(x, (2, 2))
    assert y[0, :, :, 0].tolist() == [[0, 0.25, 0.75, 1], [0.5, 0.75, 1.25, 1.5],
                                      [1.5, 1.75, 2.25, 2.5], [2, 2.25, 2.75, 3]]


def test_linear_taps_by_hand():
    """3 cells by 3: sources max((d + 0.5)/3 - 0.5, 0) = 0, 0, 1/3, 2/3, 1, 4/3, 5/3, 2, 7/3
    (the last three read the last cell twice)."""
    first, second, w0, w1 = graph_ops.linear_taps(3, 3)
    assert first.tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2]
    assert second.tolist() == [1, 1, 1, 1, 2, 2, 2, 2, 2]
    np.testing.assert_allclose(w1, [0, 0, 1 / 3, 2 / 3, 0, 1 / 3, 2 / 3, 0, 1 / 3], atol=1e-15)
    np.testing.assert_allclose(w0 + w1, 1.0)


@pytest.mark.parametrize("case", json.loads(FIXTURE.read_text(encoding="utf-8"))["cases"],
                         ids=lambda c: f"{c['mode']}-{c['input']}-by-{c['factor']}")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_upsampling_against_torch_fixture(case, dtype):
    """torch.nn.Upsample's outputs, stored by tests/fixtures/graph_ops/generate.py."""
    c, h, w = case["input"]
    flat = np.array([(i * 37 % 101) / 10 - 5 for i in range(c * h * w)])
    x = flat.reshape(1, c, h, w).transpose(0, 2, 3, 1).astype(dtype)
    factor = tuple(case["factor"])
    kernel = graph_ops.upsample_bilinear if case["mode"] == "bilinear" else \
        graph_ops.upsample_nearest
    got = kernel(x, factor)
    want = np.array(case["output"]).transpose(1, 2, 0)[None]
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == "float32" else 1e-13,
                               atol=1e-5 if dtype == "float32" else 1e-12)


def test_merges_by_hand():
    a = np.array([[[[1.0, 2.0]]]])
    b = np.array([[[[10.0, 20.0]]]])
    assert graph_ops.add([a, b, b]).tolist() == [[[[21.0, 42.0]]]]
    assert graph_ops.concat([a, b])[0, 0, 0].tolist() == [1, 2, 10, 20]
    assert graph_ops.concat([np.array([[1.0]]), np.array([[2.0, 3.0]])]).tolist() == [[1, 2, 3]]
    volume = grid(2, 2, 2)
    gate = np.array([2.0, -1.0]).reshape(1, 1, 1, 2)
    assert graph_ops.multiply([volume, gate])[0, 1, 1].tolist() == [220, -111]


def _merge(op: str, *shapes: tuple[int, ...]) -> MergeModule:
    span = Span("t.txt", 1, 1, 2)
    return MergeModule(Merge(name="M", span=span, op=op), shapes)  # type: ignore[arg-type]


@pytest.mark.parametrize(("op", "shapes", "out"), [
    ("add", [(4, 4, 3), (4, 4, 3)], (4, 4, 3)),
    ("add", [(1, 1, 5), (5,)], (5,)),
    ("concat", [(4, 4, 3), (4, 4, 2), (4, 4, 1)], (4, 4, 6)),
    ("concat", [(3,), (4,)], (7,)),
    ("multiply", [(4, 4, 3), (1, 1, 3)], (4, 4, 3)),
    ("multiply", [(3,), (4, 4, 3)], (4, 4, 3)),
    ("multiply", [(1, 1, 3), (3,)], (1, 1, 3)),
    ("multiply", [(1, 1, 3), (4, 4, 3)], (4, 4, 3)),  # the gate first: torchvision's SE
])
def test_merge_modules_work_out_their_own_shapes(op, shapes, out):
    m = _merge(op, *shapes)
    assert m.out_shape == out
    xs = [np.ones((2, *s)) for s in shapes]
    y, macs = m.run(xs, Context())
    assert y.shape == (2, *out) and macs == 0


@pytest.mark.parametrize(("op", "shapes"), [
    ("add", [(4, 4, 3), (2, 2, 3)]), ("add", [(4, 4, 3), (3,)]),
    ("concat", [(4, 4, 3), (2, 2, 3)]), ("concat", [(4, 4, 3), (3,)]),
    ("multiply", [(4, 4, 3), (1, 1, 2)]), ("multiply", [(4, 4, 3), (4, 2, 3)])])
def test_merge_modules_refuse_what_does_not_combine(op, shapes):
    with pytest.raises(GeometryError, match=f"cannot {op.replace('concat', 'concatenate')}"):
        _merge(op, *shapes)


# --- whole networks -----------------------------------------------------------------------

RESIDUAL = spec_text(
    "9x9x4",
    "CONV1: 4 3x3 filters, pad 1, no bias",  # 1
    "BN1",                                   # 2
    "RELU1",                                 # 3
    "CONV2: 4 3x3 filters, pad 1, no bias",  # 4
    "BN2",                                   # 5
    "ADD from BN2, INPUT",                   # 6
    "RELU2",                                 # 7
    "CONV3: 8 3x3 filters at stride 2, pad 1",  # 8
    "BN3",                                   # 9
    'CONV "proj" from RELU2: 8 1x1 filters at stride 2',  # 10
    'ADD "add2" from BN3, proj',             # 11
    "RELU3")                                 # 12

INCEPTION = spec_text(
    "9x9x6",
    'CONV "b1": 4 1x1 filters',
    'CONV "r3" from INPUT: 3 1x1 filters', 'RELU "r3r"', 'CONV "b3": 5 3x3 filters, pad 1',
    'CONV "r5" from INPUT: 2 1x1 filters', 'CONV "b5": 3 5x5 filters, pad 2',
    'MAX POOL "p" from INPUT: 3x3 filters at stride 1, pad 1', 'CONV "bp": 2 1x1 filters',
    "CONCAT from b1, b3, b5, bp", "GLOBAL AVG POOL", "FC: 10 neurons")

SQUEEZE_EXCITE = spec_text(
    "6x6x8",
    "CONV1: 8 3x3 filters, pad 1", "BN1", "RELU1",
    'GLOBAL AVG POOL "squeeze": keepdims', 'CONV "reduce": 2 1x1 filters', 'RELU "r"',
    'CONV "expand": 8 1x1 filters', 'SIGMOID "gate"',
    "MULTIPLY from RELU1, gate",
    'GLOBAL AVG POOL "s2"', 'FC "f1": 2 neurons', 'FC "f2": 8 neurons', 'SIGMOID "g2"',
    'MULTIPLY "scaled" from MULTIPLY, g2', "ADD from scaled, INPUT")

UNET = spec_text(
    "20x20x2",
    "CONV1: 4 3x3 filters",                           # 1: 18x18x4, kept for the skip
    "RELU1",                                          # 2
    "MAX POOL1: 2x2 filters at stride 2",             # 3: 9x9x4
    "CONV2: 8 3x3 filters",                           # 4: 7x7x8
    "RELU2",                                          # 5
    "UPSAMPLE: 2 bilinear",                           # 6: 14x14x8
    "CONV3: 4 1x1 filters",                           # 7: 14x14x4
    'CROP "skip" from RELU1: like CONV3',             # 8: 14x14x4
    "CONCAT from skip, CONV3",                        # 9: 14x14x8
    "CONV4: 4 3x3 filters",                           # 10: 12x12x4
    "SHUFFLE: 2 groups",                              # 11
    "SLICE: channels 1 to 3",                         # 12: 12x12x2
    "UPSAMPLE2: 2",                                   # 13: 24x24x2
    "OUTPUT from SLICE")

CHAIN = spec_text("12x12x3", "CONV1: 6 3x3 filters, pad 1", "BN1", "RELU1",
                  "MAX POOL: 2x2 filters at stride 2", "CONV2: 8 3x3 filters", "FLATTEN",
                  "FC: 5 neurons")

NETWORKS = {"chain": CHAIN, "residual": RESIDUAL, "inception": INCEPTION,
            "squeeze-excite": SQUEEZE_EXCITE, "unet": UNET}


def run(a: Analysis, batch: int = 2, dtype: str = "float64", each: Any = None
        ) -> tuple[Network, list[Measured], np.ndarray]:
    p = plan(a)
    assert p.stop is None and p.failure is None, p.failure
    assert a.input is not None
    net = Network(p.modules, dtype, seed=0, output=p.output)
    x = random_input(a.input, batch, dtype, 0)
    return net, net.forward(x, Context(), each), x


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize(("batch", "dtype"), [(1, "float32"), (3, "float64")])
def test_every_layer_is_confirmed_and_the_peak_is_the_estimate(name, batch, dtype):
    a = analyze_text(NETWORKS[name])
    assert a.ok and a.totals is not None, a.diagnostics
    net, measured, _ = run(a, batch, dtype)
    rows = [make_row(r, m.output_shape, m.params, m.buffers, m.macs, m.seconds, m.macs_whole)
            for r, m in zip(a.layers, measured, strict=True)]
    assert [(r.result.layer.name, r.mismatches) for r in rows if not r.match] == []
    assert len(rows) == len(a.layers)
    assert net.peak == a.totals.peak_activations
    assert net.peak == max(m.live for m in measured)


def test_the_peaks_by_hand():
    """Residual at 9x9x4 (324 per tensor up to layer 7): while CONV1 .. ADD run, the input is
    held for the shortcut: three tensors of 324 (the input, the layer's input, its output).
    After the stride, 5x5x8 = 200 each: RELU2 (324) is held for proj until proj has run.
    U-Net: RELU1 (18x18x4 = 1296) waits for the crop; the most is at CONV3, with the
    upsampled 14x14x8 and CONV3's 14x14x4: 1296 + 1568 + 784."""
    assert run(analyze_text(RESIDUAL))[0].peak == 3 * 324
    assert [m.live for m in run(analyze_text(RESIDUAL))[1]][7:] == [
        324 + 200, 324 + 200 + 200, 324 + 200 + 200, 600, 400]
    assert run(analyze_text(UNET))[0].peak == 1296 + 1568 + 784
    chain = run(analyze_text(CHAIN))[0].peak
    assert chain == 2 * 12 * 12 * 6  # conv1 -> bn1: two tensors at a time


def test_tensors_are_held_until_their_last_reader():
    """Which tensors the executor holds after each step of the residual network."""
    measured = run(analyze_text(RESIDUAL))[1]
    assert [m.held for m in measured] == [
        (0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (6,), (7,), (7, 8), (7, 9), (9, 10), (11,),
        (12,)]
    unet = run(analyze_text(UNET))[1]
    assert [m.held for m in unet][:8] == [
        (1,), (2,), (2, 3), (2, 4), (2, 5), (2, 6), (2, 7), (7, 8)]
    assert unet[-1].held == (12,)  # the output is kept; upsample2, which nobody reads, is not


Watched = tuple[Network, dict[int, weakref.ref[np.ndarray]], int, set[int]]


def _watched(text: str) -> Watched:
    """A network whose modules record a weak reference to every tensor they make, and which
    of them wrote their output over one of their inputs."""
    p = plan(analyze_text(text))
    made: dict[int, weakref.ref[np.ndarray]] = {}
    over: set[int] = set()
    net = Network(p.modules, "float64", output=p.output)

    def watch(m: Any, index: int) -> None:
        inner = m.run
        fused = net.fused.get(index, ())  # their output is this one's array, written over

        def wrapped(xs: Any, ctx: Any, *rest: Any) -> Any:
            y, macs = inner(xs, ctx, *rest)
            for j in (index, *fused):
                made[j] = weakref.ref(y)
            over.update(fused)
            if any(np.shares_memory(y, x) for x in xs):
                over.add(index)
            return y, macs
        m.run = wrapped

    for index, m in enumerate(p.modules, start=1):
        watch(m, index)
    return net, made, p.output, over


@pytest.mark.parametrize("name", NETWORKS)
def test_dropped_tensors_are_released(name):
    """After each step, every tensor the executor no longer holds is gone, unless a tensor it
    holds is that array's memory (a kernel that wrote its output over its input, a flatten's
    view of it): nothing else keeps a reference."""
    net, made, output, _ = _watched(NETWORKS[name])
    x = random_input(net.modules[0].in_shape, 2, "float64", 0)

    def check(step: int, got: Measured) -> None:
        held = [made[j]() for j in got.held if j]
        for j, ref in made.items():
            gone = ref()
            if j not in got.held and gone is not None:
                assert any(np.shares_memory(gone, h) for h in held), (step, j)

    net.forward(x, Context(), check)
    assert net.result is made[output]()  # the output, kept
    alive = [j for j, ref in made.items() if ref() is not None]
    assert output in alive
    assert all(np.shares_memory(made[j](), net.result) for j in alive), alive


def test_kernels_write_over_inputs_that_die(monkeypatch):
    """With the block of outputs (cnncalc.execute.arena), each layer writes into its own
    place, and only the layers fused into a convolution write over its output: BN1 and RELU1
    over CONV1, BN2 over CONV2, BN3 over CONV3. Without it (no plan), a kernel writes over an
    input that dies: also ADD over BN2 (not over the input, which is the caller's), RELU2 over
    ADD, add2 over BN3, RELU3 over add2. RELU2 is read by CONV3 and by proj: nothing writes
    over it. A convolution never writes over its input. U-Net: RELU1 over CONV1, RELU2 over
    CONV2; the merge reads crop and CONV3 but is a concat, which makes a new array."""
    net, _, _, over = _watched(RESIDUAL)
    net.forward(random_input((9, 9, 4), 2, "float64", 0), Context())
    assert sorted(over) == [2, 3, 5, 9]
    monkeypatch.setattr(arena, "WORK_LIMIT", 0)
    net, _, _, over = _watched(RESIDUAL)
    net.forward(random_input((9, 9, 4), 2, "float64", 0), Context())
    assert sorted(over) == [2, 3, 5, 6, 7, 9, 11, 12]
    net, _, _, over = _watched(UNET)
    net.forward(random_input((20, 20, 2), 2, "float64", 0), Context())
    assert sorted(over) == [2, 5]


def _reference(a: Analysis, x: np.ndarray) -> np.ndarray:
    """Every layer on fresh arrays, nothing dropped and nothing written over."""
    p = plan(a)
    net = Network(p.modules, x.dtype, seed=0)
    tensors = {0: x}
    for i, m in enumerate(net.modules, start=1):
        tensors[i] = m.run([tensors[j] for j in m.reads], Context(), None)[0]
    return tensors[p.output]


@pytest.mark.parametrize("name", NETWORKS)
def test_writing_over_dying_inputs_changes_no_result(name):
    a = analyze_text(NETWORKS[name])
    net, _, x = run(a, 2, "float32")
    before = x.copy()
    assert net.result is not None
    np.testing.assert_array_equal(net.result, _reference(a, x))
    np.testing.assert_array_equal(x, before)


def test_the_callers_input_and_shared_tensors_are_never_written_over():
    """IDENTITY gives the input array itself, and RELU1 is its last reader; BN1 is read by
    RELU2 and again by the ADD, so RELU2 must not write over it."""
    a = analyze_text(spec_text("4x4x3", "IDENTITY", "RELU1", "CONV1: 3 1x1 filters", "BN1",
                               "RELU2", "ADD from BN1, RELU2", "FLATTEN", "RELU3"))
    net, _, x = run(a, 2, "float64")
    before = x.copy()
    net.forward(x, Context())
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(net.result, _reference(a, x))


# --- liveness and the memory estimate ------------------------------------------------------

def test_last_readers_and_held_by_hand():
    reads = [(0,), (1,), (2,), (3, 0), (4,), (1,)]  # 6 reads 1 again: a long skip
    assert last_readers(reads, 5) == [4, 6, 3, 4, 5, 7, 6]
    sizes = [1000, 10, 20, 30, 40, 50, 60]
    # step 2: 1 read; 3: 1 held (2 read); 4: 1 held (3 and 0 read); 5: 1 held; 6: 5 (output)
    assert held_across(reads, 5, sizes) == [0, 0, 10, 10, 10, 50]


def test_the_estimate_holds_the_skip_across_the_layers_in_between():
    a = analyze_text(UNET)
    p = plan(a)
    # outputs allocated one by one
    est = memory_plan(p.modules, (20, 20, 2), 1, 8, output=p.output, block=False)[0]
    by_name = {m.name: m for m in est.layers}
    assert by_name["CONV2"].held_bytes == 1296 * 8  # RELU1, waiting for the crop
    assert by_name["CONV2"].input_bytes == 324 * 8 and by_name["CONV2"].output_bytes == 392 * 8
    assert by_name["CONCAT"].held_bytes == 0
    assert by_name["CONCAT"].input_bytes == 2 * 14 * 14 * 4 * 8
    assert est.layers[0].input_bytes == 0  # the caller's input, counted once as the batch
    # in the block (cnncalc.execute.arena), counted once in the scratch buffers: RELU1
    # waiting for the crop, CONV2's, the crop's, CONV3's; not the network's output (SLICE),
    # which the caller keeps, nor the shuffle's, which may be a view of what it reads
    est, layout = memory_plan(p.modules, (20, 20, 2), 1, 8, output=p.output)
    assert layout is not None and est.block_bytes == layout.size
    by = [(m.name, m.input_bytes, m.output_bytes, m.held_bytes) for m in est.layers]
    assert all(b[1:] == (0, 0, 0) for b in by[:10]), by
    assert {m.name: m for m in est.layers}["SLICE"].output_bytes == 12 * 12 * 2 * 8
    assert {m.name: m for m in est.layers}["SHUFFLE"].output_bytes == 12 * 12 * 4 * 8
    assert est.scratch_bytes >= (1296 + 392 + 14 * 14 * 4) * 8  # RELU1, CONV2 and CONV3
    chain = plan(analyze_text(CHAIN))
    assert all(m.held_bytes == 0 for m in memory_estimate(chain.modules, (12, 12, 3), 4,
                                                          4).layers)


@pytest.mark.parametrize("name", ["residual", "unet", "inception"])
def test_the_estimate_bounds_what_numpy_allocates_on_graphs(name):
    a = analyze_text(NETWORKS[name])
    p = plan(a)
    assert a.input is not None
    batch = 32
    est = memory_estimate(p.modules, a.input, batch, 4, cap=1 << 20, output=p.output)
    tracemalloc.start()
    try:
        net = Network(p.modules, "float32", output=p.output)
        x = random_input(a.input, batch, "float32", 0)
        net.forward(x, Context(cap=1 << 20))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 0.5 * est.peak_bytes < peak <= est.peak_bytes * 1.05
