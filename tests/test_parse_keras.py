"""The Keras front end: the lecture's MNIST example and MobileNetV1 against Keras's published
figures, every layer class against hand-worked numbers, and code that must never run.

Every text goes through ``parse_text(..., notation=None)`` so that detection is exercised too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import SPECS
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.analyze import Analysis, LayerResult, analyze
from cnncalc.cli import cli
from cnncalc.parse import DefineValue, parse_text
from cnncalc.parse.keras import parse_keras
from cnncalc.spec import Conv, Spec


def parse(code: str, defines: dict[str, DefineValue] | None = None,
          input_given: bool = False) -> Spec:
    spec = parse_text(code, "model.py", None, defines or {}, input_given)
    assert spec.notation == "keras"
    return spec


def run(code: str, defines: dict[str, DefineValue] | None = None,
        override: tuple[int, ...] | None = None) -> Analysis:
    return analyze(parse(code, defines, override is not None), override)


def net(volume: str, *layers: str) -> Analysis:
    """A Sequential model on an ``Input`` of ``volume`` (HxWxC) with the given layer calls."""
    h, w, c = volume.split("x")
    lines = ["from tensorflow.keras.layers import *", "model = Sequential()",
             f"model.add(Input(shape=({h}, {w}, {c})))", *(f"model.add({x})" for x in layers)]
    return run("\n".join(lines) + "\n")


def rows(a: Analysis) -> list[tuple[str, tuple[int, ...] | None, int | None]]:
    return [(r.layer.name, r.output_shape, r.params) for r in a.layers]


def only(a: Analysis) -> LayerResult:
    assert a.ok, [(d.code, d.message) for d in a.diagnostics]
    assert len(a.layers) == 1, rows(a)
    return a.layers[0]


def codes(a: Analysis) -> list[str]:
    return [d.code for d in a.diagnostics]


def diag(a: Analysis, code: str) -> tuple[int, int, str, str]:
    found = [d for d in a.diagnostics if d.code == code]
    assert len(found) == 1, [(d.code, d.message) for d in a.diagnostics]
    return found[0].span.line, found[0].span.col, found[0].message, found[0].hint


# --- the two shipped specs -------------------------------------------------------------------

def test_mnist_spec_is_the_seed_slide_verbatim() -> None:
    seed = Path(__file__).resolve().parents[2] / "shared/seed/000_343c499b96265e7f.txt"
    if not seed.exists():
        pytest.skip("the seed lecture is not next to the repository")
    assert (SPECS / "keras_mnist.txt").read_text() in seed.read_text()


def test_mnist_from_the_lecture() -> None:
    """Keras's summary for this model: 1,199,882 params."""
    a = run((SPECS / "keras_mnist.txt").read_text(), {"num_classes": 10}, (28, 28, 1))
    assert a.ok and a.diagnostics == ()
    assert rows(a) == [
        ("conv2d", (26, 26, 32), 3 * 3 * 1 * 32 + 32),
        ("conv2d_1", (24, 24, 64), 3 * 3 * 32 * 64 + 64),
        ("max_pooling2d", (12, 12, 64), 0),
        ("dropout", (12, 12, 64), 0),
        ("flatten", (9216,), 0),
        ("dense", (128,), 9216 * 128 + 128),
        ("dropout_1", (128,), 0),
        ("dense_1", (10,), 128 * 10 + 10),
    ]
    assert a.totals is not None and a.totals.params == 1_199_882
    assert a.spec.rounding == "floor" and a.spec.lines[0] == "model = Sequential()"


def test_mnist_spans_point_at_the_calls_and_arguments() -> None:
    spec = parse((SPECS / "keras_mnist.txt").read_text(), {"num_classes": 10}, True)
    first = spec.layers[0]
    assert (first.span.line, first.span.col) == (2, 11)  # `Conv2D(` after `model.add(`
    assert first.span_of("kernel").col == 22  # `kernel_size=(3, 3)`
    last = spec.layers[-1]
    assert (last.span.line, last.span_of("units").col, last.span_of("units").end_col) == \
        (12, 17, 28)  # `num_classes`


def test_mnist_without_flags_names_the_flags_to_pass() -> None:
    a = run((SPECS / "keras_mnist.txt").read_text())
    assert codes(a) == ["P008", "P008"]
    shape, classes = a.diagnostics
    assert (shape.span.line, shape.span.col) == (4, 29)
    assert shape.hint == "pass --input 28x28x1 (or --define input_shape=28x28x1)"
    assert (classes.span.line, classes.span.col) == (12, 17)
    assert "--define num_classes=" in classes.hint
    assert [r.status for r in a.layers][-1] == "error"  # the P008 is on its line


