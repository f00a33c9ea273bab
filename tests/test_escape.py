"""cnncalc.escape: user text made safe to print, and the canonical notation's quoted names,
which read back exactly whatever they hold."""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.analyze import analyze
from cnncalc.escape import escape, escape_lines, json_safe, quote, unescape, unsafe
from cnncalc.parse import parse_text
from cnncalc.render.common import layer_record
from cnncalc.render.spec_text import to_spec_text

# a line the GitHub runner would read as a command: `::` after leading whitespace (its
# TrimStart), or the legacy `##[command]` anywhere in the line
COMMAND = re.compile(r"^\s*::|##[A-Za-z]*\[")
# every code point, lone surrogates included (hypothesis leaves them out unless told), and
# often one of the characters that matter here
ANY_CHAR = st.one_of(st.characters(exclude_categories=()),
                     st.sampled_from("\n\r\t\\\"#(:[ \x00\x1b\x85\x9b\u2028\u202e\ud800\udcff"))


def is_safe(text: str) -> bool:
    """One line, no unsafe character, nothing the runner reads as a command."""
    return not any(unsafe(c) for c in text) and COMMAND.search(text) is None


@pytest.mark.parametrize(("text", "shown"), [
    ("CONV1", "CONV1"),
    ("features.0", "features.0"),
    ("\n::error file=x.py,line=1::INJECTED", "\\n\\x3a:error file=x.py,line=1\\x3a:INJECTED"),
    ("::add-mask::x", "\\x3a:add-mask\\x3a:x"),
    ("::stop-commands::tok", "\\x3a:stop-commands\\x3a:tok"),
    ("  :x", "  \\x3ax"),  # a leading colon: the line may start with it
    ("a:b", "a:b"),
    ("a:::b", "a\\x3a\\x3a:b"),
    ("say ##[error]x", "say \\x23#[error]x"),
    ("##vso[task.setvariable]", "\\x23#vso[task.setvariable]"),
    ("# ok #1 [x]", "# ok #1 [x]"),
    ("a\rb", "a\\rb"),
    ("a\tb", "a\\tb"),
    ("\x1b[31mred", "\\x1b[31mred"),
    ("\x9b31m", "\\x9b31m"),
    ("\x85", "\\x85"),
    ("\x7f", "\\x7f"),
    ("\x00", "\\x00"),
    ("\u2028\u2029", "\\u2028\\u2029"),
    ("\u202eevil", "\\u202eevil"),
    ("zero\u200bwidth", "zero\\u200bwidth"),
    ("\ufeff", "\\ufeff"),
    ("\ufffe\uffff", "\\ufffe\\uffff"),
    ("\ud800", "\\ud800"),
    ("\udcff", "\\udcff"),
    ("tag\U000e0041", "tag\\U000e0041"),
    ("back\\slash", "back\\slash"),  # a backslash that starts no escape stays single
    ("specs\\vgg16.txt", "specs\\vgg16.txt"),
    ("C:\\new\\x.txt", "C:\\\\new\\\\x.txt"),  # before n, x: doubled
    ("\\n", "\\\\n"),
    ("\\\\", "\\\\\\"),  # the first doubled, the last not: it ends the text
    ("a\\\n", "a\\\\\\n"),  # before a character written escaped
    ("a\\::b", "a\\\\\\x3a:b"),
    ('quote " and #', 'quote " and #'),
    ("[bold]markup[/]", "[bold]markup[/]"),
    ("é中文 \u00d7", "é中文 \u00d7"),
    ("\u3000:x", "\u3000\\x3ax"),  # ideographic space is blank to the runner too
])
def test_escape(text: str, shown: str) -> None:
    assert escape(text) == shown
    assert is_safe(shown)
    assert unescape(shown) == text


def test_every_unsafe_category_is_escaped() -> None:
    """Every character of categories Cc, Cf, Cs, Zl and Zp, as this Python's Unicode
    database has them, is escaped, and nothing else outside printable ASCII is."""
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        bad = unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") or ch in "\ufffe\uffff"
        assert unsafe(ch) == bad, hex(cp)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(alphabet=ANY_CHAR, max_size=40))
def test_escape_is_safe_and_reversible(text: str) -> None:
    shown = escape(text)
    assert is_safe(shown)
    assert unescape(shown) == text
    assert shown == text or any(unsafe(c) or c in ":#\\" for c in text)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.lists(st.text(alphabet=ANY_CHAR, max_size=12), max_size=5))
