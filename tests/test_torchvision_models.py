"""``print(model)`` of torchvision's classic models, wired as their ``forward()`` wires them
(issue 13, item 4).

The fixtures are ``print(model)`` of each model with the figures PyTorch gives: params,
buffers (running statistics), MACs, the output, and the output volume of every leaf module
each time forward() calls it (tests/fixtures/torchvision/generate.py). Every figure must be
PyTorch's, with exit 0 and no P014; a container whose forward() is not known is still read in
order with P014 and marked figures; ``cnncalc run`` confirms one model of each block family.
Where torch and torchvision are installed, the same models run in torchvision with the
executor's weights and give the executor's values: a wiring that keeps every shape but reads
the wrong tensor (a swapped split, a missing ReLU) fails there.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import analyze_text

from cnncalc.analyze import Analysis, analyze
from cnncalc.cli import cli
from cnncalc.parse import parse_text
from cnncalc.parse.pytorch_blocks import MAX_NESTING
from cnncalc.parse.pytorch_forward import FORWARDS, compile_forward, programs

TORCHVISION = Path(__file__).parent / "fixtures" / "torchvision"
RECORD = json.loads((TORCHVISION / "figures.json").read_text(encoding="utf-8"))
FIGURES, AUX = RECORD["models"], RECORD["aux"]
# the layers only forward() shows: merges, pooling and flatten steps, F.relu, chunk, shuffle
FORWARD_ONLY = {"add", "concat", "multiply", "flatten", "globalavgpool", "adaptiveavgpool",
                "avgpool", "maxpool", "relu", "slice", "shuffle"}


def _text(name: str) -> str:
    return (TORCHVISION / f"{name}.txt").read_text(encoding="utf-8")


def _analysis(name: str, size: int | None = None) -> Analysis:
    shape = tuple(FIGURES[name]["input"]) if size is None else (size, size, 3)
    return analyze(parse_text(_text(name), f"{name}.txt"), shape)


def test_the_table_is_the_issues() -> None:
    assert {name: FIGURES[name]["params"] for name in FIGURES} == {
        "alexnet": 61_100_840, "vgg16_bn": 138_365_992, "resnet18": 11_689_512,
        "resnet50": 25_557_032, "resnext50_32x4d": 25_028_904, "squeezenet1_0": 1_248_424,
        "shufflenet_v2_x1_0": 2_278_604, "googlenet": 6_624_904, "inception_v3": 23_834_568,
        "densenet121": 7_978_856, "mobilenet_v2": 3_504_872, "mobilenet_v3_large": 5_483_032,
        "efficientnet_b0": 5_288_548, "mnasnet1_0": 4_383_312}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_figure_is_pytorchs(name: str) -> None:
    figures = FIGURES[name]
    a = _analysis(name)
    assert {d.code for d in a.diagnostics} <= {"I302"}, [
        (d.code, d.message) for d in a.diagnostics if d.code != "I302"]
    assert a.ok and a.totals is not None and a.totals.assumed == ()
    t = a.totals
    assert (t.params, t.buffers, t.macs) == (
        figures["params"], figures["buffers"], figures["macs"])
    assert list(a.layers[-1].output_shape or ()) == figures["output"]
    # every leaf module, each time forward() calls it (ResNet's relu twice or three times)
    wanted: dict[str, list[list[int]]] = defaultdict(list)
    for leaf in figures["leaves"]:
        wanted[leaf["name"]].append(leaf["output"])
    got: dict[str, list[list[int]]] = defaultdict(list)
    extra = []
    for r in a.layers:
        assert r.output_shape is not None
        if r.layer.name in wanted:
            got[r.layer.name].append(list(r.output_shape))
        else:
            extra.append(r.layer)
    assert got == wanted
    # what is not a leaf is a step only forward() shows, made where its class is named
    assert {layer.kind for layer in extra} <= FORWARD_ONLY
    lines = a.spec.lines
    for layer in extra:
        line = lines[layer.span.line - 1]
        assert line[layer.span.col - 1:layer.span.end_col - 1] in FORWARDS
        assert line[layer.span.end_col - 1] == "("


def test_exit_0_with_the_figures_of_the_table(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("resnet50", "mobilenet_v3_large", "inception_v3"):
        figures = FIGURES[name]
        size = "x".join(map(str, figures["input"]))
        result = runner.invoke(cli, ["show", "--format", "json", "--input", size,
                                     str(TORCHVISION / f"{name}.txt")])
        assert result.exit_code == 0, result.output
        totals = json.loads(result.stdout)["totals"]
        assert (totals["params"], totals["macs"]) == (figures["params"], figures["macs"])
        assert "P014" not in result.stderr


@pytest.mark.parametrize("name", ["resnet18", "densenet121", "shufflenet_v2_x1_0",
                                  "efficientnet_b0"])
def test_the_canonical_rewrite_keeps_the_figures(name: str) -> None:
    """``show --format spec`` writes the wiring out (``from``, ADD, CONCAT, SLICE...): read
    back, it gives the same figures."""
    size = "x".join(map(str, FIGURES[name]["input"]))
    result = CliRunner().invoke(cli, ["show", "--format", "spec", "--input", size,
                                      str(TORCHVISION / f"{name}.txt")])
    assert result.exit_code == 0
    again = analyze_text(result.stdout, "again.txt")
    assert again.totals is not None and again.ok
    assert (again.totals.params, again.totals.macs) == (
        FIGURES[name]["params"], FIGURES[name]["macs"])


# cnncalc run: one model of each block family, at a small input
@pytest.mark.parametrize(("name", "size"), [
    ("resnet50", 32), ("googlenet", 32), ("inception_v3", 75), ("densenet121", 32),
    ("squeezenet1_0", 32), ("shufflenet_v2_x1_0", 32), ("mobilenet_v2", 32),
    ("mobilenet_v3_large", 32), ("efficientnet_b0", 32), ("mnasnet1_0", 32)])
def test_run_confirms_each_block_family(name: str, size: int) -> None:
    result = CliRunner().invoke(cli, ["run", "--format", "json", "--input",
                                      f"{size}x{size}x3", str(TORCHVISION / f"{name}.txt")])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["ok"] is True and record["assumed"] == [] and record["failed"] is None
    a = _analysis(name, size)
    assert len(record["layers"]) == len(a.layers)
    assert a.totals is not None and record["totals"]["macs"] == a.totals.macs


# the wiring, block by block

PT = "# cnncalc: input 8x8x8\n"


def _inverted(cin: int, cout: int, stride: int) -> str:
    return PT + f"""\
