"""The lecture parser's fast path (cnncalc/parse/lecture_fast.py) must build exactly the layer
the general tokenizer-and-cursor path builds, for every line it accepts, and accept nothing
the general path rejects. Lines are generated from the notation's vocabulary, near misses
included (wrong case, tabs, `=`, repeated or misplaced options, numbers glued to words,
non-ASCII look-alikes); the generator is seeded, so the test is deterministic."""

from __future__ import annotations

import random

import pytest

from cnncalc.parse.lecture import _parse_tokens, _State, head_words
from cnncalc.parse.lecture_fast import read_common
from cnncalc.parse.lexer import LexError, split_comment

SHAPES = ["", "[55x55x96] ", "[4096] ", "[1x1x120]", "  [7X7x512]\t", "[0x3x3] ", "[12x12] ",
          "[ 4x4x4] ", "[007x7x1] ", "[4x4x4]]", "[5]"]
HEADS = ["CONV1", "conv", "CONV3-64", "CONV1_1", "DWCONV2", "MAX POOL1", "max  pool",
         "AVG POOL2", "avg\tpool", "POOL", "FC6", "fc", "DENSE", "NORM1", "LRN", "BN1", "BN2_dw",
         "BATCHNORM", "RELU1", "RELU6", "relu2_pw", "TANH", "FLATTEN", "DROPOUT", "DECONV1",
         "INPUT", "GLOBAL AVG POOL", "MAX", "CONVT", "Conv layers", "\u017fOFTMAX", "SIGMOID"]
COLONS = [":", "", " :", "::", ":\t"]
PIECES = ["96", "11x11", "3x3", "3X3", "1x2", "2x2x2", "0", "007", "-1", "1.5", "filters",
          "filter", "FILTERS", "kernels", "window", "pooling", "neurons", "units", "at", "AT",
          "and", "with", ",", "stride", "strides", "STRIDE", "pad", "padding", "dilation",
          "dilation_rate", "groups", "multiplier", "in", "ceil", "mode", "no", "bias", "no bias",
          "no\tbias", "same", "valid", "?", "=", "(class scores)", "(a (b) c)", "((x))",
          "Normalization", "layer", "local", "response", "4096", "2", "1", "stride2", "x",
          "3x", "é", "K", "(", "[3]", "scale", "output", "1e3", "2,", "#"]


def _general(body: str) -> object:
    st = _State("f.txt")
    try:
        _parse_tokens(st, body, 7)
    except LexError as exc:
        return exc.diag
    return st.layers[-1] if st.layers else None


def _lines(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        words = rng.choices(PIECES, k=rng.randint(0, 9))
        sep = rng.choice([" ", " ", " ", "  ", "\t", ""])
        out.append(rng.choice(SHAPES) + rng.choice(HEADS) + rng.choice(COLONS) + " "
                   + sep.join(words))
    return out


TYPICAL = [
    "[55x55x96] CONV1: 96 11x11 filters at stride 4, pad 0",
    "[27x27x96] MAX POOL1: 3x3 filters at stride 2",
    "[112x112x32] DWCONV2: 3x3 filters at stride 1, pad same, no bias",
    "[112x112x64] CONV2: 64 1x1 filters, no bias",
    "[27x27x96] NORM1: Normalization layer",
    "[1000] FC8: 1000 neurons (class scores)",
    "BN2_dw", "RELU1", "FLATTEN",
    "CONV: 8 3x3 filters with stride 2x1 and pad ? and dilation 2, groups 2, in 4",
    "AVG POOL: 2x2 window, stride 2, pad 1x0, ceil",
]


@pytest.mark.parametrize("line", TYPICAL)
def test_typical_lines_take_the_fast_path_and_agree(line: str) -> None:
    fast = read_common(line, "f.txt", 7, head_words)
    assert fast is not None
    assert repr(fast) == repr(_general(line))


@pytest.mark.parametrize("seed", range(4))
def test_fast_path_agrees_with_the_general_parser(seed: int) -> None:
    rng = random.Random(seed)
    accepted = 0
    for line in _lines(rng, 6000) + TYPICAL:
        body = split_comment(line).rstrip()
        if not body.strip() or '"' in body:
            continue
        fast = read_common(body, "f.txt", 7, head_words)
        if fast is None:
            continue
        accepted += 1
        assert repr(fast) == repr(_general(body)), line
    assert accepted > 100  # the generator reaches the fast path, not only its fallbacks


def structured_lines(rng: random.Random, n: int) -> list[str]:
    """Lines in the fast path's own grammar: options in a random order, with values of the
    right and the wrong kind (`groups valid`, `stride same`, `ceil 2`)."""
    words = ["stride", "strides", "pad", "padding", "dilation", "dilation_rate", "groups",
             "multiplier", "in", "ceil", "no bias", "no  bias", "output pad"]
    values = ["", " 2", " 1x2", " 2x2", " 0", " 02", " same", " valid", " ?", " 3X1", " -1"]
    heads = ["CONV1: 16 3x3 filters", "DWCONV: 3x3", "MAX POOL: 3x3 window", "AVG POOL2: 2",
             "FC: 10 neurons", "conv 8 5x5 kernels", "DWCONV1_dw: 3 filter", "DENSE: 7 units"]
    out = []
    for _ in range(n):
        chosen = [rng.choice(words) + rng.choice(values) for _ in range(rng.randint(0, 4))]
        seps = [rng.choice([", ", " at ", " and ", " with ", " ", ",", " , at "]) for _ in chosen]
        options = "".join(s + o for s, o in zip(seps, chosen, strict=True))
        out.append(rng.choice(SHAPES) + rng.choice(heads) + options
                   + rng.choice(["", " (remark)", "(x (y))"]))
    return out


def test_structured_lines_agree() -> None:
    accepted = 0
    for line in structured_lines(random.Random(11), 6000):
        fast = read_common(line.rstrip(), "f.txt", 7, head_words)
        if fast is None:
            continue
        accepted += 1
        assert repr(fast) == repr(_general(line.rstrip())), line
    assert accepted > 1000


@pytest.mark.parametrize(("word", "base"), [
    ("CONV1_1", "conv"), ("RELU14_dw", "relu"), ("RELU6", "relu6"), ("relu6x", "relu"),
    ("relu6_1", "relu6"), ("POOLING", "pool"), ("convolution2", "convolution"),
    ("conv2d", "conv"), ("maxpool3", "maxpool"), ("MAXPOOLX", "maxpoolx"), ("DWCONV", "dwconv"),
    ("convt", "convt"), ("convtx", "convtx"), ("xyz_1", "xyz"), ("FC-4096", "fc"),
    ("fc7a", "fc"), ("NORM2", "norm"), ("BN_1", "bn"), ("ĺrn", "ĺrn"), ("", "")])
def test_layer_word_of_a_name(word: str, base: str) -> None:
    """The longest layer word followed by no letter; else the name up to `_`, digits off."""
    from cnncalc.parse.lecture import _base

    assert _base(word) == base
