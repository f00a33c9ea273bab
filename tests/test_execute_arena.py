"""The block the convolutions' outputs live in (``cnncalc.execute.arena``): no two tensors
held at the same time share memory, a view of an output holds its place, the results are
those of outputs allocated one by one, and the memory estimate counts the block."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import numpy as np
import pytest
from helpers import analyze_text, spec_text

from cnncalc.execute import arena
from cnncalc.execute.memory import arena_layout, memory_plan, reads_of
from cnncalc.execute.modules import Context
from cnncalc.execute.network import Network, plan, random_input
from cnncalc.options import load

SPECS = Path(__file__).resolve().parent.parent / "specs"


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


@pytest.mark.parametrize("seed", range(40))
def test_tensors_held_at_once_never_share_bytes(seed):
    rng = random.Random(seed)
    held, sizes = {}, {}
    for t in range(1, rng.randint(2, 40)):
        first = rng.randint(1, 30)
        held[t] = (first, first + rng.choice([0, 0, 1, 2, 5, 20]))
        sizes[t] = rng.choice([1, 7, 64, 100, 4096, 10_000])
    plan_ = arena.layout(held, sizes)
    assert plan_ is not None
    for a, b in itertools.combinations(held, 2):
        if _overlap(held[a], held[b]):
            ra = range(plan_.offsets[a], plan_.offsets[a] + sizes[a])
            rb = range(plan_.offsets[b], plan_.offsets[b] + sizes[b])
            assert ra.stop <= rb.start or rb.stop <= ra.start, (a, b)
    assert all(off % arena.ALIGN == 0 for off in plan_.offsets.values())
    assert plan_.size == max(plan_.offsets[t] + sizes[t] for t in held)
    steps = range(1, max(b for _, b in held.values()) + 1)
    at_once = max(sum(sizes[t] for t in held if held[t][0] <= s <= held[t][1]) for s in steps)
    assert plan_.size >= at_once


def test_a_chain_takes_two_places():
    """Each output is read by the next layer only: the block is the two largest neighbours."""
    held = {1: (1, 2), 2: (2, 3), 3: (3, 4), 4: (4, 5)}
    sizes = {1: 640, 2: 1280, 3: 640, 4: 320}
    got = arena.layout(held, sizes)
    assert got is not None and got.size == 1280 + 640


def test_too_much_to_place_is_not_planned(monkeypatch):
    monkeypatch.setattr(arena, "WORK_LIMIT", 10)
    assert arena.layout({t: (1, 20) for t in range(1, 5)}, dict.fromkeys(range(1, 5), 8)) \
        is None
    assert arena.layout({}, {}) is None


def test_spans_follow_fused_layers_and_views_and_leave_out_the_output():
    # 1 conv, 2 bn (fused), 3 flatten (a view of 1), 4 fc, 5 conv (the output)
    conv = [True, False, False, False, True]
    reads = [(0,), (1,), (2,), (3,), (3,)]
    last = [0, 2, 3, 5, 4, 6]  # 3 (the flatten) is read by 4 and by 5
    got = arena.spans(conv, {1: (2,), 5: ()}, reads, [False, False, True, False, False],
                      last, 5)
    assert got == {1: (1, 5)}  # held until the flatten's last reader; 5 is the output


def _network(text: str, batch: int = 2, dtype: str = "float32"):
    a = analyze_text(text)
    p = plan(a)
    net = Network(p.modules, dtype, 0, output=p.output)
    return a, p, net, random_input(a.input, batch, dtype, 0)


MOBILE = spec_text("23x23x6", "CONV1: 8 3x3 filters at stride 2, no bias", "BN1", "RELU6",
                   "DWCONV2: 3x3 filters, pad 1", "BN2", "RELU", "CONV3: 12 1x1 filters",
                   "DROPOUT: 0.5", "CONV4: 12 1x1 filters", "FLATTEN", "FC: 5 neurons")


@pytest.mark.parametrize("text", [MOBILE])
def test_outputs_are_places_in_the_block_and_change_no_value(text, monkeypatch):
    _, _, net, x = _network(text)
    ctx = Context()
    first = [m.finite for m in net.forward(x, ctx)]
    block = ctx.scratch._buffers["arena"]
    want = net.result.copy()
    assert net.spilled == 0
    again = net.forward(x, ctx)  # the same block, reused
    assert np.array_equal(net.result, want) and ctx.scratch._buffers["arena"] is block
    monkeypatch.setattr(arena, "WORK_LIMIT", 0)  # no plan: every output allocated
    _, _, alone, _ = _network(text)
    alone.forward(x, Context())
    assert np.array_equal(alone.result, want)
    assert [m.finite for m in again] == first


def test_a_view_of_an_output_keeps_its_place():
    """DROPOUT at test time passes CONV3's output on as it is; CONV4 reads it, so its output
    must go elsewhere in the block (the plan sees the view; nothing spills)."""
    _, _, net, x = _network(MOBILE)
    layout, _ = arena_layout(net.modules, net.fused, net.last, net.output, 2, 4)
    assert layout is not None
    names = [m.layer.name for m in net.modules]
    conv3, conv4 = names.index("CONV3") + 1, names.index("CONV4") + 1
    held = arena.spans([type(m).__name__ == "ConvModule" for m in net.modules], net.fused,
                       net.reads, [False] * len(names), net.last, net.output)
    assert held[conv3][1] < conv4  # without the view, CONV3's place ends before CONV4
    size3 = 2 * int(np.prod(net.modules[conv3 - 1].out_shape)) * 4
    size4 = 2 * int(np.prod(net.modules[conv4 - 1].out_shape)) * 4
    a, b = layout.offsets[conv3], layout.offsets[conv4]
    assert a + size3 <= b or b + size4 <= a
    net.forward(x, Context())
    assert net.spilled == 0


@pytest.mark.parametrize("name", sorted(p.stem for p in SPECS.glob("*.txt")))
def test_shipped_specs_plan_every_convolution_and_count_the_block(name):
    a = load(str(SPECS / f"{name}.txt"))
    p = plan(a)
    if a.input is None or p.stop is not None or p.failure is not None:
        pytest.skip("the spec does not run")
    from cnncalc.execute.fusion import groups
    from cnncalc.execute.liveness import last_readers

    reads = reads_of(p.modules)
    last = last_readers(reads, p.output)
    layout, inside = arena_layout(p.modules, groups(p.modules, reads, last), last, p.output,
                                  8, 4)
    placed = [i for i, m in enumerate(p.modules, start=1) if m.places()]
    if layout is None:  # its one convolution makes the output
        assert placed == [p.output]
        return
    est, used = memory_plan(p.modules, a.input, 8, 4, output=p.output)
    apart = memory_plan(p.modules, a.input, 8, 4, output=p.output, block=False)[0]
    if used is None:  # the block would cost more than BLOCK_SLACK
        assert est == apart and est.block_bytes == 0
        return
    assert used == layout and est.block_bytes == layout.size
    assert "laid out in one block" in est.describe()
    assert "laid out in one block" not in apart.describe()
    assert est.scratch_bytes >= layout.size
    assert all(m.output_bytes == 0 for i, m in enumerate(est.layers, start=1) if i in inside)
    assert est.peak_bytes <= apart.peak_bytes * 1.03 + (1 << 20)
