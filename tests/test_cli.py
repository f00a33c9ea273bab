"""``cnncalc show``: exit codes (0 clean, 1 the spec has errors, 2 usage problems), standard
input, --input, and what goes to stdout and to stderr."""

from __future__ import annotations

import json

import pytest
from helpers import ROOT

from cnncalc.cli import cli, main

CLEAN = "[8x8x3] INPUT\nCONV1: 2 3x3 filters\nFC1: 10 neurons\n"


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
@pytest.mark.parametrize("spec", ["specs/alexnet.txt", "specs/lenet5.txt", "specs/vgg16.txt",
                                  "specs/three_3x3.txt", "specs/one_7x7.txt"])
def test_clean_spec_exits_0(runner, spec, fmt):
    result = runner.invoke(cli, ["show", "--format", fmt, "--width", "80", spec])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()
    assert result.stderr == ""


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_spec_with_errors_exits_1(runner, fmt):
    result = runner.invoke(cli, ["show", "--format", fmt, "--width", "80",
                                 "specs/alexnet224.txt"])
    assert result.exit_code == 1
    assert result.stdout.strip()  # the table (or record) is still printed
    if fmt == "json":
        assert json.loads(result.stdout)["diagnostics"][0]["code"] == "G101"
    else:
        assert "[G101 filter-does-not-fit]" in result.stderr
        assert "G101" not in result.stdout


def test_parse_error_exits_1(runner):
    result = runner.invoke(cli, ["show", "-"], input="[8x8x3] INPUT\nCNV1: 2 3x3 filters\n")
    assert result.exit_code == 1
    assert "<stdin>:2:1: error: unknown layer `CNV1`" in result.stderr
    assert "did you mean `CONV`?" in result.stderr


def test_info_only_exits_0(runner):
    """An I301 note (a solved `pad ?`) is not an error."""
    result = runner.invoke(cli, ["show", "-"],
                           input="[32x32x3] INPUT\nCONV1: 6 5x5 filters at stride 1, pad ?\n")
    assert result.exit_code == 0, result.output
    assert "info: CONV1: pad ? solved as pad 0" in result.stderr
    assert "[I301 padding-solved]" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["show", "no/such/file.txt"], "does not exist"),
    (["show", "specs"], "is a directory"),
    (["show", "--format", "xml", "specs/alexnet.txt"], "'xml' is not one of"),
    (["show", "--input", "0x5x3", "specs/alexnet.txt"], "'0x5x3'"),
    (["show", "--input", "abc", "specs/alexnet.txt"], "'abc'"),
    (["show", "--input", "224x224", "specs/alexnet.txt"], "'224x224'"),
    (["show", "--input", "-3x5x5", "specs/alexnet.txt"], "--input"),
    (["show", "--width", "10", "specs/alexnet.txt"], "--width"),
    (["show"], "Missing argument"),
    (["show", "--bogus", "specs/alexnet.txt"], "No such option"),
    (["frobnicate"], "No such command"),
])
def test_usage_errors_exit_2(runner, args, message):
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_stdin(runner):
    result = runner.invoke(cli, ["show", "--format", "json", "-"], input=CLEAN)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["path"] == "<stdin>"
    assert data["input"] == [8, 8, 3]
    assert [x["output_shape"] for x in data["layers"]] == [[6, 6, 2], [10]]
    assert data["totals"]["params"] == (3 * 3 * 3 * 2 + 2) + (6 * 6 * 2 * 10 + 10)


def test_stdin_table(runner):
    result = runner.invoke(cli, ["show", "--width", "80", "-"], input=CLEAN)
    assert result.exit_code == 0
    assert "CONV1" in result.stdout and "6x6x2" in result.stdout
    assert "786 params (774 weights + 12 biases)" in result.stdout


