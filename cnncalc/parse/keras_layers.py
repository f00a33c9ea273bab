"""One Keras layer call, ``Conv2D(32, kernel_size=(3, 3), activation='relu')``, read: its
source text (:class:`Source`) and its arguments (:class:`Args`); the layers each class builds
from them are in :mod:`cnncalc.parse.keras_builders` (``LAYERS``).

An argument that decides a shape or a count is read only when it is a literal (numbers,
strings, True, False, None, tuples and lists of them, a unary minus) or a name bound by
``NAME = literal`` in the file or by ``--define NAME=VALUE`` (which wins); anything else is
P009. Arguments that change no shape or count (``activation``, ``name``-like bookkeeping,
initialisers, regularisers, constraints, ``momentum``...) are accepted on any layer and not
read at all, so ``kernel_regularizer=regularizers.l2(0.01)`` is fine; any other unknown keyword
is P010.

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
- ``Rescaling``, ``Normalization``, ``CenterCrop``, ``Cropping2D``, ``UpSampling2D`` and the
  augmentation and noise layers are read by :mod:`cnncalc.parse.keras_preprocessing`, which
  says how they count;
  ``Add``, ``Concatenate`` and ``Multiply`` by :mod:`cnncalc.parse.keras_merges`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import TypeVar

from cnncalc.diagnostics import Diagnostic
from cnncalc.parse import DefineValue
from cnncalc.parse.cursor import suggest
from cnncalc.parse.keras_builders import LAYERS
from cnncalc.parse.pycode import (
    Columns,
    Refusal,
    Value,
    char_col,
    ints,
    is_int,
    literal,
    refuse,
)
from cnncalc.spec import Layer, Padding, Pair, Span, source_lines

_NEUTRAL = frozenset((
    "name", "trainable", "dtype", "activation", "activity_regularizer", "weights", "autocast",
    "dynamic", "lora_rank", "batch_size", "momentum", "epsilon", "renorm", "renorm_clipping",
    "renorm_momentum", "fused", "virtual_batch_size", "adjustment", "synchronized",
    "noise_shape", "seed", "max_value", "negative_slope", "threshold", "alpha", "sparse",
    "ragged", "optional"))
_NEUTRAL_RE = re.compile(r"\w+_(?:initializer|regularizer|constraint)")
INPUT_KEYS = ("shape", "input_shape", "batch_shape", "batch_input_shape", "input_dim")
_FIELDS = {"filters": "filters", "kernel_size": "kernel", "pool_size": "kernel",
           "strides": "stride", "padding": "pad", "dilation_rate": "dilation",
           "groups": "groups", "units": "units", "rate": "p", "output_padding": "output_padding",
           "depth_multiplier": "depth_multiplier", "height": "size", "width": "size"}
ALIASES = {"Convolution2D": "Conv2D", "Deconvolution2D": "Conv2DTranspose",
           "SeparableConvolution2D": "SeparableConv2D", "MaxPool2D": "MaxPooling2D",
           "AvgPool2D": "AveragePooling2D", "GlobalAvgPool2D": "GlobalAveragePooling2D",
           "GlobalMaxPool2D": "GlobalMaxPooling2D"}
_SAME, _VALID = Padding.same(), Padding()  # frozen: one of each serves every layer
_WHAT = {ast.Call: "a call", ast.Attribute: "an attribute access", ast.Lambda: "a lambda",
         ast.JoinedStr: "an f-string", ast.Subscript: "a subscript", ast.BinOp: "arithmetic",
         ast.ListComp: "a comprehension", ast.GeneratorExp: "a comprehension",
         ast.Starred: "an unpacking", ast.Dict: "a dict", ast.IfExp: "a conditional"}
_CODE_WORD = re.compile(r"\S+")
_PLAIN = (int, float, str)  # a Constant of these types (bool is an int) is its own value
# Span(*fields) without the Python-level __new__ a NamedTuple has: the same tuple, made faster
_new_span = tuple.__new__
_L = TypeVar("_L", bound=Layer)


def _int_pair(elts: list[ast.expr]) -> Pair | None:
    """The value of a tuple such as ``(3, 3)`` (two int constants), else None."""
    if len(elts) == 2:
        a, b = elts
        if type(a) is ast.Constant and type(b) is ast.Constant:
            x, y = a.value, b.value
            if type(x) is int and type(y) is int:
                return (x, y)
    return None


class Source:
    """The code's text, its lines as ast numbers them, and the names it binds: what a layer's
    arguments are read against. ``rank`` is what the layers so far give: 3 for an HxWxC
    volume, 1 for a vector, None when not known yet."""

    def __init__(self, text: str, path: str, defines: Mapping[str, DefineValue]) -> None:
        self.text, self.path, self.defines = text, path, defines
        self.lines = source_lines(text)
        # as ast numbers them: the lines, and the empty one after a final line break
        self.src = [*self.lines, ""] if not text or text[-1] in "\r\n" else self.lines
        self.ascii = text.isascii()  # then a UTF-8 byte offset is a character offset
        self.columns = Columns(self.src)
        self.bound: dict[str, Value] = {}
        # a name whose `NAME = ...` could not be read: why, told where the name is first used
        # (code that prepares data binds many names no model reads)
        self.failed: dict[str, Diagnostic | None] = {}
        self.told: set[int] = set()  # the ids of those problems reported
        self.rank: int | None = None

    def span(self, node: ast.expr | ast.stmt | ast.keyword) -> Span:
        """1-based columns from ast's 0-based UTF-8 offsets; a call spanning lines ends at the
        end of its first line, and a span is one column wide at least. In ASCII text an offset
        within the row is its column - 1: nearly every span is that of a node on one row of
        ASCII text, worked out first."""
        line, start, end = node.lineno, node.col_offset, node.end_col_offset
        src = self.src
        if self.ascii and node.end_lineno == line and end is not None and 0 < line <= len(src) \
                and 0 <= start <= end <= len(src[line - 1]):
            return _new_span(Span, (self.path, line, start + 1, end + 1 if end > start
                                    else start + 2))
        row = src[line - 1] if 0 < line <= len(src) else ""
        n = len(row)
        col = start + 1 if self.ascii and 0 <= start <= n else self.char(line, start) + 1
        if node.end_lineno != line or end is None:
            stop = len(src[line - 1]) + 1
        else:
            stop = end + 1 if self.ascii and 0 <= end <= n else self.char(line, end) + 1
        return _new_span(Span, (self.path, line, col, stop if stop > col else col + 1))

    def char(self, line: int, offset: int) -> int:
        """The 0-based column of a UTF-8 byte offset on ``line`` (1-based; none: 0)."""
        return self.columns.col(line - 1, offset) if 0 < line <= len(self.src) else \
            char_col("", offset)

    def segment(self, node: ast.expr) -> str:
        """The node's code as a message quotes it: its whitespace runs made one space, at most
        40 characters. Read from the rows the node is on, and only as far as needed: the whole
        text is not split into lines again for each message (``ast.get_source_segment`` does)
        and a long node is not copied."""
        first, last, end = node.lineno, node.end_lineno, node.end_col_offset
        if last is None or end is None or not 0 < first <= last <= len(self.src):
            return "?"
        words: list[str] = []
        size = -1  # the length of the words joined by spaces
        for line in range(first, last + 1):
            row = self.src[line - 1]
            start = self.char(line, node.col_offset) if line == first else 0
            stop = self.char(line, end) if line == last else len(row)
            for m in _CODE_WORD.finditer(row, start, stop):
                words.append(row[m.start():min(m.end(), m.start() + 41)])
                size += 1 + len(words[-1])
                if size > 40:
                    return " ".join(words)[:37] + "..."
        return " ".join(words) or "?"

    def not_literal(self, node: ast.expr) -> Refusal:
        return refuse(self.span(node), "P009", f"`{self.segment(node)}` is "
                      f"{_WHAT.get(type(node), 'an expression')}, not a literal: cnncalc reads "
                      "the code without running it", "write the value itself (a number, a "
                      "string, or a tuple of them), or bind a name with --define NAME=VALUE")

    def value(self, node: ast.expr) -> Value:
        """A literal's value, found without evaluating anything."""
        return literal(node, self.name_value, self.not_literal)

    def name_value(self, node: ast.Name) -> Value:
        """What ``--define`` or ``NAME = literal`` binds the name to."""
        name = node.id
        if name in self.defines or name in self.bound:
            return self.defines[name] if name in self.defines else self.bound[name]
        if name in self.failed:
            diag = self.failed[name]
            if diag is None or id(diag) in self.told:
                raise Refusal(None)
            self.told.add(id(diag))
            raise Refusal(diag)
        raise refuse(self.span(node), "P008", f"`{name}` has no value: cnncalc reads the code "
                     "without running it",
                     "pass --input 28x28x1 (or --define input_shape=28x28x1)"
                     if name == "input_shape" else f"pass --define {name}=VALUE, e.g. --define "
                     f"{name}=10, or write `{name} = 10` above the model")