InvertedResidual(
  (conv): Sequential(
    (0): Conv2d({cin}, 16, kernel_size=(1, 1), bias=False)
    (1): Conv2d(16, 16, kernel_size=(3, 3), stride=({stride}, {stride}), padding=(1, 1), groups=16)
    (2): Conv2d(16, {cout}, kernel_size=(1, 1), bias=False)
  )
)
"""


@pytest.mark.parametrize(("cin", "cout", "stride", "adds"), [
    (8, 8, 1, True), (8, 4, 1, False), (8, 8, 2, False)])
def test_a_residual_is_decided_from_the_printed_arguments(cin: int, cout: int, stride: int,
                                                          adds: bool) -> None:
    """MobileNetV2's ``use_res_connect``: stride 1 and as many channels out as in."""
    a = analyze_text(_inverted(cin, cout, stride))
    assert a.ok and {d.code for d in a.diagnostics} <= {"I302"}
    kinds = [r.layer.kind for r in a.layers]
    assert kinds == ["conv", "depthwise", "conv", "add"][:4 if adds else 3] or \
        kinds == ["conv", "conv", "conv", "add"][:4 if adds else 3]
    if adds:
        assert [ref.name for ref in a.layers[-1].layer.inputs] == ["INPUT", "conv.2"]


def test_mbconv_calls_stochastic_depth_only_on_its_residual() -> None:
    a = _analysis("efficientnet_b0")
    names = [r.layer.name for r in a.layers]
    assert "features.1.0.stochastic_depth" not in names  # 32 in, 16 out
    assert "features.2.1.stochastic_depth" in names and "features.2.1.add" in names
    se = [r for r in a.layers if r.layer.name == "features.2.1.block.2.mul"]
    assert se[0].output_shape == (56, 56, 144)


