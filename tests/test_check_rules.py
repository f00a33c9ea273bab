"""The rules `cnncalc check` adds, as specs (yamllint style): each case is a spec text and the
(line, col, code) findings it must give. Also: every rule's documented passing and failing
examples, budgets and their units, inline suppression, and the baseline comparison."""

from __future__ import annotations

import pytest

from cnncalc.check.baseline import Figures
from cnncalc.check.config import settings_from_table
from cnncalc.check.explain import explain_text, explanations, find_rule, run_example
from cnncalc.check.runner import analyse, check_analysis
from cnncalc.check.settings import FileSettings, Settings
from cnncalc.check.units import UnitError, parse_bytes, parse_count
from cnncalc.diagnostics import RULES
from cnncalc.parse import parse_text


def check(source: str, before: Figures | None = None, **config: object
          ) -> list[tuple[int, int, str]]:
    """Findings of `cnncalc check` on ``source`` as (line, col, code); ``config`` is
    [tool.cnncalc] keys with ``_`` for ``-``."""
    table = {k.replace("_", "-"): v for k, v in config.items()}
    settings = settings_from_table(table, _pyproject(), "tool.cnncalc") if table else Settings()
    fs = settings.for_path("t.txt")
    result = check_analysis(analyse(source, "t.txt", fs), fs, settings, before)
    return [(d.span.line, d.span.col, d.code) for d in result.diagnostics]


def _pyproject():
    from pathlib import Path

    return Path("pyproject.toml")


def codes(source: str, **config: object) -> list[str]:
    return [c for _, _, c in check(source, **config)]


# --- W501 fast-shrinking -------------------------------------------------------------------

W501_CASES = [
    # the lecture's 32 -> 28 -> 24
    ("[32x32x3] INPUT\nCONV1: 16 5x5 filters\nCONV2: 16 5x5 filters\n", [(2, 11, "W501")]),
    # activations, batch norm, dropout and LRN do not break the stack
    ("[32x32x3] INPUT\nCONV1: 16 5x5 filters\nRELU1\nBN1\nDROPOUT 0.5\nNORM1\n"
     "CONV2: 16 5x5 filters\n", [(2, 11, "W501")]),
    # pooling between them does
    ("[32x32x3] INPUT\nCONV1: 16 5x5 filters\nMAX POOL1: 2x2 filters at stride 2\n"
     "CONV2: 16 5x5 filters\n", []),
    # padded convs are fine; a padded conv between two unpadded ones breaks the stack
    ("[32x32x3] INPUT\nCONV1: 16 5x5 filters, pad 2\nCONV2: 16 5x5 filters, pad 2\n", []),
    ("[32x32x3] INPUT\nCONV1: 16 5x5 filters\nCONV2: 16 3x3 filters, pad 1\n"
     "CONV3: 16 5x5 filters\n", []),
    # `same` and `pad ?` are never reported, 1x1 convs do not shrink
    ("[32x32x3] INPUT\nCONV1: 16 3x3 filters, pad same\nCONV2: 16 3x3 filters, pad same\n", []),
    ("[32x32x3] INPUT\nCONV1: 16 1x1 filters\nCONV2: 16 1x1 filters\n", []),
    # three in a row: one finding, on the first
    ("[32x32x3] INPUT\nCONV1: 8 3x3 filters\nCONV2: 8 3x3 filters\nCONV3: 8 3x3 filters\n",
     [(2, 10, "W501")]),
    # two separate stacks: two findings
    ("[32x32x3] INPUT\nCONV1: 8 3x3 filters\nCONV2: 8 3x3 filters\nMAX POOL: 2x2 filters\n"
     "CONV3: 8 3x3 filters\nCONV4: 8 3x3 filters\n", [(2, 10, "W501"), (5, 10, "W501")]),
    # layers that were not computed are not judged
    ("[32x32x3] INPUT\nCONV1: 16 5x5 filters at stride 2\nCONV2: 16 5x5 filters\n",
     [(2, 11, "G101")]),
]


@pytest.mark.parametrize(("source", "expected"), W501_CASES)
def test_fast_shrinking(source, expected):
    assert check(source) == expected


