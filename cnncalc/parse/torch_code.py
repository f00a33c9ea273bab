"""PyTorch model code: classes deriving from ``nn.Module``, read with ``ast`` and never run.

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            ...
        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            ...
    net = Net()

The file's top is read as an import would set it up (:meth:`~.code.interp.Interp.declare`):
imports, functions, classes and plain assignments; other statements (``print(net)``, a
training loop) are left alone. The model is the one assignment at the top that builds a
module (``net = Net()``), or what ``--model`` names: such a variable, or an expression that
calls a class or function of the file (``--model "ResNet(BasicBlock, [2, 2, 2, 2])"``);
statements after it that change it (``net.fc = nn.Linear(512, 10)``) are followed.
Its ``__init__`` and ``forward()`` are followed by the interpreter of :mod:`.code` with
PyTorch's semantics (:mod:`.code.torch_nn`), on an input volume from ``--input`` or a
``# cnncalc: input HxWxC`` comment; the layers are named as ``named_modules()`` names the
modules (``layer1.0.conv1``). PyTorch floors sizes (``rounding="floor"``).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from cnncalc.diagnostics import Diagnostic
from cnncalc.parse.bounds import MAX_LAYERS, TooManyLayers, cut
from cnncalc.parse.code.graph import Graph, Tensor
from cnncalc.parse.code.interp import Interp
from cnncalc.parse.code.torch_nn import Torch, is_module
from cnncalc.parse.code.values import (
    Class,
    Func,
    Poison,
    Source,
    Stop,
    Value,
    not_followed,
)
from cnncalc.parse.directives import find_input
from cnncalc.parse.pycode import parse_module, quiet_parse
from cnncalc.spec import Ref, Shape, Span, Spec, Unparsed, source_lines


class _ModelSource(Source):
    """The file, and the ``--model`` expression: its nodes are reported at the file's first
    character, with what the expression was."""

    def __init__(self, path: str, rows: list[str]) -> None:
        super().__init__(path, rows)
        self.foreign: set[int] = set()

    def span(self, node: ast.AST) -> Span:
        if id(node) in self.foreign:
            return Span(self.path, 1, 1, 2)
        return super().span(node)

    def expression(self, text: str) -> ast.expr | None:
        """``--model``'s text as an expression whose nodes are reported at 1:1, or None when
        it is not one."""
        try:
            with quiet_parse():
                expr = ast.parse(text, mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        self.foreign.update(id(n) for n in ast.walk(expr))
        return expr


def parse_torch_code(text: str, path: str, defines: Mapping[str, object],
                     input_volume: Shape | None = None, model: str | None = None,
                     max_layers: int = MAX_LAYERS) -> Spec:
    lines = source_lines(text)
    shape, in_span, diags = find_input(lines, path, "pytorch")
    src = _ModelSource(path, lines)
    graph = Graph(path, input_volume or shape, "floor", max_layers)
    output: Ref | None = None
    tree = parse_module(text, path, lines)
    if isinstance(tree, Diagnostic):
        diags.append(tree)
        return _spec(path, shape, in_span, graph, diags, lines, None)
    fw = Torch(graph)
    it = Interp(src, fw, dict(defines))
    at: ast.AST = tree
    try:
        root, at = _model(it, src, tree, model, diags)
        if root is None:
            return _spec(path, shape, in_span, graph, diags, lines, None)
        fw.name_modules(root)
        it.returned = None
        out = fw.apply(it, root, graph.input, at)
        if not isinstance(out, Tensor):  # at its `return` (or its def, returning nothing)
            raise not_followed(src, it.returned or at,
                               "a forward() that returns other than one tensor",
                               "cnncalc follows networks with one output: return one tensor "
                               "(the heads concatenated, say)")
        if out.index != len(graph.layers):
            output = graph.ref(out, src.span(at))
        diags.extend(fw.problems)
        fw.problems.clear()
        for name, leaf in fw.unused():
            diags.append(Diagnostic(leaf.span, "P023", f"`{name}` (nn.{leaf.module}) is "
                                    "built but forward() never calls it: PyTorch counts its "
                                    "parameters, the network does not use them",
                                    "remove it, or call it in forward()"))
    except Stop as exc:
        diags.extend(fw.problems)
        fw.problems.clear()
        if exc.diag is not None:
            diags.append(exc.diag)
        span = exc.diag.span if exc.diag is not None else src.span(at)
        graph.layers.append(Unparsed(name="...", span=span))
    except TooManyLayers as exc:
        diag, rest = cut(exc, max_layers)
        diags.append(diag)
        graph.layers.append(rest)
    except RecursionError:
        diags.append(over_depth(src, it.at or at))
        graph.layers.append(Unparsed(name="...", span=src.span(it.at or at)))
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
        # a value cnncalc's own operations did not expect: the statement is not followed
        # (a safety net; each construct has its own message where it is known)
        stop = not_followed(src, it.at or at, f"this statement ({type(exc).__name__})")
        assert stop.diag is not None
        diags.append(stop.diag)
        graph.layers.append(Unparsed(name="...", span=stop.diag.span))
    return _spec(path, shape, in_span, graph, diags, lines, output)


def over_depth(src: Source, at: ast.AST) -> Diagnostic:
    from cnncalc.parse.code.values import over_limit

    diag = over_limit(src, at, "code nested too deeply for cnncalc to follow").diag
    assert diag is not None
    return diag


def _spec(path: str, shape: Shape | None, in_span: Span | None, graph: Graph,
          diags: list[Diagnostic], lines: list[str], output: Ref | None) -> Spec:
    return Spec(path, shape, in_span, tuple(graph.layers), tuple(diags), tuple(lines),
                "pytorch", "floor", output)


def _model(it: Interp, src: _ModelSource, tree: ast.Module, model: str | None,
           diags: list[Diagnostic]) -> tuple[Value, ast.AST]:
    """The model the file builds (or ``--model`` names), and the node that builds it; None
    when there is none to read (a diagnostic says why)."""
    it.passthrough = PASSTHROUGH
    candidates = it.declare(tree.body)
    built: list[tuple[str, ast.Assign, Value | Stop]] = []
    for name, stmt, call in candidates:
        try:
            value: Value | Stop = it.build(name, call)
        except Stop as exc:
            it.reset()
            value = exc
            it.top[name] = Poison(exc)
        callee = it.top.get(call.func.id)  # type: ignore[attr-defined]
        if is_module(value) or (isinstance(value, Stop) and (
                isinstance(callee, Func | Poison) or (isinstance(callee, Class)
                and callee.framework_bases()))):
            built.append((name, stmt, value))
    if model is not None:
        return _named(it, src, model, built, tree)
    if not built:
        classes = [n for n, v in it.top.items()
                   if isinstance(v, Class) and v.framework_bases()]
        shown = " or ".join(f"--model {n}" for n in classes[:5]) or "--model EXPR"
        how = f'--model "{classes[-1]}(...)" with its arguments' if classes else \
            '--model "Net(...)"'
        diags.append(Diagnostic(Span(src.path, 1, 1, 2), "P015", "the file builds no model "
                                "at its top level (such as `net = Net()`)",
                                f"pick one with {shown}, a function of the file that returns "
                                f"one, or {how}"))
        return None, tree
    name, stmt, value = built[0]
    for other, ostmt, _ in built[1:]:
        diags.append(Diagnostic(src.span(ostmt), "P015", f"the file builds a second model, "
                                f"`{other}`; cnncalc reads `{name}`",
                                f"pick one with --model {other} or --model {name}"))
    if isinstance(value, Stop):
        raise value
    _follow_changes(it, tree, name, stmt)
    return value, stmt


PASSTHROUGH = frozenset(("to", "cuda", "cpu", "eval", "train", "float", "double", "half",
                         "requires_grad_", "share_memory"))
"""Module methods that give the module back, unchanged for cnncalc: `Net().to(device)`."""

_GROWS = frozenset(("add_module", "register_module", "append", "extend", "insert"))


def _top(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements at the top of the file, those of `if __name__ == "__main__":` in place."""
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.If) and isinstance(stmt.test, ast.Compare) and isinstance(
                stmt.test.left, ast.Name) and stmt.test.left.id == "__name__":
            out.extend(_top(stmt.body))
        else:
            out.append(stmt)
    return out


