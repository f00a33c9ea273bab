"""The progress bar of `run` and `check` (issue 14, part 11): on a terminal, on standard
error, never in pipes or CI, and never in standard output. A terminal is forced in-process by
patching ``cnncalc.progress.terminal``; rich then draws to the captured standard error."""

from __future__ import annotations

import json
import re

import pytest

import cnncalc.commands.check as check_module
import cnncalc.commands.run as run_module
import cnncalc.progress as progress
from cnncalc.cli import cli

BAR = "\u2501"  # rich's bar segment


@pytest.fixture
def tty(monkeypatch):
    """A terminal that a person watches: both streams a tty, no CI, a real TERM."""
    monkeypatch.setattr(progress, "terminal", lambda: True)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setattr(run_module, "PROGRESS_MACS", 0)  # lenet5 counts as a long run
    monkeypatch.setattr(check_module, "PROGRESS_FILES", 2)


def _run(runner, *extra):
    return runner.invoke(cli, ["run", "specs/lenet5.txt", *extra])


def _plain(runner, monkeypatch, *args):
    """The same command with no terminal: what a pipe gets."""
    with monkeypatch.context() as m:
        m.setattr(progress, "terminal", lambda: False)
        return runner.invoke(cli, list(args))


def _words(text):
    """The words of a run's output with every number masked: measured times differ from one
    run to the next, and a longer number may wrap the note's lines elsewhere."""
    return [re.sub(r"[0-9][0-9.,]*", "N", word) for word in text.split()]


def test_run_shows_the_bar_on_stderr_only(runner, tty, monkeypatch):
    result = _run(runner)
    assert result.exit_code == 0, result.output
    assert "running" in result.stderr and "layers" in result.stderr and BAR in result.stderr
    piped = _plain(runner, monkeypatch, "run", "specs/lenet5.txt")
    # the same table (but for its measured times), with no bar or escape code in it
    assert "\x1b" not in result.stdout and BAR not in result.stdout
    assert _words(result.stdout) == _words(piped.stdout)
    assert piped.stderr == ""                     # and a pipe gets nothing extra


def test_run_json_stays_json_under_a_bar(runner, tty):
    result = _run(runner, "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["ok"] is True
    assert BAR in result.stderr


@pytest.mark.parametrize(("var", "value"), [("CI", "true"), ("TERM", "dumb")])
def test_no_bar_in_ci_or_on_a_dumb_terminal(runner, tty, monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    result = _run(runner)
    assert result.exit_code == 0
    assert result.stderr == ""


def test_no_bar_when_quiet(runner, tty):
    result = _run(runner, "--quiet")
    assert result.exit_code == 0
    assert result.stderr == "" and result.stdout == ""


def test_no_bar_for_a_short_run(runner, tty, monkeypatch):
    monkeypatch.setattr(run_module, "PROGRESS_MACS", 10**18)
    assert _run(runner).stderr == ""


def _specs(tmp_path, n):
    for i in range(n):
        (tmp_path / f"s{i}.txt").write_text("[8x8x3] INPUT\nCONV1: 4 3x3 filters, pad 1\n")
    return str(tmp_path)


def test_check_of_many_files_shows_the_bar(runner, tty, tmp_path, monkeypatch):
    folder = _specs(tmp_path, 3)
    result = runner.invoke(cli, ["check", "--isolated", folder])
    assert result.exit_code == 0, result.output
    assert "checking" in result.stderr and "files" in result.stderr and BAR in result.stderr
    piped = _plain(runner, monkeypatch, "check", "--isolated", folder)
    assert result.stdout == piped.stdout
    assert piped.stderr == ""


def test_check_of_few_files_shows_none(runner, tty, tmp_path):
    result = runner.invoke(cli, ["check", "--isolated", _specs(tmp_path, 1)])
    assert result.exit_code == 0
    assert result.stderr == ""


def test_check_json_in_ci_has_no_bar(runner, tty, tmp_path, monkeypatch):
    monkeypatch.setenv("CI", "1")
    result = runner.invoke(cli, ["check", "--isolated", "--format", "json", _specs(tmp_path, 3)])
    assert result.exit_code == 0
    json.loads(result.stdout)
    assert BAR not in result.stderr


def test_wanted_needs_both_streams_a_terminal(monkeypatch):
    """Under pytest neither stream is a terminal: no bar, whatever the environment."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert progress.terminal() is False
    assert progress.wanted() is False
