"""Keras code: ``model.add(Conv2D(...))`` lines and ``Sequential([...])`` lists, read with ``ast``.

    model = Sequential()
    model.add(Conv2D(32, kernel_size=(3, 3), activation='relu', input_shape=input_shape))
    model.add(Dense(num_classes, activation='softmax'))

The code is parsed, never run: nothing is evaluated, compiled or imported. Statements are
``import``, ``NAME = literal`` (binding a name as ``--define`` does, which wins), a model and its
``model.add(...)`` calls; each layer call's arguments are read by
:mod:`cnncalc.parse.keras_layers`, which states the conventions Keras's layers follow. The
statements of a script that do not build the model are not read: calls not given a model
(``print(...)``, ``np.random.seed(0)``), ``print(model)``, ``model.summary()``, ``fit`` and the
like, and assignments whose value is no literal (``x_train = x_train / 255``); a name so bound
has no value, and the first layer that reads one is refused with the reason. Further:

- names are Keras's automatic ones (conv2d, conv2d_1, max_pooling2d...) unless ``name=`` is given;
- the input comes from ``Input``/``InputLayer``, ``input_shape=`` (``batch_input_shape=``,
  ``input_dim=``) on the first layer, or a ``# cnncalc: input HxWxC`` comment.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import replace

from cnncalc.diagnostics import Diagnostic
from cnncalc.parse import DefineValue
from cnncalc.parse.bounds import MAX_LAYERS, TooManyLayers, cut, pick_models
from cnncalc.parse.cursor import suggest
from cnncalc.parse.directives import find_input
from cnncalc.parse.keras_builders import LAYERS
from cnncalc.parse.keras_layers import ALIASES, INPUT_KEYS, Args
from cnncalc.parse.keras_merges import MERGES
from cnncalc.parse.keras_script import ScriptReader, callee_name
from cnncalc.parse.pycode import Refusal, ints, quiet_parse, refuse
from cnncalc.spec import (
    Conv,
    Crop,
    Dense,
    Flatten,
    GlobalPool,
    Layer,
    Pool,
    Shape,
    Span,
    Spec,
    Unparsed,
    Upsample,
    ZeroPad,
)

_METHODS = frozenset(("add", "compile", "fit", "summary", "evaluate", "predict", "save",
                      "save_weights", "build"))
# the rank of what a layer of these kinds gives; other layers keep their input's
_RANK: dict[type[Layer], int] = {Conv: 3, Pool: 3, ZeroPad: 3, GlobalPool: 3, Flatten: 1, Dense: 1,
                                  Crop: 3, Upsample: 3}
_SKIPPED = (ast.Import, ast.ImportFrom, ast.Pass)
_STATEMENT = {ast.For: "a loop", ast.While: "a loop", ast.If: "an `if` statement",
              ast.FunctionDef: "a function definition", ast.With: "a `with` block"}
# how every `# cnncalc: input` comment starts, matched as directives.find_input matches it
# (case-blind); searched for in the whole text, where a `#` is found fast and few are tried
_DIRECTIVE_START = re.compile(r"#\s*cnncalc:", re.IGNORECASE)


def _may_direct(text: str) -> bool:
    """False when no line can hold a ``# cnncalc: input`` comment, so none need be searched."""
    return "#" in text and _DIRECTIVE_START.search(text) is not None


