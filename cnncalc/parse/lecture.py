"""The lecture's notation, one layer a line, and cnncalc's canonical notation, which extends it.

    Full (simplified) AlexNet architecture:
    [227x227x3] INPUT
    [55x55x96] CONV1: 96 11x11 filters at stride 4, pad 0
    [27x27x96] MAX POOL1: 3x3 filters at stride 2
    [27x27x96] NORM1: Normalization layer
    [4096] FC6: 4096 neurons
    [1000] FC8: 1000 neurons (class scores)

A leading ``[HxWxC]`` or ``[N]`` is the shape the author declares for the layer's output (an
assertion the analysis checks), except on INPUT where it defines the input volume. Keywords
are case-insensitive and the author's layer names are kept; a name that does not start with
the layer word is quoted after it (``CONV "features.0": ...``; backslash escapes in it are
read by ``cnncalc.escape.unescape``). A line ending in ``:`` that does not start with a layer
word is a heading; a trailing parenthesised remark is ignored; ``#`` starts a comment. Any
other line is an error: nothing is skipped silently.

The canonical extensions (every layer kind cnncalc knows, one line each) are documented with a
grammar in the README: ``dilation``, ``groups``, ``no bias``, ``in C``, ``pad same``,
``DECONV`` / ``DWCONV``, ``ceil``, ``GLOBAL AVG POOL``, ``ADAPTIVE AVG POOL: 6x6``,
``BATCHNORM``, ``ZEROPAD``, activations, and a ``ROUNDING: floor`` directive.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from cnncalc.diagnostics import Diagnostic
from cnncalc.escape import unescape
from cnncalc.parse.bodies import ACTIVATIONS, BODIES, ref
from cnncalc.parse.bounds import MAX_LAYERS, TooManyLayers, cut, stop_reading
from cnncalc.parse.cursor import Cursor, suggest
from cnncalc.parse.directives import find_input
from cnncalc.parse.lexer import (
    MAX_DIGITS,
    LexError,
    Token,
    parse_shape,
    split_comment,
    tokenize,
)
from cnncalc.spec import Layer, Ref, Rounding, Shape, Span, Spec, Unparsed, source_lines

if TYPE_CHECKING:
    from cnncalc.parse.blocks import Blocks

FAST_AFTER = 500
"""The lines of lecture text a process reads before it reads common lines by the fast path
(``lecture_fast``): its regular expressions take about 5 ms to compile, and it saves about
14 us a line, so a single small spec (the start-up of ``cnncalc show``) reads faster
without it and ``cnncalc check`` over many files with it. Both ways give the same layers
(``tests/test_lecture_fast.py``)."""
_lines_read = [0]

FastReader = Callable[[str, str, int, Callable[[list[str]], "tuple[str, int] | None"]],
                  "Layer | None"]


def _fast_path(lines: int) -> FastReader | None:
    """``lecture_fast.read_common`` once the process has read FAST_AFTER lines, else None."""
    _lines_read[0] += lines
    if _lines_read[0] < FAST_AFTER:
        return None
    from cnncalc.parse.lecture_fast import read_common
    return read_common

# single layer words (lower case, trailing digits removed) -> kind
KEYWORDS: dict[str, str] = {
    "input": "input", "rounding": "rounding",
    "conv": "conv", "convolution": "conv",
    "deconv": "convtranspose", "convt": "convtranspose", "convtranspose": "convtranspose",
    "upconv": "convtranspose",
    "dwconv": "depthwise", "depthwise": "depthwise",
    "pool": "maxpool", "maxpool": "maxpool", "avgpool": "avgpool",
    "norm": "lrn", "lrn": "lrn",
    "batchnorm": "batchnorm", "bn": "batchnorm",
    "fc": "fc", "dense": "fc",
    "zeropad": "zeropad",
    "dropout": "dropout",
    "flatten": "flatten",
    "add": "add", "concat": "concat", "concatenate": "concat", "multiply": "multiply",
    "crop": "crop", "slice": "slice", "shuffle": "shuffle", "upsample": "upsample",
    "output": "output",
    **{fn: fn for fn in ACTIVATIONS},
}
# multi-word layer heads, compared word by word after removing trailing digits
PHRASES: tuple[tuple[tuple[str, ...], str], ...] = tuple(
    (tuple(words.split()), kind) for words, kind in (
        ("global avg pool", "globalavgpool"), ("global average pool", "globalavgpool"),
        ("global max pool", "globalmaxpool"),
        ("adaptive avg pool", "adaptiveavgpool"), ("adaptive average pool", "adaptiveavgpool"),
        ("adaptive max pool", "adaptivemaxpool"),
        ("max pool", "maxpool"), ("avg pool", "avgpool"), ("average pool", "avgpool"),
        ("mean pool", "avgpool"), ("transposed conv", "convtranspose"),
    ))
LAYER_WORDS = sorted({k.upper() for k in KEYWORDS} | {" ".join(w).upper() for w, _ in PHRASES})


# The layer words a name can start with, by the run of letters they start with: a word
# matches where it is followed by no letter, so it is that run itself, or the run followed by
# digits (`relu6`); longest first.
_LETTERS = re.compile("[a-z]*")
_BY_LETTERS: dict[str, tuple[str, ...]] = {}
for _w in sorted({*KEYWORDS, *(w for phrase, _ in PHRASES for w in phrase)},
                 key=len, reverse=True):
    _run = _LETTERS.match(_w).group()  # type: ignore[union-attr]  # [a-z]* always matches
    _BY_LETTERS[_run] = (*_BY_LETTERS.get(_run, ()), _w)


def _base(word: str) -> str:
    """The layer word a name starts with: ``CONV1_1`` -> conv, ``RELU14_dw`` -> relu,
    ``MAX POOL1`` -> max, pool; the longest word wins (``RELU6`` is relu6)."""
    low = word.lower()
    run = _LETTERS.match(low).group()  # type: ignore[union-attr]  # [a-z]* always matches
    candidates = _BY_LETTERS.get(run)
    if candidates is not None:
        n = len(low)
        for candidate in candidates:
            k = len(candidate)
            if low.startswith(candidate) and not (n > k and "a" <= low[k] <= "z"):
                return candidate
    elif run.startswith("pooling"):  # no layer word's letters start with "pooling"
        return "pool"
    return low.split("_")[0].rstrip("0123456789-")


# phrases by their first word
_PHRASES_BY_START: dict[str, list[tuple[tuple[str, ...], str]]] = {}
for _phrase, _kind in PHRASES:
    _PHRASES_BY_START.setdefault(_phrase[0], []).append((_phrase, _kind))


def head_words(words: list[str]) -> tuple[str, int] | None:
    """(kind, number of words naming the layer) when ``words`` (a line's first words, ""
    for a token that is not a word) start with a layer word. The words after the first are
    read only when the first can start a phrase."""
    first = _base(words[0])
    phrases = _PHRASES_BY_START.get(first)
    if phrases is not None and len(words) > 1:
        bases = (first, *(_base(w) if w else "" for w in words[1:3]))
        for phrase, kind in phrases:
            if bases[:len(phrase)] == phrase:
                return kind, len(phrase)
    single = KEYWORDS.get(first)
    return None if single is None else (single, 1)


def head(tokens: list[Token]) -> tuple[str, int] | None:
    """``head_words`` for a line's tokens."""
    if not tokens or tokens[0].kind != "word":
        return None
    return head_words([t.text if t.kind == "word" else "" for t in tokens[:3]])


