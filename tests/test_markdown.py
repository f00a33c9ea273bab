"""Specs in Markdown (issue 14, part 8): lecture lines with list markers, ``.md`` files read
from their fenced blocks with the file's line numbers, ``--block N``, and ``check`` reading
Markdown where the configuration includes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import analyze_text

from cnncalc.cli import cli
from cnncalc.parse import parse_text
from cnncalc.parse.lecture import unlisted
from cnncalc.parse.markdown import fenced_blocks, spec_text

DESIGN = """\
# A small classifier

The input is a 32x32 RGB image; `[8x8x1] INPUT` in prose is not read.

```
[32x32x3] INPUT
CONV1: 16 3x3 filters at stride 1, pad 1
```

Then pooling and the classifier (a list in prose is not read either):

- CONV9: 1 1x1 filters

~~~text
POOL1: 2x2 filters at stride 2
FC: 10 neurons
~~~
"""

TWO = """\
Network A:

```cnncalc
[32x32x3] INPUT
CONV1: 8 3x3 filters at stride 1, pad 1
```

Some Python that is not the network:

```python
model = Net()
```

Network B:

```cnncalc
[16x16x1] INPUT
FC: 10 neurons
```
"""


@pytest.mark.parametrize(("line", "read"), [
    ("- CONV1: 16 3x3 filters", "  CONV1: 16 3x3 filters"),
    ("  * [55x55x96] CONV1: 96 11x11 filters", "    [55x55x96] CONV1: 96 11x11 filters"),
    ("+ RELU1", "  RELU1"),
    ("1. FC6: 4096 neurons", "   FC6: 4096 neurons"),
    ("12) FC7: 4096 neurons", "    FC7: 4096 neurons"),
    ("CONV1: 16 3x3 filters", "CONV1: 16 3x3 filters"),  # no marker
    ("-CONV1", "-CONV1"),  # a marker is followed by a blank
    ("- ", "- "),  # and by text
    ("224x224x3", "224x224x3"),
])
def test_a_list_marker_is_read_as_blanks(line: str, read: str) -> None:
    assert unlisted(line) == read


def test_a_spec_pasted_as_a_list_reads_as_the_lecture_with_its_columns() -> None:
    listed = ("- [32x32x3] INPUT\n- CONV1: 16 3x3 filters at stride 1, pad 1\n"
              "* POOL1: 2x2 filters at stride 2\n1. FC: 10 neurons\n")
    plain = "[32x32x3] INPUT\nCONV1: 16 3x3 filters at stride 1, pad 1\n" \
            "POOL1: 2x2 filters at stride 2\nFC: 10 neurons\n"
    a, b = analyze_text(listed), analyze_text(plain)
    assert a.totals == b.totals and a.totals is not None
    assert a.totals.params == 16 * 27 + 16 + 16 * 16 * 16 * 10 + 10  # 41,418
    (d,) = analyze_text("- [32x32x3] INPUT\n- CONV1: 16 3x3 filters at stride 3, pad 1\n"
                        ).diagnostics
    assert (d.code, d.span.line, d.span.col) == ("G101", 2, 13)  # the line's own column


def test_fenced_blocks_and_their_info_words() -> None:
    lines = DESIGN.split("\n")
    assert fenced_blocks(lines) == [(5, 7, ""), (14, 16, "text")]  # 0-based, end exclusive


def test_a_markdown_file_is_read_from_its_blocks_with_its_line_numbers() -> None:
    spec = parse_text(DESIGN, "design.md")
    assert [layer.name for layer in spec.layers] == ["CONV1", "POOL1", "FC"]
    assert spec.input == (32, 32, 3) and spec.input_span is not None
    assert spec.input_span.line == 6
    assert spec.layers[1].span.line == 15  # POOL1, on the file's line 15
    unfit = DESIGN.replace("2x2 filters at stride 2", "3x3 filters at stride 2")  # 15.5
    broken = parse_text(unfit, "design.md")
    a = analyze_text(unfit, "design.md")
    assert broken.layers[1].span.line == 15
    (d,) = a.diagnostics
    assert (d.code, d.span.path, d.span.line) == ("G101", "design.md", 15)


def test_blocks_tagged_cnncalc_are_the_ones_read_and_block_picks_one() -> None:
    text, problems = spec_text(TWO, "two.md")
    assert problems == [] and "model = Net()" not in text
    assert text.count("\n") == TWO.count("\n")  # line numbers kept
    both = parse_text(TWO, "two.md")
    assert [d.code for d in both.diagnostics] == ["P005"]  # two INPUT lines: two networks
    second = parse_text(TWO, "two.md", block=2)
    assert second.input == (16, 16, 1) and [x.name for x in second.layers] == ["FC"]
    assert second.input_span is not None and second.input_span.line == 17
    (d,) = parse_text(TWO, "two.md", block=3).diagnostics
    assert d.code == "P018" and d.message == "--block 3: the document has 2 `cnncalc` blocks"


def test_a_document_without_blocks_is_read_as_it_is() -> None:
    spec = parse_text("[8x8x3] INPUT\nCONV1: 4 3x3 filters\n", "notes.md")
    assert spec.input == (8, 8, 3) and len(spec.layers) == 1


def test_show_reads_markdown_and_block(tmp_path: Path) -> None:
    path = tmp_path / "two.md"
    path.write_text(TWO, encoding="utf-8")
    runner = CliRunner()
    one = runner.invoke(cli, ["show", "--format", "json", "--block", "1", str(path)])
    assert one.exit_code == 0, one.output
    assert json.loads(one.stdout)["totals"]["params"] == 8 * 27 + 8  # 224
    bad = runner.invoke(cli, ["show", "--block", "5", str(path)])
    assert bad.exit_code == 1 and "P018" in bad.stderr
    piped = runner.invoke(cli, ["show", "--format", "json", "--block", "2", "-"], input=TWO)
    assert json.loads(piped.stdout)["totals"]["params"] == 16 * 16 * 10 + 10


def test_check_reads_markdown_where_the_config_includes_it(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "design.md").write_text(
        DESIGN.replace("2x2 filters at stride 2", "3x3 filters at stride 2"), encoding="utf-8")
    (tmp_path / "README.md").write_text("# A project\n\nNo network here.\n", encoding="utf-8")
    runner = CliRunner()
    plain = runner.invoke(cli, ["check", "--format", "concise"])
    assert "design.md" not in plain.stdout  # Markdown is not read unless asked for
    (tmp_path / "pyproject.toml").write_text(
        '[tool.cnncalc]\nextend-include = ["docs/*.md"]\n', encoding="utf-8")
    found = runner.invoke(cli, ["check", "--format", "concise"])
    assert found.exit_code == 1
    assert found.stdout.splitlines()[0].startswith("docs/design.md:15:")
    assert "G101" in found.stdout.splitlines()[0]
