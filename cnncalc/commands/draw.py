"""``cnncalc draw SPEC``: the network as an SVG diagram (``cnncalc.render.svg``)."""

from __future__ import annotations

import sys

import click

from cnncalc.check.suppress import unsilenced
from cnncalc.cli import no_cyclic_gc, pipe_may_close
from cnncalc.option_style import option
from cnncalc.options import load, one_spec
from cnncalc.spec import Rounding, Shape


@click.command()
@one_spec
@option("-o", "--output", "output", type=click.Path(dir_okay=False, allow_dash=True),
        default="-", metavar="FILE", help="Write the SVG to FILE (- is standard output).")
@option("--depth", type=click.IntRange(min=1), default=None, metavar="N",
        help="Fold the layers of nested blocks into one box per block, as show --depth "
        "folds rows: a layer whose name has more than N dot-separated parts joins the "
        "box named by its first N.")
def draw(spec: str, input_volume: Shape | None, defines: tuple[str, ...], notation: str | None,
         rounding: Rounding | None, model: str | None, output: str, depth: int | None,
         max_layers: int | None, max_file_size: int | None, block: int | None = None) -> None:
    """Draw SPEC as an SVG diagram: each layer a box or a 3-D volume with its name, output
    volume and params, branches as a graph (- reads standard input).

    \b
    Sizes: each side is 8 + 9*log2(n) px, clamped to 8..116 (height from H,
    thickness from C, depth from W). Layers in error are drawn red and nothing
    after them is given a volume.

    Exit status: 0 clean, 1 the spec has errors, 2 usage problems (or more boxes
    than a picture holds: fold with --depth).
    """
    from cnncalc.render.svg import TooLarge, fold_hint, to_svg

    with no_cyclic_gc():
        analysis = load(spec, input_volume, defines, notation, rounding, model, max_layers,
                        max_file_size, block)
        try:
            text = to_svg(analysis, depth)
        except TooLarge as exc:
            hint = fold_hint(analysis)
            more = (f"; --depth {hint} draws it folded" if hint is not None and
                    (depth is None or hint < depth) else "; name its blocks to fold them "
                    "with --depth")
            raise click.UsageError(f"{exc}{more}") from None
    if output == "-":
        with pipe_may_close():
            click.echo(text, nl=False)
    else:
        try:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        except OSError as exc:
            from cnncalc.options import SpecReadError

            raise SpecReadError(output, exc.strerror or str(exc)) from exc
    shown = unsilenced(analysis)
    if shown:
        from cnncalc.render.report import format_all

        with pipe_may_close():
            sys.stdout.flush()
            click.echo(format_all(shown, analysis.spec.lines, sys.stderr.isatty()), err=True)
    sys.exit(0 if analysis.ok else 1)
