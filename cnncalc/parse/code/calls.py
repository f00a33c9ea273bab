"""Calls: of the file's functions (arguments bound as Python binds them: defaults,
keywords, ``*args``, ``**kwargs``), of its classes (an instance, its ``__init__`` run, and
``super()`` up the MRO to a framework's base), of cnncalc's own functions, and of what a
framework makes. Each call counts as a step; calls in progress are at most
``Limits.depth``.
"""

from __future__ import annotations

import ast

from cnncalc.parse.code import pyops
from cnncalc.parse.code.exprs import Expressions
from cnncalc.parse.code.values import (
    Bound,
    Class,
    Func,
    Instance,
    Limits,
    Namespace,
    Native,
    Opaque,
    Poison,
    Value,
    describe,
    not_followed,
    over_limit,
)


class _Return(Exception):
    def __init__(self, value: Value, node: ast.AST) -> None:
        super().__init__()
        self.value, self.node = value, node


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Super:
    """``super()``: the classes after ``after`` in the MRO of ``obj``'s class."""

    def __init__(self, after: Class, obj: Instance) -> None:
        self.after, self.obj = after, obj


class Calls(Expressions):
    """The call half of :class:`~.interp.Interp`."""

    depth: int
    steps: int
    owners: list[tuple[Class | None, Value]]
    returned: ast.AST | None  # where the last call to end returned (its `return`, or its def)

    def block(self, body: list[ast.stmt], scope: dict[str, Value]) -> None:
        raise NotImplementedError

    def call(self, fn: Value, args: list[Value], kwargs: dict[str, Value],
             node: ast.AST) -> Value:
        self.steps += 1
        if self.steps > Limits.steps:
            raise over_limit(self.src, node, f"more than {Limits.steps:,} steps")
        if isinstance(fn, Native):
            return fn.fn(self.it, args, kwargs, node)
        if isinstance(fn, Bound):
            owner = fn.func.owner
            return self.run(fn.func, [fn.obj, *args], kwargs, node, owner, fn.obj)
        if isinstance(fn, Func):
            return self.run(fn, args, kwargs, node, None, args[0] if args else None)
        if isinstance(fn, Class):
            return self.instantiate(fn, args, kwargs, node)
        if isinstance(fn, Namespace):
            if fn.name in pyops.STDLIB:
                return self.call(pyops.STDLIB[fn.name], args, kwargs, node)
            return self.fw.call_name(self.it, fn.name, args, kwargs, node)
        if isinstance(fn, Instance | Opaque):
            return self.fw.call_object(self.it, fn, args, kwargs, node)
        if isinstance(fn, Poison):
            raise fn.stop
        raise not_followed(self.src, node, f"calling {describe(fn)}")

    def run(self, func: Func, args: list[Value], kwargs: dict[str, Value], node: ast.AST,
            owner: Class | None, this: Value) -> Value:
        """Call a function of the file with its own scope; its result."""
        self.depth += 1
        if self.depth > Limits.depth:
            self.depth -= 1
            raise over_limit(self.src, node, f"calls nested more than {Limits.depth} deep (a "
                             "recursion that does not end?)")
        scope = self._bind(func, args, kwargs, node)
        outer = self.scopes
        self.scopes = (scope, *func.scopes)
        self.owners.append((owner, this))
        try:
            self.block(func.node.body, scope)
            self.returned = func.node  # the end of its body: None
            return None
        except _Return as r:
            self.returned = r.node
            return r.value
        except (_Break, _Continue):
            raise not_followed(self.src, node, "a `break` or `continue` outside a loop") \
                from None
        finally:
            self.scopes = outer
            self.owners.pop()
            self.depth -= 1

    def _bind(self, func: Func, args: list[Value], kwargs: dict[str, Value],
              node: ast.AST) -> dict[str, Value]:
        a = func.node.args
        params = [p.arg for p in (*a.posonlyargs, *a.args)]
        scope: dict[str, Value] = {}
        for name, v in zip(params, args, strict=False):
            scope[name] = v
        extra = args[len(params):]
        if extra and a.vararg is None:
            raise not_followed(self.src, node, f"a call of `{func.name}` with "
                               f"{len(args)} positional arguments (it takes {len(params)})")
        if a.vararg is not None:
            scope[a.vararg.arg] = tuple(extra)
        rest: dict[str, Value] = {}
        kwonly = [p.arg for p in a.kwonlyargs]
        for k, v in kwargs.items():
            if k in scope or (k not in params and k not in kwonly and a.kwarg is None):
                raise not_followed(self.src, node, f"the argument `{k}` of `{func.name}`")
            if k in params or k in kwonly:
                scope[k] = v
            else:
                rest[k] = v
        if a.kwarg is not None:
            scope[a.kwarg.arg] = rest
        first_default = len(params) - len(func.defaults)
        for i, name in enumerate(params):
            if name not in scope:
                if i < first_default:
                    raise not_followed(self.src, node, f"a call of `{func.name}` without "
                                       f"its argument `{name}`")
                scope[name] = func.defaults[i - first_default]
        for name, d in zip(kwonly, func.kw_defaults, strict=True):
            if name not in scope:
                if d is None and name not in scope:
                    raise not_followed(self.src, node, f"a call of `{func.name}` without "
                                       f"its argument `{name}`")
                scope[name] = d
        return scope

    def instantiate(self, cls: Class, args: list[Value], kwargs: dict[str, Value],
                    node: ast.AST) -> Instance:
        inst = Instance(cls)
        if cls.framework_bases():
            self.fw.new_instance(self.it, inst)
        found = cls.lookup("__init__")
        if found is not None:
            init, owner = found
            if not isinstance(init, Func):
                raise not_followed(self.src, node, f"`{cls.name}.__init__`")
            result = self.run(init, [inst, *args], kwargs, node, owner, inst)
            if result is not None:
                raise not_followed(self.src, node, "an `__init__` that returns a value")
        else:
            self.base_init(inst, cls.mro()[1:], args, kwargs, node)
        return inst

    def base_init(self, inst: Instance, after: list[Value], args: list[Value],
                  kwargs: dict[str, Value], node: ast.AST) -> None:
        """``__init__`` of the first class in ``after`` that has one."""
        for c in after:
            if isinstance(c, Class) and "__init__" in c.attrs:
                init = c.attrs["__init__"]
                self.run(init, [inst, *args], kwargs, node, c, inst)
                return
            if isinstance(c, Namespace):
                if c.name == "builtins.object":
                    continue
                if not self.fw.is_base(c.name):
                    raise not_followed(self.src, node, f"a class deriving from `{c.name}`")
                self.fw.base_init(self.it, inst, c.name, args, kwargs, node)
                return

    def super_of(self, args: list[Value], node: ast.AST) -> Super:
        if len(args) == 2 and isinstance(args[0], Class) and isinstance(args[1], Instance):
            return Super(args[0], args[1])
        owner, this = self.owners[-1] if self.owners else (None, None)
        if args or owner is None or not isinstance(this, Instance):
            raise not_followed(self.src, node, "this `super()`", "write `super().__init__()` "
                               "inside a method of the class")
        return Super(owner, this)

    def super_attr(self, sup: Super, name: str, node: ast.AST) -> Value:
        mro = sup.obj.cls.mro()
        after = mro[next(i for i, c in enumerate(mro) if c is sup.after) + 1:]
        if name == "__init__":
            return Native("__init__", lambda it, a, kw, n: self.base_init(sup.obj, after, a,
                                                                          kw, n))
        for c in after:
            if isinstance(c, Class) and name in c.attrs:
                v = c.attrs[name]
                return Bound(v, sup.obj) if isinstance(v, Func) and not v.static else v
        raise not_followed(self.src, node, f"`super().{name}`")

    def attribute(self, obj: Value, name: str, node: ast.AST) -> Value:
        if isinstance(obj, Super):
            return self.super_attr(obj, name, node)
        return super().attribute(obj, name, node)

    def special(self, name: str) -> Value:
        if name == "super":
            return Native("super", lambda it, a, kw, n: self.super_of(a, n))
        if name == "__name__":
            return "__main__"
        return super().special(name)
