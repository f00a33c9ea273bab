"""``cnncalc diff A B`` (issue 13, item 5): two descriptions of one network, in any notations,
aligned layer by layer; every difference in volume, params, buffers, MACs or wiring listed;
exit 0 when they agree, 1 when they differ, 2 on usage problems or a side that cannot be
analysed.

The figures asserted are worked by hand in the comments (conv params ``F*F*C_in*K + K``, MACs
``H2*W2*K*F*F*C_in``; FC ``in*out + out``, MACs ``in*out``), and where a framework gives them,
taken from it: tests/fixtures/diff/figures.json (torch, for the lecture's AlexNet printed by
PyTorch) and tests/fixtures/torchvision/figures.json.
"""

from __future__ import annotations

import json
import random
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from helpers import ROOT, analyze_text

from cnncalc import align as align_module
from cnncalc.align import Budget, align, by_position
from cnncalc.cli import cli
from cnncalc.compare import Comparison, compare

FIXTURES = ROOT / "tests" / "fixtures"
SLIDE = "tests/fixtures/diff/alexnet_slide.txt"
TORCHVISION = "tests/fixtures/torchvision/alexnet.txt"
TORCH_FIGURES = json.loads((FIXTURES / "diff" / "figures.json").read_text(encoding="utf-8"))
TV_FIGURES = json.loads((FIXTURES / "torchvision" / "figures.json").read_text(
    encoding="utf-8"))["models"]


