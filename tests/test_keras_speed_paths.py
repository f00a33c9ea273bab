"""The Keras front end's fast paths give what the general ones do.

Layers are made without their dataclass ``__init__`` (``keras_layers._quick``), and most spans
are worked out on an ASCII-only path; both must be indistinguishable from the slow way.
"""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pytest
from helpers import SPECS

from cnncalc import spec
from cnncalc.parse import parse_text
from cnncalc.parse.keras_builders import _quick
from cnncalc.spec import Padding, Span

_SPAN = Span("m.py", 3, 5, 9)
_MADE: list[tuple[type[spec.Layer], dict[str, Any]]] = [
    (spec.Conv, {"name": "c", "span": _SPAN, "filters": 8, "kernel": (3, 3), "stride": (2, 2),
                 "padding": Padding.same(), "bias": False, "fields": (("kernel", _SPAN),)}),
    (spec.Conv, {"name": "d", "span": _SPAN, "filters": 0, "kernel": (3, 3),
                 "depth_multiplier": 2}),
    (spec.Pool, {"name": "p", "span": _SPAN, "op": "max", "kernel": (2, 2), "stride": (2, 2)}),
    (spec.GlobalPool, {"name": "g", "span": _SPAN, "op": "avg", "keepdims": True}),
    (spec.BatchNorm, {"name": "b", "span": _SPAN, "center": False, "scale": True}),
    (spec.Dropout, {"name": "r", "span": _SPAN, "p": 0.5}),
    (spec.Dense, {"name": "f", "span": _SPAN, "units": 10, "bias": True}),
    (spec.ZeroPad, {"name": "z", "span": _SPAN, "padding": Padding("explicit", (0, 1), (0, 1))}),
    (spec.Flatten, {"name": "l", "span": _SPAN}),
    (spec.Activation, {"name": "a", "span": _SPAN, "fn": "relu6"}),
]


@pytest.mark.parametrize(("cls", "given"), _MADE)
def test_quick_layers_are_the_dataclass_s_own(cls: type[spec.Layer],
                                               given: dict[str, Any]) -> None:
    made, plain = _quick(cls)(**given), cls(**given)
    assert type(made) is cls and made == plain and repr(made) == repr(plain)
    assert hash(made) == hash(plain) and list(vars(made).items()) == list(vars(plain).items())
    assert pickle.dumps(made) == pickle.dumps(plain) and pickle.loads(pickle.dumps(made)) == plain
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.name = "x"  # type: ignore[misc]


@pytest.mark.parametrize("given", [
    {"name": "c", "span": _SPAN, "filters": 8},  # no kernel
    {"name": "c", "span": _SPAN, "filters": 8, "kernel": (3, 3), "strides": 2},  # no such field
])
def test_quick_rejects_a_call_as_the_class_does(given: dict[str, Any]) -> None:
    with pytest.raises(TypeError) as plain:
        spec.Conv(**given)
    with pytest.raises(TypeError) as made:
        _quick(spec.Conv)(**given)
    assert str(made.value) == str(plain.value)


def test_a_class_quick_cannot_build_is_called_as_is() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Slotted:
        x: int = 0

    @dataclasses.dataclass(frozen=True)
    class Checked:
        x: int = 0

        def __post_init__(self) -> None:
            assert self.x >= 0

    assert _quick(Slotted) is Slotted and _quick(Checked) is Checked  # type: ignore[type-var]


_CODE = [
    (SPECS / "keras_mobilenet.txt").read_text(encoding="utf-8"),
    (SPECS / "keras_mnist.txt").read_text(encoding="utf-8"),
    "model = Sequential([\n\tConv2D(8, (3,3),\n\t\tstrides = 2, padding='same',\n"
    "\t\tinput_shape=(32, 32, 3)),\n\tDense(units=4, foo=1),\n\tMaxPooling2D(pool_size=0),\n])\n",
    "model = Sequential()\r\nmodel.add(Conv2D(4, kernel_size=(3, 3), input_shape=(9, 9, 1)))\r\n"
    "model.add(Conv2D(4, 3, strides=x))\rmodel.add(Dense(num_classes, activation=f(1)))",
    "x = (1,\n 2)\nmodel.add(Conv2D(4, (3, 3), padding='sam', input_shape=(8, 8, 3), name=x))\n"
    "model.add(ZeroPadding2D(((0, 1), (0, 1))))\nmodel.add(Dropout(rate='a'))\n",
]


@pytest.mark.parametrize("code", _CODE)
def test_ascii_spans_are_the_general_ones(code: str) -> None:
    """A last line with a non-ASCII comment sends every span through the general path, and
    moves no column on the lines above it."""
    fast = parse_text(code, "m.py", "keras", {}, False)
    slow = parse_text(code.rstrip("\r\n") + "\n# é\n", "m.py", "keras", {}, False)
    assert repr(fast.layers) == repr(slow.layers)
    assert repr(fast.diagnostics) == repr(slow.diagnostics)
    assert (fast.input, fast.input_span) == (slow.input, slow.input_span)
