"""Each construct PyTorch model code is read with (issue 13, part 1), on small models whose
figures are worked out by hand: what __init__ builds, the Python it uses, and what forward()
does to tensors. Input 8x8x4 unless said."""

from __future__ import annotations

import textwrap

import pytest

from cnncalc.analyze import Analysis, analyze
from cnncalc.parse import parse_text

HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"


def model(init: str, forward: str, extra: str = "", tail: str = "net = Net()\n") -> str:
    """A file with ``class Net(nn.Module)`` whose __init__ and forward() have these bodies."""
    return (HEAD + textwrap.dedent(extra) + "class Net(nn.Module):\n"
            "    def __init__(self):\n        super().__init__()\n"
            + textwrap.indent(textwrap.dedent(init), " " * 8)
            + "\n    def forward(self, x):\n"
            + textwrap.indent(textwrap.dedent(forward), " " * 8) + "\n\n" + tail)


def read(code: str, volume: tuple[int, ...] | None = (8, 8, 4), model: str | None = None
         ) -> Analysis:
    return analyze(parse_text(code, "m.py", model=model, input_volume=volume), volume)


def ok(code: str, **kw: object) -> Analysis:
    a = read(code, **kw)  # type: ignore[arg-type]
    assert [d for d in a.diagnostics if d.severity.value == "error"] == [], [
        (d.span.line, d.code, d.message) for d in a.diagnostics]
    assert a.totals is not None
    return a


def out(a: Analysis) -> tuple[int, ...]:
    r = a.layers[(a.output or len(a.layers)) - 1]
    assert r.output_shape is not None
    return r.output_shape


def kinds(a: Analysis) -> list[str]:
    return [r.layer.kind for r in a.layers]


CONV = "self.conv = nn.Conv2d(4, 4, 3, padding=1)\n"

# forward() body -> (output volume, layer kinds); __init__ has CONV
FORWARD = {
    "y = self.conv(x)\nreturn y + x": ((8, 8, 4), ["conv", "add"]),
    "y = self.conv(x)\ny += x\nreturn y": ((8, 8, 4), ["conv", "add"]),
    "return x * torch.sigmoid(self.conv(x))": ((8, 8, 4), ["conv", "sigmoid", "multiply"]),
    "return torch.cat([x, self.conv(x)], dim=1)": ((8, 8, 8), ["conv", "concat"]),
    "return torch.cat((x, self.conv(x)), 1)": ((8, 8, 8), ["conv", "concat"]),
    "return torch.add(x, self.conv(x))": ((8, 8, 4), ["conv", "add"]),
    "return torch.mul(x, self.conv(x))": ((8, 8, 4), ["conv", "multiply"]),
    "return torch.flatten(x, 1)": ((256,), ["flatten"]),
    "return torch.sigmoid(x)": ((8, 8, 4), ["sigmoid"]),
    "a, b = torch.chunk(x, 2, dim=1)\nreturn torch.cat([b, a], 1)":
        ((8, 8, 4), ["slice", "slice", "concat"]),
    "a, b = x.chunk(2, dim=1)\nreturn a * b": ((8, 8, 2), ["slice", "slice", "multiply"]),
    "a, b = torch.split(x, [1, 3], dim=1)\nreturn b": ((8, 8, 3), ["slice", "slice"]),
    "parts = x.split(1, dim=1)\nreturn parts[3]": ((8, 8, 1), ["slice"] * 4),
    "return F.relu(x)": ((8, 8, 4), ["relu"]),
    "return F.relu6(x)": ((8, 8, 4), ["relu6"]),
    "return F.gelu(x)": ((8, 8, 4), ["gelu"]),
    "return F.silu(x)": ((8, 8, 4), ["silu"]),
    "return F.sigmoid(x)": ((8, 8, 4), ["sigmoid"]),
    "return F.relu(x, inplace=True).relu()": ((8, 8, 4), ["relu", "relu"]),
    "return F.max_pool2d(x, 2)": ((4, 4, 4), ["maxpool"]),
    "return F.max_pool2d(x, kernel_size=3, stride=2, padding=1)": ((4, 4, 4), ["maxpool"]),
    "return F.max_pool2d(x, 3, 2, ceil_mode=True)": ((4, 4, 4), ["maxpool"]),
    "return F.avg_pool2d(x, 2)": ((4, 4, 4), ["avgpool"]),
    "return F.avg_pool2d(x, x.size()[2:])": ((1, 1, 4), ["avgpool"]),
    "return F.adaptive_avg_pool2d(x, 1)": ((1, 1, 4), ["adaptiveavgpool"]),
    "return F.adaptive_avg_pool2d(x, (2, 2))": ((2, 2, 4), ["adaptiveavgpool"]),
    "return F.dropout(x, 0.2, self.training)": ((8, 8, 4), ["dropout"]),
    "return F.dropout(x, p=0.5, training=self.training)": ((8, 8, 4), ["dropout"]),
    "return F.interpolate(x, scale_factor=2, mode='nearest')": ((16, 16, 4), ["upsample"]),
    "return F.interpolate(x, size=(24, 16), mode='bilinear', align_corners=False)":
        ((24, 16, 4), ["upsample"]),
    "return F.pad(x, [1, 1, 2, 2])": ((12, 10, 4), ["zeropad"]),
    "return F.pad(x, (0, 1))": ((8, 9, 4), ["zeropad"]),
    "return x.view(x.size(0), -1)": ((256,), ["flatten"]),
    "b, c, h, w = x.size()\nreturn x.view(b, c * h * w)": ((256,), ["flatten"]),
    "return x.view(-1, 8 * 8 * 4)": ((256,), ["flatten"]),
    "return x.reshape(x.shape[0], -1)": ((256,), ["flatten"]),
    "return x.flatten(1)": ((256,), ["flatten"]),
    "return x.mean([2, 3])": ((4,), ["globalavgpool"]),
    "return x.mean(dim=(-2, -1), keepdim=True)": ((1, 1, 4), ["globalavgpool"]),
    "return x[:, :3]": ((8, 8, 3), ["slice"]),
    "return x[:, 1:-1]": ((8, 8, 2), ["slice"]),
    "return x[:, :, 1:7, 1:7]": ((6, 6, 4), ["crop"]),
    "h = x.size(2)\nd = (h - 4) // 2\nreturn x[:, :, d:d + 4, d:d + 4]": ((4, 4, 4), ["crop"]),
}