class _State:
    def __init__(self, path: str) -> None:
        self.path = path
        self.input: Shape | None = None
        self.input_span: Span | None = None
        self.layers: list[Layer] = []
        self.diags: list[Diagnostic] = []
        self.rounding: Rounding = "strict"
        self.output: Ref | None = None
        self.in_block = False
        self.fast: FastReader | None = None


def _not_a_layer(tokens: list[Token], body: str, path: str, lineno: int) -> LexError:
    tok = tokens[0] if tokens else None
    col = tok.col if tok else len(body) + 1
    if tok is not None and tok.kind == "word":
        return LexError(Diagnostic(
            Span(path, lineno, col, tok.end_col), "P002", f"unknown layer `{tok.text}`",
            suggest(_base(tok.text), LAYER_WORDS) or "layers start with a word such as CONV, "
            "MAX POOL, AVG POOL, NORM, FC, RELU, DROPOUT, BATCHNORM (all in the README); a "
            "heading line ends with `:`; a comment starts with `#`"))
    return LexError(Diagnostic(
        Span(path, lineno, col, tok.end_col if tok else col + 1), "P001",
        "expected a layer such as `CONV1: 96 11x11 filters at stride 4, pad 0`"
        + (f", found `{tok.text}`" if tok else " after the shape"),
        "a heading line ends with `:`; a comment starts with `#`"))


def _parse_line(st: _State, text: str, lineno: int) -> None:
    path = st.path
    body = split_comment(text).rstrip()
    if not body.strip():
        return
    fast = st.fast
    if fast is not None and '"' not in body and len(body) <= MAX_DIGITS:
        layer = fast(body, path, lineno, head_words)
        if layer is not None:
            st.layers.append(layer)
            return
    _parse_tokens(st, body, lineno)


