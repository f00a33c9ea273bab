"""Where a PyTorch call that is not closed on its own line ends, found without walking the
lines after it.

The reader matches a call's ``(`` by walking its text: parentheses outside quotes are
counted (a quote ends at the end of its line), and at each line break outside a quote the
walk gives up (the call is not closed) when the next line that is not blank starts a module
or a label. Done line by line from every such call, that walk takes quadratic time: a file
of unclosed calls, or one unclosed call before many blank lines, rescans the rest of the file
from each of them.

The reader walks the call's own line itself. Every later line is entered with no quote open,
so what a line does to the count does not depend on where the walk began: :class:`Walks`
reads the whole text once that way, recording every parenthesis outside quotes with the
running depth after it (the depth of the text from its start), and the lines after which a
walk gives up. A walk that enters line ``i`` with ``d`` parentheses open ends at the first
``)`` after the start of that line whose depth is ``d`` below the depth there, unless a line
it gives up after comes first: one binary search and one search of a tree of block minima.
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Sequence

_SIGNIFICANT = re.compile(r"[()'\"\n]")
_PLAIN = r"[^()'\"\n]*+"  # a call on one line, without quotes, nested at most two deep:
_SIMPLE = re.compile(rf"\((?:{_PLAIN}\({_PLAIN}\))*+{_PLAIN}\)")  # matched with no walk
_LEAD = re.compile(r"\s*")
_BLOCK = 64  # parentheses a block; the tree holds each block's least depth
_NEVER = 1 << 62  # the depth of the padding blocks, which no walk reaches


class Walks:
    """The parentheses of ``src`` (lines ``lines`` starting at offsets ``starts``, joined with
    ``\\n``) as a walk meets them on every line after its first. ``item_start`` matches a
    module or label at the first character of a line that is not blank."""

    def __init__(self, src: str, lines: list[str], starts: Sequence[int],
                 item_start: re.Pattern[str]) -> None:
        self.starts = starts
        self.pos, self.depth = array("q"), array("q")
        quoted_ends: set[int] = set()  # lines that end inside a quote
        depth, quote, line = 0, "", 1
        pos_append, depth_append = self.pos.append, self.depth.append
        for m in _SIGNIFICANT.finditer(src):
            ch = m[0]
            if ch == "\n":
                if quote:
                    quoted_ends.add(line)
                    quote = ""
                line += 1
            elif quote:
                if ch == quote:
                    quote = ""
            elif ch == "'" or ch == '"':
                quote = ch
            else:
                depth += 1 if ch == "(" else -1
                pos_append(m.start())
                depth_append(depth)
        # the lines after whose line break a walk gives up: not inside a quote, and the next
        # line that is not blank starts a module or a label (and those that end in a quote)
        stops: list[int] = []
        quoted: list[int] = []
        item_next = False
        for k in range(len(lines), 0, -1):
            if item_next:
                (quoted if k in quoted_ends else stops).append(k)
            text = lines[k - 1]
            if text and not text.isspace():
                lead = _LEAD.match(text)
                item_next = item_start.match(src, starts[k - 1] + (lead.end() if lead else 0)) \
                    is not None
        self.stops, self.quoted = array("q", reversed(stops)), array("q", reversed(quoted))
        self.size = 1
        blocks = (len(self.depth) + _BLOCK - 1) // _BLOCK
        while self.size < blocks:
            self.size *= 2
        tree = array("q", [_NEVER]) * (2 * self.size)
        for b in range(blocks):
            tree[self.size + b] = min(self.depth[b * _BLOCK:(b + 1) * _BLOCK])
        for i in range(self.size - 1, 0, -1):
            tree[i] = min(tree[2 * i], tree[2 * i + 1])
        self.tree = tree

    def item_after(self, line: int) -> bool:
        """Whether the next line after ``line`` that is not blank starts a module or a label:
        a walk on ``line`` with no quote open at its end gives up at its line break."""
        return any(i < len(lines) and lines[i] == line
                   for lines in (self.stops, self.quoted)
                   for i in (bisect.bisect_left(lines, line),))

    def close(self, line: int, open_count: int) -> int | None:
        """The offset of the ``)`` that ends a walk entering ``line`` (1-based) with
        ``open_count`` parentheses open, or None when it gives up or the text ends first."""
        if line > len(self.starts):
            return None
        lo = bisect.bisect_left(self.pos, self.starts[line - 1])
        target = (self.depth[lo - 1] if lo else 0) - open_count
        k = self._first_at_most(lo, target)
        if k is None:
            return None
        at = self.pos[k]
        s = bisect.bisect_left(self.stops, line)
        if s < len(self.stops) and at >= self.starts[self.stops[s]]:  # past that line break
            return None
        return at

    def _first_at_most(self, lo: int, target: int) -> int | None:
        """The first parenthesis at or after index ``lo`` whose depth is at most ``target``."""
        depth, n = self.depth, len(self.depth)
        block = lo // _BLOCK
        for k in range(lo, min(n, (block + 1) * _BLOCK)):
            if depth[k] <= target:
                return k
        i = block + 1 + self.size  # the tree's leaf of the next block
        if i >= 2 * self.size:
            return None
        tree = self.tree
        while tree[i] > target:  # to the next subtree on the right
            while i & 1:
                i >>= 1
            if i == 0:
                return None
            i += 1
        while i < self.size:
            i = 2 * i if tree[2 * i] <= target else 2 * i + 1
        first = (i - self.size) * _BLOCK
        return next(k for k in range(first, min(n, first + _BLOCK)) if depth[k] <= target)


class Matcher:
    """The reader's :meth:`match`, with the :class:`Walks` of its text made when a call first
    goes on past its own line (``print(model)`` text never does)."""

    def __init__(self, src: str, lines: list[str], starts: Sequence[int],
                 item_start: re.Pattern[str]) -> None:
        self.src, self.lines, self.starts, self.item_start = src, lines, starts, item_start
        self._walks: Walks | None = None

    def walks(self) -> Walks:
        if self._walks is None:
            self._walks = Walks(self.src, self.lines, self.starts, self.item_start)
        return self._walks

    def match(self, open_pos: int) -> int | None:
        """The offset of the ``)`` matching the ``(`` at ``open_pos``, or None when the text
        ends or a line starting a new module comes first. Parentheses in quotes do not count,
        and a quote ends at the end of its line. The call's own line is walked here; where the
        call goes on below it, :class:`Walks` knows without walking the lines again."""
        src = self.src
        if simple := _SIMPLE.match(src, open_pos):
            return simple.end() - 1
        line = bisect.bisect_right(self.starts, open_pos)  # 1-based
        eol = self.starts[line] - 1 if line < len(self.starts) else len(src)
        depth, quote = 0, ""
        for m in _SIGNIFICANT.finditer(src, open_pos, eol):
            ch = m[0]
            if quote:
                quote = "" if ch == quote else quote
            elif ch in "'\"":
                quote = ch
            else:
                depth += 1 if ch == "(" else -1
                if depth == 0:
                    return m.start()
        if eol >= len(src) or (not quote and self.walks().item_after(line)):
            return None
        return self.walks().close(line + 1, depth)
