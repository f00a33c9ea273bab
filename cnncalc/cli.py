"""The command line. Only the commands print or decide exit codes: 0 clean, 1 the spec has
errors (or a filter does not fit), 2 usage problems or internal errors."""

from __future__ import annotations

import sys
import traceback

import click

from cnncalc import __version__
from cnncalc.commands.check import check
from cnncalc.commands.conv import conv_cmd
from cnncalc.commands.rules import rules
from cnncalc.commands.run import run
from cnncalc.commands.show import show


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnncalc")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
def cli(debug: bool) -> None:
    """Calculate and check convolutional network architectures written as text.

    \b
    Conventions: MACs = multiply-accumulates, bias additions not counted;
    FLOPs = 2 x MACs; params = weights + biases (+ batch-norm gamma and beta).
    """


cli.add_command(show)
cli.add_command(conv_cmd)
cli.add_command(run)
cli.add_command(check)
cli.add_command(rules)


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