def run(runner: CliRunner, *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(cli, ["diff", *args], input=stdin)


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def changed(data: Any) -> list[tuple[str | None, str | None, str, list[str]]]:
    """The rows that are differences: (A's name, B's name, status, what differs)."""
    return [((r["a"] or {}).get("name"), (r["b"] or {}).get("name"), r["status"], r["differs"])
            for r in data["rows"] if r["status"] in ("changed", "a-only", "b-only")]


def both(source_a: str, source_b: str) -> Comparison:
    return compare(analyze_text(source_a, "a.txt"), analyze_text(source_b, "b.txt"))


# ---- one network in two notations -----------------------------------------------------------

def test_the_slide_and_pytorchs_print_of_it_agree(runner: CliRunner) -> None:
    """specs/alexnet.txt (the lecture) against the same network built in torch and printed:
    torch counts 62,378,344 params and 1,135,256,096 MACs, as the lecture's figures."""
    result = run(runner, "specs/alexnet.txt", SLIDE, "--input-b", "227x227x3")
    assert result.exit_code == 0, result.output
    torch_figures = TORCH_FIGURES["alexnet_slide"]
    assert (torch_figures["params"], torch_figures["macs"]) == (62_378_344, 1_135_256_096)
    lines = result.stdout.splitlines()
    words = [line.split() for line in lines]
    assert ["params", "62,378,344", "62,378,344"] in words
    assert ["MACs", "1,135,256,096", "1,135,256,096"] in words
    assert lines[-1] == ("A and B agree: 11 layers aligned, with the same volumes, params, "
                         "buffers and MACs, wired alike.")
    assert "... 11 layers agree: CONV1 / features.0 to FC8 / classifier.6" in result.stdout
    data = as_json(run(runner, "specs/alexnet.txt", SLIDE, "--input", "227x227x3",
                       "--format", "json"))
    assert data["same"] is True and data["differences"] == 0
    assert data["totals"]["params"] == {"a": 62_378_344, "b": 62_378_344, "delta": 0}
    # the ReLUs, dropouts and the flatten are torch's only; the LRNs pair with the NORMs
    context = [(r["a"] and r["a"]["name"], r["b"] and r["b"]["name"]) for r in data["rows"]
               if r["status"] == "context"]
    assert ("NORM1", "features.3") in context and ("NORM2", "features.7") in context
    assert (None, "flatten") in context and len(context) == 2 + 7 + 1 + 2


def test_the_slide_and_torchvisions_alexnet_differ_exactly(runner: CliRunner) -> None:
    """torchvision's AlexNet is the one-GPU variant (64, 192, 384, 256, 256 filters, CONV1
    padded by 2, no LRN) at 224x224x3. Per layer, by hand:
    CONV1 11*11*3*96+96 = 34,944 vs 11*11*3*64+64 = 23,296; MACs 55*55*96*363 = 105,415,200
    vs 55*55*64*363 = 70,276,800. CONV2 5*5*96*256+256 = 614,656 vs 5*5*64*192+192 =
    307,392. CONV3 3*3*256*384+384 = 885,120 vs 3*3*192*384+384 = 663,936 (same volume).
    CONV4 1,327,488 (13x13x384) vs 884,992 (13x13x256). CONV5 884,992 vs 3*3*256*256+256 =
    590,080 (same volume). MAX POOL3 on: 6x6x256 both, so FC6-8 agree."""
    result = run(runner, "specs/alexnet.txt", TORCHVISION, "--input-b", "224x224x3",
                 "--format", "json")
    assert result.exit_code == 1
    data = as_json(result)
    assert changed(data) == [
        ("CONV1", "features.0", "changed", ["output", "params", "macs"]),
        ("MAX POOL1", "features.2", "changed", ["output"]),
        ("CONV2", "features.3", "changed", ["output", "params", "macs"]),
        ("MAX POOL2", "features.5", "changed", ["output"]),
        ("CONV3", "features.6", "changed", ["params", "macs"]),
        ("CONV4", "features.8", "changed", ["output", "params", "macs"]),
        ("CONV5", "features.10", "changed", ["params", "macs"]),
    ]
    rows = {r["a"]["name"]: (r["a"], r["b"]) for r in data["rows"] if r["a"] and r["b"]}
    figures = {name: [(s["params"], s["macs"], s["output_shape"]) for s in rows[name]]
               for name in ("CONV1", "CONV3", "CONV4", "CONV5")}
    assert figures == {
        "CONV1": [(34_944, 105_415_200, [55, 55, 96]), (23_296, 70_276_800, [55, 55, 64])],
        "CONV3": [(885_120, 149_520_384, [13, 13, 384]), (663_936, 112_140_288, [13, 13, 384])],
        "CONV4": [(1_327_488, 224_280_576, [13, 13, 384]), (884_992, 149_520_384, [13, 13, 256])],
        "CONV5": [(884_992, 149_520_384, [13, 13, 256]), (590_080, 99_680_256, [13, 13, 256])],
    }
    assert data["input_differs"] is True and data["output_differs"] == []
    tv = TV_FIGURES["alexnet"]
    assert data["totals"]["params"] == {"a": 62_378_344, "b": tv["params"],
                                        "delta": 61_100_840 - 62_378_344}
    assert data["totals"]["macs"] == {"a": 1_135_256_096, "b": tv["macs"],
                                      "delta": 714_188_480 - 1_135_256_096}
    assert data["differences"] == 8  # seven layers and the input


def test_the_human_listing_of_the_alexnets(runner: CliRunner) -> None:
    result = run(runner, "specs/alexnet.txt", TORCHVISION, "--input-b", "224x224x3")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "A  specs/alexnet.txt: lecture notation, input 227x227x3",
        "B  tests/fixtures/torchvision/alexnet.txt: pytorch notation, input 224x224x3"]
    assert [line.split() for line in lines if line.startswith(("-  CONV1", "+  features.0 "))] == [
        ["-", "CONV1", "11x11", "s4", "p0", "55x55x96", "34,944", "105,415,200", "output,",
         "params,", "MACs"],
        ["+", "features.0", "11x11", "s4", "p2", "55x55x64", "23,296", "70,276,800"]]
    assert "-  INPUT" in result.stdout and "+  INPUT" in result.stdout
    assert any(line.split()[:3] == ["NORM1", "lrn", "27x27x96"] and
               line.endswith("A only, changes nothing") for line in lines)
    assert "   ... 4 layers agree: MAX POOL3 / features.12 to FC8 / classifier.6 " \
           "(and 6 context layers)" in lines
    words = [line.split() for line in lines]
    assert ["params", "62,378,344", "61,100,840", "-1,277,504"] in words
    assert ["MACs", "1,135,256,096", "714,188,480", "-421,067,616"] in words
    assert lines[-1] == "A and B differ: the input, 7 layers changed."


