"""`cnncalc check` on networks that are graphs: W504 (a layer nobody reads), the budget on the
inference-memory peak (B405) with peaks worked out by hand, B404 for it, its configuration,
and the peak in baselines and in the machine formats."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import ROOT

from cnncalc.check.baseline import Figures, read_baseline
from cnncalc.check.config import FILE_KEYS, KEYS, ConfigError, settings_from_table
from cnncalc.check.runner import analyse, check_analysis
from cnncalc.check.settings import Settings
from cnncalc.cli import cli
from cnncalc.diagnostics import RULES


def result_of(source: str, before: Figures | None = None, **config: object):
    table = {k.replace("_", "-"): v for k, v in config.items()}
    settings = settings_from_table(table, Path("pyproject.toml"), "tool.cnncalc") \
        if table else Settings()
    fs = settings.for_path("t.txt")
    return check_analysis(analyse(source, "t.txt", fs), fs, settings, before)


def check(source: str, before: Figures | None = None, **config: object
          ) -> list[tuple[int, int, str]]:
    """(line, col, code) of every finding; ``config`` is [tool.cnncalc] with ``_`` for ``-``."""
    return [(d.span.line, d.span.col, d.code)
            for d in result_of(source, before, **config).diagnostics]


# A ResNet basic block on an 8x8x16 input (identity shortcut): every volume is 8x8x16.
RESIDUAL = """[8x8x16] INPUT
CONV1: 16 3x3 filters at stride 1, pad 1, no bias
BN1
RELU1
CONV2: 16 3x3 filters at stride 1, pad 1, no bias
BN2
ADD from BN2, INPUT
RELU2
"""

# --- W504 unused-output --------------------------------------------------------------------

W504_CASES = [
    # a residual block: the shortcut (INPUT) and both branches are read
    (RESIDUAL, []),
    # a projection shortcut that the ADD forgets: it adds INPUT instead
    ("[8x8x16] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1\n"
     "CONV \"proj\" from INPUT: 16 1x1 filters\nADD from CONV1, INPUT\n", [(3, 1, "W504")]),
    # a branch of three layers nobody reads: only its end is reported
    ("[8x8x16] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1\n"
     "CONV2 from INPUT: 8 1x1 filters\nRELU2\nCONV3: 8 3x3 filters at stride 1, pad 1\n"
     "ADD from CONV1, INPUT\n", [(5, 1, "W504")]),
    # two dead ends, two findings
    ("[8x8x16] INPUT\nCONV1: 16 1x1 filters\nCONV2 from INPUT: 16 1x1 filters\n"
     "CONV3 from INPUT: 16 1x1 filters\nADD from CONV1, INPUT\n",
     [(3, 1, "W504"), (4, 1, "W504")]),
    # an Inception-like module that concatenates every branch: fine; one left out: reported
    ("[8x8x16] INPUT\nCONV \"b1\": 8 1x1 filters\nCONV \"b2\" from INPUT: 8 3x3 filters at "
     "stride 1, pad 1\nMAX POOL \"b3\" from INPUT: 3x3 filters at stride 1, pad 1\n"
     "CONCAT from b1, b2, b3\n", []),
    ("[8x8x16] INPUT\nCONV \"b1\": 8 1x1 filters\nCONV \"b2\" from INPUT: 8 3x3 filters at "
     "stride 1, pad 1\nMAX POOL \"b3\" from INPUT: 3x3 filters at stride 1, pad 1\n"
     "CONCAT from b1, b3\n", [(3, 1, "W504")]),
    # the output named with OUTPUT is not reported; the layer after it that nothing reads is
    ("[8x8x16] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1\nFC1: 10 neurons\n"
     "FC2 from CONV1: 10 neurons\nOUTPUT from FC1\n", [(4, 1, "W504")]),
    ("[8x8x16] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1\nFC1: 10 neurons\n"
     "FC2 from CONV1: 10 neurons\nOUTPUT from FC2\n", [(3, 1, "W504")]),
    # a chain is never reported, with or without OUTPUT naming its last layer
    ("[8x8x16] INPUT\nCONV1: 16 3x3 filters\nRELU1\nFC1: 10 neurons\n", []),
    ("[8x8x16] INPUT\nCONV1: 16 3x3 filters\nRELU1\nFC1: 10 neurons\nOUTPUT from FC1\n", []),
    # a chain whose output is named earlier: the layers after it are computed for nothing
    ("[8x8x16] INPUT\nCONV1: 16 3x3 filters\nRELU1\nFC1: 10 neurons\nOUTPUT from RELU1\n",
     [(4, 1, "W504")]),
    # `CROP ... like NAME` reads NAME (for its size)
    ("[8x8x16] INPUT\nCONV1: 8 3x3 filters\nCROP from INPUT: like CONV1\n", []),
    # ... resolved as the analysis resolves it, before the crop's own name is defined
    ("[8x8x16] INPUT\nCONV \"x\": 8 3x3 filters\nCONV2 from INPUT: 16 1x1 filters\n"
     "CROP \"x\" from CONV2: like x\n", []),
    # a reference that does not resolve: the readers are not known, so no W504 beside P016
    ("[8x8x16] INPUT\nCONV1: 16 1x1 filters\nCONV2 from INPUT: 16 1x1 filters\n"
     "ADD from CONV1, CONV3\n", [(4, 17, "P016")]),
    # a line that is not read might be the reader: no W504 beside a parse error
    ("[8x8x16] INPUT\nCONV1: 16 1x1 filters\nCONV2 from INPUT: 16 1x1 filters\n"
     "ADD frm CONV1, CONV2\n", "P"),
    # a layer in error is not reported, nor one not computed after it; the error comes first
    ("[8x8x16] INPUT\nCONV1: 16 1x1 filters\nCONV2 from INPUT: 16 5x5 filters at stride 2\n"
     "RELU2\nADD from CONV1, INPUT\n", [(3, 22, "G101")]),
    # an error elsewhere does not hide a dead branch whose wiring is known
    ("[8x8x16] INPUT\nCONV1: 16 1x1 filters\nCONV2 from INPUT: 16 1x1 filters\n"
     "ADD from CONV1, INPUT\nCONV3: 16 5x5 filters at stride 2\n",
     [(3, 1, "W504"), (5, 11, "G101")]),
]


@pytest.mark.parametrize(("source", "expected"), W504_CASES)
def test_unused_output(source, expected):
    found = check(source)
    if expected == "P":
        assert found and all(code[0] == "P" for _, _, code in found), found
    else:
        assert found == expected


def test_unused_output_message_and_hint():
    (d,) = result_of(W504_CASES[1][0]).diagnostics
    assert d.message == ("proj is computed for nothing: no later layer reads it, and the "
                         "network's output is ADD")
    assert d.hint == ("read it in a later layer with `from proj` (e.g. `ADD from proj, ...`), "
                      "name it as the network's output with `OUTPUT from proj`, or delete it")
    assert (d.span.line, d.span.col, d.span.end_col) == (3, 1, 39)  # the whole layer


def test_unused_output_hint_quotes_a_name_that_is_not_a_word():
    source = ("[8x8x16] INPUT\nCONV1: 16 1x1 filters\nCONV \"down.0\" from INPUT: 16 1x1 "
              "filters\nADD from CONV1, INPUT\n")
    (d,) = result_of(source).diagnostics
    assert '`OUTPUT from "down.0"`' in d.hint
    fixed = source + 'OUTPUT from "down.0"\n'  # the hint, followed: now the ADD is unread
    assert [c for _, _, c in check(fixed)] == ["W504"]
    assert result_of(fixed).diagnostics[0].message.startswith("ADD is computed for nothing")


BLOCK = """[8x8x16] INPUT
BLOCK res(C):
    CONV1: C 3x3 filters at stride 1, pad 1
    CONV2 from INPUT: C 1x1 filters{c}
    ADD from CONV1, INPUT
