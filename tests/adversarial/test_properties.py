"""Property-based tests (hypothesis, derandomized): mutated and random specs in every notation
never raise from parse + analyze or from any renderer; totals are the sums of the rows; the
canonical notation reads back to the same analysis; and for random small conv and pool
layers the NumPy executor measures what the analysis computes.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from helpers import SPECS
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from cnncalc.analyze import Analysis, analyze
from cnncalc.parse import NOTATIONS, parse_text
from cnncalc.render.common import layer_record
from cnncalc.render.machine import to_csv, to_json, to_markdown
from cnncalc.render.memory import Memory
from cnncalc.render.report import format_all
from cnncalc.render.spec_text import to_spec_text
from cnncalc.render.table import print_table

from .util import within

SETTINGS = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])
DEFINES: dict[str, Any] = {"num_classes": 10, "input_shape": (28, 28, 1)}
SHIPPED = {p.name: p.read_text(encoding="utf-8") for p in sorted(SPECS.glob("*.txt"))}
SNIPPETS = (
    "[32x32x3] INPUT\nCONV1: 8 3x3 filters at stride 1, pad 1\nRELU1\n"
    "MAX POOL1: 2x2 filters at stride 2\nFC2: 10 neurons\n",
    "[28x28x3] INPUT\nDWCONV1: 3x3 filters at stride 2, pad same, multiplier 2, no bias\n"
    "DECONV2: 4 4x4 filters at stride 2, pad 1, output padding 1\nBATCHNORM\n"
    "GLOBAL AVG POOL keepdims\nADAPTIVE AVG POOL 2x2\nZEROPAD top 1, bottom 0, left 2, right 1\n"
    "DROPOUT 0.5\nFLATTEN\nFC: 10 neurons, no bias\nSOFTMAX\n",
    "model = Sequential()\nmodel.add(Conv2D(8, (3, 3), strides=2, padding='same', "
    "input_shape=(32, 32, 3)))\nmodel.add(MaxPooling2D())\nmodel.add(SeparableConv2D(16, 3))\n"
    "model.add(Flatten())\nmodel.add(Dense(num_classes, activation='softmax'))\n",
    "# cnncalc: input 32x32x3\nNet(\n  (conv): Conv2d(3, 8, kernel_size=(3, 3), padding=(1, 1))\n"
    "  (pool): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=True)\n"
    "  (blocks): ModuleList(\n    (0-1): 2 x BatchNorm2d(8, eps=1e-05, momentum=0.1)\n  )\n"
    "  (fc): Linear(in_features=2048, out_features=10, bias=True)\n)\n",
    "INPUT: [32x32x3]  memory: 3K  weights: 0\nCONV3-8: [32x32x8]  weights: (3*3*3)*8 = 216\n"
    "POOL2: [16x16x8]\nFC-10\nsoft-max\n",
)
SEEDS = (*SHIPPED.values(), *SNIPPETS)
HUGE = "1" + "0" * 30
TOKENS = ("0", "-1", HUGE, "3x3", "0x0", "[", "]", "(", ")", ":", ",", "?", "=", "#", "'", '"',
          "\t", "\r", "\r\n", "\ufeff", "\u00d7", "\u00e9", "x", "INPUT", "CONV", "MAX POOL",
          "FC", "DWCONV", "DECONV", "stride", "pad", "same", "groups", "no bias", "in", "ceil",
          "ROUNDING: floor", "lambda x: x", "f'{x}'", "__import__('os')", "*a", "**k", "(x := 1)",
          "Conv2D(", "Dense(", "nn.Conv2d(", "Linear(", "(0): ", "conv3-64", "FC-4096",
          "weights: 12", "# cnncalc: input 8x8x3")
_NUMBER = re.compile(r"\d+")


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A seed spec with one to four edits: lines deleted, duplicated or swapped, a character
    replaced, a token inserted, a number changed to 0, -1 or 10**30."""
    text = draw(st.sampled_from(SEEDS))
    for op in draw(st.lists(st.sampled_from(("del", "dup", "swap", "char", "token", "number")),
                            min_size=1, max_size=4)):
        lines = text.split("\n")
        i = draw(st.integers(0, len(lines) - 1))
        if op == "del" and len(lines) > 1:
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "char" and lines[i]:
            k = draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:k] + draw(st.characters(codec="utf-8")) + lines[i][k + 1:]
        elif op == "token":
            k = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:k] + draw(st.sampled_from(TOKENS)) + lines[i][k:]
        elif op == "number":
            found = list(_NUMBER.finditer(lines[i]))
            if found:
                m = draw(st.sampled_from(found))
                new = draw(st.sampled_from(("0", "-1", HUGE)))
                lines[i] = lines[i][:m.start()] + new + lines[i][m.end():]
        text = "\n".join(lines)
    return text