def test_keras_code_and_the_lecture_agree(runner: CliRunner) -> None:
    """LeNet-5: 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706 params; MACs 117,600 +
    240,000 + 48,000 + 10,080 + 840 = 416,520. Keras's Flatten is context."""
    result = run(runner, "specs/lenet5.txt", "tests/fixtures/diff/lenet5_keras.py",
                 "--format", "json")
    assert result.exit_code == 0
    data = as_json(result)
    assert data["b"]["notation"] == "keras"
    assert data["totals"]["params"]["b"] == 61_706 and data["totals"]["macs"]["b"] == 416_520
    pairs = [(r["a"]["name"], r["b"]["name"]) for r in data["rows"] if r["status"] == "same"]
    assert pairs[0] == ("CONV1", "conv2d") and pairs[-1] == ("FC5", "dense_1")


def test_resnet18_in_two_canonical_texts_agrees(runner: CliRunner) -> None:
    result = run(runner, "specs/resnet18.txt", "tests/fixtures/show/resnet18.txt")
    assert result.exit_code == 0, result.output
    assert "A and B agree: 51 layers aligned" in result.stdout
    # specs/resnet18.txt silences its rounding warnings (# cnncalc: ignore[G107]), as show does
    assert result.stdout.splitlines()[0] == ("A  specs/resnet18.txt: lecture notation, input "
                                             "224x224x3")


# ---- the differences, one at a time ---------------------------------------------------------

BASE = """ROUNDING: floor
[32x32x3] INPUT
CONV1: 16 3x3 filters at stride 1, pad 1
RELU1
MAX POOL1: 2x2 filters at stride 2
CONV2: 32 3x3 filters at stride 1, pad 1
RELU2
GLOBAL AVG POOL
FC: 10 neurons
"""
# CONV1 3*3*3*16+16 = 448, MACs 32*32*16*27 = 442,368; pool to 16x16x16;
# CONV2 3*3*16*32+32 = 4,640, MACs 16*16*32*144 = 1,179,648; FC 32*10+10 = 330, MACs 320.
# Totals: 5,418 params, 1,622,336 MACs.


def _rows(c: Comparison) -> list[tuple[str | None, str | None, str, tuple[str, ...]]]:
    return [(r.a and r.a.layer.name, r.b and r.b.layer.name, r.status, r.differs)
            for r in c.rows if r.is_difference]


def test_identical_text_agrees() -> None:
    c = both(BASE, BASE)
    assert c.same and c.totals == (("params", 5_418, 5_418), ("buffers", 0, 0),
                                   ("macs", 1_622_336, 1_622_336))


def test_a_changed_stride() -> None:
    """CONV2 at stride 2: floor((16 - 3 + 2)/2) + 1 = 8, so 8x8x32 and 8*8*32*144 =
    294,912 MACs; params unchanged; the global pool still gives 32."""
    c = both(BASE, BASE.replace("32 3x3 filters at stride 1", "32 3x3 filters at stride 2"))
    assert _rows(c) == [("CONV2", "CONV2", "changed", ("layer", "output", "macs"))]
    pair = next(r for r in c.rows if r.is_difference)
    assert pair.b is not None and (pair.b.output_shape, pair.b.macs) == ((8, 8, 32), 294_912)
    assert c.totals[2] == ("macs", 1_622_336, 442_368 + 294_912 + 320)