def _snake(cls: str) -> str:
    """Keras's automatic name: ``MaxPooling2D`` -> ``max_pooling2d``, ``ReLU`` -> ``re_lu``."""
    return re.sub(r"([a-z])([A-Z])", r"\1_\2",
                  re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", cls)).lower()


_Build = Callable[[Args], list[Layer]]
# each class name read (aliases too): its canonical class, builder, whether it is an input
# layer, and the base of Keras's automatic names
_KINDS: dict[str, tuple[str, _Build, bool, str]] = {
    cls: (canon, LAYERS[canon][0], canon.startswith("Input"), _snake(canon))
    for cls, canon in [*((c, c) for c in LAYERS), *ALIASES.items()]}


def _named(keywords: list[ast.keyword]) -> bool:
    """Whether the call gives ``name=`` (``name=None`` leaves Keras to name the layer), for
    a call whose arguments could not be read."""
    for k in keywords:
        if k.arg == "name" and not (isinstance(k.value, ast.Constant) and k.value.value is None):
            return True
    return False


class _Reader(ScriptReader):
    def __init__(self, text: str, path: str, defines: Mapping[str, DefineValue],
                 input_given: bool, model: str | None = None,
                 max_layers: int = MAX_LAYERS) -> None:
        super().__init__(text, path, defines)
        self.layers: list[Layer] = []
        self.max_layers = max_layers
        self.names: dict[str, int] = {}
        self.directive, self.directive_span, diags = find_input(self.lines, path, "keras") \
            if _may_direct(text) else (None, None, [])
        self.diags: list[Diagnostic] = list(diags)
        self.input_given = input_given or self.directive_span is not None
        self.input: Shape | None = None
        self.input_span: Span | None = self.directive_span if diags else None
        self.aliases: dict[str, str] = {}  # `from keras.layers import Conv2D as C`: C -> Conv2D
        self.foreign: dict[str, str] = {}  # a Keras name imported from elsewhere -> its module
        self.wanted = model  # --model: the variable of the model to read
        self.models: dict[str | None, int] = {}  # each model built: its variable -> line
        self.reading: str | None = None  # the variable of the model being read
        self.skipping = False  # the layers met belong to another model

    def read(self, body: list[ast.stmt]) -> None:
        """The module's statements in turn; a Refusal is reported and reading goes on, until
        the layers are more than ``max_layers``."""
        try:
            for stmt in body:
                try:
                    self.statement(stmt)
                except Refusal as exc:
                    self.report(exc)
                self.count(stmt)
        except TooManyLayers as exc:
            del self.layers[self.max_layers:]
            diag, rest = cut(exc, self.max_layers)
            self.diags.append(diag)
            self.layers.append(rest)

    def count(self, node: ast.stmt | ast.expr) -> None:
        """Stop reading if the layers or the problems are now more than the cap (``node``
        made the last)."""
        if len(self.layers) > self.max_layers:
            raise TooManyLayers(self.span(node), self.layers[self.max_layers].name)
        if len(self.diags) > self.max_layers:
            raise TooManyLayers(self.span(node), "...", problems=True)

    def report(self, exc: Refusal) -> None:
        if exc.diag is not None:
            self.diags.append(exc.diag)

    def statement(self, stmt: ast.stmt) -> None:
        if type(stmt) is ast.Expr:
            call = stmt.value
            if type(call) is ast.Call:
                func = call.func  # `model.add(...)`, `model.summary()`...
                if type(func) is ast.Attribute and (method := func.attr) in _METHODS \
                        and type(func.value) is ast.Name:
                    if method != "add":
                        return
                    args = call.args
                    if len(args) != 1 or call.keywords:
                        raise refuse(self.span(call), "P001", "model.add takes one layer",
                                     "write one layer per model.add(...), e.g. "
                                     "`model.add(Dense(10))`")
                    if func.value.id not in self.models:  # a model first met by its add()
                        self.begin(func.value.id, self.span(func.value))
                    if func.value.id == self.reading:
                        self.layer(args[0])
                    return
                if self.callee(func) == "Sequential":
                    self.begin(None, self.span(call))
                    self.sequential(call)
                    return
                self.other_call(call)
                return
            elif isinstance(call, ast.Constant):  # a docstring
                return
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            v = stmt.value
            if isinstance(v, ast.Call) and self.callee(v.func) == "Sequential":
                target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
                self.begin(target.id if type(target) is ast.Name else None, self.span(target))
                self.sequential(v)
            else:
                self.assign(stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target], v)
            return
        elif isinstance(stmt, ast.ImportFrom):
            self.imported(stmt)
            return
        elif isinstance(stmt, _SKIPPED):
            return
        raise refuse(self.span(stmt), "P001", "expected an import, `model = Sequential()`, "
                     "`model.add(Layer(...))` or `NAME = literal`, found "
                     f"{_STATEMENT.get(type(stmt), 'this statement')}", "cnncalc reads Keras code "
                     "without running it: write the layers out one per model.add(...) line")

    def imported(self, stmt: ast.ImportFrom) -> None:
        """``from keras.layers import Conv2D as C`` makes ``C(...)`` a Conv2D; a Keras class
        name imported from a module that is not Keras's is not read as Keras's class."""
        keras = any(part == "keras" for part in (stmt.module or "").split("."))
        for alias in stmt.names:
            local = alias.asname or alias.name
            self.aliases.pop(local, None)
            self.foreign.pop(local, None)
            if keras and alias.asname and (alias.name in _KINDS or alias.name == "Sequential"):
                self.aliases[local] = alias.name
            elif not keras and (local in _KINDS or local == "Sequential"):
                self.foreign[local] = "." * stmt.level + (stmt.module or "")

    def begin(self, name: str | None, span: Span) -> None:
        """A model is built (``name = Sequential(...)``, or ``name.add`` first met): read its
        layers when it is the one asked for (``--model``) or, without that, the first; never
        chain a second model onto the first (P015)."""
        again = name in self.models
        if again or (self.models and self.wanted is None):
            first = next(iter(self.models))
            self.models.setdefault(name, span.line)
            self.reading, self.skipping = None, True
            shown = "an unnamed model" if name is None else f"`{name}`"
            if again:
                what, hint = f"{shown} is built a second time", \
                    "write each model in a file of its own"
            elif name is None or None in self.models:
                what, hint = f"a second model, {shown},", \
                    "assign each model to a variable and pick one with --model NAME"
            else:
                what = f"a second model, {shown},"
                hint = pick_models(self.models, len(self.models))
            earlier = "an unnamed model" if first is None else f"`{first}`"
            self.diags.append(Diagnostic(
                span, "P015", f"{what} starts here ({earlier} starts on line "
                f"{self.models[first]}): cnncalc reads one model and never chains two", hint))
            return
        self.models[name] = span.line
        reading = self.wanted is None or name == self.wanted
        self.reading, self.skipping = (name, False) if reading else (None, True)

    def sequential(self, call: ast.Call) -> None:
        """``Sequential([...])``: each layer of the list is read, or reported, in turn."""
        items = call.args[0] if call.args else next(
            (k.value for k in call.keywords if k.arg == "layers"), None)
        if items is None or self.skipping:  # `Sequential()`: layers come in model.add(...)
            return
        if not isinstance(items, (ast.List, ast.Tuple)):
            raise self.not_literal(items)
        for item in items.elts:
            try:
                self.layer(item)
            except Refusal as exc:
                self.report(exc)
            self.count(item)

    def assign(self, targets: list[ast.expr], value: ast.expr) -> None:
        """``NAME = literal`` (or ``a, b = 28, 28``) binds names as ``--define`` does."""
        if isinstance(value, ast.Call) and (callee_name(value.func) in {*LAYERS, *ALIASES, "Model"}
                                            or isinstance(value.func, ast.Call)):
            raise refuse(self.span(value), "P001", "the functional API (`x = Layer(...)(x)`) is "
                         "not read", "write the layers in a Sequential model")
        self.no_hidden_add(value)
        if self.dynamic(value) is not None:  # told at once, even if no layer reads the name
            exc = self.not_literal(value)
            self.unbind(targets, exc.diag)
            if exc.diag is not None:
                self.told.add(id(exc.diag))
            raise exc
        names, values = targets, [value]
        if isinstance(targets[0], ast.Tuple) and isinstance(value, ast.Tuple):
            names, values = targets[0].elts, value.elts
        if len(targets) != 1 or len(names) != len(values) or not all(
                isinstance(t, ast.Name) for t in names):
            self.unbind(targets)
            return
        for t, node in zip(names, values, strict=True):
            name = t.id if isinstance(t, ast.Name) else ""
            if name in self.defines:
                continue
            try:
                self.bound[name] = self.value(node)
                self.failed.pop(name, None)
            except Refusal as exc:  # told if a layer reads the name
                self.bound.pop(name, None)
                self.failed[name] = exc.diag

    def layer(self, node: ast.expr) -> None:
        span = self.span(node)
        if type(node) is not ast.Call:
            raise self.unknown(node, None, span)
        func = node.func  # `layers.Conv2D` (read here: the commonest form) or another
        cls = func.attr if type(func) is ast.Attribute and type(func.value) is ast.Name \
            else self.callee(func)
        if type(func) is ast.Name and func.id in self.foreign:
            exc = refuse(span, "P002", f"`{func.id}` is imported from "
                         f"`{self.foreign[func.id]}`, not from Keras: cnncalc does not know "
                         "what it builds", f"import {func.id} from keras.layers, or write the "
                         "layers it makes")
            self.failed_layer(exc, False, func.id, span)
            raise exc
        kind = _KINDS.get(cls or "")
        if kind is None:
            raise self.unknown(node, cls, span)
        canon, build, is_input, base = kind
        shown = cls or "?"
        try:
            args = Args(self, node, canon, span)
        except Refusal as exc:  # (a layer Keras names counts, read or not)
            if not is_input and not _named(node.keywords):
                shown = self.auto_name(base)
            self.failed_layer(exc, is_input, shown, span)
            raise
        try:
            if is_input:
                self.input_layer(args)
                return
            given = args.nodes.get("name")  # `name=` (no layer class takes it by position)
            name: object = given.value if type(given) is ast.Constant else given
            if name is None:  # no name, or name=None: Keras names the layer
                shown = self.auto_name(base)
            else:
                if type(name) is not str:  # (a string constant is its own value)
                    name = args.raw("name", None)
                name = name or shown
                if not isinstance(name, str):
                    raise args.bad("name", "a string")
                shown = name
            args.name = shown
            if canon in MERGES:
                raise refuse(span, "P001", f"{shown}: {cls} joins two or more tensors, and a "
                             "Sequential model passes one from layer to layer", "write the "
                             "model with the functional API, e.g. `x = layers.add([x, y])`")
            declared = None
            if not self.layers and self.input is None:
                self.read_input(args)
            else:
                declared = self.declared_input(args)
            made = build(args)  # the layers carry the spans of the arguments read
            if declared is not None:
                made[0] = replace(made[0], declared_input=declared)
        except Refusal as exc:
            self.failed_layer(exc, is_input, shown, span)
            raise
        self.layers += made
        last = made[-1]  # (the layers a call makes all give the same rank)
        if type(last) in _RANK:
            self.rank = 1 if type(last) is GlobalPool and not last.keepdims \
                else _RANK[type(last)]

    def auto_name(self, base: str) -> str:
        """Keras's name for the next layer of a kind it names itself: conv2d, conv2d_1..."""
        self.names[base] = n = self.names.get(base, -1) + 1
        return f"{base}_{n}" if n else base

    def unknown(self, node: ast.expr, cls: str | None, span: Span) -> Refusal:
        """What to raise for an item that is no layer call, or a call of no layer cnncalc
        knows; its placeholder is recorded as for any layer that fails."""
        if not isinstance(node, ast.Call) or cls is None:
            exc = refuse(span, "P001", "expected a layer such as `Conv2D(32, (3, 3))`, found "
                         f"`{self.segment(node)}`", "write the layer call in model.add(...)")
        else:
            exc = refuse(span, "P002", f"unknown Keras layer `{cls}`",
                         suggest(cls, [*LAYERS, *ALIASES], fold_case=False)
                         or "cnncalc reads " + ", ".join(sorted(LAYERS)))
        # an unknown `Input...` counts as an input layer
        self.failed_layer(exc, (cls or "").startswith("Input"), cls or "?", span)
        return exc

    def failed_layer(self, exc: Refusal, is_input: bool, shown: str, span: Span) -> None:
        """A layer that could not be read leaves a placeholder, and an input layer or first
        layer that fails accounts for the input (P004 on top would be noise)."""
        if is_input or not self.layers:
            self.input_span = self.input_span or (exc.diag.span if exc.diag else span)
        if not is_input:
            self.layers.append(Unparsed(name=shown, span=span))

    def input_layer(self, args: Args) -> None:
        if self.layers or self.input is not None:
            raise refuse(args.span, "P007" if self.layers else "P005", f"{args.cls} comes after "
                         "the first layer or input", "give the input once, above every layer")
        if not self.read_input(args) and not self.input_given:
            raise refuse(args.span, "P010", f"{args.cls} gives no shape",
                         f"write {args.cls}(shape=(224, 224, 3))")

    def declared_input(self, args: Args) -> tuple[Shape, Span] | None:
        """An ``input_shape=`` on a layer that does not define the input: what it claims the
        layer receives, checked by the analysis (C001); None when none is given or readable
        (an unreadable one is reported)."""
        key = next((k for k in INPUT_KEYS if k in args.nodes), None)
        if key is None:
            return None
        try:
            v = self.value(args.nodes[key])
        except Refusal as exc:
            self.report(exc)
            return None
        v = v[1:] if key.startswith("batch_") and isinstance(v, tuple) else v
        shape = ints(v, 1) or ints(v, 3)
        return None if shape is None else (shape, args.arg_span(key))

    def read_input(self, args: Args) -> bool:
        """The input volume from ``shape=``, ``input_shape=``... if given; problems are moot
        (and not reported) when ``--input`` or the ``# cnncalc: input`` comment supplies it."""
        key = next((k for k in INPUT_KEYS if k in args.nodes), None)
        if key is None:
            return False
        try:
            v = self.value(args.nodes[key])
            v = v[1:] if key.startswith("batch_") and isinstance(v, tuple) else v
            shape = ints(v, 1) or ints(v, 3)
            if shape is None:
                raise refuse(args.arg_span(key), "P011", f"`{self.segment(args.nodes[key])}` "
                             "is not a fixed HxWxC or N input", "give whole sizes, e.g. "
                             "(224, 224, 3), or pass --input 224x224x3")
            self.input, self.input_span, self.rank = shape, args.arg_span(key), len(shape)
        except Refusal as exc:
            if not self.input_given and exc.diag is not None:
                self.diags.append(exc.diag)
                self.input_span = self.input_span or exc.diag.span
        return True

    def spec(self) -> Spec:
        if self.wanted is not None and self.wanted not in self.models:
            built = ", ".join(f"`{n}`" for n in self.models if n) or "no named model"
            self.diags.append(Diagnostic(
                Span(self.path, 1, 1, 2), "P015", f"--model {self.wanted}: the file builds "
                f"{built}", "name the variable a model is assigned to"))
        if self.directive is not None and self.input is None:
            self.input, self.input_span = self.directive, self.directive_span
        elif self.directive is not None and self.input != self.directive:
            code = "x".join(map(str, self.input or ()))
            self.diags.append(Diagnostic(
                self.directive_span or Span(self.path, 1, 1, 2), "P005", "the `# cnncalc: "
                f"input` comment disagrees with the code's input {code}", "remove one of them"))
        if self.input is None and self.input_span is None and not self.input_given:
            self.input_span = self.layers[0].span if self.layers else Span(self.path, 1, 1, 2)
            self.diags.append(Diagnostic(
                self.input_span, "P004", "no input volume", "add `# cnncalc: input 28x28x1`, "
                "`Input(shape=(28, 28, 1))` or input_shape= on the first layer; or pass --input"))
        return Spec(self.path, self.input, self.input_span, tuple(self.layers), tuple(self.diags),
                    tuple(self.lines), "keras", "floor")


