"""The VGG notation: the CS231n notes' "VGGNet in detail" listing,

    INPUT: [224x224x3]        memory:  224*224*3=150K   weights: 0
    CONV3-64: [224x224x64]  memory:  224*224*64=3.2M   weights: (3*3*3)*64 = 1,728
    POOL2: [112x112x64]  memory:  112*112*64=800K   weights: 0
    FC: [1x1x4096]  memory:  4096  weights: 7*7*512*4096 = 102,760,448

and the VGG paper's table 1, one cell a line: ``input (224 x 224 RGB image)``, ``conv3-64``,
``conv1-256``, ``LRN``, ``maxpool``, ``FC-4096``, ``soft-max``. Words are case-insensitive.

- ``convF-K`` (or ``convFhxFw-K``): K filters of FxF at stride 1, padded to keep the size,
  (F - 1)/2 each side (``conv1-K``: none; an even F gets "same" padding);
- ``POOLn`` / ``maxpool`` / ``avgpool``: an nxn window at stride n, 2x2 when n is not given;
- ``FC-N``: N neurons; a bare ``FC`` takes N from its declared ``[1x1xN]`` or ``[N]``;
- ``soft-max``, ``LRN`` and the activation words of the canonical notation (``relu``...);
- ``INPUT: [HxWxC]``, ``[HxWxC] INPUT`` or ``input (H x W RGB image)`` (RGB 3 channels,
  RGBA 4, gray 1, or ``H x W x C``); else ``# cnncalc: input HxWxC``.

A ``[HxWxC]`` before the layer word or after its colon is the declared output shape, which the
analysis checks (D201). ``memory:`` and ``weights:`` annotations are tolerated; an exact
``weights:`` figure (the number after the last ``=``, or the only one; commas allowed) is kept
so that the analysis can compare it with the computed weights (D202), while an
abbreviated one (``3.2M``) is approximate and not checked. Blank lines, ``#`` comments,
headings ending in ``:`` and the listing's ``TOTAL params: ...`` lines are skipped; any other
line is an error: nothing is skipped silently.
"""

from __future__ import annotations

import re
from typing import TypedDict

from cnncalc.diagnostics import Diagnostic, OncePerLine
from cnncalc.parse.bodies import ACTIVATIONS
from cnncalc.parse.bounds import MAX_LAYERS, stop_reading
from cnncalc.parse.cursor import Cursor, suggest
from cnncalc.parse.directives import find_input
from cnncalc.parse.lexer import (
    MAX_DIGITS,
    LexError,
    Token,
    long_number,
    parse_shape,
    split_comment,
    tokenize,
    too_long,
)
from cnncalc.spec import (
    LRN,
    Activation,
    Conv,
    Dense,
    Layer,
    Padding,
    Pool,
    Shape,
    Span,
    Spec,
    Unparsed,
    fmt_shape,
    source_lines,
)

_STEM = re.compile(r"(input|conv|fc|maxpool|avgpool|pool|lrn|soft-?max)(?![a-z])")
_CONV = re.compile(r"conv(?P<kernel>[0-9]+(?:x[0-9]+)?)-(?P<filters>[0-9]+)", re.IGNORECASE)
_FC = re.compile(r"fc(?:-(?P<units>[0-9]+))?", re.IGNORECASE)
_POOL = re.compile(r"(?P<op>max|avg)?pool(?P<kernel>[0-9]*)", re.IGNORECASE)
_FORMS = {"conv": "convF-K such as conv3-64", "fc": "FC or FC-N such as FC-4096",
          "pool": "POOLn, maxpool or avgpool", "maxpool": "maxpool or maxpoolN",
          "avgpool": "avgpool or avgpoolN"}
_ANNOTATION = re.compile(r"\b(memory|weights)\s*:", re.IGNORECASE)
_FIRST_WORD = re.compile(r"\s*([A-Za-z][\w\-]*)")
_TOTAL = re.compile(r"^\s*total\b[^:]*:", re.IGNORECASE)
_EXACT = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+")
# (each written so that a figure that does not match is refused in linear time: no run of
# digits can be split between two quantifiers, which backtracks quadratically)
_APPROX = re.compile(r"~?\s*(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*[kmgbt]?b?", re.IGNORECASE)
_EXPR = re.compile(r"[0-9\s*x().+]*")  # an expression such as (3*3*3)*64, with a digit
_DIGIT = re.compile(r"[0-9]")
_INPUT_SIZE = re.compile(r"([0-9]+)\s*[x\u00d7]\s*([0-9]+)\s*(?:[x\u00d7]\s*([0-9]+)\b|([a-z]+))",
                         re.IGNORECASE)
