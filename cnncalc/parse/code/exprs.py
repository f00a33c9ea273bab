"""Expressions: each kind of ``ast`` node the interpreter follows, and what it makes of it.

A node kind not in :data:`Expressions.DISPATCH` (a lambda, a walrus, an ``await``) is one P021
naming it. Operations on a framework's objects go to the framework; on plain values to
:mod:`.pyops`.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cnncalc.parse.code import pyops
from cnncalc.parse.code.values import (
    Bound,
    Class,
    Framework,
    Func,
    Instance,
    Limits,
    Namespace,
    Native,
    Opaque,
    Poison,
    Source,
    Stop,
    Value,
    describe,
    not_followed,
    over_limit,
)

if TYPE_CHECKING:
    from cnncalc.parse.code.interp import Interp

_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
        ast.Mod: "%", ast.Pow: "**", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
        ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}
_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
        ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
_NAMES = {ast.Lambda: "a lambda", ast.NamedExpr: "an assignment expression (`:=`)",
          ast.Await: "`await`", ast.Yield: "`yield`", ast.YieldFrom: "`yield from`",
          ast.Set: "a set", ast.SetComp: "a set comprehension"}


def op_name(op: ast.operator) -> str:
    return _OPS.get(type(op), type(op).__name__)


class Expressions:
    """The expression half of :class:`~.interp.Interp`."""

    src: Source
    fw: Framework
    scopes: tuple[dict[str, Value], ...]
    nest: int

    def call(self, fn: Value, args: list[Value], kwargs: dict[str, Value],
             node: ast.AST) -> Value:
        raise NotImplementedError

    it: Interp  # itself, as the interpreter the operations are written for

    def truth(self, v: Value, node: ast.AST) -> bool:
        if isinstance(v, Opaque):
            raise not_followed(self.src, node, f"the truth of {describe(v)}")
        if isinstance(v, Poison):
            raise v.stop
        return bool(v)

    def eval(self, node: ast.expr) -> Value:
        """The value of an expression. ``nest`` counts the expressions in progress; an
        exception that passes through here ends the run (or is a function's return,
        raised by a statement, outside any expression of its body), so no ``finally``."""
        kind = type(node)
        if kind is ast.Name:  # a third of all nodes, and they nest nothing
            return self.lookup(node.id, node)  # type: ignore[attr-defined]
        if kind is ast.Constant:
            v = node.value  # type: ignore[attr-defined]
            if type(v) is int and -_SMALL < v < _SMALL:
                return v
        self.nest += 1
        if self.nest > Limits.nesting:
            raise over_limit(self.src, node, f"expressions nested more than "
                             f"{Limits.nesting} deep")
        how = DISPATCH.get(kind)
        if how is None:
            raise not_followed(self.src, node, _NAMES.get(
                type(node), f"a `{type(node).__name__}` expression"))
        value = how(self, node)
        self.nest -= 1
        return value

    def lookup(self, name: str, node: ast.AST) -> Value:
        for scope in self.scopes:
            v = scope.get(name, _MISSING)
            if v is not _MISSING:
                if type(v) is Poison:
                    raise v.stop
                return v
        special = self.special(name)
        if special is not _MISSING:
            return special
        if name in pyops.BUILTINS:
            return pyops.BUILTINS[name]
        if name in _PYTHON_BUILTINS:
            return Native(name, _refused(name))
        raise Stop(_unbound(self.src, node, name))

    def special(self, name: str) -> Value:
        """A name the interpreter itself gives a meaning (``super``); ``_MISSING`` if not."""
        return _MISSING

    def _name(self, node: ast.Name) -> Value:
        return self.lookup(node.id, node)

    def _constant(self, node: ast.Constant) -> Value:
        v = node.value
        if v is None or isinstance(v, bool | int | float | str):
            return pyops._int_ok(self.it, v, node)
        raise not_followed(self.src, node, f"a {type(v).__name__} constant")

    def _sequence(self, node: ast.Tuple | ast.List) -> Value:
        out: list[Value] = []
        for e in node.elts:
            if isinstance(e, ast.Starred):
                out.extend(pyops.listed(self.it, self.eval(e.value), e))
            else:
                out.append(self.eval(e))
        if len(out) > Limits.items:
            raise over_limit(self.src, node, f"a list of more than {Limits.items:,} items")
        return tuple(out) if isinstance(node, ast.Tuple) else out

    def _dict(self, node: ast.Dict) -> Value:
        out: dict[Value, Value] = {}
        for k, v in zip(node.keys, node.values, strict=True):
            if k is None:
                more = self.eval(v)
                if not isinstance(more, dict):
                    raise not_followed(self.src, v, f"`**` of {describe(more)}")
                out.update(more)
                continue
            key = self.eval(k)
            if not isinstance(key, int | str | tuple):
                raise not_followed(self.src, k, f"a dict key that is {describe(key)}")
            out[key] = self.eval(v)
        return out

    def _binop(self, node: ast.BinOp) -> Value:
        return self.operate(op_name(node.op), self.eval(node.left), self.eval(node.right),
                            node)

    def operate(self, op: str, a: Value, b: Value, node: ast.AST) -> Value:
        if isinstance(a, Opaque) or isinstance(b, Opaque):
            return self.fw.operator(self.it, op, a, b, node)
        if op not in pyops.ARITHMETIC:
            raise not_followed(self.src, node, f"the operator `{op}`")
        return pyops.binop(self.it, op, a, b, node)

    def _unary(self, node: ast.UnaryOp) -> Value:
        v = self.eval(node.operand)
        if isinstance(node.op, ast.Not):
            return not self.truth(v, node)
        if type(v) not in (int, float, bool):
            raise not_followed(self.src, node, f"a sign on {describe(v)}")
        if isinstance(node.op, ast.USub):
            return -v
        if isinstance(node.op, ast.UAdd):
            return +v
        raise not_followed(self.src, node, "the operator `~`")

    def _boolop(self, node: ast.BoolOp) -> Value:
        v: Value = None
        for e in node.values:
            v = self.eval(e)
            if self.truth(v, e) != isinstance(node.op, ast.And):
                return v
        return v

    def _compare(self, node: ast.Compare) -> Value:
        left = self.eval(node.left)
        for op, e in zip(node.ops, node.comparators, strict=True):
            right = self.eval(e)
            if not pyops.compare(self.it, _CMP[type(op)], left, right, node):
                return False
            left = right
        return True

    def _ifexp(self, node: ast.IfExp) -> Value:
        return self.eval(node.body if self.truth(self.eval(node.test), node) else node.orelse)

    def _fstring(self, node: ast.JoinedStr) -> Value:
        parts: list[str] = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
                continue
            assert isinstance(v, ast.FormattedValue)
            x = self.eval(v.value)
            if v.format_spec is not None or v.conversion != -1 or not isinstance(
                    x, int | float | str):
                raise not_followed(self.src, v, "an f-string field other than a plain number "
                                   "or text")
            parts.append(str(x))
        return pyops._int_ok(self.it, "".join(parts), node)

    def _slice(self, node: ast.Slice) -> Value:
        parts = [None if p is None else self.eval(p) for p in (node.lower, node.upper, node.step)]
        if not all(p is None or type(p) is int for p in parts):
            raise not_followed(self.src, node, "a slice bound that is not a whole number")
        return slice(*parts)

    def _subscript(self, node: ast.Subscript) -> Value:
        obj, index = self.eval(node.value), self.eval(node.slice)
        if isinstance(obj, Opaque | Instance):
            return self.fw.subscript(self.it, obj, index, node)
        if (isinstance(obj, list | tuple | str | range) and type(index) in (int, slice)) \
                or (isinstance(obj, dict) and isinstance(index, int | str | tuple)):
            try:
                return obj[index]
            except (IndexError, KeyError):
                raise not_followed(self.src, node, f"`[{index!r}]` of {describe(obj)} "
                                   f"(there is no such item)") from None
        raise not_followed(self.src, node, f"indexing {describe(obj)} with {describe(index)}")

    def _attribute(self, node: ast.Attribute) -> Value:
        obj = self.eval(node.value)
        if type(obj) is Instance:  # `self.conv1`, the commonest: an attribute it has set
            v = obj.attrs.get(node.attr, _MISSING)
            if v is not _MISSING:
                return v
        return self.attribute(obj, node.attr, node)

    def attribute(self, obj: Value, name: str, node: ast.AST) -> Value:
        if name.startswith("__") and name.endswith("__") and name not in ("__name__",):
            raise not_followed(self.src, node, f"the attribute `{name}`")
        if isinstance(obj, Namespace):
            return Namespace(f"{obj.name}.{name}")
        if isinstance(obj, Instance):
            if name in obj.attrs:
                return obj.attrs[name]
            found = obj.cls.lookup(name)
            if found is not None:
                v, _ = found
                return Bound(v, obj) if isinstance(v, Func) and not v.static else v
            return self.fw.get_attr(self.it, obj, name, node)
        if isinstance(obj, Class):
            found = obj.lookup(name)
            if found is None:
                raise not_followed(self.src, node, f"`{obj.name}.{name}`, which the class "
                                   "does not define")
            return found[0]
        if isinstance(obj, Opaque):
            return self.fw.get_attr(self.it, obj, name, node)
        return pyops.method(self.it, obj, name, node)

    def _call(self, node: ast.Call) -> Value:
        fn = self.eval(node.func)
        args: list[Value] = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                args.extend(pyops.listed(self.it, self.eval(a.value), a))
            else:
                args.append(self.eval(a))
        kwargs: dict[str, Value] = {}
        for k in node.keywords:
            v = self.eval(k.value)
            if k.arg is not None:
                kwargs[k.arg] = v
            elif isinstance(v, dict) and all(isinstance(x, str) for x in v):
                kwargs.update(v)
            else:
                raise not_followed(self.src, k, f"`**` of {describe(v)}")
        return self.call(fn, args, kwargs, node)

    def _comprehension(self, node: ast.ListComp | ast.GeneratorExp | ast.DictComp) -> Value:
        out: list[Value] = []
        scope: dict[str, Value] = {}
        outer = self.scopes
        self.scopes = (scope, *outer)
        try:
            self._generate(node, node.generators, 0, scope, out)
        finally:
            self.scopes = outer
        if isinstance(node, ast.DictComp):
            if not all(isinstance(k, int | str | tuple) for k, _ in out):
                raise not_followed(self.src, node, "a dict key that is not a number or text")
            return dict(out)
        return out

    def _generate(self, node: ast.ListComp | ast.GeneratorExp | ast.DictComp,
                  gens: list[ast.comprehension], k: int, scope: dict[str, Value],
                  out: list[Value]) -> None:
        if k == len(gens):
            if len(out) >= Limits.iterations:
                raise over_limit(self.src, node, f"a comprehension of more than "
                                 f"{Limits.iterations:,} items")
            if isinstance(node, ast.DictComp):
                out.append((self.eval(node.key), self.eval(node.value)))
            else:
                out.append(self.eval(node.elt))
            return
        gen = gens[k]
        if gen.is_async:
            raise not_followed(self.src, gen.iter, "an `async` comprehension")
        seq = pyops.items(self.it, self.eval(gen.iter), gen.iter)
        if len(seq) > Limits.iterations:
            raise over_limit(self.src, gen.iter, f"a comprehension over {len(seq):,} items "
                             f"(more than {Limits.iterations:,})")
        for item in seq:
            self.assign(gen.target, item, scope)
            if all(self.truth(self.eval(c), c) for c in gen.ifs):
                self._generate(node, gens, k + 1, scope, out)

    def assign(self, target: ast.expr, value: Value, scope: dict[str, Value]) -> None:
        raise NotImplementedError


_PYTHON_BUILTINS = frozenset(dir(builtins))
_MISSING = object()
_SMALL = 10 ** 9  # an int literal below this needs no check of its size


def _refused(name: str) -> Callable[..., Value]:
    """A builtin of Python that cnncalc does not follow: an error where it is called."""
    def fn(it: Any, args: list[Value], kwargs: dict[str, Value], node: ast.AST) -> Value:
        raise not_followed(it.src, node, f"a call of `{name}`")
    return fn


def _unbound(src: Source, node: ast.AST, name: str) -> Any:
    from cnncalc.diagnostics import Diagnostic

    return Diagnostic(src.span(node), "P008", f"`{name}` has no value here",
                      "cnncalc follows the names the file defines above their use, imports, "
                      "and --define NAME=VALUE")


DISPATCH: dict[type[ast.AST], Callable[[Any, Any], Value]] = {
    ast.Name: Expressions._name, ast.Constant: Expressions._constant,
    ast.Tuple: Expressions._sequence, ast.List: Expressions._sequence,
    ast.Dict: Expressions._dict, ast.BinOp: Expressions._binop,
    ast.UnaryOp: Expressions._unary, ast.BoolOp: Expressions._boolop,
    ast.Compare: Expressions._compare, ast.IfExp: Expressions._ifexp,
    ast.JoinedStr: Expressions._fstring, ast.Slice: Expressions._slice,
    ast.Subscript: Expressions._subscript, ast.Attribute: Expressions._attribute,
    ast.Call: Expressions._call, ast.ListComp: Expressions._comprehension,
    ast.GeneratorExp: Expressions._comprehension, ast.DictComp: Expressions._comprehension,
}
