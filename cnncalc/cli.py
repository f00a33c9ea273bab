"""The command line. Only the commands print or decide exit codes: 0 clean, 1 the spec has
errors (or a filter does not fit), 2 usage problems or internal errors.

A reader that stops reading early (``cnncalc show spec.txt | head -1``) is not an error: the
rest of the output is dropped, quietly, and the command ends with the status it would have
had (``pipe_may_close``), or 0 where output was all it had to do."""

from __future__ import annotations

import gc
import importlib
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TextIO

import click

from cnncalc import __version__
from cnncalc.escape import escape, escape_lines

# name -> "module:attribute", imported only when that command runs, so that `show` does not
# pay for importing `check` and `run` (click's lazy-loading pattern)
COMMANDS = {
    "show": "cnncalc.commands.show:show",
    "conv": "cnncalc.commands.conv:conv_cmd",
    "run": "cnncalc.commands.run:run",
    "check": "cnncalc.commands.check:check",
    "diff": "cnncalc.commands.diff:diff",
    "rules": "cnncalc.commands.rules:rules",
    "draw": "cnncalc.commands.draw:draw",
    "zoo": "cnncalc.commands.zoo:zoo",
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

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        """``cnncalc --help | head -1``: a closed pipe ends it with 0 too."""
        try:
            return super().make_context(info_name, args, parent, **extra)
        except BrokenPipeError:
            drop_closed_streams()
            sys.exit(0)

    def invoke(self, ctx: click.Context) -> Any:
        """A closed pipe that a command did not expect ends it with 0, before click's own
        handling turns it into 1 (the status of a spec with errors)."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            drop_closed_streams()
            sys.exit(0)


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector off while one file is checked or shown, back on after it.

    Checking a file allocates many short-lived container objects (tokens, AST nodes, layers),
    which trigger a generation-0 collection every 700 allocations, each scanning every young
    object still alive: over the benchmark's 1,000 files, 0.099 s of collections before and
    0.014 s after, about 3% of the run.
    Nothing a check builds depends on cycle collection: its objects are freed by reference
    counting, and any cycle left over is collected at the first allocation after the
    collector is re-enabled, one file later. ``show`` of ResNet-50 takes about 5 ms less
    (of some 110) with it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@contextmanager
def pipe_may_close() -> Iterator[None]:
    """Around a command's output: if the reader closes the pipe, the rest of what goes to
    that stream is dropped and the command goes on to its own exit status (so that
    ``cnncalc check | head`` still fails a failing check, under ``set -o pipefail``)."""
    try:
        yield
    except BrokenPipeError:
        drop_closed_streams()


def drop_closed_streams() -> None:
    """Send what is still to be written to a stream whose reader has gone to /dev/null
    (standard output when neither says so: a pipe to ``head`` is the usual case)."""
    closed = [name for name in ("stdout", "stderr") if _closed(getattr(sys, name))]
    for name in closed or ["stdout"]:
        stream = getattr(sys, name)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
        finally:
            os.close(devnull)


def _closed(stream: TextIO) -> bool:
    """Whether the reader of ``stream`` has gone: its buffered text cannot be flushed, or
    poll reports an error on it (Linux: POLLERR on a pipe whose reader has gone)."""
    try:
        stream.flush()
    except BrokenPipeError:
        return True
    except (OSError, ValueError):
        return False
    import select  # imported here, as traceback is below: most runs need neither

    if not hasattr(select, "poll"):
        return False
    try:
        poller = select.poll()
        poller.register(stream.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError, io.UnsupportedOperation):
        return False


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
    """Entry point: unexpected exceptions become one line and exit 2 (``--debug`` for more);
    Ctrl-C exits 130, the shell's status for SIGINT.

    click runs in non-standalone mode so that an interrupt reaches this function (standalone
    mode turns it into ``Aborted!`` and exit 1, the status of a spec with errors); its other
    exceptions are reported here as standalone mode reports them.

    Everything written here that may quote the input (an exception's message, a usage error
    naming a path, a traceback) is escaped with ``cnncalc.escape``. Standard output writes
    what it cannot encode as a backslash escape instead of failing."""
    args = sys.argv[1:] if argv is None else argv
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None and getattr(sys.stdout, "errors", None) == "strict":
        reconfigure(errors="backslashreplace")
    try:
        returned = _run(args)
    except SystemExit as exc:
        status: Any = exc.code
    else:
        status = returned if type(returned) is int else 0
    with pipe_may_close():
        sys.stdout.flush()
        sys.stderr.flush()
    sys.exit(status)


def _run(args: list[str]) -> Any:
    try:
        return cli.main(args=args, prog_name="cnncalc", standalone_mode=False)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):
            _interrupted()
        click.echo("Aborted!", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        shown = io.StringIO()
        exc.show(file=shown)
        click.echo(escape_lines(shown.getvalue().rstrip("\n")), err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _interrupted()
    except BrokenPipeError:  # raised outside a command (click's help, --version)
        drop_closed_streams()
        sys.exit(0)
    except Exception as exc:  # the last line of defence
        if "--debug" in args:
            import traceback

            click.echo(escape_lines(traceback.format_exc().rstrip("\n")), err=True)
        else:
            click.echo(f"internal error: {escape(_one_line(exc))}", err=True)
            click.echo("hint: rerun with --debug to see the traceback, and report it", err=True)
        sys.exit(2)


def _interrupted() -> NoReturn:
    click.echo("interrupted", err=True)
    sys.exit(130)


def _one_line(exc: BaseException) -> str:
    """``Type: first line of the message``, with `` ...`` when the message has more lines
    (``--debug`` shows them all)."""
    lines = str(exc).strip().splitlines()
    if not lines:
        return type(exc).__name__
    more = " ..." if len(lines) > 1 else ""
    return f"{type(exc).__name__}: {lines[0].rstrip()}{more}"
