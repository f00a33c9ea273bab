"""``cnncalc show SPEC``: every layer's figures as a table, json, csv, markdown or spec text."""

from __future__ import annotations

import sys

import click

from cnncalc.analyze import Analysis
from cnncalc.check.suppress import unsilenced
from cnncalc.cli import no_cyclic_gc, pipe_may_close
from cnncalc.option_style import format_option, option
from cnncalc.options import MAX_BATCH, load, one_spec
from cnncalc.render.memory import DTYPES, Memory
from cnncalc.spec import Rounding, Shape

FORMATS = ("table", "json", "csv", "markdown", "spec")


@click.command()
@one_spec
@format_option(FORMATS, "table", help="table: abbreviated figures; json, csv, markdown: "
               "exact; spec: the network rewritten in cnncalc's canonical notation.")
@option("--batch", type=click.IntRange(1, MAX_BATCH), default=1,
        help="Batch size for activation memory.")
@option("--dtype", type=click.Choice(list(DTYPES)), default="float32",
        help="Element type for activation and parameter memory.")
@option("--width", type=click.IntRange(40, 400), default=None, show_default="the terminal's",
        help="Table width in columns.")
@option("--depth", type=click.IntRange(min=1), default=None, metavar="N",
              help="Fold the layers of nested blocks into one row per block: a layer whose "
              "name has more than N dot-separated parts (layer1.0.CONV1 has 3) joins the row "
              "named by its first N (layer1), with summed params, MACs and acts. Table and "
              "markdown only.")
def show(spec: str, input_volume: Shape | None, defines: tuple[str, ...], notation: str | None,
         rounding: Rounding | None, model: str | None, fmt: str, batch: int, dtype: str,
         width: int | None, depth: int | None, max_layers: int | None,
         max_file_size: int | None, block: int | None = None) -> None:
    """Compute every layer of SPEC and print a per-layer table (- reads standard input).

    Exit status: 0 clean, 1 the spec has errors, 2 usage problems.
    """
    if depth is not None and fmt not in ("table", "markdown"):
        raise click.UsageError(
            f"--depth folds the rows of the table and the markdown; --format {fmt} keeps one "
            "record per layer (each with its name, to fold by)", click.get_current_context())
    with no_cyclic_gc():
        analysis = load(spec, input_volume, defines, notation, rounding, model, max_layers,
                        max_file_size, block)
        with pipe_may_close():
            _print(analysis, Memory(batch, dtype), fmt, width, depth)
    shown = unsilenced(analysis) if fmt != "json" else []  # json holds them all
    if shown:
        from cnncalc.render.report import format_all

        with pipe_may_close():
            sys.stdout.flush()
            color = sys.stderr.isatty()
            click.echo(format_all(shown, analysis.spec.lines, color), err=True)
    sys.exit(0 if analysis.ok else 1)


def _print(analysis: Analysis, memory: Memory, fmt: str, width: int | None,
           depth: int | None) -> None:
    if fmt == "json":
        from cnncalc.render.machine import to_json

        click.echo(to_json(analysis, memory), nl=False)
    elif fmt == "table":
        from cnncalc.render.table import print_table

        print_table(analysis, memory, width=width, depth=depth)
    elif fmt == "spec":
        from cnncalc.render.spec_text import to_spec_text

        click.echo(to_spec_text(analysis.spec, analysis.input), nl=False)
    else:
        from cnncalc.render.machine import to_csv, to_markdown

        click.echo(to_csv(analysis) if fmt == "csv" else to_markdown(analysis, memory, depth),
                   nl=False)