def _root(node: ast.expr) -> str | None:
    """The name ``net`` of ``net.features[0].conv``."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _changes(stmt: ast.stmt, name: str) -> bool:
    """Whether a statement at the top changes the model ``name`` refers to: sets or deletes
    an attribute or item of it (``net.fc = nn.Linear(512, 10)``), adds a module to it, or
    hands it to ``setattr``/``delattr``."""
    if isinstance(stmt, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
        targets = stmt.targets if isinstance(stmt, ast.Assign | ast.Delete) else [stmt.target]
        return any(isinstance(part, ast.Attribute | ast.Subscript) and _root(part) == name
                   for t in targets for part in ast.walk(t))
    if isinstance(stmt, ast.Expr) and isinstance(call := stmt.value, ast.Call):
        f = call.func
        if isinstance(f, ast.Attribute):
            return f.attr in _GROWS and _root(f.value) == name
        return isinstance(f, ast.Name) and f.id in ("setattr", "delattr") and bool(
            call.args) and _root(call.args[0]) == name
    return False


def _follow_changes(it: Interp, tree: ast.Module, name: str, built: ast.stmt) -> None:
    """Follow, in order, the statements after the model's assignment that change it (a new
    head for transfer learning): the network is the model as changed. What cannot be
    followed there is an error, never left out: the totals would be the unchanged model's."""
    after = False
    for stmt in _top(tree.body):
        if stmt is built:
            after = True
        elif after and _changes(stmt, name):
            it.statement(stmt, it.top)


def _named(it: Interp, src: _ModelSource, model: str,
           built: list[tuple[str, ast.Assign, Value | Stop]], tree: ast.Module
           ) -> tuple[Value, ast.AST]:
    for name, stmt, value in built:
        if name == model:
            if isinstance(value, Stop):
                raise value
            _follow_changes(it, tree, name, stmt)
            return value, stmt
    expr = src.expression(model)
    if expr is None:
        raise Stop(Diagnostic(Span(src.path, 1, 1, 2), "P015", f"--model {model}: not a "
                              "name or a call cnncalc can read",
                              "write --model NAME or --model \"Class(args)\""))
    if isinstance(expr, ast.Name):
        expr = ast.Call(expr, [], [])
        src.foreign.add(id(expr))
    if not isinstance(expr, ast.Call):
        raise Stop(Diagnostic(Span(src.path, 1, 1, 2), "P015", f"--model {model}: not a name "
                              "or a call of a class or function of the file",
                              "write --model NAME or --model \"Class(args)\""))
    value = it.eval(expr)
    if not is_module(value):
        raise Stop(Diagnostic(Span(src.path, 1, 1, 2), "P015", f"--model {model} does not "
                              "build an nn module", "name a class deriving from nn.Module, "
                              "or a function that returns one"))
    return value, expr