def test_a_changed_filter_count() -> None:
    """CONV1 with 24 filters: 3*3*3*24+24 = 672 params, 32*32*24*27 = 663,552 MACs; the pool
    gives 16x16x24; CONV2 then has 3*3*24*32+32 = 6,944 params, 16*16*32*216 = 1,769,472
    MACs, with the same volume."""
    c = both(BASE, BASE.replace("16 3x3", "24 3x3"))
    assert _rows(c) == [("CONV1", "CONV1", "changed", ("output", "params", "macs")),
                        ("MAX POOL1", "MAX POOL1", "changed", ("output",)),
                        ("CONV2", "CONV2", "changed", ("params", "macs"))]
    assert c.totals[0] == ("params", 5_418, 672 + 6_944 + 330)
    assert c.totals[2] == ("macs", 1_622_336, 663_552 + 1_769_472 + 320)


def test_a_missing_layer() -> None:
    """Without CONV2 the global pool gives 16, and FC has 16*10+10 = 170 params, 160 MACs.
    RELU2 goes with it, as context."""
    source = BASE.replace("CONV2: 32 3x3 filters at stride 1, pad 1\nRELU2\n", "")
    c = both(BASE, source)
    assert _rows(c) == [("CONV2", None, "a-only", ()),
                        ("GLOBAL AVG POOL", "GLOBAL AVG POOL", "changed", ("output",)),
                        ("FC", "FC", "changed", ("params", "macs"))]
    context = [(r.a and r.a.layer.name, r.b and r.b.layer.name) for r in c.rows
               if r.status == "context"]
    assert ("RELU2", None) in context
    assert c.totals[0] == ("params", 5_418, 448 + 170)


def test_an_extra_batch_norm() -> None:
    """BN after CONV1: gamma and beta, 2*16 = 32 params, and 32 buffers; nothing else moves."""
    c = both(BASE, BASE.replace("RELU1\n", "BN1\nRELU1\n"))
    assert _rows(c) == [(None, "BN1", "b-only", ())]
    assert c.totals == (("params", 5_418, 5_450), ("buffers", 0, 32),
                        ("macs", 1_622_336, 1_622_336))
    assert c.differences == 1 and not c.same


def test_layers_that_change_nothing_never_differ() -> None:
    """A dropout, an identity and a missing ReLU are shown as context, never as differences."""
    other = BASE.replace("RELU1\n", "DROPOUT 0.5\nIDENTITY\n").replace("RELU2\n", "")
    c = both(BASE, other)
    assert c.same
    assert [(r.a and r.a.layer.kind, r.b and r.b.layer.kind) for r in c.rows
            if r.status == "context" and not (r.a and r.b)] == [
        ("relu", None), (None, "dropout"), (None, "identity"), ("relu", None)]


def test_zero_padding_before_a_conv_is_its_padding() -> None:
    """Keras's ZeroPadding2D then a valid conv is PyTorch's padded conv: same figures."""
    other = BASE.replace("CONV1: 16 3x3 filters at stride 1, pad 1",
                         "ZEROPAD 1\nCONV1: 16 3x3 filters at stride 1")
    assert both(BASE, other).same


def test_every_layer_of_each_side_is_on_exactly_one_row() -> None:
    other = BASE.replace("16 3x3", "24 3x3").replace("RELU1\n", "BN1\nDROPOUT 0.1\n")
    c = both(BASE, other)
    for side, analysis in (("a", c.a), ("b", c.b)):
        shown = [getattr(r, side).index for r in c.rows if getattr(r, side) is not None]
        assert sorted(shown) == list(range(1, len(analysis.layers) + 1))
    # the rows' params add up to the totals on each side
    for side, total in (("a", c.totals[0][1]), ("b", c.totals[0][2])):
        assert sum(getattr(r, side).params for r in c.rows if getattr(r, side)) == total


# ---- graphs ---------------------------------------------------------------------------------

RESIDUAL = """[8x8x16] INPUT
CONV1: 16 3x3 filters at stride 1, pad 1, no bias
BN1
RELU1
CONV2: 16 3x3 filters at stride 1, pad 1, no bias
BN2
ADD from BN2, INPUT
RELU2
GLOBAL AVG POOL
FC: 10 neurons
"""

