"""The VGG notation: the CS231n notes' "VGGNet in detail" listing (specs/vgg_cs231n.txt) and
the paper's table 1 column for configuration D (specs/vgg_paper_d.txt) give VGG-16's published
totals (138,357,544 params, 15,470,264,320 MACs) and the same layers as the lecture-notation
specs/vgg16.txt; declared shapes and weights figures are checked; errors point at the text."""

from __future__ import annotations

import pytest
from helpers import SPECS, analyze_spec, analyze_text, diag
from hypothesis import given
from hypothesis import strategies as st

from cnncalc.analyze import Analysis, analyze
from cnncalc.diagnostics import RULES, Severity
from cnncalc.parse import detect, parse_text
from cnncalc.parse.vgg import parse_vgg

VGG16_PARAMS = 138_357_544
VGG16_MACS = 15_470_264_320
CS231N = (SPECS / "vgg_cs231n.txt").read_text(encoding="utf-8")
PAPER_D = (SPECS / "vgg_paper_d.txt").read_text(encoding="utf-8")


def _analyze(text: str) -> Analysis:
    """Parse as VGG whatever the detection says: one-line texts such as `fc6` have no
    `CONV3-64` line to be detected by."""
    return analyze(parse_vgg(text, "t.txt"))


def check(text: str) -> list[tuple[int, int, str]]:
    return [(d.span.line, d.span.col, d.code) for d in _analyze(text).diagnostics]


def _weights_warnings(text: str, path: str = "t.txt") -> list:
    return [d for d in analyze(parse_vgg(text, path)).diagnostics if d.code == "D202"]


# --- the two shipped listings ----------------------------------------------------------------

@pytest.mark.parametrize("name", ["vgg_cs231n.txt", "vgg_paper_d.txt"])
def test_vgg16_totals(name):
    a = analyze_spec(name)
    assert a.spec.notation == "vgg"
    assert a.spec.rounding == "strict"
    assert a.diagnostics == ()
    assert a.input == (224, 224, 3)
    assert a.totals is not None
    assert a.totals.params == VGG16_PARAMS
    assert a.totals.macs == VGG16_MACS


@pytest.mark.parametrize("name", ["vgg_cs231n.txt", "vgg_paper_d.txt"])
def test_same_layers_as_the_lecture_notation(name):
    """An independent spelling of the same network: specs/vgg16.txt in the lecture notation."""
    ours = [r for r in analyze_spec(name).layers if r.layer.kind != "softmax"]
    lecture = analyze_spec("vgg16.txt").layers
    assert [(r.layer.kind, r.output_shape, r.weights, r.biases, r.macs) for r in ours] == [
        (r.layer.kind, r.output_shape, r.weights, r.biases, r.macs) for r in lecture]


def test_cs231n_listing_declares_every_shape_and_weights_figure():
    spec = parse_vgg(CS231N, "specs/vgg_cs231n.txt")
    a = analyze(spec)
    assert len(spec.layers) == 21  # 16 weight layers and 5 pools
    assert all(layer.declared is not None for layer in spec.layers)
    assert all(layer.declared_weights is not None for layer in spec.layers)
    assert [r.layer.declared_weights for r in a.layers] == [r.weights for r in a.layers]
    assert _weights_warnings(CS231N) == []


def test_paper_column_kinds():
    a = analyze_spec("vgg_paper_d.txt")
    kinds = [r.layer.kind for r in a.layers]
    assert kinds.count("conv") == 13 and kinds.count("maxpool") == 5
    assert kinds[-4:] == ["fc", "fc", "fc", "softmax"]
    assert a.layers[-1].output_shape == (1000,)


# --- declared weights: D202 ------------------------------------------------------------------

def test_wrong_weights_figure_is_a_warning_at_the_figure():
    text = CS231N.replace("(3*3*3)*64 = 1,728", "(3*3*3)*64 = 1,729")
    lineno, line = next((i, s) for i, s in enumerate(text.splitlines(), 1) if "1,729" in s)
    assert parse_text(text, "t.txt").notation == "vgg"
    (d,) = _weights_warnings(text)
    assert d.code == "D202" and RULES["D202"].severity is Severity.WARNING
    assert (d.span.line, d.span.col, d.span.end_col) == (
        lineno, line.index("1,729") + 1, line.index("1,729") + 6)
    assert "1,729" in d.message and "1,728" in d.message
    assert "1,728" in d.hint and "64 biases" in d.hint


