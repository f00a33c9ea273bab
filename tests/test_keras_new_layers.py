"""Keras layers read for issue 13, each against hand-worked figures: SeparableConv2D and
DepthwiseConv2D with depth multipliers, Rescaling, Normalization, CenterCrop, UpSampling2D, the
augmentation layers, GlobalAveragePooling2D with keepdims, Activation and ReLU; Add,
Concatenate and Multiply as unwired merges (the functional reader wires them; a Sequential
model refuses them); and the keras.io Sequential list style, detected as Keras."""

from __future__ import annotations

import ast

import pytest

from cnncalc.analyze import Analysis, analyze
from cnncalc.parse import detect, parse_text
from cnncalc.parse.keras_builders import LAYERS
from cnncalc.parse.keras_layers import Args, Source
from cnncalc.parse.keras_merges import MERGE_FUNCTIONS, MERGES, as_layer_call
from cnncalc.spec import Activation, BatchNorm, Merge, Span


def seq(volume: str, *layers: str) -> Analysis:
    """``keras.Sequential([keras.Input(shape=...), layers...])`` as the keras.io examples
    write it, the list on lines of its own."""
    shape = ", ".join(volume.split("x"))
    items = "".join(f"        layers.{x},\n" for x in layers)
    code = ("import keras\nfrom keras import layers\n\nmodel = keras.Sequential(\n    [\n"
            f"        keras.Input(shape=({shape},)),\n{items}    ]\n)\n")
    spec = parse_text(code, "model.py")
    assert spec.notation == "keras"
    return analyze(spec)


def figures(a: Analysis) -> list[tuple[str, tuple[int, ...] | None, int | None, int | None,
                                      int | None]]:
    assert a.ok, [(d.code, d.message) for d in a.diagnostics]
    return [(r.layer.name, r.output_shape, r.params, r.buffers, r.macs) for r in a.layers]


def codes(a: Analysis) -> list[tuple[int, str]]:
    return [(d.span.line, d.code) for d in a.diagnostics]


# --- depthwise and separable convolutions ------------------------------------------------------

def test_separable_conv_counts_its_depthwise_and_pointwise_steps() -> None:
    # 32x32x3, 3x3, depth multiplier 2, 8 filters, 'valid': 30x30.
    # depthwise: 3*3*3*2 = 54 weights, no bias; 30*30*6*9 = 48,600 MACs
    # pointwise: 1*1*6*8 = 48 weights + 8 biases = 56; 30*30*8*6 = 43,200 MACs
    a = seq("32x32x3", "SeparableConv2D(8, 3, depth_multiplier=2)")
    assert figures(a) == [("separable_conv2d/depthwise", (30, 30, 6), 54, 0, 48_600),
                          ("separable_conv2d/pointwise", (30, 30, 8), 56, 0, 43_200)]
    assert a.totals is not None and a.totals.params == 110  # Keras: 54 + 48 + 8


def test_separable_conv_strides_in_its_depthwise_step() -> None:
    # 15x15x96, 5x5 at stride 2 'valid': 6x6; 5*5*96 = 2,400 + 96*64 = 6,144 (no bias)
    a = seq("15x15x96", "SeparableConv2D(64, (5, 5), strides=(2, 2), use_bias=False)")
    assert figures(a) == [("separable_conv2d/depthwise", (6, 6, 96), 2_400, 0, 6 * 6 * 96 * 25),
                          ("separable_conv2d/pointwise", (6, 6, 64), 6_144, 0, 6 * 6 * 64 * 96)]


def test_depthwise_conv_multiplies_the_channels() -> None:
    # 30x30x8, 3x3, multiplier 3: 28x28x24; 3*3*8*3 = 216 weights + 24 biases;
    # 28*28*24*9 = 169,344 MACs (one input channel per output channel)
    a = seq("30x30x8", "DepthwiseConv2D(3, depth_multiplier=3)")
    assert figures(a) == [("depthwise_conv2d", (28, 28, 24), 240, 0, 169_344)]


def test_depthwise_conv_by_keyword_and_padding_same() -> None:
    a = seq("8x8x4", "DepthwiseConv2D(kernel_size=(3, 3), strides=2, padding='same', "
            "use_bias=False)")
    assert figures(a) == [("depthwise_conv2d", (4, 4, 4), 36, 0, 4 * 4 * 4 * 9)]


