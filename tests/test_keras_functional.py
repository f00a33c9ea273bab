"""Keras functional code read without running it (cnncalc.parse.keras_code): the functional
fixtures of tests/fixtures/keras are Keras's figures layer by layer, wiring included; each
construct of the functional API gives the figures worked out by hand here; what cnncalc
cannot follow is one error at its line and column; and nothing in the file ever runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT

from cnncalc.analyze import Analysis, analyze
from cnncalc.parse import detect, parse_text
from cnncalc.spec import Merge

KERAS = ROOT / "tests" / "fixtures" / "keras"
FIGURES: dict[str, dict[str, Any]] = json.loads(
    (KERAS / "figures.json").read_text(encoding="utf-8"))["models"]
FUNCTIONAL = sorted(n for n, f in FIGURES.items() if f["functional"])

HEAD = "import keras\nfrom keras import layers\n"


def read(code: str, **kw: Any) -> Analysis:
    volume = kw.pop("input_volume", None)
    return analyze(parse_text(code, "m.py", input_given=volume is not None,
                              input_volume=volume, **kw), volume)


def rows(a: Analysis) -> list[tuple[str, tuple[int, ...] | None, int, int]]:
    """(name, output volume, params, MACs) of every row."""
    return [(r.layer.name, r.output_shape, r.params, r.macs) for r in a.layers]


def errors(a: Analysis) -> list[tuple[int, int, str]]:
    return [(d.span.line, d.span.col, d.code) for d in a.diagnostics if d.severity == "error"]


def totals(a: Analysis) -> tuple[int, int, int]:
    assert a.totals is not None, [(d.code, d.message) for d in a.diagnostics]
    return a.totals.params, a.totals.buffers, a.totals.macs


# --- the fixtures, against Keras ----------------------------------------------------------


def _fixture(name: str) -> Analysis:
    path = f"tests/fixtures/keras/{name}.py"
    return analyze(parse_text((KERAS / f"{name}.py").read_text(encoding="utf-8"), path))


def _groups(a: Analysis) -> dict[str, dict[str, Any]]:
    """cnncalc's rows by the Keras layer that made them (``sep/depthwise`` and
    ``sep/pointwise`` are Keras's ``sep``): figures summed, the last row's volume, and the
    Keras layers the first row reads."""
    names = ["input_layer", *(r.layer.name.split("/")[0] for r in a.layers)]
    out: dict[str, dict[str, Any]] = {}
    for r in a.layers:
        key = r.layer.name.split("/")[0]
        if key not in out:
            out[key] = {"params": 0, "buffers": 0, "macs": 0,
                        "inputs": [names[i] for i in r.inputs]}
        g = out[key]
        g["params"] += r.params
        g["buffers"] += r.buffers
        g["macs"] += r.macs
        g["output"] = list(r.output_shape or ())
    return out


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_functional_fixtures_are_keras_figures_layer_by_layer(name: str) -> None:
    """Every Keras layer: its output volume, params, buffers, MACs, and the layers it reads
    (Keras lists a functional model's layers by depth, cnncalc in call order: by name)."""
    f = FIGURES[name]
    a = _fixture(name)
    assert a.spec.notation == "keras" and a.ok
    assert [d for d in a.diagnostics if d.severity == "error"] == []
    assert list(a.input or ()) == f["input"]
    got = _groups(a)
    assert sorted(got) == sorted(r["name"] for r in f["layers"])
    for r in f["layers"]:
        assert got[r["name"]] == {k: r[k] for k in ("params", "buffers", "macs", "output",
                                                    "inputs")}, r["name"]
    assert totals(a) == (f["params"], f["buffers"], f["macs"])
    assert list(a.layers[-1].output_shape or ()) == f["output"]


# --- each construct, worked by hand -------------------------------------------------------


def test_detection_sends_functional_code_to_the_functional_reader() -> None:
    code = HEAD + ("inputs = keras.Input(shape=(8, 8, 4))\n"
                   "y = layers.Conv2D(4, 3, padding='same')(inputs)\n"
                   "model = keras.Model(inputs, layers.add([inputs, y]))\n")
    assert detect(code) == "keras"
    a = read(code)
    assert a.spec.notation == "keras"
    merge = a.spec.layers[-1]
    assert isinstance(merge, Merge) and [r.name for r in merge.inputs] == ["INPUT", "conv2d"]


@pytest.mark.parametrize("make_input", [
    "keras.Input(shape=(8, 8, 3))", "keras.Input((8, 8, 3))", "layers.Input(shape=[8, 8, 3])",
    "keras.layers.Input(batch_shape=(None, 8, 8, 3))", "keras.Input(shape=(8, 8, 3), name='img')"])
def test_input_forms(make_input: str) -> None:
    a = read(HEAD + f"inputs = {make_input}\n"
             "model = keras.Model(inputs, layers.Conv2D(2, 3)(inputs))\n")
    assert a.input == (8, 8, 3)
    assert rows(a) == [("conv2d", (6, 6, 2), 3 * 3 * 3 * 2 + 2, 6 * 6 * 2 * 27)]


def test_a_vector_input() -> None:
    a = read(HEAD + "inputs = keras.Input(shape=(784,))\n"
             "x = layers.Dense(64, activation='relu')(inputs)\n"
             "model = keras.Model(inputs, layers.Dense(10)(x))\n")
    assert rows(a) == [("dense", (64,), 784 * 64 + 64, 784 * 64),
                       ("dense_1", (10,), 64 * 10 + 10, 640)]


def test_a_layer_built_then_called_and_one_called_inline_are_the_same() -> None:
    built = read(HEAD + "inputs = keras.Input(shape=(10, 10, 3))\n"
                 "conv = layers.Conv2D(8, 3, strides=2)\n"
                 "pool = layers.MaxPooling2D()\n"
                 "model = keras.Model(inputs, pool(conv(inputs)))\n")
    inline = read(HEAD + "inputs = keras.Input(shape=(10, 10, 3))\n"
                  "x = layers.Conv2D(8, 3, strides=2)(inputs)\n"
                  "model = keras.Model(inputs, layers.MaxPooling2D()(x))\n")
    # (10 - 3)//2 + 1 = 4; 3*3*3*8 + 8 = 224 params; 4*4*8*27 = 3,456 MACs; pool 4 -> 2
    expected = [("conv2d", (4, 4, 8), 224, 3456), ("max_pooling2d", (2, 2, 8), 0, 0)]
    assert rows(built) == rows(inline) == expected


def test_keras_names_layers_when_they_are_built() -> None:
    """Per class, in the order built: a layer built and never called takes its name too."""
    a = read(HEAD + "inputs = keras.Input(shape=(4, 4, 2))\n"
             "unused = layers.Conv2D(1, 1)\n"
             "x = layers.Conv2D(2, 1, name='stem')(inputs)\n"
             "x = layers.Conv2D(2, 1)(x)\n"
             "x = layers.ReLU()(x)\n"
             "x = layers.SeparableConv2D(4, 3, padding='same')(x)\n"
             "model = keras.Model(inputs, x)\n")
    assert [r.layer.name for r in a.layers] == [
        "stem", "conv2d_1", "re_lu", "separable_conv2d/depthwise", "separable_conv2d/pointwise"]


@pytest.mark.parametrize("merge, shape", [
    ("layers.add([a, b])", (8, 8, 4)), ("layers.Add()([a, b])", (8, 8, 4)),
    ("layers.multiply([a, b])", (8, 8, 4)), ("layers.Multiply()([a, b])", (8, 8, 4)),
    ("layers.concatenate([a, b])", (8, 8, 8)), ("layers.Concatenate(axis=-1)([a, b])", (8, 8, 8)),
    ("layers.Concatenate(axis=3)([a, b, a])", (8, 8, 12))])
def test_merges(merge: str, shape: tuple[int, ...]) -> None:
    a = read(HEAD + "inputs = keras.Input(shape=(8, 8, 3))\n"
             "a = layers.Conv2D(4, 1)(inputs)\n"
             "b = layers.Conv2D(4, 1)(inputs)\n"
             f"model = keras.Model(inputs, {merge})\n")
    last = a.layers[-1]
    assert isinstance(last.layer, Merge) and last.output_shape == shape
    assert totals(a) == (2 * (3 * 4 + 4), 0, 2 * 8 * 8 * 4 * 3)
    assert a.layers[1].inputs == (0,)  # b reads the input, not a


def test_a_concatenation_off_the_channels_is_refused() -> None:
    a = read(HEAD + "inputs = keras.Input(shape=(8, 8, 3))\n"
             "model = keras.Model(inputs, layers.Concatenate(axis=1)([inputs, inputs]))\n")
    assert errors(a) == [(4, 48, "P011")]


def test_a_gate_broadcast_over_the_volume() -> None:
    """Squeeze-and-excitation: a 1x1xC gate multiplies an HxWxC volume."""
    a = read(HEAD + "inputs = keras.Input(shape=(6, 6, 8))\n"
             "g = layers.GlobalAveragePooling2D(keepdims=True)(inputs)\n"
             "g = layers.Dense(2, activation='relu')(g)\n"
             "g = layers.Dense(inputs.shape[-1], activation='sigmoid')(g)\n"
             "model = keras.Model(inputs, layers.multiply([inputs, g]))\n")
    assert rows(a) == [("global_average_pooling2d", (1, 1, 8), 0, 0),
                       ("dense", (1, 1, 2), 8 * 2 + 2, 16), ("dense_1", (1, 1, 8), 2 * 8 + 8, 16),
                       ("multiply", (6, 6, 8), 0, 0)]


def test_helper_functions_and_loops() -> None:
    """Three residual blocks from a loop over a helper: 3 x 3*3*4*4 weights, no bias."""
    a = read(HEAD + "def block(x, filters, bias=False):\n"
             "    y = layers.Conv2D(filters, 3, padding='same', use_bias=bias)(x)\n"
             "    return layers.add([x, y])\n"
             "inputs = keras.Input(shape=(8, 8, 4))\n"
             "x = inputs\n"
             "for _ in range(3):\n"
             "    x = block(x, x.shape[-1])\n"
             "model = keras.Model(inputs, x)\n")
    assert [r.layer.name for r in a.layers] == ["conv2d", "add", "conv2d_1", "add_1", "conv2d_2",
                                                "add_2"]
    assert [r.inputs for r in a.layers] == [(0,), (0, 1), (2,), (2, 3), (4,), (4, 5)]
    assert totals(a) == (3 * 144, 0, 3 * 8 * 8 * 4 * 36)


@pytest.mark.parametrize("build", [
    "model = keras.Model(inputs, outputs)",
    "model = keras.Model(inputs=inputs, outputs=outputs, name='net')",
    "model = keras.Model(inputs=[inputs], outputs=[outputs])",
    "model = keras.models.Model(inputs, outputs)",
    "model = tf.keras.Model(inputs, outputs)"])
def test_model_forms(build: str) -> None:
    a = read("import tensorflow as tf\n" + HEAD + "inputs = keras.Input(shape=(5, 5, 1))\n"
             "outputs = layers.Conv2D(1, 5, use_bias=False)(inputs)\n" + build + "\n")
    assert rows(a) == [("conv2d", (1, 1, 1), 25, 25)]


def test_imports_of_the_classes_themselves() -> None:
    a = read("from tensorflow.keras.layers import Input, Conv2D as C, add\n"
             "from tensorflow.keras.models import Model\n"
             "i = Input(shape=(5, 5, 1))\n"
             "model = Model(i, add([C(1, 3, padding='same')(i), i]))\n")
    assert [r.layer.name for r in a.layers] == ["conv2d", "add"]
    assert totals(a) == (10, 0, 225)


def test_a_factory_called_at_the_top_or_named_with_model() -> None:
    factory = HEAD + ("def get_model(units=10):\n"
                      "    inputs = keras.Input(shape=(3,))\n"
                      "    return keras.Model(inputs, layers.Dense(units)(inputs))\n")
    assert totals(read(factory + "model = get_model()\n")) == (40, 0, 30)
    assert totals(read(factory, model="get_model(4)")) == (16, 0, 12)
    assert totals(read(factory, model="get_model")) == (40, 0, 30)
    none = read(factory)
    assert errors(none) == [(1, 1, "P015")]
    assert "--model \"get_model(...)\"" in none.diagnostics[0].hint


def test_two_models_need_model_and_each_has_its_own_layers() -> None:
    code = HEAD + ("inputs = keras.Input(shape=(6, 6, 1))\n"
                   "z = layers.Conv2D(2, 3)(inputs)\n"
                   "encoder = keras.Model(inputs, z)\n"
                   "y = layers.Conv2DTranspose(1, 3)(z)\n"
                   "autoencoder = keras.Model(inputs, y)\n")
    assert errors(read(code)) == [(7, 15, "P015")]
    assert [r.layer.name for r in read(code, model="encoder").layers] == ["conv2d"]
    assert [r.layer.name for r in read(code, model="autoencoder").layers] == [
        "conv2d", "conv2d_transpose"]


def test_layers_off_the_path_from_input_to_output_are_not_the_models() -> None:
    """As Keras's model.layers: a branch nothing reads is left out, and the rest is rewired."""
    a = read(HEAD + "inputs = keras.Input(shape=(4, 4, 1))\n"
             "x = layers.Conv2D(2, 1)(inputs)\n"
             "probe = layers.Conv2D(7, 1)(x)\n"
             "y = layers.Conv2D(3, 1)(x)\n"
             "model = keras.Model(inputs, y)\n")
    assert [(r.layer.name, r.inputs) for r in a.layers] == [("conv2d", (0,)),
                                                            ("conv2d_2", (1,))]
    assert a.spec.layers[1].inputs == ()


def test_the_script_around_the_model_is_left_alone() -> None:
    a = read("import numpy as np\n" + HEAD + (
        "(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()\n"
        "x_train = x_train.astype('float32') / 255\n"
        "np.random.seed(0)\n"
        "inputs = keras.Input(shape=(28, 28, 1))\n"
        "x = layers.Flatten()(inputs)\n"
        "model = keras.Model(inputs, layers.Dense(10)(x))\n"
        "model.compile(optimizer=keras.optimizers.Adam(1e-3), loss='mse')\n"
        "history = model.fit(x_train, y_train, epochs=3)\n"
        "for epoch in range(3):\n"
        "    model.fit(x_train, y_train)\n"
        "print(model.summary())\n"
        "if __name__ == '__main__':\n"
        "    model.save('m.keras')\n"))
    assert a.diagnostics == ()
    assert totals(a) == (7850, 0, 7840)


def test_a_name_that_could_not_be_worked_out_is_reported_where_it_was_bound() -> None:
    a = read(HEAD + "filters = compute_filters()\n"
             "inputs = keras.Input(shape=(4, 4, 1))\n"
             "model = keras.Model(inputs, layers.Conv2D(filters, 1)(inputs))\n")
    assert errors(a) == [(3, 11, "P008")]
    assert a.totals is None


def test_define_wins_over_the_files_assignment() -> None:
    code = HEAD + ("units = 10\ninputs = keras.Input(shape=(3,))\n"
                   "model = keras.Model(inputs, layers.Dense(units)(inputs))\n")
    assert totals(read(code, defines={"units": 5})) == (20, 0, 15)


def test_an_input_without_whole_sizes_needs_input() -> None:
    code = HEAD + ("inputs = keras.Input(shape=(None, None, 3))\n"
                   "model = keras.Model(inputs, layers.Conv2D(4, 3)(inputs))\n")
    assert errors(read(code)) == [(3, 10, "P011")]
    a = read(code, input_volume=(9, 9, 3))
    assert rows(a) == [("conv2d", (7, 7, 4), 112, 7 * 7 * 4 * 27)]
    assert read("# cnncalc: input 9x9x3\n" + code).ok


def test_the_input_comment_must_agree_with_the_code() -> None:
    a = read("# cnncalc: input 9x9x3\n" + HEAD + "inputs = keras.Input(shape=(8, 8, 3))\n"
             "model = keras.Model(inputs, layers.Conv2D(4, 3)(inputs))\n")
    assert errors(a) == [(1, 18, "P005")]


# --- what cnncalc does not follow: one error, at its place --------------------------------


@pytest.mark.parametrize("body, at, code", [
    ("x = inputs\nwhile x.shape[-1] < 8:\n    x = layers.Conv2D(8, 1)(x)\n", (5, 1), "P021"),
    ("x = inputs - inputs\n", (4, 5), "P021"),
    ("x = inputs * 2\n", (4, 5), "P021"),
    ("conv = layers.Conv2D(3, 1)\nx = conv(conv(inputs))\n", (5, 5), "P021"),
    ("x = layers.Lambda(lambda t: t * 2)(inputs)\n", (4, 19), "P021"),
    ("x = layers.Conv2D(3, 1, kernel_size=3)(inputs)\n", (4, 25), "P010"),
    ("x = layers.Conv2D(3, getattr(layers, 'k'))(inputs)\n", (4, 22), "P021"),
    ("x = layers.Conv2D(3, 1, name='a')(inputs)\nx = layers.Conv2D(3, 1, name='a')(x)\n", (5, 5),
     "P021"),
    ("x = layers.Conv2D(3, 1)(inputs[:, :, :, :1])\n", (4, 25), "P021"),
    ("other = keras.Input(shape=(4, 4, 3))\nx = layers.add([inputs, other])\n", (5, 5), "P021"),
    ("x = keras.applications.ResNet50()(inputs)\n", (4, 5), "P021"),
])
def test_one_error_at_the_construct(body: str, at: tuple[int, int], code: str) -> None:
    a = read(HEAD + "inputs = keras.Input(shape=(4, 4, 3))\n" + body
             + "model = keras.Model(inputs, x)\n")
    assert errors(a) == [(*at, code)], [d.message for d in a.diagnostics]
    assert a.totals is None


def test_a_subclassed_model_is_one_error() -> None:
    a = read(HEAD + "class Net(keras.Model):\n"
             "    def __init__(self):\n"
             "        super().__init__()\n"
             "        self.dense = layers.Dense(3)\n"
             "inputs = keras.Input(shape=(3,))\n"
             "model = keras.Model(inputs, Net()(inputs))\n")
    assert errors(a) == [(5, 9, "P021")]
    assert "keras.Model" in a.diagnostics[0].message


def test_a_model_of_two_inputs_is_one_error() -> None:
    a = read(HEAD + "a = keras.Input(shape=(3,))\nb = keras.Input(shape=(3,))\n"
             "model = keras.Model([a, b], layers.Dense(1)(a))\n")
    assert errors(a) == [(5, 9, "P021")]


def test_nothing_in_the_file_runs(tmp_path: Path) -> None:
    """Code that would write files, run a shell and open a socket, at the top and inside the
    model's own function: nothing happens; the model is read, or refused where it calls them."""
    target = tmp_path / "written"
    top = (f"open({str(target)!r}, 'w').write('ran')\n"
           f"__import__('os').system('touch {target}')\n"
           "import socket\nsocket.create_connection(('127.0.0.1', 9))\n")
    a = read("import os\nimport subprocess\n" + HEAD + top
             + "inputs = keras.Input(shape=(3,))\n"
             "model = keras.Model(inputs, layers.Dense(2)(inputs))\n")
    assert totals(a) == (8, 0, 6)
    inside = read("import os\n" + HEAD + "def get_model():\n"
                  "    inputs = keras.Input(shape=(3,))\n"
                  f"    os.system('touch {target}')\n"
                  "    return keras.Model(inputs, layers.Dense(2)(inputs))\n"
                  "model = get_model()\n")
    assert errors(inside) == [(6, 5, "P021")]
    assert "os.system" in inside.diagnostics[0].message
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_a_sequential_used_as_a_layer() -> None:
    """A data augmentation block and a head built with ``add``: their rows are named under
    them, and add up to the one layer Keras shows for each (Keras 3.15 gives 130 params and
    8 non-trainable weights for this model)."""
    a = read(HEAD + "augment = keras.Sequential([layers.RandomFlip('horizontal'),\n"
             "                               layers.RandomRotation(0.1)])\n"
             "head = keras.Sequential(name='head')\n"
             "head.add(layers.Conv2D(4, 3, padding='same'))\n"
             "head.add(layers.BatchNormalization())\n"
             "inputs = keras.Input(shape=(16, 16, 3))\n"
             "x = head(layers.Rescaling(1.0 / 255)(augment(inputs)))\n"
             "model = keras.Model(inputs, layers.Dense(2)(layers.GlobalAveragePooling2D()(x)))\n")
    assert [r.layer.name for r in a.layers] == [
        "sequential/random_flip", "sequential/random_rotation", "rescaling", "head/conv2d",
        "head/batch_normalization", "global_average_pooling2d", "dense"]
    # 3*3*3*4 + 4 = 112, batch norm 2*4 (+ 2*4 buffers), dense 4*2 + 2; 16*16*4*27 MACs + 8
    assert totals(a) == (130, 8, 27_656)


def test_endless_recursion_and_huge_loops_stop_with_one_error() -> None:
    recursion = read(HEAD + "def deeper(x):\n    return deeper(layers.ReLU()(x))\n"
                     "inputs = keras.Input(shape=(3,))\n"
                     "model = keras.Model(inputs, deeper(inputs))\n")
    assert [code for *_, code in errors(recursion)] == ["P022"]
    loop = read(HEAD + "inputs = keras.Input(shape=(3,))\nx = inputs\n"
                "for i in range(10 ** 9):\n    x = layers.ReLU()(x)\n"
                "model = keras.Model(inputs, x)\n")
    assert errors(loop) == [(5, 1, "P022")]


def test_a_merge_function_takes_a_name_and_the_inputs_keyword() -> None:
    a = read(HEAD + "inputs = keras.Input(shape=(5,))\n"
             "a = layers.Dense(3)(inputs)\nb = layers.Dense(4)(inputs)\n"
             "model = keras.Model(inputs, layers.concatenate(inputs=[a, b], name='joined'))\n")
    assert rows(a)[-1] == ("joined", (7,), 0, 0)
    assert totals(a) == (5 * 3 + 3 + 5 * 4 + 4, 0, 35)


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_a_file_cut_short_never_gives_a_partial_total(name: str) -> None:
    """Every prefix of a fixture: Keras's totals, or none (an error says why); never a
    traceback, never the total of part of the model."""
    lines = (KERAS / f"{name}.py").read_text(encoding="utf-8").splitlines(keepends=True)
    f = FIGURES[name]
    for k in range(len(lines) + 1):
        a = analyze(parse_text("".join(lines[:k]), "m.py", "keras"))
        if a.totals is not None:
            assert totals(a) == (f["params"], f["buffers"], f["macs"]), k
        else:
            assert errors(a), k


def test_arguments_worked_out_by_the_code_and_their_places() -> None:
    """``*args``/``**kwargs`` and arithmetic are worked out; a bad value is reported where its
    argument is written, even inside a helper."""
    code = HEAD + ("opts = {{'padding': 'same', 'use_bias': False}}\n"
                   "def conv(x, filters, mode):\n"
                   "    return layers.Conv2D(filters * 2, *(3,), padding=mode)(x)\n"
                   "inputs = keras.Input(shape=(6, 6, 2))\n"
                   "x = layers.Conv2D(4, 3, **opts)(inputs)\n"
                   "model = keras.Model(inputs, conv(x, 2, {}))\n")
    good = read(code.format("'same'"))
    assert rows(good) == [("conv2d", (6, 6, 4), 72, 6 * 6 * 4 * 18),
                          ("conv2d_1", (6, 6, 4), 148, 6 * 6 * 4 * 36)]
    bad = read(code.format("'sam'"))
    assert errors(bad) == [(5, 46, "P010")]


def test_a_layer_in_two_models_counts_in_each() -> None:
    code = HEAD + ("dense = layers.Dense(2)\n"
                   "a = keras.Input(shape=(3,))\nfirst = keras.Model(a, dense(a))\n"
                   "b = keras.Input(shape=(3,))\nsecond = keras.Model(b, dense(b))\n")
    assert totals(read(code, model="first")) == totals(read(code, model="second")) == (8, 0, 6)


def test_the_input_given_must_fit_a_partial_shape() -> None:
    code = HEAD + ("inputs = keras.Input(shape=(None, None, 3))\n"
                   "model = keras.Model(inputs, layers.Conv2D(4, 3)(inputs))\n")
    a = read(code, input_volume=(9, 9, 1))
    assert errors(a) == [(3, 10, "P011")] and "9x9x1" in a.diagnostics[0].message
    assert errors(read("# cnncalc: input 9x9x1\n" + code)) == [(4, 10, "P011")]


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_the_functional_fixtures_read_back_from_the_canonical_notation(runner: Any,
                                                                       name: str) -> None:
    """``--format spec`` writes the graph in cnncalc's notation, which reads as Keras's
    figures, layer by layer and wired the same."""
    from cnncalc.cli import cli

    result = runner.invoke(cli, ["show", "--format", "spec", f"tests/fixtures/keras/{name}.py"])
    assert result.exit_code == 0, result.stderr
    a = analyze(parse_text(result.stdout, "canonical.txt"))
    assert a.spec.notation == "lecture" and a.ok
    assert _groups(a) == _groups(_fixture(name))


TOY_RESNET = """import numpy as np
import keras
from keras import layers

inputs = keras.Input(shape=(32, 32, 3), name="img")
x = layers.Conv2D(32, 3, activation="relu")(inputs)
x = layers.Conv2D(64, 3, activation="relu")(x)
block_1_output = layers.MaxPooling2D(3)(x)

x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
block_2_output = layers.add([x, block_1_output])

x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
block_3_output = layers.add([x, block_2_output])

x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dense(256, activation="relu")(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(10)(x)

model = keras.Model(inputs, outputs, name="toy_resnet")
model.summary()
keras.utils.plot_model(model, "mini_resnet.png", show_shapes=True)
(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()

x_train = x_train.astype("float32") / 255.0
x_test = x_test.astype("float32") / 255.0
y_train = keras.utils.to_categorical(y_train, 10)
y_test = keras.utils.to_categorical(y_test, 10)

model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss=keras.losses.CategoricalCrossentropy(from_logits=True),
    metrics=["acc"],
)
# We restrict the data to the first 1000 samples so as to limit execution time
# on Colab. Try to train on the entire dataset until convergence!
model.fit(
    x_train[:1000],
    y_train[:1000],
    batch_size=64,
    epochs=1,
    validation_split=0.2,
)
"""


def test_the_keras_guides_toy_resnet_as_published() -> None:
    """The toy ResNet of keras.io's functional API guide, with its plot, data and training
    around it: the guide's model.summary() gives 223,242 params (and Keras 3.15 the same
    28,997,504 MACs, counted as tests/fixtures/keras/generate.py counts them)."""
    a = read(TOY_RESNET)
    assert [d.code for d in a.diagnostics] == ["I302"]  # its 28 -> 9 pool (floored, as Keras)
    assert totals(a) == (223_242, 0, 28_997_504)
    assert [r.inputs for r in a.layers if isinstance(r.layer, Merge)] == [(5, 3), (8, 6)]


def test_mangled_functional_code_never_crashes() -> None:
    """Cut and spliced copies of the fixtures (seeded, so the same each run): a table or
    diagnostics, never a traceback, and never totals beside an error."""
    import random

    rng = random.Random(13)
    texts = [(KERAS / f"{n}.py").read_text(encoding="utf-8") for n in FUNCTIONAL]
    pieces = ["(", ")", "[", "]", ",", "x", "inputs", "layers.add([x, x])", "-1", "None",
              "for i in range(3):\n    ", "\n", "*", "+", "x.shape", "[0]", "=",
              "layers.Concatenate(axis=2)", "def f(x):\n    return f(x)\n",
              "keras.Model(inputs, x)", "layers.Conv2D(3, 3)", "keras.Input(shape=(3,))"]
    for _ in range(300):
        text = rng.choice(texts)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            if rng.random() < 0.4:
                text = text[:at] + text[at + rng.randint(1, 8):]
            else:
                text = text[:at] + rng.choice(pieces) + text[at:]
        a = analyze(parse_text(text, "m.py", "keras"))
        assert a.totals is None or not errors(a)


def test_plus_and_times_of_tensors_are_keras_add_and_multiply() -> None:
    """Keras 3 makes ``a + b`` an ``add`` operation, named from the Add layers' counter
    (Keras itself names these four add, add_1, multiply, conv2d_1...)."""
    a = read(HEAD + "inputs = keras.Input(shape=(8, 8, 3))\n"
             "a = layers.Conv2D(4, 1)(inputs)\nb = layers.Conv2D(4, 1)(inputs)\n"
             "c = a + b\nd = layers.add([c, a])\n"
             "model = keras.Model(inputs, c * d)\n")
    assert [(r.layer.name, r.inputs, r.output_shape) for r in a.layers[2:]] == [
        ("add", (1, 2), (8, 8, 4)), ("add_1", (3, 1), (8, 8, 4)),
        ("multiply", (3, 4), (8, 8, 4))]
    assert totals(a) == (32, 0, 2 * 8 * 8 * 4 * 3)
