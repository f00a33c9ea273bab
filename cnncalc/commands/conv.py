"""``cnncalc conv INPUT FILTER``: the lecture's one-layer examples as a command, with every
option the spec language has for one convolution or pooling layer."""

from __future__ import annotations

import sys

import click

from cnncalc.cli import pipe_may_close
from cnncalc.option_style import format_option, option
from cnncalc.options import dims
from cnncalc.spec import Conv, Padding, Pair, Pool, Rounding, Span

_AT = Span("<conv>", 1, 1, 2)


def pair(values: tuple[int, ...]) -> tuple[int, int]:
    return (values[0], values[1] if len(values) > 1 else values[0])


def parse_pad(text: str) -> Padding:
    """``P``, ``PHxPW``, ``T,BxL,R`` (before and after on each axis), ``?`` (the smallest
    that fits), ``same`` (Keras's: output ``ceil(W/S)``) or ``valid`` (none)."""
    low = text.strip().lower()
    if low == "?":
        return Padding.fit()
    if low == "same":
        return Padding.same()
    if low == "valid":
        return Padding()
    axes = low.replace("\u00d7", "x").split("x")
    sides: list[Pair] = []
    for part in axes:
        counts = part.split(",")
        if len(axes) > 2 or len(counts) > 2:
            sides = []
            break
        values = dims("x".join(counts), "--pad", (1, 2), least=0) if all(
            c.strip().isdigit() for c in counts) else ()
        if not values:
            sides = []
            break
        sides.append(pair(values))
    if not sides:
        raise click.BadParameter(
            f"{text!r}: write P, PHxPW, TOP,BOTTOMxLEFT,RIGHT, ?, same or valid, with whole "
            "numbers of at least 0", param_hint="--pad")
    h = sides[0]
    w = sides[1] if len(sides) > 1 else h
    return Padding("explicit", h, w)


def _usage(message: str) -> click.UsageError:
    return click.UsageError(message, click.get_current_context())


@click.command("conv")
@click.argument("input_size", metavar="INPUT")
@click.argument("filter_size", metavar="FILTER")
@option("--stride", "-s", default="1", help="S or SHxSW.")
@option("--pad", "-p", default=None, show_default="0",
        help="P, PHxPW, TOP,BOTTOMxLEFT,RIGHT, ? for the smallest that fits, same (output "
        "ceil(W/S), as Keras) or valid (none).")
@option("--dilation", "-d", default="1", help="D or DHxDW: a filter of F taps spans D*(F-1)+1.")
@option("--filters", "-k", type=click.IntRange(min=1), default=None,
        help="Number of filters K (output depth); counts need an input depth too.")
@option("--groups", "-g", type=click.IntRange(min=1), default=1,
        help="Groups of input and output channels (needs HxWxC and --filters).")
@option("--depthwise", is_flag=True,
        help="A depthwise conv: one group per input channel, C x --multiplier filters.")
@option("--multiplier", type=click.IntRange(min=1), default=None, show_default="1",
        help="Filters per input channel of a depthwise conv (implies --depthwise).")
@option("--transposed", is_flag=True,
        help="A transposed conv: (W - 1)*S - 2P + D*(F - 1) + output_padding + 1.")
@option("--output-padding", default="0", help="O or OHxOW: added to a transposed conv's "
        "output, below the stride or the dilation.")
@option("--no-bias", is_flag=True, help="No biases.")
@option("--pool", is_flag=True, help="A pooling window: no weights, depth kept.")
@option("--ceil", is_flag=True,
        help="Pooling's ceil mode: a last partial window counts (PyTorch's ceil_mode).")
@option("--rounding", type=click.Choice(["strict", "floor", "ceil"]), default="strict",
        help="A size that is not whole: an error, or rounded.")
@format_option(("text", "json"), "text", help="text: the arithmetic and the figures; json: "
               "the layer's record as show --format json writes it, with its diagnostics.")
