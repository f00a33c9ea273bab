"""The lecture's "closer look at spatial dimensions" and zero padding examples, through the
analysis (small spec texts) and through ``cnncalc conv``: N = 7, F = 3 gives 5 at stride 1 and
3 at stride 2, and does not fit at stride 3 ((7 - 3)/3 + 1 = 2.33); pad 1 keeps 7; and
F = 3, 5, 7 with pad (F - 1)/2 preserve the size."""

from __future__ import annotations

import pytest
from helpers import analyze_text, diag, spec_text

from cnncalc.cli import cli

# input, filter, stride, pad (None: not written), output side (None: does not fit)
EXAMPLES = [
    (7, 3, 1, None, 5),
    (7, 3, 2, None, 3),
    (7, 3, 3, None, None),
    (7, 3, 1, 1, 7),
    (7, 5, 1, 2, 7),
    (7, 7, 1, 3, 7),
    (32, 5, 1, None, 28),       # "32x32 input convolved with 5x5 filters shrinks" 32 -> 28
    (28, 5, 1, None, 24),       # -> 24
    (32, 3, 1, 1, 32),
    (32, 5, 1, 2, 32),
    (32, 7, 1, 3, 32),
    (227, 11, 4, 0, 55),
    (224, 11, 4, 0, None),
    (5, 5, 1, 0, 1),
]


def _conv_line(f: int, s: int, pad: int | None) -> str:
    return f"CONV1: 2 {f}x{f} filters at stride {s}" + ("" if pad is None else f", pad {pad}")


@pytest.mark.parametrize(("n", "f", "s", "pad", "out"), EXAMPLES)
def test_example_through_analysis(n, f, s, pad, out):
    a = analyze_text(spec_text(f"{n}x{n}x3", _conv_line(f, s, pad)))
    (r,) = a.layers
    if out is None:
        assert not a.ok
        assert r.status == "error"
        assert r.output_shape is None
        assert a.totals is None
        diag(a, "G101")
    else:
        assert a.ok, a.diagnostics
        assert r.output_shape == (out, out, 2)
        assert r.weights == f * f * 3 * 2
        assert r.macs == out * out * 2 * f * f * 3


def test_stride_3_does_not_fit_message():
    a = analyze_text(spec_text("7x7x3", _conv_line(3, 3, None)))
    d = diag(a, "G101")
    assert "(7 - 3)/3 + 1 = 2.33" in d.message
    assert "does not fit" in d.message
    assert "7-wide input" in d.message
    # the hint offers what the lecture's examples show does fit
    assert "pad 1 fits" in d.hint
    assert "stride 2 fits (output 3)" in d.hint


