"""The interpreter: statements, calls of the file's functions and classes, and the file's top.

:class:`Interp` follows statements one at a time with values of its own
(:mod:`.values`): ``if``/``elif``/``else``, ``for`` over what :func:`.pyops.items` lists (at
most ``Limits.iterations`` times), assignments with unpacking and augmented assignment,
``return``, ``break``, ``continue``, functions with defaults, ``*args`` and ``**kwargs``,
classes with inheritance and ``super()``. ``while``, ``try``, ``with``, ``global``, ``del``,
decorators other than ``@staticmethod`` and the rest are one P021 each, at the statement.

:meth:`Interp.declare` reads the top of a file the way an import would set it up, without
running what is not a definition: imports bind :class:`.values.Namespace` names (nothing is
imported), ``def`` and ``class`` bind the file's functions and classes, and assignments are
worked out when their value is plain; other statements are left alone (training loops,
``print(model)``), and a name whose value could not be worked out is reported only where
it is used.
"""

from __future__ import annotations

import ast

from cnncalc.parse.code import pyops
from cnncalc.parse.code.exprs import Expressions
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


class _Return(Exception):
    def __init__(self, value: Value) -> None:
        super().__init__()
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


_STATEMENTS = {ast.While: "a `while` loop", ast.Try: "a `try` statement",
               ast.With: "a `with` statement", ast.AsyncWith: "an `async with` statement",
               ast.AsyncFor: "an `async for` loop", ast.Delete: "a `del` statement",
               ast.Global: "a `global` statement", ast.Nonlocal: "a `nonlocal` statement",
               ast.AsyncFunctionDef: "an `async def`", ast.Match: "a `match` statement"}


class Super:
    """``super()``: the classes after ``after`` in the MRO of ``obj``'s class."""

    def __init__(self, after: Class, obj: Instance) -> None:
        self.after, self.obj = after, obj


