"""``cnncalc show`` on graph networks: the ``from`` column, block names that stay readable,
``--depth N``, the ``OUTPUT`` row, JSON ``inputs`` and ``output``, the csv and markdown
columns, and the inference peak under the table.

The figures are worked by hand from torchvision's ResNet-18 (tests/fixtures/show/resnet18.txt,
the example of issue 12): a 224x224x3 input; CONV1 to MAX POOL1 are layers 1 to 4; each basic
block is 7 layers (CONV1, BN1, RELU1, CONV2, BN2, ADD, RELU2), 9 with its downsample pair; so
layer1 is 5-18, layer2 19-34, layer3 35-50, layer4 51-66, the pool 67 and FC 68.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import analyze_text

from cnncalc.analyze import Analysis
from cnncalc.cli import cli
from cnncalc.render.rows import Row, block_of, from_text, rows
from cnncalc.render.table import break_name

SHOW = Path(__file__).parent / "fixtures" / "show"
RESNET18 = str(SHOW / "resnet18.txt")
RESNET50 = "specs/resnet50.txt"

# a small graph whose output is not its last layer: CONV3 is a side branch nobody uses
SIDE = """\
[8x8x3] INPUT
CONV1: 4 3x3 filters at stride 1, pad 1
CONV2: 4 3x3 filters at stride 1, pad 1
ADD from CONV2, CONV1
FC1: 10 neurons
CONV3 from ADD: 2 1x1 filters at stride 1
OUTPUT from FC1
"""


def _show(*args: str, stdin: str | None = None, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["show", *args], input=stdin)
    assert result.exit_code == code, result.output
    return result.stdout


def _rows(table: str) -> dict[str, list[str]]:
    """The table's rows by their ``#``, each as its cells (split at runs of 2+ blanks)."""
    found = {}
    for line in table.splitlines():
        m = re.match(r"\s*(\d+(?:-\d+)?)  ", line)
        if m:
            found[m.group(1)] = re.split(r"\s{2,}", line.strip())
    return found


def _header(table: str) -> list[str]:
    return table.splitlines()[0].split()


def _column(table: str, name: str, after: str) -> dict[str, str]:
    """The text of a left-aligned column (``name``, up to the column ``after``) by row."""
    head = table.splitlines()[0]
    start, stop = head.index(f" {name} ") + 1, head.index(f" {after} ") + 1
    found = {}
    for line in table.splitlines():
        m = re.match(r"\s*(\d+(?:-\d+)?)  ", line)
        if m:
            found[m.group(1)] = line[start:stop].strip()
    return found


# ---- the from column ----

def test_from_column_names_what_a_residual_reads():
    table = _show("--width", "160", RESNET18)
    assert _header(table) == ["#", "name", "layer", "from", "input", "output", "params",
                              "MACs", "acts", "RF"]
    rows_ = _rows(table)
    # layer1.0.ADD (10) adds BN2 (9) and the block's input, MAX POOL1 (4)
    assert rows_["10"][:4] == ["10", "layer1.0.ADD", "add", "9,4"]
    assert rows_["17"][:4] == ["17", "layer1.1.ADD", "add", "16,11"]
    # layer2.0's shortcut reads the block's input, layer1.1.RELU2 (18); its ADD reads 23, 25
    assert rows_["24"][:4] == ["24", "layer2.0.downsample.0", "1x1 s2 p0 nb", "18"]
    assert rows_["26"][3] == "23,25"
    # a layer that reads the one above it says nothing: its row goes from layer to input
    assert rows_["5"][:4] == ["5", "layer1.0.CONV1", "3x3 s1 p1 nb", "56x56x64"]
    assert rows_["25"][:4] == ["25", "layer2.0.downsample.1", "bn", "28x28x128"]
    read = {k: v for k, v in _column(table, "from", "input").items() if v}
    assert read == {"10": "9,4", "17": "16,11", "24": "18", "26": "23,25", "33": "32,27",
                    "40": "34", "42": "39,41", "49": "48,43", "56": "50", "58": "55,57",
                    "65": "64,59"}


def test_a_chain_has_no_from_column():
    table = _show("--width", "160", "specs/vgg16.txt")
    assert "from" not in _header(table)
    assert "OUTPUT" not in table


