"""Notation detection does not read ``#`` comments: a comment that quotes another notation
(``# as nn.Conv2d(3, 8, 3)``), or the canonical text's ``# not read (line N): ...`` line, does
not change the notation of the text around it."""

from __future__ import annotations

import pytest
from helpers import SPECS

from cnncalc.analyze import analyze
from cnncalc.parse import detect, parse_text

LECTURE = "[8x8x3] INPUT\nCONV1: 8 3x3 filters\n"
KERAS = "model = Sequential()\nmodel.add(Dense(10, input_shape=(4,)))\n"
PYTORCH = "# cnncalc: input 8x8x3\nnn.Conv2d(3, 8, 3)\n"
VGG = "INPUT: [32x32x3]\nCONV3-8\n"


@pytest.mark.parametrize(("text", "notation"), [
    ("# the same as nn.Conv2d(3, 8, 3) in PyTorch\n" + LECTURE, "lecture"),
    ("# Keras: model.add(Conv2D(8, 3))\n" + LECTURE, "lecture"),
    (LECTURE + "# not read (line 3): model.add(Dense(n))\n", "lecture"),
    (LECTURE + "# not read (line 3): nn.Conv2d(8, 8, lambda: 3)\n", "lecture"),
    ("[8x8x3] INPUT  # Sequential(\nCONV1: 8 3x3 filters  # Dense(10)\n", "lecture"),
    ("# CONV3-64 as in VGG\n" + LECTURE, "lecture"),
    ("# (0): Conv2d(3, 8, kernel_size=(3, 3))\n" + LECTURE, "lecture"),
    ("# written for nn.Conv2d(3, 8, 3)\n" + KERAS, "keras"),
    ("model = Sequential()  # not nn.Linear(4, 10)\nmodel.add(Dense(10, input_shape=(4,)))\n",
     "keras"),
    ("# model.add(Dense(10))\n" + PYTORCH, "pytorch"),
    ("# model.add(Dense(10))\n" + VGG, "vgg"),
    ("CONV3-64: # a comment after the colon\n", "vgg"),
    # a `\r` ends a comment as it ends a line
    ("# a comment\r[8x8x3] INPUT\rCONV1: 8 3x3 filters\r", "lecture"),
    ("# a comment\rmodel = Sequential()\rmodel.add(Dense(10, input_shape=(4,)))\r", "keras"),
    ("# cnncalc: input 8x8x3\r\nnn.Conv2d(3, 8, 3)\r\n", "pytorch"),
    # a docstring is not a comment: what is in it still counts
    ('"""Built with model.add(Dense(10)) calls."""\n' + LECTURE, "keras"),
])
def test_detection_ignores_comments(text: str, notation: str) -> None:
    assert detect(text) == notation


def test_the_shipped_specs_are_detected_as_before() -> None:
    got = {p.name: detect(p.read_text(encoding="utf-8")) for p in sorted(SPECS.glob("*.txt"))}
    assert got == {
        "alexnet.txt": "lecture", "alexnet224.txt": "lecture", "keras_mnist.txt": "keras",
        "keras_mobilenet.txt": "keras", "lenet5.txt": "lecture", "mobilenet_v1.txt": "lecture",
        "one_7x7.txt": "lecture", "pytorch_alexnet.txt": "pytorch", "three_3x3.txt": "lecture",
        "vgg16.txt": "lecture", "vgg_cs231n.txt": "vgg", "vgg_paper_d.txt": "vgg",
        # the graphs in the canonical notation, with blocks
        "resnet18.txt": "lecture", "resnet50.txt": "lecture", "googlenet.txt": "lecture",
        "densenet121.txt": "lecture", "mobilenet_v2.txt": "lecture", "unet.txt": "lecture"}


def test_a_lecture_spec_quoting_pytorch_in_a_comment_parses_cleanly() -> None:
    a = analyze(parse_text("# the same as nn.Conv2d(3, 8, 3) in PyTorch\n" + LECTURE, "c.txt"))
    assert a.spec.notation == "lecture"
    assert a.ok and a.diagnostics == ()
    assert a.layers[-1].output_shape == (6, 6, 8)


