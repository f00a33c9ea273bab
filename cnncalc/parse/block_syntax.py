"""The syntax of blocks in the canonical notation (see :mod:`cnncalc.parse.blocks` for what
they mean): a ``BLOCK name(P, Q=1):`` line, a use line ``layer2: basic(128, S=2), 3 x
basic(128)``, and the substitution of arguments for parameters in a block's lines, with the
map that sends a column of the substituted line back to the definition."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from cnncalc.diagnostics import Diagnostic
from cnncalc.escape import unescape
from cnncalc.parse.cursor import suggest
from cnncalc.parse.lexer import LexError, Token, split_comment, tokenize
from cnncalc.spec import Ref, Span


class Block:
    """A ``BLOCK name(P, Q=1):`` definition: its parameters, where it is, and its lines. A
    plain class (dataclass would compile its methods as ``show`` starts, for no use)."""

    __slots__ = ("lines", "name", "order", "params", "span")

    def __init__(self, name: str, params: list[tuple[str, Token | None]], span: Span,
                 order: int) -> None:
        self.name = name
        self.params = params  # each parameter, with its default's token
        self.span = span  # the BLOCK line's
        self.order = order  # how many blocks were defined before it (uses see earlier ones)
        self.lines: list[tuple[int, str]] = []  # (line number, raw text)


def _args(remark: Token, path: str, line: int) -> list[tuple[Token | None, Token]]:
    """``(64, S=2)``: each argument's keyword token (None when positional) and value token,
    with columns in the line. Values are single tokens: a number, size, word or quoted name."""
    inner = remark.text[1:-1]
    tokens = [t._replace(col=t.col + remark.col, end_col=t.end_col + remark.col)
              for t in tokenize(inner, path, line)]
    found: list[tuple[Token | None, Token]] = []
    i, n = 0, len(tokens)
    while i < n:
        key = None
        if i + 1 < n and tokens[i].kind == "word" and tokens[i + 1].text == "=":
            key, i = tokens[i], i + 2
        if i >= n or tokens[i].kind not in ("number", "size", "word", "string"):
            at = tokens[i] if i < n else remark
            raise LexError(Diagnostic(at.span(path, line), "P001",
                                      "expected a value: a number, a size, a word or a name",
                                      "arguments are written like `(64, S=2)`"))
        found.append((key, tokens[i]))
        i += 1
        if i < n:
            if tokens[i].text != ",":
                raise LexError(Diagnostic(tokens[i].span(path, line), "P001",
                                          f"expected `,` or `)`, found `{tokens[i].text}`",
                                          "arguments are separated by commas"))
            i += 1
    return found


def definition(tokens: list[Token], path: str, line: int, order: int) -> Block | None:
    """The block a ``BLOCK name(P, Q=1):`` line defines; None when the line is not one."""
    if len(tokens) < 3 or tokens[0].low != "block" or tokens[1].kind != "word" \
            or tokens[2].kind != "remark" or tokens[-1].text != ":" or len(tokens) != 4:
        return None
    params: list[tuple[str, Token | None]] = []
    for key, value in _args(tokens[2], path, line):
        if key is None and value.kind == "word":
            params.append((value.text, None))
        elif key is not None:
            params.append((key.text, value))
        else:
            raise LexError(Diagnostic(value.span(path, line), "P001",
                                      f"expected a parameter's name, found `{value.text}`",
                                      "parameters are words, with defaults: `(C, S=1)`"))
        if [p for p, _ in params].count(params[-1][0]) > 1:
            raise LexError(Diagnostic((key or value).span(path, line), "P001",
                                      f"parameter `{params[-1][0]}` is given twice", ""))
    return Block(tokens[1].text, params, Span(path, line, tokens[0].col, tokens[-1].end_col),
                 order)


Use = tuple[int, Block, dict[str, Token]]
"""One item of a use line: how many instances, the block, and its arguments by parameter."""


def use_line(tokens: list[Token], blocks: dict[str, Block], path: str, line: int,
             limit: int) -> tuple[str, Ref | None, list[Use]] | None:
    """``layer2: basic(128, S=2), 3 x basic(128)``: the use's name, the layer it reads
    (``branch2 from INPUT: ...``; None: the layer above) and its items, or None when the line
    is not a use (no word with arguments after the colon). ``limit`` is the order of the
    block being defined (a block uses only earlier blocks)."""
    if len(tokens) < 4 or tokens[0].kind not in ("word", "string"):
        return None
    source = None
    i, n = 2, len(tokens)
    if tokens[1].low == "from" and n > 5 and tokens[2].kind in ("word", "string") \
            and tokens[3].text == ":":
        ref = tokens[2]
        source = Ref(ref.text if ref.kind == "word" else unescape(ref.text[1:-1]),
                     ref.span(path, line))
        i = 4
    elif tokens[1].text != ":":
        return None
    items: list[Use] = []
    while i < n:
        count = 1
        if i + 2 < n and tokens[i].kind == "number" and tokens[i + 1].low == "x":
            count = int(tokens[i].text)
            if count < 1:
                raise LexError(Diagnostic(tokens[i].span(path, line), "G106",
                                          f"{count} instances of a block",
                                          "use it 1 or more times"))
            i += 2
        if i + 1 >= n or tokens[i].kind != "word" or tokens[i + 1].kind != "remark":
            if not items:
                return None
            raise LexError(Diagnostic(tokens[min(i, n - 1)].span(path, line), "P001",
                                      "expected a block's use, e.g. `2 x basic(64)`", ""))
        block = blocks.get(tokens[i].text)
        if block is None or block.order >= limit:
            known = [b for b in blocks.values() if b.order < limit]
            raise LexError(Diagnostic(
                tokens[i].span(path, line), "P016", f"`{tokens[i].text}` is not a block "
                "defined above", suggest(tokens[i].text, [b.name for b in known]) or
                "define it first: `BLOCK name(P):`, its lines, then `END`"))
        items.append((count, block, _bind(block, tokens[i + 1], path, line)))
        i += 2
        if i < n:
            if tokens[i].text != ",":
                raise LexError(Diagnostic(tokens[i].span(path, line), "P001",
                                          f"expected `,` or the end, found `{tokens[i].text}`",
                                          "separate the blocks a line uses with commas"))
            i += 1
    name = tokens[0].text if tokens[0].kind == "word" else unescape(tokens[0].text[1:-1])
    return name, source, items


def _bind(block: Block, remark: Token, path: str, line: int) -> dict[str, Token]:
    """The arguments of one use, by parameter, defaults filled in."""
    names = [p for p, _ in block.params]
    bound: dict[str, Token] = {}
    for k, (key, value) in enumerate(_args(remark, path, line)):
        if key is None:
            if bound and any(p not in names[:k] for p in bound):
                raise LexError(Diagnostic(value.span(path, line), "P001",
                                          "a positional argument after a named one", ""))
            if k >= len(names):
                raise LexError(Diagnostic(value.span(path, line), "P001",
                                          f"{block.name} takes {len(names)} argument"
                                          f"{'s' if len(names) != 1 else ''}",
                                          f"its parameters: ({', '.join(names)})"))
            bound[names[k]] = value
        elif key.text not in names:
            raise LexError(Diagnostic(key.span(path, line), "P001",
                                      f"{block.name} has no parameter `{key.text}`",
                                      suggest(key.text, names, fold_case=False)
                                      or f"its parameters: ({', '.join(names)})"))
        elif key.text in bound:
            raise LexError(Diagnostic(key.span(path, line), "P001",
                                      f"`{key.text}` is given twice", ""))
        else:
            bound[key.text] = value
    for p, default in block.params:
        if p not in bound:
            if default is None:
                raise LexError(Diagnostic(remark.span(path, line), "P001",
                                          f"{block.name} needs a value for `{p}`",
                                          f"its parameters: ({', '.join(names)})"))
            bound[p] = default
    return bound


@functools.lru_cache(maxsize=256)
def mentions(names: tuple[str, ...]) -> re.Pattern[str]:
    """Where one of ``names`` may stand as a word the lexer would read: a quick test before
    the line is tokenized (a word that only looks like one, as in a quoted name, goes on to
    the tokenizer, which decides)."""
    alternatives = "|".join(map(re.escape, sorted(names, key=len, reverse=True))) or "(?!)"
    return re.compile(rf"(?<![A-Za-z0-9_\-])(?:{alternatives})(?![A-Za-z0-9_\-])")


def unmoved(col: int, end: bool = False) -> int:
    """The column map of a line whose columns did not move."""
    return col


def substitute(raw: str, args: dict[str, Token], path: str, line: int
               ) -> tuple[str, Callable[[int, bool], int]]:
    """The line with each parameter word replaced by its argument's text, and a map from a
    column of the new line to the column of the definition it comes from (``end``: an
    exclusive end column)."""
    body = split_comment(raw).rstrip()
    if mentions(tuple(args)).search(body) is None:
        return body, unmoved  # most lines of most blocks: no parameter to replace
    try:
        tokens = tokenize(body, path, line)
        for tok in list(tokens):  # the values of arguments, as `unit(C, K=K)` in a block's use
            if tok.kind == "remark":
                inner = tokenize(tok.text[1:-1], path, line)
                tokens += [t._replace(col=t.col + tok.col, end_col=t.end_col + tok.col)
                           for k, t in enumerate(inner)
                           if not (k + 1 < len(inner) and inner[k + 1].text == "=")]
    except LexError:
        tokens = []  # the error is reported as the line is read
    tokens.sort(key=lambda t: t.col)
    pieces: list[str] = []
    moves: list[tuple[int, int, int, int]] = []  # new start, new end, old start, old end
    at, shift = 0, 0
    for tok in tokens:
        value = args.get(tok.text) if tok.kind == "word" else None
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
