"""Python's own operations on the interpreter's plain values: operators with bounds, the
builtins model code calls (``range``, ``len``, ``zip``, ``enumerate``, ``min``, ``int``...),
and the methods of lists, dicts and strings it uses (``append``, ``extend``, ``items``).

Each is written out here, for plain values only: nothing of the text is handed to Python to
evaluate. An operation on anything else is the framework's, or not followed.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING

from cnncalc.parse.code.values import (
    Class,
    Instance,
    Limits,
    Namespace,
    Native,
    Node,
    Opaque,
    Value,
    describe,
    not_followed,
    over_limit,
)

if TYPE_CHECKING:
    from cnncalc.parse.code.interp import Interp

_NUMBER = (int, float)
_BIG = 10 ** Limits.digits


def charge(it: Interp, n: int, node: Node) -> None:
    """Count the making of ``n`` items (a list built, copied or repeated) as work: one step
    per 16, so that copying long lists again and again is bounded like any loop."""
    it.steps += n >> 4
    if it.steps > Limits.steps:
        raise over_limit(it.src, node, f"more than {Limits.steps:,} steps")


def _int_ok(it: Interp, v: Value, node: Node) -> Value:
    if isinstance(v, list | tuple | str):
        charge(it, len(v), node)
    if type(v) is int and not -_BIG < v < _BIG:
        raise over_limit(it.src, node, f"a number of more than {Limits.digits} digits")
    if type(v) is float and not math.isfinite(v):
        raise over_limit(it.src, node, "a number that is not finite")
    if isinstance(v, str) and len(v) > Limits.text:
        raise over_limit(it.src, node, f"a string of more than {Limits.text:,} characters")
    if isinstance(v, list | tuple) and len(v) > Limits.items:
        raise over_limit(it.src, node, f"a list of more than {Limits.items:,} items")
    return v


def _pow(a: Value, b: Value) -> Value:
    if type(a) is int and type(b) is int and b > 0 and abs(a) > 1 \
            and b * math.log2(abs(a)) > 4 * Limits.digits:
        return 10 ** (Limits.digits + 1)  # reported as too large, never computed
    return a ** b


ARITHMETIC: dict[str, Callable[[Value, Value], Value]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": _pow}


def binop(it: Interp, op: str, a: Value, b: Value, node: Node) -> Value:
    """``a op b`` for numbers, and ``+``/``*`` of strings, lists and tuples."""
    ta, tb = type(a), type(b)
    numbers = ta in (int, float, bool) and tb in (int, float, bool)
    if op == "*" and ((ta in (list, tuple, str) and tb is int) or (tb in (list, tuple, str)
                      and ta is int)):
        seq, n = (a, b) if tb is int else (b, a)
        if n > 0 and len(seq) * n > (Limits.text if isinstance(seq, str) else Limits.items):
            raise over_limit(it.src, node, f"a sequence repeated to more than "
                             f"{Limits.items:,} items")
        return seq * n
    if not numbers and not (op == "+" and ta is tb and ta in (list, tuple, str)):
        raise not_followed(it.src, node, f"`{op}` of {describe(a)} and {describe(b)}")
    if op in ("/", "//", "%") and b == 0:
        raise not_followed(it.src, node, "a division by zero")
    try:
        result = ARITHMETIC[op](a, b)
    except (OverflowError, ValueError, TypeError):
        raise not_followed(it.src, node, f"`{op}` of {a!r} and {b!r}") from None
    if isinstance(result, complex):
        raise not_followed(it.src, node, f"`{op}` of {a!r} and {b!r}, a complex number")
    return _int_ok(it, result, node)


COMPARE: dict[str, Callable[[Value, Value], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge, "is": operator.is_, "is not": operator.is_not,
    "in": lambda a, b: a in b, "not in": lambda a, b: a not in b}

_PLAIN = (int, float, bool, str, type(None), tuple, list, dict, range)


def plain(v: Value) -> bool:
    """Whether ``v`` is made of Python's own values only (so Python may compare it)."""
    if isinstance(v, tuple | list):
        return all(plain(x) for x in v)
    if isinstance(v, dict):
        return all(plain(k) and plain(x) for k, x in v.items())
    return isinstance(v, _PLAIN)


