"""The lecture's notation: one layer a line, as on the CS231n / CS109 slides.

    Full (simplified) AlexNet architecture:
    [227x227x3] INPUT
    [55x55x96] CONV1: 96 11x11 filters at stride 4, pad 0
    [27x27x96] MAX POOL1: 3x3 filters at stride 2
    [27x27x96] NORM1: Normalization layer
    [4096] FC6: 4096 neurons
    [1000] FC8: 1000 neurons (class scores)

A leading ``[HxWxC]`` or ``[N]`` is the shape the author declares for the layer's output (an
assertion the analysis checks), except on INPUT where it defines the input volume. Keywords
are case-insensitive and the author's layer names are kept. A line ending in ``:`` that does
not start with a layer word is a heading; a trailing parenthesised remark is ignored; ``#``
starts a comment. Any other line is an error: nothing is skipped silently.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import replace

from cnncalc.diagnostics import Diagnostic
from cnncalc.parse.lexer import LexError, Token, parse_shape, parse_size, split_comment, tokenize
from cnncalc.spec import (
    LRN,
    Activation,
    Conv,
    Dense,
    Dropout,
    Flatten,
    Layer,
    Padding,
    Pair,
    Pool,
    Shape,
    Span,
    Spec,
    Unparsed,
)

# layer word (lower case, trailing digits removed) -> kind
KEYWORDS: dict[str, str] = {
    "input": "input",
    "conv": "conv", "convolution": "conv",
    "pool": "maxpool", "maxpool": "maxpool", "avgpool": "avgpool",
    "norm": "lrn", "lrn": "lrn",
    "fc": "fc", "dense": "fc",
    "relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "softmax": "softmax",
    "dropout": "dropout",
    "flatten": "flatten",
}
_POOL_PREFIX = {"max": "max", "avg": "avg", "average": "avg", "mean": "avg"}
_NORM_WORDS = {"normalization", "normalisation", "layer", "local", "response", "lrn"}


def _base(word: str) -> str:
    return re.sub(r"[\d_\-]+$", "", word.lower())


def _suggest(word: str, choices: list[str]) -> str:
    """``did you mean `CONV`?`` for a near miss, compared case-insensitively."""
    by_low = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(by_low), n=1, cutoff=0.6)
    return f"did you mean `{by_low[close[0]]}`?" if close else ""


class _Line:
    """A cursor over one line's tokens that raises LexError with what was expected."""

    def __init__(self, tokens: list[Token], path: str, line: int, end_col: int) -> None:
        self.tokens, self.path, self.line, self.end_col = tokens, path, line, end_col
        self.i = 0
        self.fields: list[tuple[str, Span]] = []

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def accept_word(self, *words: str) -> Token | None:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.low in words:
            return self.take()
        return None

    def accept_punct(self, *chars: str) -> Token | None:
        tok = self.peek()
        if tok is not None and tok.kind == "punct" and tok.text in chars:
            return self.take()
        return None

    def fail(self, expected: str, hint: str = "", choices: list[str] | None = None) -> LexError:
        tok = self.peek()
        if tok is None:
            span = Span(self.path, self.line, self.end_col, self.end_col + 1)
            found = "the end of the line"
        else:
            span = tok.span(self.path, self.line)
            found = f"`{tok.text}`"
            if choices and tok.kind == "word":
                hint = _suggest(tok.text, choices) or hint
        return LexError(Diagnostic(span, "P001", f"expected {expected}, found {found}", hint))

    def pair(self, what: str, fname: str) -> Pair:
        tok = self.peek()
        if tok is None or tok.kind not in ("size", "number") or "." in tok.text:
            raise self.fail(f"{what} (a whole number, or HxW such as 3x3)")
        dims = parse_size(self.take().text)
        if len(dims) > 2:
            self.i -= 1
            raise self.fail(f"{what} as N or HxW, not {len(dims)} numbers")
        self.fields.append((fname, tok.span(self.path, self.line)))
        return (dims[0], dims[-1])

    def count(self, what: str, fname: str) -> int:
        tok = self.peek()
        if tok is None or tok.kind != "number" or "." in tok.text:
            raise self.fail(what)
        self.fields.append((fname, tok.span(self.path, self.line)))
        return int(self.take().text)

    def options(self, allow_pad: bool = True) -> tuple[Pair | None, Padding | None]:
        """``at stride S, pad P`` in any order, with optional ``at``/``,``/``and``/``=``."""
        stride: Pair | None = None
        padding: Padding | None = None
        names = ["stride", "pad"] if allow_pad else ["stride"]
        while True:
            while self.accept_punct(",") or self.accept_word("at", "and", "with"):
                pass
            tok = self.peek()
            if tok is None or tok.kind == "remark":
                return stride, padding
            if self.accept_word("stride", "strides") and stride is None:
                self.accept_punct("=")
                stride = self.pair("a stride", "stride")
            elif allow_pad and padding is None and self.accept_word("pad", "padding"):
                self.accept_punct("=")
                q = self.accept_punct("?")
                if q is not None:
                    self.fields.append(("pad", q.span(self.path, self.line)))
                    padding = Padding.fit()
                else:
                    p = self.pair("a padding (a whole number, HxW, or ? to solve for it)", "pad")
                    padding = Padding.symmetric(*p)
            else:
                raise self.fail(" or ".join(f"`{n}`" for n in names), choices=names)

    def end(self) -> None:
        if self.peek() is not None and self.peek().kind == "remark":  # type: ignore[union-attr]
            self.take()
        if self.peek() is not None:
            raise self.fail("the end of the layer (a remark goes in parentheses)")


