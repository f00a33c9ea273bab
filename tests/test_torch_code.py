"""PyTorch model code read without running it: the fixtures in tests/fixtures/torch_code
(model files in the idioms people write, with the figures PyTorch itself gives, made by
generate.py there) come out exact, module by module, and ``cnncalc run`` measures them as
the analysis says."""

from __future__ import annotations

import json
import re

import pytest
from helpers import ROOT

from cnncalc.analyze import Analysis, analyze
from cnncalc.cli import cli
from cnncalc.parse import parse_text

HERE = ROOT / "tests" / "fixtures" / "torch_code"
FIGURES = json.loads((HERE / "figures.json").read_text(encoding="utf-8"))["models"]
# the model each is read with: None, the one its file's top level builds
MODEL = {"resnet_cifar.py": "ResNet18", "unet_transposed": "UNet(3, 2, bilinear=False)"}


def read(name: str, model: str | None = None) -> Analysis:
    file = FIGURES[name]["file"] if name in FIGURES else name
    text = (HERE / file).read_text(encoding="utf-8")
    return analyze(parse_text(text, f"tests/fixtures/torch_code/{file}",
                              model=model or MODEL.get(name)))


def test_every_fixture_has_figures():
    files = {p.name for p in HERE.glob("*.py")} - {"generate.py"}
    assert files == {f["file"] for f in FIGURES.values()}
    assert len(files) >= 6
    assert all(FIGURES[f]["file"] == f for f in files)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_totals_are_pytorchs(name):
    a = read(name)
    torch = FIGURES[name]
    assert a.spec.notation == "pytorch"
    assert [d.code for d in a.diagnostics if d.code != "G107"] == []
    assert a.input == tuple(torch["input"])
    assert a.totals is not None
    assert (a.totals.params, a.totals.buffers, a.totals.macs) == (
        torch["params"], torch["buffers"], torch["macs"])
    out = a.layers[a.output - 1] if a.output else None
    assert out is not None and list(out.output_shape or ()) == torch["output"]


def _base(name: str, taken: set[str]) -> str:
    """A layer's module name: a module called again is named ``pool_1``, ``pool_2``..."""
    m = re.fullmatch(r"(.+)_\d+", name)
    return m[1] if m and m[1] in taken else name


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_module_call_has_pytorchs_volume_in_forward_order(name):
    """PyTorch's forward hooks fire in the order forward() calls the modules; the layers of
    those calls come in the same order, under the module's name, with the same volume (the
    layers cnncalc adds for F. functions and operators come between them)."""
    a = read(name)
    leaves = FIGURES[name]["leaves"]
    seen: set[str] = set()
    mine = []
    for r in a.layers:
        base = _base(r.layer.name, seen)
        seen.add(r.layer.name)
        mine.append((base, list(r.output_shape or ())))
    k = 0
    for leaf in leaves:
        while k < len(mine) and mine[k][0] != leaf["name"]:
            k += 1
        assert k < len(mine), f"{leaf['name']} is not called where PyTorch calls it"
        assert mine[k][1] == leaf["output"], leaf["name"]
        k += 1


def test_the_resnet_factory_and_a_call_with_literal_arguments_agree():
    by_name = read("resnet_cifar.py", "ResNet18")
    by_call = read("resnet_cifar.py", "ResNet(BasicBlock, [2, 2, 2, 2])")
    assert by_call.totals == by_name.totals
    assert [r.layer.name for r in by_call.layers] == [r.layer.name for r in by_name.layers]
    names = [r.layer.name for r in by_name.layers]
    assert "layer2.0.shortcut.0" in names and "layer1.0.add" in names


def test_the_tutorial_net_has_no_rows_named_after_python():
    a = read("cifar_net.py")
    names = [r.layer.name for r in a.layers]
    assert names == ["conv1", "relu", "pool", "conv2", "relu_1", "pool_1", "flatten", "fc1",
                     "relu_2", "fc2", "relu_3", "fc3"]


RUN = {"cifar_net.py": (), "se_resnet.py": (), "ordered_vgg.py": (),
       "unet.py": ("--input", "28x28x3"), "resnet_cifar.py": ("--model", "ResNet18"),
       "unet_transposed": ("--input", "28x28x3", "--model", "UNet(3, 2, bilinear=False)")}


@pytest.mark.parametrize("name", sorted(RUN))
def test_cnncalc_run_confirms_the_code(runner, name):
    result = runner.invoke(cli, ["run", "--format", "json", *RUN[name],
                                 f"tests/fixtures/torch_code/{FIGURES[name]['file']}"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["ok"] is True
    assert all(row["match"] for row in record["layers"])


def test_figures_json_was_made_by_pytorch():
    data = json.loads((HERE / "figures.json").read_text(encoding="utf-8"))
    assert data["torch"].startswith("2.")
    assert FIGURES["cifar_net.py"]["params"] == 62_006  # the tutorial's, as GUIDE.md says
    assert FIGURES["mobilenet_v2.py"]["params"] == 3_504_872  # torchvision's mobilenet_v2


def test_figures_json_is_what_pytorch_gives_now():
    """Where torch is installed: each fixture built and run by PyTorch gives figures.json."""
    pytest.importorskip("torch")
    import sys

    sys.path.insert(0, str(HERE))
    try:
        from generate import MODELS, figures, load  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(HERE))
    for name, (file, expr, (h, w, c)) in MODELS.items():
        got = figures(load(HERE / file, expr), h, w, c)
        assert {"file": file, "model": expr, **got} == FIGURES[name], name
