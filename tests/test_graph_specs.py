"""The shipped graphs in the canonical notation, written with blocks: ResNet-18, ResNet-50,
GoogLeNet, DenseNet-121 and MobileNetV2 as torchvision builds them, and the U-Net paper's
network. Each gives its reference figures exactly (torchvision's, from
tests/fixtures/torchvision/figures.json, made by PyTorch itself; U-Net's worked out by hand
below), every layer that bears a torchvision module's name has the volume PyTorch gives that
module, ``--format spec`` writes each back as text that reads as the same analysis, ``cnncalc
check`` finds nothing to say, and ``cnncalc run`` measures every layer as the analysis says."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from helpers import GRAPH_SPECS, ROOT, analyze_spec, layer

from cnncalc.cli import cli

TORCHVISION = json.loads((ROOT / "tests" / "fixtures" / "torchvision" / "figures.json")
                         .read_text(encoding="utf-8"))["models"]

# spec: (params, buffers, MACs, output volume, torchvision model or None)
FIGURES: dict[str, tuple[int, int, int, list[int], str | None]] = {
    "resnet18.txt": (11_689_512, 9_600, 1_814_073_344, [1000], "resnet18"),
    "resnet50.txt": (25_557_032, 53_120, 4_089_184_256, [1000], "resnet50"),
    "googlenet.txt": (6_624_904, 14_560, 1_498_376_192, [1000], "googlenet"),
    "densenet121.txt": (7_978_856, 83_648, 2_834_161_664, [1000], "densenet121"),
    "mobilenet_v2.txt": (3_504_872, 34_112, 300_774_272, [1000], "mobilenet_v2"),
    "unet.txt": (31_030_658, 0, 150_428_424_448, [388, 388, 2], None),
}
# a small input each runs at in `cnncalc run` (U-Net's smallest tile: 188 -> 4x4 out)
RUN_INPUT = {"unet.txt": "188x188x1"}


def test_the_graph_specs_are_the_shipped_ones():
    assert set(GRAPH_SPECS) == set(FIGURES)
    assert all((ROOT / "specs" / name).is_file() for name in FIGURES)


def show_json(runner, *args: str, stdin: str | None = None) -> dict[str, Any]:
    result = runner.invoke(cli, ["show", "--format", "json", *args], input=stdin)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figures(runner, name):
    params, buffers, macs, output, _ = FIGURES[name]
    data = show_json(runner, f"specs/{name}")
    totals = data["totals"]
    assert (totals["params"], totals["buffers"], totals["macs"]) == (params, buffers, macs)
    assert totals["flops"] == 2 * macs
    assert data["layers"][-1]["output_shape"] == output
    assert all(row["status"] == "ok" for row in data["layers"])
    # only the roundings PyTorch does too (torchvision's sizes); U-Net's sizes are all whole
    codes = {d["code"] for d in data["diagnostics"]}
    assert codes == (set() if name == "unet.txt" else {"G107"})


def test_resnet50_last_convolution_sees_427_pixels(runner):
    """RF += (F - 1) x jump, layer by layer: the last 3x3 convolution (layer4.2.conv2, at
    jump 32) adds 2 x 32 to the 363 before it, and the 1x1 conv3 after it adds nothing."""
    data = show_json(runner, "specs/resnet50.txt")
    convs = [row for row in data["layers"] if row["kind"] == "conv"]
    assert convs[-1]["name"] == "layer4.2.conv3"
    assert convs[-1]["receptive_field"] == [427, 427]
    assert convs[-1]["jump"] == [32, 32]
    assert [c["receptive_field"][0] for c in convs[-3:-1]] == [363, 427]


# --- torchvision's own volumes, module by module ------------------------------------------

def torchvision_name(spec: str, name: str) -> str:
    """The module's name in torchvision: DenseNet numbers its dense layers from 1, as
    ``denselayer1``; the spec's uses number instances from 0."""
    if spec == "densenet121.txt":
        return re.sub(r"(denseblock\d)\.(\d+)\.",
                      lambda m: f"{m[1]}.denselayer{int(m[2]) + 1}.", name)
    return name


# torchvision modules called more than once, which the spec names apart (relu1, relu2, ...)
SHARED = {"resnet18.txt": r"layer\d\.\d+\.relu", "resnet50.txt": r"layer\d\.\d+\.relu"}


@pytest.mark.parametrize("name", sorted(n for n, f in FIGURES.items() if f[4] is not None))
def test_every_torchvision_module_has_its_volume(name):
    model = TORCHVISION[FIGURES[name][4]]
    a = analyze_spec(name)
    assert a.input == tuple(model["input"])
    mine = {torchvision_name(name, r.layer.name): list(r.output_shape or ()) for r in a.layers}
    theirs: dict[str, list[list[int]]] = {}
    for leaf in model["leaves"]:
        theirs.setdefault(leaf["name"], []).append(leaf["output"])
    missing = [n for n in theirs if n not in mine
               and not re.fullmatch(SHARED.get(name, "(?!)"), n)]
    assert missing == []
    wrong = [(n, mine[n], theirs[n]) for n in theirs if n in mine and mine[n] not in theirs[n]]
    assert wrong == []