END
{uses}
FC: 10 neurons
"""


def test_a_block_line_is_reported_once_for_all_its_uses():
    (d,) = result_of(BLOCK.format(c="", uses="b: 2 x res(16)")).diagnostics
    assert (d.code, d.span.line, d.span.col) == ("W504", 4, 5)
    assert d.message.startswith("b.0.CONV2, b.1.CONV2 are computed for nothing: no later "
                                "layer reads them")
    assert "read it in a later layer of the block" in d.hint
    (d,) = result_of(BLOCK.format(c="", uses="b: 5 x res(16)")).diagnostics
    assert d.message.startswith("b.0.CONV2, b.1.CONV2, b.2.CONV2 and 2 more are computed")


def test_unused_output_is_suppressed_ignored_and_selected_like_any_rule():
    assert check(BLOCK.format(c="  # cnncalc: ignore[W504]", uses="b: 2 x res(16)")) == []
    source = BLOCK.format(c="", uses="b: 2 x res(16)")
    assert check(source, ignore=["W504"]) == []
    assert check(source, ignore=["W5"]) == []
    assert check(source, select=["W504"]) == [(4, 5, "W504")]
    assert check(source, select=["W501"]) == []


@pytest.mark.parametrize("path", sorted((ROOT / "specs").glob("*.txt")), ids=lambda p: p.name)
def test_no_shipped_chain_is_reported(path):
    text = path.read_text(encoding="utf-8")
    assert "W504" not in [c for _, _, c in check(text)]


def test_resnet18_in_canonical_notation_has_no_unused_layer():
    """Every block's shortcut is read by its ADD; the FC is the output."""
    blocks = """BLOCK basic(C, S=1):
    CONV1: C 3x3 filters at stride S, pad 1, no bias
    BN1
    RELU1
    CONV2: C 3x3 filters at stride 1, pad 1, no bias
    BN2
    ADD from BN2, INPUT
    RELU2
END
BLOCK down(C, S=2):
    CONV1: C 3x3 filters at stride S, pad 1, no bias
    BN1
    RELU1
    CONV2: C 3x3 filters at stride 1, pad 1, no bias
    BN2
    CONV "downsample.0" from INPUT: C 1x1 filters at stride S, no bias
    BATCHNORM "downsample.1"
    ADD from BN2, "downsample.1"
    RELU2
END
"""
    source = ("ROUNDING: floor\n[224x224x3] INPUT\nCONV1: 64 7x7 filters at stride 2, pad 3, "
              "no bias\nBN1\nRELU1\nMAX POOL1: 3x3 filters at stride 2, pad 1\n" + blocks +
              "layer1: 2 x basic(64)\nlayer2: down(128), basic(128)\nlayer3: down(256), "
              "basic(256)\nlayer4: down(512), basic(512)\nGLOBAL AVG POOL\nFC: 1000 neurons\n")
    result = result_of(source)
    assert result.totals is not None and result.totals.params == 11_689_512
    assert {d.code for d in result.diagnostics} == {"G107"}  # the floor roundings only
    # the ADD reads the projection before its batch norm: the norm is computed for nothing,
    # in each of the three uses of the block (one finding, on the block's line)
    broken = source.replace('ADD from BN2, "downsample.1"', 'ADD from BN2, "downsample.0"')
    (d,) = [d for d in result_of(broken).diagnostics if d.code != "G107"]
    assert (d.code, d.span.line, d.span.col) == ("W504", 23, 5)
    assert d.message.startswith("layer2.0.downsample.1, layer3.0.downsample.1, "
                                "layer4.0.downsample.1 are computed for nothing")


