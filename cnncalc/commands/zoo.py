"""``cnncalc zoo``: the built-in specs (``cnncalc.zoo``), each computed as ``show`` computes
it, with its params and MACs."""

from __future__ import annotations

import json
from dataclasses import dataclass

import click

from cnncalc.cli import no_cyclic_gc, pipe_may_close
from cnncalc.option_style import format_option

FORMATS = ("table", "json")


@dataclass(frozen=True)
class Entry:
    """One built-in spec as analysed: ``params`` and ``macs`` are None when its totals are
    not known (the spec has errors: ``problem`` says the first)."""

    name: str
    path: str
    notation: str
    input: tuple[int, ...] | None
    layers: int
    params: int | None
    macs: int | None
    problem: str | None


def entries() -> list[Entry]:
    """Every built-in spec, read and analysed (nothing here is written down by hand)."""
    from cnncalc.diagnostics import Severity
    from cnncalc.options import load
    from cnncalc.zoo import ZOO, names, shown

    out = []
    for name in names():
        path = shown(ZOO / f"{name}.txt")
        with no_cyclic_gc():
            analysis = load(path)
        totals = analysis.totals if analysis.ok else None
        first = next((d for d in analysis.diagnostics if d.severity is Severity.ERROR), None)
        problem = None if first is None else \
            f"{first.code} at line {first.span.line}: {first.message}"
        out.append(Entry(name, path, analysis.spec.notation, analysis.input,
                         len(analysis.spec.layers), None if totals is None else totals.params,
                         None if totals is None else totals.macs, problem))
    return out


def _volume(shape: tuple[int, ...] | None) -> str:
    return "-" if shape is None else "x".join(map(str, shape))


def _count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def table(rows: list[Entry]) -> str:
    """Aligned columns, exact counts; a spec with errors shows ``-`` and its first error."""
    head = ("name", "notation", "input", "layers", "params", "MACs")
    cells = [(e.name, e.notation, _volume(e.input), str(e.layers), _count(e.params),
              _count(e.macs)) for e in rows]
    widths = [max(len(r[i]) for r in (head, *cells)) for i in range(len(head))]
    right = (False, False, False, True, True, True)

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w)
                         for c, w, r in zip(row, widths, right, strict=True)).rstrip()

    out = [line(head)]
    out += [line(c) for c in cells]
    for e in rows:
        if e.problem is not None:
            out.append(f"{e.name}: has errors ({e.problem}); `cnncalc show {e.name}` shows them")
    out.append(f"{len(rows)} built-in specs: `cnncalc show NAME` (and check, run, diff) reads "
               "one; a file of that name in the current directory wins.")
    out.append("params = weights + biases + batch-norm gamma and beta; MACs = multiply-"
               "accumulates, bias additions not counted.")
    return "\n".join(out) + "\n"


def to_json(rows: list[Entry]) -> str:
    return json.dumps({"version": 1, "specs": [
        {"name": e.name, "path": e.path, "notation": e.notation,
         "input": None if e.input is None else list(e.input), "layers": e.layers,
         "params": e.params, "macs": e.macs, "error": e.problem} for e in rows]},
        indent=2) + "\n"


@click.command()
@format_option(FORMATS, "table", help="table for people; json with stable keys.")
def zoo(fmt: str) -> None:
    """List the built-in specs with their params and MACs, computed as show computes them.

    \b
    A built-in spec is read by its name wherever a command takes a SPEC:
    `cnncalc show alexnet`, `cnncalc run lenet5`, `cnncalc diff resnet18 my.txt`.
    A path that exists always wins over a name.

    Exit status: 0.
    """
    from cnncalc.escape import escape_lines

    rows = entries()
    with pipe_may_close():
        click.echo(to_json(rows) if fmt == "json" else escape_lines(table(rows)), nl=False)
