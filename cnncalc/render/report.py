"""Human diagnostics: ``path:line:col: severity: message [CODE name]``, the source line, a
caret under the offending text, and the hint. Plain text, so it reads the same in a log."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

import click

from cnncalc.diagnostics import Diagnostic, Severity

_COLORS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
# what cannot be shown as is: lone surrogates (undecodable bytes), C0 and C1 controls, U+2028/9
_UNPRINTABLE = re.compile("[\ud800-\udfff\x00-\x1f\x7f-\x9f\u2028\u2029]")


def format_diagnostic(d: Diagnostic, lines: Sequence[str], color: bool = False) -> str:
    s = d.span
    sev = d.severity.value
    if color:
        sev = click.style(sev, fg=_COLORS[d.severity], bold=True)
    out = [f"{s.path}:{s.line}:{s.col}: {sev}: {d.message} [{d.code} {d.rule.name}]"]
    if 1 <= s.line <= len(lines):
        raw = lines[s.line - 1].replace("\t", " ").rstrip("\r\n")
        src, at = _printable(raw)
        gutter = f"{s.line:>5} | "
        start = at(s.col - 1)
        width = max(1, at(min(s.end_col, len(raw) + 1) - 1) - start)
        caret = " " * start + "^" * width
        if color:
            caret = click.style(caret, fg=_COLORS[d.severity], bold=True)
        out.append(gutter + src)
        out.append(" " * (len(gutter) - 2) + "| " + caret)
    if d.hint:
        out.append(f"  hint: {d.hint}")
    return "\n".join(out)


def _printable(line: str) -> tuple[str, Callable[[int], int]]:
    """The line as it can be printed, and where each character offset lands in it (an
    offset past the end lands as far past the printed end).

    A file read with ``surrogateescape`` keeps each undecodable byte as a lone surrogate
    (U+DC80..U+DCFF), which no UTF-8 stream can encode; those bytes are shown as ``\\xNN``,
    any other lone surrogate as ``\\uNNNN``, and control characters (NUL, a form feed, U+2028:
    invisible, or a line break on a terminal) as ``\\xNN`` or ``\\uNNNN``. The caret then
    underlines the whole escape."""
    if not _UNPRINTABLE.search(line):
        return line, lambda i: i
    parts: list[str] = []
    offsets = [0]
    for ch in line:
        if "\udc80" <= ch <= "\udcff":
            ch = f"\\x{ord(ch) - 0xDC00:02x}"
        elif "\ud800" <= ch <= "\udfff" or ch in "\u2028\u2029":
            ch = f"\\u{ord(ch):04x}"
        elif ch < " " or "\x7f" <= ch <= "\x9f":
            ch = f"\\x{ord(ch):02x}"
        parts.append(ch)
        offsets.append(offsets[-1] + len(ch))
    n = len(line)
    return "".join(parts), lambda i: offsets[min(i, n)] + max(0, i - n)


def format_all(diags: Iterable[Diagnostic], lines: Sequence[str], color: bool = False) -> str:
    return "\n".join(format_diagnostic(d, lines, color) for d in diags)
