"""A line lexer for the prose notations: sizes (``11x11``), numbers, words, punctuation,
bracketed shapes and parenthesised remarks, each with its 1-based column span."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from cnncalc.diagnostics import Diagnostic
from cnncalc.spec import Shape, Span

# One pass of finditer over the line. Numbers may be negative, so that a negative stride or
# count read from another notation is written back and read as what it is (G106), not as a
# stray `-`. Each alternative is a token; brackets and parentheses
# nested at most one level deep are matched here too, and whatever is left (a character that
# starts no token, an unclosed or deeply nested bracket) is `other`, resolved by hand below.
# Whitespace matches nothing, so finditer steps over it.
_TOKEN = re.compile(
    r"""
      (?P<size>-?[0-9]+(?:\s*[xX\u00d7]\s*-?[0-9]+)+)(?![\w.])
    | (?P<number>-?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+))(?![\w.])
    | (?P<word>[A-Za-z_][A-Za-z0-9_\-]*)
    | (?P<string>"[^"\n]*")
    | (?P<punct>[:,?=])
    | (?P<shape>\[[^\[\]]*\])
    | (?P<remark>\((?:[^()]|\([^()]*\))*\))
    | (?P<other>\S)
    """,
    re.VERBOSE,
)


class Token(NamedTuple):
    kind: str  # size | number | word | string | punct | shape | remark
    text: str
    col: int  # 1-based
    end_col: int  # exclusive

    def span(self, path: str, line: int) -> Span:
        return Span(path, line, self.col, self.end_col)

    @property
    def low(self) -> str:
        return self.text.lower()


class LexError(Exception):
    def __init__(self, diag: Diagnostic) -> None:
        super().__init__(diag.message)
        self.diag = diag


def split_comment(text: str) -> str:
    """The line without its ``#`` comment. A ``#`` inside a quoted name (``CONV "a#1"``) is
    part of the name; after an unclosed quote the comment starts at the first ``#``."""
    cut = text.find("#")
    i = 0
    while cut >= 0:
        quote = text.find('"', i)
        if quote < 0 or cut < quote:
            return text[:cut]
        close = text.find('"', quote + 1)
        if close < 0:
            return text[:text.find("#")]
        i = close + 1
        if cut < i:  # that `#` was in the name: look past it (each character looked at once)
            cut = text.find("#", i)
    return text


MAX_DIGITS = 4300
"""The most digits Python's int() converts (``sys.get_int_max_str_digits()``); a longer number
in a spec is refused with a diagnostic, never converted (which would cost quadratic time)."""
_DIGIT_RUN = re.compile(r"[0-9]+")
_GLUED = re.compile(r"-?[0-9][\w.]*")  # a number the token regex refused: what it runs into
_SCIENTIFIC = re.compile(r"-?[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]+")


def long_number(text: str) -> re.Match[str] | None:
    """The first run of more than MAX_DIGITS digits in ``text``, if any (short texts are
    not scanned)."""
    if len(text) <= MAX_DIGITS:
        return None
    return next((m for m in _DIGIT_RUN.finditer(text) if m.end() - m.start() > MAX_DIGITS),
                None)


def too_long(digits: int) -> str:
    return f"a number of {digits:,} digits: cnncalc reads numbers of at most {MAX_DIGITS:,}"


def tokenize(text: str, path: str, line: int) -> list[Token]:
    """Tokens of one line (comment already removed). Raises LexError at the first character
    that cannot start a token, or at an unclosed bracket or parenthesis."""
    tokens: list[Token] = []
    text = text.rstrip()
    pos = 0
    while True:
        for m in _TOKEN.finditer(text, pos):
            kind = m.lastgroup
            start, end = m.span()
            if kind == "other":
                break
            tokens.append(_new(Token, (kind, m.group(), start + 1, end + 1)))
        else:
            if len(text) > MAX_DIGITS:
                _check_lengths(tokens, path, line)
            return tokens
        pos = _bracketed(text, start, path, line, tokens)


