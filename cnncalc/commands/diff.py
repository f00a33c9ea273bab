"""``cnncalc diff A B``: two descriptions of one network, in any notations, layer by layer.

Exit status: 0 they agree; 1 they differ (a layer, a volume, params, buffers, MACs, the
wiring, the input or the output); 2 usage problems, or a side that cannot be analysed (an
error in it withholds its figures): which one is said, with its errors.
"""

from __future__ import annotations

import sys

import click

from cnncalc.analyze import Analysis
from cnncalc.cli import no_cyclic_gc, pipe_may_close
from cnncalc.diagnostics import Severity
from cnncalc.escape import escape
from cnncalc.option_style import Opt, format_option, option
from cnncalc.options import SpecPath, VolumeType, limit_options, load, spec_options
from cnncalc.parse import NOTATIONS
from cnncalc.render.common import withheld
from cnncalc.spec import Rounding, Shape

FORMATS = ("text", "json")


def _side_options(side: str) -> list[click.Option]:
    upper = side.upper()
    return [
        Opt([f"--input-{side}", f"input_{side}"], type=VolumeType(), show_default=True,
            help=f"The input volume of {upper} only (overrides --input)."),
        Opt([f"--notation-{side}", f"notation_{side}"], type=click.Choice(NOTATIONS),
            default=None, show_default=True, help=f"The notation of {upper} only."),
        Opt([f"--define-{side}", f"defines_{side}"], multiple=True, show_default=True,
            metavar="NAME=VALUE", help=f"Bind a name in {upper} only (after --define)."),
        Opt([f"--model-{side}", f"model_{side}"], default=None, metavar="NAME",
            show_default=True, help=f"The model to read when {upper} builds several."),
    ]


@click.command()
@click.argument("a", type=SpecPath())
@click.argument("b", type=SpecPath())
@spec_options
@limit_options
@format_option(FORMATS, "text", help="text: the layers that differ, aligned, and the totals; "
               "json: every aligned pair, for machines.")
@option("--all", "show_all", is_flag=True,
              help="List every layer, not only those that differ.")
def diff(a: str, b: str, input_volume: Shape | None, defines: tuple[str, ...],
         notation: str | None, rounding: Rounding | None, max_layers: int | None,
         max_file_size: int | None, fmt: str, show_all: bool, **per_side: object) -> None:
    """Compare two descriptions of one network, A and B, in any notations (- reads
    standard input): the layers are aligned on what they are, whatever their names, and
    every difference in volume, params, buffers, MACs or wiring is listed. --input,
    --notation and --define apply to both sides; their -a and -b forms to one.

    Exit status: 0 they agree, 1 they differ, 2 usage problems or a side that cannot be
    analysed.
    """
    if a == "-" and b == "-":
        raise click.UsageError("only one of A and B can be standard input (-)",
                               click.get_current_context())
    with no_cyclic_gc():
        sides = []
        for path, side in ((a, "a"), (b, "b")):
            own_input = per_side[f"input_{side}"]
            own_defines = per_side[f"defines_{side}"]
            assert isinstance(own_defines, tuple)
            sides.append(load(
                path, own_input or input_volume,  # type: ignore[arg-type]
                defines + own_defines,
                per_side[f"notation_{side}"] or notation,  # type: ignore[arg-type]
                rounding, per_side[f"model_{side}"],  # type: ignore[arg-type]
                max_layers, max_file_size))
        first, second = sides
        broken = [(name, x) for name, x in (("A", first), ("B", second))
                  if not x.ok or x.totals is None or x.input is None]
        if broken:
            _unanalysed(first, second, broken, fmt)
            sys.exit(2)
        from cnncalc.compare import compare
        from cnncalc.render.diff import to_json, to_text

        result = compare(first, second)
        with pipe_may_close():
            click.echo(to_json(result) if fmt == "json" else to_text(result, show_all), nl=False)
    sys.exit(0 if result.same else 1)


for _side in ("a", "b"):
    diff.params.extend(_side_options(_side))


def _unanalysed(first: Analysis, second: Analysis, broken: list[tuple[str, Analysis]],
                fmt: str) -> None:
    """Say which side cannot be compared and why, with its errors, on standard error (and
    the JSON record on standard output)."""
    from cnncalc.render.report import format_all

    reasons = [f"{name} ({escape(x.spec.path)}) cannot be analysed: {withheld(x)}"
               for name, x in broken]
    with pipe_may_close():
        if fmt == "json":
            from cnncalc.render.diff import unanalysed_json

            click.echo(unanalysed_json(first, second, "; ".join(reasons)), nl=False)
        sys.stdout.flush()
        color = sys.stderr.isatty()
        for (name, x), reason in zip(broken, reasons, strict=True):
            errors = [d for d in x.diagnostics if d.severity is Severity.ERROR]
            click.echo(format_all(errors, x.spec.lines, color), err=True)
            click.echo(f"cnncalc diff: {reason}; nothing was compared", err=True)
            if any(d.code == "P004" for d in errors):
                click.echo(f"hint: --input-{name.lower()} HxWxC gives {name} its input volume "
                           "(--input gives both)", err=True)
