"""Keras functional code, read with ``ast`` by the interpreter of :mod:`.code` and never run.

    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(32, 3, padding="same")(inputs)
    y = layers.Conv2D(32, 3, padding="same")(x)
    x = layers.add([x, y])
    outputs = layers.Dense(10)(layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, outputs)

The file's top is followed statement by statement, as Python would run it, with Keras's
semantics (:mod:`.code.keras_api`): imports bind names (nothing is imported), functions and
classes are defined, and the model code runs on symbolic tensors. A script's other statements
are left alone: ``model.summary()``, ``model.fit(...)``, ``print(...)`` and ``plot_model(...)``
are not followed, and a statement that cannot be followed but made no Keras layer, tensor or
model (``(x_train, y_train), _ = keras.datasets.mnist.load_data()``, ``np.random.seed(0)``)
is not an error by itself: the names it would bind or change have no value, and the first use
of one in model code is reported with the reason. A statement that built part of a model and
then could not be followed is reported at once, and reading stops there.

The model is the ``keras.Model(...)`` a name at the top is bound to (``model =
keras.Model(inputs, outputs)``, or ``model = make_model(...)`` that returns one); a file that
binds several is an error (P015) unless ``--model`` picks one: such a name, or a call of a
function of the file (``--model "make_model((96, 96, 3), 10)"``). Its layers are those between
its input and its output, as Keras's ``model.layers`` are (layers built for other models are
left out), named as Keras names them; the input is its ``keras.Input`` shape, ``--input``, or a
``# cnncalc: input HxWxC`` comment. Keras floors sizes (``rounding="floor"``).

Sequential code (a file that calls no ``Model(...)``) keeps its own reader,
:mod:`cnncalc.parse.keras`: it reads ``model.add(...)`` lines and ``Sequential([...])`` lists
with diagnostics of its own (an ``input_shape=`` on a later layer checked against what the
layer receives, one problem per unreadable layer while the rest is still read, a second model
never chained), which following the file here would lose; the two share the layer readers of
:mod:`cnncalc.parse.keras_layers`. A ``keras.Sequential`` used as a layer of a functional model
is followed here.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Mapping

from cnncalc.diagnostics import Diagnostic
from cnncalc.parse.bounds import MAX_LAYERS, TooManyLayers, cut
from cnncalc.parse.code.graph import Graph
from cnncalc.parse.code.interp import Interp
from cnncalc.parse.code.keras_api import Keras, KModel
from cnncalc.parse.code.values import Class, Func, Poison, Stop, Value
from cnncalc.parse.directives import find_input
from cnncalc.parse.pycode import parse_module
from cnncalc.parse.torch_code import _ModelSource, over_depth
from cnncalc.spec import INPUT_NAME, Layer, Merge, Ref, Shape, Span, Spec, Unparsed, source_lines

# calls at the top of a script that do not build the model: not followed at all
_LEFT_ALONE = frozenset(("print", "plot_model", "compile", "fit", "summary", "evaluate",
                         "predict", "save", "save_weights", "load_weights", "build",
                         "fit_generator", "evaluate_generator", "predict_generator"))
_MUTATORS = frozenset(("append", "extend", "insert", "update", "setdefault", "pop", "remove",
                       "clear", "add", "sort", "reverse"))


def parse_keras_code(text: str, path: str, defines: Mapping[str, object],
                     input_volume: Shape | None = None, model: str | None = None,
                     max_layers: int = MAX_LAYERS) -> Spec:
    lines = source_lines(text)
    directive, d_span, diags = find_input(lines, path, "keras")
    src = _ModelSource(path, lines)
    tree = parse_module(text, path, lines)
    if isinstance(tree, Diagnostic):
        diags.append(tree)
        return _spec(path, None, tree.span, [], diags, lines)
    fw = Keras(text, path, input_volume, directive, max_layers)
    it = Interp(src, fw, dict(defines))
    at: ast.AST = tree
    try:
        chosen = _choose(it, fw, src, tree, model, diags)
        if chosen is None:  # (the diagnostic says why: no P004 on top)
            return _spec(path, directive, d_span or diags[-1].span, [], diags, lines)
        shape, in_span = fw.given[id(chosen.inputs.graph)]
        if shape is not None and directive is not None and shape != directive \
                and d_span is not None:
            code = "x".join(map(str, shape))
            diags.append(Diagnostic(d_span, "P005", "the `# cnncalc: input` comment disagrees "
                                    f"with the code's input {code}", "remove one of them"))
        return _spec(path, shape or directive, in_span, _model_layers(chosen), diags, lines)
    except Stop as exc:
        if exc.diag is not None:
            diags.append(exc.diag)
        at_span = exc.diag.span if exc.diag is not None else src.span(at)
        rest: Layer = Unparsed(name="...", span=at_span)
    except TooManyLayers as exc:
        diag, rest = cut(exc, max_layers)
        diags.append(diag)
    except RecursionError:
        diags.append(over_depth(src, at))
        rest = Unparsed(name="...", span=src.span(at))
    graph = fw.graphs[-1] if fw.graphs else None
    shape, in_span = fw.given[id(graph)] if graph is not None else (directive, rest.span)
    layers = [*(graph.layers if graph is not None else []), rest]
    return _spec(path, shape or directive, in_span, layers[:max_layers + 1], diags, lines)


def _spec(path: str, shape: Shape | None, in_span: Span | None, layers: list[Layer],
          diags: list[Diagnostic], lines: list[str]) -> Spec:
    return Spec(path, shape, in_span, tuple(layers), tuple(diags), tuple(lines), "keras",
                "floor")


def _top(body: list[ast.stmt]) -> list[ast.stmt]:
    """The file's statements, with those of ``if __name__ == "__main__":`` in its place."""
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.If) and isinstance(stmt.test, ast.Compare) \
                and isinstance(stmt.test.left, ast.Name) and stmt.test.left.id == "__name__":
            out.extend(_top(stmt.body))
        else:
            out.append(stmt)
    return out


