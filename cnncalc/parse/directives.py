"""``# cnncalc: ...`` comments, read the same way in every notation.

``# cnncalc: input 224x224x3`` gives the input volume (HxWxC) to a spec whose notation has no
place for it (PyTorch's printed modules, or Keras code with ``input_shape=input_shape``).
"""

from __future__ import annotations

import re

from cnncalc.diagnostics import Diagnostic
from cnncalc.parse.comments import comment_columns
from cnncalc.parse.lexer import MAX_DIGITS
from cnncalc.spec import Shape, Span

_DIRECTIVE = re.compile(r"#\s*cnncalc:\s*input\s+(?P<shape>\S+)", re.IGNORECASE)
_VOLUME = re.compile(r"^([0-9]+)[xX]([0-9]+)[xX]([0-9]+)$")


def find_input(lines: list[str] | tuple[str, ...], path: str, notation: str
               ) -> tuple[Shape | None, Span | None, list[Diagnostic]]:
    """The volume of the first ``# cnncalc: input HxWxC`` comment, its span, and problems.
    Only a comment counts, as ``notation`` reads comments: the same text in a quoted name or
    a Python string is not a directive."""
    starts: list[int] | None = None
    for lineno, line in enumerate(lines, start=1):
        m = _DIRECTIVE.search(line)
        if m is None:
            continue
        if starts is None:  # found only where some line has the text: read comments once
            starts = comment_columns(lines, notation)
        comment = starts[lineno - 1]
        if comment < 0:
            continue
        if m.start() < comment:
            m = _DIRECTIVE.search(line, comment)
            if m is None:
                continue
        span = Span(path, lineno, m.start("shape") + 1, m.end("shape") + 1)
        v = _VOLUME.match(m.group("shape")) if len(m.group("shape")) < MAX_DIGITS else None
        if v is None:
            return None, span, [Diagnostic(
                span, "P003", f"`{m.group('shape')}` is not an input volume",
                "write it as HxWxC, e.g. `# cnncalc: input 224x224x3`")]
        return (int(v[1]), int(v[2]), int(v[3])), span, []
    return None, None, []