def test_shufflenet_splits_at_stride_1_and_branches_at_stride_2() -> None:
    a = _analysis("shufflenet_v2_x1_0")
    by_name = {r.layer.name: r for r in a.layers}
    x1, x2 = by_name["stage2.1.x1"].layer, by_name["stage2.1.x2"].layer
    assert (x1.start, x1.stop, x2.start, x2.stop) == (0, 58, 58, 116)  # type: ignore[attr-defined]
    assert "stage2.0.x1" not in by_name
    assert [ref.name for ref in by_name["stage2.0.out"].layer.inputs] == [
        "stage2.0.branch1.4", "stage2.0.branch2.7"]
    assert by_name["stage2.0.channel_shuffle"].output_shape == (28, 28, 116)


def test_densenet_concatenates_one_input_at_a_time() -> None:
    """Each dense layer reads the concatenation of the block's input and every earlier
    layer's output: one concat of two inputs per layer, so the references stay linear."""
    a = _analysis("densenet121")
    cats = [r for r in a.layers if r.layer.kind == "concat"]
    assert len(cats) == 6 + 12 + 24 + 16
    assert all(len(r.layer.inputs) == 2 for r in cats)
    by_name = {r.layer.name: r for r in a.layers}
    assert by_name["features.denseblock1.denselayer1.cat"].output_shape == (56, 56, 96)
    assert by_name["features.denseblock1.cat"].output_shape == (56, 56, 256)
    assert [r.layer.name for r in a.layers[-5:]] == [
        "features.norm5", "relu", "adaptive_avg_pool2d", "flatten", "classifier"]


def test_a_module_called_twice_is_a_layer_each_time() -> None:
    a = _analysis("resnet50")
    names = [r.layer.name for r in a.layers]
    assert names.count("layer1.0.relu") == 3
    block = names[names.index("layer1.0.conv1"):names.index("layer1.1.conv1")]
    assert block == ["layer1.0.conv1", "layer1.0.bn1", "layer1.0.relu", "layer1.0.conv2",
                     "layer1.0.bn2", "layer1.0.relu", "layer1.0.conv3", "layer1.0.bn3",
                     "layer1.0.downsample.0", "layer1.0.downsample.1", "layer1.0.add",
                     "layer1.0.relu"]


# what cnncalc does not know is said, never guessed

BLOCK = """\
  (0): {cls}(
    (conv1): Conv2d(8, 8, kernel_size=(3, 3), padding=(1, 1), bias=False)
    (bn1): BatchNorm2d(8)
    (relu): ReLU(inplace=True)
    (conv2): Conv2d(8, 8, kernel_size=(3, 3), padding=(1, 1), bias=False)
    (bn2): BatchNorm2d(8){extra}
  )
"""


def _net(cls: str, extra: str = "") -> str:
    return PT + "Sequential(\n" + BLOCK.format(cls=cls, extra=extra) + \
        "  (1): Conv2d(8, 4, kernel_size=(1, 1))\n)\n"


def test_a_known_block_is_exact_and_unmarked() -> None:
    a = analyze_text(_net("BasicBlock"))
    assert a.diagnostics == () and a.totals is not None and a.totals.assumed == ()
    assert [r.layer.name for r in a.layers][-3:] == ["0.add", "0.relu", "1"]


