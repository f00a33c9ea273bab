"""The lecture's "Case Study: AlexNet" slide (specs/alexnet.txt): every layer's output volume,
weights, biases, params, MACs, activations and receptive field, worked out by hand, and the
totals; and the same slide with a 224x224 input (specs/alexnet224.txt), where CONV1 does not
fit: (224 - 11 + 2*0)/4 + 1 = 54.25."""

from __future__ import annotations

import json

import pytest
from helpers import analyze_spec, diag, layer, record

from cnncalc.cli import cli

# name, input, output, weights, biases, MACs, receptive field. By hand:
#   CONV1 (227 - 11)/4 + 1 = 55; weights 11*11*3*96; MACs 55*55*96 * 11*11*3
#   POOL1 (55 - 3)/2 + 1 = 27;  CONV2 (27 - 5 + 2*2)/1 + 1 = 27, 5*5*96*256, 27*27*256 * 5*5*96
#   POOL2 (27 - 3)/2 + 1 = 13;  CONV3 3*3*256*384, 13*13*384 * 3*3*256
#   CONV4 3*3*384*384, 13*13*384 * 3*3*384;  CONV5 3*3*384*256, 13*13*256 * 3*3*384
#   POOL3 (13 - 3)/2 + 1 = 6;   FC6 6*6*256*4096;  FC7 4096*4096;  FC8 4096*1000
#   RF: rf' = rf + (F - 1)*jump, jump' = jump*S; an FC layer sees its whole 6x6 input.
ALEXNET = [
    ("CONV1", (227, 227, 3), (55, 55, 96), 34_848, 96, 105_415_200, 11),
    ("MAX POOL1", (55, 55, 96), (27, 27, 96), 0, 0, 0, 19),
    ("NORM1", (27, 27, 96), (27, 27, 96), 0, 0, 0, 19),
    ("CONV2", (27, 27, 96), (27, 27, 256), 614_400, 256, 447_897_600, 51),
    ("MAX POOL2", (27, 27, 256), (13, 13, 256), 0, 0, 0, 67),
    ("NORM2", (13, 13, 256), (13, 13, 256), 0, 0, 0, 67),
    ("CONV3", (13, 13, 256), (13, 13, 384), 884_736, 384, 149_520_384, 99),
    ("CONV4", (13, 13, 384), (13, 13, 384), 1_327_104, 384, 224_280_576, 131),
    ("CONV5", (13, 13, 384), (13, 13, 256), 884_736, 256, 149_520_384, 163),
    ("MAX POOL3", (13, 13, 256), (6, 6, 256), 0, 0, 0, 195),
    ("FC6", (6, 6, 256), (4096,), 37_748_736, 4096, 37_748_736, 355),
    ("FC7", (4096,), (4096,), 16_777_216, 4096, 16_777_216, 355),
    ("FC8", (4096,), (1000,), 4_096_000, 1000, 4_096_000, 355),
]

# params per layer as the issue quotes them
PARAMS = {"CONV1": 34_944, "CONV2": 614_656, "CONV3": 885_120, "CONV4": 1_327_488,
          "CONV5": 884_992, "FC6": 37_752_832, "FC7": 16_781_312, "FC8": 4_097_000}

KINDS = {"CONV": "conv", "MAX POOL": "maxpool", "NORM": "lrn", "FC": "fc"}


@pytest.fixture(scope="module")
def alexnet():
    return analyze_spec("alexnet.txt")


def test_alexnet_is_clean(alexnet):
    assert alexnet.ok
    assert alexnet.diagnostics == ()
    assert alexnet.input == (227, 227, 3)
    assert [r.layer.name for r in alexnet.layers] == [row[0] for row in ALEXNET]
    assert all(r.status == "ok" for r in alexnet.layers)


@pytest.mark.parametrize(("name", "shape_in", "shape_out", "weights", "biases", "macs", "rf"),
                         ALEXNET, ids=[row[0] for row in ALEXNET])
def test_alexnet_layer(alexnet, name, shape_in, shape_out, weights, biases, macs, rf):
    r = layer(alexnet, name)
    assert r.input_shape == shape_in
    assert r.output_shape == shape_out
    assert r.weights == weights
    assert r.biases == biases
    assert r.params == weights + biases
    assert r.params == PARAMS.get(name, 0)
    assert r.macs == macs
    assert r.flops == 2 * macs
    n = 1
    for d in shape_out:
        n *= d
    assert r.activations == n
    assert r.field is not None and tuple(r.field.rf) == (rf, rf)
    assert r.layer.kind == KINDS[name.rstrip("0123456789")]


