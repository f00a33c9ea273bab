"""How much one spec may ask for (issue 11 item 4): at most --max-layers layers and problems
(P012, reading stops there and the totals are withheld) and --max-file-size bytes (P013, the
file is not read beyond the limit; Keras and PyTorch text is refused above a sixteenth of it),
in every notation and command, from flags and from [tool.cnncalc]."""

from __future__ import annotations

from pathlib import Path

import pytest
from adversarial.util import within
from click.testing import CliRunner

from cnncalc.analyze import analyze
from cnncalc.cli import cli
from cnncalc.parse import parse_text
from cnncalc.parse.bounds import CODE_SHARE, MAX_FILE_SIZE, MAX_LAYERS

PT = "# cnncalc: input 8x8x3\n"
KERAS = "model = Sequential()\nmodel.add(Input(shape=(8, 8, 3)))\n"

# (notation, text, line of the P012, layers read before it, name of the layer that stands
# for the rest), at a cap of 3
CAPPED = [
    ("lecture", "[8x8x3] INPUT\n" + "".join(f"RELU{i}\n" for i in range(1, 7)), 5, 3, "RELU4"),
    ("lecture", "[8x8x3] INPUT\n# a comment\n\nRELU1\nRELU2\nbogus\nRELU3\n", 7, 3, "RELU3"),
    ("vgg", "INPUT: [8x8x3]\n" + "conv3-3\n" * 6, 5, 3, "conv3-3"),
    ("keras", KERAS + "model.add(ReLU())\n" * 6, 6, 3, "re_lu_3"),
    ("keras", "model = Sequential([Input(shape=(8, 8, 3)), " + "ReLU(), " * 6 + "])\n", 1, 3,
     "re_lu_3"),
    ("keras", KERAS + "model.add(SeparableConv2D(3, 3, padding='same'))\n" * 2, 4, 3,
     "separable_conv2d_1/pointwise"),
    ("pytorch", PT + "nn.ReLU()\n" * 6, 5, 3, "3"),
    # a repeat over the cap is refused before it is expanded
    ("pytorch", PT + "Net(\n  (0-4): 5 x ReLU()\n)\n", 3, 0, "0-4"),
    # a repeated block is read once; its copies are refused
    ("pytorch", PT + "Net(\n  (0-1): 2 x Sequential(\n    (0): ReLU()\n    (1): ReLU()\n  )\n)\n",
     3, 2, "1"),
]


@pytest.mark.parametrize(("notation", "text", "line", "kept", "rest"), CAPPED)
def test_reading_stops_at_the_layer_cap(notation: str, text: str, line: int, kept: int,
                                        rest: str) -> None:
    a = analyze(parse_text(text, "t.txt", notation, max_layers=3))
    assert [(d.code, d.span.line) for d in a.diagnostics if d.code == "P012"] == [("P012", line)]
    assert len(a.layers) == kept + 1 and a.layers[-1].layer.kind == "unparsed"
    assert a.layers[-1].layer.name == rest
    assert a.totals is None  # the list was cut: no totals


@pytest.mark.parametrize(("notation", "text"), [
    ("lecture", "[8x8x3] INPUT\nRELU1\nRELU2\nRELU3\n"),
    ("pytorch", PT + "Net(\n  (0-2): 3 x ReLU()\n)\n"),
    ("keras", KERAS + "model.add(ReLU())\n" * 3),
    ("vgg", "INPUT: [8x8x3]\n" + "relu\n" * 3),
])
def test_exactly_the_cap_is_read(notation: str, text: str) -> None:
    a = analyze(parse_text(text, "t.txt", notation, max_layers=3))
    assert a.ok and len(a.layers) == 3 and a.totals is not None


def test_a_pytorch_repeat_over_the_cap_is_not_expanded() -> None:
    """The 1.5 KB of nested repeats that made 3,000,000 layers: refused before any copy."""
    block = "  (0-99999): 100000 x ReLU()\n"
    text = PT + "Net(\n" + block * 30 + ")\n"
    with within(20):
        a = analyze(parse_text(text, "t.txt", "pytorch"))
    # `Net`'s forward() is not known: what was read of it rests on the order printed (P014)
    assert [(d.code, d.span.line) for d in a.diagnostics] == [("P014", 2), ("P012", 4)]
    assert len(a.layers) == MAX_LAYERS + 1 and a.totals is None


def test_unreadable_repeated_calls_count_once() -> None:
    """A repeated call that cannot be read makes one layer, so it does not count its copies."""
    text = PT + "Net(\n" + "  (0-9): 10 x Bogus()\n" * 5 + ")\n"
    a = analyze(parse_text(text, "t.txt", "pytorch", max_layers=20))
    assert not any(d.code == "P012" for d in a.diagnostics)
    assert len(a.layers) == 5


@pytest.mark.parametrize(("notation", "text"), [
    ("lecture", "[8x8x3] INPUT\n" * 6),  # each a second INPUT: a problem, no layer
    ("pytorch", PT + ")\n" * 6),  # stray `)`: a problem, no layer
    ("keras", "exec(s)\n" * 6),  # a call that runs code: a problem, no layer
])
def test_reading_stops_at_as_many_problems(notation: str, text: str) -> None:
    a = analyze(parse_text(text, "t.txt", notation, max_layers=3))
    p012 = [d for d in a.diagnostics if d.code == "P012"]
    assert len(p012) == 1 and "more than 3 problems" in p012[0].message