@pytest.mark.parametrize("width", [80, 100, 160])
def test_block_names_stay_readable(width):
    table = _show("--width", str(width), RESNET18)
    lines = table.splitlines()
    assert all(len(line) <= width for line in lines)
    rows_ = _rows(table)
    assert len(rows_) == 69  # INPUT and 68 layers, each on one line
    # every name of a block's own layer (`layer1.0.CONV1`, 14) is whole at any width
    assert rows_["5"][1] == "layer1.0.CONV1" and rows_["66"][1] == "layer4.1.RELU2"
    if width >= 100:  # the longest name, 21 columns, fits whole with the input column
        assert rows_["24"][1] == "layer2.0.downsample.0"
        assert "input" in _header(table)
    else:  # the input column goes first, then the name goes on to a second line at a dot
        assert "input" not in _header(table)
        assert rows_["24"][1] == "layer2.0." and rows_["41"][1] == "layer3.0."
        after = lines[lines.index(next(ln for ln in lines if ln.lstrip().startswith("24 "))) + 1]
        assert after.split() == ["downsample.0"]
    assert "…" not in table  # no name, nor anything else, is cut


@pytest.mark.parametrize("spec", ["googlenet", "densenet121", "mobilenet_v2", "resnet50", "unet"])
@pytest.mark.parametrize("width", [80, 120])
def test_no_cell_of_a_graph_table_is_cut_off_at_its_end(spec, width):
    """The columns are fitted before a cell would be cut with `…` (a long name goes on to
    another line at a dot, the settings and `from` lists wrap)."""
    table = _show("--width", str(width), f"specs/{spec}.txt")
    lines = table.splitlines()
    assert all(len(line) <= width for line in lines)
    assert "…" not in table
    assert "from" in _header(table)


def test_from_lists_wrap_after_a_comma():
    assert from_text([115, 118, 123, 129]) == "115,118,123,129"
    assert from_text([115, 118, 123, 129], width=8) == "115,118,\n123,129"
    assert from_text([1234567, 2], width=4) == "1234567,\n2"  # an index is never cut
    assert from_text([9], unresolved=True) == "9,?"


def test_long_dotted_names_break_after_a_dot_and_are_never_cut():
    assert break_name("layer1.0.CONV1", 12) == "layer1.0.\nCONV1"
    assert break_name("layer2.0.downsample.0", 14) == "layer2.0.\ndownsample.0"
    assert break_name("features.1.block.0.0", 12) == "features.1.\nblock.0.0"
    assert break_name("layer1.0.CONV1", 14) == "layer1.0.CONV1"
    assert break_name("GLOBAL AVG POOL", 12) == "GLOBAL AVG POOL"  # the column wraps it
    assert break_name("averyverylongpart.x", 5) == "averyverylongpart.\nx"  # folded by the column


def test_a_chain_with_long_names_shows_them_whole():
    text = "[32x32x3] INPUT\n" + "".join(
        f'CONV "features.{i}.block.0.0": 8 3x3 filters at stride 1, pad 1\n' for i in range(3))
    for width in ("60", "80", "120"):
        table = _show("--width", width, "-", stdin=text)
        assert "…" not in table
        lines = table.splitlines()
        for i in range(3):
            at = next(k for k, ln in enumerate(lines) if ln.startswith(f"{i + 1}  "))
            whole = f"features.{i}.block.0.0" in lines[at].split()
            broken = (f"features.{i}." in lines[at].split()
                      and lines[at + 1].split()[:1] == ["block.0.0"])
            assert whole or broken, (width, table)


def test_a_reference_that_does_not_resolve_is_a_question_mark():
    text = "[8x8x3] INPUT\nCONV1: 4 3x3 filters at stride 1\nADD from CONV1, nowhere\n"
    table = _show("-", stdin=text, code=1)
    assert _rows(table)["2"][:4] == ["2", "ADD", "add", "1,?"]


# ---- json, csv, markdown ----

def test_json_inputs_and_output():
    data = json.loads(_show("--format", "json", RESNET18))
    layers = data["layers"]
    by_index = {x["index"]: x for x in layers}
    assert by_index[1]["inputs"] == [0]  # the network's input
    assert by_index[10]["inputs"] == [9, 4]
    assert by_index[24]["inputs"] == [18]
    assert by_index[26]["inputs"] == [23, 25]
    chain = [x for x in layers if x["index"] not in (10, 17, 24, 26, 33, 40, 42, 49, 56, 58, 65)]
    assert all(x["inputs"] == [x["index"] - 1] for x in chain)
    assert data["output"] == 68
    t = data["totals"]
    # the peak: BN1 runs while CONV1's output is still alive, 2 x 112*112*64
    assert t["peak_activations"] == 2 * 112 * 112 * 64 == 1_605_632
    assert t["peak_activation_bytes"] == 4 * 1_605_632
    side = json.loads(_show("--format", "json", "-", stdin=SIDE))
    assert side["output"] == 4
    assert [x["inputs"] for x in side["layers"]] == [[0], [1], [2, 1], [3], [3]]
    # input 192 + CONV1 256 + CONV2 256 are alive when ADD (256) runs
    assert side["totals"]["peak_activations"] == 256 * 3 == 768