def _conv(c: _Line, base: dict[str, object]) -> Layer:
    filters = c.count("the number of filters, e.g. `96` in `96 11x11 filters`", "filters")
    kernel = c.pair("the filter size", "kernel")
    c.accept_word("filters", "filter", "kernels", "kernel")
    stride, padding = c.options()
    c.end()
    return Conv(filters=filters, kernel=kernel, stride=stride or (1, 1),
                padding=padding or Padding(), **base)  # type: ignore[arg-type]


def _pool(op: str) -> Callable[[_Line, dict[str, object]], Layer]:
    def parse(c: _Line, base: dict[str, object]) -> Layer:
        kernel = c.pair("the window size, e.g. `3x3`", "kernel")
        c.accept_word("filters", "filter", "window", "windows", "pooling")
        stride, padding = c.options()
        c.end()
        return Pool(op=op, kernel=kernel, stride=stride or kernel,  # type: ignore[arg-type]
                    padding=padding or Padding(), **base)  # type: ignore[arg-type]
    return parse


def _lrn(c: _Line, base: dict[str, object]) -> Layer:
    while c.accept_word(*_NORM_WORDS):
        pass
    c.end()
    return LRN(**base)  # type: ignore[arg-type]


def _fc(c: _Line, base: dict[str, object]) -> Layer:
    units = c.count("the number of neurons, e.g. `4096` in `4096 neurons`", "units")
    c.accept_word("neurons", "neuron", "units", "outputs")
    c.end()
    return Dense(units=units, **base)  # type: ignore[arg-type]


def _dropout(c: _Line, base: dict[str, object]) -> Layer:
    if c.accept_word("p", "rate"):
        c.accept_punct("=")
    tok = c.peek()
    if tok is None or tok.kind != "number":
        raise c.fail("the dropout rate, e.g. `DROPOUT 0.5`")
    c.fields.append(("p", tok.span(c.path, c.line)))
    p = float(c.take().text)
    c.end()
    return Dropout(p=p, **base)  # type: ignore[arg-type]


def _bare(make: Callable[[dict[str, object]], Layer]) -> Callable[[_Line, dict[str, object]],
                                                                   Layer]:
    def parse(c: _Line, base: dict[str, object]) -> Layer:
        c.end()
        return make(base)
    return parse


_BODIES: dict[str, Callable[[_Line, dict[str, object]], Layer]] = {
    "conv": _conv,
    "maxpool": _pool("max"),
    "avgpool": _pool("avg"),
    "lrn": _lrn,
    "fc": _fc,
    "dropout": _dropout,
    "flatten": _bare(lambda b: Flatten(**b)),  # type: ignore[arg-type]
    **{fn: _bare(lambda b, fn=fn: Activation(fn=fn, **b))  # type: ignore[misc]
       for fn in ("relu", "tanh", "sigmoid", "softmax")},
}