@pytest.mark.parametrize("forward", list(FORWARD))
def test_forward(forward):
    a = ok(model(CONV if "self.conv" in forward else "", forward))
    shape, expected = FORWARD[forward]
    assert out(a) == shape
    assert kinds(a) == expected


def test_functional_layers_are_named_after_their_module():
    extra = """
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)

        def forward(self, x):
            return F.relu(self.conv(x) + x)


    """
    a = ok(model("self.body = nn.Sequential(Block(), Block())\n", "return self.body(x)", extra))
    assert [r.layer.name for r in a.layers] == [
        "body.0.conv", "body.0.add", "body.0.relu", "body.1.conv", "body.1.add", "body.1.relu"]


def test_a_merge_reads_both_tensors_by_name():
    a = ok(model(CONV, "y = self.conv(x)\nreturn x + y"))
    add = a.layers[1]
    assert [ref.name for ref in add.layer.inputs] == ["INPUT", "conv"]


def test_python_the_model_code_uses():
    """Helper functions with defaults, class attributes, arithmetic, comparisons, if, for
    over range/zip/enumerate, append/extend, instances of the file's classes with arguments.
    Channels 4 -> 8 (block, stride 2: 8x8 -> 4x4) -> 16 (conv 1x1 + relu) -> 32 (block)."""
    extra = """
    def widths(base, n=3):
        return [base * 2 ** i for i in range(n)]


    class Block(nn.Module):
        expansion = 2

        def __init__(self, cin, planes, stride=1):
            super().__init__()
            self.conv = nn.Conv2d(cin, planes * self.expansion, 3, stride, 1, bias=False)
            self.bn = nn.BatchNorm2d(planes * Block.expansion)

        def forward(self, x):
            return F.relu(self.bn(self.conv(x)))


    """
    init = """
    chans = [4] + widths(8)
    layers = []
    for i, (cin, cout) in enumerate(zip(chans[:-1], chans[1:])):
        if i % 2 == 0 and cin != cout:
            layers.append(Block(cin, cout // Block.expansion, stride=2 if i == 0 else 1))
        else:
            layers.extend([nn.Conv2d(cin, cout, 1), nn.ReLU()])
    self.body = nn.Sequential(*layers)
    n = 0
    for k in range(3):
        if k > 1:
            break
        n += k
    self.n = n
    assert self.n == 1
    """
    a = ok(model(init, "return self.body(x)", extra))
    assert out(a) == (4, 4, 32)
    assert [r.layer.name for r in a.layers] == [
        "body.0.conv", "body.0.bn", "body.0.relu", "body.1", "body.2", "body.3.conv",
        "body.3.bn", "body.3.relu"]
    weights = 9 * 4 * 8 + 16 + (8 * 16 + 16) + 9 * 16 * 32 + 64
    assert a.totals is not None and a.totals.params == weights


