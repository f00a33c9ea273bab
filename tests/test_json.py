"""``--format json``: the stable keys, volumes as [H, W, C] and vectors as [N], nulls for what
was not computed, flops == 2*macs, and csv/markdown built from the same figures."""

from __future__ import annotations

import csv
import io
import json

import pytest

from cnncalc.cli import cli

TOP_KEYS = {"input", "layers", "totals", "diagnostics"}
LAYER_KEYS = {"index", "name", "kind", "line", "input_shape", "output_shape", "weights",
              "biases", "params", "macs", "flops", "activations", "receptive_field"}
TOTAL_KEYS = {"params", "weights", "biases", "macs", "flops", "activations"}
DIAG_KEYS = {"path", "line", "col", "end_col", "code", "severity", "message"}

MIXED = """\
[10x10x3] INPUT
[8x8x4] CONV1: 4 3x3 filters at stride 1
[4x4x4] MAX POOL1: 2x2 filters
RELU1
CONV2: 4 3x3 filters at stride 1, pad ?
FC1: 10 neurons
"""
# the same with a wrong declared shape on POOL1 (it computes 4x4x4)
MISDECLARED = MIXED.replace("[4x4x4] MAX POOL1", "[7x7x4] MAX POOL1")


def _json(runner, *args, stdin=None):
    result = runner.invoke(cli, ["show", "--format", "json", *args], input=stdin)
    assert result.exit_code in (0, 1), result.output
    assert result.stderr == ""  # json keeps its diagnostics inside the record
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize("spec", ["specs/alexnet.txt", "specs/alexnet224.txt",
                                  "specs/lenet5.txt"])
def test_keys(runner, spec):
    _, data = _json(runner, spec)
    assert set(data) >= TOP_KEYS
    assert data["layers"]
    for x in data["layers"]:
        assert set(x) >= LAYER_KEYS, set(x) ^ LAYER_KEYS
    if data["totals"] is not None:
        assert set(data["totals"]) >= TOTAL_KEYS
    for d in data["diagnostics"]:
        assert set(d) >= DIAG_KEYS


def test_keys_of_a_spec_with_every_kind_of_record(runner):
    code, data = _json(runner, "-", stdin=MIXED)
    assert code == 0  # the I301 on CONV2 is information
    assert set(data["totals"]) >= TOTAL_KEYS
    assert {d["code"] for d in data["diagnostics"]} == {"I301"}
    code, data = _json(runner, "-", stdin=MISDECLARED)
    assert code == 1  # the D201 on POOL1 is an error
    assert data["totals"] is None
    for d in data["diagnostics"]:
        assert set(d) >= DIAG_KEYS
        assert d["path"] == "<stdin>"
        assert isinstance(d["line"], int) and isinstance(d["col"], int)
        assert d["end_col"] > d["col"]
        assert d["severity"] in ("error", "warning", "info")
    sev = {d["code"]: d["severity"] for d in data["diagnostics"]}
    assert sev == {"D201": "error"}


def test_values_and_types(runner):
    _, data = _json(runner, "specs/alexnet.txt")
    assert data["input"] == [227, 227, 3]
    layers = data["layers"]
    assert [x["index"] for x in layers] == list(range(1, 14))
    assert layers[0]["name"] == "CONV1" and layers[0]["kind"] == "conv"
    assert layers[0]["line"] == 4
    assert layers[1]["name"] == "MAX POOL1" and layers[1]["kind"] == "maxpool"
    assert layers[2]["kind"] == "lrn"
    assert layers[10]["kind"] == "fc"
    for x in layers:
        for key in ("weights", "biases", "params", "macs", "flops", "activations"):
            assert type(x[key]) is int, (x["name"], key)
        assert x["flops"] == 2 * x["macs"]
        assert x["params"] == x["weights"] + x["biases"]
        assert all(type(v) is int for v in x["output_shape"])
        assert len(x["receptive_field"]) == 2
    # volumes are [H, W, C]; vectors [N]
    assert layers[9]["output_shape"] == [6, 6, 256]
    assert layers[10]["input_shape"] == [6, 6, 256]
    assert layers[10]["output_shape"] == [4096]
    assert layers[12]["output_shape"] == [1000]
    t = data["totals"]
    assert t["flops"] == 2 * t["macs"]
    assert t == {**t, "params": 62_378_344, "weights": 62_367_776, "biases": 10_568,
                 "macs": 1_135_256_096, "flops": 2_270_512_192, "activations": 894_984}


