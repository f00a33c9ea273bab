"""Every layer kind of the canonical notation against hand-worked figures.

Each case is one layer on a given input: the expected output volume, weights, biases,
buffers and MACs were worked out by hand from the formulas in the README, not by cnncalc.
"""

from __future__ import annotations

import pytest

from cnncalc.analyze import Analysis, analyze
from cnncalc.parse import parse_text


def run(text: str) -> Analysis:
    return analyze(parse_text(text, "t.txt"))


def one(input_volume: str, line: str, rounding: str = "") -> Analysis:
    head = f"ROUNDING: {rounding}\n" if rounding else ""
    return run(f"{head}[{input_volume}] INPUT\n{line}\n")


# input, layer line, output, weights, biases, buffers, MACs
CASES = [
    # dilation: a 3x3 filter at dilation 2 spans 5
    ("32x32x3", "CONV: 8 3x3 filters, dilation 2", (28, 28, 8), 216, 8, 0, 28 * 28 * 8 * 27),
    # groups: weights F*F*(D1/g)*K, MACs H2*W2*K*F*F*D1/g
    ("16x16x64", "CONV: 128 3x3 filters, pad 1, groups 4", (16, 16, 128), 3 * 3 * 16 * 128, 128,
     0, 16 * 16 * 128 * 9 * 16),
    # bias-free
    ("16x16x64", "CONV: 128 1x1 filters, no bias", (16, 16, 128), 64 * 128, 0, 0,
     16 * 16 * 128 * 64),
    # depthwise, multiplier 2: filters = C*2, one group per channel
    ("16x16x32", "DWCONV: 3x3 filters, pad 1, multiplier 2", (16, 16, 64), 9 * 64, 64, 0,
     16 * 16 * 64 * 9),
    # transposed: (W-1)*S - 2P + (F-1) + 1 = 7*2 - 2 + 3 + 1 = 16; MACs H1*W1*D1*F*F*K
    ("8x8x64", "DECONV: 32 4x4 filters at stride 2, pad 1", (16, 16, 32), 4 * 4 * 64 * 32, 32,
     0, 8 * 8 * 64 * 16 * 32),
    # grouped transposed: weights F*F*D1*(K/g), MACs H1*W1*D1*F*F*K/g
    ("8x8x64", "DECONV: 32 4x4 filters at stride 2, pad 1, groups 2, no bias", (16, 16, 32),
     4 * 4 * 32 * 32, 0, 0, 8 * 8 * 64 * 16 * 16),
    # transposed with output padding 1
    ("8x8x4", "DECONV: 4 3x3 filters at stride 2, pad 1, output padding 1", (16, 16, 4),
     3 * 3 * 4 * 4, 4, 0, 8 * 8 * 4 * 9 * 4),
    # odd sizes, non-square everything: H (15 - 3 + 2)/2 + 1 = 8, W (9 - 5 + 4)/1 + 1 = 9
    ("15x9x2", "CONV: 3 3x5 filters at stride 2x1, pad 1x2", (8, 9, 3), 3 * 5 * 2 * 3, 3, 0,
     8 * 9 * 3 * 30),
    # Keras/TF same with an even kernel: output 7, padding 1 before and 2 after
    ("7x7x3", "CONV: 8 4x4 filters, pad same", (7, 7, 8), 4 * 4 * 3 * 8, 8, 0, 49 * 8 * 48),
    # same at stride 2 on an odd input: ceil(7/2) = 4
    ("7x7x3", "CONV: 8 3x3 filters at stride 2, pad same", (4, 4, 8), 216, 8, 0, 16 * 8 * 27),
    # ceil mode with padding: ceil((6 - 3 + 2)/2) + 1 = 4; (4-1)*2 = 6 < 6 + 1 keeps it
    ("6x6x5", "MAX POOL: 3x3 filters at stride 2, pad 1, ceil", (4, 4, 5), 0, 0, 0, 0),
    # ceil mode dropping a last window that would start in the right padding:
    # ceil((5 - 2 + 2)/2) + 1 = 4, but (4-1)*2 = 6 >= 5 + 1, so 3
    ("5x5x1", "AVG POOL: 2x2 filters at stride 2, pad 1, ceil", (3, 3, 1), 0, 0, 0, 0),
    # ceil mode on 56: (56 - 3)/2 + 1 = 27.5 -> 28
    ("56x56x8", "MAX POOL: 3x3 filters at stride 2, ceil", (28, 28, 8), 0, 0, 0, 0),
    ("7x7x1024", "GLOBAL AVG POOL", (1024,), 0, 0, 0, 0),
    ("7x7x1024", "GLOBAL MAX POOL: keepdims", (1, 1, 1024), 0, 0, 0, 0),
    ("13x13x256", "ADAPTIVE AVG POOL: 6x6", (6, 6, 256), 0, 0, 0, 0),
    ("13x13x64", "BATCHNORM", (13, 13, 64), 64, 64, 128, 0),
    ("13x13x64", "BN: no scale, no stats", (13, 13, 64), 0, 64, 0, 0),
    ("5x5x3", "ZEROPAD: top 1, bottom 2, left 3, right 4", (8, 12, 3), 0, 0, 0, 0),
    ("5x5x3", "ZEROPAD: 2", (9, 9, 3), 0, 0, 0, 0),
    # a negative count crops that side, as PyTorch's ZeroPad2d((1, 1, -1, -1)) does
    ("5x5x3", "ZEROPAD: top -1, bottom -1, left 1, right 1", (3, 7, 3), 0, 0, 0, 0),
    ("5x5x3", "ZEROPAD: top -4, bottom 0, left -2, right 0", (1, 3, 3), 0, 0, 0, 0),
    ("4096", "FC: 1000 neurons, no bias", (1000,), 4096000, 0, 0, 4096000),
    ("6x6x256", "FC: 10 neurons", (10,), 9216 * 10, 10, 0, 92160),
    ("6x6x256", "FLATTEN", (9216,), 0, 0, 0, 0),
    ("55x55x96", "NORM: Normalization layer", (55, 55, 96), 0, 0, 0, 0),
    ("4096", "DROPOUT 0.5", (4096,), 0, 0, 0, 0),
    ("10", "SOFTMAX", (10,), 0, 0, 0, 0),
    ("8x8x3", "RELU6", (8, 8, 3), 0, 0, 0, 0),
]