# --- shape-preserving layers ----------------------------------------------------------------

def test_rescaling_is_the_identity_without_weights() -> None:
    a = seq("8x8x3", "Rescaling(1.0 / 255)", "Rescaling(scale=1 / 127.5, offset=-1)")
    assert figures(a) == [("rescaling", (8, 8, 3), 0, 0, 0), ("rescaling_1", (8, 8, 3), 0, 0, 0)]
    assert isinstance(a.layers[0].layer, Activation) and a.layers[0].layer.fn == "identity"


def test_rescaling_needs_its_scale() -> None:
    a = seq("8x8x3", "Rescaling()")
    assert codes(a) == [(7, "P010")] and "needs `scale`" in a.diagnostics[0].message


def test_normalization_keeps_mean_and_variance_as_buffers() -> None:
    """Keras: mean (C), variance (C) and count (1) non-trainable; cnncalc counts the mean and
    variance as buffers (as batch norm's moving statistics) and not the counter."""
    a = seq("16x16x3", "Normalization()", "Normalization(axis=-1, invert=True)")
    assert figures(a) == [("normalization", (16, 16, 3), 0, 6, 0),
                          ("normalization_1", (16, 16, 3), 0, 6, 0)]
    norm = a.layers[0].layer
    assert isinstance(norm, BatchNorm) and not norm.scale and not norm.center


def test_normalization_with_given_statistics_has_no_buffers() -> None:
    # Keras stores a given mean and variance as constants, not weights
    a = seq("4x4x3", "Normalization(mean=[0.5, 0.4, 0.3], variance=[0.1, 0.2, 0.3])",
            "Normalization(mean=np.array(means), variance=variances)")
    assert figures(a) == [("normalization", (4, 4, 3), 0, 0, 0),
                          ("normalization_1", (4, 4, 3), 0, 0, 0)]


def test_normalization_on_a_vector() -> None:
    a = seq("10", "Normalization()", "Dense(4)")
    assert figures(a) == [("normalization", (10,), 0, 20, 0), ("dense", (4,), 44, 0, 40)]


@pytest.mark.parametrize(("call", "code", "words"), [
    ("Normalization(axis=None)", "P011", "channel axis"),
    ("Normalization(axis=1)", "P011", "channel axis"),
    ("Normalization(mean=0.5)", "P010", "together"),
    ("Normalization(variance=[1.0, 2.0, 3.0], mean=None)", "P010", "together"),
])
def test_normalization_refusals(call: str, code: str, words: str) -> None:
    a = seq("4x4x3", call)
    assert codes(a) == [(7, code)] and words in a.diagnostics[0].message


def test_augmentation_layers_are_the_identity_at_inference() -> None:
    a = seq("12x12x3", "RandomFlip('horizontal')", "RandomRotation(0.1)",
            "RandomZoom(0.2, 0.2)", "RandomTranslation(0.1, 0.1, fill_mode='nearest')",
            "RandomContrast(0.2)", "RandomBrightness(factor=0.2)", "RandomFlip()")
    assert [(r.layer.name, r.output_shape, r.params, r.macs) for r in a.layers] == [
        (n, (12, 12, 3), 0, 0) for n in ("random_flip", "random_rotation", "random_zoom",
                                         "random_translation", "random_contrast",
                                         "random_brightness", "random_flip_1")]
    assert a.ok


def test_an_augmentation_layer_needs_its_factor() -> None:
    a = seq("12x12x3", "RandomRotation()")
    assert codes(a) == [(7, "P010")] and "needs `factor`" in a.diagnostics[0].message


def test_center_crop_and_upsampling() -> None:
    # 9x9x4 -> crop 5x5 -> nearest x2: 10x10 -> bilinear (2, 3): 20x30
    a = seq("9x9x4", "CenterCrop(5, 5)", "UpSampling2D()",
            "UpSampling2D(size=(2, 3), interpolation='bilinear')")
    assert figures(a) == [("center_crop", (5, 5, 4), 0, 0, 0), ("up_sampling2d", (10, 10, 4), 0,
                                                                  0, 0),
                          ("up_sampling2d_1", (20, 30, 4), 0, 0, 0)]


