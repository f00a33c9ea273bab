"""The table's grid (cnncalc.render.grid) against rich's ``Table``, which it mirrors: random
grids (wrapping, folding and cut cells, wide and combining characters, blank and multi-line
cells, styled cells and rows, narrow to wide consoles, colours on and off, an ASCII-only
stream) drawn both ways must agree on every character and escape code, and the natural width
must be rich's measure. Then the shipped tables: ``print_table`` against rich drawing the same
fitted grid."""

from __future__ import annotations

import io
import random
from importlib.metadata import version

import pytest
from helpers import ROOT, analyze_text
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cnncalc.render.cells import wrap
from cnncalc.render.common import conventions, summary_line
from cnncalc.render.grid import Cell, Column, Grid, draw
from cnncalc.render.memory import Memory
from cnncalc.render.rows import rows
from cnncalc.render.table import fitted_table, paragraph, print_table
from cnncalc.render.terminal import Terminal

FRAGMENTS = (
    "conv", "layer1.0.conv1", "224x224x3", "1.14G", "a", "", " ", "  x  ", "GLOBAL AVG POOL",
    "115,118,\n123", "x\n\ny", "\n", "trailing ", "  leading", "averyveryverylongwordnospaces",
    "…er1.0.CONV1", "not computed", "error", "9,?", "畳み込み層", "é", "e\u0301\u0301",
    "a\u3000b", "nb\xa0sp", "😀", "🇯🇵", "x\u200dy", "dw*2 3x3 s1 same nb", "OUTPUT",
    "features.denseblock4.denselayer16.conv2", "56x56x64*~", "0", "12", "1,2,3,4,5,6,7,8,9,10",
)
STYLES = ("red", "dim", "bold", "")

# The grid mirrors rich 15's Table; another rich may draw a table otherwise, which says
# nothing about cnncalc's output (the goldens hold that), so the comparison waits for review.
pytestmark = pytest.mark.skipif(not version("rich").startswith("15."),
                                reason=f"the grid mirrors rich 15's Table, not {version('rich')}'s")


class AsciiStream(io.StringIO):
    """A stream whose encoding is ASCII: rich then draws the table with an ASCII box."""

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "ascii"


def random_text(rng: random.Random) -> str:
    parts = [rng.choice(FRAGMENTS) for _ in range(rng.choice((0, 1, 1, 1, 2, 3, 5)))]
    text = ""
    for part in parts:
        text += rng.choice(("", " ", "  ", ".", "\n", ",")) + part if text else part
    return text


def random_grid(rng: random.Random) -> Grid:
    n_rows = rng.choice((0, 1, 2, 3, 5, 8))
    columns = []
    for k in range(rng.randint(1, 10)):
        cells: list[Cell] = []
        for _ in range(n_rows):
            text = random_text(rng)
            style = rng.choice(STYLES) if rng.random() < 0.2 else ""
            cells.append((text, style) if style else text)
        header = rng.choice(("#", "name", "layer", "from", "params", "RF", "", "a b",
                             f"h{k}", "output\nshape", "ヘッダー"))
        columns.append(Column(
            header, cells, rng.choice(("left", "right")), no_wrap=rng.random() < 0.4,
            overflow=rng.choice(("ellipsis", "fold")),
            max_width=rng.choice((None, None, None, 1, 2, 5, 9, 12, 14, 30))))
    styles = [rng.choice(("", "", "", "bold", "dim")) for _ in range(n_rows)]
    return Grid(columns, styles, section=n_rows > 1 and rng.random() < 0.8)


def rich_table(grid: Grid) -> Table:
    """The grid as rich's Table, set as the human table set it before cnncalc drew it."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1),
                  collapse_padding=True)
    for col in grid.columns:
        table.add_column(col.header, justify=col.justify, no_wrap=col.no_wrap,
                         overflow=col.overflow, max_width=col.max_width)
    n = len(grid.styles)
    for r in range(n):
        if r == n - 1 and grid.section:
            table.add_section()
        cells = [c.cells[r] for c in grid.columns]
        table.add_row(*(Text(c) if isinstance(c, str) else Text(c[0], style=c[1])
                        for c in cells), style=grid.styles[r])
    return table


CONSOLES = {
    "plain": {},
    "standard": {"force_terminal": True, "color_system": "standard"},
    "truecolor": {"force_terminal": True, "color_system": "truecolor"},
    "no_color": {"force_terminal": True, "color_system": "standard", "no_color": True},
}


def rich_draw(renderable: object, width: int, kind: str, ascii_only: bool = False) -> str:
    out = AsciiStream() if ascii_only else io.StringIO()
    console = Console(file=out, width=width, highlight=False, soft_wrap=False,
                      **CONSOLES[kind])  # type: ignore[arg-type]
    console.print(renderable)
    return out.getvalue()


def terminal(width: int, kind: str, ascii_only: bool = False) -> Terminal:
    """The Terminal that decides as the rich console of CONSOLES[kind] does."""
    out = AsciiStream() if ascii_only else io.StringIO()
    if kind == "no_color":  # a terminal, colours off: bold and dim stay
        term = Terminal(out, width, color=False, environ={"TTY_COMPATIBLE": "1"})
        assert term.color and term.no_color
        return term
    return Terminal(out, width, color=True if kind != "plain" else None, environ={})


def our_draw(grid: Grid, width: int, kind: str, ascii_only: bool = False) -> str:
    return draw(grid, terminal(width, kind, ascii_only))


@pytest.mark.parametrize("seed", range(12))
def test_random_grids_draw_as_rich_tables(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(40):
        grid = random_grid(rng)
        width = rng.choice((1, 2, 5, 10, 20, 30, 40, 60, 80, 100, 130))
        kind = rng.choice(list(CONSOLES))
        ascii_only = rng.random() < 0.1
        expected = rich_draw(rich_table(grid), width, kind, ascii_only)
        assert our_draw(grid, width, kind, ascii_only) == expected, (width, kind)


@pytest.mark.parametrize("seed", range(4))
def test_natural_width_is_richs_measure(seed: int) -> None:
    rng = random.Random(1000 + seed)
    console = Console(file=io.StringIO(), width=80)
    unbounded = console.options.update(max_width=10**6)
    for _ in range(50):
        grid = random_grid(rng)
        assert grid.natural_width() == console.measure(rich_table(grid),
                                                       options=unbounded).maximum


def test_wrapped_lines_are_exactly_the_width() -> None:
    """What the grid leaves rich's Padding to pad: nothing, every line is already full."""
    from rich.cells import cell_len

    rng = random.Random(7)
    for _ in range(2000):
        text = random_text(rng)
        width = rng.randint(1, 20)
        justify = rng.choice(("left", "right"))
        lines = wrap(text, width, justify, rng.choice(("ellipsis", "fold")),
                     rng.random() < 0.3)
        assert lines and all(cell_len(line) == width for line in lines), (text, width)


