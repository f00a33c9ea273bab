"""The human table: its cells (``Cells``), its columns fitted to the width (``fitted_table``),
drawn by ``cnncalc.render.grid`` as rich's ``Table`` would draw it, and written with the
width, colours and box characters rich's console would choose (``cnncalc.render.terminal``).
Names are escaped (``cnncalc.escape``); no cell is read as rich markup.

The columns fit the width (``fitted_table``): block layers have long dotted names
(``layer3.0.downsample.0``), so the name column takes what the other columns leave, from 12
(the name column of a chain's table) up to the longest name. When that is not enough and the
table has a ``from`` column, the input column goes first (a row's input is the output of a
layer it reads: the row above, or one in ``from``); then a dotted name too long for its column
goes on to a second line after a dot (``layer2.0.`` / ``downsample.0``): a name is never cut;
then the settings wrap sooner and the ``from`` lists wrap after a comma. A chain's table with
short names is drawn as it always was.
"""

from __future__ import annotations

import re
from typing import IO, Any

from cnncalc.analyze import Analysis
from cnncalc.escape import escape
from cnncalc.render.cells import cell_width, wrap
from cnncalc.render.common import (
    ASSUMED_MARK,
    conventions,
    receptive_field,
    summary_line,
    volume,
)
from cnncalc.render.grid import Cell, Column, Grid, draw
from cnncalc.render.memory import Memory
from cnncalc.render.numbers import abbreviate
from cnncalc.render.rows import Row, from_text, output_row, rows, shows_from
from cnncalc.render.terminal import NAMED, Terminal

_AFTER_DOT = re.compile(r"(?<=\.)")
NAME_WIDTH = 12
"""The name column's width when the table is too wide for longer names."""
LAYER_WIDTH = 14
"""Where the settings column wraps (``max 3x3 s2 p1`` on one line) ..."""
NARROW_LAYER = 9
"""... and where it may wrap in a graph's table too wide for its block names
(``3x3 s1 p1`` / ``nb``); then a ``from`` list wraps after a comma, at this many columns or
(for a longer index) after each index."""
NARROW_FROM = 8
READABLE = 16
"""A name column this wide holds a stage, a block and a layer (``layer1.0.CONV1``,
``features.10.conv``): a table with a ``from`` column keeps its input column only if its
names can have this much (or all they need)."""


def _n(value: int | None, assumed: bool = False) -> str:
    if value is None:
        return ""
    return abbreviate(value) + (ASSUMED_MARK if assumed else "")


def break_name(name: str, width: int) -> str:
    """A dotted name wider than ``width`` cells on lines that end at its dots
    (``layer2.0.`` / ``downsample.0``), each within ``width`` where its parts allow: a name is
    never cut (a part wider than the column is folded by it). Other names are left to the
    column, which wraps them at their spaces (``GLOBAL AVG`` / ``POOL``)."""
    if "." not in name or cell_width(name) <= width:
        return name
    lines = [""]
    for part in _AFTER_DOT.split(name):
        if lines[-1] and cell_width(lines[-1] + part) > width:
            lines.append("")
        lines[-1] += part
    return "\n".join(lines)


