"""Long lines and repeated problems (issue 11 item 3): the caret display shows a long line
shortened around the span, a front end's repeated problems on one line are reported once, and
the rewritten matchers say what the old ones said, in linear time."""

from __future__ import annotations

import ast
import random
import re

import pytest

from cnncalc.diagnostics import Diagnostic, once_per_line
from cnncalc.parse import parse_text
from cnncalc.parse.cursor import suggest
from cnncalc.parse.keras_layers import Source
from cnncalc.parse.lecture import _input_line
from cnncalc.parse.pycode import Columns, char_col
from cnncalc.parse.pytorch import LONGEST_NAME
from cnncalc.parse.vgg import _APPROX, _DIGIT, _EXPR
from cnncalc.render.report import SHOWN, format_diagnostic
from cnncalc.spec import Span


def caret(line: str, col: int, end_col: int) -> tuple[str, str]:
    """The quoted line and the caret row under it, without the gutters."""
    d = Diagnostic(Span("t.txt", 1, col, end_col), "P001", "m")
    rows = format_diagnostic(d, [line]).splitlines()
    return rows[1][len("    1 | "):], rows[2][len("      | "):]


@pytest.mark.parametrize(("line", "col", "end_col", "shown", "under"), [
    # short lines as they are
    ("CONV1: 8 3x3", 8, 9, "CONV1: 8 3x3", "       ^"),
    ("a\tb\x00c", 4, 5, "a b\\x00c", "   ^^^^"),
    # long: 120 characters around the span, `...` for the rest, the caret under the span
    ("x" * 100 + "HERE" + "y" * 300, 101, 105,
     "..." + "x" * 40 + "HERE" + "y" * 76 + "...", " " * 43 + "^^^^"),
    ("HERE" + "y" * 300, 1, 5, "HERE" + "y" * 116 + "...", "^^^^"),
    ("x" * 300 + "END", 301, 304, "..." + "x" * 117 + "END", " " * 120 + "^^^"),
    # past the end of the line (an `expected ..., found the end of the line`)
    ("x" * 300, 301, 302, "..." + "x" * 120, " " * 123 + "^"),
    # a span longer than what is shown is underlined to the end of what is shown
    ("x" * 50 + "z" * 300, 51, 351, "..." + "x" * 40 + "z" * 80 + "...", " " * 43 + "^" * 80),
    # control characters are escaped in the part shown, and the caret follows them
    ("\x01" * 200 + "HERE" + "y" * 200, 201, 205,
     "..." + "\\x01" * 40 + "HERE" + "y" * 76 + "...", " " * 163 + "^^^^"),
])
def test_the_caret_display_shortens_a_long_line(line: str, col: int, end_col: int, shown: str,
                                                under: str) -> None:
    assert caret(line, col, end_col) == (shown, under)


def test_a_line_as_long_as_shown_is_not_shortened() -> None:
    line = "y" * SHOWN
    assert caret(line, 5, 6) == (line, "    ^")
    assert caret(line + "y", 5, 6)[0].endswith("...")


def d(line: int, code: str, message: str) -> Diagnostic:
    return Diagnostic(Span("t.txt", line, 1, 2), code, message)


def test_repeated_problems_on_a_line_are_reported_once() -> None:
    diags = (d(1, "P001", "a `)` with no `(` to close"), d(1, "P002", "unknown module `a`"),
             d(1, "P001", "a `)` with no `(` to close"), d(1, "P002", "unknown module `b`"),
             d(2, "P001", "a `)` with no `(` to close"), d(1, "P001", "something else"),
             d(1, "P001", "a `)` with no `(` to close"))
    assert [(x.span.line, x.code, x.message) for x in once_per_line(diags)] == [
        (1, "P001", "a `)` with no `(` to close (and 2 more like it on this line)"),
        (1, "P002", "unknown module `a` (and 1 more like it on this line)"),
        (2, "P001", "a `)` with no `(` to close"),
        (1, "P001", "something else")]
    alone = diags[:2]
    assert once_per_line(alone) is alone