def _receives(tokens: list[Token], path: str, lineno: int
              ) -> tuple[list[Token], tuple[Shape, Span] | None]:
    """A layer's last option may be ``receives [HxWxC]``: the input volume the text declares
    for it (Keras's ``input_shape=`` on a later layer), whatever its kind. The tokens without
    it, and the volume with its span."""
    end = len(tokens) - (1 if tokens and tokens[-1].kind == "remark" else 0)
    if end < 2 or tokens[end - 1].kind != "shape" or tokens[end - 2].kind != "word" \
            or tokens[end - 2].low != "receives":
        return tokens, None
    shape = parse_shape(tokens[end - 1], path, lineno)
    return tokens[:end - 2] + tokens[end:], (shape, tokens[end - 1].span(path, lineno))


def _parse_tokens(st: _State, body: str, lineno: int) -> None:
    """The general way: any line (comment removed, right-stripped, not blank)."""
    path = st.path
    tokens = tokenize(body, path, lineno)
    declared: Shape | None = None
    declared_span: Span | None = None
    if tokens and tokens[0].kind == "shape":
        declared_span = tokens[0].span(path, lineno)
        declared = parse_shape(tokens[0], path, lineno)
        tokens = tokens[1:]
    found = head(tokens)
    if found is None:
        if declared is None and tokens and tokens[-1].text == ":":
            return  # a heading such as `Full (simplified) AlexNet architecture:`
        raise _not_a_layer(tokens, body, path, lineno)
    kind, n_head = found
    name = body[tokens[0].col - 1:tokens[n_head - 1].end_col - 1]
    tokens, receives = _receives(tokens, path, lineno)
    if receives is not None and kind == "input":
        raise LexError(Diagnostic(receives[1], "P001", "INPUT receives nothing: it is the input",
                                  "write the input volume in brackets before INPUT"))
    c = Cursor(tokens, path, lineno, len(body) + 1)
    c.i = n_head
    quoted = c.peek()
    if quoted is not None and quoted.kind == "string":
        name = unescape(c.take().text[1:-1])
    inputs = _refs(c)
    c.accept_punct(":")
    span = Span(path, lineno, tokens[0].col, len(body) + 1)
    if st.in_block and kind in ("input", "rounding", "output"):
        raise LexError(Diagnostic(span, "P001", f"{kind.upper()} in a block",
                                  "INPUT, OUTPUT and ROUNDING are the network's: write them "
                                  "outside BLOCK ... END"))
    if kind == "output":
        if not inputs:
            inputs = (ref(c, "the name of the network's output layer, e.g. `OUTPUT from FC8`"),)
        c.end()
        if len(inputs) > 1 or st.output is not None:
            raise LexError(Diagnostic(span, "P017", "a network has one output" + (
                f": it was already named on line {st.output.span.line}" if st.output else ""),
                "name one layer: `OUTPUT from FC8`"))
        st.output = inputs[0]
        return
    if kind == "input":
        if inputs:
            raise LexError(Diagnostic(c.fields[0][1], "P001", "INPUT reads nothing: it is the "
                                      "input", "write `[224x224x3] INPUT`"))
        c.end()
        if st.input_span is not None:
            raise LexError(Diagnostic(span, "P005", "a second INPUT line",
                                      f"the input was already given on line {st.input_span.line}"))
        if any(not isinstance(layer, Unparsed) for layer in st.layers):
            raise LexError(Diagnostic(span, "P007", "INPUT comes after the first layer",
                                      "move the INPUT line above every layer"))
        st.layers.clear()  # unreadable lines above INPUT (already reported) block nothing
        st.input, st.input_span = declared, declared_span or span
        return
    if kind == "rounding":
        word = c.accept_word("strict", "floor", "ceil")
        if word is None:
            raise c.fail("a rounding policy: `strict`, `floor` or `ceil`",
                         choices=["strict", "floor", "ceil"])
        c.end()
        st.rounding = cast(Rounding, word.low)
        return
    cls, parse_body = BODIES[kind]
    kwargs: dict[str, Any] = parse_body(c)
    c.end()
    st.layers.append(cls(name=name, span=span, declared=declared, declared_span=declared_span,
                         fields=tuple(c.fields), declared_input=receives, inputs=inputs,
                         **kwargs))


def _refs(c: Cursor) -> tuple[Ref, ...]:
    """``from NAME[, NAME]...`` after a layer's head: the earlier layers it reads."""
    start = c.accept_word("from")
    if start is None:
        return ()
    found = [ref(c, "the name of a layer above, e.g. `ADD from CONV2, INPUT`")]
    while c.accept_punct(",") is not None:
        found.append(ref(c, "the name of another layer above"))
    last = found[-1].span
    c.fields.append(("from", Span(c.path, c.line, start.col, last.end_col)))
    return tuple(found)


