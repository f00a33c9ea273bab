"""Edges of the line reading shared by the prose notations: comments after quoted names, line
breaks, negative numbers and numbers too long for int()."""

from __future__ import annotations

import pytest
from helpers import SPECS

from cnncalc.analyze import analyze
from cnncalc.parse import parse_text
from cnncalc.parse.lexer import MAX_DIGITS, split_comment, tokenize
from cnncalc.spec import source_lines
from cnncalc.validity import MAX_FIGURE_DIGITS

LONG = "9" * (MAX_DIGITS + 1)


@pytest.mark.parametrize(("line", "code"), [
    ("CONV1: 8 3x3 # a comment", "CONV1: 8 3x3 "),
    ('CONV "a#1": 8 3x3', 'CONV "a#1": 8 3x3'),
    ('CONV "a#1": 8 3x3 # c', 'CONV "a#1": 8 3x3 '),
    ('CONV "a" "b#" # c', 'CONV "a" "b#" '),
    ('CONV "a#1: 8 3x3 # c', 'CONV "a'),  # an unclosed quote: the first `#` starts the comment
    ("# only a comment", ""),
])
def test_split_comment(line: str, code: str) -> None:
    assert split_comment(line) == code


@pytest.mark.parametrize("text", ["", "a", "a\n", "a\nb", "a\r\nb\r\n", "a\rb", "\n", "a\n\n",
                                  "a\n\r\nb"])
def test_source_lines_agree_with_splitlines_on_ordinary_breaks(text: str) -> None:
    assert source_lines(text) == text.splitlines()


@pytest.mark.parametrize("sep", ["\x0c", "\x0b", "\x1c", "\x85", "\u2028", "\u2029"])
def test_source_lines_do_not_break_at_other_separators(sep: str) -> None:
    assert source_lines(f"a{sep}b\nc\n") == [f"a{sep}b", "c"]


def test_negative_numbers_are_tokens() -> None:
    kinds = [(t.kind, t.text) for t in tokenize("stride -1, pad -2x3, p -0.5", "p", 1)]
    assert kinds == [("word", "stride"), ("number", "-1"), ("punct", ","), ("word", "pad"),
                     ("size", "-2x3"), ("punct", ","), ("word", "p"), ("number", "-0.5")]


@pytest.mark.parametrize(("text", "where"), [
    ("[8x8x3] INPUT\nCONV1: -4 3x3 filters\n", (2, 8)),
    ("[8x8x3] INPUT\nFC1: -10 neurons\n", (2, 6)),
    ("[8x8x3] INPUT\nDROPOUT -0.5\n", (2, 9)),
])
def test_negative_values_are_invalid_values(text: str, where: tuple[int, int]) -> None:
    a = analyze(parse_text(text, "n.txt"))
    assert [(d.code, d.span.line, d.span.col) for d in a.diagnostics] == [("G106", *where)]


@pytest.mark.parametrize(("text", "expected"), [
    (f"[8x8x3] INPUT\nCONV1: 8 3x3 filters at stride {LONG}\n", ("P001", 2, 32)),
    (f"[8x8x3] INPUT\nFC1: 2x{LONG} neurons\n", ("P001", 2, 8)),
    (f"[{LONG}x8x3] INPUT\n", ("P003", 1, 1)),
    (f"# cnncalc: input {LONG}x8x3\nnn.Conv2d(3, 8, 3)\n", ("P003", 1, 18)),
    (f"INPUT: [8x8x3]\nconv3-8  weights: {LONG}\n", ("P001", 2, 19)),
    (f"input (224 x {LONG} RGB image)\nconv3-8\n", ("P001", 1, 7)),
])
def test_numbers_longer_than_int_converts_are_refused(text: str,
                                                      expected: tuple[str, int, int]) -> None:
    a = analyze(parse_text(text, "long.txt"))
    assert (a.diagnostics[0].code, a.diagnostics[0].span.line, a.diagnostics[0].span.col) \
        == expected
    assert "4,300" in a.diagnostics[0].message or a.diagnostics[0].code == "P003"


def test_a_number_of_exactly_the_limit_is_read() -> None:
    """4,300 digits are read; figures past 4,200 digits are refused (G108), not crashed on."""
    digits = "1" * MAX_DIGITS
    a = analyze(parse_text(f"[1x1x{digits}] INPUT\nFC1: 2 neurons\n", "big.txt"))
    assert [(d.code, d.span.line) for d in a.diagnostics] == [("G108", 1)]
    assert a.totals is None and "4,300 digits" in a.diagnostics[0].message
    fewer = "1" * MAX_FIGURE_DIGITS
    a = analyze(parse_text(f"[1x1x{fewer}] INPUT\nFC1: 2 neurons\n", "big.txt"))
    assert a.ok and a.totals is not None
    assert a.totals.weights == 2 * int(fewer)