def test_fast_shrinking_message_shows_the_chain():
    result = _result("[32x32x3] INPUT\nCONV1: 16 5x5 filters\nCONV2: 16 5x5 filters\n")
    (d,) = result.diagnostics
    assert "32 -> 28 -> 24" in d.message and "CONV1, CONV2" in d.message
    assert "pad 2" in d.hint


def test_fast_shrinking_in_keras_hints_same_padding():
    source = ("model = Sequential()\nmodel.add(Conv2D(32, (3, 3), input_shape=(28, 28, 1)))\n"
              "model.add(Conv2D(64, (3, 3)))\n")
    (d,) = _result(source).diagnostics
    assert d.code == "W501" and "28 -> 26 -> 24" in d.message
    assert 'padding="same"' in d.hint


def _result(source: str):
    fs = FileSettings()
    return check_analysis(analyse(source, "t.txt", fs), fs, Settings())


# --- W502 large-pool-window ----------------------------------------------------------------

W502_CASES = [
    ("[32x32x8] INPUT\nMAX POOL1: 2x2 filters at stride 2\n", []),
    ("[33x33x8] INPUT\nMAX POOL1: 3x3 filters at stride 2\n", []),  # overlapping: fine
    ("[32x32x8] INPUT\nMAX POOL1: 4x4 filters at stride 4\n", [(2, 12, "W502")]),
    ("[32x32x8] INPUT\nAVG POOL1: 5x5 filters at stride 1, pad 2\n", [(2, 12, "W502")]),
    ("[30x30x8] INPUT\nMAX POOL1: 3x3 filters at stride 3\n", [(2, 34, "W502")]),  # 1 in 9
    ("[34x32x8] INPUT\nMAX POOL1: 2x2 filters at stride 4x1\n", []),  # 1 in 4: not more
    ("[7x7x8] INPUT\nAVG POOL1: 7x7 filters\n", []),  # a global pooling in disguise
    ("[7x7x8] INPUT\nGLOBAL AVG POOL\n", []),
]


@pytest.mark.parametrize(("source", "expected"), W502_CASES)
def test_large_pool_window(source, expected):
    assert check(source) == expected


# --- W503 padding-only-window --------------------------------------------------------------

W503_CASES = [
    ("[32x32x3] INPUT\nCONV1: 8 3x3 filters, pad 1\n", []),
    ("[32x32x3] INPUT\nCONV1: 8 3x3 filters, pad 2\n", []),  # P = F - 1: one real column
    ("[32x32x3] INPUT\nCONV1: 8 3x3 filters, pad 3\n", [(2, 27, "W503")]),  # P = F
    ("[32x32x3] INPUT\nCONV1: 8 3x3 filters, pad 1x3\n", [(2, 27, "W503")]),  # width only
    ("[32x32x3] INPUT\nCONV1: 8 3x3 filters, pad 3, dilation 2\n", []),  # span 5
    ("[32x32x3] INPUT\nCONV1: 8 3x3 filters, pad 5, dilation 2\n", [(2, 27, "W503")]),
    ("[32x32x3] INPUT\nZEROPAD 1\nCONV1: 8 3x3 filters, pad 1\n", []),
    ("[32x32x3] INPUT\nDECONV1: 8 4x4 filters, stride 2, pad 4\n", []),  # crops, not pads
]


@pytest.mark.parametrize(("source", "expected"), W503_CASES)
def test_padding_only_window(source, expected):
    assert check(source) == expected


def test_padding_only_window_names_the_axes():
    (d,) = _result("[32x32x3] INPUT\nCONV1: 8 3x3 filters, pad 1x3\n").diagnostics
    assert "along the width" in d.message and "height" not in d.message


# --- budgets -------------------------------------------------------------------------------

LENET = "# LeNet-5\n[32x32x1] INPUT\nCONV1: 6 5x5 filters\nFC2: 10 neurons\n"  # 47,206 params


@pytest.mark.parametrize(("config", "expected"), [
    ({"max_params": "47206"}, []),
    ({"max_params": "47205"}, [(2, 1, "B401")]),
    ({"max_params": 47_205}, [(2, 1, "B401")]),
    ({"max_macs": "164.64K"}, []),
    ({"max_macs": "164K"}, [(2, 1, "B402")]),
    # 4704 + 10 activations x 4 bytes = 18,856 B
    ({"max_activations": "18856"}, []),
    ({"max_activations": "18KiB"}, [(2, 1, "B403")]),
    ({"max_activations": "18.856KB"}, []),
    ({"max_activations": "18.855KB"}, [(2, 1, "B403")]),
])
def test_budgets(config, expected):
    assert check(LENET, **config) == expected


