"""The lecture notation's front end, checked through the analysis: what each line means, and
every problem as (line, col, code)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from helpers import ROOT, SPECS, analyze_text, check, diag, layer, spec_text

# The "Case Study: AlexNet" block exactly as the seed lecture has it: a heading with trailing
# spaces, blank lines between layers, a whitespace-only line, and a remark `(class scores)`.
SEED_BLOCK = (
    "Full (simplified) AlexNet architecture:  \n"
    "[227x227x3] INPUT\n"
    "\n"
    "[55x55x96] CONV1: 96 11x11 filters at stride 4, pad 0\n"
    "\n"
    "[27x27x96] MAX POOL1: 3x3 filters at stride 2\n"
    "\n"
    "[27x27x96] NORM1: Normalization layer\n"
    "\n"
    "[27x27x256] CONV2: 256 5x5 filters at stride 1, pad 2\n"
    "\n"
    "[13x13x256] MAX POOL2: 3x3 filters at stride 2\n"
    "\n"
    "[13x13x256] NORM2: Normalization layer\n"
    "\n"
    "[13x13x384] CONV3: 384 3x3 filters at stride 1, pad 1\n"
    "\n"
    "[13x13x384] CONV4: 384 3x3 filters at stride 1, pad 1\n"
    "\n"
    " \n"
    "[13x13x256] CONV5: 256 3x3 filters at stride 1, pad 1\n"
    "\n"
    "[6x6x256] MAX POOL3: 3x3 filters at stride 2\n"
    "\n"
    "[4096] FC6: 4096 neurons\n"
    "\n"
    "[4096] FC7: 4096 neurons\n"
    "\n"
    "[1000] FC8: 1000 neurons (class scores)\n"
)
SEED = ROOT.parent / "shared" / "seed" / "000_343c499b96265e7f.txt"


def test_seed_block():
    a = analyze_text(SEED_BLOCK)
    assert a.diagnostics == ()
    assert a.input == (227, 227, 3)
    assert [r.layer.name for r in a.layers] == [
        "CONV1", "MAX POOL1", "NORM1", "CONV2", "MAX POOL2", "NORM2", "CONV3", "CONV4",
        "CONV5", "MAX POOL3", "FC6", "FC7", "FC8"]
    assert [r.layer.kind for r in a.layers] == [
        "conv", "maxpool", "lrn", "conv", "maxpool", "lrn", "conv", "conv", "conv", "maxpool",
        "fc", "fc", "fc"]
    assert a.totals is not None and a.totals.params == 62_378_344


def test_seed_block_is_the_shipped_spec():
    assert (SPECS / "alexnet.txt").read_text(encoding="utf-8").rstrip("\n") == \
        SEED_BLOCK.rstrip("\n")


@pytest.mark.skipif(not SEED.exists(), reason="the seed lecture is not checked out here")
def test_seed_block_is_verbatim_from_the_lecture():
    assert SEED_BLOCK in SEED.read_text(encoding="utf-8")


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_line_endings(ending):
    a = analyze_text(SEED_BLOCK.replace("\n", ending))
    assert a.ok and a.totals is not None and a.totals.params == 62_378_344


def test_no_trailing_newline():
    a = analyze_text(SEED_BLOCK.rstrip("\n"))
    assert a.ok and a.layers[-1].output_shape == (1000,)


# --- keywords, names, defaults -----------------------------------------------------------------

@pytest.mark.parametrize("source", [
    "[8x8x3] input\nconv1: 2 3x3 filters at stride 1, pad 1\nmax pool1: 2x2 filters at stride 2\n"
    "norm1: normalization layer\nfc6: 10 neurons",
    "[8x8x3] INPUT\nCONV1: 2 3X3 FILTERS AT STRIDE 1, PAD 1\nMAX POOL1: 2X2 FILTERS AT STRIDE 2\n"
    "NORM1: NORMALIZATION LAYER\nFC6: 10 NEURONS",
    "[8x8x3] Input\nConv1: 2 3x3 Filters At Stride 1, Pad 1\nMax Pool1: 2x2 Filters At Stride 2\n"
    "Norm1: Normalization Layer\nFc6: 10 Neurons",
])
def test_keywords_are_case_insensitive(source):
    a = analyze_text(source)
    assert a.ok, a.diagnostics
    assert [r.layer.kind for r in a.layers] == ["conv", "maxpool", "lrn", "fc"]
    assert [r.output_shape for r in a.layers] == [(8, 8, 2), (4, 4, 2), (4, 4, 2), (10,)]


@pytest.mark.parametrize(("line", "name", "kind"), [
    ("CONV1: 2 3x3 filters", "CONV1", "conv"),
    ("conv_a: 2 3x3 filters", "conv_a", "conv"),
    ("CONV1_2: 2 3x3 filters", "CONV1_2", "conv"),
    ("Convolution7: 2 3x3 filters", "Convolution7", "conv"),
    ("MAX POOL1: 2x2 filters", "MAX POOL1", "maxpool"),
    ("max pool: 2x2", "max pool", "maxpool"),
    ("AVG POOL1: 2x2 filters", "AVG POOL1", "avgpool"),
    ("Average Pool: 2x2 filters", "Average Pool", "avgpool"),
    ("NORM1: Normalization layer", "NORM1", "lrn"),
    ("LRN2", "LRN2", "lrn"),
    ("FC6: 4096 neurons", "FC6", "fc"),
    ("Dense1: 10 units", "Dense1", "fc"),
    ("RELU", "RELU", "relu"),
    ("ReLU3", "ReLU3", "relu"),
    ("TANH1", "TANH1", "tanh"),
    ("SIGMOID", "SIGMOID", "sigmoid"),
    ("SOFTMAX", "SOFTMAX", "softmax"),
    ("DROPOUT 0.5", "DROPOUT", "dropout"),
    ("DROPOUT6: p = 0.5", "DROPOUT6", "dropout"),
    ("FLATTEN", "FLATTEN", "flatten"),
])
def test_layer_words_and_names_kept(line, name, kind):
    a = analyze_text(spec_text("8x8x3", line))
    assert a.diagnostics == (), a.diagnostics
    (r,) = a.layers
    assert r.layer.name == name
    assert r.layer.kind == kind


# Regression: these lines once made parse.detect() choose the VGG notation (every line P001).
@pytest.mark.parametrize("line", ["POOL3: 2x2 filters at stride 2", "MAXPOOL2: 2x2 filters",
                                  "pool1: 2x2"])
def test_pool_word_alone_is_lecture_max_pooling(line):
    a = analyze_text(spec_text("8x8x3", "CONV1: 2 3x3 filters at stride 1, pad 1", line))
    assert a.spec.notation == "lecture"
    assert a.diagnostics == ()
    assert [r.layer.kind for r in a.layers] == ["conv", "maxpool"]
    assert a.layers[1].output_shape == (4, 4, 2)


@pytest.mark.parametrize(("line", "out", "weights", "macs"), [
    # conv defaults: stride 1, pad 0: (8 - 3)/1 + 1 = 6
    ("CONV1: 2 3x3 filters", (6, 6, 2), 54, 6 * 6 * 2 * 27),
    ("CONV1: 2 3x3", (6, 6, 2), 54, 6 * 6 * 2 * 27),
    ("CONV1: 2 3 filters", (6, 6, 2), 54, 6 * 6 * 2 * 27),       # F alone means FxF
    ("CONV1: 2 3x3 filters at stride 1, pad 0", (6, 6, 2), 54, 6 * 6 * 2 * 27),
    ("CONV1: 2 3x3 filters, pad 1", (8, 8, 2), 54, 8 * 8 * 2 * 27),
    ("CONV1: 2 3x3 filters stride=1 pad=1", (8, 8, 2), 54, 8 * 8 * 2 * 27),
    ("CONV1: 2 3x3 filters with pad 1 and stride 1", (8, 8, 2), 54, 8 * 8 * 2 * 27),
    ("CONV1: 2 2x2 filters at stride 2", (4, 4, 2), 24, 4 * 4 * 2 * 12),
    # pooling default stride: the window
    ("MAX POOL1: 2x2 filters", (4, 4, 3), 0, 0),
    ("MAX POOL1: 4x4 filters", (2, 2, 3), 0, 0),
    ("MAX POOL1: 8x8 filters", (1, 1, 3), 0, 0),
    ("MAX POOL1: 3x3 filters at stride 1", (6, 6, 3), 0, 0),
    ("AVG POOL1: 2x4 filters", (4, 2, 3), 0, 0),                  # stride 2x4
    ("MAX POOL1: 2x2 filters at stride 2, pad 1", (5, 5, 3), 0, 0),  # (8 - 2 + 2)/2 + 1 = 5
])
def test_defaults(line, out, weights, macs):
    a = analyze_text(spec_text("8x8x3", line))
    r = a.layers[0]
    assert a.ok, a.diagnostics
    assert r.output_shape == out
    assert r.weights == weights
    assert r.macs == macs


def test_pool_default_stride_is_recorded():
    a = analyze_text(spec_text("8x8x3", "MAX POOL1: 2x4 filters"))
    r = a.layers[0]
    assert r.layer.stride == (2, 4)
    assert r.layer.padding.h == (0, 0) and r.layer.padding.w == (0, 0)


def test_conv_defaults_are_recorded():
    r = analyze_text(spec_text("8x8x3", "CONV1: 2 3x3 filters")).layers[0]
    assert r.layer.stride == (1, 1)
    assert r.padding == ((0, 0), (0, 0))


# --- non-square filters, strides and pads ---------------------------------------------------

@pytest.mark.parametrize(("shape", "line", "out", "weights", "macs"), [
    # H: (7 - 3 + 2*1)/2 + 1 = 4;  W: (9 - 5 + 2*2)/1 + 1 = 9
    ("7x9x3", "CONV1: 4 3x5 filters at stride 2x1, pad 1x2", (4, 9, 4), 3 * 5 * 3 * 4,
     4 * 9 * 4 * (3 * 5 * 3)),
    # H: (10 - 3)/1 + 1 = 8;  W: (12 - 5)/1 + 1 = 8
    ("10x12x2", "CONV1: 6 3x5 filters", (8, 8, 6), 3 * 5 * 2 * 6, 8 * 8 * 6 * 30),
    # H: (9 - 3)/2 + 1 = 4;  W: (9 - 3)/1 + 1 = 7
    ("9x9x1", "CONV1: 1 3x3 filters at stride 2x1", (4, 7, 1), 9, 4 * 7 * 9),
    # H: (5 - 3 + 2*0)/1 + 1 = 3;  W: (5 - 3 + 2*1)/1 + 1 = 5
    ("5x5x2", "CONV1: 3 3x3 filters at stride 1, pad 0x1", (3, 5, 3), 54, 3 * 5 * 3 * 18),
    # a 1x7 then 7x1 pair: H kept, W kept, with pad 0x3 / 3x0
    ("17x17x8", "CONV1: 8 1x7 filters, pad 0x3", (17, 17, 8), 1 * 7 * 8 * 8,
     17 * 17 * 8 * 56),
    # pooling 2x1 windows, default stride 2x1: H (8 - 2)/2 + 1 = 4, W (6 - 1)/1 + 1 = 6
    ("8x6x5", "MAX POOL1: 2x1 filters", (4, 6, 5), 0, 0),
])
def test_non_square(shape, line, out, weights, macs):
    a = analyze_text(spec_text(shape, line))
    assert a.ok, a.diagnostics
    r = a.layers[0]
    assert r.output_shape == out
    assert r.weights == weights
    assert r.macs == macs


def test_non_square_fit_failure_names_the_axis():
    # W: (9 - 3)/2 + 1 = 4 fits, H: (8 - 3)/2 + 1 = 3.5 does not
    a = analyze_text(spec_text("8x9x3", "CONV1: 2 3x3 filters at stride 2"))
    d = diag(a, "G101")
    assert "(8 - 3)/2 + 1 = 3.5" in d.message
    assert "8-high" in d.message


# --- pad ? ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("shape", "line", "pad", "out", "arith"), [
    ("32x32x3", "CONV1: 6 5x5 filters at stride 1, pad ?", 0, (28, 28, 6),
     "(32 - 5 + 2*0)/1 + 1 = 28"),
    ("7x7x3", "CONV1: 2 3x3 filters at stride 3, pad ?", 1, (3, 3, 2),
     "(7 - 3 + 2*1)/3 + 1 = 3"),
    # the lecture's F = 5, S = 2, P = ? (whatever fits): on 31, P = 0, (31 - 5)/2 + 1 = 14
    # (on 32, 27 + 2P is odd for every P: see the no-solution cases below)
    ("31x31x3", "CONV1: 4 5x5 filters at stride 2, pad ?", 0, (14, 14, 4),
     "(31 - 5 + 2*0)/2 + 1 = 14"),
    # a filter wider than the input needs padding: 3 + 2P >= 5 -> P = 1, (3 - 5 + 2)/1 + 1 = 1
    ("3x3x1", "CONV1: 1 5x5 filters at stride 1, pad ?", 1, (1, 1, 1),
     "(3 - 5 + 2*1)/1 + 1 = 1"),
    # stride 4 on 10 with F 4: (10 - 4 + 2P) % 4 == 0 -> P = 1, (10 - 4 + 2)/4 + 1 = 3
    ("10x10x1", "CONV1: 1 4x4 filters at stride 4, pad ?", 1, (3, 3, 1),
     "(10 - 4 + 2*1)/4 + 1 = 3"),
    ("7x7x3", "MAX POOL1: 3x3 filters at stride 2, pad ?", 0, (3, 3, 3),
     "(7 - 3 + 2*0)/2 + 1 = 3"),
])
def test_pad_question_mark_solved(shape, line, pad, out, arith):
    a = analyze_text(spec_text(shape, line))
    assert a.ok, a.diagnostics
    r = a.layers[0]
    assert r.output_shape == out
    assert r.padding == ((pad, pad), (pad, pad))
    d = diag(a, "I301")
    assert d.severity.value == "info"
    assert f"pad ? solved as pad {pad}" in d.message
    assert arith in d.message
    (col,) = [i + 1 for i, ch in enumerate(line) if ch == "?"]
    assert (d.span.line, d.span.col) == (2, col)


@pytest.mark.parametrize(("shape", "line"), [
    ("8x8x3", "CONV1: 2 3x3 filters at stride 2, pad ?"),     # 5 + 2P is always odd
    ("32x32x3", "CONV1: 2 5x5 filters at stride 2, pad ?"),   # 27 + 2P is always odd
    ("9x9x3", "MAX POOL1: 2x2 filters at stride 2, pad ?"),   # 7 + 2P is always odd
    ("6x9x3", "CONV1: 2 3x3 filters at stride 2x2, pad ?"),   # W fits (P = 0), H never
])
def test_pad_question_mark_without_solution(shape, line):
    a = analyze_text(spec_text(shape, line))
    assert not a.ok
    d = diag(a, "G103")
    assert "no padding makes" in d.message
    assert a.layers[0].status == "error"
    assert a.totals is None


# --- comments, blank lines, headings, remarks -----------------------------------------------

def test_comments_and_headings():
    source = (
        "# a whole-line comment\n"
        "   # an indented comment\n"
        "My network:\n"
        "[8x8x3] INPUT   # the input\n"
        "\t\n"
        "CONV1: 4 3x3 filters at stride 1, pad 1  # keeps 8x8\n"
        "[4x4x4] MAX POOL1: 2x2 filters (halves it) # and a comment\n"
    )
    a = analyze_text(source)
    assert a.diagnostics == ()
    assert [(r.layer.name, r.layer.span.line) for r in a.layers] == [("CONV1", 6),
                                                                       ("MAX POOL1", 7)]
    assert a.layers[-1].output_shape == (4, 4, 4)


def test_activation_dropout_softmax_flatten_lines():
    source = spec_text(
        "8x8x3",
        "CONV1: 4 3x3 filters at stride 1, pad 1",
        "RELU1",
        "[4x4x4] MAX POOL1: 2x2 filters",
        "DROPOUT 0.5",
        "[64] FLATTEN",
        "[10] FC1: 10 neurons",
        "TANH",
        "SIGMOID",
        "SOFTMAX (class probabilities)",
    )
    a = analyze_text(source)
    assert a.diagnostics == ()
    got = [(r.layer.kind, r.output_shape, r.params, r.macs) for r in a.layers]
    assert got == [
        ("conv", (8, 8, 4), 3 * 3 * 3 * 4 + 4, 8 * 8 * 4 * 27),
        ("relu", (8, 8, 4), 0, 0),
        ("maxpool", (4, 4, 4), 0, 0),
        ("dropout", (4, 4, 4), 0, 0),
        ("flatten", (64,), 0, 0),
        ("fc", (10,), 64 * 10 + 10, 640),
        ("tanh", (10,), 0, 0),
        ("sigmoid", (10,), 0, 0),
        ("softmax", (10,), 0, 0),
    ]
    assert a.layers[3].layer.p == 0.5


@pytest.mark.parametrize(("line", "p"), [
    ("DROPOUT 0.5", Fraction(1, 2)), ("DROPOUT: 0.25", Fraction(1, 4)),
    ("DROPOUT1: p=0.1", Fraction(1, 10)), ("DROPOUT rate 0", Fraction(0)),
    ("DROPOUT 0.99999999999999999", Fraction(99999999999999999, 10**17))])
def test_dropout_rates(line, p):
    """Rates are exact: 0.1 is a tenth, and 0.99999999999999999 (1.0 as a float) is below 1."""
    a = analyze_text(spec_text("4x4x1", line))
    assert a.ok, a.diagnostics
    assert a.layers[0].layer.p == p


@pytest.mark.parametrize("line", ["DROPOUT 1.5", "DROPOUT 1", "DROPOUT 1.0"])
def test_dropout_rate_outside_range(line):
    assert check(spec_text("4x4x1", line)) == [(2, 9, "G106")]


# --- problems, with their line and column ---------------------------------------------------

@pytest.mark.parametrize(("source", "expected"), [
    # unknown layer word: P002 at the word
    ("[8x8x3] INPUT\nCNV1: 2 3x3 filters\n", [(2, 1, "P002")]),
    ("[8x8x3] INPUT\n[6x6x2] CNV1: 2 3x3 filters\n", [(2, 9, "P002")]),
    ("[8x8x3] INPUT\n   BLAH: 2 3x3 filters\n", [(2, 4, "P002")]),
    ("[8x8x3] INPUT\nCONV1: 2 3x3 filters\nSome text here\n", [(3, 1, "P002")]),
    # not a layer at all: P001
    ("[8x8x3] INPUT\n[6x6x2] 2 3x3 filters\n", [(2, 9, "P001")]),
    ("[8x8x3] INPUT\nCONV1: 2 3x3 filters at strid 2\n", [(2, 25, "P001")]),
    ("[8x8x3] INPUT\nCONV1: 2 3x3 filters (ok) extra\n", [(2, 27, "P001")]),
    ("[8x8x3] INPUT\nCONV1: 2 3x3 filters at stride 1 pad 1 stride 2\n", [(2, 40, "P001")]),
    ("[8x8x3] INPUT\nCONV1: 3x3 filters\n", [(2, 8, "P001")]),             # no filter count
    ("[8x8x3] INPUT\nCONV1: 2 3x3 filters at stride 1.5\n", [(2, 32, "P001")]),
    ("[8x8x3] INPUT\nFC1: neurons\n", [(2, 6, "P001")]),
    ("[8x8x3] INPUT\nCONV1: 2 3x3 filters $\n", [(2, 22, "P001")]),
    ("[8x8x3] INPUT\nCONV1: 2 3x3 filters (unclosed\n", [(2, 22, "P001")]),
    # malformed brackets: P003
    ("[227x227] INPUT\nCONV1: 2 3x3 filters\n", [(1, 1, "P003")]),
    ("[8x8x3] INPUT\n[6x6] CONV1: 2 3x3 filters\n", [(2, 1, "P003")]),
    ("[8x8x3] INPUT\n[6x6x2 CONV1: 2 3x3 filters\n", [(2, 1, "P003")]),
    ("[8x8x3] INPUT\n[abc] CONV1: 2 3x3 filters\n", [(2, 1, "P003")]),
    ("[8x8x3] INPUT\n[1x2x3x4] CONV1: 2 3x3 filters\n", [(2, 1, "P003")]),
    # input problems
    ("CONV1: 2 3x3 filters\n", [(1, 1, "P004")]),
    ("# comment\n\nCONV1: 2 3x3 filters\n", [(3, 1, "P004")]),
    ("INPUT\nCONV1: 2 3x3 filters\n", [(1, 1, "P004")]),
    ("[8x8x3] INPUT\n[8x8x3] INPUT\nCONV1: 2 3x3 filters\n", [(2, 9, "P005")]),
    ("CONV1: 2 3x3 filters\n[8x8x3] INPUT\n", [(2, 9, "P007")]),
    ("[0x8x3] INPUT\nCONV1: 2 3x3 filters\n", [(1, 1, "G106")]),
    ("[8x8x3] INPUT\n", [(1, 1, "G105")]),
    # geometry
    ("[8x8x3] INPUT\nCONV1: 2 3x3 filters at stride 0\n", [(2, 32, "G106")]),
    ("[8x8x3] INPUT\nMAX POOL1: 2x2 filters at stride 0\n", [(2, 34, "G106")]),
    ("[8x8x3] INPUT\nCONV1: 0 3x3 filters\n", [(2, 8, "G106")]),
    ("[8x8x3] INPUT\nCONV1: 2 0x3 filters\n", [(2, 10, "G106")]),
    ("[8x8x3] INPUT\nFC1: 0 neurons\n", [(2, 6, "G106")]),
    ("[8x8x3] INPUT\nCONV1: 2 9x9 filters\n", [(2, 10, "G102")]),
    ("[8x8x3] INPUT\nMAX POOL1: 9x9 filters\n", [(2, 12, "G102")]),
    ("[8x8x3] INPUT\nCONV1: 2 3x3 filters at stride 2\n", [(2, 10, "G101")]),
    ("[8x8x3] INPUT\nFC1: 10 neurons\nCONV1: 2 3x3 filters\n", [(3, 1, "G104")]),
    ("[8x8x3] INPUT\nFLATTEN\nMAX POOL1: 2x2 filters\n", [(3, 1, "G104")]),
    ("[4096] INPUT\nCONV1: 2 3x3 filters\n", [(2, 1, "G104")]),
    ("[8x8x3] INPUT\n[7x7x2] CONV1: 2 3x3 filters\n", [(2, 1, "D201")]),
    ("[8x8x3] INPUT\nCONV1: 2 3x3 filters\n  [10] FC1: 5 neurons\n", [(3, 3, "D201")]),
])
def test_check(source, expected):
    assert check(source) == expected


def test_unknown_layer_suggests_conv():
    a = analyze_text("[8x8x3] INPUT\nCNV1: 96 11x11 filters at stride 4, pad 0\n")
    d = diag(a, "P002")
    assert "`CNV1`" in d.message
    assert "did you mean `CONV`?" in d.hint
    assert (d.span.col, d.span.end_col) == (1, 5)


@pytest.mark.parametrize(("word", "suggestion"), [("FCC6", "FC"), ("RELLU", "RELU"),
                                                  ("DROPOT", "DROPOUT"), ("SOFTMX", "SOFTMAX"),
                                                  ("FLATEN", "FLATTEN")])
def test_unknown_layer_suggestions(word, suggestion):
    d = diag(analyze_text(f"[8x8x3] INPUT\n{word}\n"), "P002")
    assert f"did you mean `{suggestion}`?" in d.hint


def test_unknown_option_suggests_stride():
    d = diag(analyze_text("[8x8x3] INPUT\nCONV1: 2 3x3 filters at strid 2\n"), "P001")
    assert "`strid`" in d.message
    assert "did you mean `stride`?" in d.hint


def test_bad_shape_message():
    d = diag(analyze_text("[227x227] INPUT\nCONV1: 2 3x3 filters\n"), "P003")
    assert "`[227x227]`" in d.message
    assert (d.span.col, d.span.end_col) == (1, 10)


def test_zero_stride():
    a = analyze_text(spec_text("8x8x3", "CONV1: 2 3x3 filters at stride 0", "CONV2: 2 1x1"))
    d = diag(a, "G106")
    assert "stride 0" in d.message
    assert [r.status for r in a.layers] == ["error", "not-computed"]


def test_filter_larger_than_input():
    a = analyze_text(spec_text("8x8x3", "CONV1: 2 9x9 filters"))
    d = diag(a, "G102")
    assert "larger than" in d.message
    assert "(8 - 9)/1 + 1 = 0" in d.message
    # with enough padding it is fine: (8 - 9 + 2)/1 + 1 = 2
    b = analyze_text(spec_text("8x8x3", "CONV1: 2 9x9 filters, pad 1"))
    assert b.ok and b.layers[0].output_shape == (2, 2, 2)


def test_declared_shape_mismatch_shows_both():
    a = analyze_text(spec_text("227x227x3", "[54x54x96] CONV1: 96 11x11 filters at stride 4"))
    d = diag(a, "D201")
    assert "[54x54x96]" in d.message
    assert "[55x55x96]" in d.message
    assert "[55x55x96]" in d.hint
    assert (d.span.line, d.span.col, d.span.end_col) == (2, 1, 11)  # the whole `[54x54x96]`


def test_nothing_is_computed_after_a_d201():
    a = analyze_text(spec_text(
        "8x8x3",
        "[7x7x2] CONV1: 2 3x3 filters",
        "CONV2: 2 3x3 filters",
        "[2x2x2] MAX POOL1: 2x2 filters",
        "FC1: 3 neurons",
    ))
    assert [d.code for d in a.diagnostics] == ["D201"]
    assert [r.status for r in a.layers] == ["error"] + ["not-computed"] * 3
    assert [r.output_shape for r in a.layers] == [None] * 4
    assert a.totals is None
    assert not a.ok


def test_layers_after_an_invalid_one_are_never_guessed():
    a = analyze_text(spec_text(
        "8x8x3",
        "[4x4x2] CONV1: 2 3x3 filters at stride 2, pad 1",   # (8 - 3 + 2)/2 + 1 = 4.5
        "[2x2x2] MAX POOL1: 2x2 filters",
        "[1x1x2] MAX POOL2: 2x2 filters",
        "[3] FC: 3 neurons",
    ))
    assert [d.code for d in a.diagnostics] == ["G101"]  # no D201 for the declared shapes
    assert [r.status for r in a.layers] == ["error", "not-computed", "not-computed",
                                            "not-computed"]
    for r in a.layers:
        assert r.output_shape is None
        assert r.weights is None and r.biases is None and r.macs is None
    assert a.totals is None


def test_layers_after_an_unparsed_line_are_not_computed():
    a = analyze_text(spec_text("8x8x3", "CONV1: 2 3x3 filters", "CNV2: 2 3x3 filters",
                               "FC1: 10 neurons"))
    assert [d.code for d in a.diagnostics] == ["P002"]
    assert [r.status for r in a.layers] == ["ok", "error", "not-computed"]
    assert a.layers[0].output_shape == (6, 6, 2)
    assert a.layers[2].output_shape is None
    assert a.totals is None


def test_every_problem_in_a_file_is_reported():
    source = spec_text("8x8x3", "CNV1: 2 3x3 filters", "CONV2: 2 3x3 filters at strid 2",
                       "[6x6] CONV3: 2 3x3 filters")
    assert check(source) == [(2, 1, "P002"), (3, 25, "P001"), (4, 1, "P003")]


# --- FC layers ------------------------------------------------------------------------------

def test_fc_after_volume_connects_to_whole_volume():
    a = analyze_text(spec_text("6x6x256", "FC6: 4096 neurons"))
    r = a.layers[0]
    assert r.input_shape == (6, 6, 256)
    assert r.output_shape == (4096,)
    assert r.weights == 6 * 6 * 256 * 4096
    assert r.biases == 4096
    assert r.macs == 6 * 6 * 256 * 4096


def test_fc_after_flatten_same_as_after_volume():
    direct = analyze_text(spec_text("5x5x16", "FC1: 120 neurons"))
    flat = analyze_text(spec_text("5x5x16", "FLATTEN", "FC1: 120 neurons"))
    assert direct.layers[0].params == flat.layers[1].params == 400 * 120 + 120
    assert direct.layers[0].field.rf == flat.layers[1].field.rf == (5, 5)


@pytest.mark.parametrize("declared", ["[1x1x4096]", "[4096]"])
def test_fc_declared_as_1x1xn_or_n(declared):
    a = analyze_text(spec_text("6x6x256", f"{declared} FC6: 4096 neurons",
                               f"{declared} FC7: 4096 neurons"))
    assert a.diagnostics == ()
    assert [r.output_shape for r in a.layers] == [(4096,), (4096,)]


def test_conv_declared_as_n_for_1x1xn():
    a = analyze_text(spec_text("5x5x16", "[120] CONV3: 120 5x5 filters"))
    assert a.diagnostics == ()
    assert a.layers[0].output_shape == (1, 1, 120)


def test_fc_declared_wrong_size():
    a = analyze_text(spec_text("6x6x256", "[1x1x4000] FC6: 4096 neurons"))
    d = diag(a, "D201")
    assert "[1x1x4000]" in d.message and "[4096]" in d.message


def test_conv_after_flat_vector():
    a = analyze_text(spec_text("8x8x3", "FC1: 10 neurons", "CONV1: 2 3x3 filters",
                               "FC2: 2 neurons"))
    d = diag(a, "G104")
    assert "[10]" in d.message
    assert [r.status for r in a.layers] == ["ok", "error", "not-computed"]


def test_layer_lookup_helper_fails_on_unknown_names():
    a = analyze_text(spec_text("8x8x3", "CONV1: 2 3x3 filters"))
    with pytest.raises(AssertionError):
        layer(a, "CONV2")
