"""`cnncalc check`'s figures and settings (issue 11, items 1, 5, 7 and 8): budget ratios and
baseline changes in integers, rounded half up on the exact value, for figures of any size;
absurd budgets, batches and defines refused naming the key or flag; malformed globs refused
naming the key, and matched in linear time; budgets and the baseline not judged on incomplete
totals (B404); counts in the singular and the plural."""

from __future__ import annotations

import random
import re
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc.check.baseline import Figures
from cnncalc.check.config import settings_from_table
from cnncalc.check.globs import Glob, GlobError, _Automaton, _tokens
from cnncalc.check.runner import analyse, check_analysis
from cnncalc.check.settings import Settings
from cnncalc.check.units import (
    MAX_BUDGET,
    UnitError,
    count_text,
    decimal_text,
    digits_text,
    parse_bytes,
    parse_count,
    percent_text,
    plural,
)
from cnncalc.cli import cli

LENET = "# LeNet-5\n[32x32x1] INPUT\nCONV1: 6 5x5 filters\nFC2: 10 neurons\n"  # 47,206 params
BROKEN = "[32x32x1] INPUT\nCONV1: 6 5x5 filters at stride 2\nFC2: 10 neurons\n"  # G101


def findings(source: str, table: dict[str, object] | None = None,
             before: Figures | None = None) -> list[str]:
    settings = settings_from_table(table, Path("pyproject.toml"), "tool.cnncalc") \
        if table else Settings()
    fs = settings.for_path("t.txt")
    result = check_analysis(analyse(source, "t.txt", fs), fs, settings, before)
    return [f"{d.code} {d.message}" for d in result.diagnostics]


# --- exact figures ---------------------------------------------------------------------------

@pytest.mark.parametrize(("num", "den", "places", "text"), [
    (1, 3, 2, "0.33"), (2, 3, 2, "0.67"), (1, 8, 2, "0.13"), (1, 8, 1, "0.1"),
    (3, 8, 1, "0.4"), (1, 2, 0, "1"), (5, 2, 0, "3"), (-1, 8, 2, "0.13"), (0, 7, 2, "0.00"),
    (123456789, 1, 0, "123,456,789"), (1_000_500, 10**4, 1, "100.1"),
    # halves are exact here, where a float's .2f rounds 0.125 to even and 1.005 below
    (125, 1000, 2, "0.13"), (1005, 1000, 2, "1.01"),
])
def test_decimal_text_rounds_half_up_on_the_exact_value(num, den, places, text):
    assert decimal_text(num, den, places) == text


@pytest.mark.parametrize(("part", "whole", "places", "text"), [
    (15732, 47206, 2, "+33.33%"), (-15732, 47206, 2, "-33.33%"), (1, 10**12, 1, "+0.0%"),
    (-1, 10**12, 2, "-0.00%"), (1, 8, 1, "+12.5%"), (1, 16, 1, "+6.3%"),
    (9999, 1000, 1, "+999.9%"), (99999, 10000, 1, "+1,000.0%"),
])
def test_percent_text(part, whole, places, text):
    assert percent_text(part, whole, places) == text


def test_figures_over_4300_digits_print_their_lead_and_length():
    assert count_text(10**5000) == "10000000000000000000... (5,001 digits)"
    assert count_text(-(10**5000) + 1) == "-99999999999999999999... (5,000 digits)"
    assert count_text(10**4299) == f"{10**4299:,}"
    assert digits_text(224) == "224"
    assert digits_text(10**5000) == "10000000000000000000... (5,001 digits)"


def test_advice_multiplying_sizes_past_4300_digits():
    """The analysis keeps every figure under 4,200 digits (G108), but W502 multiplies a
    window's sides: 10^4100 x 10^4100 crashed it (ValueError from str())."""
    f = "1" + "0" * 4100
    source = (f"[1{'0' * 4150}x1{'0' * 40}x1] INPUT\n"
              f"MAX POOL1: {f}x{f} filters at stride {f}, pad 5{'0' * 4099}\n")
    found = findings(source, {"rounding": "floor"})
    assert [f.split()[0] for f in found] == ["G107", "W502"]
    assert found[1].endswith("pooling window is larger than 3x3: each output keeps 1 of "
                             "10000000000000000000... (8,201 digits) values")


def test_no_float_anywhere_in_the_ratios():
    """The old code printed float(figure / limit): wrong past 2**53, OverflowError past 1e308."""
    figure, limit = 10**40 + 1, 3
    (message,) = findings(f"[1x1x{figure}] INPUT\nFC1: 1 neurons, no bias\n",
                          {"max-params": "3"})
    quotient = Fraction(figure, limit)
    assert f"({count_text(round(quotient))}x the limit)" in message.split(": over ")[1]