def test_non_square_volume_is_h_w_c(runner):
    _, data = _json(runner, "-", stdin="[7x9x3] INPUT\nCONV1: 4 3x5 filters at stride 2x1, "
                                      "pad 1x2\n")
    (x,) = data["layers"]
    assert data["input"] == [7, 9, 3]
    assert x["output_shape"] == [4, 9, 4]
    assert x["receptive_field"] == [3, 5]


def test_nulls_for_layers_not_computed(runner):
    code, data = _json(runner, "specs/alexnet224.txt")
    assert code == 1
    for x in data["layers"][1:]:
        assert x["status"] == "not-computed"
        for key in ("input_shape", "output_shape", "weights", "biases", "params", "macs",
                    "flops", "activations", "receptive_field"):
            assert x[key] is None, (x["name"], key)
    assert data["totals"] is None


def test_d201_makes_its_layer_an_error_and_nothing_after_it_is_guessed(runner):
    """Which of the declared and the computed volume is right is not known: the layer is an
    error, the layers after it are not computed and the totals are withheld."""
    _, data = _json(runner, "-", stdin=MISDECLARED)
    pool = data["layers"][1]
    assert pool["status"] == "error" and pool["output_shape"] is None
    assert pool["input_shape"] == [8, 8, 4] and pool["params"] is None
    d201 = next(d for d in data["diagnostics"] if d["code"] == "D201")
    assert d201["line"] == 3 and d201["col"] == 1
    assert "[7x7x4]" in d201["message"] and "[4x4x4]" in d201["message"]
    assert [x["status"] for x in data["layers"]] == ["ok", "error"] + ["not-computed"] * 3
    assert all(x["macs"] is None for x in data["layers"][1:])
    assert data["totals"] is None
    _, data = _json(runner, "-", stdin=MIXED)
    conv2 = data["layers"][3]
    assert conv2["input_shape"] == [4, 4, 4]
    assert conv2["output_shape"] == [2, 2, 4]  # pad ? solved as 0: (4 - 3)/1 + 1 = 2
    assert data["layers"][-1]["input_shape"] == [2, 2, 4]


def test_csv_matches_json(runner):
    _, data = _json(runner, "specs/lenet5.txt")
    result = runner.invoke(cli, ["show", "--format", "csv", "specs/lenet5.txt"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == len(data["layers"]) + 1
    for row, x in zip(rows, data["layers"], strict=False):
        assert row["name"] == x["name"]
        assert row["output_shape"] == "x".join(map(str, x["output_shape"]))
        assert int(row["params"]) == x["params"]
        assert int(row["macs"]) == x["macs"]
    total = rows[-1]
    assert total["name"] == "total"
    assert int(total["params"]) == data["totals"]["params"] == 61_706
    assert int(total["macs"]) == data["totals"]["macs"]


def test_markdown_exact_figures(runner):
    result = runner.invoke(cli, ["show", "--format", "markdown", "specs/alexnet.txt"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("| # | name |")
    fc6 = next(line for line in lines if "| FC6 |" in line)
    assert "| 37,752,832 |" in fc6
    assert "| 37,748,736 |" in fc6
    assert "| **62,378,344** | **1,135,256,096** |" in result.stdout


def test_each_layer_line_is_what_json_dumps_writes() -> None:
    """to_json encodes records with the C encoder made once; its text is json.dumps's."""
    import json as json_module

    from helpers import analyze_text

    from cnncalc.render.common import layer_records
    from cnncalc.render.machine import to_json

    text = ('[8x8x3] INPUT\nCONV "caf\u00e9 \\"x\\" \u00e0\u00df\u2603": 4 3x3 filters\n'
            "CONV2: 4 3x3 filters at stride 2, pad 1\nUP: 4 4x4 transposed filters at stride 3"
            "\nFC: 10 neurons\n")
    a = analyze_text(text)
    lines = to_json(a).split("\n")
    for record in layer_records(a):
        assert f"    {json_module.dumps(record)}" in {line.rstrip(",") for line in lines}
