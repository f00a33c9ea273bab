"""Human diagnostics: ``path:line:col: severity: message [CODE name]``, the source line, a
caret under the offending text, and the hint. Plain text, so it reads the same in a log; the
path, message and hint are escaped as ``cnncalc.escape`` says (a name in a message may hold
anything)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

import click

from cnncalc.diagnostics import Diagnostic, Severity
from cnncalc.escape import BEACON, escape, escape_char

_COLORS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
# where a line may need escaping: a character outside printable ASCII, or a `##[` command
_UNPRINTABLE = re.compile(f"[^\x20-\x7e]|{BEACON.pattern}")


SHOWN = 120
"""A source line longer than this is shown shortened: this many characters around the start
of the span, with ``...`` where text is left out, so that the display of many findings on one
very long line takes time linear in the input (and stays readable)."""
SHOWN_BEFORE = 40
"""Of which, at most this many before the span."""


def _window(line: str, col: int) -> tuple[str, int, str, str]:
    """The part of ``line`` shown for a span starting at 0-based ``col``: the text, its offset
    in the line, and the ellipses before and after it (empty when nothing is left out)."""
    if len(line) <= SHOWN:
        return line.rstrip("\r\n"), 0, "", ""
    end = min(len(line), max(0, col - SHOWN_BEFORE) + SHOWN)
    start = max(0, end - SHOWN)
    return (line[start:end].rstrip("\r\n") if end == len(line) else line[start:end], start,
            "..." if start else "", "..." if end < len(line) else "")


def format_diagnostic(d: Diagnostic, lines: Sequence[str], color: bool = False) -> str:
    s = d.span
    sev = d.severity.value
    if color:
        sev = click.style(sev, fg=_COLORS[d.severity], bold=True)
    out = [f"{escape(s.path)}:{s.line}:{s.col}: {sev}: {escape(d.message)} "
           f"[{d.code} {d.rule.name}]"]
    if 1 <= s.line <= len(lines):
        line = lines[s.line - 1]
        raw, shift, before, after = _window(line, s.col - 1)
        src, at = _printable(raw.replace("\t", " "))
        src = before + src + after
        gutter = f"{s.line:>5} | "
        start = len(before) + at(s.col - 1 - shift)
        stop = min(s.end_col, len(line) + 1) - 1 - shift  # past what is shown, to its end
        width = max(1, len(before) + at(min(stop, len(raw))) - start)
        caret = " " * start + "^" * width
        if color:
            caret = click.style(caret, fg=_COLORS[d.severity], bold=True)
        out.append(gutter + src)
        out.append(" " * (len(gutter) - 2) + "| " + caret)
    if d.hint:
        out.append(f"  hint: {escape(d.hint)}")
    return "\n".join(out)


def _printable(line: str) -> tuple[str, Callable[[int], int]]:
    """The line as it can be printed, and where each character offset lands in it (an
    offset past the end lands as far past the printed end).

    A file read with ``surrogateescape`` keeps each undecodable byte as a lone surrogate
    (U+DC80..U+DCFF), which no UTF-8 stream can encode; those bytes are shown as ``\\xNN``.
    Every other character ``cnncalc.escape`` calls unsafe (another lone surrogate, control
    and format characters such as NUL, a form feed, U+2028 or a bidi override: invisible, a
    line break, or a reordered line on a terminal) is shown as its escape, ``\\xNN`` or
    ``\\uNNNN``, and so is the ``#`` that starts a ``##[`` workflow command. The caret then
    underlines the whole escape."""
    if not _UNPRINTABLE.search(line):
        return line, lambda i: i
    parts: list[str] = []
    offsets = [0]
    for i, ch in enumerate(line):
        if "\udc80" <= ch <= "\udcff":
            ch = f"\\x{ord(ch) - 0xDC00:02x}"
        elif (escaped := escape_char(line, i)) is not None:
            ch = escaped
        parts.append(ch)
        offsets.append(offsets[-1] + len(ch))
    n = len(line)
    return "".join(parts), lambda i: offsets[min(i, n)] + max(0, i - n)


def format_all(diags: Iterable[Diagnostic], lines: Sequence[str], color: bool = False) -> str:
    return "\n".join(format_diagnostic(d, lines, color) for d in diags)
