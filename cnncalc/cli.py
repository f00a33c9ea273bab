"""The command line. The only module that prints to the terminal on its own account or
decides an exit code: 0 clean, 1 the spec has errors, 2 usage problems or internal errors."""

from __future__ import annotations

import sys
import traceback
from typing import Any

import click

from cnncalc import __version__
from cnncalc.analyze import Analysis, analyze
from cnncalc.diagnostics import Diagnostic
from cnncalc.parse import parse_text
from cnncalc.spec import Shape, Span, Spec

FORMATS = ("table", "json", "csv", "markdown")




class VolumeType(click.ParamType):  # type: ignore[type-arg]
    name = "HxWxC"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        try:
            return _dims(str(value), "--input", (3, 1))
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


def read_spec(path: str) -> tuple[str, str]:
    """(display path, text). Undecodable bytes become a P006 diagnostic later, not a crash."""
    if path == "-":
        data = sys.stdin.buffer.read()
        return "<stdin>", data.decode("utf-8", errors="surrogateescape")
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise click.FileError(path, hint=exc.strerror or str(exc)) from exc
    return path, data.decode("utf-8", errors="surrogateescape")


def load(path: str, input_override: Shape | None) -> Analysis:
    shown, text = read_spec(path)
    bad = _undecodable(text, shown)
    if bad is not None:
        spec = Spec(shown, None, None, (), (bad,), tuple(text.splitlines()))
        return Analysis(spec, None, (), (bad,))
    return analyze(parse_text(text, shown), input_override)


def _undecodable(text: str, path: str) -> Diagnostic | None:
    for lineno, line in enumerate(text.splitlines(), start=1):
        for col, ch in enumerate(line, start=1):
            if "\udc80" <= ch <= "\udcff" or ch == "\x00":
                what = "a NUL byte" if ch == "\x00" else f"byte 0x{ord(ch) - 0xDC00:02x}"
                return Diagnostic(Span(path, lineno, col, col + 1), "P006",
                                  f"{what} is not UTF-8 text: is this a spec file?",
                                  "save the file as UTF-8 text")
    return None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnncalc")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Calculate and check convolutional network architectures written as text.

    \b
    Conventions: MACs = multiply-accumulates, bias additions not counted;
    FLOPs = 2 x MACs; params = weights + biases.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False, allow_dash=True, exists=True))
@click.option("--input", "input_volume", type=VolumeType(),
              help="Supply or override the input volume, e.g. 227x227x3.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table: abbreviated figures; json, csv: exact figures; markdown: exact.")
@click.option("--width", type=click.IntRange(40, 400), default=None,
              help="Table width in columns (default: the terminal's).")
def show(spec: str, input_volume: Shape | None, fmt: str, width: int | None) -> None:
    """Compute every layer of SPEC and print a per-layer table (- reads standard input).

    Exit status: 0 clean, 1 the spec has errors, 2 usage problems.
    """
    from cnncalc.render.report import format_all

    analysis = load(spec, input_volume)
    if fmt == "json":
        from cnncalc.render.machine import to_json

        click.echo(to_json(analysis), nl=False)
    else:
        if fmt == "table":
            from cnncalc.render.table import print_table

            print_table(analysis, width=width)
        else:
            from cnncalc.render.machine import to_csv, to_markdown

            click.echo((to_csv if fmt == "csv" else to_markdown)(analysis), nl=False)
        if analysis.diagnostics:
            sys.stdout.flush()
            color = sys.stderr.isatty()
            click.echo(format_all(analysis.diagnostics, analysis.spec.lines, color), err=True)
    sys.exit(0 if analysis.ok else 1)


def _dims(text: str, what: str, lengths: tuple[int, ...], least: int = 1) -> tuple[int, ...]:
    """``7``, ``7x5``, ``7x5x3`` as ints, or a usage error that says what was expected."""
    parts = text.lower().replace("\u00d7", "x").split("x")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        dims = ()
    if len(dims) not in lengths or min(dims, default=least - 1) < least:
        forms = {1: "N", 2: "HxW", 3: "HxWxC"}
        raise click.BadParameter(
            f"{text!r}: write {what} as {' or '.join(forms[n] for n in lengths)} with whole "
            f"numbers of at least {least}", param_hint=what)
    return dims


def _pair(dims: tuple[int, ...]) -> tuple[int, int]:
    return (dims[0], dims[1] if len(dims) > 1 else dims[0])


@cli.command("conv")
@click.argument("input_size", metavar="INPUT")
@click.argument("filter_size", metavar="FILTER")
@click.option("--stride", "-s", default="1", show_default=True, help="S or SHxSW.")
@click.option("--pad", "-p", default=None, help="P, PHxPW, or ? for the smallest that fits.")
@click.option("--filters", "-k", type=click.IntRange(min=1), default=None,
              help="Number of filters K (output depth); counts need an input depth too.")
@click.option("--pool", is_flag=True, help="A pooling window: no weights, depth kept.")
def conv_cmd(input_size: str, filter_size: str, stride: str, pad: str | None,
             filters: int | None, pool: bool) -> None:
    """One layer: the output size (W - F + 2P)/S + 1 of a FILTER on an INPUT.

    \b
    INPUT is N (an NxN input), HxW or HxWxC; FILTER is F or FhxFw.
      cnncalc conv 7 3 --stride 2          (7 - 3)/2 + 1 = 3
      cnncalc conv 227x227x3 11 -s 4 -k 96 output 55x55x96, weights, MACs

    Exit status: 0 the filter fits, 1 it does not, 2 usage problems.
    """
    from cnncalc.calculator import one_layer

    dims = _dims(input_size, "INPUT", (1, 2, 3))
    depth = dims[2] if len(dims) == 3 else None
    kernel = _pair(_dims(filter_size, "FILTER", (1, 2)))
    strides = _pair(_dims(stride, "--stride", (1, 2)))
    pads = None if pad in (None, "?") else _pair(_dims(pad, "--pad", (1, 2), least=0))
    text, ok = one_layer(_pair(dims[:2]), depth, kernel, strides, pads, pad == "?", filters, pool)
    click.echo(text)
    sys.exit(0 if ok else 1)


def main(argv: list[str] | None = None) -> None:
    """Entry point: unexpected exceptions become one line and exit 2 (``--debug`` for more)."""
    args = sys.argv[1:] if argv is None else argv
    try:
        cli.main(args=args, prog_name="cnncalc", standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # the last line of defence
        if "--debug" in args:
            traceback.print_exc()
        else:
            click.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
            click.echo("hint: rerun with --debug to see the traceback, and report it", err=True)
        sys.exit(2)
