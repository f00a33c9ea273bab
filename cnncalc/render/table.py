"""The human table, drawn with rich. User text goes in as ``Text`` so that a shape such as
``[55x55x96]`` is never read as rich markup, and names escaped (``cnncalc.escape``).

The columns fit the width (``fitted_table``): block layers have long dotted names
(``layer3.0.downsample.0``), so the name column takes what the other columns leave, from 12
(the name column of a chain's table) up to the longest name. When that is not enough and the
table has a ``from`` column, the input column goes first (a row's input is the output of a
layer it reads: the row above, or one in ``from``); then a dotted name too long for its column
loses its beginning, not its distinguishing end (``…er1.0.CONV1``); then the settings wrap
sooner and the ``from`` lists wrap after a comma. A chain's table with short names is drawn as
it always was.
"""

from __future__ import annotations

from typing import IO

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cnncalc.analyze import Analysis
from cnncalc.escape import escape
from cnncalc.render.common import (
    ASSUMED_MARK,
    conventions,
    receptive_field,
    summary_line,
    volume,
)
from cnncalc.render.memory import Memory
from cnncalc.render.numbers import abbreviate
from cnncalc.render.rows import Row, from_text, output_row, rows, shows_from

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
ELLIPSIS = "…"


class PipeConsole(Console):
    """A rich console that leaves a closed pipe to the command (``cli.pipe_may_close``):
    rich's own handling exits 1, the status of a spec with errors."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def _n(value: int | None, assumed: bool = False) -> Text:
    if value is None:
        return Text("")
    return Text(abbreviate(value) + (ASSUMED_MARK if assumed else ""))


def shorten(name: str, width: int) -> str:
    """A dotted name wider than ``width`` cells keeps its end: ``…er1.0.CONV1``,
    ``…downsample.0``. Other names are left to the column, which wraps them at their spaces
    (``GLOBAL AVG`` / ``POOL``) as it always has."""
    if "." not in name or cell_len(name) <= width:
        return name
    kept: list[str] = []
    room = width - cell_len(ELLIPSIS)
    for ch in reversed(name):
        room -= cell_len(ch)
        if room < 0:
            break
        kept.append(ch)
    return ELLIPSIS + "".join(reversed(kept)).lstrip(".")



def build_table(a: Analysis, shown: list[Row] | None = None, name_width: int | None = None,
                inputs: bool = True, layer_width: int = LAYER_WIDTH,
                from_width: int | None = None) -> Table:
    """The table of ``shown`` (default: one row per layer; ``cnncalc.render.rows``).
    ``name_width``: the name column's width, dotted names wider than it shortened (None: 12,
    names wrapped). ``inputs``: whether to show the input column. ``layer_width``: where the
    settings wrap; ``from_width``: where the ``from`` lists do (after a comma)."""
    shown = rows(a) if shown is None else shown
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1),
                  collapse_padding=True)
    graph = shows_from(a, shown)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("name", no_wrap=False, max_width=name_width or NAME_WIDTH)
    table.add_column("layer", no_wrap=False, max_width=layer_width)
    keep = [True, True, True, graph, inputs, True, True, True, True, True]
    if graph:
        table.add_column("from", overflow="fold")  # never `…`: every index is shown
    if inputs:
        table.add_column("input", overflow="fold")
    table.add_column("output", overflow="fold")
    table.add_column("params", justify="right", no_wrap=True)
    table.add_column("MACs", justify="right", no_wrap=True)
    table.add_column("acts", justify="right", no_wrap=True)
    table.add_column("RF", justify="right", no_wrap=True)

    def add(*cells: str | Text, style: str = "") -> None:
        table.add_row(*(Text(c) if isinstance(c, str) else c
                        for c, k in zip(cells, keep, strict=True) if k), style=style)

    def name(text: str) -> Text:
        return Text(shorten(escape(text), name_width) if name_width else escape(text))

    if a.input is not None:
        add("0", "INPUT", "", "", "", volume(a.input), "", "", "", "1")
    for row in shown:
        if row.output_shape is not None:
            out = Text(row.mark(volume(row.output_shape)) + ("*" if row.rounded else ""))
        else:
            out = Text(row.missing, style="red" if row.status == "error" else "dim")
        add(row.label, name(row.name), row.layer,
            from_text(row.reads, row.unresolved, from_width),
            volume(row.input_shape), out, _n(row.params),
            _n(row.macs, row.assumed and bool(row.macs)), _n(row.activations, row.assumed),
            row.mark(row.rf))
    last = output_row(a)
    if last is not None:
        add("", "OUTPUT", "", str(last.index), "", volume(last.output_shape), "", "", "",
            receptive_field(last))
    t = a.totals
    table.add_section()
    if t is not None:
        add("", Text("total", style="bold"), "", "", "", "", _n(t.params),
            _n(t.macs, "macs" in t.assumed), _n(t.activations, "activations" in t.assumed), "",
            style="bold")
    else:
        add("", "total", Text("incomplete", style="red"), "", "", "", "", "", "", "")
    return table


def _excess(table: Table, console: Console) -> int:
    """How many columns wider than the console the table is at its natural width."""
    unbounded = console.options.update(max_width=10**6)
    return console.measure(table, options=unbounded).maximum - console.width


def fitted_table(a: Analysis, console: Console, shown: list[Row]) -> Table:
    """The table whose columns fit the console's width best, as the module says."""
    longest = max((cell_len(escape(row.name)) for row in shown), default=0)
    # a row's input is the output of the row above or of one in `from`: the column can go
    optional = shows_from(a, shown) or any(row.folded for row in shown)
    if longest <= NAME_WIDTH and not optional:
        return build_table(a, shown)  # a chain's table, as it has always been
    wide = max(longest, NAME_WIDTH)
    inputs = True
    table = build_table(a, shown, wide)
    excess = _excess(table, console)
    if optional and excess > 0 and wide - excess < min(wide, READABLE):
        inputs = False
        table = build_table(a, shown, wide, inputs=False)
        excess = _excess(table, console)
    name = wide
    if excess > 0 and wide > NAME_WIDTH:
        name = max(NAME_WIDTH, wide - excess)
        table = build_table(a, shown, name, inputs)
        excess = _excess(table, console)
    settings = min(LAYER_WIDTH, max((cell_len(row.layer) for row in shown), default=0))
    if excess > 0 and settings > NARROW_LAYER:
        settings = max(NARROW_LAYER, settings - excess)
        table = build_table(a, shown, name, inputs, settings)
        excess = _excess(table, console)
    reads = max((len(from_text(row.reads, row.unresolved)) for row in shown), default=0)
    if excess > 0 and reads > NARROW_FROM:
        table = build_table(a, shown, name, inputs, settings,
                            max(NARROW_FROM, reads - excess))
    return table


def print_table(a: Analysis, memory: Memory | None = None, file: IO[str] | None = None,
                width: int | None = None, color: bool | None = None,
                depth: int | None = None) -> None:
    console = PipeConsole(file=file, width=width, highlight=False, soft_wrap=False,
                      no_color=color is False, force_terminal=color if color else None)
    shown = rows(a, depth)
    console.print(fitted_table(a, console, shown))
    console.print(Text(summary_line(a, memory or Memory())))
    console.print(Text(conventions(a, any(row.folded for row in shown)), style="dim"))