def test_budget_goes_where_the_input_is_given():
    source = "model = Sequential()\nmodel.add(Dense(10, input_shape=(100,)))\n"
    assert check(source, max_params="1K") == [(2, 21, "B401")]  # Keras: input_shape=


def test_budget_without_an_input_in_the_text_goes_to_line_1():
    settings = settings_from_table({"max-params": "1K", "input": "100"}, _pyproject(),
                                   "tool.cnncalc")
    fs = settings.for_path("t.txt")
    source = "# a network\nFC1: 100 neurons\n"
    result = check_analysis(analyse(source, "t.txt", fs), fs, settings)
    assert [(d.span.line, d.span.col, d.code) for d in result.diagnostics] == [(1, 1, "B401")]


def test_budget_message_has_the_figure_and_the_limit():
    settings = settings_from_table({"max-params": "40K"}, _pyproject(), "tool.cnncalc")
    fs = settings.for_path("t.txt")
    (d,) = check_analysis(analyse(LENET, "t.txt", fs), fs, settings).diagnostics
    assert "47,206 params" in d.message and "40K (40,000)" in d.message
    assert "7,206" in d.message and "pyproject.toml" in d.hint


def test_activation_budget_follows_batch_and_dtype():
    assert check(LENET, max_activations="18856", batch=2) == [(2, 1, "B403")]
    assert check(LENET, max_activations="18856", dtype="float16", batch=2) == []


def test_no_budget_judged_without_totals_and_b404_says_so():
    source = "[32x32x1] INPUT\nCONV1: 6 5x5 filters at stride 2\n"
    assert codes(source, max_params="1") == ["B404", "G101"]


@pytest.mark.parametrize(("text", "value"), [
    ("65M", 65_000_000), ("2G", 2_000_000_000), ("1.5M", 1_500_000), ("10k", 10_000),
    ("3T", 3 * 10**12), ("65_000_000", 65_000_000), ("1,000", 1000), (" 7 ", 7), (12, 12),
])
def test_parse_count(text, value):
    assert parse_count(text) == value


@pytest.mark.parametrize(("text", "value"), [
    ("100MB", 100_000_000), ("100MiB", 100 * 2**20), ("1KB", 1000), ("1KiB", 1024),
    ("2GB", 2 * 10**9), ("1GiB", 2**30), ("512", 512), ("512B", 512), ("1.5kb", 1500),
])
def test_parse_bytes(text, value):
    assert parse_bytes(text) == value


@pytest.mark.parametrize(("parse", "text", "says"), [
    (parse_count, "65X", "not a count"), (parse_count, "65MB", "not a count"),
    (parse_count, "1.5", "whole"), (parse_count, "-3", "not a count"),
    (parse_count, True, "true"), (parse_bytes, "100M", "100MB"), (parse_bytes, "1.5B", "whole"),
])
def test_bad_figures(parse, text, says):
    with pytest.raises(UnitError, match=says):
        parse(text)


# --- suppression ---------------------------------------------------------------------------

SHRINK = "[32x32x3] INPUT\nCONV1: 16 5x5 filters{c}\nCONV2: 16 5x5 filters\n"


@pytest.mark.parametrize(("comment", "expected"), [
    ("", [(2, 11, "W501")]),
    ("  # cnncalc: ignore[W501]", []),
    ("  # cnncalc: ignore[w501]", []),  # codes are case-insensitive
    ("  #cnncalc:ignore[W502, W501]", [(2, 40, "S601")]),  # W502 unused
    ("  # cnncalc: ignore[W503]", [(2, 11, "W501"), (2, 42, "S601")]),
    ("  # cnncalc: ignore[NOPE]", [(2, 11, "W501"), (2, 42, "S601")]),
    ("  # cnncalc: ignore", [(2, 11, "W501"), (2, 24, "S602")]),
    ("  # cnncalc: ignore[]", [(2, 11, "W501"), (2, 24, "S602")]),
])
def test_suppression(comment, expected):
    assert check(SHRINK.format(c=comment)) == expected