def compare(it: Interp, op: str, a: Value, b: Value, node: Node) -> bool:
    if op in ("is", "is not"):
        return COMPARE[op](a, b)
    if op in ("in", "not in") and isinstance(b, list | tuple | dict) and not plain(a):
        found = any(x is a for x in b)  # `m in modules`: by identity, as objects compare
        return found if op == "in" else not found
    if op in ("==", "!=") and not (plain(a) and plain(b)):
        same = a is b
        return same if op == "==" else not same
    if not (plain(a) and plain(b)):
        raise not_followed(it.src, node, f"`{op}` of {describe(a)} and {describe(b)}")
    try:
        return COMPARE[op](a, b)
    except TypeError:
        raise not_followed(it.src, node, f"`{op}` of {describe(a)} and {describe(b)}") from None


def items(it: Interp, v: Value, node: Node) -> list[Value] | range:
    """What iterating over ``v`` gives; a range stays a range (the loop checks its length)."""
    if isinstance(v, range):
        return v
    if isinstance(v, list | tuple | str):
        return list(v)
    if isinstance(v, dict):
        return list(v)
    if isinstance(v, Opaque | Instance):
        return it.fw.items(it, v, node)
    raise not_followed(it.src, node, f"iterating over {describe(v)}")


def listed(it: Interp, v: Value, node: Node) -> list[Value]:
    """``items`` as a list, bounded."""
    got = items(it, v, node)
    if len(got) > Limits.items:
        raise over_limit(it.src, node, f"a sequence of more than {Limits.items:,} items")
    charge(it, len(got), node)
    return list(got)


def _need(it: Interp, node: Node, name: str, args: list[Value], low: int, high: int) -> None:
    if not low <= len(args) <= high:
        raise not_followed(it.src, node, f"a call of `{name}` with {len(args)} arguments")


def _numbers(it: Interp, node: Node, name: str, args: list[Value]) -> None:
    for a in args:
        if type(a) not in (int, float, bool):
            raise not_followed(it.src, node, f"`{name}` of {describe(a)}")


def _range(it: Interp, a: list[Value], kw: dict[str, Value], node: Node) -> Value:
    _need(it, node, "range", a, 1, 3)
    if kw or any(type(x) is not int for x in a):
        raise not_followed(it.src, node, "`range` of something other than whole numbers")
    if len(a) == 3 and a[2] == 0:
        raise not_followed(it.src, node, "a `range` with step 0")
    return range(*a)


def _len(it: Interp, a: list[Value], kw: dict[str, Value], node: Node) -> Value:
    _need(it, node, "len", a, 1, 1)
    if isinstance(a[0], list | tuple | dict | str | range):
        return len(a[0])
    return len(items(it, a[0], node))


def _zip(it: Interp, a: list[Value], kw: dict[str, Value], node: Node) -> Value:
    return list(zip(*(listed(it, x, node) for x in a), strict=False))


def _enumerate(it: Interp, a: list[Value], kw: dict[str, Value], node: Node) -> Value:
    _need(it, node, "enumerate", a, 1, 2)
    start = a[1] if len(a) == 2 else kw.get("start", 0)
    if type(start) is not int:
        raise not_followed(it.src, node, f"`enumerate` from {describe(start)}")
    return list(enumerate(listed(it, a[0], node), start))


