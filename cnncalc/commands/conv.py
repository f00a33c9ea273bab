"""``cnncalc conv INPUT FILTER``: the lecture's one-layer examples as a command."""

from __future__ import annotations

import sys

import click

from cnncalc.cli import pipe_may_close
from cnncalc.options import dims
from cnncalc.spec import Rounding


def pair(values: tuple[int, ...]) -> tuple[int, int]:
    return (values[0], values[1] if len(values) > 1 else values[0])


@click.command("conv")
@click.argument("input_size", metavar="INPUT")
@click.argument("filter_size", metavar="FILTER")
@click.option("--stride", "-s", default="1", show_default=True, help="S or SHxSW.")
@click.option("--pad", "-p", default=None, help="P, PHxPW, or ? for the smallest that fits.")
@click.option("--filters", "-k", type=click.IntRange(min=1), default=None,
              help="Number of filters K (output depth); counts need an input depth too.")
@click.option("--pool", is_flag=True, help="A pooling window: no weights, depth kept.")
@click.option("--rounding", type=click.Choice(["strict", "floor", "ceil"]), default="strict",
              show_default=True, help="A size that is not whole: an error, or rounded.")
def conv_cmd(input_size: str, filter_size: str, stride: str, pad: str | None,
             filters: int | None, pool: bool, rounding: Rounding) -> None:
    """One layer: the output size (W - F + 2P)/S + 1 of a FILTER on an INPUT.

    \b
    INPUT is N (an NxN input), HxW or HxWxC; FILTER is F or FhxFw.
      cnncalc conv 7 3 --stride 2          (7 - 3)/2 + 1 = 3
      cnncalc conv 227x227x3 11 -s 4 -k 96 output 55x55x96, weights, MACs

    Exit status: 0 the filter fits, 1 it does not, 2 usage problems.
    """
    from cnncalc.calculator import one_layer

    size = dims(input_size, "INPUT", (1, 2, 3))
    depth = size[2] if len(size) == 3 else None
    kernel = pair(dims(filter_size, "FILTER", (1, 2)))
    strides = pair(dims(stride, "--stride", (1, 2)))
    pads = None if pad in (None, "?") else pair(dims(pad, "--pad", (1, 2), least=0))
    text, ok = one_layer(pair(size[:2]), depth, kernel, strides, pads, pad == "?", filters, pool,
                         rounding)
    with pipe_may_close():
        click.echo(text)
    sys.exit(0 if ok else 1)