def test_a_header_taller_than_its_row_is_aligned_to_the_bottom() -> None:
    grid = Grid([Column("output\nshape", ["x"]), Column("b", ["1"])], [""], section=False)
    assert our_draw(grid, 40, "plain") == rich_draw(rich_table(grid), 40, "plain")
    assert our_draw(grid, 40, "plain").splitlines()[:2] == ["output   ", "shape   b"]


SHIPPED = [("tests/fixtures/show/resnet18.txt", None), ("specs/resnet18.txt", 2),
           ("specs/alexnet224.txt", None), ("specs/googlenet.txt", 1)]


@pytest.mark.parametrize(("spec", "depth"), SHIPPED)
@pytest.mark.parametrize("width", [60, 80, 120])
def test_shipped_tables_draw_as_rich_draws_them(spec: str, depth: int | None,
                                                 width: int) -> None:
    """print_table writes what rich printed before cnncalc drew its own tables: rich's Table
    of the same fitted grid, then the summary and the (dim) conventions as rich Texts,
    colours on and off, to a UTF-8 and an ASCII-only stream."""
    a = analyze_text((ROOT / spec).read_text(encoding="utf-8"), spec)
    shown = rows(a, depth)
    for color in (False, True):
        for stream in (io.StringIO, AsciiStream):
            out = stream()
            print_table(a, Memory(), file=out, width=width, color=color, depth=depth)
            console = Console(file=stream(), width=width, highlight=False, soft_wrap=False,
                              no_color=not color, force_terminal=color or None)
            console.print(rich_table(fitted_table(a, width, shown)))
            console.print(Text(summary_line(a, Memory())))
            console.print(Text(conventions(a, any(r.folded for r in shown)), style="dim"))
            expected = console.file.getvalue()  # type: ignore[attr-defined]
            assert out.getvalue() == expected
            assert ("\x1b[" in expected) == color


@pytest.mark.parametrize("seed", range(4))
def test_paragraphs_wrap_as_rich_prints_a_text(seed: int) -> None:
    rng = random.Random(2000 + seed)
    for _ in range(200):
        text = " ".join(random_text(rng) for _ in range(rng.randint(1, 12)))
        width = rng.choice((1, 3, 8, 20, 40, 80, 100))
        kind = rng.choice(list(CONSOLES))
        style = rng.choice(("", "dim", "bold", "red"))
        expected = rich_draw(Text(text, style=style), width, kind)
        assert paragraph(text, terminal(width, kind), style) == expected, (text, width, kind)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


ENVIRONS = [{}, {"TERM": "dumb"}, {"TERM": "unknown"}, {"TERM": "xterm-256color"},
            {"NO_COLOR": "1"}, {"NO_COLOR": ""}, {"FORCE_COLOR": "1"}, {"FORCE_COLOR": ""},
            {"TTY_COMPATIBLE": "0"}, {"TTY_COMPATIBLE": "1"}, {"COLUMNS": "123"},
            {"COLUMNS": "abc"}, {"COLUMNS": "90", "TERM": "dumb"},
            {"COLUMNS": "90", "LINES": "30", "TERM": "dumb"}, {"TTY_COMPATIBLE": "0",
                                                               "FORCE_COLOR": "1"}]


@pytest.mark.parametrize("env", ENVIRONS)
@pytest.mark.parametrize("tty", [False, True])
@pytest.mark.parametrize("color", [None, False, True])
def test_the_terminal_decides_as_richs_console(env: dict[str, str], tty: bool,
                                               color: bool | None) -> None:
    """Width, colours and styles as rich's Console (cnncalc's settings of it) chooses them."""
    stream = Tty if tty else io.StringIO
    term = Terminal(stream(), None, color, environ=env)
    console = Console(file=stream(), highlight=False, soft_wrap=False, no_color=color is False,
                      force_terminal=color if color else None, _environ=env)
    assert term.width == console.width
    assert term.color == (console.color_system is not None)
    grid = Grid([Column("a", [("x", "red")]), Column("b", ["y"])], ["bold"], section=False)
    assert draw(grid, term) == rich_draw_on(console, rich_table(grid))


def rich_draw_on(console: Console, renderable: object) -> str:
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined, no-any-return]