def conv_cmd(input_size: str, filter_size: str, stride: str, pad: str | None, dilation: str,
             filters: int | None, groups: int, depthwise: bool, multiplier: int | None,
             transposed: bool, output_padding: str, no_bias: bool, pool: bool, ceil: bool,
             rounding: Rounding, fmt: str) -> None:
    """One layer: the output size (W - F + 2P)/S + 1 of a FILTER on an INPUT.

    \b
    INPUT is N (an NxN input), HxW or HxWxC; FILTER is F or FhxFw.
      cnncalc conv 7 3 --stride 2          (7 - 3)/2 + 1 = 3
      cnncalc conv 227x227x3 11 -s 4 -k 96 output 55x55x96, weights, MACs
      cnncalc conv 56x56x64 3 -s 2 -p same -k 128 -g 2

    Exit status: 0 the filter fits, 1 it does not, 2 usage problems.
    """
    from cnncalc.calculator import calculate, report, to_json

    size = dims(input_size, "INPUT", (1, 2, 3))
    depth = size[2] if len(size) == 3 else None
    depthwise = depthwise or multiplier is not None
    layer = _layer(pair(dims(filter_size, "FILTER", (1, 2))),
                   pair(dims(stride, "--stride", (1, 2))), pad,
                   pair(dims(dilation, "--dilation", (1, 2))), filters, groups,
                   (multiplier or 1) if depthwise else None, transposed,
                   pair(dims(output_padding, "--output-padding", (1, 2), least=0)),
                   no_bias, pool, ceil, depth)
    calc = calculate(pair(size), depth, layer, rounding)
    with pipe_may_close():
        click.echo(to_json(calc) if fmt == "json" else report(calc), nl=fmt != "json")
    sys.exit(0 if calc.fits else 1)


def _layer(kernel: Pair, stride: Pair, pad: str | None, dilation: Pair, filters: int | None,
           groups: int, multiplier: int | None, transposed: bool, output_padding: Pair,
           no_bias: bool, pool: bool, ceil: bool, depth: int | None) -> Conv | Pool:
    """The Conv or Pool the options describe, as the canonical notation would write it; a
    combination the notation has no line for is a usage error."""
    conv_only = [name for name, given in (
        ("--filters", filters is not None), ("--groups", groups != 1),
        ("--depthwise", multiplier is not None), ("--transposed", transposed),
        ("--output-padding", output_padding != (0, 0)), ("--no-bias", no_bias)) if given]
    if pool and conv_only:
        raise _usage(f"--pool is a pooling window: {', '.join(conv_only)} describe a conv")
    if ceil and not pool:
        raise _usage("--ceil is pooling's ceil mode (with --pool); a conv rounds with "
                     "--rounding ceil")
    if multiplier is not None and (filters is not None or groups != 1 or transposed):
        raise _usage("a depthwise conv has one group per input channel and C x --multiplier "
                     "filters: drop --filters, --groups and --transposed")
    if groups != 1 and (depth is None or filters is None):
        raise _usage("--groups splits the input channels and the filters: give INPUT as "
                     "HxWxC and --filters")
    if output_padding != (0, 0) and not transposed:
        raise _usage("--output-padding is a transposed conv's (with --transposed)")
    padding = Padding() if pad is None else parse_pad(pad)
    if transposed and padding.mode == "fit":
        raise _usage("--pad ? solves a sliding window's padding; give a transposed conv's "
                     "padding as a number")
    fields = [("kernel", _AT), ("stride", _AT)]
    if pad is not None:
        fields.append(("pad", _AT))
    if filters is not None:
        fields.append(("filters", _AT))
    if pool:
        return Pool(name="layer", span=_AT, fields=tuple(fields), op="max", kernel=kernel,
                    stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil)
    return Conv(name="layer", span=_AT, fields=tuple(fields), filters=filters or 1,
                kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                groups=groups, depth_multiplier=multiplier, bias=not no_bias,
                transposed=transposed, output_padding=output_padding)
