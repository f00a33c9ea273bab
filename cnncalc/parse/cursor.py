"""A cursor over one line's tokens, for the prose notations: it reads numbers, sizes and
options, and raises LexError saying what was expected where."""

from __future__ import annotations

from fractions import Fraction

from cnncalc.diagnostics import Diagnostic
from cnncalc.parse.lexer import LexError, Token, parse_size
from cnncalc.spec import Padding, Pair, Span

SUGGEST_LONGEST = 64
"""Words longer than this get no suggestion: no layer or argument name is near one, and
difflib compares two long strings in quadratic time (the VGG front end's choices are built
from the word itself)."""


def suggest(word: str, choices: list[str], fold_case: bool = True) -> str:
    """``did you mean `CONV`?`` for a near miss, compared case-insensitively unless
    ``fold_case`` is False (the Keras front end compares names as they are spelt)."""
    if len(word) > SUGGEST_LONGEST:
        return ""
    import difflib  # here, not at the top: it is only needed for a near miss (1.5 ms)

    fold = str.lower if fold_case else str
    by_fold = {fold(c): c for c in choices}
    close = difflib.get_close_matches(fold(word), list(by_fold), n=1, cutoff=0.6)
    return f"did you mean `{by_fold[close[0]]}`?" if close else ""


_SEPARATORS = frozenset(("at", "and", "with"))


class Cursor:
    def __init__(self, tokens: list[Token], path: str, line: int, end_col: int) -> None:
        self.tokens, self.path, self.line, self.end_col = tokens, path, line, end_col
        self.i = 0
        self.fields: list[tuple[str, Span]] = []

    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at_end(self) -> bool:
        return self.i >= len(self.tokens) or self.tokens[self.i].kind == "remark"

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

    def skip_separators(self) -> None:
        """Past any ``,``, ``at``, ``and``, ``with``: inline, as it runs before every option."""
        tokens, i = self.tokens, self.i
        while i < len(tokens) and (
                (tokens[i].kind == "punct" and tokens[i].text == ",")
                or (tokens[i].kind == "word" and tokens[i].text.lower() in _SEPARATORS)):
            i += 1
        self.i = i

    def fail(self, expected: str, hint: str = "", choices: list[str] | None = None) -> LexError:
        tok = self.peek()
        if tok is None:
            span = Span(self.path, self.line, self.end_col, self.end_col + 1)
            found = "the end of the line"
        else:
            span = tok.span(self.path, self.line)
            found = f"`{tok.text}`"
            if choices and tok.kind == "word":
                hint = suggest(tok.text, choices) or hint
        return LexError(Diagnostic(span, "P001", f"expected {expected}, found {found}", hint))

    def note(self, fname: str, tok: Token) -> None:
        self.fields.append((fname, tok.span(self.path, self.line)))

    def pair(self, what: str, fname: str) -> Pair:
        tok = self.peek()
        if tok is None or tok.kind not in ("size", "number") or "." in tok.text:
            raise self.fail(f"{what} (a whole number, or HxW such as 3x3)")
        dims = parse_size(tok.text)
        if len(dims) > 2:
            raise self.fail(f"{what} as N or HxW, not {len(dims)} numbers")
        self.note(fname, self.take())
        return (dims[0], dims[-1])

    def count(self, what: str, fname: str) -> int:
        tok = self.peek()
        if tok is None or tok.kind != "number" or "." in tok.text:
            raise self.fail(what)
        self.note(fname, self.take())
        return int(tok.text)

    def rate(self, what: str, fname: str) -> Fraction:
        """A number with decimals, exactly as written (``0.99999999999999999`` is below 1)."""
        tok = self.peek()
        if tok is None or tok.kind != "number":
            raise self.fail(what)
        self.note(fname, self.take())
        return Fraction(tok.text)

    def padding(self) -> Padding:
        """``P``, ``PHxPW``, ``?`` (solve for it), ``same`` or ``valid``."""
        self.accept_punct("=")
        q = self.accept_punct("?")
        if q is not None:
            self.note("pad", q)
            return Padding.fit()
        word = self.accept_word("same", "valid")
        if word is not None:
            self.note("pad", word)
            return Padding.same() if word.low == "same" else Padding()
        p = self.pair("a padding (a whole number, HxW, ?, same or valid)", "pad")
        return Padding.symmetric(*p)

    def end(self) -> None:
        tok = self.peek()
        if tok is not None and tok.kind == "remark":
            self.take()
        if self.peek() is not None:
            raise self.fail("the end of the layer (a remark goes in parentheses)")
