"""Keras code: ``model.add(Conv2D(...))`` lines and ``Sequential([...])`` lists, read with ``ast``.

    model = Sequential()
    model.add(Conv2D(32, kernel_size=(3, 3), activation='relu', input_shape=input_shape))
    model.add(Dense(num_classes, activation='softmax'))

The code is parsed, never run: nothing is evaluated, compiled or imported. An argument that
decides a shape or a count is read only when it is a literal (numbers, strings, True, False,
None, tuples and lists of them, a unary minus) or a name bound by ``NAME = literal`` in the file
or by ``--define NAME=VALUE`` (which wins); anything else is P009. Arguments that change no
shape or count (``activation``, ``name``-like bookkeeping, initialisers, regularisers,
constraints, ``momentum``...) are accepted on any layer and not read at all, so
``kernel_regularizer=regularizers.l2(0.01)`` is fine; any other unknown keyword is P010.

Conventions, as Keras computes them:

- defaults: padding 'valid', strides 1, pool size 2x2 and pool strides = pool size, use_bias
  True; sizes that are not whole are floored (rounding "floor");
- ``activation='relu'`` inside a layer adds no row, as in Keras's summary; ``Activation``,
  ``ReLU``, ``Softmax`` and ``LeakyReLU`` are rows of their own;
- SeparableConv2D is two rows, ``NAME/depthwise`` (no bias) and ``NAME/pointwise`` (1x1, bias);
- Conv2DTranspose without output_padding gives ``W*S + max(F - S, 0)`` for 'valid' (written as
  pad 0 and output_padding ``max(S - F, 0)``) and ``W*S`` for 'same'; with an output_padding,
  'same' pads ``F // 2`` each side, as Keras's ``deconv_output_length`` does;
- Dense on an HxWxC volume works on each position (a dot product along the last axis), so it
  becomes a 1x1 convolution that keeps the Dense layer's name;
- names are Keras's automatic ones (conv2d, conv2d_1, max_pooling2d...) unless ``name=`` is given;
- the input comes from ``Input``/``InputLayer``, ``input_shape=`` (``batch_input_shape=``,
  ``input_dim=``) on the first layer, or a ``# cnncalc: input HxWxC`` comment.
"""

from __future__ import annotations

import ast
import difflib
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Literal, TypeGuard

from cnncalc.diagnostics import Diagnostic
from cnncalc.parse import DefineValue
from cnncalc.parse.directives import find_input
from cnncalc.spec import (
    Activation,
    BatchNorm,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalPool,
    Layer,
    Padding,
    Pair,
    Pool,
    Shape,
    Span,
    Spec,
    Unparsed,
    ZeroPad,
)

_NEUTRAL = frozenset((
    "name", "trainable", "dtype", "activation", "activity_regularizer", "weights", "autocast",
    "dynamic", "lora_rank", "batch_size", "momentum", "epsilon", "renorm", "renorm_clipping",
    "renorm_momentum", "fused", "virtual_batch_size", "adjustment", "synchronized",
    "noise_shape", "seed", "max_value", "negative_slope", "threshold", "alpha", "sparse",
    "ragged", "optional"))
_NEUTRAL_RE = re.compile(r"\w+_(?:initializer|regularizer|constraint)")
_INPUT_KEYS = ("shape", "input_shape", "batch_shape", "batch_input_shape", "input_dim")
_METHODS = frozenset(("add", "compile", "fit", "summary", "evaluate", "predict", "save",
                      "save_weights", "build"))
_FIELDS = {"filters": "filters", "kernel_size": "kernel", "pool_size": "kernel",
           "strides": "stride", "padding": "pad", "dilation_rate": "dilation",
           "groups": "groups", "units": "units", "rate": "p", "output_padding": "output_padding",
           "depth_multiplier": "depth_multiplier"}