def test_json_keeps_its_keys_and_chains_read_the_layer_before():
    data = json.loads(_show("--format", "json", "specs/alexnet.txt"))
    assert [x["inputs"] for x in data["layers"]] == [[i] for i in range(13)]
    assert data["output"] == 13
    # input 227*227*3 and CONV1's 55*55*96 are the most alive at once
    assert data["totals"]["peak_activations"] == 227 * 227 * 3 + 55 * 55 * 96 == 444_987
    assert list(data["totals"])[:9] == ["params", "weights", "biases", "buffers", "macs",
                                        "flops", "activations", "activation_bytes",
                                        "param_bytes"]


def test_csv_inputs_and_output_columns():
    out = _show("--format", "csv", RESNET18)
    header = out.splitlines()[0].split(",")
    assert header[:17] == ["index", "name", "kind", "line", "layer", "status", "input_shape",
                           "output_shape", "weights", "biases", "params", "macs", "flops",
                           "activations", "receptive_field", "jump", "assumed"]
    assert header[17:] == ["inputs", "is_output"]
    records = list(csv.DictReader(io.StringIO(out)))
    by_index = {r["index"]: r for r in records if r["index"]}
    assert by_index["10"]["inputs"] == "9;4"
    assert by_index["1"]["inputs"] == "0"
    assert by_index["26"]["inputs"] == "23;25"
    assert [k for k, r in by_index.items() if r["is_output"] == "True"] == ["68"]
    side = list(csv.DictReader(io.StringIO(_show("--format", "csv", "-", stdin=SIDE))))
    assert [r["is_output"] for r in side[:-1]] == ["False", "False", "False", "True", "False"]


def test_markdown_from_column_and_output_row():
    md = _show("--format", "markdown", RESNET18)
    assert md.splitlines()[0] == ("| # | name | layer | from | input | output | params | MACs | "
                                  "activations | RF |")
    assert ("| 10 | layer1.0.ADD | add | 9,4 | 56x56x64 | 56x56x64 | 0 | 0 | 200,704 | 27 |"
            in md)
    assert "| 5 | layer1.0.CONV1 | 3x3 s1 p1 nb |  | 56x56x64 |" in md
    assert "OUTPUT" not in md  # the output is the last layer
    side = _show("--format", "markdown", "-", stdin=SIDE)
    assert "|  | OUTPUT |  | 4 |  | 10 |  |  |  | 12 |" in side
    chain = _show("--format", "markdown", "specs/lenet5.txt")
    assert chain.splitlines()[0] == ("| # | name | layer | input | output | params | MACs | "
                                     "activations | RF |")


# ---- the output row ----

def test_the_output_row_names_the_output_when_it_is_not_last():
    table = _show("-", stdin=SIDE)
    lines = table.splitlines()
    out = next(line for line in lines if "OUTPUT" in line)
    assert out.split() == ["OUTPUT", "4", "10", "12"]  # from FC1 (4): its volume and RF
    assert lines.index(out) == 8  # after the header, the rule, INPUT and the 5 layers
    assert _rows(table)["5"][:4] == ["5", "CONV3", "1x1 s1 p0", "3"]


# ---- memory under the table ----

def test_the_peak_and_the_sum_of_activations_are_both_said():
    text = " ".join(_show("--width", "120", RESNET18).split())
    assert "8,230,376 activations in all, 1,605,632 at the inference peak" in text
    # 8,230,376 * 4 B = 31.4 MiB; 1,605,632 * 4 B = 6,422,528 B = 6.125 MiB, rounded half up
    assert "Memory (float32, batch 1): activations 31.4 MiB in all, 6.13 MiB at the inference " \
           "peak; parameters 44.6 MiB." in text
    assert "inference peak = the most elements alive at once (input included; each output " \
           "freed after its last reader)" in text
    assert "merges (add, concat, multiply) have no params and no MACs" in text
    batch = " ".join(_show("--width", "120", "--batch", "8", "--dtype", "float16",
                           RESNET18).split())
    # 1,605,632 * 2 B * 8 = 25,690,112 B = 24.5 MiB
    assert "Memory (float16, batch 8): activations 126 MiB in all, 24.5 MiB at the inference " \
           "peak" in batch
    chain = " ".join(_show("specs/lenet5.txt").split())
    # LeNet-5: CONV1's 28*28*6 = 4704 and POOL1's 14*14*6 = 1176 are the peak, 5880
    assert "8,094 activations in all, 5,880 at the inference peak" in chain
    assert "merges" not in chain