_WORDS = ("INPUT", "CONV", "DECONV", "DWCONV", "MAX POOL", "AVG POOL", "GLOBAL AVG POOL",
          "ADAPTIVE MAX POOL", "NORM", "BATCHNORM", "FC", "ZEROPAD", "DROPOUT", "FLATTEN", "RELU",
          "SOFTMAX", "ROUNDING", "POOL", "BN")
_BITS = ("3x3", "2", "0", "1x2", "16", "filters", "neurons", "at", "stride", "pad", "?", "same",
         "valid", "dilation", "groups", "multiplier", "no bias", "in", "ceil", "keepdims", ",",
         "top 1", "output padding 1", "0.5", "floor", "(remark)", "# comment", ":", "p =")


@st.composite
def random_lecture(draw: st.DrawFn) -> str:
    lines = []
    if draw(st.booleans()):
        lines.append(f"[{draw(st.integers(1, 40))}x{draw(st.integers(1, 40))}x"
                     f"{draw(st.integers(1, 8))}] INPUT")
    for _ in range(draw(st.integers(0, 8))):
        shape = draw(st.sampled_from(("", "[8x8x8] ", "[4] ", "[1x1x10] ")))
        bits = draw(st.lists(st.sampled_from(_BITS), max_size=8))
        lines.append(shape + draw(st.sampled_from(_WORDS)) + draw(st.sampled_from(("", "1", ":")))
                     + " " + " ".join(bits))
    return "\n".join(lines) + "\n"


_KERAS_LAYERS = ("Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D",
                 "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "Dense",
                 "Flatten", "Dropout", "BatchNormalization", "ZeroPadding2D", "Activation",
                 "ReLU", "Input", "Conv2d", "Lambda")
_KERAS_ARGS = ("8", "3", "(3, 3)", "0", "-1", "strides=2", "padding='same'", "padding='valid'",
               "padding=1", "use_bias=False", "input_shape=(16, 16, 3)", "input_shape=(8,)",
               "activation='relu'", "rate=0.5", "depth_multiplier=2", "output_padding=1",
               "pool_size=(2, 2)", "keepdims=True", "shape=(8, 8, 3)", "name='x'", "units=4",
               "filters=4", "kernel_size=2", "dilation_rate=2", "groups=2", "axis=1", "bogus=1",
               "lambda: 1", "f'{a}'", "num_classes", "*a", "((1, 0), (2, 1))", "'relu'")


@st.composite
def random_keras(draw: st.DrawFn) -> str:
    lines = ["model = Sequential()"]
    for _ in range(draw(st.integers(0, 8))):
        args = ", ".join(draw(st.lists(st.sampled_from(_KERAS_ARGS), max_size=4)))
        lines.append(f"model.add({draw(st.sampled_from(_KERAS_LAYERS))}({args}))")
    return "\n".join(lines) + "\n"


_TORCH_MODULES = ("Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
                  "BatchNorm2d", "LocalResponseNorm", "Linear", "Dropout", "Flatten",
                  "ZeroPad2d", "ReLU", "Identity", "Sequential", "Bogus")
_TORCH_ARGS = ("3", "8", "1", "0", "-1", "(3, 3)", "(1, 2, 3, 4)", "stride=2", "padding=1",
               "padding='same'", "padding=same", "ceil_mode=True", "bias=False", "groups=2",
               "dilation=2", "output_padding=1", "kernel_size=(2, 2)", "output_size=(2, 2)",
               "output_size=(None, 2)", "affine=False", "inplace=True", "8 * 4", "8 // 0",
               "num_classes", "lambda: 1", "*a", "x.y", "bogus=1", "start_dim=2")


