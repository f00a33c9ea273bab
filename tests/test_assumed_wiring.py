"""No silent assumption (issue 11, item 2).

- print(model) of a container whose forward() cnncalc does not know is read in order with a
  P014 warning naming the class; every row and total resting on that order is marked (``~``
  in the table and markdown, ``assumed`` in JSON and CSV); params stay exact.
- A second model in a file is never chained onto the first (P015); ``--model`` picks one.
- Keras: ``input_shape=`` on a later layer is checked (C001); import aliases are honoured.

The torchvision fixtures are ``print(model)`` of each classic model with the figures PyTorch
gives (tests/fixtures/torchvision/generate.py made them).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import analyze_text

from cnncalc.analyze import analyze
from cnncalc.cli import cli
from cnncalc.parse import parse_text

TORCHVISION = Path(__file__).parent / "fixtures" / "torchvision"
FIGURES = json.loads((TORCHVISION / "figures.json").read_text(encoding="utf-8"))["models"]


def _torchvision(name: str, renamed: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """The analysis of a fixture and its figures; ``renamed`` renames classes (``Old(`` to
    ``New(``), which makes torchvision's classes ones whose forward() cnncalc does not know."""
    figures = FIGURES[name]
    text = (TORCHVISION / f"{name}.txt").read_text(encoding="utf-8")
    for old, new in (renamed or {}).items():
        text = text.replace(f" {old}(", f" {new}(").replace(f"\n{old}(", f"\n{new}(")
        text = f"{new}(" + text[len(old) + 1:] if text.startswith(f"{old}(") else text
    return analyze(parse_text(text, f"{name}.txt"), tuple(figures["input"])), figures


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_no_torchvision_print_gives_a_plausible_wrong_total(name: str) -> None:
    """Each model either has an error (no totals), or its totals are PyTorch's, or the
    figures that differ are marked as resting on an assumed wiring. Params are never wrong."""
    a, figures = _torchvision(name)
    if a.totals is None:
        assert not a.ok
        return
    t = a.totals
    assert (t.params, t.buffers) == (figures["params"], figures["buffers"])
    if t.macs != figures["macs"]:
        assert "macs" in t.assumed and "activations" in t.assumed
        assert any(d.code == "P014" for d in a.diagnostics)


@pytest.mark.parametrize("name", ["alexnet", "vgg16_bn"])
def test_chains_that_torchvision_runs_in_order_are_exact_and_unmarked(name: str) -> None:
    a, figures = _torchvision(name)
    assert a.totals is not None and a.totals.assumed == ()
    assert (a.totals.params, a.totals.macs) == (figures["params"], figures["macs"])
    assert not any(d.code == "P014" for d in a.diagnostics)
    assert a.layers[-1].output_shape == tuple(figures["output"])


MOBILENET_V3_UNKNOWN = {"MobileNetV3": "MyMobileNet", "InvertedResidual": "MyBlock",
                        "SqueezeExcitation": "MySE"}


def test_an_unknown_mobilenet_v3_is_marked_not_silently_wrong() -> None:
    """cnncalc knows torchvision's MobileNetV3 (tests/test_torchvision_models.py); under
    names whose forward() it does not know, its blocks are read in order, each squeeze-and-
    excitation block pools to 1x1 and every later layer is computed at 1x1: 55 M MACs
    instead of 217 M. The figures are marked, params exact."""
    a, figures = _torchvision("mobilenet_v3_large", MOBILENET_V3_UNKNOWN)
    assert a.totals is not None
    assert a.totals.params == figures["params"] == 5_483_032
    assert a.totals.macs != figures["macs"]
    assert a.totals.assumed == ("macs", "flops", "activations")
    p014 = [d for d in a.diagnostics if d.code == "P014"]
    assert {d.message.split("`")[1] for d in p014} == {"MyMobileNet", "MyBlock", "MySE"}
    first = next(i for i, r in enumerate(a.layers) if r.assumed)
    assert all(r.assumed for r in a.layers[first:])


def test_an_error_after_an_assumed_order_blames_the_order_not_the_figure() -> None:
    """MobileNetV2's forward() pools and flattens before its classifier; under a name whose
    forward() is not known, read in order, the Linear(1280, 1000) receives 7x7x1280. The
    hint must not say "write 62720"."""
    a, _ = _torchvision("mobilenet_v2", {"MobileNetV2": "MyMobileNetV2"})
    assert a.totals is None
    c001 = next(d for d in a.diagnostics if d.code == "C001")
    assert "62720" in c001.message
    assert "62720" not in c001.hint and "MyMobileNetV2" in c001.hint


PT = "# cnncalc: input 8x8x3\n"


def test_sequential_is_known_and_a_custom_class_is_not() -> None:
    a = analyze_text(PT + "Sequential(\n  (0): Conv2d(3, 8, kernel_size=(3, 3))\n)\n")
    assert [d.code for d in a.diagnostics] == [] and a.totals is not None
    assert a.totals.assumed == () and a.layers[0].assumed is None
    a = analyze_text(PT + "Net(\n  (0): Conv2d(3, 8, kernel_size=(3, 3))\n  (1): ReLU()\n)\n")
    d = next(d for d in a.diagnostics if d.code == "P014")
    assert (d.span.line, d.span.col, d.span.end_col) == (2, 1, 4)
    assert "`Net`" in d.message and d.severity.value == "warning"
    assert [r.assumed for r in a.layers] == ["Net", "Net"]
    assert a.totals is not None and a.totals.params == 224


def test_the_innermost_unknown_class_is_named_once_with_its_count() -> None:
    a = analyze_text(PT + """\
Net(
  (stem): Conv2d(3, 8, kernel_size=(1, 1))
  (blocks): Sequential(
    (0): Block(
      (conv): Conv2d(8, 8, kernel_size=(1, 1))
    )
    (1): Block(
      (conv): Conv2d(8, 8, kernel_size=(1, 1))
    )
  )
  (head): ModuleList(
    (0): ReLU()
  )
)
""")
    p014 = [(d.span.line, d.message) for d in a.diagnostics if d.code == "P014"]
    assert len(p014) == 2  # Block (two blocks) and Net; the ModuleList inside Net is Net's
    assert p014[0][0] == 2 and "`Net`" in p014[0][1]
    assert p014[1][0] == 5 and "`Block` (2 blocks)" in p014[1][1]
    assert [r.assumed for r in a.layers] == ["Net", "Block", "Block", "Net"]


def test_a_module_list_alone_has_no_forward() -> None:
    a = analyze_text(PT + "ModuleList(\n  (0): Conv2d(3, 8, kernel_size=(1, 1))\n)\n")
    assert [d.code for d in a.diagnostics] == ["P014"]
    assert "ModuleList" in a.diagnostics[0].message


def test_self_attributes_give_modules_not_their_order() -> None:
    a = analyze_text(PT + "self.conv1 = nn.Conv2d(3, 6, 3)\nself.pool = nn.MaxPool2d(2, 2)\n")
    d = next(d for d in a.diagnostics if d.code == "P014")
    assert (d.span.line, d.span.col) == (2, 1) and "2 modules" in d.message
    assert [r.assumed for r in a.layers] == ["self", "self"]
    a = analyze_text(PT + "nn.Conv2d(3, 6, 3)\nnn.MaxPool2d(2, 2)\n")  # a list: said to run so
    assert a.diagnostics == () and a.totals is not None and a.totals.assumed == ()


NET = PT + "Net(\n  (conv): Conv2d(3, 8, kernel_size=(3, 3))\n  (relu): ReLU()\n)\n"


def test_every_format_marks_what_rests_on_the_assumption(tmp_path: Path) -> None:
    path = tmp_path / "net.txt"
    path.write_text(NET, encoding="utf-8")
    runner = CliRunner()
    shown = runner.invoke(cli, ["show", "--format", "json", str(path)])
    assert shown.exit_code == 0
    data = json.loads(shown.stdout)
    assert [x["assumed"] for x in data["layers"]] == ["Net", "Net"]
    assert data["totals"]["assumed"] == ["macs", "flops", "activations", "activation_bytes",
                                         "peak_activations", "peak_activation_bytes"]
    table = runner.invoke(cli, ["show", str(path)]).stdout
    assert "6x6x8~" in table and "7.78K~" in table
    assert "~ rests on an assumed wiring" in " ".join(table.split())
    assert "224 " in table and "224~" not in table  # params are exact
    markdown = runner.invoke(cli, ["show", "--format", "markdown", str(path)]).stdout
    assert "6x6x8~" in markdown and "**7,776**~" in markdown
    csv_text = runner.invoke(cli, ["show", "--format", "csv", str(path)]).stdout
    assert ",assumed," in csv_text.splitlines()[0] and ",Net," in csv_text
    spec = runner.invoke(cli, ["show", "--format", "spec", str(path)]).stdout
    assert "# the forward() of `Net` was not known (P014)" in spec
    run = runner.invoke(cli, ["run", "--format", "json", str(path)])
    assert run.exit_code == 0
    record = json.loads(run.stdout)
    assert record["assumed"] == ["Net"] and record["layers"][0]["assumed"] == "Net"
    text = runner.invoke(cli, ["run", str(path)]).stdout
    assert "confirms the arithmetic, not that wiring" in " ".join(text.split())


GAN = """\
from keras.layers import Conv2D as C, Dense as D
from keras.models import Sequential
gen = Sequential()
gen.add(D(10, input_shape=(100,)))
gen.add(D(20))
disc = Sequential()
disc.add(C(8, 3, input_shape=(28, 28, 1)))
"""


def test_a_second_keras_model_is_never_chained_onto_the_first() -> None:
    a = analyze(parse_text(GAN, "gan.py"))
    p015 = [d for d in a.diagnostics if d.code == "P015"]
    assert [(d.span.line, d.span.col) for d in p015] == [(6, 1)]
    assert "--model gen or --model disc" in p015[0].hint
    assert [r.layer.name for r in a.layers] == ["dense", "dense_1"] and a.totals is None
    gen = analyze(parse_text(GAN, "gan.py", model="gen"))
    assert gen.ok and gen.totals is not None and gen.totals.params == 1010 + 220
    disc = analyze(parse_text(GAN, "gan.py", model="disc"))
    assert disc.ok and disc.totals is not None and disc.totals.params == 80
    assert disc.input == (28, 28, 1)
    none = analyze(parse_text(GAN, "gan.py", model="critic"))
    p015 = next(d for d in none.diagnostics if d.code == "P015")
    assert "`gen`, `disc`" in p015.message and none.layers == ()


@pytest.mark.parametrize("text", [
    "model = Sequential()\nmodel.add(Dense(4, input_shape=(8,)))\n"
    "model = Sequential()\nmodel.add(Dense(2, input_shape=(8,)))\n",
    "Sequential([Dense(4, input_shape=(8,))])\nSequential([Dense(2, input_shape=(8,))])\n",
    "a.add(Dense(4, input_shape=(8,)))\nb.add(Dense(2, input_shape=(8,)))\n",
])
def test_every_way_of_building_a_second_keras_model_is_p015(text: str) -> None:
    a = analyze(parse_text(text, "m.py"))
    assert [d.code for d in a.diagnostics] == ["P015"] and a.totals is None
    assert len(a.layers) == 1


def test_a_second_printed_model_is_never_chained_and_model_picks_one() -> None:
    text = PT + ("Generator(\n  (0): Conv2d(3, 8, kernel_size=(3, 3))\n)\n"
                 "Critic(\n  (0): Conv2d(3, 4, kernel_size=(1, 1), stride=(9, 9), foo=1)\n)\n")
    a = analyze(parse_text(text, "two.txt"))
    p015 = next(d for d in a.diagnostics if d.code == "P015")
    assert (p015.span.line, p015.span.col) == (5, 1)
    assert "--model Generator or --model Critic" in p015.hint
    assert "P010" not in {d.code for d in a.diagnostics}  # the second model is not read
    assert [r.layer.name for r in a.layers] == ["0"] and a.totals is None
    gen = analyze(parse_text(text, "two.txt", model="Generator"))
    assert [d.code for d in gen.diagnostics] == ["P014"] and gen.totals is not None
    critic = analyze(parse_text(text, "two.txt", model="Critic"))
    assert "P010" in {d.code for d in critic.diagnostics}
    assert [r.layer.name for r in critic.layers] == ["0"]


def test_model_on_a_notation_with_one_network_a_file(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("[8x8x3] INPUT\nCONV1: 8 3x3 filters\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["show", "--model", "x", str(path)])
    assert result.exit_code == 1 and "P015" in result.stderr


def test_keras_input_shape_on_a_later_layer_is_checked() -> None:
    text = ("model = Sequential()\nmodel.add(Conv2D(8, 3, input_shape=(8, 8, 3)))\n"
            "model.add(Conv2D(4, 1, input_shape=(6, 6, 8)))\n"
            "model.add(Conv2D(4, 1, input_shape=(6, 6, 8)))\n")
    a = analyze(parse_text(text, "k.py"))
    assert [(d.code, d.span.line, d.span.col) for d in a.diagnostics] == [("C001", 4, 24)]
    assert "declares the input [6x6x8] but receives [6x6x4]" in a.diagnostics[0].message
    assert [r.status for r in a.layers] == ["ok", "ok", "error"]


def test_a_declared_input_reads_back_from_the_canonical_notation() -> None:
    text = "[8x8x3] INPUT\nCONV1: 8 3x3 filters\nRELU1 receives [6x6x8]\n" \
           "CONV2: 4 1x1 filters, receives [5x5x8]  (a remark)\n"
    a = analyze_text(text)
    assert [(d.code, d.span.line, d.span.col) for d in a.diagnostics] == [("C001", 4, 32)]
    assert a.layers[1].layer.declared_input is not None
    runner = CliRunner()
    spec = runner.invoke(cli, ["show", "--format", "spec", "-"], input=text).stdout
    assert "RELU1: receives [6x6x8]" in spec and "receives [5x5x8]" in spec
    again = analyze_text(spec)
    assert [(d.code, d.message) for d in again.diagnostics] == [
        (d.code, d.message) for d in a.diagnostics]


@pytest.mark.parametrize(("imports", "call"), [
    ("from keras.layers import Conv2D as C", "C(8, 3)"),
    ("from tensorflow.keras.layers import Conv2D as Conv", "Conv(8, 3)"),
    ("from keras import layers as L", "L.Conv2D(8, 3)"),
    ("import keras.layers as kl", "kl.Conv2D(8, 3)"),
])
def test_keras_import_aliases_are_honoured(imports: str, call: str) -> None:
    layer = call.replace("(8, 3)", "(8, 3, input_shape=(8, 8, 3))")
    text = f"{imports}\nfrom keras.models import Sequential as S\nm = S()\nm.add({layer})\n"
    a = analyze(parse_text(text, "k.py", notation="keras"))
    assert a.ok, [(d.code, d.message) for d in a.diagnostics]
    assert a.layers[0].layer.kind == "conv" and a.layers[0].output_shape == (6, 6, 8)


def test_a_keras_name_imported_from_elsewhere_is_not_keras() -> None:
    text = ("from mylib import Conv2D\nmodel = Sequential()\n"
            "model.add(Conv2D(8, 3, input_shape=(8, 8, 3)))\n")
    a = analyze(parse_text(text, "k.py", notation="keras"))
    d = a.diagnostics[0]
    assert (d.code, d.span.line) == ("P002", 3) and "`mylib`" in d.message
    assert a.totals is None


def test_check_judges_no_budget_on_an_assumed_wiring(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """MACs and activations that rest on an assumed order are not judged (B404 says why);
    params, exact either way, are; the baseline compares params only."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.txt").write_text(NET, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["check", "--output-format", "concise", "--max-macs", "1K",
                                 "--max-activations", "1KB", "--max-params", "100", "net.txt"])
    lines = result.stdout.splitlines()
    assert any(" B401 224 params: over max-params 100" in ln for ln in lines)
    assert not any(" B402 " in ln or " B403 " in ln for ln in lines)
    b404 = next(ln for ln in lines if " B404 " in ln)
    assert "max-macs 1K, max-activations 1KB" in b404 and "assumed wiring (P014)" in b404
    assert result.exit_code == 1  # the B401
    runner.invoke(cli, ["check", "--write-baseline", "base.json", "net.txt"])
    (tmp_path / "net.txt").write_text(NET.replace("(3, 3)", "(1, 1)"), encoding="utf-8")
    result = runner.invoke(cli, ["check", "--output-format", "concise", "--baseline",
                                 "base.json", "--select", "W7,B4", "net.txt"])
    w701 = next(ln for ln in result.stdout.splitlines() if " W701 " in ln)
    assert "params 224 -> 32" in w701 and "MACs" not in w701 and "peak" not in w701
    assert "the baseline's MACs and peak activations (W701)" in result.stdout


@pytest.mark.parametrize(("text", "path", "expected"), [
    ('CONV "# cnncalc: input 8x8x3 ": 8 3x3 filters\n', "a.txt", None),
    ('CONV "a": 8 3x3 filters  # cnncalc: input 8x8x3\n', "a.txt", (8, 8, 3)),
    ("model = Sequential()\nmodel.add(Dense(4, name='# cnncalc: input 8x8x3'))\n", "k.py",
     None),
    ("model = Sequential()  # cnncalc: input 8x8x1\nmodel.add(Dense(4))\n", "k.py",
     (8, 8, 1)),
    ("nn.Linear(4, 2)  # a 'quoted' # cnncalc: input 2x2x1\n", "t.txt", (2, 2, 1)),
    ("nn.Conv2d(3, 8, 3, padding_mode='# cnncalc: input 8x8x3')\n", "t.txt", None),
])
def test_an_input_directive_counts_only_in_a_comment(text: str, path: str,
                                                     expected: tuple[int, ...] | None) -> None:
    assert analyze(parse_text(text, path)).input == expected