def test_alexnet_declared_shapes_match_computed(alexnet):
    """Each bracket on the slide is what the formula gives (the slide is self-consistent)."""
    for r in alexnet.layers:
        declared = r.layer.declared
        assert declared is not None
        assert declared == r.output_shape, r.layer.name


def test_alexnet_totals(alexnet):
    t = alexnet.totals
    assert t is not None
    assert t.params == 62_378_344
    assert t.weights == 62_367_776
    assert t.biases == 10_568
    assert t.macs == 1_135_256_096
    assert t.flops == 2_270_512_192
    assert t.activations == 894_984
    assert sum(row[3] + row[4] for row in ALEXNET) == t.params
    assert sum(row[5] for row in ALEXNET) == t.macs


def test_alexnet_layer_lines(alexnet):
    """Layers keep the line they were written on (the slide's blank lines count)."""
    assert [r.layer.span.line for r in alexnet.layers] == [
        4, 6, 8, 10, 12, 14, 16, 18, 21, 23, 25, 27, 29]


def test_alexnet_cli_json_totals(runner):
    result = runner.invoke(cli, ["show", "--format", "json", "specs/alexnet.txt"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert data["totals"]["params"] == 62_378_344
    assert data["totals"]["macs"] == 1_135_256_096
    fc6 = next(x for x in data["layers"] if x["name"] == "FC6")
    assert fc6["params"] == 37_752_832
    assert fc6["input_shape"] == [6, 6, 256]
    assert fc6["output_shape"] == [4096]


# --- AlexNet at 224x224 ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def alexnet224():
    return analyze_spec("alexnet224.txt")


def test_alexnet224_g101_message_and_hint(alexnet224):
    d = diag(alexnet224, "G101")
    assert d.severity.value == "error"
    assert "(224 - 11 + 2*0)/4 + 1 = 54.25" in d.message
    assert "does not fit a 224-wide input" in d.message
    assert "227" in d.hint
    assert (d.span.path, d.span.line) == ("specs/alexnet224.txt", 6)
    # the caret starts at the filter size `11x11` on `[55x55x96] CONV1: 96 11x11 filters ...`
    assert alexnet224.spec.lines[5][d.span.col - 1:].startswith("11x11")


def test_alexnet224_only_error_is_g101(alexnet224):
    assert [d.code for d in alexnet224.diagnostics] == ["G101"]
    assert not alexnet224.ok


def test_alexnet224_later_layers_not_computed(alexnet224):
    first, *rest = alexnet224.layers
    assert first.layer.name == "CONV1"
    assert first.status == "error"
    assert first.output_shape is None
    assert len(rest) == 12
    for r in rest:
        assert r.status == "not-computed", r.layer.name
        assert r.input_shape is None and r.output_shape is None
        assert r.weights is None and r.macs is None and r.params is None
        assert r.field is None


def test_alexnet224_totals_absent(alexnet224):
    assert alexnet224.totals is None
    assert record(alexnet224)["totals"] is None


def test_alexnet224_cli_json(runner):
    result = runner.invoke(cli, ["show", "--format", "json", "specs/alexnet224.txt"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["input"] == [224, 224, 3]
    assert data["totals"] is None
    assert [x["status"] for x in data["layers"]] == ["error"] + ["not-computed"] * 12
    assert all(x["output_shape"] is None and x["params"] is None for x in data["layers"])
    (g101,) = data["diagnostics"]
    assert g101["code"] == "G101"
    assert g101["severity"] == "error"
    assert "(224 - 11 + 2*0)/4 + 1 = 54.25" in g101["message"]
    assert "does not fit a 224-wide input" in g101["message"]
    assert "227" in g101["hint"]
    assert (g101["line"], g101["col"]) == (6, 22)


def test_alexnet224_cli_table(runner):
    result = runner.invoke(cli, ["show", "--width", "80", "specs/alexnet224.txt"])
    assert result.exit_code == 1
    assert "not computed" in result.stdout
    assert "incomplete" in result.stdout
    assert "specs/alexnet224.txt:6:22: error: (224 - 11 + 2*0)/4 + 1 = 54.25" in result.stderr
    assert "[G101 filter-does-not-fit]" in result.stderr
    assert "54.25" not in result.stdout