def test_a_long_line_of_repeated_problems_is_one_problem() -> None:
    a = analyze(parse_text(PT + ")" * 50 + "\n", "t.txt", "pytorch"))
    assert [(d.code, d.message) for d in a.diagnostics] == [
        ("P001", "a `)` with no `(` to close (and 49 more like it on this line)")]


# ---- the file size --------------------------------------------------------------------------

@pytest.mark.parametrize(("notation", "share"), [("keras", True), ("pytorch", True),
                                                 ("lecture", False), ("vgg", False)])
def test_code_notations_have_a_sixteenth_of_the_limit(notation: str, share: bool) -> None:
    limit = 16 * 1024
    body = {"keras": "model.add(ReLU())\n", "pytorch": "nn.ReLU()\n", "lecture": "RELU1\n",
            "vgg": "relu\n"}[notation]
    text = "# cnncalc: input 8x8x3\n" + body * (2000 // len(body))  # about 2,000 bytes
    spec = parse_text(text, "t.txt", notation, max_file_size=limit)
    codes = [d.code for d in spec.diagnostics]
    assert ("P013" in codes) is share
    if share:
        assert spec.layers == () and f"longer than {limit // CODE_SHARE:,} bytes" in \
            spec.diagnostics[0].message
        assert not parse_text(text, "t.txt", notation, max_file_size=limit * 2).diagnostics


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", [["show"], ["run", "--quiet"], ["check", "--isolated"]])
def test_every_command_refuses_a_file_over_the_limit(command: list[str], tmp_path: Path) -> None:
    spec = tmp_path / "big.txt"
    spec.write_text("[8x8x3] INPUT\n" + "RELU1\n" * 100, encoding="utf-8")
    code, out, err = run(*command, "--max-file-size", "100B", str(spec))
    assert code == 1
    assert f"{spec}:1:1: " in out + err and "P013" in out + err
    assert "longer than 100 bytes" in out + err
    code, out, err = run(*command, "--max-file-size", "1KiB", str(spec))
    assert "P013" not in out + err


@pytest.mark.parametrize("command", [["show"], ["run", "--quiet"], ["check", "--isolated"]])
def test_every_command_takes_the_layer_cap(command: list[str], tmp_path: Path) -> None:
    spec = tmp_path / "deep.txt"
    spec.write_text("[8x8x3] INPUT\n" + "RELU1\n" * 5, encoding="utf-8")
    code, out, err = run(*command, "--max-layers", "4", str(spec))
    assert code == 1 and "P012" in out + err
    assert "more than 4 layers in the file" in out + err
    assert run(*command, "--max-layers", "5", str(spec))[0] == 0


def test_standard_input_is_not_read_beyond_the_limit() -> None:
    code, _, err = run("show", "--max-file-size", "10B", "-", stdin="[8x8x3] INPUT\nRELU1\n")
    assert code == 1 and "<stdin>:1:1: error: the file is longer than 10 bytes" in err


def test_an_endless_file_is_refused_quickly() -> None:
    """/dev/zero never ends: it is read up to the limit and refused."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    with within(20):
        code, _, err = run("show", "/dev/zero")
    assert code == 1 and f"longer than {MAX_FILE_SIZE:,} bytes" in err


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--max-layers", "0", "0 is not in the range x>=1"),
    ("--max-file-size", "8M", "say which bytes"),
    ("--max-file-size", "0", "at least 1 byte"),
])
def test_bad_limits_are_usage_errors(flag: str, value: str, message: str) -> None:
    code, _, err = run("show", flag, value, "specs/alexnet.txt")
    assert code == 2 and message in err


def config_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str,
                 *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(f"[tool.cnncalc]\n{body}\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("[8x8x3] INPUT\n" + "RELU1\n" * 5, encoding="utf-8")
    return run("check", "--output-format", "concise", *args, "a.txt")


@pytest.mark.parametrize(("body", "args", "code", "found"), [
    ("max-layers = 4", (), 1, "a.txt:6:1: P012 more than 4 layers"),
    ("max-layers = 4", ("--max-layers", "5"), 0, "All checks passed"),  # the flag wins
    ('max-file-size = "40B"', (), 1, "a.txt:1:1: P013 the file is longer than 40 bytes"),
    ('max-file-size = "40B"', ("--max-file-size", "1KiB"), 0, "All checks passed"),
    ("max-file-size = 1000", (), 0, "All checks passed"),
])
def test_limits_in_the_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str,
                                     args: tuple[str, ...], code: int, found: str) -> None:
    got, out, err = config_check(tmp_path, monkeypatch, body, *args)
    assert got == code, out + err
    assert found in out


@pytest.mark.parametrize(("body", "message"), [
    ("max-layers = 0", "tool.cnncalc.max-layers: 0 is not 1 or more"),
    ('max-layers = "many"', "tool.cnncalc.max-layers: 'many' is not a whole number"),
    ('max-file-size = "8M"', "tool.cnncalc.max-file-size: '8M': say which bytes"),
    ("max-file-size = 0", "tool.cnncalc.max-file-size: 0 is not 1 byte or more"),
])
def test_bad_limits_in_the_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         body: str, message: str) -> None:
    code, _, err = config_check(tmp_path, monkeypatch, body)
    assert code == 2 and message in err