def test_module_list_iterated_and_indexed_and_sequential_slices():
    init = """
    self.blocks = nn.ModuleList([nn.Conv2d(4, 4, 3, padding=1) for _ in range(3)])
    self.seq = nn.Sequential(nn.ReLU(), nn.Conv2d(4, 2, 1), nn.ReLU())
    """
    forward = """
    for block in self.blocks[:2]:
        x = block(x)
    x = self.blocks[-1](x)
    return self.seq[1:](x)
    """
    a = ok(model(init, forward))
    assert [r.layer.name for r in a.layers] == ["blocks.0", "blocks.1", "blocks.2", "seq.1",
                                                "seq.2"]
    assert out(a) == (8, 8, 2)


def test_a_module_called_twice_is_named_apart():
    a = ok(model("self.pool = nn.MaxPool2d(2)\n", "return self.pool(self.pool(x))"))
    assert [r.layer.name for r in a.layers] == ["pool", "pool_1"]
    assert out(a) == (2, 2, 4)


def test_a_module_with_parameters_called_twice_is_an_error():
    """PyTorch shares its weights: its params total counts them once, the network's layers
    once per call; the totals are withheld rather than given as either."""
    code = model(CONV, "x = self.conv(x)\nreturn self.conv(x)")
    a = read(code)
    assert [(d.code, d.span.line) for d in a.diagnostics] == [("P024", 13)]
    assert "`conv` (nn.Conv2d) is called again" in a.diagnostics[0].message
    assert a.totals is None


def test_a_module_kept_in_a_plain_list_is_an_error():
    code = model("self.convs = [nn.Conv2d(4, 4, 1)]\n", "return self.convs[0](x)")
    a = read(code)
    assert [d.code for d in a.diagnostics] == ["P024"]
    assert "not registered" in a.diagnostics[0].message
    assert a.totals is None


def test_linear_on_a_volume_is_not_followed():
    a = read(model("self.fc = nn.Linear(256, 10)\n", "return self.fc(x)"))
    assert [d.code for d in a.diagnostics] == ["P021"]
    assert "flatten first" in a.diagnostics[0].hint


def test_ordered_dict_and_module_dict():
    init = """
    from collections import OrderedDict
    self.stem = nn.Sequential(OrderedDict([("conv", nn.Conv2d(4, 8, 1)), ("act", nn.ReLU())]))
    self.heads = nn.ModuleDict({"a": nn.Conv2d(8, 2, 1), "b": nn.Conv2d(8, 3, 1)})
    """
    a = ok(model(init, "x = self.stem(x)\nreturn torch.cat([self.heads['a'](x), "
                 "self.heads['b'](x)], 1)"))
    assert [r.layer.name for r in a.layers] == ["stem.conv", "stem.act", "heads.a", "heads.b",
                                                "cat"]
    assert out(a) == (8, 8, 5)


def test_the_input_comes_from_a_comment_or_from_input():
    code = "# cnncalc: input 16x16x4\n" + model(CONV, "return F.max_pool2d(self.conv(x), 2)")
    assert out(ok(code, volume=None)) == (8, 8, 4)
    assert out(ok(code, volume=(32, 32, 4))) == (16, 16, 4)
    a = read(model(CONV, "return self.conv(x)"), volume=None)
    assert [d.code for d in a.diagnostics] == ["P004"]


def test_statements_that_do_not_build_the_model_are_left_alone():
    tail = """net = Net()
print(net)
net.summary()
net.to("cuda")
for epoch in range(10 ** 9):
    while True:
        pass
with open("log.txt", "w") as fh:
    fh.write(str(net))
"""
    a = ok(model(CONV, "return self.conv(x)", tail=tail))
    assert [r.layer.name for r in a.layers] == ["conv"]


def test_a_model_built_under_main():
    tail = "if __name__ == '__main__':\n    net = Net()\n    print(net)\n"
    assert out(ok(model(CONV, "return self.conv(x)", tail=tail))) == (8, 8, 4)


