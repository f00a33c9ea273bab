"""Golden files for the rendered output of shipped specs: the table at width 80 without colour,
the markdown table, and the diagnostics on stderr. Regenerate them after an intended change
with ``CNNCALC_REGEN_GOLDEN=1 python -m pytest tests/test_golden.py`` (or ``--regen-golden``)
and review the diff."""

from __future__ import annotations

from io import StringIO

import pytest
from helpers import GOLDEN, analyze_spec

from cnncalc.cli import cli
from cnncalc.render.table import print_table

# spec, expected exit code
SPECS = [("alexnet", 0), ("lenet5", 0), ("alexnet224", 1)]
FORMATS = {"table": ["--width", "80"], "markdown": ["--format", "markdown"]}


def _compare(name: str, actual: str, regen: bool) -> None:
    path = GOLDEN / name
    if regen:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
    assert path.exists(), f"{path} is missing: run with CNNCALC_REGEN_GOLDEN=1 to create it"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{name} differs from the golden file; if the change is intended, rerun with "
        "CNNCALC_REGEN_GOLDEN=1 and review the diff")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize(("spec", "exit_code"), SPECS)
def test_golden_cli(runner, regen_golden, spec, exit_code, fmt):
    result = runner.invoke(cli, ["show", *FORMATS[fmt], f"specs/{spec}.txt"])
    assert result.exit_code == exit_code, result.output
    assert "\x1b[" not in result.stdout and "\x1b[" not in result.stderr  # no colour
    ext = "txt" if fmt == "table" else "md"
    _compare(f"{spec}.{fmt}.{ext}", result.stdout, regen_golden)
    if exit_code == 0:
        assert result.stderr == ""
    else:
        assert "[G101 filter-does-not-fit]" in result.stderr
        _compare(f"{spec}.{fmt}.stderr.txt", result.stderr, regen_golden)


@pytest.mark.parametrize(("spec", "exit_code"), SPECS)
def test_table_fits_80_columns(runner, spec, exit_code):
    result = runner.invoke(cli, ["show", "--width", "80", f"specs/{spec}.txt"])
    assert result.exit_code == exit_code
    lines = result.stdout.splitlines()
    assert len(lines) > 5
    too_wide = [line for line in lines if len(line) > 80]
    assert too_wide == []


@pytest.mark.parametrize("spec", ["alexnet", "lenet5", "alexnet224"])
def test_print_table_matches_cli_golden(spec):
    """print_table(..., width=80, color=False) is what `show --width 80` prints."""
    buf = StringIO()
    print_table(analyze_spec(f"{spec}.txt"), file=buf, width=80, color=False)
    text = buf.getvalue()
    assert "\x1b[" not in text
    assert all(len(line) <= 80 for line in text.splitlines())
    assert text == (GOLDEN / f"{spec}.table.txt").read_text(encoding="utf-8")


def test_golden_table_content():
    """The golden table itself says what the slide says (guards against blessing a bad run)."""
    table = (GOLDEN / "alexnet.table.txt").read_text(encoding="utf-8")
    for text in ("CONV1", "11x11 s4 p0", "227x227x3", "55x55x96", "34.9K", "105M", "FC6",
                 "6x6x256", "37.8M", "62.4M", "1.14G", "62,378,344 params",
                 "1,135,256,096 MACs"):
        assert text in table, text
    md = (GOLDEN / "lenet5.markdown.md").read_text(encoding="utf-8")
    assert "**61,706**" in md
    err = (GOLDEN / "alexnet224.table.stderr.txt").read_text(encoding="utf-8")
    assert "specs/alexnet224.txt:6:22: error: (224 - 11 + 2*0)/4 + 1 = 54.25" in err
    assert "227" in err.split("hint:")[1]
    table224 = (GOLDEN / "alexnet224.table.txt").read_text(encoding="utf-8")
    assert table224.count("not computed") == 12