def test_an_unknown_container_is_read_in_order_and_marked() -> None:
    known = analyze_text(_net("BasicBlock"))
    a = analyze_text(_net("MyBlock"))
    p014 = [d for d in a.diagnostics if d.code == "P014"]
    assert len(p014) == 1 and "`MyBlock`: its forward() is not known" in p014[0].message
    assert a.totals is not None and known.totals is not None
    assert a.totals.params == known.totals.params  # params do not rest on the wiring
    assert a.totals.assumed == ("macs", "flops", "activations")
    assert [r.assumed for r in a.layers] == ["MyBlock"] * 6


def test_a_known_class_with_other_children_is_not_taken_for_torchvision() -> None:
    """A ``BasicBlock`` with a child torchvision's has not (a squeeze-and-excitation module,
    say) has another forward(): read in order, P014 says why."""
    a = analyze_text(_net("BasicBlock", "\n    (se): ReLU()"))
    p014 = next(d for d in a.diagnostics if d.code == "P014")
    assert "`BasicBlock`: its forward() is not known (its children are not those of " \
           "torchvision's `BasicBlock`: `se`, which that forward() does not call), so " \
           "cnncalc read its children in the order printed" in p014.message
    a = analyze_text(_net("BasicBlock").replace("    (bn1): BatchNorm2d(8)\n", ""))
    p014 = next(d for d in a.diagnostics if d.code == "P014")
    assert "(its children are not those of torchvision's `BasicBlock`: no `bn1`)" in \
        p014.message
    assert a.totals is not None and a.totals.assumed
    assert all(r.assumed == "BasicBlock" for r in a.layers[:6])


@pytest.mark.parametrize("name", sorted(AUX))
def test_the_default_print_with_auxiliary_heads_is_the_eval_network(name: str) -> None:
    """``print(googlenet())`` and ``print(inception_v3())`` show the auxiliary classifiers,
    which forward() calls only in training: the network is read as in eval mode, with
    PyTorch's figures for it (its params are the whole model's less the heads'), exit 0, no
    P014; each head is said (P025, a warning) at its line."""
    aux, figures = AUX[name], FIGURES[name]
    assert (aux["params"] - aux["head_params"], aux["buffers"] - aux["head_buffers"],
            aux["macs"]) == (figures["params"], figures["buffers"], figures["macs"])
    text = _text(f"{name}_aux")
    a = analyze(parse_text(text, f"{name}_aux.txt"), tuple(figures["input"]))
    assert a.ok and a.totals is not None and a.totals.assumed == ()
    t = a.totals
    assert (t.params, t.buffers, t.macs) == (figures["params"], figures["buffers"],
                                             figures["macs"])
    assert list(a.layers[-1].output_shape or ()) == figures["output"]
    assert not any(r.layer.name.split(".")[0] in aux["heads"] for r in a.layers)
    said = [d for d in a.diagnostics if d.code != "I302"]
    assert [d.code for d in said] == ["P025"] * len(aux["heads"])
    for d, head in zip(said, aux["heads"], strict=True):
        assert d.severity.value == "warning"
        assert d.message.startswith(f"`{head}` (InceptionAux) is called by ")
        assert "only in training: the network is read as in eval mode, without it" in \
            d.message
        assert text.splitlines()[d.span.line - 1].lstrip().startswith(f"({head}): ")
    size = "x".join(map(str, figures["input"]))
    result = CliRunner().invoke(cli, ["show", "--input", size,
                                      str(TORCHVISION / f"{name}_aux.txt")])
    assert result.exit_code == 0, result.output
    assert "P025" in result.stderr and "P014" not in result.stderr


def test_any_module_googlenet_calls_only_in_training_is_left_out() -> None:
    """torchvision's GoogLeNet calls ``aux1`` only in training whatever its class: one of
    another class is left out the same way, and said."""
    text = _text("googlenet").replace(
        "  (avgpool)", "  (aux1): Sequential(\n    (0): Linear(in_features=4, out_features=2)\n"
        "  )\n  (avgpool)")
    a = analyze(parse_text(text, "g.txt"), (224, 224, 3))
    assert a.totals is not None and a.totals.params == FIGURES["googlenet"]["params"]
    (d,) = [d for d in a.diagnostics if d.code in ("P014", "P025")]
    assert d.code == "P025" and d.message.startswith("`aux1` (Sequential) is called by")


