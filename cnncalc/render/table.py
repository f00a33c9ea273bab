"""The human table, drawn with rich. User text goes in as ``Text`` so that a shape such as
``[55x55x96]`` is never read as rich markup, and names escaped (``cnncalc.escape``)."""

from __future__ import annotations

from typing import IO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cnncalc.analyze import Analysis
from cnncalc.escape import escape
from cnncalc.render.common import (
    ASSUMED_MARK,
    CONVENTIONS,
    describe,
    mark,
    receptive_field,
    status_text,
    summary_line,
    volume,
)
from cnncalc.render.memory import Memory
from cnncalc.render.numbers import abbreviate


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


def build_table(a: Analysis) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1),
                  collapse_padding=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("name", no_wrap=False, max_width=12)
    table.add_column("layer", no_wrap=False, max_width=14)
    table.add_column("input", overflow="fold")
    table.add_column("output", overflow="fold")
    table.add_column("params", justify="right", no_wrap=True)
    table.add_column("MACs", justify="right", no_wrap=True)
    table.add_column("acts", justify="right", no_wrap=True)
    table.add_column("RF", justify="right", no_wrap=True)
    if a.input is not None:
        table.add_row("0", Text("INPUT"), "", "", volume(a.input), "", "", "", "1")
    for r in a.layers:
        out = Text(mark(r, volume(r.output_shape)) + ("*" if r.rounded else "")) \
            if r.output_shape is not None else Text(
                status_text(r), style="red" if r.status == "error" else "dim")
        assumed = r.assumed is not None
        table.add_row(str(r.index), Text(escape(r.layer.name)), Text(describe(r)),
                      volume(r.input_shape), out, _n(r.params),
                      _n(r.macs, assumed and bool(r.macs)), _n(r.activations, assumed),
                      mark(r, receptive_field(r)))
    t = a.totals
    table.add_section()
    if t is not None:
        table.add_row("", Text("total", style="bold"), "", "", "", _n(t.params),
                      _n(t.macs, "macs" in t.assumed),
                      _n(t.activations, "activations" in t.assumed), "", style="bold")
    else:
        table.add_row("", Text("total"), Text("incomplete", style="red"), "", "", "", "", "",
                      "")
    return table


def print_table(a: Analysis, memory: Memory | None = None, file: IO[str] | None = None,
                width: int | None = None, color: bool | None = None) -> None:
    console = PipeConsole(file=file, width=width, highlight=False, soft_wrap=False,
                      no_color=color is False, force_terminal=color if color else None)
    console.print(build_table(a))
    console.print(Text(summary_line(a, memory or Memory())))
    console.print(Text(CONVENTIONS, style="dim"))
