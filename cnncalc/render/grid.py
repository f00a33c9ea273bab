"""The human table's grid: laid out and drawn character for character as rich's ``Table`` draws
it (rich 15: box ``SIMPLE_HEAD`` without edges, padding ``(0, 1)`` collapsed and not at the
edges, a bold header, a section line before the last row), but from plain strings.

Why not rich's ``Table``: it renders every cell through a stack of renderables (``Padding``,
``Text``, segments), and the table's fitting measured it up to five times: ResNet-50's 174
rows took 0.12-0.36 s, DenseNet-121's 426 rows 0.8 s, against ~15 ms to parse and analyse
them (here: ~6 ms and ~17 ms). A column's width is its longest line's cell length, computed
once; a line is a string, cropped to the width as rich crops it; styles (bold, red, dim) are
painted only on a terminal with colours (``cnncalc.render.terminal``, which also decides the
width and the box characters as rich's ``Console`` does).

Rules mirrored from rich (``tests/test_grid.py`` draws random grids both ways and compares
every character and escape code):

- A column's natural width is its longest cell line (header included) plus its padding (one
  space on the right, none after the last column), capped by its ``max_width``.
- When the columns do not fit, the wrapping columns (not ``no_wrap``) shrink, widest first,
  down to the next widest (``_collapse``); if that is not enough, every column loses a share
  (``_reduce``).
- A cell wraps at spaces (rich's ``divide_line``), a word longer than its column is folded
  (``overflow="fold"``) or cut with ``…`` (``"ellipsis"``); a ``no_wrap`` cell is cut with
  ``…``; left-justified lines are padded, right-justified ones stripped and padded on the left.
- A row is as tall as its tallest cell; the header is aligned to the bottom, other rows to the
  top.

Cell text must not hold tabs or control characters (names are escaped first,
``cnncalc.escape``): rich expands the one and drops the other, which is not mirrored here.
"""

from __future__ import annotations

from collections.abc import Iterator

from cnncalc.render.cells import (
    Justify,
    Overflow,
    cell_width,
    is_plain,
    longest_line,
    wrap,
)
from cnncalc.render.terminal import NAMED, Style, Terminal, combine

Cell = str | tuple[str, str]
"""A cell's text, or its text and a rich style name (``"red"``)."""
_Piece = tuple[str, Style | None]
Line = list[_Piece] | str


class Column:
    """A column: its header, its cells from the first row to the last, how they are set
    (``max_width``: of the text, without the padding)."""

    __slots__ = ("_longest", "_simple", "cells", "header", "justify", "max_width", "no_wrap",
                 "overflow")

    def __init__(self, header: str, cells: list[Cell], justify: Justify = "left",
                 no_wrap: bool = False, overflow: Overflow = "ellipsis",
                 max_width: int | None = None) -> None:
        self.header = header
        self.cells = cells
        self.justify: Justify = justify
        self.no_wrap = no_wrap
        self.overflow: Overflow = overflow
        self.max_width = max_width
        self._longest: int | None = None
        self._simple: bool | None = None

    def narrowed(self, max_width: int | None) -> Column:
        """The same column with another ``max_width`` (its measure kept)."""
        other = Column(self.header, self.cells, self.justify, self.no_wrap, self.overflow,
                       max_width)
        other._longest = self._longest
        other._simple = self._simple
        return other

    @property
    def simple(self) -> bool:
        """Whether every unstyled cell is text of one line, a cell a character."""
        if self._simple is None:
            self._simple = is_plain("".join([c for c in self.cells if c.__class__ is str]))
        return self._simple

    @property
    def longest(self) -> int:
        """Its longest line (header included), in cells: what rich's measure finds."""
        if self._longest is None:
            texts = [self.header, *[c if c.__class__ is str else c[0] for c in self.cells]]
            if is_plain("".join(texts)):  # all of them: counted at C speed
                self._longest = max(map(len, texts))
            else:
                self._longest = max(map(longest_line, texts))
        return self._longest


def _padded(col: Column, inner: int, pad: int) -> list[str | None]:
    """Each cell of a ``simple`` column as ``_cell`` draws a one-line cell (padded to
    ``inner``, justified, then ``pad`` blanks), or None for a styled or too long one."""
    after = " " * pad
    if col.justify == "left":
        return [c.ljust(inner) + after if c.__class__ is str and len(c) <= inner else None
                for c in col.cells]
    return [c.rstrip().rjust(inner) + after if c.__class__ is str and len(c) <= inner else None
            for c in col.cells]