def _convert(kind: type) -> Callable[[Interp, list[Value], dict[str, Value], Node], Value]:
    def convert(it: Interp, a: list[Value], kw: dict[str, Value], node: Node) -> Value:
        name = kind.__name__
        if kind in (list, tuple):
            return kind(listed(it, a[0], node)) if a else kind()
        if kind is dict:
            pairs = listed(it, a[0], node) if a else []
            if not all(isinstance(p, tuple | list) and len(p) == 2 for p in pairs):
                raise not_followed(it.src, node, "`dict` of items that are not pairs")
            return {**dict(pairs), **kw}
        _need(it, node, name, a, 0, 1)
        if a and not isinstance(a[0], int | float | bool | str):
            raise not_followed(it.src, node, f"`{name}` of {describe(a[0])}")
        try:
            return _int_ok(it, kind(*a), node)
        except (ValueError, OverflowError):
            raise not_followed(it.src, node, f"`{name}` of {a[0]!r}") from None
    return convert


def _minmax(pick: Callable[..., Value]) -> Callable[[Interp, list[Value], dict[str, Value],
                                                     Node], Value]:
    def fn(it: Interp, a: list[Value], kw: dict[str, Value], node: Node) -> Value:
        values = listed(it, a[0], node) if len(a) == 1 else a
        _numbers(it, node, pick.__name__, values)
        if not values:
            raise not_followed(it.src, node, f"`{pick.__name__}` of nothing")
        return pick(values)
    return fn


def _sum(it: Interp, a: list[Value], kw: dict[str, Value], node: Node) -> Value:
    values = listed(it, a[0], node)
    _numbers(it, node, "sum", values)
    return _int_ok(it, sum(values, a[1] if len(a) > 1 else 0), node)


def _math1(name: str, fn: Callable[..., Value]) -> Native:
    def call(it: Interp, a: list[Value], kw: dict[str, Value], node: Node) -> Value:
        _numbers(it, node, name, a)
        try:
            return _int_ok(it, fn(*a), node)
        except (ValueError, TypeError, OverflowError, ZeroDivisionError):
            raise not_followed(it.src, node, f"`{name}` of {a!r}") from None
    return Native(name, call)


def _isinstance(it: Interp, a: list[Value], kw: dict[str, Value], node: Node) -> Value:
    _need(it, node, "isinstance", a, 2, 2)
    obj, kinds = a
    for k in (kinds if isinstance(kinds, tuple) else (kinds,)):
        if isinstance(k, Class):
            if isinstance(obj, Instance) and any(c is k for c in obj.cls.mro()):
                return True
        elif isinstance(k, Namespace):
            found = it.fw.is_instance(obj, k.name)
            if found is None:
                raise not_followed(it.src, node, f"`isinstance` of `{k.name}`")
            if found:
                return True
        elif isinstance(k, Native) and k.name in _TYPES:
            if type(obj) is _TYPES[k.name] or (k.name == "int" and type(obj) is bool):
                return True
        else:
            raise not_followed(it.src, node, f"`isinstance` of {describe(k)}")
    return False


_TYPES: dict[str, type] = {"int": int, "float": float, "bool": bool, "str": str, "list": list,
                           "tuple": tuple, "dict": dict}


def _nothing(it: Interp, a: list[Value], kw: dict[str, Value], node: Node) -> Value:
    return None


def _truths(pick: Callable[..., bool]) -> Callable[[Interp, list[Value], dict[str, Value],
                                                    Node], Value]:
    def fn(it: Interp, a: list[Value], kw: dict[str, Value], node: Node) -> Value:
        return pick(it.truth(x, node) for x in listed(it, a[0], node))
    return fn


BUILTINS: dict[str, Value] = {
    "range": Native("range", _range), "len": Native("len", _len),
    "zip": Native("zip", _zip), "enumerate": Native("enumerate", _enumerate),
    "min": Native("min", _minmax(min)), "max": Native("max", _minmax(max)),
    "sum": Native("sum", _sum), "abs": _math1("abs", abs), "round": _math1("round", round),
    "divmod": _math1("divmod", divmod),
    "reversed": Native("reversed", lambda it, a, kw, n: listed(it, a[0], n)[::-1]),
    "sorted": Native("sorted", lambda it, a, kw, n: _method("sorted", sorted).fn(
        it, [listed(it, a[0], n)], {}, n)),
    "any": Native("any", _truths(any)), "all": Native("all", _truths(all)),
    "isinstance": Native("isinstance", _isinstance),
    "print": Native("print", _nothing),  # prints nothing: the text is not run
    "object": Namespace("builtins.object"),
    **{t.__name__: Native(t.__name__, _convert(t))
       for t in (int, float, bool, str, list, tuple, dict)},
    "True": True, "False": False, "None": None,
}