@pytest.mark.parametrize(("annotation", "warned"), [
    ("weights: 216", False),                   # the only number
    ("weights: (3*3*3)*8 = 216", False),
    ("weights: 217", True),
    ("weights: 3*3*3*8 = 1,000", True),
    ("weights: 0.2K", False),                  # approximate: not checked
    ("weights: (3*3*3)*8", False),             # no figure, only the arithmetic
    ("memory: 8*8*8=512  weights: 216", False),
    ("memory: 8*8*8=0.5K weights: 2", True),
])
def test_weights_annotations(annotation, warned):
    text = f"INPUT: [8x8x3]\nCONV3-8: [8x8x8]  {annotation}\n"
    assert [d.code for d in _analyze(text).diagnostics if d.code != "D202"] == []
    assert [d.code for d in _weights_warnings(text)] == (["D202"] if warned else [])


@pytest.mark.parametrize(("figure", "at"), [("1,72", 10), ("lots", 10), ("1 = x", 14), ("", 1)])
def test_unreadable_weights_figure(figure, at):
    text = f"INPUT: [8x8x3]\nCONV3-8  weights: {figure}\n"
    assert check(text) == [(2, text.splitlines()[1].index("weights:") + at, "P001")]


def test_layers_not_computed_are_not_checked():
    text = "INPUT: [8x8x3]\nfoo\nCONV3-8 weights: 5\n"
    assert _weights_warnings(text) == []


# --- layers ----------------------------------------------------------------------------------

# line (after INPUT: [8x8x16]), kind, kernel, stride, padding, output, params
LAYERS = [
    ("conv3-64", "conv", (3, 3), (1, 1), "1", (8, 8, 64), 3 * 3 * 16 * 64 + 64),
    ("conv1-256", "conv", (1, 1), (1, 1), "0", (8, 8, 256), 16 * 256 + 256),
    ("conv5-4", "conv", (5, 5), (1, 1), "2", (8, 8, 4), 5 * 5 * 16 * 4 + 4),
    ("conv3x1-4", "conv", (3, 1), (1, 1), "1x0", (8, 8, 4), 3 * 16 * 4 + 4),
    ("conv2-4", "conv", (2, 2), (1, 1), "same", (8, 8, 4), 2 * 2 * 16 * 4 + 4),
    ("POOL2", "maxpool", (2, 2), (2, 2), "0", (4, 4, 16), 0),
    ("maxpool", "maxpool", (2, 2), (2, 2), "0", (4, 4, 16), 0),
    ("avgpool4", "avgpool", (4, 4), (4, 4), "0", (2, 2, 16), 0),
    ("FC-10", "fc", None, None, None, (10,), 8 * 8 * 16 * 10 + 10),
    ("FC: [1x1x10]", "fc", None, None, None, (10,), 8 * 8 * 16 * 10 + 10),
    ("FC: [10]", "fc", None, None, None, (10,), 8 * 8 * 16 * 10 + 10),
    ("LRN", "lrn", None, None, None, (8, 8, 16), 0),
    ("soft-max", "softmax", None, None, None, (8, 8, 16), 0),
    # found by the fuzzer: `soft-max1` read as an activation named soft-max1, which the
    # canonical text could not read back
    ("soft-max1", "softmax", None, None, None, (8, 8, 16), 0),
    ("SOFTMAX2", "softmax", None, None, None, (8, 8, 16), 0),
    ("relu", "relu", None, None, None, (8, 8, 16), 0),
]


@pytest.mark.parametrize(("line", "kind", "kernel", "stride", "pad", "out", "params"), LAYERS)
def test_layer(line, kind, kernel, stride, pad, out, params):
    a = _analyze(f"# cnncalc: input 8x8x16\n{line}\n")
    assert a.diagnostics == ()
    (r,) = a.layers
    assert (r.layer.kind, r.output_shape, r.params) == (kind, out, params)
    if kernel is not None:
        assert (r.layer.kernel, r.layer.stride, r.layer.padding.describe()) == (
            kernel, stride, pad)


@pytest.mark.parametrize("spelling", ["CONV3-64", "conv3-64", "Conv3-64", "cOnV3-64"])
def test_case_insensitive(spelling):
    spec = parse_vgg(f"INPUT: [8x8x3]\n{spelling}\nMAXPOOL\nMaxPool\nfc-10\nSOFT-MAX\n", "t")
    assert [layer.kind for layer in spec.layers] == [
        "conv", "maxpool", "maxpool", "fc", "softmax"]
    assert spec.layers[0].name == spelling


def test_fields_point_at_kernel_filters_and_units():
    spec = parse_vgg("INPUT: [8x8x3]\n  CONV3x3-64: [8x8x64]\nFC-4096\nFC: [1x1x10]\n", "t")
    conv, fc, bare = spec.layers
    assert (conv.span_of("kernel").col, conv.span_of("kernel").end_col) == (7, 10)
    assert (conv.span_of("filters").col, conv.span_of("filters").end_col) == (11, 13)
    assert (conv.declared_span.col, conv.declared_span.end_col) == (15, 23)
    assert (fc.span_of("units").col, fc.span_of("units").end_col) == (4, 8)
    assert (bare.span_of("units").col, bare.span_of("units").end_col) == (5, 13)


