"""The PyTorch front end: ``print(model)`` text and ``nn.Conv2d(...)`` calls, read without
ever running them. Hand-worked figures follow PyTorch's rules; the last test compares with
PyTorch itself when it is installed."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from helpers import SPECS
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.analyze import Analysis, LayerResult, analyze
from cnncalc.parse import detect, parse_text
from cnncalc.parse.pytorch import parse_pytorch
from cnncalc.spec import Conv, Unparsed


def run(source: str, shape: tuple[int, ...] | None = None, **defines: int) -> Analysis:
    text = textwrap.dedent(source)
    return analyze(parse_text(text, "m.txt", "pytorch", defines=defines), shape)


def one(source: str, shape: tuple[int, ...]) -> LayerResult:
    """The last layer of a small network, which must analyse cleanly."""
    a = run(source, shape)
    assert [d.code for d in a.diagnostics if d.severity == "error"] == [], a.diagnostics
    return a.layers[-1]


def problems(source: str, shape: tuple[int, ...] | None = (8, 8, 3), **defines: int
             ) -> list[tuple[int, int, str]]:
    return [(d.span.line, d.span.col, d.code) for d in run(source, shape, **defines).diagnostics]


def test_alexnet_printed_by_torchvision() -> None:
    text = (SPECS / "pytorch_alexnet.txt").read_text(encoding="utf-8")
    assert detect(text) == "pytorch"
    spec = parse_text(text, "specs/pytorch_alexnet.txt")
    assert (spec.notation, spec.rounding, spec.input) == ("pytorch", "floor", (224, 224, 3))
    a = analyze(spec)
    assert a.totals is not None and a.totals.params == 61_100_840
    shaped = [r for r in a.layers if r.layer.kind in ("conv", "maxpool", "adaptiveavgpool", "fc")]
    assert [r.output_shape for r in shaped] == [
        (55, 55, 64), (27, 27, 64), (27, 27, 192), (13, 13, 192), (13, 13, 384), (13, 13, 256),
        (13, 13, 256), (6, 6, 256), (6, 6, 256), (4096,), (4096,), (1000,)]
    assert [r.layer.name for r in a.layers[:2]] == ["features.0", "features.1"]
    assert a.layers[-1].layer.name == "classifier.6"
    assert {d.code for d in a.diagnostics} == {"I302"}  # 55.25 floored, as PyTorch does


@pytest.mark.parametrize(("module", "width", "out"), [
    ("MaxPool2d(3, stride=2, padding=1, ceil_mode=True)", 6, 4),  # ceil(5/2) + 1
    ("MaxPool2d(2, stride=2, padding=1, ceil_mode=True)", 5, 3),  # 4th window starts in padding
    ("MaxPool2d(2, stride=2, padding=1)", 5, 3),
    ("MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=True)", 55, 27),
    ("MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=True)", 56, 28),
    ("MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)", 56, 27),
    ("MaxPool2d(2)", 7, 3),  # stride defaults to the kernel
    ("AvgPool2d(3, 2, 1, True)", 6, 4),
    ("AdaptiveAvgPool2d(output_size=(6, 6))", 13, 6),
    ("AdaptiveMaxPool2d(6)", 13, 6),
])
def test_pool_sizes(module: str, width: int, out: int) -> None:
    assert one(module, (width, width, 4)).output_shape == (out, out, 4)


def test_even_kernel_same_padding() -> None:
    r = one("Conv2d(3, 8, kernel_size=(4, 4), stride=(1, 1), padding=same)", (7, 7, 3))
    assert (r.output_shape, r.weights, r.biases, r.padding) == ((7, 7, 8), 4 * 4 * 3 * 8, 8,
                                                                 ((1, 2), (1, 2)))
    assert one("nn.Conv2d(3, 8, 4, padding='valid')", (7, 7, 3)).output_shape == (4, 4, 8)


def test_grouped_conv() -> None:
    r = one("Conv2d(64, 128, 3, groups=4)", (10, 10, 64))
    assert (r.output_shape, r.weights) == ((8, 8, 128), 3 * 3 * 16 * 128)
    assert r.macs == 8 * 8 * 128 * 3 * 3 * 16


def test_grouped_transposed_conv() -> None:
    r = one("ConvTranspose2d(64, 32, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), "
            "groups=2)", (9, 11, 64))
    assert r.output_shape == (18, 22, 32)
    assert (r.weights, r.biases, r.macs) == (64 * 16 * 4 * 4, 32, 9 * 11 * 64 * 4 * 4 * 16)
    assert one("ConvTranspose2d(3, 8, 3, stride=2, output_padding=1)", (5, 5, 3)
               ).output_shape == (12, 12, 8)


def test_bias_false_and_dilation() -> None:
    r = one("Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), dilation=(2, 2), bias=False, "
            "padding_mode=reflect)", (9, 9, 3))
    assert (r.output_shape, r.weights, r.biases) == ((5, 5, 8), 3 * 3 * 3 * 8, 0)
    assert one("Linear(in_features=3, out_features=4, bias=False)", (3,)).params == 12


def test_batchnorm() -> None:
    r = one("BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)",
            (4, 4, 16))
    assert (r.params, r.buffers) == (32, 32)
    r = one("BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, bias=False, "
            "track_running_stats=True)", (4, 4, 16))
    assert (r.weights, r.biases) == (16, 0)
    r = one("BatchNorm2d(16, affine=False, track_running_stats=False)", (4, 4, 16))
    assert (r.params, r.buffers) == (0, 0)


def test_zero_pad_left_right_top_bottom() -> None:
    assert one("ZeroPad2d((1, 2, 3, 4))", (5, 5, 3)).output_shape == (12, 8, 3)
    assert one("ZeroPad2d(2)", (5, 5, 3)).output_shape == (9, 9, 3)


def test_activations_and_friends() -> None:
    text = """\
        LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=1.0)
        GELU(approximate='none')
        LeakyReLU(negative_slope=0.01)
        Identity()
        Dropout2d(p=0.2, inplace=False)
        Flatten(start_dim=1, end_dim=-1)
        Softmax(dim=1)
        """
    a = run(text, (2, 2, 3))
    assert [r.layer.kind for r in a.layers] == ["lrn", "gelu", "leakyrelu", "identity",
                                                "dropout", "flatten", "softmax"]
    assert a.layers[-1].output_shape == (12,) and a.ok


def test_channel_mismatches_point_at_the_argument() -> None:
    a = run("""\
        Flatten()
        Linear(in_features=9216, out_features=4096, bias=True)
        """, (5, 5, 256))
    (d,) = a.diagnostics
    assert (d.code, d.span.line, d.span.col) == ("C001", 2, 8)
    assert "9216" in d.message and "6400" in d.message
    assert problems("Conv2d(3, 32, 3)\nConv2d(64, 64, 3)") == [(2, 8, "C001")]
    assert problems("Conv2d(3, 8, 3)\nBatchNorm2d(16)") == [(2, 13, "C001")]


def test_nested_containers_flatten_in_order() -> None:
    a = run("""\
        Net(
          (stem): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))
          (body): Sequential(
            (stage1): Sequential(
              (0): Conv2d(8, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
              (1): ReLU()
            )
            (pool): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
            (downsample): Sequential()
          )
          (blocks): ModuleList(
            (0-1): 2 x Sequential(
              (conv): Conv2d(8, 8, kernel_size=(1, 1), stride=(1, 1))
              (act): SiLU()
            )
          )
          (fc): Linear(in_features=72, out_features=10, bias=True)
        )
        """, (8, 8, 3))
    assert [r.layer.name for r in a.layers] == [
        "stem", "body.stage1.0", "body.stage1.1", "body.pool", "blocks.0.conv", "blocks.0.act",
        "blocks.1.conv", "blocks.1.act", "fc"]
    assert a.ok and a.layers[-1].output_shape == (10,)
    assert a.totals is not None and a.totals.params == 224 + 584 + 2 * 72 + 730


def test_constructor_calls() -> None:
    a = run("""\
        import torch.nn as nn
        model = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),  # conv1
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Sequential(nn.Flatten(), nn.Dropout(p=0.5)),
            nn.Linear(
                64 * 27 * 27,
                num_classes,
            ),
        )
        """, (224, 224, 3), num_classes=10)
    assert a.ok, a.diagnostics
    assert [r.layer.name for r in a.layers] == ["0", "1", "2", "3.0", "3.1", "4"]
    assert a.layers[-1].params == 64 * 27 * 27 * 10 + 10
    a = run("""\
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        torch.nn.Conv2d(6, 16, 5)
        """, (32, 32, 1))
    assert [(r.layer.name, r.output_shape) for r in a.layers] == [
        ("conv1", (28, 28, 6)), ("pool", (14, 14, 6)), ("2", (10, 10, 16))]


def test_input_comment_and_spans() -> None:
    spec = parse_text("# cnncalc: input 32x32x3\nnn.Conv2d(3, 8, kernel_size=3, stride=2)\n",
                      "m.txt")
    assert spec.input == (32, 32, 3)
    (conv,) = spec.layers
    assert isinstance(conv, Conv) and (conv.span.line, conv.span.col) == (2, 1)
    assert dict(conv.fields)["kernel"].col == 17 and dict(conv.fields)["filters"].col == 14


def test_never_evaluated(tmp_path: Path) -> None:
    target = tmp_path / "pwned_torch"
    text = f"Conv2d(3, __import__('os').system('touch {target}'), 3)\nReLU()\n"
    a = run(text, (8, 8, 3))
    assert [(d.code, d.span.col) for d in a.diagnostics] == [("P009", 11)]
    assert [r.status for r in a.layers] == ["error", "not-computed"]
    assert isinstance(a.layers[0].layer, Unparsed)
    assert not target.exists()


@pytest.mark.parametrize(("source", "expected"), [
    ("Conv2d(3, 8, kernel_size=lambda: 3)", [(1, 26, "P009")]),
    ("Conv2d(3, 8, kernel_size=math.pi)", [(1, 26, "P009")]),
    ("Conv2d(3, 8, kernel_size=f'{3}')", [(1, 26, "P009")]),
    ("Conv2d(3, 8, *sizes)", [(1, 14, "P009")]),
    ("nn.Conv3d(3, 8, 3)", [(1, 4, "P002")]),
    ("Conv2d(3, 8, 3, strides=2)", [(1, 17, "P010")]),
    ("Conv2d(3, 8)", [(1, 1, "P010")]),
    ("Conv2d(3, 8, 3, 1, 0, 1, 1, True, 'zeros', None, None, 5)", [(1, 56, "P010")]),
    ("Conv2d(3, 8, 3, stride=2, padding='same')", [(1, 27, "P010")]),
    ("Conv2d(3, 8, 3, padding='full')", [(1, 17, "P010")]),
    ("Conv2d(3, 8, 3, stride=(1, 2, 3))", [(1, 17, "P010")]),
    ("Conv2d(3, 8, 3, groups=True)", [(1, 17, "P010")]),
    ("MaxPool2d(3, padding=2)", [(1, 14, "P010")]),
    ("AdaptiveAvgPool2d(output_size=(None, 7))", [(1, 19, "P011")]),
    ("Conv2d(3, width, 3)", [(1, 11, "P008")]),
    ("Conv2d(3, 8, 3, padding_mode='éé', stride=w)", [(1, 43, "P008")]),  # columns, not bytes
    ("Conv2d(3, 8, 3 4)", [(1, 1, "P001")]),
    ("Conv2d(3, 8, 3, stride=0)", [(1, 17, "G106")]),
    ("nn.Dropout(p=1.5)", [(1, 12, "G106")]),
    ("Conv2d(3, 8, 3)\n  )", [(2, 3, "P001")]),
])
def test_problems(source: str, expected: list[tuple[int, int, str]]) -> None:
    assert problems(source) == expected


def test_unknown_names_suggest() -> None:
    a = run("nn.Conv2D(3, 8, 3)\nConv2d(3, 8, kernal_size=3)\n", (8, 8, 3))
    assert [(d.code, d.hint) for d in a.diagnostics] == [
        ("P002", "did you mean `Conv2d`?"), ("P010", "did you mean `kernel_size`?")]
    assert "--define width=VALUE" in run("Linear(4, width)", (4,)).diagnostics[0].hint
    assert run("Linear(4, width)", (4,), width=3).layers[0].output_shape == (3,)


def test_unbalanced_parentheses_name_the_line() -> None:
    lines = (SPECS / "pytorch_alexnet.txt").read_text(encoding="utf-8").splitlines()
    missing = list(lines)
    missing[6] = missing[6].removesuffix(")")  # (3): Conv2d(64, 192, ... padding=(2, 2)
    a = analyze(parse_pytorch("\n".join(missing), "a.txt", {}))
    assert [(d.span.line, d.code) for d in a.diagnostics if d.code != "I302"] == [(7, "P001")]
    assert a.layers[3].status == "error" and a.layers[4].status == "not-computed"
    extra = list(lines)
    extra[3] += ")"
    a = analyze(parse_pytorch("\n".join(extra), "a.txt", {}))
    assert [(d.span.line, d.code) for d in a.diagnostics if d.code != "I302"] == [(4, "P001")]
    # the error is on the first conv's line: what follows rests on how the reader recovered
    assert [r.status for r in a.layers[:2]] == ["error", "not-computed"] and a.totals is None
    unclosed = [ln for i, ln in enumerate(lines) if i != 16]  # the `)` ending features
    a = analyze(parse_pytorch("\n".join(unclosed), "a.txt", {}))
    assert [(d.span.line, d.code) for d in a.diagnostics if d.code != "I302"] == [(17, "P001")]
    assert a.layers[13].layer.name == "avgpool"
    a = analyze(parse_pytorch("\n".join(lines[:-1]), "a.txt", {}))
    assert [(d.span.line, d.code) for d in a.diagnostics if d.code != "I302"] == [(2, "P001")]


def test_recovers_from_stray_text() -> None:
    lines = (SPECS / "pytorch_alexnet.txt").read_text(encoding="utf-8").splitlines()
    lines[15] = lines[15].strip()  # once looped for ever: a label left of its container
    a = analyze(parse_pytorch("\n".join(lines), "a.txt", {}))
    # the MaxPool2d left of its container is AlexNet's: children AlexNet's forward() does
    # not call, so its order is assumed too (P014)
    assert [(d.span.line, d.code) for d in a.diagnostics if d.code != "I302"] == [
        (2, "P014"), (16, "P001"), (28, "P001")]
    # the layer on the error's line is an error, nothing after it is guessed
    assert [r.status for r in a.layers[11:14]] == ["ok", "error", "not-computed"]
    assert a.totals is None
    a = run("""\
        nn.Sequential(
            nn.ModuleList([
                nn.Conv2d(3, 8, 3),
                what is this]),
            nn.ReLU())
        """, (8, 8, 3))
    # a ModuleList has no forward() of its own: reading it in order is said
    assert [(d.span.line, d.code) for d in a.diagnostics] == [(2, "P014"), (4, "P001")]
    assert [(r.layer.name, r.status) for r in a.layers] == [
        ("0.0", "ok"), ("what", "error"), ("1", "not-computed")]


def test_repeats_are_bounded() -> None:
    """A repeat that would make more layers than the cap is not expanded: reading stops (P012)
    with the layers read so far and a layer that stands for the rest; no totals."""
    a = run("ModuleList(\n  (0-9): 10 x ModuleList(\n    (0-99999): 100000 x ReLU()\n  )\n)\n",
            (2, 2, 1))
    assert [(d.span.line, d.code) for d in a.diagnostics] == [(1, "P014"), (2, "P012")]
    assert len(a.layers) == 100_001 and a.totals is None
    assert (a.layers[-1].layer.kind, a.layers[-1].layer.name) == ("unparsed", "1")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    "Conv2d(3, 8, 3)", "(0): ", "Sequential(", ")", "(", ",", "nn.", "'", "#", "\n", " ",
    "padding=same", "1 x ", "(0-1): 2 x ", "=", "ReLU()", "x", "0", "-", "*", "é"]), max_size=30))
def test_never_crashes(parts: list[str]) -> None:
    analyze(parse_pytorch("".join(parts), "h.txt", {}), (8, 8, 3))


def test_matches_pytorch() -> None:
    """Shapes, params and buffers of every leaf module, measured by PyTorch itself.
    (AvgPool2d's printed form omits ceil_mode, so only MaxPool2d tries it here.)"""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Net(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(
                nn.ZeroPad2d((1, 2, 3, 4)),
                nn.Conv2d(3, 16, kernel_size=4, padding="same", bias=False),
                nn.BatchNorm2d(16), nn.ReLU6(inplace=True),
                nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True))
            self.blocks = nn.ModuleList([nn.Sequential(
                nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=4), nn.Hardswish())
                for _ in range(2)])
            self.up = nn.ConvTranspose2d(16, 32, 4, stride=2, padding=1, groups=2)
            self.tail = nn.Sequential(
                nn.AvgPool2d(3, stride=2, padding=1), nn.LocalResponseNorm(3),
                nn.Conv2d(32, 24, (3, 1), stride=(2, 1)), nn.AdaptiveMaxPool2d((4, 3)),
                nn.Flatten(), nn.Dropout(0.2), nn.Linear(24 * 12, 10), nn.LogSoftmax(dim=1))

        def forward(self, x: object) -> object:
            x = self.stem(x)
            for block in self.blocks:
                x = block(x)
            return self.tail(self.up(x))

    model = Net()
    leaves = [(n, m) for n, m in model.named_modules() if not list(m.children())]
    shapes: dict[str, tuple[int, ...]] = {}
    for name, module in leaves:
        def hook(_m: object, _i: object, out: object, name: str = name) -> None:
            dims = tuple(out.shape[1:])  # type: ignore[attr-defined]
            shapes[name] = (*dims[1:], dims[0]) if len(dims) == 3 else dims
        module.register_forward_hook(hook)
    model(torch.zeros(1, 3, 37, 29))
    a = analyze(parse_pytorch(str(model), "net.txt", {}), (37, 29, 3))
    assert [d.code for d in a.diagnostics if d.severity == "error"] == []
    assert [r.layer.name for r in a.layers] == [n for n, _ in leaves]
    for r, (name, module) in zip(a.layers, leaves, strict=True):
        assert r.output_shape == shapes[name], name
        assert r.params == sum(p.numel() for p in module.parameters()), name
        stats = [b for n, b in module.named_buffers() if n.startswith("running_")]
        assert (r.buffers or 0) == sum(b.numel() for b in stats), name


@pytest.mark.parametrize("call", [
    "Conv2d(3, 8, kernel_size=" + "(" * 3000 + "3" + ")" * 3000 + ")",  # nesting refused
    "Conv2d(3, 8, kernel_size=(3, 3), padding=" + "1 + " * 500 + ")",  # a syntax error
])
def test_a_refused_call_is_quoted_in_part(call: str) -> None:
    """The message quotes at most 80 characters of a call it cannot read (the line is shown
    under it): a hostile line does not make a message thousands of characters long."""
    spec = parse_pytorch(f"Sequential(\n  (0): {call}\n)\n", "m.txt", {})
    (d,) = [d for d in spec.diagnostics if d.code == "P001"]
    quoted = d.message.split("`")[1]
    assert len(quoted) == 80 and quoted.endswith("...") and call.startswith(quoted[:-3])
    assert len(d.message) < 200
