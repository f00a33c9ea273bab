"""Frozen dataclasses without the start-up cost of dataclasses.

``@record`` stands for ``@dataclass(frozen=True)`` and ``@record_kw`` for
``@dataclass(frozen=True, kw_only=True)``, with the same fields, ``fields()``, ``replace()``,
``__eq__``, ``__hash__``, ``__repr__``, pickling and FrozenInstanceError. What differs is when
the code is made: ``dataclasses`` compiles each method it generates with its own ``exec`` as
the class is defined, some 0.2 ms a method, and the thirty-odd classes ``cnncalc show``
imports took a third of its start-up. Here ``dataclass`` only records the fields; equality,
hashing, repr and the frozen ``__setattr__`` are shared functions that do what the generated
ones do (the fields with ``compare=True``, in order; ``Name(field=value, ...)`` over the
fields with ``repr=True``); and a class's ``__init__`` is compiled the first time the class
is instantiated, from the same fields, the code the generated ``__init__`` of a frozen
dataclass has. A class that defines one of these methods keeps its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, FrozenInstanceError, dataclass, field, fields
from typing import Any, TypeVar, dataclass_transform

_T = TypeVar("_T")

_COMPARED: dict[type, tuple[str, ...]] = {}


def _compared(cls: type) -> tuple[str, ...]:
    names = _COMPARED.get(cls)
    if names is None:
        names = _COMPARED[cls] = tuple(f.name for f in fields(cls) if f.compare)
    return names


def _key(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name in _compared(type(self)))


def _eq(self: Any, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented  # type: ignore[no-any-return]
    return _key(self) == _key(other)


def _hash(self: Any) -> int:
    return hash(_key(self))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
    return f"{type(self).__qualname__}({shown})"


def _setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _compile_init(cls: type) -> Callable[..., None]:
    """The ``__init__`` dataclass would generate for ``cls`` (positional fields first, then
    the keyword-only ones), setting each field with ``object.__setattr__`` as a frozen
    dataclass's does (storing into ``self.__dict__`` instead would make CPython build every
    instance a dictionary of its own: analysing 100,000 layers took 8% longer)."""
    env: dict[str, Any] = {"MISSING": MISSING}
    positional: list[str] = []
    keywords: list[str] = []
    env["__set"] = object.__setattr__  # a name no field can have (a double underscore)
    body: list[str] = []
    for f in fields(cls):
        name = f.name
        if f.default is not MISSING:
            env[f"_d_{name}"] = f.default
            param = f"{name}=_d_{name}"
        elif f.default_factory is not MISSING:
            env[f"_f_{name}"] = f.default_factory
            param = f"{name}=MISSING"
            body.append(f"    if {name} is MISSING: {name} = _f_{name}()")
        else:
            param = name
        (keywords if f.kw_only else positional).append(param)
        body.append(f"    __set(self, {name!r}, {name})")
    params = ", ".join(["self", *positional, *(["*", *keywords] if keywords else [])])
    body = body or ["    pass"]
    # our own generated source, never an input's, as dataclasses compiles its methods
    exec(f"def __init__({params}):\n" + "\n".join(body), env)
    init: Callable[..., None] = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


_PENDING: dict[type, None] = {}  # classes whose __init__ is not compiled yet, in order


def _first_init(cls: type) -> Callable[..., None]:
    """An ``__init__`` that compiles the class's own on its first call and puts it in place."""
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        _compile_pending(cls)
        cls.__init__(self, *args, **kwargs)  # type: ignore[misc]
    _PENDING[cls] = None
    return __init__


def _compile_pending(cls: type) -> None:
    if _PENDING.pop(cls, 0) is None:
        setattr(cls, "__init__", _compile_init(cls))  # noqa: B010 - a class attribute set once


def compile_all() -> None:
    """Compile every ``__init__`` still waiting for its class's first instance (a test that
    forbids ``exec`` while cnncalc reads untrusted text does this first: the code compiled is
    cnncalc's own, from its fields, never the input)."""
    for cls in list(_PENDING):
        _compile_pending(cls)


def _make(cls: type[_T], kw_only: bool) -> type[_T]:
    undocumented = not cls.__doc__
    if undocumented:  # else dataclass writes one with inspect.signature: 4 ms for the first
        cls.__doc__ = cls.__name__
    made = dataclass(init=False, repr=False, eq=False, kw_only=kw_only)(cls)
    if undocumented:  # the text dataclass would give, without the annotations
        made.__doc__ = f"{cls.__name__}({', '.join(vars(made)['__dataclass_fields__'])})"
    own = made.__dict__
    for name, method in (("__eq__", _eq), ("__hash__", _hash), ("__repr__", _repr),
                         ("__setattr__", _setattr), ("__delattr__", _delattr)):
        if name not in own or (name == "__hash__" and own[name] is None):
            setattr(made, name, method)  # on the class: type.__setattr__, not the frozen one
    made.__init__ = _first_init(made)  # type: ignore[method-assign]
    return made


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[_T]) -> type[_T]:
    """``@dataclass(frozen=True)``, made as the module says."""
    return _make(cls, kw_only=False)


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(field,))
def record_kw(cls: type[_T]) -> type[_T]:
    """``@dataclass(frozen=True, kw_only=True)``, made as the module says."""
    return _make(cls, kw_only=True)
