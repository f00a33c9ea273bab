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
calls a class or function of the file (``--model "ResNet(BasicBlock, [2, 2, 2, 2])"``).
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
from cnncalc.parse.pycode import quiet_parse
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


def parse_torch_code(text: str, path: str, defines: Mapping[str, object],
                     input_volume: Shape | None = None, model: str | None = None,
                     max_layers: int = MAX_LAYERS) -> Spec:
    lines = source_lines(text)
    shape, in_span, diags = find_input(lines, path, "pytorch")
    src = _ModelSource(path, lines)
    graph = Graph(path, input_volume or shape, "floor", max_layers)
    output: Ref | None = None
    try:
        with quiet_parse():
            tree = ast.parse(text)
    except SyntaxError as exc:
        line = exc.lineno or 1
        col = min(exc.offset or 1, len(lines[line - 1]) + 1 if 0 < line <= len(lines) else 1)
        diags.append(Diagnostic(Span(path, line, col, col + 1), "P001",
                                f"the code is not Python cnncalc can read: {exc.msg}",
                                "check the brackets, colons and indentation"))
        return _spec(path, shape, in_span, graph, diags, lines, None)
    except (ValueError, RecursionError, MemoryError) as exc:
        diags.append(Diagnostic(Span(path, 1, 1, 2), "P001", f"the code cannot be read: "
                                f"{type(exc).__name__}", "save the file as UTF-8 text"))
        return _spec(path, shape, in_span, graph, diags, lines, None)
    fw = Torch(graph)
    it = Interp(src, fw, dict(defines))
    at: ast.AST = tree
    try:
        root, at = _model(it, src, tree, model, diags)
        if root is None:
            return _spec(path, shape, in_span, graph, diags, lines, None)
        fw.name_modules(root)
        out = fw.apply(it, root, graph.input, at)
        if not isinstance(out, Tensor):
            raise not_followed(src, at, "a forward() that returns other than one tensor")
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
    candidates = it.declare(tree.body)
    built: list[tuple[str, ast.Assign, Value | Stop]] = []
    for name, stmt in candidates:
        try:
            value: Value | Stop = it.build(name, stmt)
        except Stop as exc:
            it.reset()
            value = exc
            it.top[name] = Poison(exc)
        callee = it.top.get(stmt.value.func.id)  # type: ignore[attr-defined]
        if is_module(value) or (isinstance(value, Stop) and (
                isinstance(callee, Func | Poison) or (isinstance(callee, Class)
                and callee.framework_bases()))):
            built.append((name, stmt, value))
    if model is not None:
        return _named(it, src, model, built)
    if not built:
        classes = [n for n, v in it.top.items()
                   if isinstance(v, Class) and v.framework_bases()]
        shown = " or ".join(f"--model {n}" for n in classes[:5]) or "--model EXPR"
        call = f'--model "{classes[-1]}(...)" with its arguments' if classes else \
            '--model "Net(...)"'
        diags.append(Diagnostic(Span(src.path, 1, 1, 2), "P015", "the file builds no model "
                                "at its top level (such as `net = Net()`)",
                                f"pick one with {shown}, a function of the file that returns "
                                f"one, or {call}"))
        return None, tree
    name, stmt, value = built[0]
    for other, ostmt, _ in built[1:]:
        diags.append(Diagnostic(src.span(ostmt), "P015", f"the file builds a second model, "
                                f"`{other}`; cnncalc reads `{name}`",
                                f"pick one with --model {other} or --model {name}"))
    if isinstance(value, Stop):
        raise value
    return value, stmt


def _named(it: Interp, src: _ModelSource, model: str,
           built: list[tuple[str, ast.Assign, Value | Stop]]) -> tuple[Value, ast.AST]:
    for name, stmt, value in built:
        if name == model:
            if isinstance(value, Stop):
                raise value
            return value, stmt
    try:
        with quiet_parse():
            expr = ast.parse(model, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise Stop(Diagnostic(Span(src.path, 1, 1, 2), "P015", f"--model {model}: not a "
                              "name or a call cnncalc can read",
                              "write --model NAME or --model \"Class(args)\"")) from None
    src.foreign.update(id(n) for n in ast.walk(expr))
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