def _check_lengths(tokens: list[Token], path: str, line: int) -> None:
    """No number in a token may have more digits than int() converts."""
    for tok in tokens:
        run = long_number(tok.text) if tok.kind not in ("remark", "string") else None
        if run is None:
            continue
        digits = run.end() - run.start()
        if tok.kind == "shape":
            raise LexError(Diagnostic(tok.span(path, line), "P003", f"`{tok.text[:20]}...` is "
                                      f"not a shape: it holds {too_long(digits)}",
                                      "write height x width x depth, e.g. [55x55x96]"))
        start = tok.col + run.start()
        raise LexError(Diagnostic(Span(path, line, start, start + digits), "P001",
                                  too_long(digits), "check the number: it is surely a typo"))


_new = tuple.__new__  # Token(...) without NamedTuple's Python-level __new__: one per token


def _bracketed(text: str, start: int, path: str, line: int, tokens: list[Token]) -> int:
    """At a character the regex left over: a bracket or parenthesis nested deeper than it
    matches (appended to ``tokens``; returns where to go on), else a LexError."""
    ch = text[start]
    glued = _GLUED.match(text, start)
    if glued is not None:  # digits run into letters or dots: 1e2, 11x11filters, 1.2.3
        word = glued.group(0)
        shown = word if len(word) <= 40 else word[:37] + "..."
        hint = ("write it in digits: 100, not 1e2" if _SCIENTIFIC.fullmatch(word) else
                "put a space between a number and the word after it: `3x3 filters`"
                if re.search(r"[0-9][A-Za-z_]", word) else "check the number")
        raise LexError(Diagnostic(
            Span(path, line, start + 1, start + 1 + len(word)), "P001",
            f"`{shown}` is not a number cnncalc reads: numbers are whole or decimal, in "
            "digits, apart from the words around them", hint))
    if ch.isdecimal():  # a digit of another script, which may look like another digit
        raise LexError(Diagnostic(
            Span(path, line, start + 1, start + 2), "P001",
            f"`{ch}` ({unicodedata.name(ch, 'a digit')}, {unicodedata.decimal(ch)}) is a "
            "digit of another script: cnncalc reads numbers written in 0-9 only, so that the "
            "text reads as what it computes", f"write {unicodedata.decimal(ch)} as 0-9 digits"))
    if ch not in "[(":
        raise LexError(Diagnostic(
            Span(path, line, start + 1, start + 2), "P001", f"unexpected character `{ch}`",
            "layers are written like `CONV1: 96 11x11 filters at stride 4, pad 0`; "
            "`#` starts a comment"))
    close = "]" if ch == "[" else ")"
    depth, j, n = 0, start, len(text)
    while j < n:
        if text[j] == ch:
            depth += 1
        elif text[j] == close:
            depth -= 1
            if depth == 0:
                break
        j += 1
    if j >= n:
        what = "bracket" if ch == "[" else "parenthesis"
        raise LexError(Diagnostic(
            Span(path, line, start + 1, n + 1), "P003" if ch == "[" else "P001",
            f"unclosed {what}: `{ch}` has no matching `{close}`", f"close it with `{close}`"))
    tokens.append(Token("shape" if ch == "[" else "remark", text[start:j + 1], start + 1, j + 2))
    return j + 1


_TIMES = re.compile(r"\s*[xX\u00d7]\s*")


def parse_size(text: str) -> tuple[int, ...]:
    """``11x11`` -> (11, 11); ``7`` -> (7,). The text is one ``size`` or ``number`` token, or
    a shape's inside. Whitespace around ``x`` is whatever ``\\s`` matches, which int() does
    not always strip (``\\x1c``), so it is split off, not left to int()."""
    if text.replace("-", "").isalnum():  # nearly always: no whitespace, no multiplication sign
        return tuple(map(int, text.lower().split("x")))
    return tuple(map(int, _TIMES.split(text.strip())))


_SHAPE = re.compile(r"^\s*[0-9]+(?:\s*[xX\u00d7]\s*[0-9]+)*\s*$")


def parse_shape(tok: Token, path: str, line: int) -> Shape:
    """A bracketed ``[HxWxC]`` or ``[N]``; raises LexError otherwise."""
    inner = tok.text[1:-1]
    dims = parse_size(inner) if _SHAPE.match(inner) else ()
    if len(dims) not in (1, 3):
        raise LexError(Diagnostic(
            tok.span(path, line), "P003",
            f"`{tok.text}` is not a shape: expected [HxWxC] (e.g. [55x55x96]) or [N] (e.g. [4096])",
            "write height x width x depth, or a single count for a flat vector"))
    return dims