INCEPTION = """ROUNDING: floor
[28x28x192] INPUT
BLOCK inception(A, B1, B2, C1, C2, P):
    CONV "b1": A 1x1 filters, no bias
    CONV "b2_reduce" from INPUT: B1 1x1 filters, no bias
    CONV "b2": B2 3x3 filters at stride 1, pad 1, no bias
    CONV "b3_reduce" from INPUT: C1 1x1 filters, no bias
    CONV "b3": C2 3x3 filters at stride 1, pad 1, no bias
    MAX POOL "b4_pool" from INPUT: 3x3 filters at stride 1, pad 1, ceil
    CONV "b4": P 1x1 filters, no bias
    CONCAT from b1, b2, b3, b4
END
inception3a: inception(64, 96, 128, 16, 32, 32)
GLOBAL AVG POOL
FC: 10 neurons
"""

# the same block written flat, the branches listed in another order, a ReLU added
INCEPTION_FLAT = """ROUNDING: floor
[28x28x192] INPUT
CONV "m.b3_reduce": 16 1x1 filters, no bias
RELU
CONV "m.b3": 32 3x3 filters at stride 1, pad 1, no bias
MAX POOL "m.b4_pool" from INPUT: 3x3 filters at stride 1, pad 1, ceil
CONV "m.b4": 32 1x1 filters, no bias
CONV "m.b1" from INPUT: 64 1x1 filters, no bias
CONV "m.b2_reduce" from INPUT: 96 1x1 filters, no bias
CONV "m.b2": 128 3x3 filters at stride 1, pad 1, no bias
CONCAT from "m.b1", "m.b2", "m.b3", "m.b4"
GLOBAL AVG POOL
FC: 10 neurons
"""


def test_a_merge_reading_another_layer_is_a_wiring_difference(runner: CliRunner,
                                                              tmp_path: Path) -> None:
    """Every volume and figure is equal; only the add's second input differs."""
    c = both(RESIDUAL, RESIDUAL.replace("ADD from BN2, INPUT", "ADD from BN2, BN1"))
    assert _rows(c) == [("ADD", "ADD", "changed", ("wiring",))]
    (tmp_path / "a.txt").write_text(RESIDUAL, encoding="utf-8")
    (tmp_path / "b.txt").write_text(RESIDUAL.replace("ADD from BN2, INPUT", "ADD from BN2, BN1"),
                                    encoding="utf-8")
    result = run(runner, str(tmp_path / "a.txt"), str(tmp_path / "b.txt"))
    assert result.exit_code == 1
    lines = [line.split() for line in result.stdout.splitlines() if "ADD" in line]
    assert lines == [["-", "ADD", "add", "8x8x16", "0", "0", "0", "wiring;", "reads", "BN2,",
                      "INPUT"],
                     ["+", "ADD", "add", "8x8x16", "0", "0", "0", "reads", "BN2,", "BN1"]]


def test_the_add_reads_in_either_order() -> None:
    assert both(RESIDUAL, RESIDUAL.replace("ADD from BN2, INPUT", "ADD from INPUT, BN2")).same


def test_a_changed_inception_branch() -> None:
    """The third branch's 3x3 conv with 48 filters instead of 32: 3*3*16*48 = 6,912 weights
    (no bias) against 4,608, 28*28*48*144 = 5,419,008 MACs against 3,612,672; the concat
    gives 28x28x272 against 28x28x256, the pool 272 against 256, and FC 272*10+10 = 2,730
    params against 2,570."""
    c = both(INCEPTION, INCEPTION.replace("16, 32, 32)", "16, 48, 32)"))
    assert _rows(c) == [
        ("inception3a.b3", "inception3a.b3", "changed", ("output", "params", "macs")),
        ("inception3a.CONCAT", "inception3a.CONCAT", "changed", ("output",)),
        ("GLOBAL AVG POOL", "GLOBAL AVG POOL", "changed", ("output",)),
        ("FC", "FC", "changed", ("params", "macs"))]
    b3 = next(r for r in c.rows if r.a and r.a.layer.name == "inception3a.b3")
    assert b3.a is not None and b3.b is not None
    assert (b3.a.params, b3.b.params, b3.a.macs, b3.b.macs) == (4_608, 6_912, 3_612_672,
                                                                5_419_008)
    assert c.totals[0] == ("params", 157_706, 157_706 + 2_304 + 160)