_ALIASES = {"Convolution2D": "Conv2D", "Deconvolution2D": "Conv2DTranspose",
            "SeparableConvolution2D": "SeparableConv2D", "MaxPool2D": "MaxPooling2D",
            "AvgPool2D": "AveragePooling2D", "GlobalAvgPool2D": "GlobalAveragePooling2D",
            "GlobalMaxPool2D": "GlobalMaxPooling2D"}
_WHAT = {ast.Call: "a call", ast.Attribute: "an attribute access", ast.Lambda: "a lambda",
         ast.JoinedStr: "an f-string", ast.Subscript: "a subscript", ast.BinOp: "arithmetic",
         ast.ListComp: "a comprehension", ast.GeneratorExp: "a comprehension",
         ast.Starred: "an unpacking", ast.Dict: "a dict", ast.IfExp: "a conditional"}


class _Fail(Exception):
    """A statement, layer or value that cannot be read; ``diag`` None when already reported."""

    def __init__(self, diag: Diagnostic | None) -> None:
        super().__init__()
        self.diag = diag


def _fail(span: Span, code: str, message: str, hint: str) -> _Fail:
    return _Fail(Diagnostic(span, code, message, hint))


def _is_int(v: object) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _ints(v: object, n: int) -> tuple[int, ...] | None:
    """``v`` as ``n`` ints (one int stands for ``n`` copies), else None."""
    if _is_int(v):
        return (v,) * n
    items = tuple(x for x in v if _is_int(x)) if isinstance(v, tuple) else ()
    return items if isinstance(v, tuple) and len(items) == n == len(v) else None


def _callee(func: ast.expr) -> str | None:
    """``Conv2D``, ``layers.Conv2D`` or ``tf.keras.layers.Conv2D`` -> ``Conv2D``."""
    name = func.attr if isinstance(func, ast.Attribute) else None
    while isinstance(func, ast.Attribute):
        func = func.value
    return (name or func.id) if isinstance(func, ast.Name) else None