@pytest.mark.parametrize(("volume", "line", "out", "weights", "biases", "buffers", "macs"), CASES)
def test_layer_kind(volume: str, line: str, out: tuple[int, ...], weights: int, biases: int,
                    buffers: int, macs: int) -> None:
    a = one(volume, line)
    assert [d.code for d in a.diagnostics if d.severity.value == "error"] == []
    r = a.layers[0]
    assert r.output_shape == out
    assert (r.weights, r.biases, r.buffers, r.macs) == (weights, biases, buffers, macs)
    assert r.params == weights + biases
    assert r.flops == 2 * macs


def test_same_padding_split_puts_the_odd_cell_after() -> None:
    r = one("7x7x3", "CONV: 8 4x4 filters, pad same").layers[0]
    assert r.padding == ((1, 2), (1, 2))
    r = one("8x8x3", "CONV: 8 3x3 filters at stride 2, pad same").layers[0]
    assert r.output_shape == (4, 4, 8) and r.padding == ((0, 1), (0, 1))


def test_groups_must_divide_channels() -> None:
    a = one("16x16x30", "CONV: 128 3x3 filters, groups 4")
    assert [d.code for d in a.diagnostics] == ["C002"]
    assert a.layers[0].status == "error"


def test_output_padding_must_be_below_stride() -> None:
    a = one("8x8x4", "DECONV: 4 3x3 filters at stride 2, output padding 2")
    assert [d.code for d in a.diagnostics] == ["G106"]


def test_strict_rounding_reports_what_floor_and_ceil_would_round() -> None:
    strict = one("56x56x8", "MAX POOL: 3x3 filters at stride 2")
    assert [d.code for d in strict.diagnostics] == ["G101"]
    assert "(56 - 3)/2 + 1 = 27.5" in strict.diagnostics[0].message
    floor = one("56x56x8", "MAX POOL: 3x3 filters at stride 2", rounding="floor")
    assert floor.layers[0].output_shape == (28 - 1, 27, 8)
    assert floor.layers[0].rounded
    assert [(d.code, d.severity.value) for d in floor.diagnostics] == [("G107", "warning")]
    ceil = one("56x56x8", "MAX POOL: 3x3 filters at stride 2", rounding="ceil")
    assert ceil.layers[0].output_shape == (28, 28, 8)


