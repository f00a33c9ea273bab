"""How every command writes its options' help: one name for the output format (``--format``)
and one way of writing a default (click's ``[default: ...]`` note, never in the prose).

Kept apart from ``cnncalc.options`` so that a command that reads no spec (``rules``) does not
import the parser and the analysis to build its options."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


class Opt(click.Option):
    """An option whose default, when it is not a plain value (the terminal's width, the
    notation's policy), is still written as click writes a value: ``[default: the
    terminal's]``, without the parentheses click puts around a described default. Every
    ``--help`` writes its defaults this one way, in the ``[default: ...]`` note, never in
    the prose (tests/test_help_style.py)."""

    def get_help_extra(self, ctx: click.Context) -> Any:
        extra = super().get_help_extra(ctx)
        if isinstance(self.show_default, str):
            extra["default"] = self.show_default
        return extra


def option(*decls: str, **attrs: Any) -> Callable[[F], F]:
    """``click.option`` with ``Opt`` and the default shown (see ``Opt``)."""
    attrs.setdefault("cls", Opt)
    attrs.setdefault("show_default", True)
    return click.option(*decls, **attrs)


def format_option(choices: tuple[str, ...] | list[str], default: str | None, help: str,
                  alias: bool = False, **attrs: Any) -> Callable[[F], F]:
    """``--format``, the one name of the output format in every command that prints;
    ``alias`` adds ``--output-format`` (the name ruff users know) on ``check`` and ``rules``."""
    decls = ("--format", "--output-format") if alias else ("--format",)
    return option(*decls, "fmt", type=click.Choice(list(choices)), default=default, help=help,
                  **attrs)