def test_model_option_picks_a_variable_a_class_or_a_call():
    extra = """
    class Wide(nn.Module):
        def __init__(self, width=8, depth=1):
            super().__init__()
            self.convs = nn.Sequential(*[nn.Conv2d(4 if i == 0 else width, width, 1)
                                         for i in range(depth)])

        def forward(self, x):
            return self.convs(x)


    """
    tail = "net = Net()\nwide = Wide()\n"
    code = model(CONV, "return self.conv(x)", extra, tail)
    two = read(code)
    assert [d.code for d in two.diagnostics] == ["P015"]
    assert two.diagnostics[0].span.line == code.splitlines().index("wide = Wide()") + 1
    assert out(ok(code, model="wide")) == (8, 8, 8)
    assert out(ok(code, model="Net")) == (8, 8, 4)
    assert out(ok(code, model="Wide(width=6, depth=3)")) == (8, 8, 6)
    bad = read(code, model="Wide(width=os.getcwd())")
    assert [d.code for d in bad.diagnostics] == ["P008"]


def test_no_model_at_the_top_names_the_classes():
    a = read(model(CONV, "return self.conv(x)", tail=""))
    assert [d.code for d in a.diagnostics] == ["P015"]
    assert "--model Net" in a.diagnostics[0].hint


def test_a_module_with_parameters_forward_never_calls_is_an_error():
    init = CONV + "self.unused = nn.Linear(10, 10)\nself.drop = nn.Dropout()\n"
    a = read(model(init, "return self.conv(x)"))
    assert [(d.code, d.span.line) for d in a.diagnostics] == [("P023", 10)]
    assert a.totals is None


def test_nn_sequential_subclass_without_forward_runs_its_children():
    extra = """
    class ConvBN(nn.Sequential):
        def __init__(self, cin, cout):
            super().__init__(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout))


    """
    a = ok(model("self.stem = ConvBN(4, 8)\n", "return self.stem(x)", extra))
    assert [r.layer.name for r in a.layers] == ["stem.0", "stem.1"]


def test_names_made_with_format_and_f_strings():
    init = "for i in range(2):\n    self.add_module('conv{}'.format(i), nn.Conv2d(4, 4, 1))\n" \
           "self.add_module(f'act{2 * 1}', nn.ReLU())\n"
    a = ok(model(init, "return self.act2(self.conv1(self.conv0(x)))"))
    assert [r.layer.name for r in a.layers] == ["conv0", "conv1", "act2"]


def test_module_attributes_and_init_loops():
    init = """
    self.conv = nn.Conv2d(4, 6, 3)
    self.fc = nn.Linear(self.conv.out_channels * 6 * 6, 10)
    for m in self.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    """
    a = ok(model(init, "return self.fc(torch.flatten(self.conv(x), 1))"))
    assert out(a) == (10,)
    assert a.totals is not None and a.totals.params == (9 * 4 * 6 + 6) + (216 * 10 + 10)


def test_detection_sends_code_to_the_interpreter_and_printed_models_to_their_reader():
    from cnncalc.parse import detect

    code = model("", "return F.relu(x)")
    assert detect(code) == "pytorch"
    assert [r.layer.name for r in ok(code).layers] == ["relu"]
    printed = "Sequential(\n  (0): Conv2d(4, 8, kernel_size=(3, 3))\n  (1): ReLU()\n)\n"
    assert [r.layer.name for r in ok(printed).layers] == ["0", "1"]
    lines = "nn.Conv2d(4, 8, 3)\nnn.ReLU()\n"
    assert [r.layer.kind for r in ok(lines).layers] == ["conv", "relu"]
    assert detect("[8x8x4] INPUT\nCONV1: 8 3x3 filters  # class Net(nn.Module):\n") == "lecture"


def test_a_function_never_takes_a_modules_name():
    """`F.relu` in a forward() that also calls a module named `relu` later: the module keeps
    its path, the function's layer takes the next free name."""
    a = ok(model("self.relu = nn.ReLU()\n", "x = F.relu(x)\nreturn self.relu(x)"))
    assert [r.layer.name for r in a.layers] == ["relu_1", "relu"]


def test_a_name_used_many_times_is_named_in_linear_time():
    a = ok(model("", "for _ in range(3000):\n    x = F.relu(x)\nreturn x"))
    assert a.layers[-1].layer.name == "relu_2999"