# --- U-Net by hand -------------------------------------------------------------------------

def test_unet_figures_by_hand():
    """The paper's Figure 1: 572 -> 570 -> 568, pool 284, ... 28x28x1024 at the bottom; up:
    56 -> 54 -> 52, ... 392 -> 390 -> 388. Convolutions have biases; an up-convolution's MACs
    are its input's elements times its 2*2 window times its filters."""
    params = macs = 0
    size, channels = 572, 1
    for level, c in enumerate((64, 128, 256, 512, 1024)):
        if level:
            size //= 2
        for _ in range(2):
            size -= 2
            params += (9 * channels + 1) * c
            macs += size * size * c * 9 * channels
            channels = c
    assert (size, channels) == (28, 1024)
    for c in (512, 256, 128, 64):
        params += (4 * channels + 1) * c          # 2x2 up-convolution: channels -> c
        macs += size * size * channels * 4 * c
        size *= 2
        channels = 2 * c                          # cropped skip + up-convolution
        for _ in range(2):
            size -= 2
            params += (9 * channels + 1) * c
            macs += size * size * c * 9 * channels
            channels = c
    params += 64 * 2 + 2
    macs += size * size * 2 * 64
    assert size == 388
    assert (params, macs) == (31_030_658, 150_428_424_448)
    a = analyze_spec("unet.txt")
    assert a.totals is not None
    assert (a.totals.params, a.totals.macs) == (params, macs)
    # the skips: each level's feature map, cropped to the middle and put first
    assert layer(a, "dec4.crop").output_shape == (56, 56, 512)
    assert layer(a, "dec1.crop").input_shape == (568, 568, 64)
    concat = layer(a, "dec1.concat")
    names = ["INPUT", *(r.layer.name for r in a.layers)]
    assert [names[i] for i in concat.inputs] == ["dec1.crop", "dec1.upconv"]
    assert concat.output_shape == (392, 392, 128)


# --- written back, read again ---------------------------------------------------------------

def comparable(data: dict[str, Any]) -> tuple[Any, ...]:
    rows = [{k: v for k, v in row.items() if k != "line"} for row in data["layers"]]
    codes = sorted((d["code"], d["message"]) for d in data["diagnostics"])
    return data["input"], data["rounding"], rows, data["totals"], codes


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_format_spec_reads_back_as_the_same_analysis(runner, name):
    first = show_json(runner, f"specs/{name}")
    written = runner.invoke(cli, ["show", "--format", "spec", f"specs/{name}"])
    assert written.exit_code == 0, written.output
    assert "BLOCK" not in written.stdout  # the text is flat: every layer on its line
    again = show_json(runner, "-", stdin=written.stdout)
    assert again["notation"] == "lecture"
    assert comparable(again) == comparable(first)
    # the names, shapes, params, MACs and receptive fields the comparison above covers
    assert {"name", "output_shape", "params", "macs", "receptive_field"} <= set(
        again["layers"][0])
    assert len(again["layers"]) == len(first["layers"]) > 50


# --- cnncalc check ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(FIGURES))
def test_check_finds_nothing(runner, name):
    result = runner.invoke(cli, ["check", "--output-format", "json", f"specs/{name}"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["diagnostics"] == [] and record["problems"] == []
    assert record["summary"]["findings"] == 0 and record["summary"]["suppressed"] > 0
    # what is silenced is on purpose: PyTorch's roundings, or U-Net's unpadded convolutions
    lines = (ROOT / "specs" / name).read_text(encoding="utf-8").splitlines()
    silenced = {m for line in lines for m in re.findall(r"cnncalc: ignore\[([^\]]*)\]", line)}
    assert silenced == ({"W501"} if name == "unet.txt" else {"G107"})


def test_check_on_the_specs_directory_finds_only_the_old_warnings(runner):
    result = runner.invoke(cli, ["check", "--output-format", "concise", "specs"])
    assert result.exit_code == 0, result.output
    assert not any(name in result.stdout for name in FIGURES), result.stdout


# --- cnncalc run -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(FIGURES))
def test_run_measures_every_layer(runner, name):
    """At a small input (64x64x3; U-Net's smallest tile), so that NumPy takes a moment."""
    volume = RUN_INPUT.get(name, "64x64x3")
    result = runner.invoke(cli, ["run", "--format", "json", "-q", "--input", volume,
                                 f"specs/{name}"])
    record = json.loads(result.stdout)
    assert result.exit_code == 0, result.stderr
    assert record["ok"] and record["stopped_before"] is None and record["failed"] is None
    expected = show_json(runner, "--input", volume, f"specs/{name}")
    assert [row["name"] for row in record["layers"]] == [
        row["name"] for row in expected["layers"]]
    assert [row["mismatches"] for row in record["layers"] if not row["match"]] == []
    totals = record["totals"]
    assert (totals["params"], totals["buffers"], totals["macs"]) == (
        expected["totals"]["params"], expected["totals"]["buffers"],
        expected["totals"]["macs"])
    # the peak of live tensors the executor measured is the analysis's inference memory
    assert totals["peak_activations"] == totals["expected_peak_activations"] == (
        expected["totals"]["peak_activations"])