class Grid:
    """Columns of as many cells as there are rows; ``styles``: each row's style name ("" for
    none); ``section``: a line before the last row (the total)."""

    __slots__ = ("columns", "section", "styles")

    def __init__(self, columns: list[Column], styles: list[str], section: bool) -> None:
        if any(len(c.cells) != len(styles) for c in columns):
            raise ValueError("every column needs one cell per row")
        self.columns = columns
        self.styles = styles
        self.section = section

    def _padding(self, i: int) -> int:
        return 0 if i == len(self.columns) - 1 else 1

    def _fit(self, widths: list[int]) -> list[int]:
        """Each column's width when it may have ``widths[i]`` cells (rich's
        ``_measure_column``, for the maximum)."""
        out = []
        for i, (room, col) in enumerate(zip(widths, self.columns, strict=True)):
            pad = self._padding(i)
            w = 0 if room < 1 else min(col.longest + pad, room)
            out.append(w if col.max_width is None else min(w, col.max_width + pad))
        return out

    def natural_width(self) -> int:
        """The table's width when nothing wraps (rich's ``Measurement.maximum``)."""
        return sum(self._fit([10**6] * len(self.columns))) + len(self.columns) - 1

    def widths(self, max_width: int) -> list[int]:
        """The columns' widths in a table at most ``max_width`` cells wide (rich's
        ``_calculate_column_widths``, without ``expand``)."""
        room = max_width - (len(self.columns) - 1)
        widths = [w or 1 for w in self._fit([room] * len(self.columns))]
        if sum(widths) > room:
            widths = _collapse(widths, [not c.no_wrap for c in self.columns], room)
            if sum(widths) > room:
                widths = _reduce(sum(widths) - room, [1] * len(widths), widths, widths)
            widths = self._fit(widths)
        return widths

    def lines(self, widths: list[int], styles: bool = False,
              dividers: tuple[str, str, str] = (" ", " ", " ")) -> Iterator[Line]:
        """The table's lines, as pieces (text, style), or the name of the rule drawn there
        (``head`` under the header, ``row`` before the last row); ``dividers``: the column
        separator of the header, the rows and the last row."""
        n = len(self.styles)
        rows: list[tuple[tuple[Cell, ...], str]] = [
            (tuple(c.header for c in self.columns), "header"),
            *zip(zip(*(c.cells for c in self.columns), strict=True), self.styles, strict=True)]
        m = len(self.columns)
        pads = [self._padding(i) for i in range(m)]
        inner = [w - p for w, p in zip(widths, pads, strict=True)]
        # a row of short plain cells is a string: its cells padded as _cell pads them, a
        # column at a time (None where a cell is styled or too long: that row goes the long way)
        fast = min(inner, default=0) >= 1 and all(c.simple for c in self.columns)
        quick: list[tuple[str | None, ...]] = []
        if fast:
            quick = list(zip(*(_padded(c, inner[i], pads[i]) for i, c in enumerate(self.columns)),
                             strict=True))
        for r, (cells, style) in enumerate(rows):
            if fast and r and not style and None not in quick[r - 1]:
                divider = dividers[2 if r == n else 1]
                yield [(divider.join(quick[r - 1]), None)]  # type: ignore[arg-type]
                if r == n - 1 and self.section:
                    yield "row"
                continue
            base = NAMED.get(style) if styles else None
            drawn = [self._cell(cells[i], widths[i], i, base, styles)
                     for i in range(len(self.columns))]
            height = max(len(c) for c in drawn)
            for c, w in zip(drawn, widths, strict=True):
                if len(c) < height:
                    blanks = [[(" " * w, base)]] * (height - len(c))
                    if r == 0:  # the header is aligned to the bottom
                        c[:0] = blanks
                    else:
                        c.extend(blanks)
            divider = dividers[0 if r == 0 else 2 if r == n else 1]
            for k in range(max(height, 1)):
                line: list[_Piece] = []
                for i, c in enumerate(drawn):
                    if i:
                        line.append((divider, None))
                    line.extend(c[k] if k < height else [(" " * widths[i], None)])
                yield line
            if r == 0:
                yield "head"
            elif r == n - 1 and self.section:
                yield "row"

    def _cell(self, cell: Cell, width: int, i: int, base: Style | None,
              styles: bool) -> list[list[_Piece]]:
        """A cell's lines, each ``width`` cells wide (rich's ``Padding`` around ``Text``)."""
        pad = self._padding(i)
        inner = width - pad
        if width < 1 or inner < 1:
            return []
        col = self.columns[i]
        style = base
        if isinstance(cell, str):
            text = cell
        else:
            text = cell[0]
            if styles:
                style = combine(base, NAMED.get(cell[1]))
        if len(text) <= inner and is_plain(text):  # most cells
            line = (text + " " * (inner - len(text)) if col.justify == "left"
                    else text.rstrip().rjust(inner))
            return [[(line, style), (" " * pad, base)] if pad else [(line, style)]]
        lines = wrap(text, inner, col.justify, col.overflow, col.no_wrap)
        # each line is `inner` cells wide: rich's Padding pads none of them
        return [[(line, style), (" " * pad, base)] if pad else [(line, style)]
                for line in lines]