STDLIB: dict[str, Value] = {
    "math.ceil": _math1("math.ceil", math.ceil), "math.floor": _math1("math.floor", math.floor),
    "math.gcd": _math1("math.gcd", math.gcd), "math.sqrt": _math1("math.sqrt", math.sqrt),
    "math.log2": _math1("math.log2", math.log2), "math.pi": math.pi,
    "collections.OrderedDict": Native("OrderedDict", _convert(dict)),
}
"""Names of the standard library that model code uses to compute sizes."""


def _append(seq: list[Value]) -> Native:
    def fn(it: Interp, a: list[Value], kw: dict[str, Value], node: Node) -> Value:
        if len(seq) >= Limits.items:
            raise over_limit(it.src, node, f"a list of more than {Limits.items:,} items")
        seq.append(a[0])
        return None
    return Native("append", fn)


def _extend(seq: list[Value]) -> Native:
    def fn(it: Interp, a: list[Value], kw: dict[str, Value], node: Node) -> Value:
        more = listed(it, a[0], node)
        if len(seq) + len(more) > Limits.items:
            raise over_limit(it.src, node, f"a list of more than {Limits.items:,} items")
        seq.extend(more)
        return None
    return Native("extend", fn)


def _method(name: str, fn: Callable[..., Value]) -> Native:
    def call(it: Interp, a: list[Value], kw: dict[str, Value], node: Node) -> Value:
        try:
            return _int_ok(it, fn(*a, **kw), node)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError):
            raise not_followed(it.src, node, f"this call of `{name}`") from None
    return Native(name, call)


_LIST = frozenset(("insert", "pop", "index", "count", "copy", "reverse"))
_DICT = frozenset(("get", "keys", "values", "items", "copy", "pop", "update", "setdefault"))
_STR = frozenset(("format", "join", "upper", "lower", "startswith", "endswith", "replace",
                  "split", "strip"))


def method(it: Interp, obj: Value, name: str, node: Node) -> Value:
    """``obj.name`` of a list, dict or string: the methods model code uses, as Natives."""
    if isinstance(obj, list):
        if name == "append":
            return _append(obj)
        if name == "extend":
            return _extend(obj)
        if name in _LIST:
            return _method(name, getattr(obj, name))
    elif isinstance(obj, dict):
        if name in ("keys", "values", "items"):
            return Native(name, lambda it, a, kw, n: list(getattr(obj, name)()))
        if name in _DICT:
            return _method(name, getattr(obj, name))
    elif isinstance(obj, str) and name in _STR:
        if name == "format":
            return Native(name, lambda it, a, kw, n: _format(it, obj, a, kw, n))
        return _method(name, getattr(obj, name))
    elif isinstance(obj, tuple) and name in ("index", "count"):
        return _method(name, getattr(obj, name))
    raise not_followed(it.src, node, f"`.{name}` of {describe(obj)}")


def _format(it: Interp, text: str, a: list[Value], kw: dict[str, Value], node: Node) -> Value:
    """``str.format`` of numbers and text into plain fields (``{}``, ``{0}``, ``{name:3d}``):
    a field that reaches into its value (``{0.real}``, ``{0[1]}``) is not followed."""
    import string  # only for the rare format string: not at start-up

    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f]
    except ValueError:
        fields = ["."]
    if any("." in f or "[" in f for f in fields) or not all(
            isinstance(x, int | float | str) for x in [*a, *kw.values()]):
        raise not_followed(it.src, node, "a `format` of other than numbers and text into "
                           "plain fields")
    try:
        return _int_ok(it, text.format(*a, **kw), node)
    except (IndexError, KeyError, ValueError):
        raise not_followed(it.src, node, "this `format` string") from None
