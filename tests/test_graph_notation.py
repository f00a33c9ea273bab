"""Networks that branch, in the canonical notation: every merge, crop, slice, shuffle and
upsample rule with figures worked by hand, every new error with its message and span, the
receptive field through branches, blocks, the output, and the inference-memory peak."""

from __future__ import annotations

import pytest

from cnncalc.analyze import Analysis, analyze
from cnncalc.parse import parse_text
from cnncalc.render.spec_text import to_spec_text


def run(text: str) -> Analysis:
    return analyze(parse_text(text, "net.txt"))


def codes(a: Analysis) -> list[str]:
    return [d.code for d in a.diagnostics]


def row(a: Analysis, name: str):
    return next(r for r in a.layers if r.layer.name == name)


RESIDUAL = """[8x8x16] INPUT
CONV1: 16 3x3 filters at stride 1, pad 1
RELU1
CONV2: 16 3x3 filters at stride 1, pad 1
ADD from CONV2, INPUT
"""


def test_residual_add_by_hand() -> None:
    a = run(RESIDUAL)
    assert a.ok and codes(a) == []
    add = row(a, "ADD")
    assert add.inputs == (3, 0)
    assert add.output_shape == (8, 8, 16)
    assert (add.weights, add.biases, add.macs) == (0, 0, 0)  # additions are not MACs
    # conv: 3*3*16*16 + 16 = 2,320 params; 8*8*16 * 3*3*16 = 147,456 MACs; two of them
    assert a.totals is not None
    assert (a.totals.params, a.totals.macs) == (2 * 2320, 2 * 147456)
    # the add sees the largest field of its inputs: CONV2's 5, not the input's 1
    assert add.field is not None and add.field.rf == (5, 5)
    assert row(a, "RELU1").inputs == (1,)  # a chain reads the layer before


def test_inference_peak_by_hand() -> None:
    # input, CONV1, RELU1, CONV2, ADD: 1,024 elements each. The input stays alive until the
    # ADD reads it: input+CONV1, input+RELU1(+CONV1 until it is freed), ... at most three.
    a = run(RESIDUAL)
    assert a.totals is not None and a.totals.peak_activations == 3 * 1024
    chain = run(RESIDUAL.replace("ADD from CONV2, INPUT", "RELU2"))
    assert chain.totals is not None and chain.totals.peak_activations == 2 * 1024
    assert chain.totals.activations == 4 * 1024  # the sum of outputs is another figure


def test_projection_shortcut_and_its_hint() -> None:
    text = """[56x56x64] INPUT
CONV1: 128 3x3 filters at stride 2, pad 1
ADD from CONV1, INPUT
"""
    a = analyze(parse_text("ROUNDING: floor\n" + text, "net.txt"))
    d = next(d for d in a.diagnostics if d.code == "G109")
    assert d.message == ("ADD: cannot add 28x28x128 and 56x56x64: CONV1 gives 28x28x128, "
                         "INPUT gives 56x56x64")
    assert "1x1 convolution at stride 2 with 128 filters" in d.hint and "INPUT" in d.hint
    assert (d.span.line, d.span.col, d.span.end_col) == (4, 5, 22)  # `from CONV1, INPUT`
    assert a.totals is None and row(a, "ADD").status == "error"
    fixed = analyze(parse_text("ROUNDING: floor\n" + text.replace(
        "ADD from CONV1, INPUT", "CONV2 from INPUT: 128 1x1 filters at stride 2\n"
        "ADD from CONV1, CONV2"), "net.txt"))
    assert fixed.ok and row(fixed, "ADD").output_shape == (28, 28, 128)


def test_concat_by_hand_and_its_crop_hint() -> None:
    a = run("""[8x8x16] INPUT
CONV1: 4 1x1 filters
CONV2 from INPUT: 8 3x3 filters at stride 1, pad 1
CONCAT from CONV1, CONV2, INPUT
""")
    assert a.ok
    assert row(a, "CONCAT").output_shape == (8, 8, 4 + 8 + 16)
    assert row(a, "CONCAT").field.rf == (3, 3)  # type: ignore[union-attr]
    bad = run("""[8x8x16] INPUT
CONV1: 4 3x3 filters
CONCAT from CONV1, INPUT
""")
    d = next(d for d in bad.diagnostics if d.code == "G110")
    assert d.message == ("CONCAT: cannot concatenate volumes of different height and width: "
                         "CONV1 gives 6x6x4, INPUT gives 8x8x16")
    assert "crop INPUT to 6x6" in d.hint


