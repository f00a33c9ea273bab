"""The other shipped specs: LeNet-5, VGG-16, and the lecture's "power of small filters"
(three stacked 3x3 convs against one 7x7); receptive fields; and, for every shipped spec whose
totals exist, that the per-layer rows add up to them."""

from __future__ import annotations

import json

import pytest
from helpers import GRAPH_SPECS, SPECS, analyze_spec, analyze_text, layer, spec_text

from cnncalc.cli import cli

ALL_SPECS = sorted(p.name for p in SPECS.glob("*.txt"))


def test_the_shipped_specs_are_there():
    assert {"alexnet.txt", "alexnet224.txt", "lenet5.txt", "vgg16.txt", "three_3x3.txt",
            "one_7x7.txt", *GRAPH_SPECS} <= set(ALL_SPECS)


# --- LeNet-5 ---------------------------------------------------------------------------------

# name, output, params, MACs.  CONV1 5*5*1*6 + 6; CONV2 5*5*6*16 + 16; CONV3 5*5*16*120 + 120;
# FC4 120*84 + 84; FC5 84*10 + 10.  MACs: 28*28*6*25, 10*10*16*150, 1*1*120*400, 120*84, 84*10.
LENET = [
    ("CONV1", (28, 28, 6), 156, 117_600),
    ("AVG POOL1", (14, 14, 6), 0, 0),
    ("CONV2", (10, 10, 16), 2_416, 240_000),
    ("AVG POOL2", (5, 5, 16), 0, 0),
    ("CONV3", (1, 1, 120), 48_120, 48_000),
    ("FC4", (84,), 10_164, 10_080),
    ("FC5", (10,), 850, 840),
]


def test_lenet5():
    a = analyze_spec("lenet5.txt")
    assert a.ok and a.diagnostics == ()
    assert a.input == (32, 32, 1)
    got = [(r.layer.name, r.output_shape, r.params, r.macs) for r in a.layers]
    assert got == LENET
    assert [r.layer.kind for r in a.layers] == [
        "conv", "avgpool", "conv", "avgpool", "conv", "fc", "fc"]
    assert a.totals is not None
    assert a.totals.params == 61_706
    assert a.totals.macs == 416_520


# --- VGG-16 ----------------------------------------------------------------------------------

def test_vgg16_totals():
    a = analyze_spec("vgg16.txt")
    assert a.ok and a.diagnostics == ()
    assert a.totals is not None
    assert a.totals.params == 138_357_544
    assert a.totals.macs == 15_470_264_320
    assert a.totals.flops == 30_940_528_640


@pytest.mark.parametrize(("name", "output", "params", "macs"), [
    ("CONV1_1", (224, 224, 64), 3 * 3 * 3 * 64 + 64, 224 * 224 * 64 * 27),      # 1,792
    ("CONV1_2", (224, 224, 64), 36_928, 1_849_688_064),
    ("MAX POOL1", (112, 112, 64), 0, 0),
    ("CONV5_3", (14, 14, 512), 2_359_808, 462_422_016),
    ("MAX POOL5", (7, 7, 512), 0, 0),
    ("FC6", (4096,), 102_764_544, 102_760_448),                                  # 7*7*512*4096
    ("FC8", (1000,), 4_097_000, 4_096_000),
])
def test_vgg16_layers(name, output, params, macs):
    r = layer(analyze_spec("vgg16.txt"), name)
    assert (r.output_shape, r.params, r.macs) == (output, params, macs)


# --- the power of small filters ----------------------------------------------------------------

def test_three_3x3_against_one_7x7_shipped():
    """C = 64, H = W = 56: 27C^2 against 49C^2 weights, 27HWC^2 against 49HWC^2 MACs."""
    c, h, w = 64, 56, 56
    three = analyze_spec("three_3x3.txt")
    one = analyze_spec("one_7x7.txt")
    assert three.ok and one.ok
    assert three.totals is not None and one.totals is not None
    assert three.totals.weights == 27 * c * c == 110_592
    assert one.totals.weights == 49 * c * c == 200_704
    assert three.totals.macs == 27 * h * w * c * c == 346_816_512
    assert one.totals.macs == 49 * h * w * c * c == 629_407_744
    # both preserve the volume, and see the same 7x7 input region
    assert three.layers[-1].output_shape == one.layers[-1].output_shape == (h, w, c)
    assert three.layers[-1].field.rf == one.layers[-1].field.rf == (7, 7)


def _stack(c: int, h: int, w: int, f: int, n: int) -> str:
    pad = (f - 1) // 2
    return spec_text(f"{h}x{w}x{c}", *(
        f"[{h}x{w}x{c}] CONV{i}: {c} {f}x{f} filters at stride 1, pad {pad}"
        for i in range(1, n + 1)))