def test_a_center_crop_larger_than_its_input_is_an_error() -> None:
    a = seq("4x4x3", "CenterCrop(height=6, width=6)")
    assert [d.code for d in a.diagnostics] == ["G111"] and a.totals is None


def test_cropping_cuts_each_side() -> None:
    # 9x10x4: ((1, 2), (3, 0)) -> 6x7; 1 -> 4x5; (0, 2) -> 4x1 (as Keras gives)
    a = seq("9x10x4", "Cropping2D(((1, 2), (3, 0)))", "Cropping2D(1)", "Cropping2D((0, 2))")
    assert figures(a) == [("cropping2d", (6, 7, 4), 0, 0, 0), ("cropping2d_1", (4, 5, 4), 0, 0, 0),
                          ("cropping2d_2", (4, 1, 4), 0, 0, 0)]


@pytest.mark.parametrize("call", ["Cropping2D(-1)", "Cropping2D(((1, 2), 3, 4))",
                                  "Cropping2D('same')"])
def test_cropping_refuses_what_is_not_a_crop(call: str) -> None:
    a = seq("8x8x3", call)
    assert codes(a) == [(7, "P010")]


def test_a_crop_of_everything_is_an_error() -> None:
    a = seq("4x4x3", "Cropping2D((2, 0))")
    assert a.totals is None and [d.code for d in a.diagnostics] == ["G102"]


def test_noise_and_spatial_dropout_are_shape_preserving() -> None:
    a = seq("4x4x3", "SpatialDropout2D(0.2)", "GaussianNoise(0.1)", "GaussianDropout(0.3)")
    assert figures(a) == [("spatial_dropout2d", (4, 4, 3), 0, 0, 0),
                          ("gaussian_noise", (4, 4, 3), 0, 0, 0),
                          ("gaussian_dropout", (4, 4, 3), 0, 0, 0)]
    assert [r.layer.kind for r in a.layers] == ["dropout", "identity", "dropout"]


def test_upsampling_refuses_other_interpolations() -> None:
    a = seq("4x4x3", "UpSampling2D(2, interpolation='bicubic')")
    assert codes(a) == [(7, "P010")]


# --- pooling and activations ----------------------------------------------------------------

def test_global_average_pooling_with_and_without_keepdims() -> None:
    a = seq("7x7x16", "GlobalAveragePooling2D(keepdims=True)", "Dense(4)",
            "GlobalAveragePooling2D()")
    # Dense on 1x1x16 works per position: 16*4 + 4 = 68 params, 64 MACs
    assert figures(a) == [("global_average_pooling2d", (1, 1, 16), 0, 0, 0),
                          ("dense", (1, 1, 4), 68, 0, 64),
                          ("global_average_pooling2d_1", (4,), 0, 0, 0)]


def test_activation_and_relu_rows() -> None:
    a = seq("4x4x2", "Activation('relu')", "ReLU()", "ReLU(6.0)", "ReLU(max_value=6)",
            "Activation('swish')", "Activation(activation='linear')")
    assert [(r.layer.name, r.layer.kind, r.output_shape, r.params) for r in a.layers] == [
        ("activation", "relu", (4, 4, 2), 0), ("re_lu", "relu", (4, 4, 2), 0),
        ("re_lu_1", "relu6", (4, 4, 2), 0), ("re_lu_2", "relu6", (4, 4, 2), 0),
        ("activation_1", "swish", (4, 4, 2), 0), ("activation_2", "identity", (4, 4, 2), 0)]
    assert a.ok


# --- merges ----------------------------------------------------------------------------------

def _build(call: str, rank: int = 3) -> list[object]:
    """The layers a layer call makes, as the functional reader will make them."""
    node = ast.parse(call, mode="eval").body
    assert isinstance(node, ast.Call)
    source = Source(call, "m.py", {})
    source.rank = rank
    cls = node.func.attr if isinstance(node.func, ast.Attribute) else \
        node.func.id if isinstance(node.func, ast.Name) else ""
    args = Args(source, node, cls, Span("m.py", 1, 1, 2))
    args.name = cls.lower()
    return list(LAYERS[cls][0](args))


