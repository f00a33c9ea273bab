"""The command line. Only the commands print or decide exit codes: 0 clean, 1 the spec has
errors (or a filter does not fit), 2 usage problems or internal errors."""

from __future__ import annotations

import importlib
import sys
import traceback

import click

from cnncalc import __version__

# name -> "module:attribute", imported only when that command runs, so that `show` does not
# pay for importing `check` and `run` (click's lazy-loading pattern)
COMMANDS = {
    "show": "cnncalc.commands.show:show",
    "conv": "cnncalc.commands.conv:conv_cmd",
    "run": "cnncalc.commands.run:run",
    "check": "cnncalc.commands.check:check",
    "rules": "cnncalc.commands.rules:rules",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnncalc")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
def cli(debug: bool) -> None:
    """Calculate and check convolutional network architectures written as text.

    \b
    Conventions: MACs = multiply-accumulates, bias additions not counted;
    FLOPs = 2 x MACs; params = weights + biases (+ batch-norm gamma and beta).
    """


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
