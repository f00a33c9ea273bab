"""`cnncalc show --format spec` writes any parsed network in the canonical notation, and
reading that text back gives the same analysis: for every shipped spec, in every notation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cnncalc.analyze import Analysis, analyze
from cnncalc.cli import cli
from cnncalc.parse import parse_text
from cnncalc.render.common import layer_record
from cnncalc.render.spec_text import to_spec_text

SPECS = sorted(Path(__file__).resolve().parent.parent.glob("specs/*.txt"))
# names a spec's code uses without binding them, as a user passes them with --define / --input
BINDINGS: dict[str, tuple[dict[str, Any], tuple[int, ...] | None]] = {
    "keras_mnist.txt": ({"num_classes": 10}, (28, 28, 1)),
}


def fingerprint(a: Analysis) -> tuple[object, ...]:
    """Everything the analysis says except where in the text it was said."""
    layers = [{k: v for k, v in layer_record(r).items() if k != "line"} for r in a.layers]
    # as a multiset: diagnostics come in the order of their lines, and a block's lines (one
    # line, many layers) come before its uses, where the rewritten text has a line a layer
    # a size PyTorch or Keras text rounds is information there (I302, "..., as PyTorch
    # does"); rewritten in the canonical notation, whose arithmetic is the lecture's, the
    # same rounding is a G107 warning: one finding, its severity the notation's
    codes = sorted(("G107", d.message.rsplit(", as ", 1)[0]) if d.code == "I302"
                   else (d.code, d.message) for d in a.diagnostics)
    return a.input, a.rounding, layers, a.totals, codes


def analyse(path: Path) -> Analysis:
    defines, volume = BINDINGS.get(path.name, ({}, None))
    spec = parse_text(path.read_text(encoding="utf-8"), str(path), None, defines,
                      volume is not None)
    return analyze(spec, volume)


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_emit_and_read_back_gives_the_same_analysis(path: Path) -> None:
    first = analyse(path)
    text = to_spec_text(first.spec, first.input)
    again = analyze(parse_text(text, str(path)))
    assert again.spec.notation == "lecture"
    assert fingerprint(again) == fingerprint(first), text


def test_every_notation_is_covered() -> None:
    notations = {analyse(p).spec.notation for p in SPECS}
    assert notations >= {"lecture", "keras", "pytorch", "vgg"}


def test_cli_format_spec_round_trips_through_stdin() -> None:
    runner = CliRunner()
    emitted = runner.invoke(cli, ["show", "--format", "spec", "specs/keras_mnist.txt",
                                  "--input", "28x28x1", "--define", "num_classes=10"])
    assert emitted.exit_code == 0, emitted.stderr
    assert emitted.stdout.startswith("# specs/keras_mnist.txt: keras notation")
    assert "ROUNDING: floor" in emitted.stdout
    back = runner.invoke(cli, ["show", "--format", "json", "-"], input=emitted.stdout)
    assert back.exit_code == 0
    assert json.loads(back.stdout)["totals"]["params"] == 1_199_882


def test_names_that_are_not_layer_words_are_quoted() -> None:
    a = analyze(parse_text("[8x8x3] INPUT\nCONV \"features.0\": 4 3x3 filters\n"
                           "MAX POOL1: 2x2 filters\n", "t.txt"))
    text = to_spec_text(a.spec, a.input)
    assert 'CONV "features.0": 4 3x3 filters at stride 1, pad 0' in text
    assert "MAX POOL1: 2x2 filters at stride 2, pad 0" in text