def test_branches_listed_in_another_order_agree() -> None:
    c = both(INCEPTION, INCEPTION_FLAT)
    assert c.same, _rows(c)
    names = {r.a.layer.name: r.b.layer.name for r in c.rows
             if r.a and r.b and r.status == "same"}
    assert names["inception3a.b3"] == "m.b3" and names["inception3a.b1"] == "m.b1"


def test_a_concat_in_another_order_differs() -> None:
    """Channel order is part of what a concat makes: b3 before b2 is a different network."""
    other = INCEPTION_FLAT.replace('"m.b1", "m.b2", "m.b3"', '"m.b1", "m.b3", "m.b2"')
    assert not both(INCEPTION, other).same


def test_a_missing_residual_block_in_resnet18(runner: CliRunner, tmp_path: Path) -> None:
    """layer4 without its second basic block: two 3x3 convs 512 -> 512 without bias,
    2 * 3*3*512*512 = 4,718,592 params, and two batch norms, 2 * 1,024; MACs
    2 * 7*7*512*4608 = 231,211,008; buffers 2 * 1,024. Torchvision's 11,689,512 params less
    4,720,640 is 6,968,872."""
    text = (ROOT / "specs" / "resnet18.txt").read_text(encoding="utf-8")
    shorter = text.replace("layer4: down(512), basic(512)", "layer4: down(512)")
    assert shorter != text
    (tmp_path / "short.txt").write_text(shorter, encoding="utf-8")
    result = run(runner, "specs/resnet18.txt", str(tmp_path / "short.txt"), "--format", "json")
    assert result.exit_code == 1
    data = as_json(result)
    assert changed(data) == [(f"layer4.1.{name}", None, "a-only", [])
                             for name in ("conv1", "bn1", "conv2", "bn2", "add")]
    assert data["totals"]["params"] == {"a": 11_689_512, "b": 6_968_872, "delta": -4_720_640}
    assert data["totals"]["macs"]["delta"] == -231_211_008
    assert data["totals"]["buffers"]["delta"] == -2_048


# ---- sides that cannot be compared, or only under an assumption -----------------------------

def test_a_side_with_an_error_exits_2_and_says_which(runner: CliRunner) -> None:
    result = run(runner, "specs/alexnet224.txt", "specs/alexnet.txt")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "G101" in result.stderr
    assert ("cnncalc diff: A (specs/alexnet224.txt) cannot be analysed: totals withheld: layer 1 "
            "(CONV1, line 6) has an error; nothing was compared") in result.stderr
    data = as_json(run(runner, "specs/alexnet.txt", "specs/alexnet224.txt", "--format", "json"))
    assert data["same"] is None and data["a"]["ok"] is True and data["b"]["ok"] is False
    assert [e["code"] for e in data["b"]["errors"]] == ["G101"]
    assert data["b"]["totals"] is None and "B (specs/alexnet224.txt)" in data["error"]


def test_a_missing_input_names_the_per_side_option(runner: CliRunner) -> None:
    result = run(runner, "specs/alexnet.txt", SLIDE)
    assert result.exit_code == 2
    assert "P004" in result.stderr
    assert "hint: --input-b HxWxC gives B its input volume" in result.stderr


