"""The README's `$ cnncalc show ...` examples are what cnncalc prints: each such code block is
the command and its standard output, compared line by line (trailing blanks aside)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc.cli import cli

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"```\n\$ (cnncalc show [^\n]*)\n(.*?)```", re.DOTALL)
# whole outputs only: not a pipe's, nor one the README abridges with a `...` line
EXAMPLES = [(command, shown) for command, shown in BLOCK.findall(
    (ROOT / "README.md").read_text(encoding="utf-8"))
    if "|" not in command and "\n...\n" not in "\n" + shown]


def test_the_readme_has_show_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize(("command", "shown"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_readme_example_is_what_cnncalc_prints(monkeypatch: pytest.MonkeyPatch, command: str,
                                              shown: str) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, shlex.split(command)[1:])
    printed = [line.rstrip() for line in result.stdout.rstrip("\n").split("\n")]
    assert printed == [line.rstrip() for line in shown.rstrip("\n").split("\n")]


def test_the_readme_lists_every_rule_as_cnncalc_rules_does() -> None:
    """The README's table of diagnostic codes is the rules table itself (one copy)."""
    from cnncalc.diagnostics import RULES

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    head = "| code | name | severity | meaning |\n|---|---|---|---|\n"
    start = text.index(head, text.index("## Diagnostic codes")) + len(head)
    table = text[start:text.index("\n\n", start)].split("\n")
    assert table == [f"| {r.code} | {r.name} | {r.severity.value} | "
                     f"{r.summary.replace('|', chr(92) + '|')} |" for r in RULES.values()]