def _snake(cls: str) -> str:
    """Keras's automatic name: ``MaxPooling2D`` -> ``max_pooling2d``, ``ReLU`` -> ``re_lu``."""
    return re.sub(r"([a-z])([A-Z])", r"\1_\2",
                  re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", cls)).lower()


class _Args:
    """One layer call's arguments by parameter name; a value is read only when asked for."""

    def __init__(self, r: _Reader, node: ast.Call, cls: str, positional: tuple[str, ...]) -> None:
        self.r, self.cls, self.span, self.name = r, cls, r.span(node), cls
        self.nodes: dict[str, ast.expr] = {}
        self.spans: dict[str, Span] = {}
        self.fields: list[tuple[str, Span]] = []
        for i, arg in enumerate(node.args):
            if isinstance(arg, ast.Starred) or i >= len(positional):
                raise r.not_literal(arg) if isinstance(arg, ast.Starred) else _fail(
                    r.span(arg), "P010", f"{cls} takes at most {len(positional)} positional "
                    "arguments", "name the argument, e.g. `strides=2`")
            self._put(positional[i], arg, r.span(arg))
        for kw in node.keywords:
            if kw.arg is None:
                raise r.not_literal(kw.value)
            if kw.arg not in positional and kw.arg not in _NEUTRAL \
                    and kw.arg not in _INPUT_KEYS and not _NEUTRAL_RE.fullmatch(kw.arg):
                close = difflib.get_close_matches(kw.arg, [*positional, *_NEUTRAL], n=1)
                raise _fail(r.span(kw), "P010", f"{cls} has no argument `{kw.arg}`",
                            f"did you mean `{close[0]}`?" if close else f"{cls} takes "
                            + ", ".join(f"`{a}`" for a in positional))
            self._put(kw.arg, kw.value, r.span(kw))

    def _put(self, name: str, node: ast.expr, span: Span) -> None:
        if name in self.nodes:
            raise _fail(span, "P010", f"{self.cls}: `{name}` is given twice",
                        "give each argument once")
        self.nodes[name], self.spans[name] = node, span

    def raw(self, name: str, default: object, required: bool = False) -> object:
        if name not in self.nodes:
            if required:
                raise _fail(self.span, "P010", f"{self.cls} needs `{name}`",
                            f"give it, e.g. `{self.cls}({name}=...)`")
            return default
        value = self.r.value(self.nodes[name])
        field = (_FIELDS[name], self.spans[name]) if name in _FIELDS else None
        if field is not None and field not in self.fields:
            self.fields.append(field)
        return value

    def bad(self, name: str, expected: str) -> _Fail:
        return _fail(self.spans[name], "P010", f"{self.cls}: `{self.r.segment(self.nodes[name])}`"
                     f" is not {expected}", f"Keras's `{name}` is {expected}")

    def count(self, name: str, default: int | None = None) -> int:
        v = self.raw(name, default, default is None)
        if not _is_int(v):
            raise self.bad(name, "a whole number")
        return v

    def pair(self, name: str, default: Pair | None = None) -> Pair:
        v = _ints(self.raw(name, default, default is None), 2)
        if v is None:
            raise self.bad(name, "a whole number or a pair such as (3, 3)")
        return (v[0], v[1])

    def flag(self, name: str, default: bool) -> bool:
        v = self.raw(name, default)
        if not isinstance(v, bool):
            raise self.bad(name, "True or False")
        return v

    def padding(self) -> Padding:
        v = self.raw("padding", "valid")
        if isinstance(v, str) and v.lower() in ("same", "valid"):
            return Padding.same() if v.lower() == "same" else Padding()
        raise self.bad("padding", "'valid' or 'same'")

    def data_format(self) -> None:
        v = self.raw("data_format", None)
        if v == "channels_first":
            raise _fail(self.spans["data_format"], "P011", f"{self.cls}: data_format="
                        "'channels_first' is not supported", "cnncalc reads HxWxC volumes "
                        "(channels_last, Keras's default): drop data_format")
        if v not in (None, "channels_last"):
            raise self.bad("data_format", "'channels_last' or 'channels_first'")


def _conv(c: _Args) -> list[Layer]:
    """Conv2D, Conv2DTranspose, DepthwiseConv2D and SeparableConv2D."""
    kernel, stride = c.pair("kernel_size"), c.pair("strides", (1, 1))
    padding, dilation, bias = c.padding(), c.pair("dilation_rate", (1, 1)), c.flag("use_bias", True)
    c.data_format()
    conv = Conv(name=c.name, span=c.span, filters=0, kernel=kernel, stride=stride,
                padding=padding, dilation=dilation, bias=bias)
    if c.cls == "DepthwiseConv2D":
        return [replace(conv, depth_multiplier=c.count("depth_multiplier", 1))]
    filters = c.count("filters")
    if c.cls == "SeparableConv2D":
        return [replace(conv, name=f"{c.name}/depthwise", bias=False,
                        depth_multiplier=c.count("depth_multiplier", 1)),
                Conv(name=f"{c.name}/pointwise", span=c.span, filters=filters, kernel=(1, 1),
                     bias=bias)]
    if c.cls == "Conv2D":
        return [replace(conv, filters=filters, groups=c.count("groups", 1))]
    spans = [d * (f - 1) + 1 for f, d in zip(kernel, dilation, strict=True)]
    out_pad: Pair = (0, 0)
    if c.raw("output_padding", None) is not None:
        out_pad = c.pair("output_padding")
        if padding.mode == "same":
            padding = Padding.symmetric(spans[0] // 2, spans[1] // 2)
    elif padding.mode != "same":
        out_pad = (max(stride[0] - spans[0], 0), max(stride[1] - spans[1], 0))
    return [replace(conv, filters=filters, transposed=True, padding=padding,
                    output_padding=out_pad)]


def _pool(c: _Args) -> list[Layer]:
    """MaxPooling2D, AveragePooling2D and their global forms."""
    op: Literal["max", "avg"] = "max" if "Max" in c.cls else "avg"
    c.data_format()
    if c.cls.startswith("Global"):
        return [GlobalPool(name=c.name, span=c.span, op=op, keepdims=c.flag("keepdims", False))]
    kernel = c.pair("pool_size", (2, 2))
    stride = kernel if c.raw("strides", None) is None else c.pair("strides")
    return [Pool(name=c.name, span=c.span, op=op, kernel=kernel, stride=stride,
                 padding=c.padding())]


def _batchnorm(c: _Args) -> list[Layer]:
    if c.raw("axis", -1) not in (-1, 1 if c.r.rank == 1 else 3):
        raise _fail(c.spans["axis"], "P011", f"{c.name}: cnncalc normalises only the channel "
                    "axis", "drop `axis` (Keras's default -1)")
    return [BatchNorm(name=c.name, span=c.span, center=c.flag("center", True),
                      scale=c.flag("scale", True))]


def _dropout(c: _Args) -> list[Layer]:
    rate = c.raw("rate", None, True)
    if not isinstance(rate, (int, float)) or isinstance(rate, bool):
        raise c.bad("rate", "a number such as 0.5")
    return [Dropout(name=c.name, span=c.span, p=float(rate))]


def _dense(c: _Args) -> list[Layer]:
    units, bias = c.count("units"), c.flag("use_bias", True)
    if c.r.rank == 3:
        c.fields = [("filters" if f == "units" else f, s) for f, s in c.fields]
        return [Conv(name=c.name, span=c.span, filters=units, kernel=(1, 1), bias=bias)]
    return [Dense(name=c.name, span=c.span, units=units, bias=bias)]


def _zeropad(c: _Args) -> list[Layer]:
    v = c.raw("padding", 1)
    c.data_format()
    hw = _ints(v, 2)
    h, w = ((hw[0],) * 2, (hw[1],) * 2) if hw else (_ints(v[0], 2), _ints(v[1], 2)) \
        if isinstance(v, tuple) and len(v) == 2 else (None, None)
    if h is None or w is None:
        raise c.bad("padding", "N, (H, W) or ((top, bottom), (left, right))")
    return [ZeroPad(name=c.name, span=c.span, padding=Padding("explicit", (h[0], h[1]),
                                                              (w[0], w[1])))]


def _flatten(c: _Args) -> list[Layer]:
    c.data_format()
    return [Flatten(name=c.name, span=c.span)]


def _activation(c: _Args) -> list[Layer]:
    """Keras's names without underscores, as the executor knows them: ``leaky_relu`` ->
    ``leakyrelu``, ``linear`` -> ``identity``; ``ReLU(6.0)`` is ``relu6``."""
    cap = c.nodes.get("max_value")
    fn = {"Softmax": "softmax", "LeakyReLU": "leakyrelu"}.get(c.cls) or (
        ("relu6" if isinstance(cap, ast.Constant) and cap.value == 6 else "relu")
        if c.cls == "ReLU" else c.raw("activation", None, True))
    if not isinstance(fn, str):
        raise c.bad("activation", "a string such as 'relu'")
    fn = fn.lower().replace("_", "")
    return [Activation(name=c.name, span=c.span, fn="identity" if fn == "linear" else fn)]


_CONV = "strides padding data_format dilation_rate"
_LAYERS: dict[str, tuple[Callable[[_Args], list[Layer]], str]] = {
    "Conv2D": (_conv, f"filters kernel_size {_CONV} groups activation use_bias"),
    "Conv2DTranspose": (_conv, "filters kernel_size strides padding output_padding data_format "
                        "dilation_rate activation use_bias"),
    "DepthwiseConv2D": (_conv, "kernel_size strides padding depth_multiplier data_format "
                        "dilation_rate activation use_bias"),
    "SeparableConv2D": (_conv, f"filters kernel_size {_CONV} depth_multiplier activation "
                        "use_bias"),
    "MaxPooling2D": (_pool, "pool_size strides padding data_format"),
    "AveragePooling2D": (_pool, "pool_size strides padding data_format"),
    "GlobalAveragePooling2D": (_pool, "data_format keepdims"),
    "GlobalMaxPooling2D": (_pool, "data_format keepdims"),
    "BatchNormalization": (_batchnorm, "axis momentum epsilon center scale"),
    "Dropout": (_dropout, "rate noise_shape seed"),
    "Flatten": (_flatten, "data_format"),
    "Dense": (_dense, "units activation use_bias"),
    "Activation": (_activation, "activation"),
    "ZeroPadding2D": (_zeropad, "padding data_format"),
    "ReLU": (_activation, "max_value negative_slope threshold"),
    "Softmax": (_activation, "axis"),
    "LeakyReLU": (_activation, "negative_slope"),
    "Input": (_flatten, "shape batch_size name dtype"),
    "InputLayer": (_flatten, "input_shape batch_size dtype"),
}


class _Reader:
    def __init__(self, text: str, path: str, defines: Mapping[str, DefineValue],
                 input_given: bool) -> None:
        self.text, self.path, self.defines = text, path, defines
        self.src = re.split(r"\r\n|\r|\n", text)
        self.bound: dict[str, object] = {}
        self.failed: set[str] = set()
        self.layers: list[Layer] = []
        self.names: dict[str, int] = {}
        self.rank: int | None = None
        self.directive, self.directive_span, diags = find_input(text.splitlines(), path)
        self.diags: list[Diagnostic] = list(diags)
        self.input_given = input_given or self.directive_span is not None
        self.input: Shape | None = None
        self.input_span: Span | None = self.directive_span if diags else None

    def _col(self, line: int, offset: int) -> int:
        text = self.src[line - 1] if 0 < line <= len(self.src) else ""
        return len(text.encode("utf-8", "surrogatepass")[:offset].decode("utf-8", "ignore")) + 1

    def span(self, node: ast.expr | ast.stmt | ast.keyword) -> Span:
        """1-based columns from ast's 0-based UTF-8 offsets; a call spanning lines ends at the
        end of its first line."""
        line, col = node.lineno, self._col(node.lineno, node.col_offset)
        end = self._col(line, node.end_col_offset) if node.end_lineno == line \
            and node.end_col_offset is not None else len(self.src[line - 1]) + 1
        return Span(self.path, line, col, max(end, col + 1))

    def segment(self, node: ast.expr) -> str:
        code = " ".join((ast.get_source_segment(self.text, node) or "?").split())
        return code if len(code) <= 40 else code[:37] + "..."

    def not_literal(self, node: ast.expr) -> _Fail:
        return _fail(self.span(node), "P009", f"`{self.segment(node)}` is "
                     f"{_WHAT.get(type(node), 'an expression')}, not a literal: cnncalc reads "
                     "the code without running it", "write the value itself (a number, a "
                     "string, or a tuple of them), or bind a name with --define NAME=VALUE")

    def value(self, node: ast.expr) -> object:
        """A literal's value, found without evaluating anything."""
        if isinstance(node, ast.Constant) and (
                node.value is None or isinstance(node.value, (int, float, str))):
            return node.value
        if isinstance(node, (ast.Tuple, ast.List)):
            return tuple(self.value(e) for e in node.elts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
                and isinstance(node.operand, ast.Constant) \
                and (_is_int(node.operand.value) or isinstance(node.operand.value, float)):
            return -node.operand.value
        if not isinstance(node, ast.Name):
            raise self.not_literal(node)
        name = node.id
        if name in self.defines or name in self.bound:
            return self.defines[name] if name in self.defines else self.bound[name]
        if name in self.failed:
            raise _Fail(None)
        raise _fail(self.span(node), "P008", f"`{name}` has no value: cnncalc reads the code "
                    "without running it",
                    "pass --input 28x28x1 (or --define input_shape=28x28x1)"
                    if name == "input_shape" else f"pass --define {name}=VALUE, e.g. --define "
                    f"{name}=10, or write `{name} = 10` above the model")

    def attempt(self, read: Callable[..., None], *args: object) -> None:
        try:
            read(*args)
        except _Fail as exc:
            if exc.diag is not None:
                self.diags.append(exc.diag)

    def statement(self, stmt: ast.stmt) -> None:
        v = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign, ast.AnnAssign)) else None
        call = v if isinstance(v, ast.Call) else None
        method = call.func.attr if call is not None and isinstance(call.func, ast.Attribute) \
            and isinstance(call.func.value, ast.Name) else None
        if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Pass)) or (
                isinstance(stmt, ast.Expr) and isinstance(v, ast.Constant)):
            return
        if call is not None and _callee(call.func) == "Sequential":
            items = call.args[0] if call.args else next(
                (k.value for k in call.keywords if k.arg == "layers"), ast.List([]))
            if not isinstance(items, (ast.List, ast.Tuple)):
                raise self.not_literal(items)
            for item in items.elts:
                self.attempt(self.layer, item)
        elif isinstance(stmt, ast.Expr) and call is not None and method in _METHODS:
            if method == "add" and (len(call.args) != 1 or call.keywords):
                raise _fail(self.span(call), "P001", "model.add takes one layer",
                            "write one layer per model.add(...), e.g. `model.add(Dense(10))`")
            if method == "add":
                self.layer(call.args[0])
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and v is not None:
            self.assign(stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target], v)
        else:
            what = {ast.For: "a loop", ast.While: "a loop", ast.If: "an `if` statement",
                    ast.FunctionDef: "a function definition", ast.With: "a `with` block"}
            raise _fail(self.span(stmt), "P001", "expected an import, `model = Sequential()`, "
                        "`model.add(Layer(...))` or `NAME = literal`, found "
                        f"{what.get(type(stmt), 'this statement')}", "cnncalc reads Keras code "
                        "without running it: write the layers out one per model.add(...) line")

    def assign(self, targets: list[ast.expr], value: ast.expr) -> None:
        """``NAME = literal`` (or ``a, b = 28, 28``) binds names as ``--define`` does."""
        if isinstance(value, ast.Call) and (_callee(value.func) in {*_LAYERS, *_ALIASES, "Model"}
                                            or isinstance(value.func, ast.Call)):
            raise _fail(self.span(value), "P001", "the functional API (`x = Layer(...)(x)`) is "
                        "not read", "write the layers in a Sequential model")
        names, values = targets, [value]
        if isinstance(targets[0], ast.Tuple) and isinstance(value, ast.Tuple):
            names, values = targets[0].elts, value.elts
        if len(targets) != 1 or len(names) != len(values) or not all(
                isinstance(t, ast.Name) for t in names):
            raise _fail(self.span(targets[0]), "P001", "cnncalc binds only plain names",
                        "write `NAME = literal`, e.g. `num_classes = 10`")
        for t, node in zip(names, values, strict=True):
            name = t.id if isinstance(t, ast.Name) else ""
            if name in self.defines:
                continue
            try:
                self.bound[name] = self.value(node)
                self.failed.discard(name)
            except _Fail as exc:
                self.failed.add(name)
                if exc.diag is not None and not (name == "input_shape" and self.input_given):
                    self.diags.append(exc.diag)

    def layer(self, node: ast.expr) -> None:
        span = self.span(node)
        cls = _callee(node.func) if isinstance(node, ast.Call) else None
        canon = _ALIASES.get(cls or "", cls or "")
        shown = cls or "?"
        try:
            if not isinstance(node, ast.Call) or cls is None:
                raise _fail(span, "P001", "expected a layer such as `Conv2D(32, (3, 3))`, found "
                            f"`{self.segment(node)}`", "write the layer call in model.add(...)")
            if canon not in _LAYERS:
                close = difflib.get_close_matches(cls, [*_LAYERS, *_ALIASES], n=1)
                raise _fail(span, "P002", f"unknown Keras layer `{cls}`",
                            f"did you mean `{close[0]}`?" if close else
                            "cnncalc reads " + ", ".join(sorted(_LAYERS)))
            if not canon.startswith("Input") and all(k.arg != "name" or (isinstance(
                    k.value, ast.Constant) and k.value.value is None) for k in node.keywords):
                base = _snake(canon)  # Keras counts only the layers it names itself
                self.names[base] = n = self.names.get(base, -1) + 1
                shown = f"{base}_{n}" if n else base
            build, positional = _LAYERS[canon]
            args = _Args(self, node, canon, tuple(positional.split()))
            if canon.startswith("Input"):
                self.input_layer(args)
                return
            name = args.raw("name", None) or shown
            if not isinstance(name, str):
                raise args.bad("name", "a string")
            args.name = shown = name
            if not self.layers and self.input is None:
                self.read_input(args)
            made = build(args)
        except _Fail as exc:
            if canon.startswith("Input") or not self.layers:  # P004 on top would be noise
                self.input_span = self.input_span or (exc.diag.span if exc.diag else span)
            if not canon.startswith("Input"):
                self.layers.append(Unparsed(name=shown, span=span))
            raise
        for lay in made:
            self.layers.append(replace(lay, fields=tuple(args.fields)))
            if isinstance(lay, (Conv, Pool, ZeroPad, GlobalPool, Flatten, Dense)):
                self.rank = 1 if isinstance(lay, (Flatten, Dense)) or (
                    isinstance(lay, GlobalPool) and not lay.keepdims) else 3

    def input_layer(self, args: _Args) -> None:
        if self.layers or self.input is not None:
            raise _fail(args.span, "P007" if self.layers else "P005", f"{args.cls} comes after "
                        "the first layer or input", "give the input once, above every layer")
        if not self.read_input(args) and not self.input_given:
            raise _fail(args.span, "P010", f"{args.cls} gives no shape",
                        f"write {args.cls}(shape=(224, 224, 3))")

    def read_input(self, args: _Args) -> bool:
        """The input volume from ``shape=``, ``input_shape=``... if given; problems are moot
        (and not reported) when ``--input`` or the ``# cnncalc: input`` comment supplies it."""
        key = next((k for k in _INPUT_KEYS if k in args.nodes), None)
        if key is None:
            return False
        try:
            v = self.value(args.nodes[key])
            v = v[1:] if key.startswith("batch_") and isinstance(v, tuple) else v
            shape = _ints(v, 1) or _ints(v, 3)
            if shape is None:
                raise _fail(args.spans[key], "P011", f"`{self.segment(args.nodes[key])}` is not "
                            "a fixed HxWxC or N input", "give whole sizes, e.g. (224, 224, 3), "
                            "or pass --input 224x224x3")
            self.input, self.input_span, self.rank = shape, args.spans[key], len(shape)
        except _Fail as exc:
            if not self.input_given and exc.diag is not None:
                self.diags.append(exc.diag)
                self.input_span = self.input_span or exc.diag.span
        return True

    def spec(self) -> Spec:
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
                    tuple(self.text.splitlines()), "keras", "floor")


def parse_keras(text: str, path: str, defines: Mapping[str, DefineValue],
                input_given: bool) -> Spec:
    """Read Keras code into a Spec; ``input_given`` says ``--input`` supplies the volume."""
    r = _Reader(text, path, defines, input_given)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
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
        for stmt in tree.body:
            r.attempt(r.statement, stmt)
    return r.spec()