def test_suppression_on_another_line_does_not_apply():
    source = SHRINK.format(c="").replace("CONV2: 16 5x5 filters",
                                         "CONV2: 16 5x5 filters  # cnncalc: ignore[W501]")
    assert check(source) == [(2, 11, "W501"), (3, 42, "S601")]


def test_suppressing_an_error_clears_it():
    source = "[224x224x3] INPUT\nCONV1: 96 11x11 filters at stride 4  # cnncalc: ignore[G101]\n"
    assert check(source) == []


def test_unused_suppression_of_an_ignored_code_says_so():
    result = check_analysis(*_with({"ignore": ["W5"]}, SHRINK.format(
        c="  # cnncalc: ignore[W501]")))
    (d,) = result.diagnostics
    assert d.code == "S601" and "not selected" in d.message


def test_suppression_codes_can_be_ignored():
    source = SHRINK.format(c="  # cnncalc: ignore[W501, W502]")
    assert check(source, ignore=["S601"]) == []
    assert check(source.replace("[W501, W502]", "[W501,W502,S601]")) == []


def _with(table, source):
    settings = settings_from_table(table, _pyproject(), "tool.cnncalc")
    fs = settings.for_path("t.txt")
    return analyse(source, "t.txt", fs), fs, settings


@pytest.mark.parametrize(("source", "line", "code"), [
    # Keras (read with ast): comments on a call line and inside a multi-line call
    ("model = Sequential()\nmodel.add(Conv2D(32, (3, 3), input_shape=(28, 28, 1)))"
     "  # cnncalc: ignore[W501]\nmodel.add(Conv2D(64, (3, 3),  # a, comment: here\n"
     "                 activation='relu'))\n", 2, "W501"),
    # PyTorch's printed modules
    ("# cnncalc: input 28x28x1\nSequential(\n  (0): Conv2d(1, 32, kernel_size=(3, 3), "
     "stride=(1, 1))  # cnncalc: ignore[W501]\n  (1): Conv2d(32, 64, kernel_size=(3, 3), "
     "stride=(1, 1))  # (2): not a layer\n)\n", 3, "W501"),
    # the VGG notation (CONV3-32 pads by 1: the declared 26x26x32 is wrong)
    ("INPUT: [28x28x1]\nCONV3-32: [26x26x32]  # cnncalc: ignore[D201]\n"
     "CONV3-64: [28x28x64]  # note\n", 2, "D201"),
    # the lecture notation, on the INPUT line
    ("[28x28x1] INPUT  # cnncalc: ignore[B401]\nFC1: 10 neurons\n", 1, "B401"),
])
def test_every_notation_reads_suppression_comments(source, line, code):
    spec = parse_text(source, "t.txt")
    assert spec.diagnostics == (), spec.diagnostics
    budget = {"max_params": "100"} if code == "B401" else {}  # no B404 beside a D201
    plain = source.replace(f"  # cnncalc: ignore[{code}]", "")
    assert [(ln, c) for ln, _, c in check(plain, **budget)] == [(line, code)]
    assert check(source, **budget) == []


# --- baseline ------------------------------------------------------------------------------

def test_totals_changed():
    assert check(LENET, Figures(47_206, 164_640)) == []
    assert check(LENET, Figures(47_000, 164_640)) == [(2, 1, "W701")]
    source = LENET.replace("6 5x5", "8 5x5")
    settings = Settings()
    fs = settings.for_path("t.txt")
    (d,) = check_analysis(analyse(source, "t.txt", fs), fs, settings,
                          Figures(47_206, 164_640)).diagnostics
    assert d.message == ("totals changed since the baseline: params 47,206 -> 62,938 "
                         "(+15,732, +33.33%), MACs 164,640 -> 219,520 (+54,880, +33.33%)")


# --- every rule explained, and its examples hold ---------------------------------------------

EXPLAINED = explanations()


def test_every_code_is_explained():
    assert set(EXPLAINED) == set(RULES)
    for code, ex in EXPLAINED.items():
        assert ex.why, code
        assert ex.passing is not None and ex.failing is not None, code


LIVE = sorted(code for code, ex in EXPLAINED.items() if ex.live)