@pytest.mark.parametrize(("call", "op"), [
    ("layers.Add()", "add"), ("layers.Multiply()", "multiply"),
    ("layers.Concatenate()", "concat"), ("layers.Concatenate(axis=-1)", "concat"),
    ("layers.Concatenate(axis=3)", "concat"), ("Add(name='sum')", "add"),
])
def test_merge_layers_are_merges_waiting_for_their_inputs(call: str, op: str) -> None:
    made = _build(call)
    assert len(made) == 1 and isinstance(made[0], Merge)
    assert made[0].op == op and made[0].inputs == ()


def test_concatenate_on_vectors_takes_axis_1_and_no_other() -> None:
    made = _build("Concatenate(axis=1)", rank=1)
    assert isinstance(made[0], Merge) and made[0].op == "concat"
    with pytest.raises(Exception) as info:
        _build("Concatenate(axis=1)", rank=3)
    assert "channels" in info.value.diag.message  # type: ignore[attr-defined]


def test_the_merge_functions_name_their_classes() -> None:
    assert MERGE_FUNCTIONS == {"add": "Add", "concatenate": "Concatenate",
                               "multiply": "Multiply"}
    assert set(MERGE_FUNCTIONS.values()) == set(MERGES)


@pytest.mark.parametrize(("call", "cls", "op"), [
    ("layers.add([x, y])", "Add", "add"), ("layers.multiply([x, se], name='gate')", "Multiply",
                                           "multiply"),
    ("layers.concatenate([a, b, c], axis=-1)", "Concatenate", "concat"),
    ("concatenate(inputs=[a, b])", "Concatenate", "concat"),
])
def test_a_merge_function_call_reads_as_its_layer_call(call: str, cls: str, op: str) -> None:
    node = ast.parse(call, mode="eval").body
    assert isinstance(node, ast.Call)
    made = as_layer_call(node)
    assert not made.args and all(k.arg != "inputs" for k in made.keywords)
    assert made.lineno == node.lineno and made.col_offset == node.col_offset
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id  # type: ignore[attr-defined]
    assert MERGE_FUNCTIONS[name] == cls
    args = Args(Source(call, "m.py", {}), made, cls, Span("m.py", 1, 1, 2))
    merge = LAYERS[cls][0](args)[0]
    assert isinstance(merge, Merge) and merge.op == op


def test_a_merge_function_with_another_axis_is_refused() -> None:
    node = ast.parse("layers.concatenate([a, b], axis=1)", mode="eval").body
    assert isinstance(node, ast.Call)
    source = Source("", "m.py", {})
    source.rank = 3
    with pytest.raises(Exception) as info:
        LAYERS["Concatenate"][0](Args(source, as_layer_call(node), "Concatenate",
                                      Span("m.py", 1, 1, 2)))
    assert info.value.diag.code == "P011"  # type: ignore[attr-defined]


def test_a_sequential_model_refuses_a_merge() -> None:
    a = seq("4x4x3", "Conv2D(3, 1)", "Add()", "Flatten()")
    assert codes(a) == [(8, "P001")]
    assert "joins two or more tensors" in a.diagnostics[0].message
    assert "functional API" in a.diagnostics[0].hint
    assert [r.status for r in a.layers] == ["ok", "error", "not-computed"]
    assert a.totals is None


# --- the keras.io list style ----------------------------------------------------------------

@pytest.mark.parametrize("opening", [
    "model = keras.Sequential(\n", "model = tf.keras.Sequential(\n",
    "model = keras.models.Sequential(\n", "model = Sequential(\n", "model = Sequential(  \n",
])
def test_the_sequential_list_style_is_keras(opening: str) -> None:
    text = (f"{opening}    [\n        keras.Input(shape=(28, 28, 1)),\n"
            "        layers.Conv2D(32, kernel_size=(3, 3), activation='relu'),\n    ]\n)\n")
    assert detect(text) == "keras"


@pytest.mark.parametrize("text", [
    "Sequential(\n  (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))\n)\n",
    "Net(\n  (features): Sequential(\n    (0): ReLU()\n  )\n)\n",
    "VGG(\n  (features):Sequential(\n    (0): ReLU()\n  )\n)\n",
])
def test_printed_pytorch_sequentials_stay_pytorch(text: str) -> None:
    assert detect(text) == "pytorch"


