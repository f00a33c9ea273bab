"""Two things a block's use can say (cnncalc/parse/blocks.py): a nested use passes the outer
block's parameters on (``conv: expand(H, S=S)``), and a use reads a layer other than the one
above it (``branch2 from INPUT: ...``), as an inception module's branches read its input."""

from __future__ import annotations

from helpers import analyze_text, diag, layer

from cnncalc.analyze import analyze
from cnncalc.parse import parse_text
from cnncalc.render.common import layer_record
from cnncalc.render.spec_text import to_spec_text

UNIT = """\
BLOCK unit(K, F=1x1, S=1, P=0):
    conv: K F filters at stride S, pad P
    relu
END
"""


def wiring(source: str) -> list[tuple[str, tuple[str, ...], tuple[int, ...] | None]]:
    """Each layer's name, the names of the layers it reads, and its output volume."""
    a = analyze_text(source)
    assert a.ok, [(d.code, d.message) for d in a.diagnostics]
    names = ["INPUT", *(r.layer.name for r in a.layers)]
    return [(r.layer.name, tuple(names[i] for i in r.inputs), r.output_shape) for r in a.layers]


# --- parameters passed on to a nested use -----------------------------------------------------

def test_a_nested_use_takes_the_outer_blocks_parameters():
    source = "[9x9x4] INPUT\n" + UNIT + """\
BLOCK pair(A, B, S=1):
    conv: unit(A, S=S), unit(B, F=3x3, P=1)
END
first: pair(6, 5, S=2)
second: pair(3, 2)
"""
    assert wiring(source) == [
        ("first.conv.0.conv", ("INPUT",), (5, 5, 6)),   # A = 6 filters at stride S = 2
        ("first.conv.0.relu", ("first.conv.0.conv",), (5, 5, 6)),
        ("first.conv.1.conv", ("first.conv.0.relu",), (5, 5, 5)),  # B = 5, 3x3 pad 1
        ("first.conv.1.relu", ("first.conv.1.conv",), (5, 5, 5)),
        ("second.conv.0.conv", ("first.conv.1.relu",), (5, 5, 3)),  # S's default, 1
        ("second.conv.0.relu", ("second.conv.0.conv",), (5, 5, 3)),
        ("second.conv.1.conv", ("second.conv.0.relu",), (5, 5, 2)),
        ("second.conv.1.relu", ("second.conv.1.conv",), (5, 5, 2)),
    ]
    a = analyze_text(source)
    assert layer(a, "first.conv.1.conv").params == 3 * 3 * 6 * 5 + 5


def test_a_keyword_naming_an_outer_parameter_is_kept():
    """In ``unit(K=K)`` only the value is the outer ``K``; the keyword stays the inner one's."""
    source = "[8x8x4] INPUT\n" + UNIT + """\
BLOCK wrap(K):
    inner: unit(K=K)
END
w: wrap(7)
"""
    assert wiring(source)[0] == ("w.inner.conv", ("INPUT",), (8, 8, 7))


def test_an_error_in_a_passed_argument_points_at_the_block_line():
    """The value passed down is wrong where the inner block uses it: the error is at that
    block's line and column, as for a value passed directly."""
    source = "[8x8x4] INPUT\n" + UNIT + """\
BLOCK wrap(K):
    inner: unit(K)
END
w: wrap(x)
"""
    a = analyze_text(source)
    assert not a.ok
    d = diag(a, "P001")
    assert (d.span.line, d.span.col) == (3, 11)  # unit's `conv: K F filters`: the K
    assert "found `x`" in d.message


# --- a use reading a layer other than the one above ------------------------------------------

INCEPTION = "[8x8x4] INPUT\n" + UNIT + """\
BLOCK branches(A, B):
    left: unit(A)
    right from INPUT: unit(B), unit(B, F=3x3, P=1)
    CONCAT "join" from left, right
END
stem: unit(6)
m: branches(2, 3)
"""