def test_an_assumed_wiring_is_said_and_marked(runner: CliRunner, tmp_path: Path) -> None:
    """print(model) of a class cnncalc does not know: its figures are compared, and said to
    rest on the order of its children (P014), with ~ on the volumes and MACs."""
    (tmp_path / "net.txt").write_text(
        "# cnncalc: input 8x8x3\nNet(\n  (0): Conv2d(3, 8, kernel_size=(3, 3))\n"
        "  (1): ReLU()\n  (2): Conv2d(8, 4, kernel_size=(3, 3))\n)\n", encoding="utf-8")
    lecture = "[8x8x3] INPUT\nCONV1: 8 3x3 filters\nCONV2: {} 3x3 filters\n"
    (tmp_path / "same.txt").write_text(lecture.format(4), encoding="utf-8")
    (tmp_path / "other.txt").write_text(lecture.format(5), encoding="utf-8")
    agreed = run(runner, str(tmp_path / "same.txt"), str(tmp_path / "net.txt"))
    assert agreed.exit_code == 0
    assert "B: ~ rests on an assumed wiring: the forward() of `Net` is not known" in agreed.stdout
    differ = run(runner, str(tmp_path / "other.txt"), str(tmp_path / "net.txt"))
    assert differ.exit_code == 1
    plus = next(line for line in differ.stdout.splitlines() if line.startswith("+  2 "))
    assert plus.split()[5:8] == ["4x4x4~", "292", "4,608~"]  # 3*3*8*4+4; 4*4*4*72
    data = as_json(run(runner, str(tmp_path / "same.txt"), str(tmp_path / "net.txt"),
                       "--format", "json"))
    assert data["b"]["assumed"] == ["macs", "flops", "activations"] and data["a"]["assumed"] == []
    assert all(r["b"]["assumed"] == "Net" for r in data["rows"] if r["b"])


# ---- the command line -----------------------------------------------------------------------

def test_standard_input_for_one_side(runner: CliRunner) -> None:
    text = (ROOT / "specs" / "lenet5.txt").read_text(encoding="utf-8")
    assert run(runner, "-", "specs/lenet5.txt", stdin=text).exit_code == 0
    result = run(runner, "-", "-", stdin=text)
    assert result.exit_code == 2 and "only one of A and B" in result.stderr


def test_usage_problems_exit_2(runner: CliRunner) -> None:
    assert run(runner, "specs/lenet5.txt").exit_code == 2
    assert run(runner, "specs/lenet5.txt", "no/such/file.txt").exit_code == 2
    assert run(runner, "specs/lenet5.txt", "specs/lenet5.txt", "--input-b", "7x").exit_code == 2
    assert run(runner, "specs/lenet5.txt", "specs/lenet5.txt", "--format", "xml").exit_code == 2


def test_per_side_options_apply_to_their_side_only(runner: CliRunner) -> None:
    """--input gives both sides 227x227x3; --input-b then overrides B's."""
    data = as_json(run(runner, "specs/alexnet.txt", TORCHVISION, "--input", "227x227x3",
                       "--input-b", "224x224x3", "--format", "json"))
    assert (data["a"]["input"], data["b"]["input"]) == ([227, 227, 3], [224, 224, 3])
    data = as_json(run(runner, "specs/keras_mnist.txt", "specs/keras_mnist.txt",
                       "--input", "28x28x1", "--define", "num_classes=10",
                       "--define-b", "num_classes=12", "--format", "json"))
    assert data["totals"]["params"] == {"a": 1_199_882, "b": 1_199_882 + 2 * 129,
                                        "delta": 258}  # two more outputs of 128 + 1


def test_all_lists_every_layer(runner: CliRunner) -> None:
    result = run(runner, "specs/lenet5.txt", "tests/fixtures/diff/lenet5_keras.py", "--all")
    assert result.exit_code == 0
    marks = [line.split()[:2] for line in result.stdout.splitlines() if line.startswith("=")]
    assert marks == [["=", "INPUT"], ["=", "CONV1"], ["=", "AVG"], ["=", "CONV2"], ["=", "AVG"],
                     ["=", "CONV3"], ["=", "FC4"], ["=", "FC5"]]


def test_the_json_keys(runner: CliRunner) -> None:
    data = as_json(run(runner, "specs/alexnet.txt", TORCHVISION, "--input-b", "224x224x3",
                       "--format", "json"))
    assert list(data) == ["a", "b", "same", "differences", "input_differs", "output_differs",
                          "totals", "aligned_by_position", "rows"]
    assert list(data["a"]) == ["path", "notation", "input", "output_shape", "ok", "totals",
                               "assumed", "errors"]
    row = data["rows"][0]
    assert list(row) == ["status", "differs", "moved", "a", "b"]
    assert list(row["a"]) == ["index", "name", "kind", "line", "layer", "output_shape", "params",
                              "buffers", "macs", "inputs", "assumed"]


