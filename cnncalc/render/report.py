"""Human diagnostics: ``path:line:col: severity: message [CODE name]``, the source line, a
caret under the offending text, and the hint. Plain text, so it reads the same in a log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import click

from cnncalc.diagnostics import Diagnostic, Severity

_COLORS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def format_diagnostic(d: Diagnostic, lines: Sequence[str], color: bool = False) -> str:
    s = d.span
    sev = d.severity.value
    if color:
        sev = click.style(sev, fg=_COLORS[d.severity], bold=True)
    out = [f"{s.path}:{s.line}:{s.col}: {sev}: {d.message} [{d.code} {d.rule.name}]"]
    if 1 <= s.line <= len(lines):
        src = lines[s.line - 1].replace("\t", " ").rstrip("\r\n")
        gutter = f"{s.line:>5} | "
        width = max(1, min(s.end_col, len(src) + 1) - s.col)
        caret = " " * (s.col - 1) + "^" * width
        if color:
            caret = click.style(caret, fg=_COLORS[d.severity], bold=True)
        out.append(gutter + src)
        out.append(" " * (len(gutter) - 2) + "| " + caret)
    if d.hint:
        out.append(f"  hint: {d.hint}")
    return "\n".join(out)


def format_all(diags: Iterable[Diagnostic], lines: Sequence[str], color: bool = False) -> str:
    return "\n".join(format_diagnostic(d, lines, color) for d in diags)