class Cells:
    """A table's cells, made once: ``grid`` builds the columns a fitting asks for from them,
    remeasuring only those it changes."""

    def __init__(self, a: Analysis, shown: list[Row]) -> None:
        self.graph = shows_from(a, shown)
        self.longest_name = 0  # of a layer's or a block's name
        # each row: #, name, layer, reads, unresolved, style, input, output, params, MACs,
        # acts, RF (a tuple a row, turned into columns at the end)
        table: list[tuple[Any, ...]] = []
        if a.input is not None:
            table.append(("0", "INPUT", "", (), False, "", "", volume(a.input), "", "", "",
                          "1"))
        for row in shown:
            out: Cell
            assumed = row.assumed
            if row.output_shape is not None:
                out = volume(row.output_shape)
                if assumed:
                    out = row.mark(out)
                if row.rounded:
                    out += "*"
            else:
                out = (row.missing, "red" if row.status == "error" else "dim")
            name = escape(row.name)
            width = cell_width(name)
            if width > self.longest_name:
                self.longest_name = width
            table.append((row.label, name, row.layer, row.reads, row.unresolved, "",
                          volume(row.input_shape), out, _n(row.params),
                          _n(row.macs, assumed and bool(row.macs)),
                          _n(row.activations, assumed), row.mark(row.rf) if assumed else row.rf))
        last = output_row(a)
        if last is not None:
            table.append(("", "OUTPUT", "", (last.index,), False, "", "",
                          volume(last.output_shape), "", "", "", receptive_field(last)))
        self.section = bool(table)  # a line between the rows and the total
        t = a.totals
        if t is not None:
            table.append(("", ("total", "bold"), "", (), False, "bold", "", "", _n(t.params),
                          _n(t.macs, "macs" in t.assumed),
                          _n(t.activations, "activations" in t.assumed), ""))
        else:
            table.append(("", "total", ("incomplete", "red"), (), False, "", "", "", "", "", "",
                          ""))
        (label, names, layer, reads, unresolved, styles, inputs, outputs, params, macs, acts,
         rf) = map(list, zip(*table, strict=True))
        self.names: list[Cell] = names
        self.reads: list[tuple[tuple[int, ...], bool]] = list(zip(reads, unresolved,
                                                                  strict=True))
        self.styles: list[str] = styles
        self.label = Column("#", label, "right", no_wrap=True)
        self.layer = Column("layer", layer)
        self.inputs = Column("input", inputs, overflow="fold")
        self.outputs = Column("output", outputs, overflow="fold")
        self.figures = [Column(header, cells, "right", no_wrap=True)
                        for header, cells in (("params", params), ("MACs", macs),
                                              ("acts", acts), ("RF", rf))]
        self.wrapped_names = Column(
            "name", [break_name(c, NAME_WIDTH) if isinstance(c, str) else c for c in self.names],
            overflow="fold", max_width=NAME_WIDTH)
        self.froms = Column("from", [from_text(r, u) for r, u in self.reads], overflow="fold")

    def grid(self, name_width: int | None = None, inputs: bool = True,
             layer_width: int = LAYER_WIDTH, from_width: int | None = None) -> Grid:
        """``name_width``: the name column's width, dotted names wider than it broken at their
        dots (None: 12). ``inputs``: whether to show the input column.
        ``layer_width``: where the settings wrap; ``from_width``: where the ``from`` lists do
        (after a comma)."""
        names = self.wrapped_names if name_width is None else Column(
            "name", [break_name(c, name_width) if isinstance(c, str) else c for c in self.names],
            overflow="fold", max_width=name_width)
        columns = [self.label, names, self.layer.narrowed(layer_width)]
        if self.graph:
            # never `…`: every index is shown
            columns.append(self.froms if from_width is None else Column(
                "from", [from_text(r, u, from_width) for r, u in self.reads], overflow="fold"))
        if inputs:
            columns.append(self.inputs)
        return Grid([*columns, self.outputs, *self.figures], self.styles, self.section)


def fitted_table(a: Analysis, width: int, shown: list[Row]) -> Grid:
    """The table whose columns fit ``width`` best, as the module says."""
    cells = Cells(a, shown)
    longest = cells.longest_name
    # a row's input is the output of the row above or of one in `from`: the column can go
    # when the names need the room
    optional = cells.graph or any(row.folded for row in shown) or longest > NAME_WIDTH
    if longest <= NAME_WIDTH and not optional:
        return cells.grid()  # a chain's table, as it has always been
    wide = max(longest, NAME_WIDTH)
    inputs = True
    table = cells.grid(wide)
    excess = table.natural_width() - width
    if optional and excess > 0 and wide - excess < min(wide, READABLE):
        inputs = False
        table = cells.grid(wide, inputs=False)
        excess = table.natural_width() - width
    name = wide
    if excess > 0 and wide > NAME_WIDTH:
        name = max(NAME_WIDTH, wide - excess)
        table = cells.grid(name, inputs)
        excess = table.natural_width() - width
    settings = min(LAYER_WIDTH, max((cell_width(row.layer) for row in shown), default=0))
    if excess > 0 and settings > NARROW_LAYER:
        settings = max(NARROW_LAYER, settings - excess)
        table = cells.grid(name, inputs, settings)
        excess = table.natural_width() - width
    reads = max((len(from_text(row.reads, row.unresolved)) for row in shown), default=0)
    if excess > 0 and reads > NARROW_FROM:
        table = cells.grid(name, inputs, settings, max(NARROW_FROM, reads - excess))
    return table


def paragraph(text: str, term: Terminal, style: str = "") -> str:
    """``text`` as rich prints a ``Text`` of it: lines wrapped at spaces to the width (a
    longer word folded), each painted with ``style``."""
    painted = NAMED.get(style)
    return "".join(term.paint(line, painted) + "\n" for line in
                   wrap(text, term.width, "default", "fold", no_wrap=False))


def print_table(a: Analysis, memory: Memory | None = None, file: IO[str] | None = None,
                width: int | None = None, color: bool | None = None,
                depth: int | None = None) -> None:
    term = Terminal(file, width, color)
    shown = rows(a, depth)
    term.write(draw(fitted_table(a, term.width, shown), term)
               + paragraph(summary_line(a, memory or Memory()), term)
               + paragraph(conventions(a, any(row.folded for row in shown)), term, "dim"))