def _left_alone(stmt: ast.stmt) -> bool:
    """A docstring, or a call that does not build the model (``model.fit(...)``)."""
    if not isinstance(stmt, ast.Expr):
        return False
    v = stmt.value
    if isinstance(v, ast.Constant):
        return True
    if not isinstance(v, ast.Call):
        return False
    f = v.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
    return name in _LEFT_ALONE


def _bound_by(stmt: ast.stmt) -> set[str]:
    """The names a statement binds or may change (``x = ...``, ``for x in``, ``xs.append``,
    ``d[k] = ...``)."""
    names: set[str] = set()
    for n in ast.walk(stmt):
        root: ast.expr | None = None
        if isinstance(n, ast.Name | ast.Subscript | ast.Attribute) \
                and isinstance(n.ctx, ast.Store):
            root = n
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) \
                and n.func.attr in _MUTATORS:
            root = n.func.value
        while isinstance(root, ast.Subscript | ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name):
            names.add(root.id)
    return names


def _builds_model(it: Interp, stmt: ast.stmt) -> bool:
    """Whether a statement calls ``Model(...)`` or a function or class of the file."""
    for n in ast.walk(stmt):
        if isinstance(n, ast.Call):
            f = n.func
            called = f.attr if isinstance(f, ast.Attribute) else \
                f.id if isinstance(f, ast.Name) else ""
            if called in ("Model", "Functional") or (isinstance(f, ast.Name) and isinstance(
                    it.top.get(f.id), Func | Class)):
                return True
    return False


def _run(it: Interp, fw: Keras, tree: ast.Module) -> list[Stop]:
    """Follow the file's top; the failures of statements that would have built a model."""
    pending: list[Stop] = []
    for stmt in _top(tree.body):
        if _left_alone(stmt):
            continue
        if it.overridden(stmt):
            continue  # --define NAME=VALUE wins
        before = fw.made
        try:
            it.statement(stmt, it.top)
        except Stop as exc:
            if fw.made != before:
                raise
            it.reset()
            for name in _bound_by(stmt) | (
                    {stmt.name} if isinstance(stmt, ast.FunctionDef | ast.ClassDef) else set()):
                it.top[name] = Poison(exc)
            if _builds_model(it, stmt):
                pending.append(exc)
    return pending