def _head(tokens: list[Token]) -> tuple[str, int] | None:
    """(kind, number of tokens naming the layer) when the line starts with a layer word."""
    if not tokens or tokens[0].kind != "word":
        return None
    first = _base(tokens[0].text)
    if first in _POOL_PREFIX and len(tokens) > 1 and tokens[1].kind == "word" \
            and _base(tokens[1].text) in ("pool", "pooling"):
        return f"{_POOL_PREFIX[first]}pool", 2
    if first in KEYWORDS:
        return KEYWORDS[first], 1
    return None


class _State:
    def __init__(self, path: str) -> None:
        self.path = path
        self.input: Shape | None = None
        self.input_span: Span | None = None
        self.layers: list[Layer] = []
        self.diags: list[Diagnostic] = []


def _parse_line(st: _State, text: str, lineno: int) -> None:
    path = st.path
    body = split_comment(text).rstrip()
    if not body.strip():
        return
    tokens = tokenize(body, path, lineno)
    declared: Shape | None = None
    declared_span: Span | None = None
    if tokens and tokens[0].kind == "shape":
        declared_span = tokens[0].span(path, lineno)
        declared = parse_shape(tokens[0], path, lineno)
        tokens = tokens[1:]
    head = _head(tokens)
    if head is None:
        if declared is None and tokens and tokens[-1].text == ":":
            return  # a heading such as `Full (simplified) AlexNet architecture:`
        tok = tokens[0] if tokens else None
        col = tok.col if tok else len(body) + 1
        word = tok.text if tok else ""
        if tok is not None and tok.kind == "word":
            names = sorted({k.upper() for k in KEYWORDS} | {"MAX POOL", "AVG POOL"})
            raise LexError(Diagnostic(
                Span(path, lineno, col, tok.end_col), "P002", f"unknown layer `{word}`",
                _suggest(_base(word), names) or f"known layers: {', '.join(names)}; a heading "
                "line ends with `:`; a comment starts with `#`"))
        raise LexError(Diagnostic(
            Span(path, lineno, col, (tok.end_col if tok else col + 1)), "P001",
            "expected a layer such as `CONV1: 96 11x11 filters at stride 4, pad 0`"
            + (f", found `{word}`" if word else " after the shape"),
            "a heading line ends with `:`; a comment starts with `#`"))
    kind, n_head = head
    name = body[tokens[0].col - 1:tokens[n_head - 1].end_col - 1]
    cursor = _Line(tokens, path, lineno, len(body) + 1)
    cursor.i = n_head
    cursor.accept_punct(":")
    start = tokens[0].col
    if kind == "input":
        cursor.end()
        span = Span(path, lineno, start, len(body) + 1)
        if st.input_span is not None:
            raise LexError(Diagnostic(span, "P005", "a second INPUT line",
                                      f"the input was already given on line {st.input_span.line}"))
        if st.layers:
            raise LexError(Diagnostic(span, "P007", "INPUT comes after the first layer",
                                      "move the INPUT line above every layer"))
        st.input, st.input_span = declared, declared_span or span
        return
    span = Span(path, lineno, start, len(body) + 1)
    base: dict[str, object] = {"name": name, "span": span, "declared": declared,
                               "declared_span": declared_span}
    layer = _BODIES[kind](cursor, base)
    st.layers.append(replace(layer, fields=tuple(cursor.fields)))


_INPUT_LINE = re.compile(r"^\s*(\[[^\]]*\]?)?\s*input\b", re.IGNORECASE)


def parse_lecture(text: str, path: str) -> Spec:
    st = _State(path)
    lines = text.splitlines()
    for lineno, raw in enumerate(lines, start=1):
        try:
            _parse_line(st, raw, lineno)
        except LexError as exc:
            st.diags.append(exc.diag)
            if _INPUT_LINE.match(raw):
                if st.input_span is None:
                    st.input_span = exc.diag.span
            elif exc.diag.code in ("P001", "P002", "P003"):
                first = raw.lstrip()
                unbracketed = re.sub(r"^\s*\[[^\]]*\]?", "", split_comment(raw))
                words = re.findall(r"[A-Za-z_][\w\-]*", unbracketed)
                st.layers.append(Unparsed(
                    name=words[0] if words else "?",
                    span=Span(path, lineno, len(raw) - len(first) + 1, len(raw.rstrip()) + 1)))
    return Spec(path, st.input, st.input_span, tuple(st.layers), tuple(st.diags), tuple(lines),
                "lecture")