def test_mnist_input_may_come_from_a_define_or_the_file() -> None:
    defined = run((SPECS / "keras_mnist.txt").read_text(),
                  {"num_classes": 10, "input_shape": (28, 28, 1)})
    assert defined.ok and defined.input == (28, 28, 1)
    code = "input_shape = (28, 28, 1)\nnum_classes = 3\n" + (SPECS / "keras_mnist.txt").read_text()
    in_file = run(code, {"num_classes": 10})  # the define wins over the file
    assert in_file.ok and in_file.totals is not None and in_file.totals.params == 1_199_882


MOBILENET_PLAN = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *[(512, 1)] * 5,
                  (1024, 2), (1024, 1)]


def test_mobilenet_v1() -> None:
    """Keras's MobileNet(alpha=1.0): 4,231,976 trainable params, 21,888 non-trainable."""
    a = analyze(parse((SPECS / "keras_mobilenet.txt").read_text()))
    assert a.ok and a.diagnostics == () and a.input == (224, 224, 3)
    assert a.totals is not None
    assert (a.totals.params, a.totals.buffers) == (4_231_976, 21_888)
    by_name = {r.layer.name: r for r in a.layers}
    assert by_name["conv1"].output_shape == (112, 112, 32)
    assert by_name["conv1"].padding == ((0, 1), (0, 1))  # Keras puts the odd cell after
    size, depth = 112, 32
    for i, (filters, stride) in enumerate(MOBILENET_PLAN, start=1):
        size //= stride
        dw, pw = by_name[f"conv_dw_{i}"], by_name[f"conv_pw_{i}"]
        assert (dw.layer.kind, dw.output_shape, dw.params) == ("depthwise", (size, size, depth),
                                                               9 * depth)
        assert (pw.output_shape, pw.params) == ((size, size, filters), depth * filters)
        assert by_name[f"conv_pw_{i}_bn"].buffers == 2 * filters
        depth = filters
    assert by_name["predictions"].params == 1024 * 1000 + 1000
    assert by_name["conv1_relu"].layer.kind == "relu6" and a.layers[-1].layer.kind == "softmax"