_CHANNELS = {"rgb": 3, "bgr": 3, "rgba": 4, "gray": 1, "grey": 1, "grayscale": 1,
             "greyscale": 1, "mono": 1, "monochrome": 1}
_WORDS = ["INPUT", "CONV", "POOL", "MAXPOOL", "AVGPOOL", "FC", "LRN", "SOFT-MAX",
          *(a.upper() for a in ACTIVATIONS)]


def _kind(word: str) -> str | None:
    """The layer kind a word names (``conv3-64`` -> conv) before its form is checked."""
    low = word.lower()
    if low in ACTIVATIONS:
        return "activation"
    m = _STEM.match(low)
    if m is None:
        return None
    stem = m.group(1)
    return "activation" if stem.startswith("soft") else stem


class _Common(TypedDict):
    name: str
    span: Span
    declared: Shape | None
    declared_span: Span | None
    declared_weights: int | None
    declared_weights_span: Span | None


class _State:
    def __init__(self, path: str) -> None:
        self.path = path
        self.input: Shape | None = None
        self.input_span: Span | None = None
        self.layers: list[Layer] = []
        self.diags: list[Diagnostic] = []


def _unknown(tok: Token, path: str, line: int) -> LexError:
    letters = re.match(r"[A-Za-z]*", tok.text)
    rest = tok.text[len(letters.group()):] if letters else ""
    up = tok.text.isupper()
    stems = [f"{w}{rest}" for w in ("CONV", "POOL", "MAXPOOL", "FC")] if rest else []
    choices = [w if up else w.lower() for w in stems + _WORDS]
    return LexError(Diagnostic(
        tok.span(path, line), "P002", f"unknown layer `{tok.text}`",
        suggest(tok.text, choices) or "VGG layers are convF-K (conv3-64), POOL2 / maxpool, "
        "FC-N, LRN, soft-max and INPUT; a heading ends with `:`; `#` starts a comment"))


def _sub(tok: Token, m: re.Match[str], group: str, path: str, line: int) -> Span:
    """The span of one regex group inside a word token."""
    return Span(path, line, tok.col + m.start(group), tok.col + m.end(group))