@pytest.mark.parametrize(("notation", "text", "message"), [
    ("pytorch", "# cnncalc: input 8x8x3\n" + ")" * 5 + "\n",
     "a `)` with no `(` to close (and 4 more like it on this line)"),
    ("vgg", "INPUT: [8x8x3]\nCONV3-8: weights: weights: weights:\n",
     "`weights:` gives no figure (and 2 more like it on this line)"),
    ("keras", "model = Sequential([1, 2, 3])\n",
     "expected a layer such as `Conv2D(32, (3, 3))`, found `1` (and 2 more like it on this "
     "line)"),
])
def test_each_front_end_reports_a_repeated_problem_once(notation: str, text: str,
                                                        message: str) -> None:
    spec = parse_text(text, "t.txt", notation)
    assert [x.message for x in spec.diagnostics if x.code == "P001"] == [message]


def test_input_line_is_the_old_pattern() -> None:
    old = re.compile(r"^\s*(\[[^\]]*\]*)?\s*input\b", re.IGNORECASE)
    pieces = ["[", "]", " ", "\t", "input", "INPUT", "inputs", "x", "8x8x3", "\x0b", "in", ":"]
    rng = random.Random(5)
    for _ in range(50_000):
        line = "".join(rng.choices(pieces, k=rng.randint(0, 8)))
        assert _input_line(line) == (old.match(line) is not None), line


def test_vgg_figures_are_the_old_patterns() -> None:
    # the old patterns, digits 0-9 only as everywhere (an Arabic-Indic three is no digit)
    approx = re.compile(r"~?\s*(?:[0-9]+\.?[0-9]*|\.[0-9]+)\s*[kmgbt]?b?", re.IGNORECASE)
    expr = re.compile(r"[0-9\s*x().+]*[0-9][0-9\s*x().+]*")
    pieces = ["1", "2", ".", "~", " ", "k", "M", "b", "x", "*", "(", ")", "+", "z", "\u0663"]
    rng = random.Random(6)
    for _ in range(50_000):
        text = "".join(rng.choices(pieces, k=rng.randint(0, 9)))
        assert (approx.fullmatch(text) is None) == (_APPROX.fullmatch(text) is None), text
        assert (expr.fullmatch(text) is None) == (
            _EXPR.fullmatch(text) is None or _DIGIT.search(text) is None), text


def test_columns_are_char_col() -> None:
    rng = random.Random(7)
    alphabet = ["a", " ", "\u00e9", "\u20ac", "\U0001f600", "x", "\t", "\u4e2d"]
    for _ in range(500):
        rows = ["".join(rng.choices(alphabet, k=rng.randint(0, 30))) for _ in range(3)]
        columns = Columns(rows)
        for r, row in enumerate(rows):
            for offset in range(len(row.encode()) + 3):
                assert columns.col(r, offset) == char_col(row, offset)


@pytest.mark.parametrize("code", [
    "model.add(Dense(f(1,\n   2)))\n",
    "x = [caf\u00e9(\u00e9), b.c , \u4e2d\u6587(1),   d[  1  ]]\n",
    "y = (  a  +\n\n   b  ) # c\n",
    "z = " + "w(" * 30 + ")" * 30 + "\n",
])
def test_segments_are_the_source_segments(code: str) -> None:
    """What a message quotes of a node: ast.get_source_segment, its blanks made one space,
    at most 40 characters."""
    source = Source(code, "t.py", {})
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.expr):
            whole = " ".join((ast.get_source_segment(code, node) or "?").split())
            assert source.segment(node) == (whole if len(whole) <= 40 else whole[:37] + "...")


def test_no_suggestion_for_a_long_word() -> None:
    assert suggest("CONV", ["CONV", "FC"]) == "did you mean `CONV`?"
    assert suggest("C" * 65, ["C" * 65]) == ""


def test_pytorch_names_are_bounded() -> None:
    label = "a" * 5000
    text = f"# cnncalc: input 8x8x3\n({label}): Sequential(\n  (0): ReLU()\n  (1): ReLU()\n)\n"
    names = [layer.name for layer in parse_text(text, "t.txt", "pytorch").layers]
    assert names == ["..." + "a" * (LONGEST_NAME - 5) + ".0",
                     "..." + "a" * (LONGEST_NAME - 5) + ".1"]