class Args:
    """One layer call's arguments by parameter name; a value is read only when asked for, and
    an argument's span is worked out only when a message or a layer's ``fields`` needs it.
    ``fields`` holds, by argument, the spans of the shape-deciding arguments read so far in
    reading order: a builder reads every argument it needs before it makes its layers."""

    __slots__ = ("cls", "fields", "keywords", "name", "nodes", "r", "span")

    def __init__(self, r: Source, node: ast.Call, cls: str, span: Span) -> None:
        self.r, self.cls, self.span, self.name = r, cls, span, cls
        self.fields: dict[str, tuple[str, Span]] = {}
        positional, accepted = _PARAMS[cls]
        nodes: dict[str, ast.expr] = {}
        args = node.args
        if args:  # each parameter in turn (their names are all different); no `*x`, no extra
            if len(args) > len(positional):
                _refuse_positional(r, cls, positional, args)
            for param, arg in zip(positional, args, strict=False):
                if type(arg) is ast.Starred:
                    _refuse_positional(r, cls, positional, args)
                nodes[param] = arg
        keywords: dict[str, ast.keyword] = {}  # the arguments given as `name=value`
        self.nodes, self.keywords = nodes, keywords
        for kw in node.keywords:
            name = kw.arg
            if name is None or name not in accepted or name in nodes:
                name = _odd_keyword(r, cls, positional, accepted, nodes, kw)
            nodes[name] = kw.value
            keywords[name] = kw

    def arg_span(self, name: str) -> Span:
        """Where the argument is written: ``name=value`` for a keyword, else its value (each
        argument is given once, by position or by keyword)."""
        return self.r.span(self.keywords.get(name) or self.nodes[name])

    def raw(self, name: str, default: Value, required: bool = False) -> Value:
        node = self.nodes.get(name)
        if node is None:
            if required:
                raise refuse(self.span, "P010", f"{self.cls} needs `{name}`",
                             f"give it, e.g. `{self.cls}({name}=...)`")
            return default
        return self.read(name, node)

    def read(self, name: str, node: ast.expr) -> Value:
        """The value of the argument ``name``, given as ``node``; a shape-deciding one has its
        span recorded in ``fields``."""
        # what literal() gives for the commonest values (3, 'same', (3, 3)), without the call
        value: Value
        if type(node) is ast.Constant:
            plain = node.value
            value = plain if isinstance(plain, _PLAIN) else literal(
                node, self.r.name_value, self.r.not_literal)
        elif type(node) is not ast.Tuple or (value := _int_pair(node.elts)) is None:
            value = literal(node, self.r.name_value, self.r.not_literal)
        field = _FIELDS.get(name)
        if field is not None and name not in self.fields:
            self.fields[name] = (field, self.r.span(self.keywords.get(name) or node))
        return value

    def recorded(self) -> tuple[tuple[str, Span], ...]:
        """The ``fields`` of the layers made from this call."""
        return tuple(self.fields.values())

    def bad(self, name: str, expected: str) -> Refusal:
        return refuse(self.arg_span(name), "P010", f"{self.cls}: "
                      f"`{self.r.segment(self.nodes[name])}` is not {expected}",
                      f"Keras's `{name}` is {expected}")

    # count, pair, flag and padding return the default at once when the argument is not given
    # (or raise, without one)

    def count(self, name: str, default: int | None = None) -> int:
        node = self.nodes.get(name)
        if node is None and default is not None:
            return default
        v = self.raw(name, None, True) if node is None else self.read(name, node)
        if not is_int(v):
            raise self.bad(name, "a whole number")
        return v

    def pair(self, name: str, default: Pair | None = None) -> Pair:
        node = self.nodes.get(name)
        if node is None and default is not None:
            return default
        v = self.raw(name, None, True) if node is None else self.read(name, node)
        if type(v) is tuple and len(v) == 2 and type(v[0]) is int and type(v[1]) is int:
            return (v[0], v[1])  # what ints() gives, without the call
        pair = ints(v, 2)
        if pair is None:
            raise self.bad(name, "a whole number or a pair such as (3, 3)")
        return (pair[0], pair[1])

    def flag(self, name: str, default: bool) -> bool:
        node = self.nodes.get(name)
        if node is None:
            return default
        v = self.read(name, node)
        if not isinstance(v, bool):
            raise self.bad(name, "True or False")
        return v

    def padding(self) -> Padding:
        node = self.nodes.get("padding")
        if node is None:
            return _VALID
        v = self.read("padding", node)
        if isinstance(v, str) and v.lower() in ("same", "valid"):
            return _SAME if v.lower() == "same" else _VALID
        raise self.bad("padding", "'valid' or 'same'")

    def data_format(self) -> None:
        if "data_format" not in self.nodes:
            return
        v = self.raw("data_format", None)
        if v == "channels_first":
            raise refuse(self.arg_span("data_format"), "P011", f"{self.cls}: data_format="
                         "'channels_first' is not supported", "cnncalc reads HxWxC volumes "
                         "(channels_last, Keras's default): drop data_format")
        if v not in (None, "channels_last"):
            raise self.bad("data_format", "'channels_last' or 'channels_first'")