def test_concat_of_vectors_and_of_a_vector_with_a_volume() -> None:
    a = run("[4x4x2] INPUT\nFLATTEN\nFC: 5 neurons\nCONCAT from FLATTEN, FC\n")
    assert a.ok and row(a, "CONCAT").output_shape == (32 + 5,)
    bad = run("[4x4x2] INPUT\nFLATTEN\nCONCAT from FLATTEN, INPUT\n")
    assert "G110" in codes(bad)


def test_multiply_by_a_gate() -> None:
    a = run("""[8x8x16] INPUT
GLOBAL AVG POOL: keepdims
CONV1: 4 1x1 filters
RELU
CONV2: 16 1x1 filters
SIGMOID
MULTIPLY from INPUT, SIGMOID
""")
    assert a.ok, a.diagnostics
    m = row(a, "MULTIPLY")
    assert m.output_shape == (8, 8, 16) and m.macs == 0
    first = run("[8x8x16] INPUT\nGLOBAL AVG POOL \"gap\": keepdims\nMULTIPLY from gap, INPUT\n")
    assert first.ok and row(first, "MULTIPLY").output_shape == (8, 8, 16)  # the gate first
    flat = run("[8x8x16] INPUT\nGLOBAL AVG POOL\nFC: 16 neurons\nMULTIPLY from INPUT, FC\n")
    assert flat.ok and row(flat, "MULTIPLY").output_shape == (8, 8, 16)
    bad = run("[8x8x16] INPUT\nGLOBAL AVG POOL\nFC: 8 neurons\nMULTIPLY from INPUT, FC\n")
    d = next(d for d in bad.diagnostics if d.code == "G109")
    assert "cannot multiply 8x8x16 and 8" in d.message and "1x1x16 gate" in d.hint


def test_crop_to_a_size_and_like_a_layer() -> None:
    a = run("""[9x9x3] INPUT
CONV1: 4 3x3 filters
CROP "skip" from INPUT: like CONV1
CROP "small" from INPUT: 5x4
""")
    assert a.ok
    assert row(a, "skip").output_shape == (7, 7, 3)
    assert row(a, "small").output_shape == (5, 4, 3)
    assert row(a, "skip").field.rf == (1, 1)  # type: ignore[union-attr]  # no window
    for body, message in (("CROP: 10x9", "cannot crop 9x9x3 to 10x9"),
                          ("FLATTEN\nCROP: 2x2", "flat vector")):
        bad = run("[9x9x3] INPUT\n" + body + "\n")
        assert any(d.code in ("G111", "G104") and message in d.message
                   for d in bad.diagnostics), bad.diagnostics
    like_flat = run("[9x9x3] INPUT\nFLATTEN\nCROP from INPUT: like FLATTEN\n")
    assert "G111" in codes(like_flat)


def test_slice_and_shuffle() -> None:
    a = run("""[8x8x16] INPUT
SLICE "left": channels 0 to 8
SLICE "right" from INPUT: channels 8 to 16
CONCAT from left, right
SHUFFLE: 2 groups
""")
    assert a.ok
    assert row(a, "left").output_shape == (8, 8, 8)
    assert row(a, "SHUFFLE").output_shape == (8, 8, 16)
    for body, message in (
            ("SLICE: channels 8 to 24", "channels 8 to 24 are not within the 16 of 8x8x16"),
            ("SLICE: channels 4 to 4", "channels 4 to 4"),
            ("SHUFFLE: 3 groups", "3 groups do not divide 16 channels")):
        bad = run("[8x8x16] INPUT\n" + body + "\n")
        d = next(d for d in bad.diagnostics if d.code == "C003")
        assert message in d.message
        assert d.span.line == 2


def test_upsample_shapes_and_fields() -> None:
    a = run("""[5x5x8] INPUT
CONV1: 8 3x3 filters at stride 2, pad 1
UPSAMPLE "near": 2
UPSAMPLE "bil" from CONV1: 2x2 bilinear
""")
    assert a.ok, a.diagnostics
    near, bil = row(a, "near"), row(a, "bil")
    assert near.output_shape == bil.output_shape == (6, 6, 8)
    assert near.field.jump == (1, 1) and near.field.rf == (3, 3)  # type: ignore[union-attr]
    # bilinear reads two neighbours: one more input step (jump 2) of field
    assert bil.field.rf == (5, 5)  # type: ignore[union-attr]
    assert "G106" in codes(run("[4x4x8] INPUT\nUPSAMPLE: 0\n"))


def test_identity() -> None:
    a = run("[4x4x8] INPUT\nIDENTITY\nADD from IDENTITY, INPUT\n")
    assert a.ok and row(a, "ADD").output_shape == (4, 4, 8)


