"""Fixtures: a CliRunner run from the repository root with an environment that cannot change
rich's output, and the golden-file regeneration switch (``--regen-golden`` or
``CNNCALC_REGEN_GOLDEN=1``)."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from helpers import ROOT

# Variables that make rich or click colour, resize or otherwise restyle their output.
_STYLE_VARS = ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "LINES",
               "JUPYTER_COLUMNS", "JUPYTER_LINES", "CLICOLOR_FORCE", "TERM")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regen-golden", action="store_true", default=False,
                     help="rewrite tests/golden/* from the current output instead of comparing")


@pytest.fixture
def regen_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--regen-golden")) or \
        os.environ.get("CNNCALC_REGEN_GOLDEN", "") not in ("", "0")


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in _STYLE_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CliRunner whose working directory is the repository root, so that ``specs/x.txt``
    resolves and is shown as such in diagnostics."""
    monkeypatch.chdir(ROOT)
    return CliRunner()