def test_input_override_gives_g101(runner):
    result = runner.invoke(cli, ["show", "--format", "json", "--input", "224x224x3",
                                 "specs/alexnet.txt"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["input"] == [224, 224, 3]
    assert data["totals"] is None
    (d,) = data["diagnostics"]
    assert d["code"] == "G101"
    assert "(224 - 11 + 2*0)/4 + 1 = 54.25" in d["message"]
    assert d["line"] == 4  # CONV1's line in specs/alexnet.txt


def test_input_override_table_goes_to_stderr(runner):
    result = runner.invoke(cli, ["show", "--width", "80", "--input", "224x224x3",
                                 "specs/alexnet.txt"])
    assert result.exit_code == 1
    assert "specs/alexnet.txt:4:22: error: (224 - 11 + 2*0)/4 + 1 = 54.25" in result.stderr


def test_input_override_that_fits(runner):
    """The 224 spec at 227x227x3 is the AlexNet slide again."""
    result = runner.invoke(cli, ["show", "--format", "json", "--input", "227x227x3",
                                 "specs/alexnet224.txt"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["totals"]["params"] == 62_378_344
    assert data["diagnostics"] == []


def test_input_supplies_missing_input_line(runner):
    text = "CONV1: 2 3x3 filters\nFC1: 10 neurons\n"
    result = runner.invoke(cli, ["show", "--format", "json", "--input", "8x8x3", "-"],
                           input=text)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["input"] == [8, 8, 3]
    assert data["diagnostics"] == []
    assert data["layers"][0]["output_shape"] == [6, 6, 2]


@pytest.mark.parametrize("spelling", ["8x8x3", "8X8X3", "8\u00d78\u00d73"])
def test_input_spellings(runner, spelling):
    result = runner.invoke(cli, ["show", "--format", "json", "--input", spelling, "-"],
                           input="CONV1: 2 3x3 filters\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["input"] == [8, 8, 3]


def test_input_vector(runner):
    result = runner.invoke(cli, ["show", "--format", "json", "--input", "4096", "-"],
                           input="FC1: 10 neurons\n")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["input"] == [4096]
    assert data["layers"][0]["params"] == 40_970


def test_missing_input_line_without_option(runner):
    result = runner.invoke(cli, ["show", "-"], input="CONV1: 2 3x3 filters\n")
    assert result.exit_code == 1
    assert "<stdin>:1:1: error: no input volume" in result.stderr
    assert "[P004 missing-input]" in result.stderr


def test_diagnostic_shows_source_and_caret(runner):
    result = runner.invoke(cli, ["show", "--width", "80", "specs/alexnet224.txt"])
    lines = result.stderr.splitlines()
    assert lines[0].startswith("specs/alexnet224.txt:6:22: error: ")
    assert lines[1] == "    6 | [55x55x96] CONV1: 96 11x11 filters at stride 4, pad 0"
    caret = lines[2]
    assert caret.startswith("      | ")
    start = caret.index("^")
    # the caret is under `11x11 ... pad 0`
    assert lines[1][start:].startswith("11x11")
    assert caret.rstrip().endswith("^")
    assert len(caret.rstrip()) == len(lines[1])
    assert lines[3].startswith("  hint: ")


def test_undecodable_file_exits_1(runner, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"[8x8x3] INPUT\nCONV1: 2 3x3 filters \xff\n")
    result = runner.invoke(cli, ["show", str(bad)])
    assert result.exit_code == 1
    assert "P006" in result.stderr


def test_utf8_bom_is_ignored(runner):
    result = runner.invoke(cli, ["show", "--format", "json", "-"],
                           input="\ufeff" + CLEAN)
    assert result.exit_code == 0, result.output


def test_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert "cnncalc" in result.stdout


def test_main_entry_point_exit_codes(monkeypatch, capsys):
    """`main` (the console script) keeps the exit codes."""
    monkeypatch.chdir(ROOT)
    for argv, code in ((["show", "--format", "json", "specs/alexnet.txt"], 0),
                       (["show", "--format", "json", "specs/alexnet224.txt"], 1),
                       (["show", "specs/nope.txt"], 2)):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == code, argv
    capsys.readouterr()


ROUNDED = "ROUNDING: floor\n[224x224x3] INPUT\nCONV1: 96 11x11 filters at stride 4, pad 0{}\n"


@pytest.mark.parametrize("comment, shown", [
    ("", True),                                  # (224 - 11)/4 + 1 = 54.25: G107
    ("  # cnncalc: ignore[G107]", False),        # silenced, as check silences it
    ("  # cnncalc: ignore[G101]", True),         # another code silences nothing
    ('  "# cnncalc: ignore[G107]"', None),       # not a comment: a parse error instead
])
def test_show_leaves_out_warnings_an_ignore_comment_silences(runner, comment, shown):
    result = runner.invoke(cli, ["show", "--width", "80", "-"], input=ROUNDED.format(comment))
    if shown is None:
        assert result.exit_code == 1 and "error" in result.stderr
        return
    assert result.exit_code == 0, result.output
    assert ("[G107 rounded]" in result.stderr) is shown
    assert "55x55x96" not in result.stdout and "54x54x96" in result.stdout


def test_show_prints_an_error_even_where_a_comment_ignores_it(runner):
    text = ("[224x224x3] INPUT\n"
            "CONV1: 96 11x11 filters at stride 4, pad 0  # cnncalc: ignore[G101]\n")
    result = runner.invoke(cli, ["show", "--width", "80", "-"], input=text)
    assert result.exit_code == 1  # the figures are withheld, so the reason is always printed
    assert "[G101 filter-does-not-fit]" in result.stderr


def test_show_json_keeps_every_diagnostic(runner):
    text = ROUNDED.format("  # cnncalc: ignore[G107]")
    result = runner.invoke(cli, ["show", "--format", "json", "-"], input=text)
    assert [d["code"] for d in json.loads(result.stdout)["diagnostics"]] == ["G107"]
