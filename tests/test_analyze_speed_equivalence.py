"""The shortcuts analyze() and layers.compute() take for speed give what the plain code gives.

- ``VALID`` says a layer is valid exactly when ``invalid_values`` reports nothing;
- ``RULES`` has a rule for every layer class, and ``rule_for`` picks for a subclass what the
  chain of isinstance tests it replaced would have picked.
"""

from __future__ import annotations

import dataclasses
import itertools
from fractions import Fraction

import pytest

from cnncalc import spec as spec_module
from cnncalc.analyze import analyze
from cnncalc.graph_rules import RESHAPE_RULES
from cnncalc.layers import RULES, Field, Invalid, compute, rule_for
from cnncalc.parse import parse_text
from cnncalc.records import record_kw
from cnncalc.spec import (
    AdaptivePool,
    Conv,
    Dense,
    Dropout,
    Layer,
    Padding,
    Pool,
    Span,
    Unparsed,
    ZeroPad,
)
from cnncalc.validity import VALID, invalid_values

AT = Span("t.txt", 1, 1, 2)
LAYER_CLASSES = [c for c in vars(spec_module).values()
                 if isinstance(c, type) and issubclass(c, Layer) and c is not Layer]


def test_every_layer_class_has_a_rule_and_a_validity_test() -> None:
    """Merges are computed from all their inputs (graph_rules.merge), the rest by a rule."""
    assert set(LAYER_CLASSES) <= {*RULES, *RESHAPE_RULES, spec_module.Merge}
    assert set(LAYER_CLASSES) <= set(VALID)


def test_rule_for_a_subclass_is_its_base_classes_rule() -> None:
    @record_kw  # as every layer class is made
    class MyConv(Conv):
        pass

    @record_kw
    class Odd(Layer):
        pass

    assert rule_for(MyConv) is RULES[Conv]
    assert rule_for(Odd) is RULES[Unparsed]
    layer = MyConv(name="C", span=AT, filters=4, kernel=(3, 3))
    assert compute(layer, (8, 8, 3), Field(), "strict").output == (6, 6, 4)
    with pytest.raises(Invalid):
        compute(Odd(name="X", span=AT), (8, 8, 3), Field(), "strict")
    # a subclass analyses as its base class does (the validity shortcut is skipped)
    text = "[8x8x3] INPUT\nCONV: 4 3x3 filters, stride 0\n"
    parsed = parse_text(text, "t.txt")
    sub = dataclasses.replace(parsed, layers=tuple(
        MyConv(**{f.name: getattr(x, f.name) for f in dataclasses.fields(x)})
        for x in parsed.layers))
    assert analyze(sub).diagnostics == analyze(parsed).diagnostics


VALUES = (-1, 0, 1, 2)


def _layers() -> list[Layer]:
    out: list[Layer] = []
    pairs = [(a, b) for a in VALUES for b in (0, 1)]
    for kernel, stride, pad, dilation in itertools.product(pairs, pairs, (-1, 0), pairs):
        padding = Padding("explicit", (pad, 0), (0, 0))
        out.append(Pool(name="P", span=AT, op="max", kernel=kernel, stride=stride,
                        padding=padding, dilation=dilation))
        out.append(Conv(name="C", span=AT, filters=1, kernel=kernel, stride=stride,
                        padding=padding, dilation=dilation))
    for filters, groups, multiplier, output_padding in itertools.product(
            VALUES, VALUES, (None, 0, 1, 2), pairs):
        out.append(Conv(name="C", span=AT, filters=filters, kernel=(3, 3), groups=groups,
                        depth_multiplier=multiplier, output_padding=output_padding,
                        transposed=True))
    for h, w in itertools.product(pairs, pairs):
        out.append(ZeroPad(name="Z", span=AT, padding=Padding("explicit", h, w)))
        out.append(AdaptivePool(name="A", span=AT, op="avg", output=(h[0], w[0])))
    out += [Dense(name="FC", span=AT, units=u) for u in VALUES]
    out += [Dropout(name="D", span=AT, p=Fraction(p))
            for p in ("-0.1", 0, "0.5", "0.999", 1, "1.5")]
    return out


def test_valid_exactly_when_noinvalid_values() -> None:
    layers = _layers()
    assert sum(not invalid_values(x) for x in layers) > 50 < sum(
        bool(invalid_values(x)) for x in layers)
    for layer in layers:
        assert VALID[type(layer)](layer) == (not invalid_values(layer)), layer