@st.composite
def random_pytorch(draw: st.DrawFn) -> str:
    lines = ["# cnncalc: input 16x16x3", "Net("]
    for k in range(draw(st.integers(0, 8))):
        args = ", ".join(draw(st.lists(st.sampled_from(_TORCH_ARGS), max_size=4)))
        close = draw(st.sampled_from((")", ")", ")", "", "))")))
        lines.append(f"  ({k}): {draw(st.sampled_from(_TORCH_MODULES))}({args}{close}")
    lines.append(draw(st.sampled_from((")", "", "))"))))
    return "\n".join(lines) + "\n"


def _check_totals(a: Analysis) -> None:
    """Totals are derived from the rows, and every machine format says the same."""
    t = a.totals
    if t is None:
        return
    rows = a.layers
    assert all(r.status == "ok" for r in rows)
    assert t.weights == sum(r.weights or 0 for r in rows)
    assert t.biases == sum(r.biases or 0 for r in rows)
    assert t.params == sum(r.params or 0 for r in rows) == t.weights + t.biases
    assert t.buffers == sum(r.buffers or 0 for r in rows)
    assert t.macs == sum(r.macs or 0 for r in rows)
    assert t.flops == 2 * t.macs
    assert t.activations == sum(r.activations or 0 for r in rows)
    for value in (t.weights, t.biases, t.buffers, t.macs, t.activations):
        assert type(value) is int and value >= 0


def exercise(text: str) -> None:
    """parse + analyze in every notation, and every renderer on each result."""
    for notation in (None, *NOTATIONS):
        spec = parse_text(text, "prop.txt", notation, DEFINES, False)
        a = analyze(spec)
        _check_totals(a)
        if notation is None:
            print_table(a, Memory(), file=io.StringIO(), width=100)
        to_json(a, Memory(3, "bfloat16"))
        to_csv(a)
        to_markdown(a)
        format_all(a.diagnostics, a.spec.lines)
        to_spec_text(a.spec, a.input)
        for d in a.diagnostics:
            assert d.span.line >= 1 and 1 <= d.span.col < d.span.end_col, d


def _never_raises(text: str) -> None:
    with within(3):
        exercise(text)


@SETTINGS
@given(mutated())
def test_mutated_specs_never_raise(text: str) -> None:
    _never_raises(text)


@SETTINGS
@given(st.one_of(random_lecture(), random_keras(), random_pytorch()))
def test_random_specs_never_raise(text: str) -> None:
    _never_raises(text)


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data: bytes) -> None:
    from cnncalc.options import undecodable

    text = data.decode("utf-8", errors="surrogateescape")
    if undecodable(text, "b.txt") is None:
        _never_raises(text)


# ---- the canonical notation reads back to the same analysis ----

def _comparable(a: Analysis) -> tuple[Any, ...]:
    """Layer records without line numbers, the input, totals and diagnostic codes."""
    layers = []
    for r in a.layers:
        rec = layer_record(r)
        rec.pop("line")
        layers.append(rec)
    # I302 (a size PyTorch or Keras text rounds, information there) is G107 once rewritten
    # in the canonical notation, whose arithmetic is the lecture's: one finding
    codes = sorted("G107" if d.code == "I302" else d.code
                   for d in a.diagnostics if d.code != "D202")
    return a.input, a.rounding, layers, a.totals, codes


def _round_trip(a: Analysis) -> Analysis:
    text = to_spec_text(a.spec, a.input)
    return analyze(parse_text(text, "canonical.txt"))


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_specs_read_back_the_same(name: str) -> None:
    a = analyze(parse_text(SHIPPED[name], f"specs/{name}", None, DEFINES, False))
    b = _round_trip(a)
    assert b.spec.notation == "lecture"
    assert _comparable(b) == _comparable(a)


@pytest.mark.parametrize("text", [
    "model = Sequential()\nmodel.add(Dense(10, input_shape=(4,)))\nmodel.add(Dense(n))\n",
    "# cnncalc: input 8x8x3\nnn.Conv2d(3, 8, 3)\nnn.Conv2d(8, 8, lambda: 3)\n",
])
def test_canonical_text_with_an_unread_line_is_lecture_notation(text: str) -> None:
    a = analyze(parse_text(text, "code.txt"))
    assert [d.code for d in a.diagnostics] in (["P008"], ["P009"])
    assert _round_trip(a).spec.notation == "lecture"


def _parses_cleanly(a: Analysis) -> bool:
    return not any(d.code.startswith("P") for d in a.diagnostics)