@pytest.mark.parametrize(("c", "h", "w"), [(1, 7, 7), (3, 32, 32), (16, 28, 20), (128, 14, 9),
                                           (512, 1, 1), (7, 100, 3)])
def test_three_3x3_against_one_7x7_generated(c, h, w):
    three = analyze_text(_stack(c, h, w, 3, 3))
    one = analyze_text(_stack(c, h, w, 7, 1))
    assert three.ok, three.diagnostics
    assert one.ok, one.diagnostics
    assert three.totals.weights == 27 * c**2
    assert one.totals.weights == 49 * c**2
    assert three.totals.macs == 27 * h * w * c**2
    assert one.totals.macs == 49 * h * w * c**2
    assert three.totals.biases == 3 * c and one.totals.biases == c


# --- receptive fields ------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "rf"), [(1, 3), (2, 5), (3, 7), (4, 9)])
def test_stacked_3x3_receptive_field_json(runner, n, rf):
    text = "\n".join(["[32x32x8] INPUT"]
                     + [f"CONV{i}: 8 3x3 filters at stride 1" for i in range(1, n + 1)])
    result = runner.invoke(cli, ["show", "--format", "json", "-"], input=text)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [x["receptive_field"] for x in data["layers"]] == [[3 + 2 * i] * 2 for i in range(n)]
    assert data["layers"][-1]["receptive_field"] == [rf, rf]


@pytest.mark.parametrize(("shape", "lines", "rfs"), [
    # pad does not change what a neuron sees
    ("16x16x3", ["CONV1: 4 3x3 filters at stride 1, pad 1",
                 "CONV2: 4 3x3 filters at stride 1, pad 1"], [(3, 3), (5, 5)]),
    # a stride multiplies the jump: 3, then 3 + 2*2 = 7
    ("15x15x3", ["CONV1: 4 3x3 filters at stride 2, pad 1",
                 "CONV2: 4 3x3 filters at stride 1, pad 1"], [(3, 3), (7, 7)]),
    # pooling is a window too: 2x2 s2 after a 3x3: 3 + 1*1 = 4, then 4 + 2*2 = 8
    ("16x16x3", ["CONV1: 4 3x3 filters at stride 1, pad 1", "MAX POOL1: 2x2 filters",
      "CONV2: 4 3x3 filters at stride 1, pad 1"], [(3, 3), (4, 4), (8, 8)]),
    # non-square filters
    ("16x16x3", ["CONV1: 4 3x5 filters at stride 1, pad 1x2",
                 "CONV2: 4 1x3 filters at stride 1, pad 0x1"], [(3, 5), (3, 7)]),
    # a 1x1 conv sees one pixel; shape-preserving layers see what their input saw
    ("16x16x3", ["CONV1: 4 1x1 filters", "RELU1", "NORM1: Normalization layer",
                 "CONV2: 4 3x3 filters"], [(1, 1), (1, 1), (1, 1), (3, 3)]),
])
def test_receptive_field_recursion(shape, lines, rfs):
    a = analyze_text(spec_text(shape, *lines))
    assert a.ok, a.diagnostics
    assert [tuple(r.field.rf) for r in a.layers] == rfs


def test_fc_sees_its_whole_input():
    a = analyze_text(spec_text("8x8x3", "CONV1: 2 3x3 filters", "FC1: 10 neurons",
                               "FC2: 5 neurons"))
    # the 6x6 conv output, each neuron 3 wide at jump 1: 3 + 5 = 8, the whole input
    assert [tuple(r.field.rf) for r in a.layers] == [(3, 3), (8, 8), (8, 8)]


# --- rows add up to the totals ----------------------------------------------------------------

@pytest.mark.parametrize("name", ALL_SPECS)
def test_rows_add_up_to_totals(name):
    a = analyze_spec(name)
    if a.totals is None:
        assert not a.ok  # totals are withheld only when a layer could not be computed
        assert any(r.status != "ok" for r in a.layers)
        return
    t = a.totals
    assert sum(r.weights for r in a.layers) == t.weights
    assert sum(r.biases for r in a.layers) == t.biases
    assert sum(r.params for r in a.layers) == t.params == t.weights + t.biases
    assert sum(r.macs for r in a.layers) == t.macs
    assert sum(r.flops for r in a.layers) == t.flops == 2 * t.macs
    assert sum(r.activations for r in a.layers) == t.activations


def test_most_shipped_specs_have_totals():
    """The rows-add-up test above is not vacuous: all specs but the 224 one have totals."""
    with_totals = [n for n in ALL_SPECS if analyze_spec(n).totals is not None]
    assert set(with_totals) >= {"alexnet.txt", "lenet5.txt", "vgg16.txt", "three_3x3.txt",
                                "one_7x7.txt", *GRAPH_SPECS}
    assert analyze_spec("alexnet224.txt").totals is None
