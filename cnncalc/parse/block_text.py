"""A block's line made into one instance's: each parameter word replaced by its argument's
text (``substitute``, with a map from the new line's columns back to the definition's), and
the layer read from it renamed and pointed back at the definition (``remap``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from cnncalc.parse.lexer import LexError, Token, split_comment, tokenize
from cnncalc.spec import Crop, Layer, Ref, Span


def substitute(raw: str, args: dict[str, Token], path: str, line: int
               ) -> tuple[str, Callable[[int, bool], int]]:
    """The line with each parameter word replaced by its argument's text, and a map from a
    column of the new line to the column of the definition it comes from (``end``: an
    exclusive end column)."""
    body = split_comment(raw).rstrip()
    try:
        tokens = tokenize(body, path, line)
    except LexError:
        tokens = []  # the error is reported as the line is read
    pieces: list[str] = []
    moves: list[tuple[int, int, int, int]] = []  # new start, new end, old start, old end
    at, shift = 0, 0
    for tok in words(tokens, path, line):
        value = args.get(tok.text)
        if value is None:
            continue
        pieces += [body[at:tok.col - 1], value.text]
        start = tok.col + shift
        moves.append((start, start + len(value.text), tok.col, tok.end_col))
        shift += len(value.text) - (tok.end_col - tok.col)
        at = tok.end_col - 1
    pieces.append(body[at:])

    def back(col: int, end: bool = False) -> int:
        if end:
            return back(col - 1) + 1 if not any(s <= col - 1 < e for s, e, _, _ in moves) \
                else next(oe for s, e, _, oe in moves if s <= col - 1 < e)
        grown = 0
        for start, stop, old, old_end in moves:
            if col < start:
                break
            if col < stop:
                return old
            grown = stop - old_end
        return col - grown
    return "".join(pieces), back


def words(tokens: list[Token], path: str, line: int) -> list[Token]:
    """The word tokens of a line, with columns in the line, those inside a parenthesised group
    included: a nested use's arguments (``conv: expand(H, S=S)``) are a block's words too,
    but not the names of its keyword arguments (the first ``S``)."""
    found: list[Token] = []
    for tok in tokens:
        if tok.kind == "word":
            found.append(tok)
        elif tok.kind == "remark":
            try:
                inner = tokenize(tok.text[1:-1], path, line)
            except LexError:
                continue  # not arguments; the line's reader says what is wrong, if anything
            found += [t._replace(col=t.col + tok.col, end_col=t.end_col + tok.col)
                      for t, after in zip(inner, [*inner[1:], None], strict=True)
                      if t.kind == "word" and (after is None or after.text != "=")]
    return found


def remap(layer: Layer, back: Callable[[int, bool], int], name: str,
          rename: Callable[[Ref], Ref]) -> Layer:
    """The layer of an instance: its spans mapped to the definition, its name given, its
    references renamed."""
    def span(s: Span) -> Span:
        return Span(s.path, s.line, back(s.col, False), back(s.end_col, True))

    changes: dict[str, Any] = {
        "name": name, "span": span(layer.span),
        "fields": tuple((f, span(s)) for f, s in layer.fields),
        "inputs": tuple(rename(Ref(r.name, span(r.span))) for r in layer.inputs)}
    if layer.declared_span is not None:
        changes["declared_span"] = span(layer.declared_span)
    if isinstance(layer, Crop) and layer.like is not None:
        changes["like"] = rename(Ref(layer.like.name, span(layer.like.span)))
    return replace(layer, **changes)


def same(col: int, end: bool) -> int:
    """The column map of a line that is its own definition (a top-level layer's)."""
    return col


__all__ = ["remap", "same", "substitute", "words"]
