"""What the messages say: the arithmetic they quote, their grammar, and the options their hints
suggest, including regressions for bugs found in them."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from helpers import analyze_text, check, diag, spec_text

from cnncalc.cli import cli
from cnncalc.shapes import fmt_number


def _quoted_result(message: str) -> str:
    """The number after `= ` in `(W - F + 2P)/S + 1 = X`."""
    m = re.search(r"\)/\d+ \+ 1 = (-?[\d.]+)", message)
    assert m, message
    return m.group(1)


@pytest.mark.parametrize(("w", "f", "s", "shown"), [
    (7, 3, 3, "2.33"), (224, 11, 4, "54.25"), (8, 3, 2, "3.5"), (11, 3, 3, "3.67"),
    (10, 4, 4, "2.5"),
])
def test_g101_quotes_the_fraction(w, f, s, shown):
    d = diag(analyze_text(spec_text(f"{w}x{w}x1", f"CONV1: 1 {f}x{f} filters at stride {s}")),
             "G101")
    assert _quoted_result(d.message) == shown


@pytest.mark.parametrize(("w", "f", "s"), [(211, 11, 201), (1010, 11, 1000), (401, 2, 400)])
def test_g101_never_quotes_a_whole_number(w, f, s):
    a = analyze_text(spec_text(f"{w}x{w}x1", f"CONV1: 1 {f}x{f} filters at stride {s}"))
    d = diag(a, "G101")
    shown = _quoted_result(d.message)
    assert Fraction(shown).denominator != 1, d.message


def test_fmt_number_of_a_near_whole_fraction():
    assert fmt_number(Fraction(399, 200)) != "2"


@pytest.mark.parametrize(("x", "text"), [(Fraction(5), "5"), (Fraction(217, 4), "54.25"),
                                         (Fraction(7, 3), "2.33"), (Fraction(7, 2), "3.5"),
                                         (Fraction(-1), "-1")])
def test_fmt_number(x, text):
    assert fmt_number(x) == text


@pytest.mark.parametrize(("kernel", "article"), [("11x11", "an"), ("8x8", "an"), ("3x3", "a"),
                                                 ("5x5", "a"), ("18x18", "an")])
def test_kernel_article(kernel, article):
    n = int(kernel.split("x")[0])
    d = diag(analyze_text(spec_text(f"{n + 1}x{n + 1}x1",
                                    f"CONV1: 1 {kernel} filters at stride 2")), "G101")
    assert f"{article} {kernel} filter at stride 2" in d.message


@pytest.mark.parametrize(("shape", "line", "code", "phrase"), [
    ("8x8x1", "CONV1: 1 3x3 filters at stride 2", "G101", "an 8-wide input"),
    ("11x11x1", "CONV1: 1 2x2 filters at stride 2", "G101", "an 11-wide input"),
    ("18x18x1", "CONV1: 1 3x3 filters at stride 2", "G101", "an 18-wide input"),
    ("8x8x1", "CONV1: 1 3x3 filters at stride 2, pad ?", "G103", "an 8-wide input"),
])
def test_input_width_article(shape, line, code, phrase):
    d = diag(analyze_text(spec_text(shape, line)), code)
    assert phrase in d.message


def test_input_width_article_a():
    d = diag(analyze_text(spec_text("7x7x1", "CONV1: 1 3x3 filters at stride 3")), "G101")
    assert "does not fit a 7-wide input" in d.message


def test_show_accepts_the_rounding_its_hint_suggests(runner):
    result = runner.invoke(cli, ["show", "--width", "80", "specs/alexnet224.txt"])
    assert "--rounding floor" in result.stderr
    floor = runner.invoke(cli, ["show", "--rounding", "floor", "--format", "json",
                                "specs/alexnet224.txt"])
    assert floor.exit_code != 2, floor.stderr
    assert "G107" in floor.stdout  # CONV1 rounded down: 54.25 -> 54


def test_conv_accepts_the_rounding_its_hint_suggests(runner):
    result = runner.invoke(cli, ["conv", "7", "3", "--stride", "3"])
    assert result.exit_code == 1
    if "--rounding" in result.stdout:
        again = runner.invoke(cli, ["conv", "7", "3", "--stride", "3", "--rounding", "floor"])
        assert again.exit_code != 2, again.stderr


def test_unparsed_line_name_is_not_a_piece_of_a_size():
    a = analyze_text(spec_text("8x8x3", "[6x6x2] 2 3x3 filters"))
    (r,) = a.layers
    assert r.status == "error"
    assert r.layer.name != "x3"


def test_unparsed_line_name_is_its_first_word():
    a = analyze_text(spec_text("8x8x3", "[6x6x2] CNV1: 2 3x3 filters"))
    assert a.layers[0].layer.name == "CNV1"


def test_bad_bracket_line_does_not_push_input_down():
    # the line above the slide's block in the lecture, copied by mistake
    source = "[Krizhevsky et al. 2012]\n[8x8x3] INPUT\nCONV1: 2 3x3 filters\n"
    assert check(source) == [(1, 1, "P003")]


def test_huge_figures_keep_the_table_readable():
    from io import StringIO

    from cnncalc.render.numbers import abbreviate
    from cnncalc.render.table import print_table

    assert len(abbreviate(10**31)) <= 6
    buf = StringIO()
    print_table(analyze_text(spec_text("4x4x1", f"CONV1: {10**30} 3x3 filters")), file=buf,
                width=80, color=False)
    assert "CONV1" in buf.getvalue()