@pytest.mark.parametrize("sep", ["\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u2028", "\u3000"])
def test_any_whitespace_around_x_in_a_shape(sep: str) -> None:
    """Found by the fuzzer: `[8x\\x1c8x3]` is a shape to the regex, whose \\s matches \\x1c,
    but int() does not strip \\x1c."""
    a = analyze(parse_text(f"[8x{sep}8x3] INPUT\nFC1: 2 neurons\n", "ws.txt"))
    assert a.ok and a.input == (8, 8, 3)


@pytest.mark.parametrize(("written", "hint"), [
    ("1e2", "write it in digits: 100, not 1e2"),
    ("3x3filters", "put a space between a number and the word after it"),
    ("1.2.3", "check the number"),
])
def test_a_number_run_into_letters_or_dots_is_named_whole(written: str, hint: str) -> None:
    """Not `unexpected character `1``: the whole run is underlined and named."""
    text = f"[32x32x3] INPUT\nCONV1: {written} 3x3 filters at stride 1, pad 1\n"
    (d,) = analyze(parse_text(text, "n.txt")).diagnostics
    assert d.code == "P001" and (d.span.line, d.span.col) == (2, 8)
    assert d.span.end_col - d.span.col == len(written)
    assert d.message == (f"`{written}` is not a number cnncalc reads: numbers are whole or "
                         "decimal, in digits, apart from the words around them")
    assert d.hint.startswith(hint)


BENGALI_FOUR = "\u09ea"  # looks like an 8


@pytest.mark.parametrize("text", [
    f"[32x32x3] INPUT\nCONV1: {BENGALI_FOUR} 3x3 filters at stride 1, pad 1\n",  # lecture
    f"[32x32x3] INPUT\nCONV1: 8 3x{BENGALI_FOUR} filters at stride 1, pad 1\n",
    f"[32x{BENGALI_FOUR}2x3] INPUT\nCONV1: 8 3x3 filters at stride 1, pad 1\n",  # a shape
    f"# cnncalc: input 32x32x3\nnn.Conv2d(3, {BENGALI_FOUR}, 3)\n",  # PyTorch text
    f"# cnncalc: input {BENGALI_FOUR}2x32x3\nnn.Conv2d(3, 8, 3)\n",  # a directive
    f"INPUT: [224x224x3]\nCONV3-6{BENGALI_FOUR}: [224x224x64]\n",  # the VGG notes
])
def test_a_digit_of_another_script_is_refused_not_read(text: str) -> None:
    """U+09EA is a Bengali four that looks like an 8 (ruff flags it as ambiguous): read as 4,
    a spec would compute other than it shows, so a digit outside 0-9 is an error wherever a
    number is read."""
    a = analyze(parse_text(text, "d.txt"))
    errors = [d for d in a.diagnostics if d.severity.value == "error"]
    assert errors and a.totals is None, [(d.code, d.message) for d in a.diagnostics]
    where = next(n for n, line in enumerate(text.splitlines(), 1) if BENGALI_FOUR in line)
    assert where in {d.span.line for d in errors}


def test_the_lexer_names_the_foreign_digit() -> None:
    text = f"[32x32x3] INPUT\nCONV1: {BENGALI_FOUR} 3x3 filters at stride 1, pad 1\n"
    (d,) = analyze(parse_text(text, "d.txt")).diagnostics
    assert (d.code, d.span.line, d.span.col) == ("P001", 2, 8)
    assert d.message.startswith(f"`{BENGALI_FOUR}` (BENGALI DIGIT FOUR, 4) is a digit of "
                                "another script: cnncalc reads numbers written in 0-9 only")


@pytest.mark.parametrize("args", [
    ["--input", f"3{BENGALI_FOUR}x32x3"],
    ["--define", f"num_classes=1{BENGALI_FOUR}"],
    ["--define", f"input_shape=28x28x{BENGALI_FOUR}"],
])
def test_a_digit_of_another_script_in_an_option_is_a_usage_error(args: list[str]) -> None:
    from click.testing import CliRunner

    from cnncalc.cli import cli

    result = CliRunner().invoke(cli, ["show", str(SPECS / "keras_mnist.txt"), *args])
    assert result.exit_code == 2, result.output
    assert "0-9" in result.stderr