def test_pieces_of_escaped_text_never_start_a_command(pieces: list[str]) -> None:
    """Wherever a renderer wraps or folds escaped text, no piece of it starts with ``::``."""
    shown = escape("".join(pieces))
    for i in range(len(shown)):
        assert not shown[i:].lstrip().startswith("::")


def test_escape_lines_keeps_line_feeds() -> None:
    assert escape_lines("Error: a\n::error::x\r") == "Error: a\n\\x3a:error\\x3a:x\\r"


def test_json_safe_is_the_same_json() -> None:
    import json

    text = json.dumps({"name": "##[error]x ## [ #a[ ##vso[y"})
    safe = json_safe(text)
    assert "##[" not in safe and "##vso[" not in safe
    assert json.loads(safe) == json.loads(text)


def test_unescape_leaves_other_backslashes() -> None:
    assert unescape("a\\b\\x4\\q\\") == "a\\b\\x4\\q\\"
    assert unescape("\\x41\\u00e9\\U0001F600\\U00110000") == "A\u00e9\U0001f600\\U00110000"


# ---- --format spec quotes any name so that it reads back ----

BASE = "[8x8x3] INPUT\nCONV1: 4 3x3 filters\nRELU1\nMAX POOL1: 2x2 filters\nFC2: 10 neurons\n"
HOSTILE = ["\n::error file=x.py,line=1::INJECTED", "::add-mask::x", "::stop-commands::tok",
           "\r", "\x1b[31m", "\x9b31m", "\u2028", "\u202e", "\ud800", "\x00", "a\\b", "\\",
           '"', 'say "hi"', "#", "a # cnncalc: ignore[G101]", "[bold]x[/]", "##[error]x",
           "nn.Conv2d(3, 8, 3)", "model.add(Dense(4))", "CONV3-64", "", " ", "CONV1 ",
           "MAX  POOL1", "RELU\x0b1", "conv1", "(0)", "\\x41", "%0A"]


def _round_trip(names: list[str]) -> None:
    first = analyze(parse_text(BASE, "a.txt"))
    spec = first.spec
    layers = tuple(replace(layer, name=name) for layer, name in zip(spec.layers, names,
                                                                        strict=False))
    spec = replace(spec, layers=layers + spec.layers[len(layers):])
    first = analyze(spec)
    text = to_spec_text(spec, first.input)
    assert all(is_safe(line) for line in text.splitlines()), text
    again = analyze(parse_text(text, "a.txt"))
    assert again.spec.notation == "lecture", text
    assert [layer.name for layer in again.spec.layers] == [layer.name for layer in spec.layers]
    assert _fingerprint(again) == _fingerprint(first), text


def _fingerprint(a: object) -> object:
    from cnncalc.analyze import Analysis

    assert isinstance(a, Analysis)
    layers = [{k: v for k, v in layer_record(r).items() if k != "line"} for r in a.layers]
    return a.input, a.rounding, layers, a.totals, [(d.code, d.message) for d in a.diagnostics]


@pytest.mark.parametrize("name", HOSTILE, ids=[repr(n) for n in HOSTILE])
def test_a_hostile_name_reads_back(name: str) -> None:
    _round_trip([name, name, name, name])


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.lists(st.text(alphabet=ANY_CHAR, max_size=20), min_size=1,
                max_size=4))
def test_any_names_read_back(names: list[str]) -> None:
    _round_trip(names)


def test_plain_names_stay_unquoted() -> None:
    a = analyze(parse_text(BASE, "a.txt"))
    text = to_spec_text(a.spec, a.input)
    assert "CONV1: 4 3x3 filters" in text and "MAX POOL1: 2x2 filters" in text
    assert '"' not in text


def test_quote() -> None:
    assert quote('a "b" #c (d) \\ \n') == '"a \\x22b\\x22 \\x23c \\x28d) \\ \\n"'
    assert quote('a\\"') == '"a\\\\\\x22"'  # a backslash before an escaped quote: doubled


def test_the_caret_display_escapes_what_is_unsafe_and_keeps_the_caret_in_place() -> None:
    """The source line under a diagnostic shows a bidi override and a ``##[`` command
    escaped, and the caret still lands under the offending text."""
    from cnncalc.render.report import format_all

    source = '[9x9x3] INPUT\nCONV "\u202e##[error]x\u200b": 4 30x30 filters\n'
    a = analyze(parse_text(source, "a.txt"))
    text = format_all(a.diagnostics, a.spec.lines)
    shown, caret = text.splitlines()[1:3]
    assert shown == '    2 | CONV "\\u202e\\x23#[error]x\\u200b": 4 30x30 filters'
    assert shown[caret.index("^"):].startswith("30x30")
    assert all(is_safe(line) for line in text.splitlines())