# ---- --depth ----

def _folded(depth: int) -> tuple[Analysis, list[Row]]:
    text = Path(RESNET18).read_text(encoding="utf-8")
    a = analyze_text(text, RESNET18)
    return a, rows(a, depth)


def test_depth_of_a_name():
    assert block_of("layer1.0.CONV1", 1) == "layer1"
    assert block_of("layer1.0.CONV1", 2) == "layer1.0"
    assert block_of("layer1.0.CONV1", 3) is None  # depth 3: a row of its own
    assert block_of("CONV1", 1) is None


def test_depth_1_folds_each_stage_into_one_row():
    a, shown = _folded(1)
    assert [(r.label, r.name) for r in shown] == [
        ("1", "CONV1"), ("2", "BN1"), ("3", "RELU1"), ("4", "MAX POOL1"),
        ("5-18", "layer1"), ("19-34", "layer2"), ("35-50", "layer3"), ("51-66", "layer4"),
        ("67", "GLOBAL AVG POOL"), ("68", "FC")]
    layer1, layer2 = shown[4], shown[5]
    # layer1: four 3x3 convs of 64 filters over 64 channels and four batch norms of 64
    assert layer1.params == 4 * (3 * 3 * 64 * 64) + 4 * (2 * 64) == 147_968
    assert layer1.macs == 4 * (56 * 56 * 64 * 3 * 3 * 64) == 462_422_016
    assert layer1.activations == 14 * 56 * 56 * 64 == 2_809_856  # its 14 layers' outputs
    assert layer1.layer == "14 layers" and layer1.rf == "43" and layer1.reads == ()
    # layer2: 3x3 64->128, 3x3 128->128 (x3), 1x1 64->128, five batch norms of 128
    assert layer2.params == 9 * 64 * 128 + 3 * 9 * 128 * 128 + 64 * 128 + 5 * 256 == 525_568
    assert (layer2.input_shape, layer2.output_shape) == ((56, 56, 64), (28, 28, 128))
    assert layer2.rounded  # its stride-2 convs round 28.5 down
    for row in shown:  # a folded row is the sum of the rows it folds
        inside = a.layers[row.first - 1:row.last]
        assert row.params == sum(r.params for r in inside)
        assert row.macs == sum(r.macs for r in inside)
        assert row.activations == sum(r.activations for r in inside)
        assert row.output_shape == inside[-1].output_shape
        assert row.input_shape == inside[0].input_shape
    t = a.totals
    assert t is not None
    assert sum(r.params for r in shown) == t.params == 11_689_512
    assert sum(r.macs for r in shown) == t.macs == 1_814_073_344
    assert sum(r.activations for r in shown) == t.activations == 8_230_376


def test_depth_2_folds_each_block():
    _, shown = _folded(2)
    labels = [r.label for r in shown]
    assert labels[4:12] == ["5-11", "12-18", "19-27", "28-34", "35-43", "44-50", "51-59",
                            "60-66"]
    assert shown[6].name == "layer2.0" and shown[6].layer == "9 layers"
    assert sum(r.params for r in shown) == 11_689_512
    _, deep = _folded(3)  # layer2.0.downsample.0 has 4 parts: only the downsample pairs fold
    assert [r.label for r in deep if r.first != r.last] == ["24-25", "40-41", "56-57"]
    assert len(deep) == 68 - 3