@pytest.mark.parametrize("code", LIVE)
def test_failing_example_is_reported(code):
    ex = EXPLAINED[code]
    assert ex.failing is not None
    found = [line.split(": ", 1)[1].split()[0] for line in run_example(code, ex.failing)]
    assert code in found


@pytest.mark.parametrize("code", LIVE)
def test_passing_example_is_not_reported(code):
    ex = EXPLAINED[code]
    assert ex.passing is not None
    found = [line.split(": ", 1)[1].split()[0] for line in run_example(code, ex.passing)]
    assert code not in found
    if code[0] in "BWS":  # the rules check adds: their passing examples are clean
        assert found == []


def test_explain_text():
    text = explain_text(EXPLAINED["W501"])
    assert text.startswith("W501 fast-shrinking (warning)\n")
    assert "Passing:" in text and "Failing:" in text
    assert "example.txt:2:11: W501 2 unpadded convolutions in a row shrink the volume " \
           "32 -> 28 -> 24: CONV1, CONV2" in text
    assert 'Failing, with `max-params = "40K"` in [tool.cnncalc]:' in explain_text(
        EXPLAINED["B401"])


def test_find_rule():
    assert find_rule("w501") == RULES["W501"]
    assert find_rule("fast-shrinking") == RULES["W501"]
    assert find_rule("Z999") is None


# --- suppressions are read only from comments ----------------------------------------------

KERAS_LINE = ("model.add(Conv2D(96, (11, 11), strides=(4, 4), input_shape=(224, 224, 3){}))"
              "{}\n")  # (224 - 11)/4 + 1 = 54.25, rounded down: I302
NOT_A_COMMENT = [
    # a quoted name in the canonical notation
    ('[224x224x3] INPUT\nCONV "a # cnncalc: ignore[G101]": 96 11x11 filters at stride 4\n',
     "G101"),
    # a Python string in Keras code, after an escaped quote, and across lines
    ("model = Sequential()\n" + KERAS_LINE.format(", name='# cnncalc: ignore[I302]'", ""),
     "I302"),
    ("model = Sequential()\n" + KERAS_LINE.format(', name="\\" # cnncalc: ignore[I302]"', ""),
     "I302"),
    ('"""\n# cnncalc: ignore[I302]\n"""\nmodel = Sequential()\n' + KERAS_LINE.format("", ""),
     "I302"),
]


@pytest.mark.parametrize(("source", "code"), NOT_A_COMMENT)
def test_a_suppression_outside_a_comment_does_nothing(source, code):
    assert [c for _, _, c in check(source)] == [code]


@pytest.mark.parametrize("source", [
    '[224x224x3] INPUT\nCONV "a # b": 96 11x11 filters at stride 4  # cnncalc: ignore[G101]\n',
    "model = Sequential()\n" + KERAS_LINE.format(", name='#\\'x'", "  # cnncalc: ignore[I302]"),
    'x = """a\n"""\nmodel = Sequential()\n' + KERAS_LINE.format("", "  # cnncalc: ignore[I302]"),
])
def test_a_suppression_after_a_string_still_counts(source):
    assert check(source) == []


@pytest.mark.parametrize(("lines", "starts"), [
    (["a = 1  # c"], [7]),
    (["s = '#'  # c"], [9]),
    (["s = \"it's\"  # c"], [12]),
    (["s = '\\'#'"], [-1]),
    (["s = r'\\'#'"], [-1]),
    (["s = '''", "# not", "'''  # yes"], [-1, -1, 5]),
    (['s = """\\"""#"""', "#"], [-1, 0]),
    (["s = 'open", "# next line is code"], [-1, 0]),
    (["s = 'a\\", "#b'  # c"], [-1, 5]),
    (["#", "", "'#'"], [0, -1, -1]),
])
def test_python_comments(lines, starts):
    from cnncalc.parse.comments import python_comments

    assert python_comments(lines) == starts


def test_python_comments_in_linear_time():
    """A hang guard, not a timing assertion: 200,000 quotes and hashes in a few seconds."""
    import time

    from cnncalc.parse.comments import python_comments

    lines = ["'''" + "'#" * 50_000, "\"#'" * 50_000, "#" + "'''" * 10_000]
    start = time.perf_counter()
    python_comments(lines)
    assert time.perf_counter() - start < 10