@pytest.mark.parametrize(("body", "code", "message", "cols"), [
    ("ADD from CONV1, CONV9", "P016", "`CONV9` is not the name of a layer above", (17, 22)),
    ("ADD from CONV1", "P017", "ADD: add reads 1 layer, and combines two or more", (5, 15)),
    ("CONV2 from CONV1, INPUT: 8 1x1 filters", "P017",
     "CONV2 reads 2 layers: a conv layer reads one", (7, 24)),
    ('ADD from CONV1, "later"', "P016", "`later` is not the name of a layer above", (17, 24)),
])
def test_reference_errors_at_their_spans(body: str, code: str, message: str,
                                         cols: tuple[int, int]) -> None:
    a = run(f"[8x8x3] INPUT\nCONV1: 3 1x1 filters\n{body}\nCONV \"later\": 3 1x1 filters\n")
    d = next(d for d in a.diagnostics if d.code == code)
    assert d.message == message
    assert (d.span.line, d.span.col, d.span.end_col) == (3, *cols)
    assert a.totals is None


def test_a_reference_reads_the_latest_layer_of_that_name() -> None:
    a = run("[8x8x3] INPUT\nRELU\nRELU\nCONV1: 3 1x1 filters\nADD from CONV1, RELU\n")
    assert row(a, "ADD").inputs == (3, 2)


def test_output_named() -> None:
    a = run(RESIDUAL + "FLATTEN\nOUTPUT from ADD\n")
    assert a.output == 4 and a.ok
    assert run(RESIDUAL).output == 4
    twice = run(RESIDUAL + "OUTPUT from ADD\nOUTPUT from CONV1\n")
    assert "P017" in codes(twice)
    unknown = run(RESIDUAL + "OUTPUT from NOPE\n")
    assert "P016" in codes(unknown) and unknown.totals is None


RESNET_BLOCKS = """ROUNDING: floor
[16x16x8] INPUT
BLOCK basic(C, S=1):
    CONV1: C 3x3 filters at stride S, pad 1, no bias
    BN1
    RELU1
    CONV2: C 3x3 filters at stride 1, pad 1, no bias
    BN2
    ADD from BN2, INPUT
    RELU2
END
BLOCK down(C, S=2):
    CONV1: C 3x3 filters at stride S, pad 1, no bias
    BN1
    RELU1
    CONV2: C 3x3 filters at stride 1, pad 1, no bias
    BN2
    CONV "downsample.0" from INPUT: C 1x1 filters at stride S, no bias
    BATCHNORM "downsample.1"
    ADD from BN2, "downsample.1"
    RELU2
END
layer1: 2 x basic(8)
layer2: down(16), basic(16)
GLOBAL AVG POOL
FC: 10 neurons
"""


def test_blocks_expand_with_names_and_references() -> None:
    a = run(RESNET_BLOCKS)
    assert a.ok, a.diagnostics
    names = [r.layer.name for r in a.layers]
    assert names[:3] == ["layer1.0.CONV1", "layer1.0.BN1", "layer1.0.RELU1"]
    assert "layer1.1.ADD" in names and "layer2.0.downsample.1" in names
    assert len(names) == 7 + 7 + 9 + 7 + 2
    # the first block's INPUT is the network input; the second's, the first block's RELU2
    assert row(a, "layer1.0.ADD").inputs == (5, 0)
    assert row(a, "layer1.1.ADD").inputs == (12, 7)
    down = row(a, "layer2.0.downsample.0")
    assert down.inputs == (14,) and down.output_shape == (8, 8, 16)
    # a block's layer points at its line in the block, and says which use made it
    assert down.layer.span.line == 18 and down.layer.origin.line == 24  # type: ignore[union-attr]


def test_an_error_in_a_block_points_at_the_definition_and_names_the_instance() -> None:
    a = run(RESNET_BLOCKS.replace("layer2: down(16), basic(16)", "layer2: basic(16, S=2)"))
    d = next(d for d in a.diagnostics if d.code == "G109")
    assert d.span.line == 9  # the ADD in `basic`
    assert "layer2.ADD" in d.message and "made by the use of a block on line 24" in d.hint
    # an argument's error is reported at the parameter in the block's line
    s = run("[8x8x3] INPUT\nBLOCK b(S):\n    CONV1: 3 3x3 filters at stride S\nEND\nx: b(0)\n")
    g = next(d for d in s.diagnostics if d.code == "G106")
    assert (g.span.line, g.span.col, g.span.end_col) == (3, 36, 37)


