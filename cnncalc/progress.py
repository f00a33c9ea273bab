"""A progress bar for long work (``run`` of a large network, ``check`` of many files): on a
terminal only, on standard error, and gone when the work is done.

Never in a pipe or in CI: not when standard output or standard error is not a terminal (the
bar would land in a file, or a reader would get escape codes), not when ``CI`` is set (CI
services give a terminal-like log that keeps every frame), not when ``TERM`` is ``dumb``. The
bar is rich's, transient, on standard error, and the command prints its own output only after
the bar has gone, so the bar never mixes into machine output."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Advance = Callable[[str, int], None]
"""``advance(task, done)``: ``done`` items of that task are finished."""


def terminal() -> bool:
    """Whether both output streams are a terminal a person watches."""
    return sys.stdout.isatty() and sys.stderr.isatty()


def wanted() -> bool:
    """Whether a progress bar may be shown at all (see the module's docstring)."""
    if os.environ.get("CI") or os.environ.get("TERM") == "dumb":
        return False
    return terminal()


@contextmanager
def progress(show: bool, tasks: dict[str, tuple[str, int]], unit: str) -> Iterator[Advance]:
    """A transient bar per task (``name: (description, total)``) counting ``unit``, on
    standard error; with ``show`` False, an ``advance`` that does nothing."""
    if not show:
        yield lambda task, done: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=sys.stderr, force_terminal=True)
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn(f"{{task.completed}}/{{task.total}} {unit}"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        ids = {name: bar.add_task(what, total=total) for name, (what, total) in tasks.items()}

        def advance(task: str, done: int) -> None:
            bar.update(ids[task], completed=done)

        yield advance


Count = Callable[[int, int], None]
"""``count(done, total)``: ``done`` of ``total`` items are finished."""


@contextmanager
def counter(show: bool, what: str, unit: str, least: int) -> Iterator[Count]:
    """A transient bar that appears once the total is known to be at least ``least`` (a check
    of three files needs none; the total is known only once discovery is done)."""
    if not show:
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(),
                   TextColumn(f"{{task.completed}}/{{task.total}} {unit}"), TimeElapsedColumn(),
                   console=Console(file=sys.stderr, force_terminal=True), transient=True)
    ids: list[TaskID] = []

    def count(done: int, total: int) -> None:
        if total < least:
            return
        if not ids:
            bar.start()
            ids.append(bar.add_task(what, total=total))
        bar.update(ids[0], completed=done)

    try:
        yield count
    finally:
        if ids:
            bar.stop()