def test_a_script_around_the_model_is_not_read() -> None:
    """Data loading, printing, training: statements that do not build the model."""
    code = ("import numpy as np\nimport keras\nfrom keras import layers\n"
            "(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()\n"
            "x_train = np.expand_dims(x_train.astype('float32') / 255, -1)\n"
            "print(x_train.shape)\nnp.random.seed(0)\n"
            "model = keras.Sequential([keras.Input(shape=(8, 8, 1)), layers.Flatten(),\n"
            "                          layers.Dense(2)])\n"
            "print(model)\nmodel.summary()\nprint(model.summary())\n"
            "keras.utils.plot_model(model, 'model.png')\n"
            "model.compile(loss='mse')\nhistory = model.fit(x_train, y_train, epochs=2)\n"
            "model.layers[0].name = 'first'\n")
    spec = parse_text(code, "m.py")
    diags = [(d.span.line, d.code, d.message) for d in spec.diagnostics]
    assert diags == [(16, "P001", "cannot follow a change to the model `model`")]
    assert [layer.name for layer in spec.layers] == ["flatten", "dense"]


def test_an_unread_name_is_told_where_a_layer_reads_it() -> None:
    code = ("import keras\nfrom keras import layers\nclasses = len(names)\n"
            "a, b = sizes\n"
            "model = keras.Sequential([keras.Input(shape=(8, 8, 1)), layers.Flatten(),\n"
            "                          layers.Dense(classes), layers.Dense(a),\n"
            "                          layers.Dense(classes)])\n")
    a = analyze(parse_text(code, "m.py"))
    assert [(d.span.line, d.code) for d in a.diagnostics] == [(3, "P009"), (4, "P001")]
    assert [r.status for r in a.layers] == ["ok", "error", "not-computed", "not-computed"]


def test_a_call_given_the_model_is_refused() -> None:
    code = ("import keras\nmodel = keras.Sequential([keras.Input(shape=(4,))])\n"
            "add_blocks(model, 3)\n")
    spec = parse_text(code, "m.py")
    assert [(d.span.line, d.code) for d in spec.diagnostics] == [(3, "P001")]
    assert "`add_blocks`" in spec.diagnostics[0].message


@pytest.mark.parametrize("statement", [
    "print(model.add(layers.Dense(2)))", "x = model.add(layers.Dense(2))",
    "y = [m.add(Dense(2))]", "n = len(model.add(Dense(2)))",
])
def test_an_add_inside_an_expression_is_refused_not_dropped(statement: str) -> None:
    code = ("import keras\nfrom keras import layers\n"
            "model = keras.Sequential([keras.Input(shape=(4,))])\n"
            f"{statement}\nmodel.add(layers.Dense(3))\n")
    spec = parse_text(code, "m.py")
    assert [(d.span.line, d.code) for d in spec.diagnostics] == [(4, "P001")]
    assert "statement of its own" in spec.diagnostics[0].message


@pytest.mark.parametrize(("statement", "code"), [
    ("exec('model.add(layers.Dense(2))')", "P001"), ("print(eval('1'))", "P001"),
    ("getattr(keras, 'x')()", "P001"), ("_ = eval('model.add(layers.Dense(2))')", "P009"),
    ("a, b = setattr(m, 'x', 1), 2", "P009"), ("os.system('ls')", "P001"),
    ("subprocess.run(['ls'])", "P001"), ("print(os.listdir('.'))", "P001"),
])
def test_code_run_by_string_is_refused_at_once(statement: str, code: str) -> None:
    """``exec`` and the like could build the model: never ignored, even when nothing reads
    what they give; a call of ``os`` or ``subprocess`` is no model code, and is seen."""
    text = ("import keras\nfrom keras import layers\n"
            f"{statement}\nmodel = keras.Sequential([keras.Input(shape=(4,)), "
            "layers.Dense(3)])\n")
    spec = parse_text(text, "m.py")
    assert [(d.span.line, d.code) for d in spec.diagnostics] == [(3, code)]