def test_a_child_is_called_or_training_only_never_both() -> None:
    with pytest.raises(ValueError, match="only in training"):
        compile_forward("Net", "x conv fc ~fc")
    program = compile_forward("Net", "x conv fc ~aux")
    assert program.labels == {"conv", "fc"} and program.training == {"aux"}


def test_a_child_googlenet_never_calls_is_still_not_guessed() -> None:
    """A child torchvision's GoogLeNet has not at all (not an auxiliary head) makes it
    unknown, as before: read in order, with P014 naming the child."""
    text = _text("googlenet").replace(
        "  (avgpool)", "  (head2): Sequential(\n    (0): Linear(in_features=4, out_features=2)\n"
        "  )\n  (avgpool)")
    a = analyze(parse_text(text, "g.txt"), (224, 224, 3))
    p014 = [d for d in a.diagnostics if d.code == "P014"]
    assert [d.message.split("`")[1] for d in p014] == ["GoogLeNet"]
    assert "`head2`, which that forward() does not call" in p014[0].message


def test_a_child_a_residual_may_skip_must_hold_no_params() -> None:
    """MBConv calls ``stochastic_depth`` only on its residual: printed as a module with
    params, skipping it would drop them, so the block is not taken for torchvision's."""
    a = analyze_text(PT + """\
MBConv(
  (block): Sequential(
    (0): Conv2d(8, 4, kernel_size=(1, 1))
  )
  (stochastic_depth): Conv2d(4, 4, kernel_size=(1, 1))
)
""")
    p014 = next(d for d in a.diagnostics if d.code == "P014")
    assert "`stochastic_depth` with params, which that forward() may not call" in p014.message
    assert a.totals is not None and a.totals.params == 36 + 20


def test_an_error_after_an_assumed_wiring_blames_the_wiring() -> None:
    """ResNet's blocks under another name: read in order, the downsample convolution reads
    128 channels where it declares 64. The hint names the assumption, not a figure."""
    text = _text("resnet18").replace("BasicBlock(", "Block(")
    a = analyze(parse_text(text, "r.txt"), (224, 224, 3))
    c001 = next(d for d in a.diagnostics if d.code == "C001")
    assert "declares 64 input channels but receives 128" in c001.message
    assert "`Block` (its forward() is not known)" in c001.hint
    assert "64" not in c001.hint and "128" not in c001.hint
    assert a.totals is None


def test_a_name_a_block_reads_must_still_be_that_layers() -> None:
    """A layer reads another by name, the latest so named: when a later layer takes the
    name of the one a block reads, the block is not wired to the wrong one (P001)."""
    text = PT + "Net(\n  (b.bn2): BatchNorm2d(8)\n" + BLOCK.format(
        cls="BasicBlock", extra="").replace("(0)", "(b)") + ")\n"
    a = analyze_text(text)
    p001 = next(d for d in a.diagnostics if d.code == "P001")
    assert "the name `b.bn2` it reads is given to a later layer too" in p001.message
    assert a.totals is None


def test_known_blocks_nest_a_bounded_depth() -> None:
    depth = MAX_NESTING + 6
    text = PT + "".join(f"{'  ' * i}{'(conv): ' if i else ''}InvertedResidual(\n"
                        for i in range(depth))
    text += "  " * depth + "(conv): Conv2d(8, 8, kernel_size=(1, 1))\n"
    text += "".join(f"{'  ' * i})\n" for i in reversed(range(depth)))
    a = analyze_text(text)
    p014 = [d for d in a.diagnostics if d.code == "P014"]
    assert len(p014) == 1 and f"nest more than {MAX_NESTING} deep" in p014[0].message
    assert a.totals is not None and a.totals.params == 72