def _collapse(widths: list[int], wraps: list[bool], room: int) -> list[int]:
    """The wrapping columns narrowed, widest first, until the table fits ``room`` or they are
    all as wide (rich's ``Table._collapse_widths``)."""
    total = sum(widths)
    excess = total - room
    if not any(wraps):
        return widths
    while total and excess > 0:
        widest = max(w for w, ok in zip(widths, wraps, strict=True) if ok)
        second = max(w if ok and w != widest else 0 for w, ok in zip(widths, wraps, strict=True))
        ratios = [1 if (w == widest and ok) else 0 for w, ok in zip(widths, wraps, strict=True)]
        if not any(ratios) or not widest - second:
            break
        widths = _reduce(excess, ratios, [min(excess, widest - second)] * len(widths), widths)
        total = sum(widths)
        excess = total - room
    return widths


def _reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """``total`` taken from ``values`` in proportion to ``ratios``, at most ``maximums``
    (rich's ``ratio_reduce``)."""
    ratios = [r if m else 0 for r, m in zip(ratios, maximums, strict=True)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining = total
    out = []
    for ratio, maximum, value in zip(ratios, maximums, values, strict=True):
        if ratio and total_ratio > 0:
            taken = min(maximum, round(ratio * remaining / total_ratio))
            out.append(value - taken)
            remaining -= taken
            total_ratio -= ratio
        else:
            out.append(value)
    return out


def draw(grid: Grid, term: Terminal, width: int | None = None) -> str:
    """The grid as rich's ``Table`` prints it on ``term`` at ``width`` (the terminal's if
    None): the box ``SIMPLE_HEAD`` (a rule under the header, a blank line before the last
    row), or rich's ``ASCII`` box on a stream that cannot encode ``─``; styles painted."""
    widths = grid.widths(term.width if width is None else width)
    if term.ascii_only:
        dividers, head, row = ("|", "|", "|"), ("-", "+"), ("-", "+")
    else:
        dividers, head, row = (" ", " ", " "), ("─", "─"), (" ", " ")
    rules = {name: cross.join(line * w for w in widths)
             for name, (line, cross) in (("head", head), ("row", row))}
    styled = term.color
    room = term.width if width is None else width
    crop = sum(widths) + len(widths) - 1 > room  # rich crops what it cannot fit
    out: list[str] = []
    for line in grid.lines(widths, styled, dividers):
        pieces: list[_Piece] = [(rules[line], None)] if isinstance(line, str) else line
        if crop:
            pieces = _crop(pieces, room)
        if len(pieces) == 1 and pieces[0][1] is None:  # a row of plain cells, a rule
            out.append(pieces[0][0])
        elif styled:
            out.extend(term.paint(text, style) for text, style in pieces)
        else:
            out.extend(text for text, _ in pieces)
        out.append("\n")
    return "".join(out)


def _crop(pieces: list[_Piece], room: int) -> list[_Piece]:
    """A line's pieces cut at ``room`` cells (rich's ``Segment.adjust_line_length``)."""
    kept: list[_Piece] = []
    for text, style in pieces:
        size = cell_width(text)
        if size <= room:
            kept.append((text, style))
            room -= size
            continue
        if room > 0:
            if is_plain(text):
                kept.append((text[:room], style))
            else:
                from rich.cells import set_cell_size

                kept.append((set_cell_size(text, room), style))
        break
    return kept