def _refuse_positional(r: Source, cls: str, positional: tuple[str, ...],
                       args: list[ast.expr]) -> None:
    """Raise for the first positional argument that is ``*x`` or one too many."""
    for i, arg in enumerate(args):
        if isinstance(arg, ast.Starred):
            raise r.not_literal(arg)
        if i >= len(positional):
            raise refuse(r.span(arg), "P010", f"{cls} takes at most {len(positional)} "
                         "positional arguments", "name the argument, e.g. `strides=2`")


def _odd_keyword(r: Source, cls: str, positional: tuple[str, ...], accepted: frozenset[str],
                 nodes: dict[str, ast.expr], kw: ast.keyword) -> str:
    """Raise for ``**x``, an argument the layer does not take, or one given twice; the name
    of a neutral one that is not listed (``kernel_initializer=...``)."""
    name = kw.arg
    if name is None:
        raise r.not_literal(kw.value)
    if name not in accepted and not _NEUTRAL_RE.fullmatch(name):
        raise refuse(r.span(kw), "P010", f"{cls} has no argument `{name}`",
                     suggest(name, [*positional, *_NEUTRAL], fold_case=False)
                     or f"{cls} takes " + ", ".join(f"`{a}`" for a in positional))
    if name in nodes:
        raise refuse(r.span(kw), "P010", f"{cls}: `{name}` is given twice",
                     "give each argument once")
    return name


# each layer's parameters in order (the positional ones), and every keyword it accepts
_PARAMS: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    cls: (tuple(params.split()), frozenset((*params.split(), *_NEUTRAL, *INPUT_KEYS)))
    for cls, (_, params) in LAYERS.items()}