def _layer(head: Token, kind: str, declared: Shape | None, declared_span: Span | None,
           span: Span, weights: tuple[int, Span] | None) -> Layer:
    """The layer a VGG word names; ``span`` is the layer's, ``declared`` its [shape],
    ``weights`` the figure its ``weights:`` annotation declares."""
    path, line = span.path, span.line
    common = _Common(name=head.text, span=span, declared=declared, declared_span=declared_span,
                     declared_weights=None if weights is None else weights[0],
                     declared_weights_span=None if weights is None else weights[1])
    if kind == "lrn":
        return LRN(**common)
    if kind == "activation":
        # `soft-max`, `softmax`, `soft-max1`: every word of that stem is the softmax
        fn = "softmax" if head.low.startswith("soft") else head.low
        return Activation(fn=fn, **common)
    pattern = {"conv": _CONV, "fc": _FC}.get(kind, _POOL)
    m = pattern.fullmatch(head.text)
    if m is None:
        raise LexError(Diagnostic(
            head.span(path, line), "P001", f"`{head.text}` is not a VGG layer: expected "
            f"{_FORMS[kind]}", "write convF-K (conv3-64), POOL2, maxpool, FC-4096 or FC"))
    if kind == "conv":
        fh, *fw = (int(d) for d in m["kernel"].lower().split("x"))
        kernel = (fh, fw[0] if fw else fh)
        odd = kernel[0] % 2 == 1 and kernel[1] % 2 == 1
        pad = Padding.symmetric((kernel[0] - 1) // 2, (kernel[1] - 1) // 2) if odd \
            else Padding.same()
        fields = (("kernel", _sub(head, m, "kernel", path, line)),
                  ("filters", _sub(head, m, "filters", path, line)))
        return Conv(filters=int(m["filters"]), kernel=kernel, padding=pad, fields=fields,
                    **common)
    if kind == "fc":
        if m["units"] is not None:
            return Dense(units=int(m["units"]), fields=(
                ("units", _sub(head, m, "units", path, line)),), **common)
        if declared is None or declared_span is None:
            raise LexError(Diagnostic(
                head.span(path, line), "P001", f"`{head.text}` gives no number of neurons",
                "write FC-4096, or declare its output as in `FC: [1x1x4096]`"))
        if not (len(declared) == 1 or declared[:2] == (1, 1)):
            raise LexError(Diagnostic(
                declared_span, "P001",
                f"a bare FC gives a flat output, not [{fmt_shape(declared)}]",
                "declare it as [1x1xN] or [N], or write FC-N"))
        return Dense(units=declared[-1], fields=(("units", declared_span),), **common)
    size = int(m["kernel"]) if m["kernel"] else 2
    at = _sub(head, m, "kernel", path, line) if m["kernel"] else head.span(path, line)
    return Pool(op="avg" if (m["op"] or "").lower() == "avg" else "max", kernel=(size, size),
                stride=(size, size), fields=(("kernel", at), ("stride", at)), **common)


def _input_size(tok: Token, path: str, line: int) -> Shape:
    """``(224 x 224 RGB image)`` -> (224, 224, 3)."""
    run = long_number(tok.text)
    if run is not None:
        raise LexError(Diagnostic(tok.span(path, line), "P001", too_long(run.end() - run.start()),
                                  "write it as `input (224 x 224 RGB image)`"))
    m = _INPUT_SIZE.search(tok.text)
    channels = None if m is None else int(m[3]) if m[3] else _CHANNELS.get(m[4].lower())
    if m is None or channels is None:
        raise LexError(Diagnostic(
            tok.span(path, line), "P001", f"no input size in `{tok.text}`",
            "write it as `input (224 x 224 RGB image)`, `(224 x 224 x 3)` or `INPUT: [224x224x3]`"))
    return int(m[1]), int(m[2]), channels


def _weights(path: str, body: str, start: int, line: int
             ) -> tuple[tuple[int, Span] | None, list[Diagnostic]]:
    """The exact figure of the line's (last) ``weights:`` annotation and its span, if any,
    and the problems with its annotations (each kind once, see OncePerLine: a line may hold
    any number of annotations)."""
    figures: tuple[int, Span] | None = None
    diags = OncePerLine()
    marks = _ANNOTATION.finditer(body, start)
    following = next(marks, None)
    while following is not None:
        mark, following = following, next(marks, None)
        if mark.group(1).lower() != "weights":
            continue
        stop = following.start() if following is not None else len(body)
        value_at = mark.end()
        eq = body.rfind("=", value_at, stop)
        lo = eq + 1 if eq >= 0 else value_at
        text = body[lo:stop]
        col = lo + len(text) - len(text.lstrip()) + 1
        figure = text.strip()
        span = Span(path, line, col, col + len(figure)) if figure \
            else Span(path, line, mark.start() + 1, mark.end() + 1)
        run = long_number(figure.replace(",", ""))
        if run is not None:
            diags.add(Diagnostic(span, "P001", f"`weights:` gives {too_long(len(run[0]))}",
                                 "write the figure the layer has, e.g. `1,728`"))
        elif _EXACT.fullmatch(figure):
            figures = (int(figure.replace(",", "")), span)
        elif not (_APPROX.fullmatch(figure)
                  or (eq < 0 and _EXPR.fullmatch(figure) and _DIGIT.search(figure))):
            diags.add(Diagnostic(
                span, "P001", f"cannot read the declared weights `{figure}`" if figure
                else "`weights:` gives no figure",
                "write a whole number such as `1,728` or `(3*3*3)*64 = 1,728`, or an "
                "approximate one such as `3.2M`"))
    return figures, diags.result()


def _line(st: _State, raw: str, line: int) -> None:
    path = st.path
    body = split_comment(raw).rstrip()
    if not body.strip() or _TOTAL.match(body):
        return
    note = _ANNOTATION.search(body)
    text = body[:note.start()].rstrip() if note else body
    first = _FIRST_WORD.match(text)
    if body.endswith(":") and first is not None and _kind(first.group(1)) is None:
        return  # a heading such as `VGGNet in detail:`
    # nearly every line is simple: no tokenizer needed (nor its check of very long numbers)
    simple = _SIMPLE.fullmatch(text) if len(text) <= MAX_DIGITS else None
    declared: Shape | None = None
    declared_span: Span | None = None
    remark: Token | None = None
    if simple is not None:
        head = Token("word", simple["word"], simple.start("word") + 1, simple.end("word") + 1)
        if simple["shape"] is not None:
            declared = (int(simple["h"]), int(simple["w"]), int(simple["c"])) \
                if simple["n"] is None else (int(simple["n"]),)
            declared_span = Span(path, line, simple.start("shape") + 1, simple.end("shape") + 1)
        kind = _kind(head.text)
        if kind is None:
            raise _unknown(head, path, line)
    else:
        head, kind, declared, declared_span, remark = _tokens(text, path, line)
    span = Span(path, line, head.col, len(text) + 1)
    if kind == "input":
        if st.input_span is not None:
            raise LexError(Diagnostic(span, "P005", "a second INPUT line",
                                      f"the input was already given on line {st.input_span.line}"))
        if st.layers:
            raise LexError(Diagnostic(span, "P007", "INPUT comes after the first layer",
                                      "move the INPUT line above every layer"))
        if remark is not None and remark.kind == "remark":
            st.input, st.input_span = _input_size(remark, path, line), remark.span(path, line)
        else:
            st.input, st.input_span = declared, declared_span or span
        return
    weights, problems = _weights(path, body, note.start(), line) if note else (None, [])
    st.layers.append(_layer(head, kind, declared, declared_span, span, weights))
    st.diags.extend(problems)


# A layer word alone, or followed by `:` and a declared [HxWxC] or [N]: what the tokenizer
# would read as one word token (and a shape token), so the general way is not needed
_SIMPLE = re.compile(r"[ \t]*(?P<word>[A-Za-z_][A-Za-z0-9_\-]*)(?:[ \t]*:)?"
                     r"(?:[ \t]*(?P<shape>\[(?:(?P<h>[0-9]+)x(?P<w>[0-9]+)x(?P<c>[0-9]+)"
                     r"|(?P<n>[0-9]+))\]))?")


def _tokens(text: str, path: str, line: int
            ) -> tuple[Token, str, Shape | None, Span | None, Token | None]:
    """The general way: the layer word, its kind, the declared shape and its span, and for
    an INPUT without a shape its remark (``input (224 x 224 RGB image)``)."""
    tokens = tokenize(text, path, line)
    c = Cursor(tokens, path, line, len(text) + 1)
    declared: Shape | None = None
    declared_span: Span | None = None
    if tokens and tokens[0].kind == "shape":
        declared, declared_span = parse_shape(tokens[0], path, line), tokens[0].span(path, line)
        c.i = 1
    head = c.peek()
    if head is None or head.kind != "word":
        raise c.fail("a layer such as `CONV3-64: [224x224x64]`, `maxpool` or `FC-4096`",
                     "a heading line ends with `:`; `#` starts a comment")
    kind = _kind(head.text)
    if kind is None:
        raise _unknown(head, path, line)
    c.take()
    c.accept_punct(":")
    shape_tok = c.peek()
    if shape_tok is not None and shape_tok.kind == "shape" and declared is None:
        declared, declared_span = parse_shape(shape_tok, path, line), shape_tok.span(path, line)
        c.take()
    remark = c.peek() if kind == "input" and declared is None else None
    c.end()
    return head, kind, declared, declared_span, remark


def parse_vgg(text: str, path: str, max_layers: int = MAX_LAYERS) -> Spec:
    """Read the text; reading stops at the first layer over ``max_layers``."""
    st = _State(path)
    lines = source_lines(text)
    for lineno, raw in enumerate(lines, start=1):
        try:
            _line(st, raw, lineno)
        except LexError as exc:
            st.diags.append(exc.diag)
            word = re.search(r"[A-Za-z][\w\-]*", re.sub(r"^\s*\[[^\]]*\]?", "", raw))
            if word is not None and _kind(word.group()) == "input":
                st.input_span = st.input_span or exc.diag.span
            else:
                start = len(raw) - len(raw.lstrip()) + 1
                st.layers.append(Unparsed(
                    name=word.group() if word else "?",
                    span=Span(path, lineno, start, len(split_comment(raw).rstrip()) + 1)))
        if len(st.layers) > max_layers or len(st.diags) > max_layers:
            stop_reading(st.layers, st.diags, max_layers,
                         Span(path, lineno, 1, len(raw.rstrip()) + 1))
            break
    if st.input is None:
        shape, span, problems = find_input(lines, path, "vgg")
        if shape is not None or span is not None:
            st.input, st.input_span = shape, span
        st.diags.extend(problems)
    return Spec(path, st.input, st.input_span, tuple(st.layers), tuple(st.diags), tuple(lines),
                "vgg", "strict")