# ---- the alignment --------------------------------------------------------------------------

def _lcs_length(a: list[int], b: list[int]) -> int:
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            table[i][j] = (table[i + 1][j + 1] + 1 if a[i] == b[j]
                           else max(table[i + 1][j], table[i][j + 1]))
    return table[0][0]


def test_align_finds_a_longest_common_subsequence() -> None:
    """Against the textbook dynamic programme, on 2,000 random pairs."""
    rng = random.Random(13)
    for _ in range(2000):
        a = [rng.randrange(4) for _ in range(rng.randrange(16))]
        b = [rng.randrange(4) for _ in range(rng.randrange(16))]
        steps = align(a, b)
        assert steps is not None
        assert [i for i, _ in steps if i is not None] == list(range(len(a)))
        assert [j for _, j in steps if j is not None] == list(range(len(b)))
        pairs = [(i, j) for i, j in steps if i is not None and j is not None]
        assert all(a[i] == b[j] for i, j in pairs)
        assert len(pairs) == _lcs_length(a, b)


def test_align_gives_up_within_its_budget() -> None:
    budget = Budget(0)
    budget.left = 50
    assert align(list(range(100)), list(range(100, 200)), budget) is None
    assert budget.left == 0
    assert by_position(3, 1) == [(0, 0), (1, None), (2, None)]


def test_a_comparison_past_the_budget_pairs_by_position_and_says_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(align_module, "BASE_BUDGET", 0)
    monkeypatch.setattr(align_module, "PER_ELEMENT", 0)
    other = BASE.replace("MAX POOL1: 2x2 filters at stride 2", "AVG POOL1: 2x2 filters at stride 2")
    c = both(BASE, other)
    assert c.by_position and not c.same
    from cnncalc.render.diff import to_text

    assert "paired by position" in to_text(c)


def test_the_readme_example_is_what_cnncalc_prints(runner: CliRunner) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```\n\$ (cnncalc diff [^\n]*)\n(.*?)```", readme, re.DOTALL)
    assert found is not None
    result = runner.invoke(cli, shlex.split(found.group(1))[1:])
    assert result.exit_code == 1
    assert result.stdout == found.group(2)


def test_an_output_taken_from_another_layer(runner: CliRunner, tmp_path: Path) -> None:
    chain = "[8x8x3] INPUT\nCONV1: 8 3x3 filters, pad 1\nCONV2: 8 3x3 filters, pad 1\n"
    (tmp_path / "a.txt").write_text(chain + "OUTPUT from CONV1\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text(chain, encoding="utf-8")
    result = run(runner, str(tmp_path / "a.txt"), str(tmp_path / "b.txt"))
    assert result.exit_code == 1
    assert "the output is CONV1 in A and CONV2 in B, layers that do not align" in result.stdout
    assert result.stdout.splitlines()[-1] == "A and B differ: the output's wiring."


def test_names_are_escaped_in_the_listing(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(
        '[8x8x3] INPUT\nCONV "x\\x1b[31m\\n::error": 8 3x3 filters\n', encoding="utf-8")
    (tmp_path / "b.txt").write_text("[8x8x3] INPUT\nCONV1: 9 3x3 filters\n", encoding="utf-8")
    result = run(runner, str(tmp_path / "a.txt"), str(tmp_path / "b.txt"))
    assert result.exit_code == 1
    assert "\x1b" not in result.stdout and "\n::" not in result.stdout
    assert "-  x\\x1b[31m\\n\\x3a:error " in result.stdout


def test_a_max_pool_made_average_pairs_as_a_changed_layer() -> None:
    c = both(BASE, BASE.replace("MAX POOL1", "AVG POOL1"))
    assert _rows(c) == [("MAX POOL1", "AVG POOL1", "changed", ("layer",))]
