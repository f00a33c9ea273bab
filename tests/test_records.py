"""cnncalc.records: ``@record`` behaves as ``@dataclass(frozen=True)`` and ``@record_kw`` as
``@dataclass(frozen=True, kw_only=True)``, compared with the real ones on the same fields."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass, field

import pytest

from cnncalc.records import record, record_kw


@record
class Made:
    a: int
    b: str = "x"
    c: tuple[int, ...] = field(default=(), compare=False)
    d: list[int] = field(default_factory=list, repr=False, compare=False)


@dataclass(frozen=True)
class Plain:
    a: int
    b: str = "x"
    c: tuple[int, ...] = field(default=(), compare=False)
    d: list[int] = field(default_factory=list, repr=False, compare=False)


@record_kw
class MadeKw(Made):
    e: int = 5


@dataclass(frozen=True, kw_only=True)
class PlainKw(Plain):
    e: int = 5


@pytest.mark.parametrize(("args", "kwargs"), [((1,), {}), ((2, "y"), {"c": (3,)}),
                                              ((), {"a": 4, "d": [1]})])
def test_a_record_is_the_frozen_dataclass(args: tuple, kwargs: dict) -> None:  # type: ignore[type-arg]
    made, plain = Made(*args, **kwargs), Plain(*args, **kwargs)
    assert vars(made) == vars(plain) and list(vars(made)) == list(vars(plain))
    assert repr(made) == repr(plain).replace("Plain", "Made")
    assert (made == Made(*args, **kwargs)) and made != Made(99)
    assert dataclasses.replace(made, c=(9,)) == made  # c is not compared, as in Plain
    assert hash(made) == hash(dataclasses.replace(made, c=(9,)))
    assert made.__eq__(plain) is NotImplemented
    assert pickle.loads(pickle.dumps(made)) == made
    assert [f.name for f in dataclasses.fields(made)] == ["a", "b", "c", "d"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.a = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del made.a  # type: ignore[misc]


def test_default_factories_give_each_instance_its_own() -> None:
    one, two = Made(1), Made(1)
    assert one.d == [] and one.d is not two.d


def test_keyword_only_fields_and_subclasses() -> None:
    made, plain = MadeKw(1, e=7), PlainKw(1, e=7)
    assert vars(made) == vars(plain) and repr(made) == repr(plain).replace("PlainKw", "MadeKw")
    with pytest.raises(TypeError):
        MadeKw(1, "y", (), [], 7)  # type: ignore[misc]
    with pytest.raises(TypeError):
        Made()  # type: ignore[call-arg]
    assert MadeKw(1) != Made(1)  # another class: not equal, as dataclasses compare