@SETTINGS
@given(mutated())
def test_mutated_specs_read_back_the_same(text: str) -> None:
    """Any spec that parses (whatever its geometry errors) reads back the same from the
    canonical notation. D202 (a VGG `weights:` figure) has no canonical form."""
    with within(3):
        a = analyze(parse_text(text, "prop.txt", None, DEFINES, False))
        b = _round_trip(a)
    if not _parses_cleanly(a):
        reject()
    assert _comparable(b) == _comparable(a)


@st.composite
def canonical(draw: st.DrawFn) -> str:
    """A grammatical canonical spec (its geometry may still be wrong): every layer kind, with
    random settings, declared shapes, quoted names and a rounding directive."""
    small = st.integers(1, 5)
    pair = st.builds(lambda a, b: f"{a}x{b}", small, small) | small.map(str)
    lines = [draw(st.sampled_from(("", "ROUNDING: floor", "ROUNDING: ceil", "ROUNDING: strict"))),
             f"[{draw(st.integers(1, 24))}x{draw(st.integers(1, 24))}x{draw(small)}] INPUT"]
    for i in range(draw(st.integers(1, 8))):
        declared = draw(st.sampled_from(("", "", "[4x4x4] ", "[10] ")))
        name = draw(st.sampled_from(("", str(i), f' "layer.{i}"', f" \"x'{i}\"")))
        opts = draw(st.lists(st.sampled_from((
            f"stride {draw(pair)}", f"pad {draw(st.sampled_from(('0', '1', '2x1', '?', 'same')))}",
            f"dilation {draw(pair)}", "no bias")), unique_by=lambda o: o.split()[0], max_size=3))
        tail = (" at " + ", ".join(opts)) if opts else ""
        kind = draw(st.sampled_from((
            f"CONV{name}: {draw(small)} {draw(pair)} filters{tail}",
            f"DWCONV{name}: {draw(pair)} filters{tail}, multiplier {draw(small)}",
            f"DECONV{name}: {draw(small)} {draw(pair)} filters at stride 2, pad 1, "
            "output padding 1",
            f"MAX POOL{name}: {draw(pair)} filters at stride {draw(pair)}"
            + draw(st.sampled_from(("", ", ceil", ", pad 1"))),
            f"AVG POOL{name}: {draw(pair)} filters", f"GLOBAL AVG POOL{name}",
            f"GLOBAL MAX POOL{name}: keepdims", f"ADAPTIVE AVG POOL{name}: {draw(pair)}",
            f"NORM{name}", f"BATCHNORM{name}" + draw(st.sampled_from(("", ": no scale",
                                                                      ": no stats, in 3"))),
            f"FC{name}: {draw(small)} neurons" + draw(st.sampled_from(("", ", no bias"))),
            f"ZEROPAD{name}: top 1, bottom 0, left {draw(small)}, right 0",
            f"DROPOUT{name}: {draw(st.sampled_from(('0.5', '0', '0.125')))}",
            f"FLATTEN{name}", f"RELU{name}", f"SOFTMAX{name}", f"LEAKYRELU{name}")))
        lines.append(declared + kind)
    return "\n".join(lines) + "\n"


@SETTINGS
@given(canonical())
def test_random_canonical_specs_read_back_the_same(text: str) -> None:
    a = analyze(parse_text(text, "prop.txt"))
    assert _parses_cleanly(a), (text, [(d.code, d.message) for d in a.diagnostics])
    assert _comparable(_round_trip(a)) == _comparable(a)


def test_an_empty_input_volume_is_kept_in_the_canonical_text() -> None:
    a = analyze(parse_text("[0x224x3] INPUT\nCONV1: 8 3x3 filters\n", "e.txt"))
    assert [d.code for d in a.diagnostics] == ["G106"]
    assert _comparable(_round_trip(a)) == _comparable(a)


def test_negative_values_survive_the_canonical_text() -> None:
    text = "model = Sequential()\nmodel.add(Conv2D(-1, 3, input_shape=(8, 8, 3)))\n"
    a = analyze(parse_text(text, "k.txt"))
    assert [d.code for d in a.diagnostics] == ["G106"]
    assert _comparable(_round_trip(a)) == _comparable(a)