def test_use_names_stand_for_their_last_layer_and_nest() -> None:
    a = run("""[8x8x4] INPUT
BLOCK unit(C):
    CONV1: C 3x3 filters at stride 1, pad 1
    RELU
END
BLOCK pair(C):
    a: unit(C)
    b: unit(C)
    ADD from a, b
END
p: pair(4)
q: 2 x unit(4)
CONCAT from p, q
""")
    assert a.ok, a.diagnostics
    assert row(a, "p.ADD").inputs == (2, 4)
    concat = row(a, "CONCAT")
    assert [a.layers[j - 1].layer.name for j in concat.inputs] == ["p.ADD", "q.1.RELU"]
    assert concat.output_shape == (8, 8, 8)


@pytest.mark.parametrize(("text", "message"), [
    ("END\n", "END without a BLOCK"),
    ("BLOCK x(C):\n    RELU\n", "block `x` has no END"),
    ("BLOCK x(C):\nEND\n", "block `x` has no layers"),
    ("BLOCK x(C):\n    BLOCK y(D):\n    RELU\nEND\n", "a block defined inside a block"),
    ("BLOCK x(C):\n    RELU\nEND\nBLOCK x(C):\n    RELU\nEND\n", "a second block `x`"),
    ("BLOCK x(C):\n    RELU\nEND\na: y(1)\n", "`y` is not a block defined above"),
    ("BLOCK x(C):\n    RELU\nEND\na: x()\n", "x needs a value for `C`"),
    ("BLOCK x(C):\n    RELU\nEND\na: x(1, 2)\n", "x takes 1 argument"),
    ("BLOCK x(C):\n    RELU\nEND\na: x(D=1)\n", "x has no parameter `D`"),
    ("BLOCK x(C):\n    RELU\nEND\na: x(1)\na: x(1)\n", "a second use named `a`"),
    ("BLOCK x(C):\n    [1x1x1] INPUT\nEND\na: x(1)\n", "INPUT in a block"),
    ("BLOCK x(C, C):\n    RELU\nEND\n", "parameter `C` is given twice"),
])
def test_block_errors(text: str, message: str) -> None:
    a = run("[8x8x4] INPUT\n" + text)
    assert any(message in d.message for d in a.diagnostics), a.diagnostics
    assert not a.ok


def test_huge_repeat_counts_stop_at_the_cap_quickly() -> None:
    text = ("[8x8x4] INPUT\nBLOCK u(C):\n    # nothing\n    (a heading):\nEND\n"
            "z: 99999999999999999999 x u(3)\n")
    a = run(text)
    assert "P012" in codes(a)
    nested = ("[8x8x4] INPUT\nBLOCK u(C):\n    RELU\nEND\nBLOCK v(C):\n    a: 1000 x u(C)\n"
              "END\nw: 1000 x v(1)\n")
    spec = parse_text(nested, "net.txt", max_layers=5000)
    # the first instance of v makes 1,000 layers, so 1,000 of them would pass the cap: the
    # use is refused before it is built, as a PyTorch repeat is
    p012 = next(d for d in spec.diagnostics if d.code == "P012")
    assert p012.message.startswith("the use `1,000 x v` makes more than 5,000 layers")
    assert (p012.span.line, len(spec.layers)) == (8, 1)
    fits = parse_text(nested.replace("1000 x v", "4 x v"), "net.txt", max_layers=5000)
    assert len(fits.layers) == 4000 and not fits.diagnostics


def test_a_crop_cannot_be_like_itself() -> None:
    a = run('[8x8x3] INPUT\nCROP "c" from INPUT: like c\n')
    assert "P016" in codes(a) and a.totals is None


GRAPHS = [RESIDUAL, RESNET_BLOCKS, RESIDUAL + "FLATTEN\nOUTPUT from ADD\n", """[9x9x3] INPUT
CONV1: 4 3x3 filters
CROP "skip" from INPUT: like CONV1
CONCAT from skip, CONV1
SLICE: channels 0 to 4
SHUFFLE: 2 groups
UPSAMPLE: 2 bilinear
"""]


@pytest.mark.parametrize("text", GRAPHS)
def test_format_spec_round_trips_graphs(text: str) -> None:
    first = run(text)
    again = analyze(parse_text(to_spec_text(first.spec, first.input), "again.txt"))
    assert again.totals == first.totals and again.output == first.output
    for r, s in zip(first.layers, again.layers, strict=True):
        assert (r.layer.name, r.inputs, r.output_shape, r.params, r.macs, r.field) == (
            s.layer.name, s.inputs, s.output_shape, s.params, s.macs, s.field)