# --- B405 max-peak-activations: peaks worked out by hand -----------------------------------

PEAKS = [
    # RESIDUAL: 1,024 elements a volume; the input lives until the ADD (step 6) has run, so
    # steps 2-6 hold three volumes (input, the layer's input, its output); step 7 two.
    (RESIDUAL, 3 * 1024, 7 * 1024),
    # the same layers without the shortcut (a chain): two volumes at a time
    (RESIDUAL.replace("ADD from BN2, INPUT", "RELU3"), 2 * 1024, 7 * 1024),
    # a projection shortcut at stride 2: input 1,024, the other volumes 4x4x32 = 512.
    # CONV1: in + c1 = 1,536; CONV2: in + c1 + c2 = 2,048, c1 freed; proj: in + c2 + proj =
    # 2,048, in freed; ADD: c2 + proj + add = 1,536
    ("ROUNDING: floor\n[8x8x16] INPUT\nCONV1: 32 3x3 filters at stride 2, pad 1\n"
     "CONV2: 32 3x3 filters at stride 1, pad 1\nCONV \"proj\" from INPUT: 32 1x1 filters at "
     "stride 2\nADD from CONV2, proj\n", 2048, 4 * 512),
    # an Inception-like module: b1 and b2 8x8x8 (512), b3 8x8x16 (1,024), the concat 8x8x32
    # (2,048). b3: in + b1 + b2 + b3 = 3,072, in freed; concat: b1 + b2 + b3 + cat = 4,096
    ("[8x8x16] INPUT\nCONV \"b1\": 8 1x1 filters\nCONV \"b2\" from INPUT: 8 3x3 filters at "
     "stride 1, pad 1\nMAX POOL \"b3\" from INPUT: 3x3 filters at stride 1, pad 1\n"
     "CONCAT from b1, b2, b3\n", 4096, 4096),
    # the output is kept to the end: CONV1 named as OUTPUT stays alive beside CONV2 and CONV3
    ("[8x8x16] INPUT\nCONV1: 16 1x1 filters\nCONV2: 16 1x1 filters\nCONV3: 16 1x1 filters\n"
     "OUTPUT from CONV1  # cnncalc: ignore[W504]\n", 3 * 1024, 3 * 1024),
]