def test_cli_shows_mobilenet_without_flags(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["show", "--format", "json", "specs/keras_mobilenet.txt"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["notation"] == "keras"
    assert (record["totals"]["params"], record["totals"]["buffers"]) == (4_231_976, 21_888)


@pytest.mark.parametrize("flags", [["--input", "28x28x1", "--define", "num_classes=10"],
                                   ["--define", "num_classes=10", "--define",
                                    "input_shape=28x28x1"]])
def test_cli_mnist_with_flags(runner: CliRunner, flags: list[str]) -> None:
    result = runner.invoke(cli, ["show", "--format", "json", *flags, "specs/keras_mnist.txt"])
    if "No such option" in result.output:
        pytest.skip("this CLI has no --define yet")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["params"] == 1_199_882


def test_cli_names_the_unbound_name(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["show", "--input", "28x28x1", "specs/keras_mnist.txt"])
    assert result.exit_code == 1
    assert "specs/keras_mnist.txt:12:17" in result.stderr and "num_classes" in result.stderr


# --- each layer class, hand-worked -----------------------------------------------------------

def test_conv_same_with_an_even_kernel_pads_one_before_two_after() -> None:
    r = only(net("7x7x1", "Conv2D(1, (4, 4), padding='same')"))
    assert (r.output_shape, r.padding, r.params) == ((7, 7, 1), ((1, 2), (1, 2)), 17)


@pytest.mark.parametrize(("size", "kernel", "out", "pad"), [
    (7, 3, 4, (1, 1)),  # ceil(7/2) = 4: total (4-1)*2 + 3 - 7 = 2
    (7, 4, 4, (1, 2)),  # total 3
    (224, 3, 112, (0, 1)),  # total 1: all of it after
])
def test_conv_same_with_stride_two_gives_ceil(size: int, kernel: int, out: int,
                                              pad: tuple[int, int]) -> None:
    r = only(net(f"{size}x{size}x3", f"Conv2D(8, {kernel}, strides=2, padding='SAME')"))
    assert (r.output_shape, r.padding) == ((out, out, 8), (pad, pad))


def test_conv_options() -> None:
    r = only(net("9x9x4", "layers.Conv2D(8, kernel_size=3, dilation_rate=2, groups=2, "
                          "use_bias=False, strides=(1, 1), padding='valid')"))
    assert (r.output_shape, r.params) == ((5, 5, 8), 3 * 3 * 2 * 8)


@pytest.mark.parametrize(("kernel", "options", "out"), [
    (3, "", 9),  # valid: W*S + max(F - S, 0) = 8 + 1
    (1, "", 8),  # valid, F < S: W*S (PyTorch's formula would give 7)
    (3, ", padding='same'", 8),  # same: W*S
    (3, ", output_padding=1", 10),  # (W - 1)*S + F + 1
    (3, ", padding='same', output_padding=1", 8),  # pads F//2: 6 + 3 - 2 + 1
    (4, ", padding='same', output_padding=0", 6),  # 6 + 4 - 4: not W*S once output_padding is set
])
def test_conv_transpose_sizes_as_keras(kernel: int, options: str, out: int) -> None:
    r = only(net("4x4x8", f"Conv2DTranspose(16, {kernel}, strides=2{options})"))
    assert (r.output_shape, r.params) == ((out, out, 16), kernel * kernel * 8 * 16 + 16)


def test_conv_transpose_counts() -> None:
    r = only(net("4x4x8", "Conv2DTranspose(16, (3, 3), strides=(2, 2))"))
    assert (r.weights, r.biases, r.macs) == (3 * 3 * 8 * 16, 16, 4 * 4 * 8 * 3 * 3 * 16)


def test_depthwise_with_multiplier_two() -> None:
    r = only(net("8x8x3", "DepthwiseConv2D(3, depth_multiplier=2)"))
    assert (r.layer.kind, r.output_shape, r.weights, r.biases) == ("depthwise", (6, 6, 6), 54, 6)
    assert isinstance(r.layer, Conv) and r.layer.filters == 0 and r.layer.depth_multiplier == 2


def test_separable_is_a_depthwise_then_a_pointwise_row() -> None:
    a = net("8x8x4", "SeparableConv2D(16, 3)")
    assert a.ok
    assert [(r.layer.name, r.output_shape, r.weights, r.biases) for r in a.layers] == [
        ("separable_conv2d/depthwise", (6, 6, 4), 3 * 3 * 4, 0),
        ("separable_conv2d/pointwise", (6, 6, 16), 4 * 16, 16),
    ]
    assert a.totals is not None and a.totals.params == 116  # Keras: 36 + 64 + 16


@pytest.mark.parametrize(("call", "params", "buffers"), [
    ("BatchNormalization()", 32, 32),
    ("BatchNormalization(momentum=0.9, epsilon=1e-5, beta_initializer='zeros')", 32, 32),
    ("BatchNormalization(center=False, scale=False)", 0, 32),
])
def test_batchnorm(call: str, params: int, buffers: int) -> None:
    r = only(net("8x8x16", call))
    assert (r.output_shape, r.params, r.buffers) == ((8, 8, 16), params, buffers)


@pytest.mark.parametrize(("padding", "out"), [
    ("((1, 2), (3, 4))", (8, 12, 2)),
    ("2", (9, 9, 2)),
    ("(1, 2)", (7, 9, 2)),
    ("", (7, 7, 2)),  # default 1
])
def test_zero_padding(padding: str, out: tuple[int, ...]) -> None:
    assert only(net("5x5x2", f"ZeroPadding2D({padding})")).output_shape == out


@pytest.mark.parametrize(("call", "out"), [
    ("MaxPooling2D()", (3, 3, 3)),  # 2x2 at stride 2: floor((7 - 2)/2) + 1
    ("MaxPool2D(pool_size=(2, 2))", (3, 3, 3)),
    ("AveragePooling2D(3)", (2, 2, 3)),  # stride = pool size 3
    ("AveragePooling2D(3, strides=1)", (5, 5, 3)),
    ("MaxPooling2D(3, strides=2, padding='same')", (4, 4, 3)),
    ("GlobalAveragePooling2D()", (3,)),
    ("GlobalMaxPooling2D(keepdims=True)", (1, 1, 3)),
])
def test_pooling_defaults(call: str, out: tuple[int, ...]) -> None:
    a = net("7x7x3", call)
    assert a.ok and a.layers[0].output_shape == out and a.layers[0].params == 0


def test_pooling_floors_as_keras_does_said_as_information() -> None:
    a = net("7x7x3", "MaxPooling2D()")
    assert codes(a) == ["I302"]


def test_dense_after_flatten() -> None:
    a = net("5x5x4", "Flatten()", "Dense(10)", "Dense(3, use_bias=False)")
    assert rows(a) == [("flatten", (100,), 0), ("dense", (10,), 1010), ("dense_1", (3,), 30)]


def test_dense_on_a_volume_works_per_position() -> None:
    a = net("5x5x4", "Dense(10)")
    assert rows(a) == [("dense", (5, 5, 10), 4 * 10 + 10)]
    assert a.layers[0].macs == 5 * 5 * 4 * 10


def test_activations_and_dropout() -> None:
    a = net("4x4x2", "Conv2D(2, 1, activation='relu')", "Activation('tanh')", "ReLU(6.0)",
            "ReLU()", "LeakyReLU(negative_slope=0.1)", "Activation('leaky_relu')",
            "Activation(activation='linear')", "Dropout(rate=0.5)", "Flatten()", "Softmax()")
    assert [(r.layer.name, r.layer.kind) for r in a.layers] == [
        ("conv2d", "conv"), ("activation", "tanh"), ("re_lu", "relu6"), ("re_lu_1", "relu"),
        ("leaky_re_lu", "leakyrelu"), ("activation_1", "leakyrelu"),
        ("activation_2", "identity"), ("dropout", "dropout"), ("flatten", "flatten"),
        ("softmax", "softmax")]
    assert a.ok


# --- forms of the code -----------------------------------------------------------------------

def test_sequential_list_with_prefixes_and_names() -> None:
    code = """\
import tensorflow as tf
from tensorflow import keras
model = keras.Sequential([
    keras.Input(shape=(32, 32, 3)),
    tf.keras.layers.Conv2D(16, 3, padding="same", name="stem"),
    keras.layers.MaxPooling2D(),
    layers.Conv2D(32, 3),
    layers.GlobalAveragePooling2D(),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="categorical_crossentropy")
model.summary()
"""
    a = run(code)
    assert a.ok, a.diagnostics
    assert rows(a) == [("stem", (32, 32, 16), 448), ("max_pooling2d", (16, 16, 16), 0),
                       ("conv2d", (14, 14, 32), 4640), ("global_average_pooling2d", (32,), 0),
                       ("dense", (10,), 330)]
    assert (a.spec.input_span.line, a.spec.layers[0].span.line) == (4, 5)  # type: ignore


def test_input_layer_and_input_dim_forms() -> None:
    assert run("model = Sequential()\nmodel.add(InputLayer(input_shape=(8, 8, 1)))\n"
               "model.add(Flatten())\n").input == (8, 8, 1)
    assert run("model = Sequential()\nmodel.add(Dense(4, input_dim=20))\n").input == (20,)
    a = run("model = Sequential()\nmodel.add(Conv2D(4, 3, batch_input_shape=(None, 6, 6, 2)))\n")
    assert a.input == (6, 6, 2) and a.ok


def test_directive_gives_the_input() -> None:
    a = run("# cnncalc: input 10x10x3\nmodel = Sequential()\n"
            "model.add(Conv2D(4, 3, input_shape=input_shape))\n")
    assert a.ok and a.input == (10, 10, 3) and a.layers[0].output_shape == (8, 8, 4)


def test_literal_names_in_the_file() -> None:
    a = run("img_rows, img_cols = 12, 12\nchannels: int = 1\nk = -1\n"
            "model = Sequential()\n"
            "model.add(Conv2D(8, (3, 3), input_shape=(img_rows, img_cols, channels)))\n"
            "model.add(BatchNormalization(axis=k))\n")
    assert a.ok and a.input == (12, 12, 1) and a.layers[0].output_shape == (10, 10, 8)


def test_name_none_is_an_automatic_name() -> None:
    a = net("4x4x2", "Dense(3, name=None)", "Dense(2, name='head')", "Dense(1)")
    assert [r.layer.name for r in a.layers] == ["dense", "head", "dense_1"]


@pytest.mark.parametrize(("code", "code_"), [
    ("# cnncalc: input 9x9x3\nmodel = Sequential([Input(shape=(8, 8, 3)), Flatten()])\n",
     "P005"),
    ("model = Sequential([Input((8, 8, 3)), Input((8, 8, 3)), Flatten()])\n", "P005"),
    ("model = Sequential([Flatten(), Input((8, 8, 3))])\n", "P007"),
    ("model = Sequential([Input(shape=(None, None, 3)), Flatten()])\n", "P011"),
    ("model = Sequential([Input(), Flatten()])\n", "P010"),
])
def test_input_problems(code: str, code_: str) -> None:
    assert code_ in codes(run(code))


def test_no_input_at_all() -> None:
    a = run("model = Sequential()\nmodel.add(Dense(4))\n")
    line, col, _, hint = diag(a, "P004")
    assert (line, col) == (2, 11) and "--input" in hint


def test_channels_first_is_unsupported() -> None:
    a = net("8x8x3", "Conv2D(4, 3, data_format='channels_first')")
    line, col, message, _ = diag(a, "P011")
    assert (line, col) == (4, 24) and "channels_first" in message


@pytest.mark.parametrize("call", ["Conv2D(4, 3, padding='causal')", "Conv2D(4, (3, 3, 3))",
                                  "Conv2D(4.5, 3)", "Dropout('x')", "Conv2D(4)",
                                  "Dense(4, 5, 6, 7)", "Conv2D(4, 3, strides=1, strides=2)"])
def test_bad_values_are_p010(call: str) -> None:
    a = run(f"model = Sequential()\nmodel.add({call})\n", override=(8, 8, 3))
    assert "P010" in codes(a) or "P001" in codes(a)


def test_a_failed_first_layer_is_not_also_a_missing_input() -> None:
    a = run("model = Sequential()\nmodel.add(Conv2D(32, (3, 3),\n"
            "                 strdes=2, input_shape=(28, 28, 1)))\n")
    assert codes(a) == ["P010"] and diag(a, "P010")[:2] == (3, 18)


def test_a_failed_layer_leaves_a_placeholder() -> None:
    a = net("8x8x3", "Conv2D(4, 3, strdes=2)", "Flatten()", "Dense(2)")
    assert [r.status for r in a.layers] == ["error", "not-computed", "not-computed"]
    assert a.layers[0].layer.name == "conv2d"


# --- safety and errors -----------------------------------------------------------------------

def test_code_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    calls = [f"Dense(__import__('os').system('touch {marker}'))", "Dense(os.environ)",
             "Dense((lambda: 3)())", 'Dense(f"{x}")', "Dense(units=[i for i in range(3)])",
             "Dense(x[0])", "Dense(2 + 3)", f"Conv2D(4, 3, input_shape=open('{marker}', 'w'))"]
    for call in calls:
        a = run(f"model = Sequential()\nmodel.add({call})\n")
        line, col, message, _ = diag(a, "P009")
        assert line == 2 and col > 11 and "not a literal" in message
    a = run(f"x = __import__('os').system('touch {marker}')\nmodel = Sequential()\n"
            "model.add(Dense(x))\n", override=(8, 8, 3))
    assert "P009" in codes(a) and diag(a, "P009")[0] == 1  # told where a layer reads `x`
    assert not marker.exists()


def test_ignored_arguments_are_not_even_read(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    a = net("8x8x3", f"Conv2D(4, 3, kernel_regularizer=__import__('os').system('touch {marker}'))")
    assert a.ok and not marker.exists()


def test_unknown_keyword_suggests_the_right_one() -> None:
    a = run("model = Sequential()\nmodel.add(Conv2D(32, (3,3), strdes=2))\n", override=(8, 8, 3))
    line, col, message, hint = diag(a, "P010")
    assert (line, col) == (2, 29) and "strdes" in message and "did you mean `strides`" in hint


def test_unknown_layer() -> None:
    a = run("model = Sequential()\nmodel.add(Conv3D(8, 3))\nmodel.add(Dense(2))\n",
            override=(8, 8, 3))
    line, col, message, _ = diag(a, "P002")
    assert (line, col) == (2, 11) and "Conv3D" in message
    assert [r.status for r in a.layers] == ["error", "not-computed"]


def test_unbalanced_parentheses() -> None:
    a = run("model = Sequential()\nmodel.add(Conv2D(32, (3, 3))\nmodel.add(Dense(10))\n")
    line, _, message, _ = diag(a, "P001")
    assert line == 2 and "never closed" in message
    assert codes(a) == ["P001"]


@pytest.mark.parametrize(("code", "line"), [
    ("model = Sequential()\nfor i in range(3):\n    model.add(Dense(4))\n", 2),
    ("model = Sequential()\nadd_blocks(model)\nmodel.add(Dense(4))\n", 2),
    ("model = Sequential()\nx = Conv2D(4, 3)(inputs)\n", 2),
    ("model = Sequential()\nmodel.add(Dense)\n", 2),
])
def test_other_statements_are_p001(code: str, line: int) -> None:
    a = run(code, override=(8, 8, 3))
    assert diag(a, "P001")[0] == line


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("model.add(Conv2D, 3)[]=\n'\"_ 1x-#é")),
               max_size=80))
def test_never_crashes(text: str) -> None:
    spec = parse_keras("model.add(" + text, "f.py", {}, False)
    for d in spec.diagnostics:
        assert d.span.line >= 1 and 1 <= d.span.col < d.span.end_col
    analyze(spec, (8, 8, 3))
