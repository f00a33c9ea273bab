"""The interpreter: statements, definitions and the top of the file (calls are :mod:`.calls`).

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
from cnncalc.parse.code.calls import Calls, _Break, _Continue, _Return
from cnncalc.parse.code.values import (
    Class,
    Framework,
    Func,
    Instance,
    Limits,
    Namespace,
    Poison,
    Source,
    Stop,
    Value,
    describe,
    not_followed,
    over_limit,
)

_STATEMENTS = {ast.While: "a `while` loop", ast.Try: "a `try` statement",
               ast.With: "a `with` statement", ast.AsyncWith: "an `async with` statement",
               ast.AsyncFor: "an `async for` loop", ast.Delete: "a `del` statement",
               ast.Global: "a `global` statement", ast.Nonlocal: "a `nonlocal` statement",
               ast.AsyncFunctionDef: "an `async def`", ast.Match: "a `match` statement"}


class Interp(Calls):
    """One run over one file. ``fw`` is the framework; ``top`` the file's top names."""

    def __init__(self, src: Source, fw: Framework, defines: dict[str, Value] | None = None
                 ) -> None:
        self.src, self.fw = src, fw
        self.it = self
        self.top: dict[str, Value] = dict(defines or {})
        self.defined = frozenset(defines or ())  # --define NAME=VALUE: wins over the file
        self.scopes: tuple[dict[str, Value], ...] = (self.top,)
        self.nest = 0
        self.depth = 0
        self.steps = 0
        self.owners: list[tuple[Class | None, Value]] = []  # per call: defining class, self
        self.at: ast.AST | None = None  # the statement being followed
        self.returned: ast.AST | None = None  # where the last call to end returned

    # --- the top of the file -------------------------------------------------------------

    passthrough: frozenset[str] = frozenset()
    """Methods that give back the object they are called on, unchanged for cnncalc (PyTorch's
    ``.to(device)``, ``.eval()``): ``net = Net().to(device)`` builds ``Net()``."""

    def declare(self, body: list[ast.stmt]) -> list[tuple[str, ast.Assign, ast.Call]]:
        """Bind what the top of a file defines; the assignments whose value calls a function
        or class of the file (``net = Net()``) are returned with that call, not run: they are
        candidate models, built on demand. ``if __name__ == "__main__":`` blocks are read the
        same way. Other statements are left alone (:meth:`left_alone`)."""
        candidates: list[tuple[str, ast.Assign, ast.Call]] = []
        for stmt in body:
            if isinstance(stmt, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef):
                try:
                    self.statement(stmt, self.top)
                except Stop as exc:
                    self.reset()
                    if isinstance(stmt, ast.FunctionDef | ast.ClassDef):
                        self.top[stmt.name] = Poison(exc)
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(
                    stmt.targets[0], ast.Name) and (call := self._builds(stmt.value)):
                candidates.append((stmt.targets[0].id, stmt, call))
            elif self.overridden(stmt):
                continue
            elif isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
                try:
                    self.statement(stmt, self.top)
                except Stop as exc:
                    self.reset()
                    self._poison(_changed(stmt, calls=False), exc)
            elif isinstance(stmt, ast.If) and _is_main(stmt.test):
                candidates.extend(self.declare(stmt.body))
            else:
                self.left_alone(stmt)
        return candidates

    def overridden(self, stmt: ast.stmt) -> bool:
        """An assignment at the top of the file whose every name ``--define`` gives: the
        define wins (``num_classes = 10`` in the file, ``--define num_classes=1000``)."""
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if \
            isinstance(stmt, ast.AnnAssign | ast.AugAssign) else []
        return bool(targets) and all(isinstance(t, ast.Name) and t.id in self.defined
                                     for t in targets)

    def left_alone(self, stmt: ast.stmt) -> None:
        """A statement at the top that is not followed (``print(net)``, a training loop).
        The method call of a plain list or dict there (``cfg.append(256)``) is followed; any
        other name it may change (assigned, an item or attribute set, a method called) no
        longer has a value: using it is an error at the statement, never the old value."""
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(
                stmt.value.func, ast.Attribute) and isinstance(
                self.top.get(_root(stmt.value.func.value) or ""), list | dict):
            try:
                self.eval(stmt.value)
                return
            except Stop as exc:
                self.reset()
                self._poison(_changed(stmt), exc)
                return
        names = [n for n in _changed(stmt) if n in self.top
                 and not isinstance(self.top[n], Namespace | Poison)]
        if names:
            stop = not_followed(self.src, stmt, f"a statement that changes `{names[0]}`, "
                                "which cnncalc leaves alone at the top of the file",
                                "set the values the model uses with plain assignments")
            self._poison(names, stop)

    def _poison(self, names: list[str], stop: Stop) -> None:
        for n in names:
            self.top[n] = Poison(stop)

    def reset(self) -> None:
        """Back at the top of the file after a statement there stopped: nothing in
        progress."""
        self.nest = self.depth = 0
        self.scopes = (self.top,)
        self.owners.clear()

    def _builds(self, value: ast.expr) -> ast.Call | None:
        """The call of a class or function the file defines (or one it could not define:
        its error is the model's) that ``value`` is, or is followed by passthrough methods
        of (``Net().to(device)``); None if it is not one."""
        while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                and value.func.attr in self.passthrough:
            value = value.func.value
        if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Name):
            return None
        found = self.top.get(value.func.id)
        return value if isinstance(found, Class | Func | Poison) else None

    def build(self, name: str, call: ast.Call) -> Value:
        value = self.eval(call)
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
            raise _Return(None if stmt.value is None else self.eval(stmt.value), stmt)
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
                    try:
                        self.statement(stmt, attrs)
                    except (_Return, _Break, _Continue):
                        raise not_followed(self.src, stmt, "a `return`, `break` or "
                                           "`continue` in a class body") from None
        finally:
            self.scopes = outer
        cls = Class(node.name, bases, attrs)
        for v in attrs.values():
            if isinstance(v, Func) and v.owner is None:
                v.owner = cls  # for super() in its methods
        return cls


def _root(node: ast.expr) -> str | None:
    """The name ``net`` of ``net.features[0].conv``, ``cfg[0]`` or ``x.append``."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _changed(stmt: ast.stmt, calls: bool = True) -> list[str]:
    """The names a statement may change: assigned or deleted, with an item or attribute set,
    or (``calls``) with a method called."""
    names: list[str] = []
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.append(node.id)
            continue
        root = None
        if isinstance(node, ast.Attribute | ast.Subscript) and isinstance(
                node.ctx, ast.Store | ast.Del):
            root = _root(node.value)
        elif calls and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            root = _root(node.func)
        if root is not None:
            names.append(root)
    return list(dict.fromkeys(names))


def _is_main(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__")