# Two branches of two 1x1 convolutions on an 8x8x16 input (1,024): a1, b1 8x8x32 (2,048),
# a2, b2 8x8x4 (256), the concat 8x8x8 (512); the input lives until b1 has run.
BRANCHES_IN_TURN = """[8x8x16] INPUT
CONV "a1": 32 1x1 filters
CONV "a2": 4 1x1 filters
CONV "b1" from INPUT: 32 1x1 filters
CONV "b2": 4 1x1 filters
CONCAT from a2, b2
"""
BRANCHES_SIDE_BY_SIDE = """[8x8x16] INPUT
CONV "a1": 32 1x1 filters
CONV "b1" from INPUT: 32 1x1 filters
CONV "a2" from a1: 4 1x1 filters
CONV "b2" from b1: 4 1x1 filters
CONCAT from a2, b2
"""
PEAKS += [
    # a2: in + a1 + a2 = 1,024 + 2,048 + 256 = 3,328, a1 freed; b1: in + a2 + b1 = 3,328
    (BRANCHES_IN_TURN, 3328, 5120),
    # b1: in + a1 + b1 = 1,024 + 2 x 2,048 = 5,120, the worst step
    (BRANCHES_SIDE_BY_SIDE, 5120, 5120),
]


@pytest.mark.parametrize(("source", "peak", "total"), PEAKS)
def test_peak_figures_by_hand(source, peak, total):
    result = result_of(source)
    assert result.totals is not None
    assert (result.totals.peak_activations, result.totals.activations) == (peak, total)
    assert result.peak_activation_bytes == peak * 4


@pytest.mark.parametrize(("config", "expected"), [
    # 3,072 elements x 4 B = 12,288 B at float32, batch 1
    ({"max_peak_activations": "12288"}, []),
    ({"max_peak_activations": "12KiB"}, []),
    ({"max_peak_activations": "12287"}, [(1, 1, "B405")]),
    ({"max_peak_activations": "12.288KB"}, []),
    ({"max_peak_activations": "12.287KB"}, [(1, 1, "B405")]),
    # batch 2 at float16: 3,072 x 2 B x 2 = 12,288 B again; float64: twice that
    ({"max_peak_activations": "12288", "batch": 2, "dtype": "float16"}, []),
    ({"max_peak_activations": "12288", "dtype": "float64"}, [(1, 1, "B405")]),
    # the sum of the outputs (7,168 elements, 28,672 B) is what max-activations judges
    ({"max_activations": "12288"}, [(1, 1, "B403")]),
    ({"max_activations": "28672", "max_peak_activations": "12288"}, []),
    ({"max_activations": "28671", "max_peak_activations": "12287"},
     [(1, 1, "B403"), (1, 1, "B405")]),
])
def test_peak_budget(config, expected):
    assert check(RESIDUAL, **config) == expected