def test_a_model_changed_after_it_is_built_is_read_as_changed():
    """Transfer learning's new head: `net.fc = nn.Linear(...)` after `net = Net()` is followed
    (PyTorch's parameters are the new head's); print(net) and net.eval() are left alone."""
    init = "self.fc = nn.Linear(256, 10)\n"
    tail = ("net = Net()\nprint(net)\nnet.eval()\nnet.fc = nn.Linear(256, 3)\n"
            "net.extra = nn.ReLU()\n")
    a = ok(model(init, "return self.fc(torch.flatten(x, 1))", tail=tail))
    assert out(a) == (3,)
    assert a.totals is not None and a.totals.params == 256 * 3 + 3


@pytest.mark.parametrize("change", ["setattr(net, 'fc', nn.Linear(256, 3))", "del net.fc",
                                    "net.body[0] = nn.ReLU()"])
def test_a_change_after_the_model_is_built_that_is_not_followed_is_an_error(change):
    init = "self.fc = nn.Linear(256, 10)\nself.body = nn.Sequential(nn.Identity())\n"
    code = model(init, "return self.fc(torch.flatten(self.body(x), 1))",
                 tail=f"net = Net()\n{change}\n")
    a = read(code)
    assert [d.code for d in a.diagnostics] == ["P021"]
    assert a.diagnostics[0].span.line == len(code.splitlines())


WIDE = """
class Wide(nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.convs = nn.Sequential(*[nn.Conv2d(4 if i == 0 else widths[i - 1], w, 1)
                                     for i, w in enumerate(widths)])

    def forward(self, x):
        return self.convs(x)
"""


def test_plain_values_set_up_at_the_top_are_followed():
    code = HEAD + WIDE + "widths = [4, 6]\nwidths.append(8)\nn = 1\nn += 1\nwidths[0] *= n\n" \
        "net = Wide(widths)\n"
    a = ok(code)
    assert [r.output_shape for r in a.layers] == [(8, 8, 8), (8, 8, 6), (8, 8, 8)]


def test_a_value_changed_by_a_statement_left_alone_is_an_error_where_it_changes():
    code = HEAD + WIDE + "widths = [4, 6]\nfor w in [8]:\n    widths.append(w)\n" \
        "net = Wide(widths)\n"
    a = read(code)
    assert [(d.code, d.span.line) for d in a.diagnostics] == [
        ("P021", code.splitlines().index("for w in [8]:") + 1)]
    assert "changes `widths`" in a.diagnostics[0].message


def test_a_model_moved_to_a_device_is_the_model():
    tail = ("device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
            "net = Net().to(device).eval()\nnet.to(device)\n")
    assert out(ok(model(CONV, "return self.conv(x)", tail=tail))) == (8, 8, 4)


def test_define_wins_over_the_files_assignment() -> None:
    """``--define NAME=VALUE`` over ``NAME = ...`` at the top of the file, as in Keras code:
    the file's ``width = 8`` and ``num_classes = 10`` give 8*4*9+8 + 8*6*6*10+10 params;
    the defines 16 and 1000, 16*4*9+16 + 16*6*6*1000+1000."""
    code = (HEAD + "num_classes = 10\nwidth: int = 8\n" + model(
        "self.conv = nn.Conv2d(4, width, 3)\nself.fc = nn.Linear(width * 6 * 6, num_classes)\n",
        "return self.fc(torch.flatten(self.conv(x), 1))")[len(HEAD):])
    for defines, params in (({}, 8 * 4 * 9 + 8 + 8 * 36 * 10 + 10),
                            ({"width": 16, "num_classes": 1000},
                             16 * 4 * 9 + 16 + 16 * 36 * 1000 + 1000)):
        a = analyze(parse_text(code, "m.py", defines=defines, input_volume=(8, 8, 4)),
                    (8, 8, 4))
        assert a.totals is not None and a.totals.params == params, defines


def test_upsample_to_a_size_is_a_factor_of_each_input() -> None:
    """``nn.Upsample(size=...)`` gets its factor from the volume it is called on (16 on 8 is
    2x); a size that is no whole multiple of it is refused there, at the call."""
    code = model("self.up = nn.Upsample(size=(16, 16), mode='bilinear')\n", "return self.up(x)")
    a = ok(code)
    assert a.layers[-1].output_shape == (16, 16, 4)
    code = model("self.up = nn.Upsample(size=(12, 12))\n", "return self.up(x)")
    (d,) = [d for d in read(code).diagnostics if d.severity.value == "error"]
    assert d.code == "P021" and "not a whole multiple of the input's" in d.message
    assert code.splitlines()[d.span.line - 1].strip() == "return self.up(x)"