def _choose(it: Interp, fw: Keras, src: _ModelSource, tree: ast.Module, model: str | None,
            diags: list[Diagnostic]) -> KModel | None:
    """The model the file binds at its top (or ``--model`` names); None when there is none
    (a diagnostic says why)."""
    pending = _run(it, fw, tree)
    built: list[tuple[str, KModel]] = []
    for name, v in it.top.items():
        if isinstance(v, KModel) and all(v is not m for _, m in built):
            built.append((name, v))
    built.sort(key=lambda b: b[1].order)
    if model is not None:
        return _named(it, src, model, built)
    if not built:
        if pending:
            raise pending[0]
        funcs = [n for n, v in it.top.items() if isinstance(v, Func)]
        shown = " or ".join(f'--model "{n}(...)"' for n in funcs[:3]) or "--model EXPR"
        diags.append(Diagnostic(Span(src.path, 1, 1, 2), "P015", "the file builds no Keras "
                                "model at its top level (such as `model = keras.Model(inputs, "
                                "outputs)`)", f"pick one with {shown}"))
        return None
    name, first = built[0]
    for other, m in built[1:]:
        diags.append(Diagnostic(m.span, "P015", f"the file builds a second model, `{other}`; "
                                f"cnncalc reads `{name}`",
                                f"pick one with --model {other} or --model {name}"))
    return first


def _named(it: Interp, src: _ModelSource, model: str, built: list[tuple[str, KModel]]
           ) -> KModel:
    for name, m in built:
        if name == model:
            return m
    found = it.top.get(model)
    if isinstance(found, Poison):
        raise found.stop
    expr = src.expression(model)
    if expr is None:
        raise Stop(_bad_model(src, model, "not a name or a call cnncalc can read"))
    if isinstance(expr, ast.Name) and isinstance(it.top.get(expr.id), Func):
        expr = ast.Call(expr, [], [])
        src.foreign.add(id(expr))
    if not isinstance(expr, ast.Call):
        raise Stop(_bad_model(src, model, "not a model the file binds, nor a call of a "
                              "function of the file"))
    value: Value = it.eval(expr)
    if not isinstance(value, KModel):
        raise Stop(_bad_model(src, model, "does not build a keras.Model"))
    return value


def _bad_model(src: _ModelSource, model: str, what: str) -> Diagnostic:
    return Diagnostic(Span(src.path, 1, 1, 2), "P015", f"--model {model}: {what}",
                      "write --model NAME or --model \"make_model(args)\"")


def _model_layers(m: KModel) -> list[Layer]:
    """The layers between the model's input and its output, in the order they were called,
    each reading the layer before it unless it names others (as Keras's ``model.layers``)."""
    g: Graph = m.output.graph
    index = {INPUT_NAME: 0} | {la.name: i for i, la in enumerate(g.layers, start=1)}
    reads = [[index[r.name] for r in la.inputs] or [i - 1]
             for i, la in enumerate(g.layers, start=1)]
    keep = {m.output.t.index}
    for i in range(m.output.t.index, 0, -1):
        if i in keep:
            keep.update(reads[i - 1])
    out: list[Layer] = []
    previous = 0
    for i, la in enumerate(g.layers, start=1):
        if i not in keep:
            continue
        src = reads[i - 1]
        if len(src) == 1 and src[0] == previous and not isinstance(la, Merge):
            refs: tuple[Ref, ...] = ()
        else:
            refs = tuple(Ref(INPUT_NAME if j == 0 else g.layers[j - 1].name, la.span)
                         for j in src)
        out.append(la if refs == la.inputs else dataclasses.replace(la, inputs=refs))
        previous = i
    return out