def test_peak_budget_message():
    (d,) = result_of(RESIDUAL, max_peak_activations="10KB").diagnostics
    assert d.message == ("peak activation memory 12,288 B (12 KiB: 3,072 elements alive at "
                         "once x 4 B float32 x batch 1): over max-peak-activations 10KB "
                         "(10,000) by 2,288 (+22.9%)")
    assert d.hint == ("shrink the network, or raise max-peak-activations (set in "
                      "pyproject.toml [tool.cnncalc])")


def test_peak_budget_not_judged_on_withheld_totals():
    source = RESIDUAL.replace("CONV2: 16 3x3 filters at stride 1, pad 1",
                              "CONV2: 16 3x3 filters at stride 2")
    result = result_of(source, max_peak_activations="1KB", max_params="1")
    assert [d.code for d in result.diagnostics] == ["B404", "G101"]
    assert result.diagnostics[0].message == (
        "not judged: max-params 1, max-peak-activations 1KB; the spec has errors, so its "
        "totals are withheld")
    only_peak = result_of(source, max_peak_activations="1KB", select=["B405", "B404", "G"])
    assert "not judged: max-peak-activations 1KB;" in only_peak.diagnostics[0].message
    unselected = result_of(source, max_peak_activations="1KB", ignore=["B405"])
    assert [d.code for d in unselected.diagnostics] == ["G101"]


ASSUMED = ("# cnncalc: input 32x32x3\nNet(\n  (conv): Conv2d(3, 8, kernel_size=(3, 3))\n"
           "  (relu): ReLU()\n)\n")


def test_peak_budget_not_judged_on_an_assumed_wiring():
    """The peak rests on the wiring itself: not judged when cnncalc assumed it (P014)."""
    result = result_of(ASSUMED, max_peak_activations="1KB", max_params="1K")
    assert [d.code for d in result.diagnostics] == ["B404", "P014"]
    assert result.diagnostics[0].message.startswith(
        "not judged: max-peak-activations 1KB; those totals rest on an assumed wiring (P014)")
    before = Figures(224, 1, 1)
    found = result_of(ASSUMED, before, max_params="1K").diagnostics
    assert "not judged: the baseline's MACs and peak activations (W701)" in found[0].message
    assert [d.code for d in found] == ["B404", "P014"]  # params equal: no W701


# --- configuration -------------------------------------------------------------------------

def test_peak_budget_in_the_configuration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "res.txt").write_text(RESIDUAL, encoding="utf-8")
    (tmp_path / "specs" / "small.txt").write_text(RESIDUAL, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.cnncalc]\nmax-peak-activations = "10KB"\n\n[[tool.cnncalc.per-path]]\n'
        'path = "specs/small.txt"\nmax-peak-activations = "12KiB"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--output-format", "concise", "specs"])
    assert result.exit_code == 1
    assert result.stdout.startswith(
        "specs/res.txt:1:1: B405 peak activation memory 12,288 B (12 KiB: 3,072 elements alive "
        "at once x 4 B float32 x batch 1): over max-peak-activations 10KB (10,000) by 2,288 "
        "(+22.9%)\n1 finding in 1 file")
    flag = CliRunner().invoke(cli, ["check", "--output-format", "concise",
                                    "--max-peak-activations", "12KiB", "specs"])
    assert flag.exit_code == 0, flag.output  # the flag overrides both


@pytest.mark.parametrize(("value", "says"), [
    ('"12K"', "'12K': say which bytes, e.g. 12KB (1000-based) or 12KiB (1024-based)"),
    ("true", "true is not a size in bytes"),
    ('"-1KB"', "'-1KB' is not a size in bytes"),
])
def test_bad_peak_budget_names_the_key(value, says):
    with pytest.raises(ConfigError, match=re.escape(f"tool.cnncalc.max-peak-activations: "
                                                    f"{says}")):
        settings_from_table({"max-peak-activations": json.loads(value) if value != "true"
                             else True}, Path("pyproject.toml"), "tool.cnncalc")


def test_bad_peak_flag_exits_2():
    result = CliRunner().invoke(cli, ["check", "--max-peak-activations", "5M", "-"], input="")
    assert result.exit_code == 2 and "say which bytes" in result.output