def test_depth_in_the_table_and_the_markdown():
    table = _show("--depth", "1", "--width", "100", RESNET18)
    rows_ = _rows(table)
    assert list(rows_) == ["0", "1", "2", "3", "4", "5-18", "19-34", "35-50", "51-66", "67",
                           "68"]
    assert rows_["19-34"] == ["19-34", "layer2", "16 layers", "56x56x64", "28x28x128*", "526K",
                              "411M", "1.61M", "99"]
    assert "from" not in _header(table)  # every stage reads the row above it
    assert "total" in table and "11.7M" in table and "1.81G" in table and "8.23M" in table
    assert "a folded row (#first-last) sums its layers' params, MACs and acts" in \
        " ".join(table.split())
    md = _show("--depth", "1", "--format", "markdown", RESNET18)
    assert ("| 5-18 | layer1 | 14 layers | 56x56x64 | 56x56x64 | 147,968 | 462,422,016 | "
            "2,809,856 | 43 |") in md
    assert "| **11,689,512** | **1,814,073,344** | **8,230,376** |" in md
    plain = _show("--format", "markdown", RESNET18)
    assert "folded" not in plain


def test_a_folded_row_says_what_it_reads_from_outside_itself():
    text = """\
[8x8x3] INPUT
CONV0: 4 3x3 filters at stride 1, pad 1
BLOCK b(C):
    CONV1: C 3x3 filters at stride 1, pad 1
    CONV2: C 3x3 filters at stride 1, pad 1
END
down: b(4)
BLOCK fuse(C):
    CONCAT from INPUT, CONV0
    CONV1: C 1x1 filters at stride 1
END
up: fuse(4)
FC: 10 neurons
"""
    flat = _column(_show("-", stdin=text), "from", "input")
    assert flat == {"0": "", "1": "", "2": "", "3": "", "4": "3,1", "5": "", "6": ""}
    table = _show("--depth", "1", "-", stdin=text)
    # `up` reads the row above (down's last layer, 3) and CONV0 (1), which skips `down`
    assert _column(table, "from", "input") == {"0": "", "1": "", "2-3": "", "4-5": "1,3",
                                                "6": ""}
    # its acts: the concat's 8*8*8 and the 1x1 conv's 8*8*4
    assert _rows(table)["4-5"][-2:] == ["768", "7"]


def test_depth_on_a_chain_changes_nothing_but_may_fold_dotted_names():
    assert _show("--depth", "1", "--width", "80", "specs/alexnet.txt") == \
        _show("--width", "80", "specs/alexnet.txt")


@pytest.mark.parametrize("fmt", ["json", "csv", "spec"])
def test_depth_is_for_the_table_and_the_markdown_only(fmt):
    result = CliRunner().invoke(cli, ["show", "--depth", "1", "--format", fmt, RESNET18])
    assert result.exit_code == 2
    assert "--depth folds the rows of the table and the markdown" in result.output


def test_depth_must_be_positive():
    result = CliRunner().invoke(cli, ["show", "--depth", "0", RESNET18])
    assert result.exit_code == 2


def test_a_folded_row_with_an_error_shows_no_figures():
    text = """\
[8x8x3] INPUT
CONV1: 4 3x3 filters at stride 1, pad 1
BLOCK b(C):
    CONV1: C 3x3 filters at stride 1, pad 1
    CONV2: C 5x5 filters at stride 2
    ADD from CONV2, INPUT
END
s1: b(4)
s2: 2 x b(4)
FC: 10 neurons
"""
    table = _show("--depth", "1", "-", stdin=text, code=1)
    rows_ = _rows(table)
    assert rows_["2-4"] == ["2-4", "s1", "3 layers", "8x8x4", "error"]  # CONV2 does not fit
    assert rows_["5-10"] == ["5-10", "s2", "6 layers", "not computed"]
    assert "incomplete" in table


def test_resnet50_at_depth_1_fits_one_screen():
    """torchvision's resnet50 (25,557,032 params, 4,089,184,256 MACs) folded to its stages:
    the whole of standard output at 80 columns within 30 lines."""
    table = _show("--depth", "1", "--width", "80", RESNET50)
    lines = table.splitlines()
    assert len(lines) <= 30 and all(len(line) <= 80 for line in lines)
    rows_ = _rows(table)
    assert list(rows_) == ["0", "1", "2", "3", "4", "5-36", "37-78", "79-140", "141-172",
                           "173", "174"]
    assert rows_["141-172"][1:3] == ["layer4", "32 layers"]
    text = " ".join(table.split())
    assert "25,557,032 params" in text and "4,089,184,256 MACs" in text
    # the peak: in layer1.0, the shortcut's 56*56*256 outputs join BN3's while the block's
    # input is freed: downsample.1 runs with BN3, downsample.0 and itself alive
    assert "2,408,448 at the inference peak" in text
    assert 3 * 56 * 56 * 256 == 2_408_448