_PLAIN_INPUT = re.compile(r"\s*input\b", re.IGNORECASE)
_OPEN_BRACKET = re.compile(r"\s*\[")
_INPUT_WORD = re.compile(r"input\b", re.IGNORECASE)
_INPUT_AFTER = re.compile(r"\]+\s*input\b", re.IGNORECASE)


def _input_line(raw: str) -> bool:
    """An INPUT line, even when its [shape] is malformed (unclosed, or `[[8x8x3]]`): what
    ``^\\s*(\\[[^\\]]*\\]*)?\\s*input\\b`` matches, found in linear time. That pattern
    backtracks over every split of a run of blanks (quadratic in a long one); here the
    bracket's text ends at its first ``]``, and the word is either inside it or after the
    ``]``s and blanks that follow."""
    if _PLAIN_INPUT.match(raw):
        return True
    bracket = _OPEN_BRACKET.match(raw)
    if bracket is None:
        return False
    close = raw.find("]", bracket.end())
    if close < 0:
        return _INPUT_WORD.search(raw, bracket.end()) is not None
    return (_INPUT_WORD.search(raw, bracket.end(), close) is not None
            or _INPUT_AFTER.match(raw, close) is not None)


def _reader(path: str, fast: FastReader | None) -> Callable[[str, int], Layer | None]:
    """How a block's line is read: as a layer line, its layer (or None for a heading)."""
    def read(body: str, lineno: int) -> Layer | None:
        sub = _State(path)
        sub.in_block = True
        sub.fast = fast
        _parse_line(sub, body, lineno)
        return sub.layers[0] if sub.layers else None
    return read


# A Markdown list marker before a line's text (`- `, `* `, `+ `, `1. `, `1) `): notes pasted
# from Markdown keep them; they are read as blanks of the same width (columns stay the line's)
_LIST_MARKER = re.compile(r"^[ \t]*(?:[-*+]|[0-9]{1,9}[.)])(?=[ \t]+\S)")


def unlisted(line: str) -> str:
    """``line`` without a Markdown list marker before its text, blanked to keep columns."""
    if not line or line.lstrip()[:1] not in _MARKER_STARTS:
        return line
    m = _LIST_MARKER.match(line)
    return line if m is None else " " * m.end() + line[m.end():]


_MARKER_STARTS = frozenset("-*+0123456789")


def parse_lecture(text: str, path: str, max_layers: int = MAX_LAYERS) -> Spec:
    """Read the text; reading stops at the first layer over ``max_layers``."""
    st = _State(path)
    lines = source_lines(text)
    st.fast = _fast_path(len(lines))
    blocks: Blocks | None = None  # made at the first line that may start or end a block
    for lineno, line in enumerate(lines, start=1):
        raw = unlisted(line)
        try:
            if blocks is None and raw.lstrip()[:5].lower().startswith(("block", "end")):
                from cnncalc.parse.blocks import Blocks
                blocks = Blocks(path, st.layers, st.diags, _reader(path, st.fast), max_layers)
            if blocks is None or not blocks.take(raw, lineno):
                count = len(st.layers)
                _parse_line(st, raw, lineno)
                if blocks is not None and blocks.aliases and len(st.layers) > count:
                    st.layers[-1] = blocks.placed(st.layers[-1])
        except TooManyLayers as over:
            diag, rest = cut(over, max_layers)
            st.diags.append(diag)
            st.layers.append(rest)
            break
        except LexError as exc:
            st.diags.append(exc.diag)
            if _input_line(raw):
                if st.input_span is None:
                    st.input_span = exc.diag.span
            elif exc.diag.code in ("P001", "P002", "P003", "P016"):
                first = raw.lstrip()
                unbracketed = re.sub(r"^\s*\[[^\]]*\]?", "", split_comment(raw))
                word = re.match(r"\s*([A-Za-z_][\w\-]*)", unbracketed)
                st.layers.append(Unparsed(
                    name=word.group(1) if word else "?",
                    span=Span(path, lineno, len(raw) - len(first) + 1, len(raw.rstrip()) + 1)))
        if len(st.layers) > max_layers or len(st.diags) > max_layers:
            stop_reading(st.layers, st.diags, max_layers,
                         Span(path, lineno, 1, len(raw.rstrip()) + 1))
            break
    if blocks is not None:
        blocks.finish()
        if st.output is not None:
            st.output = blocks.rename_global(st.output)
    if st.input is None and st.input_span is None:
        st.input, st.input_span, problems = find_input(lines, path, "lecture")
        st.diags.extend(problems)
    return Spec(path, st.input, st.input_span, tuple(st.layers), tuple(st.diags), tuple(lines),
                "lecture", st.rounding, st.output)