def test_budget_and_baseline_messages_with_long_figures():
    """Figures of 3,901 digits (under the analysis's 4,200): exact, and no float to overflow."""
    n = 10**1300 - 1
    source = f"[{n}x{n}x3] INPUT\nCONV1: {n} 1x1 filters\n"
    macs = 3 * n**3
    found = findings(source, {"max-params": "10", "max-macs": "10", "max-activations": "1KB"})
    assert [f.split()[0] for f in found] == ["B401", "B402", "B403"]
    excess = macs - 10
    assert found[1] == (f"B402 {count_text(macs)} MACs: over max-macs 10 (10) by "
                        f"{count_text(excess)} ({count_text(round(Fraction(macs, 10)))}x the "
                        "limit)")
    (w701,) = findings(source, before=Figures(1, 1))
    assert f"MACs 1 -> {count_text(macs)} (+{count_text(macs - 1)}, " \
        f"+{count_text((macs - 1) * 100)}.00%)" in w701


def test_write_baseline_says_what_it_left_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ok.txt").write_text(LENET, encoding="utf-8")
    (tmp_path / "broken.txt").write_text(BROKEN, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--isolated", "--write-baseline", "b.json"])
    assert result.exit_code == 1
    assert result.stderr.endswith("cnncalc: wrote the totals of 1 spec to b.json (left out: 1 "
                                  "spec without complete totals)\n")


def test_a_baseline_that_matches_no_checked_file_is_said(tmp_path, monkeypatch):
    """Baseline keys are paths as check shows them: checked from another directory, no file
    has an entry and nothing would be compared; a warning says so (the exit status is the
    findings' alone)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "ok.txt").write_text(LENET, encoding="utf-8")
    runner = CliRunner()
    runner.invoke(cli, ["check", "--isolated", "specs", "--write-baseline", "b.json"])
    same = runner.invoke(cli, ["check", "--isolated", "specs", "--baseline", "b.json"])
    assert same.exit_code == 0 and "warning" not in same.stderr
    monkeypatch.chdir(tmp_path / "specs")
    moved = runner.invoke(cli, ["check", "--isolated", ".", "--baseline", "../b.json"])
    assert moved.exit_code == 0
    assert "cnncalc: warning: the baseline ../b.json has no entry for the file checked, so " \
        "nothing was compared: its keys are paths as check shows them (such as " \
        "specs/ok.txt); run from the directory it was written in" in moved.stderr


# --- plurals ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "word", "text"), [
    (0, "spec", "0 specs"), (1, "spec", "1 spec"), (2, "spec", "2 specs"),
    (1000, "file", "1,000 files"), (1, "info", "1 info"), (3, "info", "3 info"),
])
def test_plural(n, word, text):
    assert plural(n, word) == text


@pytest.mark.parametrize(("files", "says"), [
    (1, "wrote the totals of 1 spec to b.json\n"),
    (2, "wrote the totals of 2 specs to b.json\n"),
])
def test_baseline_message_counts_specs(tmp_path, monkeypatch, files, says):
    monkeypatch.chdir(tmp_path)
    for i in range(files):
        (tmp_path / f"s{i}.txt").write_text(LENET, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--isolated", "--write-baseline", "b.json"])
    assert result.stderr == f"cnncalc: {says}"


def test_summary_counts_info_findings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(BROKEN, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--isolated", "--output-format", "concise",
                                      "--max-params", "1M"])
    assert result.stdout.endswith("2 findings in 1 file (1 error, 1 info); 1 file checked\n")


# --- absurd numbers are configuration errors -------------------------------------------------

@pytest.mark.parametrize(("value", "says"), [
    ('"' + "9" * 5000 + '"', "'99999999999999999999'... (5,000 characters) has more digits "
     "than any budget needs"),
    (f'"{10**30 + 1}"', f"'{10**30 + 1}' is more than the largest budget, 10^30"),
    ('"1000000000000000001T"', "'1000000000000000001T' is more than the largest budget"),
    ("1e31", "1E+31 is more than the largest budget, 10^30"),
    ("1.5e-999999999", "1.5E-999999999 is not a whole number"),
    ("inf", "Infinity is not a count"),
    ("nan", "NaN is not a count"),
    ("-1", "-1 is negative"),
])
def test_absurd_budgets_in_the_config_exit_2_naming_the_key(tmp_path, monkeypatch, value, says):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(f"[tool.cnncalc]\nmax-params = {value}\n",
                                             encoding="utf-8")
    (tmp_path / "a.txt").write_text(LENET, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "a.txt"])
    assert result.exit_code == 2, result.output
    assert f"pyproject.toml: tool.cnncalc.max-params: {says}" in result.stderr


@pytest.mark.parametrize(("value", "limit"), [
    ("1e30", 10**30), ("1.5e6", 1_500_000), ("1E3", 1000), (f"{10**30}", 10**30),
    ('"1000000000000000000G"', 10**27),
])
def test_decimal_budgets_are_exact(value, limit):
    """A float would make 1e30 into 1,000,000,000,000,000,019,884,624,838,656."""
    settings = settings_from_table(
        __import__("tomllib").loads(f"max-params = {value}", parse_float=Decimal),
        Path("pyproject.toml"), "tool.cnncalc")
    assert settings.file.max_params is not None
    assert settings.file.max_params.value == limit


@pytest.mark.parametrize(("body", "says"), [
    ("batch = 1000000001", "tool.cnncalc.batch: 1,000,000,001 is more than 1,000,000,000: is "
     "it a typo?"),
    ("batch = 1e3", "tool.cnncalc.batch: 1E+3 is not a whole number"),
    ("define = { rate = 1e400 }", "tool.cnncalc.define.rate: 1E+400 is not a finite number"),
    ("define = { rate = nan }", "tool.cnncalc.define.rate: NaN is not a finite number"),
    (f'input = "{"9" * 5000}x3x3"', "tool.cnncalc.input: '99999999999999999999'... "
     "(5,004 characters) is not a volume"),
])
def test_other_absurd_values_exit_2_naming_the_key(tmp_path, monkeypatch, body, says):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(f"[tool.cnncalc]\n{body}\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text(LENET, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "a.txt"])
    assert result.exit_code == 2, result.output
    assert f"pyproject.toml: {says}" in result.stderr


def test_a_decimal_define_is_the_float_the_same_literal_would_be(tmp_path, monkeypatch):
    settings = settings_from_table({"define": {"rate": Decimal("0.1"), "n": 10}},
                                   Path("pyproject.toml"), "tool.cnncalc")
    assert dict(settings.file.defines) == {"rate": 0.1, "n": 10}


@pytest.mark.parametrize(("args", "says"), [
    (["--max-params", "9" * 5000], "Invalid value for '--max-params': "
     "'99999999999999999999'... (5,000 characters) has more digits than any budget needs"),
    (["--max-macs", str(10**30 + 1)], "Invalid value for '--max-macs': "
     f"'{10**30 + 1}' is more than the largest budget"),
    (["--max-activations", "2000000000000000000TB"], "Invalid value for '--max-activations':"
     " '2000000000000000000TB' is more than the largest budget"),
    (["--batch", "1000000001"], "Invalid value for '--batch': 1000000001 is not in the range "
     "1<=x<=1000000000"),
    (["--define", "n=" + "9" * 5000], "Invalid value for --define: n=: a number of 5,000 "
     "digits"),
    (["--define", "rate=inf"], "Invalid value for --define: rate=: not a finite number"),
    (["--define", "rate=1e400"], "Invalid value for --define: rate=: not a finite number"),
])
def test_absurd_flags_exit_2_naming_the_flag(tmp_path, monkeypatch, args, says):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(LENET, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--isolated", *args, "a.txt"])
    assert result.exit_code == 2
    assert says in result.stderr
    assert len(result.stderr) < 1000  # a 5,000-digit value is not echoed whole


def test_the_largest_budget_is_accepted():
    assert parse_count(str(MAX_BUDGET)) == MAX_BUDGET == parse_count(MAX_BUDGET)
    assert parse_bytes("1000000000000000000000000MB") == MAX_BUDGET
    with pytest.raises(UnitError, match="largest budget"):
        parse_count(MAX_BUDGET + 1)
    with pytest.raises(UnitError, match="a number of 5,001 digits is more than the largest"):
        parse_count(10**5000)


# --- globs -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("pattern", "says"), [
    ("[]", "'[]': the [ at character 1 is never closed; write [[] for a literal ["),
    ("[!]", "'[!]': the [ at character 1 is never closed"),
    ("a[bc", "'a[bc': the [ at character 2 is never closed"),
    ("[z-a]", "'[z-a]': the range z-a runs backwards; write a-z"),
    ("x/[9-0]*.txt", "'x/[9-0]*.txt': the range 9-0 runs backwards; write 0-9"),
])
@pytest.mark.parametrize("key", ["include", "exclude", "per-path"])
def test_malformed_globs_exit_2_naming_the_key(tmp_path, monkeypatch, pattern, says, key):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(LENET, encoding="utf-8")
    body = f"{key} = [{pattern!r}]" if key != "per-path" else \
        f"[[tool.cnncalc.per-path]]\npath = {pattern!r}\nmax-params = '1M'"
    (tmp_path / "pyproject.toml").write_text(f"[tool.cnncalc]\n{body}\n", encoding="utf-8")
    with pytest.raises(GlobError):
        Glob(pattern)
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 2, result.output
    name = "tool.cnncalc.per-path[0].path" if key == "per-path" else f"tool.cnncalc.{key}"
    assert f"pyproject.toml: {name}: {says}" in result.stderr


@pytest.mark.parametrize(("pattern", "name", "matches"), [
    ("[]]", "]", True), ("[]a]", "a", True), ("[!]]", "]", False), ("[!]]", "b", True),
    ("[.^\\\\]", "^", True), ("[.^\\\\]", "\\", True), ("[.^\\\\]", "x", False),
    ("[[]x", "[x", True), ("[a-c]", "b", True), ("[a-c]", "d", False), ("[-a]", "-", True),
    ("[a-]", "-", True), ("[!a]", "/", False),
])
def test_sets_read_as_fnmatch_reads_them(pattern, name, matches):
    assert Glob(pattern).match_name(name) is matches


PIECES = ["a", "b", "/", "*", "**", "**/", "?", "[ab]", "[!a]", ".", "[a-b]"]


def test_the_automaton_matches_as_the_regular_expression():
    rng = random.Random(11)
    for _ in range(3000):
        pattern = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 7)))
        tokens = _tokens(pattern)
        regex, automaton = re.compile("".join(tokens) + r"\Z"), _Automaton(tokens)
        for _ in range(10):
            path = "".join(rng.choice("ab/.") for _ in range(rng.randint(0, 9)))
            assert (regex.match(path) is not None) is automaton.match(path), (pattern, path)


@pytest.mark.parametrize(("pattern", "path"), [
    ("*a" * 20 + "*b", "a" * 250),  # a regular expression backtracks for hours
    ("**/" * 20 + "x", "a/" * 2000 + "y"),
    ("**a" * 10 + "b", "a" * 4000),
])
def test_many_wildcards_match_in_linear_time(pattern, path):
    start = time.perf_counter()
    assert not Glob(pattern).match(path)
    assert time.perf_counter() - start < 10  # a generous hang guard; about 0.01 s


# --- budgets and the baseline on incomplete totals (B404) ------------------------------------

@pytest.mark.parametrize(("table", "before", "expected"), [
    ({}, None, []),
    ({"max-params": "40K"}, None, ["B404 not judged: max-params 40K; the spec has errors, "
                                   "so its totals are withheld"]),
    ({"max-params": "40K", "max-macs": "2G", "max-activations": "1MiB"}, None,
     ["B404 not judged: max-params 40K, max-macs 2G, max-activations 1MiB; the spec has "
      "errors, so its totals are withheld"]),
    ({}, Figures(47_206, 164_640), ["B404 not judged: the baseline's params and MACs (W701);"
                                    " the spec has errors, so its totals are withheld"]),
    ({"max-params": "40K", "ignore": ["B401"]}, None, []),  # only selected budgets count
    ({"max-params": "40K", "ignore": ["B404"]}, None, []),
    ({"select": ["B402", "B404"], "max-params": "40K", "max-macs": "2G"}, None,
     ["B404 not judged: max-macs 2G; the spec has errors, so its totals are withheld"]),
])
def test_budgets_on_incomplete_totals_are_not_judged_and_b404_says_so(table, before,
                                                                      expected):
    found = [f for f in findings(BROKEN, table, before) if not f.startswith("G101")]
    assert found == expected
    assert not any(f.startswith(("B401", "B402", "B403", "W701"))
                   for f in findings(BROKEN, table, before))


def test_b404_is_information_and_suppressible_on_the_input_line():
    assert findings(BROKEN.replace("INPUT", "INPUT  # cnncalc: ignore[B404]"),
                    {"max-params": "1"})[0].startswith("G101")
    result = CliRunner().invoke(cli, ["rules", "B404"])
    assert result.stdout.startswith("B404 budget-not-judged (info)\n")