def parse_keras(text: str, path: str, defines: Mapping[str, DefineValue],
                input_given: bool, model: str | None = None,
                max_layers: int = MAX_LAYERS) -> Spec:
    """Read Keras code into a Spec; ``input_given`` says ``--input`` supplies the volume;
    ``model`` names the variable of the model to read when the file builds several. Reading
    stops at the first layer (or problem) over ``max_layers``."""
    r = _Reader(text, path, defines, input_given, model, max_layers)
    try:
        with quiet_parse():
            tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        line, col = min(max(exc.lineno or 1, 1), len(r.src)), max(exc.offset or 1, 1)
        end = exc.end_offset if exc.end_lineno == exc.lineno and (exc.end_offset or 0) > col \
            else col + 1
        r.input_span = r.input_span or Span(path, line, col, end or col + 1)
        r.diags.append(Diagnostic(Span(path, line, col, end or col + 1), "P001",
                                  f"Python syntax error: {exc.msg}", "cnncalc reads Keras code "
                                  "as Python: check the brackets and quotes"))
    except (ValueError, RecursionError, MemoryError) as exc:
        r.input_span = r.input_span or Span(path, 1, 1, 2)
        r.diags.append(Diagnostic(r.input_span, "P001", f"cannot read the code: {exc}",
                                  "cnncalc reads Keras code as Python"))
    else:
        r.read(tree.body)
    return r.spec()