@pytest.mark.parametrize("f", [1, 3, 5, 7, 9, 11])
@pytest.mark.parametrize("n", [7, 13, 32, 56])
def test_pad_half_filter_preserves_size(n, f):
    """Stride 1 with pad (F - 1)/2 keeps W for every odd F."""
    a = analyze_text(spec_text(f"{n}x{n}x4", _conv_line(f, 1, (f - 1) // 2)))
    assert a.ok, a.diagnostics
    assert a.layers[0].output_shape == (n, n, 2)


# --- the same through `cnncalc conv` ---------------------------------------------------------

@pytest.mark.parametrize(("args", "exit_code", "lines"), [
    (["7", "3"], 0, ["(7 - 3)/1 + 1 = 5", "output 5x5"]),
    (["7", "3", "--stride", "1"], 0, ["(7 - 3)/1 + 1 = 5", "output 5x5"]),
    (["7", "3", "--stride", "2"], 0, ["(7 - 3)/2 + 1 = 3", "output 3x3"]),
    (["7", "3", "-s", "2"], 0, ["(7 - 3)/2 + 1 = 3", "output 3x3"]),
    (["7", "3", "--pad", "1"], 0, ["(7 - 3 + 2*1)/1 + 1 = 7", "output 7x7"]),
    (["7", "5", "--pad", "2"], 0, ["(7 - 5 + 2*2)/1 + 1 = 7", "output 7x7"]),
    (["7", "7", "--pad", "3"], 0, ["(7 - 7 + 2*3)/1 + 1 = 7", "output 7x7"]),
    (["7x7", "3x3", "-s", "1", "-p", "1"], 0, ["(7 - 3 + 2*1)/1 + 1 = 7", "output 7x7"]),
    (["7", "3", "--pool", "-s", "2"], 0, ["(7 - 3)/2 + 1 = 3", "output 3x3"]),
])
def test_conv_command_fits(runner, args, exit_code, lines):
    result = runner.invoke(cli, ["conv", *args])
    assert result.exit_code == exit_code, result.output
    assert result.stdout.splitlines()[:len(lines)] == lines
    assert result.stderr == ""


def test_conv_command_stride_3_does_not_fit(runner):
    result = runner.invoke(cli, ["conv", "7", "3", "--stride", "3"])
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith("(7 - 3)/3 + 1 = 2.33")
    assert "does not fit a 7-wide input" in first
    assert "2.33" in result.stdout
    assert not any(line.startswith("output") for line in result.stdout.splitlines())
    assert any(line.startswith("hint: ") for line in result.stdout.splitlines())


@pytest.mark.parametrize("f", [3, 5, 7])
def test_conv_command_pad_half_filter(runner, f):
    result = runner.invoke(cli, ["conv", "7", str(f), "--pad", str((f - 1) // 2)])
    assert result.exit_code == 0
    assert "output 7x7" in result.stdout.splitlines()


def test_conv_command_alexnet_conv1_counts(runner):
    result = runner.invoke(cli, ["conv", "227x227x3", "11", "-s", "4", "-k", "96"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "(227 - 11)/4 + 1 = 55",
        "output 55x55x96",
        "weights 34,848 (11*11*3*96), biases 96, params 34,944",
        "MACs 105,415,200 (55*55*96 outputs x 11*11*3), FLOPs 210,830,400",
    ]


def test_conv_command_alexnet_at_224(runner):
    result = runner.invoke(cli, ["conv", "224x224x3", "11", "-s", "4", "-k", "96", "-p", "0"])
    assert result.exit_code == 1
    assert "(224 - 11 + 2*0)/4 + 1 = 54.25" in result.stdout
    assert "227" in result.stdout


@pytest.mark.parametrize(("args", "out"), [
    (["7", "3", "-s", "3", "-p", "?"], "output 3x3"),       # pad ? -> 1: (7 - 3 + 2)/3 + 1 = 3
    (["32", "5", "-p", "?"], "output 28x28"),               # pad ? -> 0
])
def test_conv_command_solves_pad(runner, args, out):
    result = runner.invoke(cli, ["conv", *args])
    assert result.exit_code == 0, result.output
    assert out in result.stdout.splitlines()
    assert "pad ? solved as pad" in result.stdout


def test_conv_command_non_square(runner):
    result = runner.invoke(cli, ["conv", "7x9x3", "3x5", "-s", "2x1", "-p", "1x2", "-k", "4"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "height: (7 - 3 + 2*1)/2 + 1 = 4",
        "width: (9 - 5 + 2*2)/1 + 1 = 9",
        "output 4x9x4",
        "weights 180 (3*5*3*4), biases 4, params 184",
        "MACs 6,480 (4*9*4 outputs x 3*5*3), FLOPs 12,960",
    ]


@pytest.mark.parametrize("args", [
    ["8", "3", "-s", "2", "-p", "?"],     # no padding fits: 8 - 3 + 2P is always odd
    ["7", "9"],                            # filter larger than the input
])
def test_conv_command_no_output(runner, args):
    result = runner.invoke(cli, ["conv", *args])
    assert result.exit_code == 1
    assert "does not fit" in result.stdout
    assert "\noutput" not in result.stdout


@pytest.mark.parametrize("args", [
    ["abc", "3"], ["7", "x"], ["0", "3"], ["7", "0"], ["7", "3", "-s", "0"],
    ["7", "3", "-p", "-1"], ["7", "3", "-k", "0"], ["7x7x7x7", "3"], ["7", "3x3x3"],
])
def test_conv_command_usage_errors(runner, args):
    result = runner.invoke(cli, ["conv", *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Error" in result.stderr