def test_rounding_argument_overrides_the_spec() -> None:
    spec = parse_text("[224x224x3] INPUT\nCONV1: 96 11x11 filters at stride 4\n", "t.txt")
    assert analyze(spec).layers[0].status == "error"
    floor = analyze(spec, rounding="floor")
    assert floor.layers[0].output_shape == (54, 54, 96) and floor.ok


def test_adaptive_pool_receptive_field_uses_the_widest_window() -> None:
    # 13 -> 6: windows [0,3) [2,5) [4,7) [6,9) [8,11) [10,13): widest 3
    r = one("13x13x1", "ADAPTIVE MAX POOL: 6x6").layers[0]
    assert r.field is not None and r.field.rf == (3, 3)


def test_declared_channels_are_checked() -> None:
    a = one("16x16x32", "CONV: 64 3x3 filters, in 64")
    assert [d.code for d in a.diagnostics] == ["C001"]
    assert "declares 64 input channels but receives 32" in a.diagnostics[0].message
    a = one("6400", "FC: 10 neurons, in 9216")
    assert [d.code for d in a.diagnostics] == ["C001"]
    assert "9216" in a.diagnostics[0].message and "6400" in a.diagnostics[0].message


def test_quoted_names_and_unknown_options() -> None:
    a = one("8x8x3", 'CONV "features.0": 4 3x3 filters, pad 1')
    assert a.layers[0].layer.name == "features.0"
    a = one("8x8x3", "CONV: 4 3x3 filters, strid 2")
    assert [d.code for d in a.diagnostics] == ["P001"]
    assert "did you mean `stride`?" in a.diagnostics[0].hint


@pytest.mark.parametrize(("text", "notation"), [
    ("CONV3-64: [224x224x64] memory: 224*224*64=3.2M", "vgg"),
    ("conv3-64", "vgg"),
    ("CONV3-64: weights: 1,728", "vgg"),
    ("[8x8x3] INPUT\nCONV1-1: 64 3x3 filters", "lecture"),
    ("[4096] INPUT\n[4096] FC-6: 4096 neurons", "lecture"),
    ("[8x8x3] INPUT\nPOOL2: 2x2 filters", "lecture"),
])
def test_detection_tells_vgg_from_lecture_names(text: str, notation: str) -> None:
    from cnncalc.parse import detect

    assert detect(text) == notation


def test_vgg_declared_weights_warn_through_the_analysis() -> None:
    a = run("INPUT: [8x8x3]\nCONV3-8: [8x8x8]  weights: (3*3*3)*8 = 217\n")
    assert [(d.code, d.severity.value) for d in a.diagnostics] == [("D202", "warning")]
    assert "217" in a.diagnostics[0].message and "216" in a.diagnostics[0].message


def test_ceil_mode_window_may_hang_over_the_padded_input() -> None:
    # PyTorch: MaxPool2d(4, stride=3, padding=1, dilation=3, ceil_mode=True) on 7 gives 1:
    # the window spans 10 > 7 + 2, yet ceil((7 + 2 - 10)/3) + 1 = 1 window starts in the input
    a = one("7x7x2", "MAX POOL: 4x4 filters at stride 3, pad 1, dilation 3, ceil")
    assert a.layers[0].output_shape == (1, 1, 2)
    floor = one("7x7x2", "MAX POOL: 4x4 filters at stride 3, pad 1, dilation 3",
                rounding="floor")
    assert [d.code for d in floor.diagnostics] == ["G102"]


def test_missing_input_hint_fits_the_notation() -> None:
    a = analyze(parse_text("Sequential(\n  (0): Conv2d(3, 8, kernel_size=(3, 3))\n)\n", "m.txt"))
    (d,) = [d for d in a.diagnostics if d.code == "P004"]
    assert "# cnncalc: input" in d.hint and "--input" in d.hint