def test_a_use_from_the_blocks_input():
    assert wiring(INCEPTION) == [
        ("stem.conv", ("INPUT",), (8, 8, 6)),
        ("stem.relu", ("stem.conv",), (8, 8, 6)),
        ("m.left.conv", ("stem.relu",), (8, 8, 2)),
        ("m.left.relu", ("m.left.conv",), (8, 8, 2)),
        ("m.right.0.conv", ("stem.relu",), (8, 8, 3)),   # the block's input, not m.left.relu
        ("m.right.0.relu", ("m.right.0.conv",), (8, 8, 3)),
        ("m.right.1.conv", ("m.right.0.relu",), (8, 8, 3)),  # the next instance: the one before
        ("m.right.1.relu", ("m.right.1.conv",), (8, 8, 3)),
        ("m.join", ("m.left.relu", "m.right.1.relu"), (8, 8, 5)),
    ]
    a = analyze_text(INCEPTION)
    assert layer(a, "m.right.0.conv").params == 6 * 3 + 3


def test_top_level_uses_from_a_layer_a_use_and_the_input():
    source = "[8x8x4] INPUT\n" + UNIT + """\
CONV "a.b": 6 1x1 filters
RELU "r"
stem: unit(5)
side from "a.b": unit(2)
again from stem: 2 x unit(3)
raw from INPUT: unit(1)
"""
    got = {name: inputs for name, inputs, _ in wiring(source)}
    assert got["side.conv"] == ("a.b",)
    assert got["again.0.conv"] == ("stem.relu",)       # a use's name: its last layer
    assert got["again.1.conv"] == ("again.0.relu",)
    assert got["raw.conv"] == ("INPUT",)               # the network's input
    assert layer(analyze_text(source), "raw.conv").params == 4 * 1 + 1


def test_a_use_from_a_block_whose_first_layer_reads_input():
    """A first layer that names its input already keeps it; INPUT is the layer `from` names."""
    source = "[8x8x4] INPUT\n" + """\
BLOCK res(K):
    CONV "c" from INPUT: K 1x1 filters
    ADD "sum" from INPUT, c
END
CONV "x": 4 1x1 filters
CONV "y": 4 1x1 filters
r from x: res(4)
"""
    got = {name: inputs for name, inputs, _ in wiring(source)}
    assert got["r.c"] == ("x",)
    assert got["r.sum"] == ("x", "r.c")


def test_an_unknown_from_is_reported_where_it_is_written():
    top = analyze_text("[8x8x4] INPUT\n" + UNIT + "u from nowhere: unit(2)\n")
    d = diag(top, "P016")
    assert (d.span.line, d.span.col, d.span.end_col) == (6, 8, 15)
    assert "nowhere" in d.message
    nested = analyze_text("[8x8x4] INPUT\n" + UNIT + """\
BLOCK b(K):
    branch from missing: unit(K)
END
x: b(30)
""")
    d = diag(nested, "P016")
    assert (d.span.line, d.span.col) == (7, 17)  # in the block's line
    assert not nested.ok and nested.totals is None


def test_a_layer_line_with_from_is_still_a_layer():
    """`CONCAT from a, b (a remark)` has a parenthesis but is not a use."""
    source = "[8x8x4] INPUT\n" + UNIT + """\
CONV "a": 2 1x1 filters
CONV "b" from INPUT: 3 1x1 filters
CONCAT from a, b (as torch.cat([a, b], 1))
"""
    assert wiring(source)[-1] == ("CONCAT", ("a", "b"), (8, 8, 5))


def test_uses_with_from_write_back_as_the_same_graph():
    first = analyze_text(INCEPTION)
    text = to_spec_text(first.spec, first.input)
    assert 'CONV "m.right.0.conv" from "stem.relu": 3 1x1 filters' in text
    again = analyze(parse_text(text, "t.txt"))

    def rows(a):
        return [{k: v for k, v in layer_record(r).items() if k != "line"} for r in a.layers]
    assert rows(again) == rows(first)
    assert again.totals == first.totals