def test_docs_list_every_key_and_code():
    """docs/ci.md documents every configuration key and every code check adds."""
    doc = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    for key in (*KEYS, *FILE_KEYS):
        assert f"{key} =" in doc or f"`{key}`" in doc, key
    assert "--max-peak-activations" in doc
    for code in RULES:
        if code[0] in "BWS":
            assert f"| {code} | {RULES[code].name} |" in doc, code


# --- baselines and machine formats ----------------------------------------------------------

def test_baseline_records_and_compares_the_peak(tmp_path, monkeypatch):
    """Running the branches in another order changes the peak, not params or MACs."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.txt").write_text(BRANCHES_IN_TURN, encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["check", "--isolated", "--write-baseline", "b.json",
                               "net.txt"]).exit_code == 0
    # params: a1, b1 16 x 32 + 32 = 544; a2, b2 32 x 4 + 4 = 132. MACs: a1, b1 64 x 32 x 16
    # = 32,768; a2, b2 64 x 4 x 32 = 8,192
    assert json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))["specs"] == {
        "net.txt": {"params": 1352, "macs": 81920, "peak_activations": 3328}}
    assert read_baseline(tmp_path / "b.json") == {"net.txt": Figures(1352, 81920, 3328)}
    (tmp_path / "net.txt").write_text(BRANCHES_SIDE_BY_SIDE, encoding="utf-8")
    result = runner.invoke(cli, ["check", "--isolated", "--output-format", "concise",
                                 "--baseline", "b.json", "net.txt"])
    assert result.stdout.splitlines()[0] == (
        "net.txt:1:1: W701 totals changed since the baseline: params unchanged (1,352), MACs "
        "unchanged (81,920), peak activations 3,328 -> 5,120 (+1,792, +53.85%)")
    assert result.exit_code == 0  # a warning


def test_an_old_baseline_without_the_peak_still_compares(tmp_path):
    (tmp_path / "b.json").write_text(json.dumps({"version": 1, "specs": {
        "t.txt": {"params": 4672, "macs": 294912}}}), encoding="utf-8")
    before = read_baseline(tmp_path / "b.json")["t.txt"]
    assert before == Figures(4672, 294912, None)
    assert check(RESIDUAL, before) == []  # the peak is not compared: nothing recorded
    assert check(RESIDUAL, Figures(4672, 294912, 3072)) == []
    (d,) = result_of(RESIDUAL, Figures(4672, 294912, 2048)).diagnostics
    assert d.message == ("totals changed since the baseline: params unchanged (4,672), MACs "
                         "unchanged (294,912), peak activations 2,048 -> 3,072 (+1,024, "
                         "+50.00%)")


@pytest.mark.parametrize("fmt", ["concise", "github", "junit", "json", "full"])
def test_machine_formats_show_the_new_rules(tmp_path, monkeypatch, fmt):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.txt").write_text(W504_CASES[1][0], encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--isolated", "--output-format", fmt,
                                      "--max-peak-activations", "1KB", "g.txt"])
    assert result.exit_code == 1
    out = result.stdout
    if fmt == "github":
        assert ("::warning file=g.txt,line=3,col=1,endColumn=39,title=cnncalc W504::proj is "
                "computed for nothing") in out
        assert "[W504 unused-output]%0Ahint: read it in a later layer" in out
        assert "title=cnncalc B405::peak activation memory 12,288 B" in out
    elif fmt == "junit":
        assert '<failure type="B405"' in out
        assert "g.txt:3:1: W504 warning: proj is computed for nothing" in out
    elif fmt == "json":
        record = json.loads(out)
        assert [(d["code"], d["name"], d["severity"]) for d in record["diagnostics"]] == [
            ("B405", "max-peak-activations", "error"), ("W504", "unused-output", "warning")]
        totals = record["files"][0]["totals"]
        # in + conv1 + proj while proj runs: 3 x 1,024
        assert (totals["peak_activations"], totals["peak_activation_bytes"]) == (3072, 12288)
    elif fmt == "concise":
        assert "g.txt:3:1: W504 proj is computed for nothing" in out
    else:
        assert "g.txt:3:1: warning: proj is computed for nothing: no later layer reads it, " \
               "and the network's output is ADD [W504 unused-output]" in out