def test_every_forward_compiles_and_names_its_layers_apart() -> None:
    for cls, texts in FORWARDS.items():
        assert len(programs(cls)) == len(texts)
    with pytest.raises(ValueError, match="names of their own"):
        compile_forward("Bad", "x RELU >a | x RELU >a | ADD(a, a)")
    with pytest.raises(ValueError, match="not saved"):
        compile_forward("Bad", "x conv | y conv")


def test_a_gate_does_not_spread_the_field_of_what_follows() -> None:
    """Squeeze-and-excitation multiplies the volume by a gate pooled to 1x1: the product sees
    the whole 8x8 input (the gate's field), and neighbouring outputs are still one pixel
    apart (the volume's jump), so a 3x3 convolution after it sees 8 + 2 = 10, not 8 + 2*8."""
    a = analyze_text(PT + """\
Sequential(
  (0): SqueezeExcitation(
    (avgpool): AdaptiveAvgPool2d(output_size=1)
    (fc1): Conv2d(8, 2, kernel_size=(1, 1), stride=(1, 1))
    (fc2): Conv2d(2, 8, kernel_size=(1, 1), stride=(1, 1))
    (activation): ReLU()
    (scale_activation): Hardsigmoid()
  )
  (1): Conv2d(8, 8, kernel_size=(3, 3), padding=(1, 1))
)
""")
    assert a.diagnostics == () and a.totals is not None
    assert [r.layer.name for r in a.layers] == [
        "0.avgpool", "0.fc1", "0.activation", "0.fc2", "0.scale_activation", "0.mul", "1"]
    mul, conv = a.layers[-2], a.layers[-1]
    assert mul.output_shape == (8, 8, 8) and [ref.name for ref in mul.layer.inputs] == [
        "0.scale_activation", "INPUT"]
    assert (mul.field.rf, mul.field.jump) == ((8, 8), (1, 1))
    assert conv.field.rf == (10, 10)


def _shuffle_block(channels: int) -> str:
    return f"""# cnncalc: input 8x8x{channels}
InvertedResidual(
  (branch1): Sequential()
  (branch2): Sequential(
    (0): Conv2d(4, 4, kernel_size=(1, 1), stride=(1, 1), bias=False)
    (1): ReLU(inplace=True)
  )
)
"""


def test_shufflenets_split_is_checked_against_the_width_its_branch_declares() -> None:
    """``x.chunk(2)`` of 8 channels gives the 4 that branch2 declares; of 12 channels it
    would give 6: PyTorch would fail, and so does cnncalc (C003), rather than take 4 and 4."""
    a = analyze_text(_shuffle_block(8))
    assert a.ok and a.diagnostics == () and a.layers[-1].output_shape == (8, 8, 8)
    bad = analyze_text(_shuffle_block(12))
    d = next(d for d in bad.diagnostics if d.code == "C003")
    assert "x1: channels 0 to 4 are a part of 8, but the input has 12" in d.message
    assert bad.totals is None


def test_known_and_unknown_containers_inside_each_other() -> None:
    """A known block inside an unknown container rests on that container's assumed order
    (marked with its name); an unknown container inside a known block keeps its own."""
    outer = PT + "Net(\n" + BLOCK.format(cls="BasicBlock", extra="") + ")\n"
    a = analyze_text(outer)
    assert [d.message.split("`")[1] for d in a.diagnostics if d.code == "P014"] == ["Net"]
    assert [r.assumed for r in a.layers] == ["Net"] * 7
    inner = _net("BasicBlock", "\n    (downsample): Proj(\n"
                 "      (0): Conv2d(8, 8, kernel_size=(1, 1))\n    )")
    a = analyze_text(inner)
    assert [d.message.split("`")[1] for d in a.diagnostics if d.code == "P014"] == ["Proj"]
    assert [(r.layer.name, r.assumed) for r in a.layers if r.assumed] == [
        ("0.downsample.0", "Proj"), ("0.add", "Proj"), ("0.relu", "Proj"), ("1", "Proj")]