@pytest.mark.parametrize("name", ["a # b", "a\\nb", "x\\x0cy"])
def test_names_with_comment_or_line_break_read_back(name: str) -> None:
    text = ("model = Sequential()\nmodel.add(Input(shape=(8, 8, 3)))\n"
            f"model.add(Conv2D(4, 3, name='{name}'))\nmodel.add(Flatten())\n")
    a = analyze(parse_text(text, "k.txt"))
    assert a.ok
    assert _comparable(_round_trip(a)) == _comparable(a)


# ---- the executor measures what the analysis computes ----

@st.composite
def small_layer(draw: st.DrawFn) -> str:
    """A small spec: an input and one or two random conv / pool layers, canonical notation."""
    h, w, c = draw(st.integers(1, 9)), draw(st.integers(1, 9)), draw(st.integers(1, 4))
    lines = [draw(st.sampled_from(("", "ROUNDING: floor", "ROUNDING: ceil"))),
             f"[{h}x{w}x{c}] INPUT"]
    for _ in range(draw(st.integers(1, 2))):
        kernel = f"{draw(st.integers(1, 4))}x{draw(st.integers(1, 4))}"
        stride = f"{draw(st.integers(1, 3))}x{draw(st.integers(1, 3))}"
        pad = draw(st.sampled_from(("0", "1", "2", "1x0", "same", "?")))
        dilation = draw(st.sampled_from(("1", "2", "1x2")))
        kind = draw(st.sampled_from(("conv", "conv", "dwconv", "deconv", "max", "avg")))
        if kind == "conv":
            groups = draw(st.sampled_from((1, 1, 2)))
            k = groups * draw(st.integers(1, 3))
            lines.append(f"CONV: {k} {kernel} filters at stride {stride}, pad {pad}, "
                         f"dilation {dilation}, groups {groups}"
                         + draw(st.sampled_from(("", ", no bias"))))
        elif kind == "dwconv":
            lines.append(f"DWCONV: {kernel} filters at stride {stride}, pad {pad}, "
                         f"multiplier {draw(st.integers(1, 2))}")
        elif kind == "deconv":
            s = draw(st.integers(1, 3))
            lines.append(f"DECONV: {draw(st.integers(1, 3))} {kernel} filters at stride {s}, "
                         f"pad {draw(st.sampled_from(('0', '1')))}, "
                         f"output padding {draw(st.integers(0, s - 1))}")
        else:
            pool_pad = draw(st.sampled_from(("0", "1")))
            ceil = draw(st.sampled_from(("", ", ceil")))
            lines.append(f"{kind.upper()} POOL: {kernel} filters at stride {stride}, "
                         f"pad {pool_pad}{ceil}")
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(small_layer())
def test_executor_agrees_with_the_analysis(text: str) -> None:
    pytest.importorskip("numpy")
    execute = pytest.importorskip("cnncalc.execute.network")
    from cnncalc.execute.modules import Context

    a = analyze(parse_text(text, "small.txt"))
    if not a.ok:
        reject()
    planned = execute.plan(a)
    assert planned.stop is None and planned.failure is None, planned.failure
    assert a.input is not None
    net = execute.Network(planned.modules, "float64", seed=1)
    measured = net.forward(execute.random_input(a.input, 2, "float64", 1), Context())
    assert len(measured) == len(a.layers)
    for r, m in zip(a.layers, measured, strict=True):
        assert m.output_shape == r.output_shape, (r.layer.name, text)
        assert m.params == r.params, (r.layer.name, text)
        assert m.buffers == (r.buffers or 0)
        assert m.macs == r.macs, (r.layer.name, text)


@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(canonical())
def test_executor_agrees_on_random_canonical_specs(text: str) -> None:
    """Every layer kind, chained: shapes, params, buffers and MACs measured by the executor."""
    execute = pytest.importorskip("cnncalc.execute.network")
    from cnncalc.execute.modules import Context

    a = analyze(parse_text(text, "canonical.txt"))
    if not a.ok:
        reject()
    planned = execute.plan(a)
    assert planned.stop is None and planned.failure is None, planned.failure
    assert a.input is not None
    measured = execute.Network(planned.modules, "float64", seed=2).forward(
        execute.random_input(a.input, 1, "float64", 2), Context())
    got = [(m.output_shape, m.params, m.buffers, m.macs) for m in measured]
    want = [(r.output_shape, r.params, r.buffers or 0, r.macs) for r in a.layers]
    assert got == want, text
