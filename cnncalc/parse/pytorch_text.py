"""The PyTorch reader's text: its lines, the text it scans (``#`` comments blanked, columns
kept), where each line starts, and what the reader asks about a line or an offset: its line
and column, a span, the end of its line, its indentation, whether it imports, the next line
that is not blank.

Each answer costs a binary search over the line starts or is worked out once per line: the
reader asks them once per item or ``)``, and a long line holds many, so scanning the line
each time (as ``rfind`` back to its start, or ``lstrip``, would) takes quadratic time.
"""

from __future__ import annotations

import bisect
import itertools
import re
from array import array

from cnncalc.spec import Span, source_lines

_IMPORT = re.compile(r"[ \t]*(?:import|from)\s")
_new = tuple.__new__  # Span(...) without NamedTuple's Python-level __new__


def _mask(line: str) -> str:
    """The line with its ``#`` comment (outside quotes) blanked, columns kept."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            return line[:i] + " " * (len(line) - i)
    return line


class Text:
    """A text and its lines, as the reader scans them."""

    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.lines = source_lines(text)
        self.src = "\n".join([_mask(ln) if "#" in ln else ln for ln in self.lines]
                             if "#" in text else self.lines)
        # the offset where each line starts (8 bytes a line: a list of ints takes 36)
        self.starts = array("q", [0])
        self.starts.extend(itertools.accumulate(len(line) + 1 for line in self.lines[:-1]))
        self.has_imports = "import" in self.src or "from" in self.src
        self.indents: dict[int, int] = {}
        self.import_line = (0, False)  # the last line asked about, and whether it imports
        self.below: dict[int, int | None] = {}  # the next line that is not blank, per line

    def indent(self, line: int) -> int:
        """The indentation of ``line`` (1-based)."""
        found = self.indents.get(line)
        if found is None:
            text = self.lines[line - 1]
            found = self.indents[line] = len(text) - len(text.lstrip())
        return found

    def imports(self, pos: int) -> bool:
        """Whether the line of ``pos`` is an ``import`` or ``from`` statement."""
        line = bisect.bisect_right(self.starts, pos)
        if self.import_line[0] != line:
            self.import_line = (line, _IMPORT.match(self.src, self.starts[line - 1]) is not None)
        return self.import_line[1]

    def next_text(self, line: int) -> int | None:
        """The first line after ``line`` that is not blank, if any."""
        if line not in self.below:
            self.below[line] = next((k for k in range(line + 1, len(self.lines) + 1)
                                     if (text := self.lines[k - 1]) and not text.isspace()),
                                    None)
        return self.below[line]

    def at(self, off: int) -> tuple[int, int]:
        """1-based (line, column) of an offset into the source."""
        i = bisect.bisect_right(self.starts, off) - 1
        return i + 1, off - self.starts[i] + 1

    def span(self, start: int, end: int, line: int = 0) -> Span:
        """A one-line span; one that crosses lines stops at the end of its first line. ``line``,
        when known, is the line of ``start``."""
        i = line - 1 if line else bisect.bisect_right(self.starts, start) - 1
        line_start = self.starts[i]
        col = start - line_start + 1
        if end < line_start or (i + 1 < len(self.starts) and end >= self.starts[i + 1]):
            end_col = self.line_end(i + 1)
        else:
            end_col = end - line_start + 1
        return _new(Span, (self.path, i + 1, col, end_col if end_col > col else col + 1))

    def line_end(self, line: int) -> int:
        """The column after the text of ``line``."""
        return len(self.lines[line - 1].rstrip()) + 1

    def eol(self, off: int) -> int:
        """The offset of the end of the line of ``off`` (found from the line starts: many
        items on one long line each ask for it)."""
        line = bisect.bisect_right(self.starts, off)
        return self.starts[line] - 1 if line < len(self.starts) else len(self.src)