def test_a_split_with_no_width_is_said() -> None:
    text = _shuffle_block(8).replace(
        "(0): Conv2d(4, 4, kernel_size=(1, 1), stride=(1, 1), bias=False)", "(0): Identity()")
    a = analyze_text(text)
    d = next(d for d in a.diagnostics if d.code == "P011")
    assert "x1: `branch2` has no convolution" in d.message and a.totals is None


# the values: where torch and torchvision are installed, each model of a block family runs in
# torchvision with the executor's weights, and gives what cnncalc's executor gives

def _load(model: Any, net: Any, torch: Any) -> None:
    """Copy the executor's arrays into torchvision's model, module by module (by name)."""
    import numpy as np

    from cnncalc.execute.modules import BatchNormModule, ConvModule, DenseModule

    modules = dict(model.named_modules())
    with torch.no_grad():
        for m in net.modules:
            target = modules.get(m.layer.name)
            arrays = {k: np.array(v) for k, v in m.arrays.items()}  # ours are read-only
            if isinstance(m, ConvModule):
                kh, kw = m.kernel
                w = arrays["weight"].reshape(m.groups, kh, kw, m.cg, m.kg)
                target.weight.copy_(torch.from_numpy(w.transpose(0, 4, 3, 1, 2).reshape(
                    m.groups * m.kg, m.cg, kh, kw)))
            elif isinstance(m, BatchNormModule):
                target.running_mean.copy_(torch.from_numpy(arrays["mean"]))
                target.running_var.copy_(torch.from_numpy(arrays["var"]))
                target.weight.copy_(torch.from_numpy(arrays["gamma"]))
                target.eps = 1e-5  # the executor's; torchvision's GoogLeNet says 0.001
            elif isinstance(m, DenseModule):  # after a pooling to 1x1: the same order
                target.weight.copy_(torch.from_numpy(arrays["weight"].T))
            else:
                continue
            for ours, theirs in (("bias", "bias"), ("beta", "bias")):
                if ours in arrays:
                    getattr(target, theirs).copy_(torch.from_numpy(arrays[ours]))


@pytest.mark.parametrize(("name", "size"), [
    ("resnet50", 32), ("googlenet", 32), ("inception_v3", 75), ("densenet121", 32),
    ("squeezenet1_0", 32), ("shufflenet_v2_x1_0", 32), ("mobilenet_v3_large", 32),
    ("efficientnet_b0", 32), ("mnasnet1_0", 32)])
def test_the_wiring_computes_what_torchvision_computes(name: str, size: int) -> None:
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    import numpy as np

    from cnncalc.execute.modules import Context
    from cnncalc.execute.network import Network, plan, random_input
    extra = {"aux_logits": False, "init_weights": False} if name in (
        "googlenet", "inception_v3") else {}
    model = getattr(torchvision.models, name)(weights=None, **extra).eval().double()
    a = _analysis(name, size)
    p = plan(a)
    assert a.input is not None and p.failure is None and p.stop is None
    net = Network(p.modules, "float64", seed=0, output=p.output)
    x = random_input(a.input, 2, "float64", 0)
    net.forward(x, Context())
    _load(model, net, torch)
    with torch.no_grad():
        want = model(torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))))
    assert net.result is not None
    np.testing.assert_allclose(net.result, want.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "googlenet", "densenet121",
                                  "mobilenet_v2"])
def test_the_shipped_specs_and_the_printed_models_are_wired_alike(name: str) -> None:
    """specs/ writes these networks in the canonical notation with blocks, by hand; read from
    ``print(model)`` they agree layer by layer, wiring included (``cnncalc diff`` exits 0)."""
    root = TORCHVISION.parent.parent.parent
    result = CliRunner().invoke(cli, ["diff", str(root / "specs" / f"{name}.txt"),
                                      str(TORCHVISION / f"{name}.txt"), "--input-b",
                                      "224x224x3"])
    assert result.exit_code == 0, result.output
    assert "wired alike" in result.stdout