def test_geometry_errors_point_into_the_word():
    assert check("INPUT: [8x8x3]\nPOOL3\n") == [(2, 5, "G101")]
    assert check("INPUT: [8x8x3]\nconv3-0\n") == [(2, 7, "G106")]


def test_declared_shape_is_checked():
    assert check("INPUT: [8x8x3]\nCONV3-8: [6x6x8]\n") == [(2, 10, "D201")]
    assert check("INPUT: [8x8x3]\n[8x8x9] conv3-8\n") == [(2, 1, "D201")]


# --- input -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "shape"), [
    ("INPUT: [224x224x3]", (224, 224, 3)),
    ("[224x224x3] INPUT", (224, 224, 3)),
    ("input (224 x 224 RGB image)", (224, 224, 3)),
    ("Input (32 x 32 grayscale image)", (32, 32, 1)),
    ("input (64x48x5)", (64, 48, 5)),
    ("# cnncalc: input 16x16x2", (16, 16, 2)),
])
def test_input(line, shape):
    spec = parse_text(f"{line}\nconv3-8\n", "t")
    assert spec.diagnostics == ()
    assert spec.input == shape


def test_input_errors():
    assert check("input (some image)\nconv3-8\n") == [(1, 7, "P001")]
    assert check("conv3-8\n") == [(1, 1, "P004")]
    assert check("conv3-8\nINPUT: [8x8x3]\n") == [(2, 1, "P007")]
    assert check("INPUT: [8x8x3]\nINPUT: [8x8x3]\nconv3-8\n") == [(2, 1, "P005")]


# --- errors and what is skipped --------------------------------------------------------------

def test_bare_fc_without_a_size():
    a = _analyze("INPUT: [8x8x3]\nFC\nFC-10\n")
    d = diag(a, "P001")
    assert (d.span.line, d.span.col) == (2, 1)
    assert "FC-4096" in d.hint and "[1x1x4096]" in d.hint
    assert [r.status for r in a.layers] == ["error", "not-computed"]
    assert a.totals is None
    assert check("INPUT: [8x8x3]\nFC: [2x2x10]\n") == [(2, 5, "P001")]


@pytest.mark.parametrize(("word", "hint"), [
    ("CNOV3-64", "did you mean `CONV3-64`?"),
    ("sofmax", "did you mean `softmax`?"),
    ("MAXPOLL", "did you mean `MAXPOOL`?"),
])
def test_unknown_word(word, hint):
    d = diag(_analyze(f"INPUT: [8x8x3]\n  {word}\n"), "P002")
    assert (d.span.line, d.span.col, d.span.end_col) == (2, 3, 3 + len(word))
    assert d.hint == hint


@pytest.mark.parametrize(("line", "col"), [
    ("conv3", 1), ("conv3-", 1), ("fc6", 1), ("conv3-8 extra", 9), ("conv3-8 @", 9),
    ("conv3-8: [8x8x8] [8x8x8]", 18),
])
def test_malformed(line, col):
    assert check(f"INPUT: [8x8x3]\n{line}\n") == [(2, col, "P001")]


def test_headings_comments_totals_are_skipped():
    text = ("VGGNet in detail:\n\n# a comment\nINPUT: [8x8x3]  # the input\n"
            "Let's break it down:\nCONV3-8: [8x8x8] memory: 8*8*8=0.5K weights: 216\n"
            "TOTAL memory: 24M * 4 bytes ~= 93MB / image (only forward! ~*2 for bwd)\n"
            "TOTAL params: 138M parameters\n")
    a = analyze_text(text)
    assert a.diagnostics == ()
    assert [r.layer.name for r in a.layers] == ["CONV3-8"]


# --- detection -------------------------------------------------------------------------------

def test_detection():
    assert detect(CS231N) == "vgg"
    assert detect(PAPER_D) == "vgg"
    assert detect("INPUT: [224x224x3]\nCONV3-64: [224x224x64]\n") == "vgg"
    for name in ("alexnet.txt", "alexnet224.txt", "lenet5.txt", "vgg16.txt"):
        assert detect((SPECS / name).read_text(encoding="utf-8")) == "lecture", name


@given(st.text(alphabet="convpolfcinut-:[]x0123456789 ()#=,*.MKRGB\n", max_size=200))
def test_never_crashes(text):
    analyze(parse_vgg(text, "t"))
