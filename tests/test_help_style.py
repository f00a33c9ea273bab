"""One vocabulary across the commands (issue 14, part 3): ``--format`` on every command that
prints, ``--output-format`` an alias on check and rules, and every default written one way,
click's ``[default: ...]`` note, never in an option's prose."""

from __future__ import annotations

import re

import click
import pytest

from cnncalc.cli import COMMANDS, cli
from cnncalc.option_style import Opt

DEFAULT_NOTE = re.compile(r"\s*\[default: [^\]]+\]")


def _command(name: str) -> click.Command:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    return command


def _options(name: str) -> list[click.Option]:
    return [p for p in _command(name).params
            if isinstance(p, click.Option) and "--help" not in p.opts]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_option_writes_its_default_in_the_note(name):
    command = _command(name)
    ctx = click.Context(command, info_name=name, parent=click.Context(cli, info_name="cnncalc"))
    for opt in _options(name):
        assert isinstance(opt, Opt), f"{name} {opt.opts[0]}: not declared with option_style"
        record = opt.get_help_record(ctx)
        assert record is not None
        text = record[1]
        notes = DEFAULT_NOTE.findall(text)
        prose = DEFAULT_NOTE.sub("", text)
        assert "default" not in prose.lower(), f"{name} {opt.opts[0]}: {text!r}"
        default = opt.get_default(ctx, call=False)
        has_default = isinstance(opt.show_default, str) or (
            default is not None and default is not False and default != ()
            and not opt.is_flag and not str(default).endswith("UNSET"))
        assert bool(notes) == has_default, f"{name} {opt.opts[0]}: {text!r}"
        assert all("(" not in note.split(":", 1)[1][:3] for note in notes), text


@pytest.mark.parametrize("name", list(COMMANDS))
def test_help_output_has_no_other_default_style(runner, name):
    """The rendered --help (wrapped) too: 'default' only inside the note."""
    result = runner.invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    options = result.stdout.split("Options:", 1)[1]
    flat = " ".join(options.split())
    assert "default" not in DEFAULT_NOTE.sub("", flat).lower()
    assert "(default" not in flat and "Default:" not in flat


@pytest.mark.parametrize("name", ["show", "run", "check", "rules", "diff", "conv"])
def test_every_printing_command_has_format(name):
    assert any("--format" in opt.opts for opt in _options(name))


@pytest.mark.parametrize(("args", "key"), [
    (["rules", "--format", "json"], "code"),
    (["rules", "--output-format", "json"], "code"),
])
def test_rules_format_and_its_alias(runner, args, key):
    result = runner.invoke(cli, args)
    assert result.exit_code == 0
    assert result.stdout.lstrip().startswith("[") and f'"{key}"' in result.stdout


@pytest.mark.parametrize("flag", ["--format", "--output-format"])
def test_check_format_and_its_alias(runner, flag):
    result = runner.invoke(cli, ["check", "--isolated", flag, "concise", "specs/alexnet.txt"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "All checks passed! (1 file checked)\n"


def test_check_help_names_the_alias(runner):
    result = runner.invoke(cli, ["check", "--help"])
    assert "--format, --output-format" in result.stdout
