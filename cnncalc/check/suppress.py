"""Inline suppression: ``# cnncalc: ignore[CODE]`` or ``# cnncalc: ignore[CODE1,CODE2]``.

A suppression silences findings with those exact codes whose span starts on the same line.
Codes are required: a bare ``# cnncalc: ignore`` suppresses nothing and is reported (S602), as
is a code that suppressed nothing or that no rule has (S601): a stale suppression would hide the
next real problem on that line. Every notation treats ``#`` as a comment (the lecture, VGG and
canonical notations cut it; the Keras and PyTorch front ends read code with ``ast`` or blank
comments), so these comments never change what is parsed.

A suppression counts only inside a comment, as the notation reads comments: in the lecture,
canonical and VGG notations a ``#`` outside a quoted name starts one (``lexer.split_comment``);
in Keras and PyTorch text, a ``#`` outside a Python string literal (``parse.comments``). So
``CONV "a # cnncalc: ignore[G101]"`` or ``name='# cnncalc: ignore[G101]'`` suppresses nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from cnncalc.diagnostics import RULES, Diagnostic, Severity
from cnncalc.parse.comments import comment_columns
from cnncalc.records import record
from cnncalc.spec import Span

if TYPE_CHECKING:
    from cnncalc.analyze import Analysis

_COMMENT = re.compile(r"#\s*cnncalc\s*:\s*ignore\b(?P<bracket>\[(?P<codes>[^\]]*)\]?)?",
                      re.IGNORECASE)
_CODE = re.compile(r"[^,\s]+")


@record
class Suppression:
    """One code named by a ``# cnncalc: ignore[...]`` comment, at its span."""

    code: str
    span: Span

    @property
    def line(self) -> int:
        return self.span.line


def _example(line: str) -> str:
    return "`# cnncalc: ignore[W501]`" if "W501" not in line else "`# cnncalc: ignore[W502]`"


def find_suppressions(lines: Sequence[str], path: str, notation: str | None = None
                      ) -> tuple[list[Suppression], list[Diagnostic]]:
    """Every code named in a suppression comment, and S602 for each one that names none.
    ``notation`` says how comments are read (see the module docstring)."""
    found: list[Suppression] = []
    blanket: list[Diagnostic] = []
    if _COMMENT.search("\n".join(lines)) is None:  # the common case: one scan at C speed
        return found, blanket
    starts = comment_columns(lines, notation)
    for lineno, line in enumerate(lines, start=1):
        comment = starts[lineno - 1]
        if comment < 0:
            continue
        for m in _COMMENT.finditer(line, comment):
            codes = m["codes"] or ""
            start = m.start("codes") if m["codes"] is not None else m.end()
            tokens = list(_CODE.finditer(codes))
            if not tokens:
                blanket.append(Diagnostic(
                    Span(path, lineno, m.start() + 1, m.end() + 1), "S602",
                    "a suppression without codes suppresses nothing",
                    f"name the codes to silence on this line, e.g. {_example(line)}"))
            for t in tokens:
                col = start + t.start() + 1
                found.append(Suppression(t.group().upper(),
                                         Span(path, lineno, col, col + len(t.group()))))
    return found, blanket


def apply_suppressions(diags: list[Diagnostic], suppressions: list[Suppression],
                       is_selected: Callable[[str], bool]) -> tuple[list[Diagnostic], int]:
    """The findings left after suppression (with S601 for each unused code added) and how
    many were suppressed. ``is_selected`` says whether a code is reported at all: an unused
    suppression of a code that is not selected says so."""
    if not suppressions:
        return diags, 0
    wanted = {(s.line, s.code) for s in suppressions}
    used = {(d.span.line, d.code) for d in diags} & wanted
    kept = [d for d in diags if (d.span.line, d.code) not in wanted]
    suppressed = len(diags) - len(kept)
    for s in suppressions:
        if (s.line, s.code) in used or s.code in _META:
            continue
        if s.code not in RULES:
            why, hint = (f"{s.code} is not a cnncalc rule code",
                         "`cnncalc rules` lists the codes")
        elif not is_selected(s.code):
            why, hint = (f"{s.code} is not selected, so there is nothing to suppress",
                         "remove the suppression, or select the code")
        else:
            why, hint = (f"no {s.code} finding on this line",
                         "remove the code: the problem it silenced is gone")
        if is_selected("S601"):
            kept.append(Diagnostic(s.span, "S601", f"unused suppression: {why}", hint))
    meta = {(s.line, s.code) for s in suppressions if s.code in _META}
    final = [d for d in kept if (d.span.line, d.code) not in meta]
    return final, suppressed + len(kept) - len(final)


_META = ("S601", "S602")


def unsilenced(analysis: Analysis) -> list[Diagnostic]:
    """The diagnostics to print under the figures: a warning that a ``# cnncalc:
    ignore[CODE]`` comment on its line silences is left out, as ``check`` leaves it out (the
    figures are the same either way); an error is always printed, since it withholds them."""
    diags = list(analysis.diagnostics)
    if not any(d.severity is Severity.WARNING for d in diags):
        return diags
    spec = analysis.spec
    found, _ = find_suppressions(spec.lines, spec.path, spec.notation)
    silenced = {(s.line, s.code) for s in found}
    return [d for d in diags
            if d.severity is not Severity.WARNING or (d.span.line, d.code) not in silenced]
