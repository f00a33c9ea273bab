"""Where comments start, as each notation reads them: one rule shared by everything that
looks inside comments (``# cnncalc: input`` directives, ``# cnncalc: ignore[...]``
suppressions), so that text in a quoted name or a Python string is never taken for one.

- lecture, canonical and VGG text: a ``#`` outside a quoted name (``lexer.split_comment``);
- Keras and PyTorch text: a ``#`` outside a Python string literal (``python_comments``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cnncalc.parse.lexer import split_comment


def comment_columns(lines: Sequence[str], notation: str | None) -> list[int]:
    """For each line, the 0-based column of the ``#`` that starts its comment, or -1."""
    if notation in ("keras", "pytorch"):
        return python_comments(lines)
    out = []
    for line in lines:
        cut = len(split_comment(line)) if "#" in line else -1
        out.append(cut if cut < len(line) else -1)
    return out


# what can end the code between strings, and each kind of string literal
_CODE_STOP = re.compile(r"[#'\"]")
_STRING_STOP = {"'": re.compile(r"[\\'\n]"), '"': re.compile(r'[\\"\n]'),
                "'''": re.compile(r"[\\']"), '"""': re.compile(r'[\\"]')}


def python_comments(lines: Sequence[str]) -> list[int]:
    """For each line of Python code, the column (0-based) of the ``#`` that starts its
    comment, or -1. Strings are skipped as Python's tokenizer skips them: ``'`` and ``"``
    literals end at their quote or the line's end, triple-quoted ones may span lines, and a
    backslash escapes the next character in every kind (raw strings too, for where they end).
    One pass over the text, never run."""
    src = "\n".join(lines)
    starts = [-1] * len(lines)
    line_starts = [0]
    for line in lines[:-1]:
        line_starts.append(line_starts[-1] + len(line) + 1)
    lineno, pos, n = 0, 0, len(src)
    while pos < n:
        m = _CODE_STOP.search(src, pos)
        if m is None:
            break
        i = m.start()
        while lineno + 1 < len(lines) and line_starts[lineno + 1] <= i:
            lineno += 1
        if src[i] == "#":
            starts[lineno] = i - line_starts[lineno]
            end = src.find("\n", i)
            pos = n if end < 0 else end + 1
            continue
        quote = src[i] * 3 if src.startswith(src[i] * 3, i) else src[i]
        pos = _string_end(src, i + len(quote), quote)
    return starts


def _string_end(src: str, pos: int, quote: str) -> int:
    """Where the string literal opened by ``quote`` just before ``pos`` ends."""
    stop = _STRING_STOP[quote]
    while True:
        m = stop.search(src, pos)
        if m is None:
            return len(src)
        k = m.start()
        ch = src[k]
        if ch == "\\":
            pos = k + 2
        elif ch == "\n" or src.startswith(quote, k):
            return k + (1 if ch == "\n" else len(quote))
        else:
            pos = k + 1