def test_anchored_markers_are_found_exactly_where_a_search_finds_them() -> None:
    """Markers that every match starts with are tried only where they occur; on generated
    texts that gives what a search of the whole text gives."""
    import random

    from cnncalc.parse import _PYTORCH, _found

    pieces = ["nn.", "nn.Conv2d", "xnn.", "_nn.", "nn", ".", "Sequential(", "ModuleList(",
              "aSequential(", "(", ")", " ", "\t", "\n", "\r\n", "\r", "\x0b", "\u2028", "\xa0",
              "x", "1", "é", "Conv2d(", ":", "model = "]
    rng = random.Random(3)
    anchored = [(needs, pattern) for needs, pattern, starts in _PYTORCH if starts]
    assert anchored
    found = 0
    for _ in range(20000):
        text = "".join(rng.choices(pieces, k=rng.randint(1, 12)))
        for needs, pattern in anchored:
            expected = pattern.search(text) is not None
            found += expected
            assert _found(text, needs, pattern, starts=True) == expected, repr(text)
    assert found > 1000


@pytest.mark.parametrize(("text", "notation"), [
    # a remark at the end of a lecture line is not read, whatever it quotes
    ("CONV1: 8 3x3 filters (as in nn.Conv2d(3, 8, 3))\n", "lecture"),
    (LECTURE + "[6x6x8] RELU1 (nn.ReLU(inplace=True))\n", "lecture"),
    (LECTURE + "MAX POOL1: 2x2 filters (Keras: MaxPooling2D(2))\r\n", "lecture"),
    (LECTURE + "FC2: 10 neurons (model.add(Dense(10)))\n", "lecture"),
    ("# cnncalc: input 8x8x3\nconv3-8 (nn.Conv2d(3, 8, 3, padding=1))\n", "vgg"),
    # code keeps its markers: no blank before a call's `(`, or not a lecture layer word
    ("Conv2d(3, 8, 3)\n", "pytorch"),
    ("model.add (Dense(3))\n", "keras"),
    ("net = Net (nn.ReLU())\n", "pytorch"),
    ("CONV1: 8 3x3 filters\nnn.Conv2d(8, 8, 3)\n", "pytorch"),  # not in a remark
    ("CONV1: 8 3x3 filters (a remark) nn.Conv2d(8, 8, 3)\n", "pytorch"),  # not at the end
])
def test_remarks_do_not_change_the_notation(text: str, notation: str) -> None:
    assert detect(text) == notation


def test_a_lecture_spec_with_a_code_remark_parses_cleanly() -> None:
    a = analyze(parse_text(LECTURE.replace("filters", "filters (as nn.Conv2d(3, 8, 3))"), "c.txt"))
    assert a.spec.notation == "lecture" and a.ok and a.layers[-1].output_shape == (6, 6, 8)


# ---- detection says what it decided (issue 14, part 7) ----

MIXED = ("[32x32x3] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1\nRELU1\n"
         "CONV2: 16 3x3 filters at stride 1, pad 1\nPOOL1: 2x2 filters at stride 2\n"
         "FC: 10 neurons\nthe code is nn.Conv2d(3, 16, 3, padding=1) and so on\n")


def test_the_summary_names_the_notation_read() -> None:
    from click.testing import CliRunner

    from cnncalc.cli import cli

    runner = CliRunner()
    for spec, notation in (("specs/lenet5.txt", "lecture"), ("specs/vgg_paper_d.txt", "vgg"),
                           ("specs/pytorch_alexnet.txt", "pytorch"),
                           ("specs/keras_mobilenet.txt", "keras")):
        table = runner.invoke(cli, ["show", "--width", "200", spec]).stdout
        assert f"Read as {notation} notation." in table, spec
        record = runner.invoke(cli, ["show", "--format", "json", spec]).stdout
        assert f'"notation": "{notation}"' in record


def test_many_unread_lines_get_one_hint_naming_a_better_notation() -> None:
    # the nn.Conv2d( in the prose makes the text look like PyTorch's constructor lines
    spec = parse_text(MIXED, "mixed.txt")
    assert spec.notation == "pytorch"
    hinted = [d for d in spec.diagnostics if "--notation" in d.hint]
    assert len(hinted) == 1 and hinted[0].span.line == 1  # the first unread line
    assert hinted[0].hint.endswith("7 lines cannot be read as pytorch notation (detected); "
                                   "as lecture notation 1 cannot: pass --notation lecture")


def test_no_hint_when_the_notation_was_named_or_errors_are_few() -> None:
    forced = parse_text(MIXED, "mixed.txt", notation="pytorch")
    assert not any("--notation" in d.hint for d in forced.diagnostics)
    few = parse_text("[8x8x3] INPUT\nCNV1: 4 3x3 filters\nCONV2: 4 3x3 filters\n", "few.txt")
    assert [d.code for d in few.diagnostics] == ["P002"]
    assert "--notation" not in few.diagnostics[0].hint