class Interp(Expressions):
    """One run over one file. ``fw`` is the framework; ``globals`` the file's top names."""

    def __init__(self, src: Source, fw: Framework, defines: dict[str, Value] | None = None
                 ) -> None:
        self.src, self.fw = src, fw
        self.top: dict[str, Value] = dict(defines or {})
        self.scopes: tuple[dict[str, Value], ...] = (self.top,)
        self.nest = 0
        self.depth = 0
        self.steps = 0
        self.owners: list[tuple[Class | None, Value]] = []  # per call: defining class, self
        self.at: ast.AST | None = None  # the statement being followed

    # --- the top of the file -------------------------------------------------------------

    def declare(self, body: list[ast.stmt], top: bool = True) -> list[tuple[str, ast.Assign]]:
        """Bind what the top of a file defines; the assignments whose value calls a function
        or class of the file (``net = Net()``) are returned, not run: they are candidate
        models, built on demand. ``if __name__ == "__main__":`` blocks are read the same way."""
        candidates: list[tuple[str, ast.Assign]] = []
        for stmt in body:
            if isinstance(stmt, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef):
                try:
                    self.statement(stmt, self.top)
                except Stop as exc:
                    self.reset()
                    if isinstance(stmt, ast.FunctionDef | ast.ClassDef):
                        self.top[stmt.name] = Poison(exc)
            elif isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if len(targets) == 1 and isinstance(targets[0], ast.Name) \
                        and isinstance(stmt, ast.Assign) and self._builds(stmt.value):
                    candidates.append((targets[0].id, stmt))
                    continue
                try:
                    value = self.eval(stmt.value)
                    for t in targets:
                        self.assign(t, value, self.top)
                except Stop as exc:
                    self.reset()
                    for t in targets:
                        for name in ast.walk(t):
                            if isinstance(name, ast.Name):
                                self.top[name.id] = Poison(exc)
            elif isinstance(stmt, ast.If) and _is_main(stmt.test):
                candidates.extend(self.declare(stmt.body, top=False))
        return candidates

    def reset(self) -> None:
        """Back at the top of the file after a statement there stopped: nothing in
        progress."""
        self.nest = self.depth = 0
        self.scopes = (self.top,)
        self.owners.clear()

    def _builds(self, value: ast.expr) -> bool:
        """Whether ``value`` is a call of a class or function the file defines (or one it
        could not define: its error is the model's)."""
        if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Name):
            return False
        found = self.top.get(value.func.id)
        return isinstance(found, Class | Func | Poison)

    def build(self, name: str, stmt: ast.Assign) -> Value:
        value = self.eval(stmt.value)
        self.top[name] = value
        return value

    # --- statements -----------------------------------------------------------------------

    def block(self, body: list[ast.stmt], scope: dict[str, Value]) -> None:
        for stmt in body:
            self.statement(stmt, scope)

    def statement(self, stmt: ast.stmt, scope: dict[str, Value]) -> None:
        self.at = stmt
        self.steps += 1
        if self.steps > Limits.steps:
            raise over_limit(self.src, stmt, f"more than {Limits.steps:,} steps")
        if isinstance(stmt, ast.Expr):
            self.eval(stmt.value)
        elif isinstance(stmt, ast.Assign):
            value = self.eval(stmt.value)
            for t in stmt.targets:
                self.assign(t, value, scope)
        elif isinstance(stmt, ast.AugAssign):
            self._augassign(stmt, scope)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.assign(stmt.target, self.eval(stmt.value), scope)
        elif isinstance(stmt, ast.Return):
            raise _Return(None if stmt.value is None else self.eval(stmt.value))
        elif isinstance(stmt, ast.If):
            test = self.truth(self.eval(stmt.test), stmt.test)
            self.block(stmt.body if test else stmt.orelse, scope)
        elif isinstance(stmt, ast.For):
            self._for(stmt, scope)
        elif isinstance(stmt, ast.Pass):
            pass
        elif isinstance(stmt, ast.Break):
            raise _Break
        elif isinstance(stmt, ast.Continue):
            raise _Continue
        elif isinstance(stmt, ast.FunctionDef):
            scope[stmt.name] = self._function(stmt)
        elif isinstance(stmt, ast.ClassDef):
            scope[stmt.name] = self._class(stmt)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                top = alias.name if alias.asname else alias.name.split(".")[0]
                scope[alias.asname or top] = Namespace(top)
        elif isinstance(stmt, ast.ImportFrom):
            base = "." * stmt.level + (stmt.module or "")
            for alias in stmt.names:
                if alias.name == "*":
                    raise not_followed(self.src, stmt, f"`from {base} import *`",
                                       "import the names the model uses one by one")
                full = f"{base}.{alias.name}" if base else alias.name
                scope[alias.asname or alias.name] = pyops.STDLIB.get(full, Namespace(full))
        elif isinstance(stmt, ast.Assert):
            if not self.truth(self.eval(stmt.test), stmt):
                raise not_followed(self.src, stmt, "an `assert` that fails")
        elif isinstance(stmt, ast.Raise):
            raise not_followed(self.src, stmt, "a `raise`: the code raises an error here")
        else:
            raise not_followed(self.src, stmt, _STATEMENTS.get(
                type(stmt), f"a `{type(stmt).__name__}` statement"))

    def _augassign(self, stmt: ast.AugAssign, scope: dict[str, Value]) -> None:
        from cnncalc.parse.code.exprs import op_name

        t = stmt.target
        current = self.eval(t)
        value = self.eval(stmt.value)
        op = op_name(stmt.op)
        if isinstance(current, list) and op == "+":
            current.extend(pyops.listed(self, value, stmt))
            if len(current) > Limits.items:
                raise over_limit(self.src, stmt, f"a list of more than {Limits.items:,} items")
            return
        self.assign(t, self.operate(op, current, value, stmt), scope)

    def _for(self, stmt: ast.For, scope: dict[str, Value]) -> None:
        seq = pyops.items(self, self.eval(stmt.iter), stmt.iter)
        if len(seq) > Limits.iterations:
            raise over_limit(self.src, stmt, f"a `for` loop of {len(seq):,} iterations (more "
                             f"than {Limits.iterations:,})")
        for item in seq:
            self.assign(stmt.target, item, scope)
            try:
                self.block(stmt.body, scope)
            except _Break:
                return
            except _Continue:
                continue
        self.block(stmt.orelse, scope)

    def assign(self, target: ast.expr, value: Value, scope: dict[str, Value]) -> None:
        if isinstance(target, ast.Name):
            scope[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            seq = pyops.listed(self, value, target)
            star = [i for i, e in enumerate(target.elts) if isinstance(e, ast.Starred)]
            n = len(target.elts)
            if (not star and len(seq) != n) or (star and len(seq) < n - 1):
                raise not_followed(self.src, target, f"unpacking {len(seq)} values into {n} "
                                   "names")
            if star:
                k = star[0]
                tail = len(seq) - (n - k - 1)
                seq = [*seq[:k], list(seq[k:tail]), *seq[tail:]]
            for e, v in zip(target.elts, seq, strict=True):
                self.assign(e.value if isinstance(e, ast.Starred) else e, v, scope)
        elif isinstance(target, ast.Attribute):
            obj = self.eval(target.value)
            if not isinstance(obj, Instance):
                raise not_followed(self.src, target, f"setting an attribute of {describe(obj)}")
            if obj.cls.framework_bases():
                self.fw.set_attr(self, obj, target.attr, value)
            else:
                obj.attrs[target.attr] = value
        elif isinstance(target, ast.Subscript):
            obj, index = self.eval(target.value), self.eval(target.slice)
            if (isinstance(obj, list) and type(index) is int and -len(obj) <= index < len(obj)) \
                    or (isinstance(obj, dict) and isinstance(index, int | str | tuple)):
                obj[index] = value  # type: ignore[index]
            else:
                raise not_followed(self.src, target, f"setting an item of {describe(obj)}")
        else:
            raise not_followed(self.src, target, f"assigning to a `{type(target).__name__}`")

    # --- definitions ----------------------------------------------------------------------

    def _function(self, node: ast.FunctionDef) -> Func:
        static = False
        for d in node.decorator_list:
            if isinstance(d, ast.Name) and d.id == "staticmethod":
                static = True
            else:
                raise not_followed(self.src, d, "a decorator", "cnncalc follows "
                                   "@staticmethod only")
        defaults = [self.eval(d) for d in node.args.defaults]
        kw = [None if d is None else self.eval(d) for d in node.args.kw_defaults]
        return Func(node, defaults, kw, self.scopes, static)

    def _class(self, node: ast.ClassDef) -> Class:
        if node.decorator_list:
            raise not_followed(self.src, node.decorator_list[0], "a class decorator")
        if node.keywords:
            raise not_followed(self.src, node.keywords[0], "a class keyword (metaclass=...)")
        bases = [self.eval(b) for b in node.bases]
        for b, n in zip(bases, node.bases, strict=True):
            if not isinstance(b, Class | Namespace):
                raise not_followed(self.src, n, f"a class deriving from {describe(b)}")
        attrs: dict[str, Value] = {}
        outer = self.scopes
        self.scopes = (attrs, *outer)
        try:
            for stmt in node.body:
                if isinstance(stmt, ast.FunctionDef):  # methods see the file, not the class
                    self.scopes = outer
                    attrs[stmt.name] = self._function(stmt)
                    self.scopes = (attrs, *outer)
                elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                    continue  # a docstring
                else:
                    self.statement(stmt, attrs)
        finally:
            self.scopes = outer
        return Class(node.name, bases, attrs)

    # --- calls ----------------------------------------------------------------------------

    def call(self, fn: Value, args: list[Value], kwargs: dict[str, Value],
             node: ast.AST) -> Value:
        self.steps += 1
        if self.steps > Limits.steps:
            raise over_limit(self.src, node, f"more than {Limits.steps:,} steps")
        if isinstance(fn, Native):
            return fn.fn(self, args, kwargs, node)
        if isinstance(fn, Bound):
            owner = _owner(fn.obj, fn.func)
            return self.run(fn.func, [fn.obj, *args], kwargs, node, owner, fn.obj)
        if isinstance(fn, Func):
            return self.run(fn, args, kwargs, node, None, args[0] if args else None)
        if isinstance(fn, Class):
            return self.instantiate(fn, args, kwargs, node)
        if isinstance(fn, Namespace):
            if fn.name in pyops.STDLIB:
                return self.call(pyops.STDLIB[fn.name], args, kwargs, node)
            return self.fw.call_name(self, fn.name, args, kwargs, node)
        if isinstance(fn, Instance | Opaque):
            return self.fw.call_object(self, fn, args, kwargs, node)
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
            return None
        except _Return as r:
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
            self.fw.new_instance(self, inst)
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
                self.fw.base_init(self, inst, c.name, args, kwargs, node)
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

    def lookup(self, name: str, node: ast.AST) -> Value:
        if name == "super":
            return Native("super", lambda it, a, kw, n: self.super_of(a, n))
        if name == "__name__":
            return "__main__"
        return super().lookup(name, node)


def _owner(obj: Value, func: Func) -> Class | None:
    """The class of ``obj``'s MRO that defines ``func``."""
    if isinstance(obj, Instance):
        for c in obj.cls.mro():
            if isinstance(c, Class) and any(v is func for v in c.attrs.values()):
                return c
    return None


def _is_main(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__")

