"""A line lexer for the prose notations: sizes (``11x11``), numbers, words, punctuation,
bracketed shapes and parenthesised remarks, each with its 1-based column span."""

from __future__ import annotations

import re
from typing import NamedTuple

from cnncalc.diagnostics import Diagnostic
from cnncalc.spec import Shape, Span

_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<size>\d+(?:\s*[xX\u00d7]\s*\d+)+)(?![\w.])
    | (?P<number>\d+\.\d*|\.\d+|\d+)(?![\w.])
    | (?P<word>[A-Za-z_][A-Za-z0-9_\-]*)
    | (?P<string>"[^"\n]*")
    | (?P<punct>[:,?=])
    | (?P<open>[\[(])
    )""",
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
    """The line without its ``#`` comment."""
    cut = text.find("#")
    return text if cut < 0 else text[:cut]


def tokenize(text: str, path: str, line: int) -> list[Token]:
    """Tokens of one line (comment already removed). Raises LexError at the first character
    that cannot start a token, or at an unclosed bracket or parenthesis."""
    tokens: list[Token] = []
    text = text.rstrip()
    i, n = 0, len(text)
    match = _TOKEN.match
    while i < n:
        m = match(text, i)
        kind = None if m is None else m.lastgroup
        if m is None or kind is None:
            j = i + len(text[i:]) - len(text[i:].lstrip())
            raise LexError(Diagnostic(
                Span(path, line, j + 1, j + 2), "P001",
                f"unexpected character `{text[j]}`",
                "layers are written like `CONV1: 96 11x11 filters at stride 4, pad 0`; "
                "`#` starts a comment"))
        start, i = m.span(kind)
        if kind != "open":
            tokens.append(Token(kind, text[start:i], start + 1, i + 1))
            continue
        ch = text[start]
        close = "]" if ch == "[" else ")"
        depth, j = 0, start
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
                f"unclosed {what}: `{ch}` has no matching `{close}`",
                f"close it with `{close}`"))
        tokens.append(Token("shape" if ch == "[" else "remark", text[start:j + 1], start + 1,
                            j + 2))
        i = j + 1
    return tokens


def parse_size(text: str) -> tuple[int, ...]:
    """``11x11`` -> (11, 11); ``7`` -> (7,). The text is one ``size`` or ``number`` token."""
    return tuple(map(int, text.lower().replace("\u00d7", "x").split("x")))


_SHAPE = re.compile(r"^\s*\d+(?:\s*[xX\u00d7]\s*\d+)*\s*$")


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
