"""Exact arithmetic everywhere (issue 11, item 5): every figure that is printed, compared or
rounded is an int or a Fraction, never a float; figures past 4,200 digits are refused (G108)
instead of crashing a renderer; absurd flags are usage errors (exit 2)."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from click.testing import CliRunner
from helpers import analyze_text

from cnncalc.cli import cli
from cnncalc.render.common import plain, receptive_field
from cnncalc.render.memory import human_bytes
from cnncalc.shapes import fixed, fmt_fraction, fmt_number

FORMATS = ("table", "json", "csv", "markdown", "spec")
D400 = "1" + "0" * 399  # a 400-digit size: (D400 - 2)/3 + 1 is not whole
D310 = "9" * 310
D3000 = "9" * 3000


def _show(text: str, *args: str) -> list[tuple[int, str, str]]:
    runner = CliRunner()
    out = []
    for fmt in FORMATS:
        r = runner.invoke(cli, ["show", "--format", fmt, *args, "-"], input=text)
        assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
        assert "internal error" not in r.stderr
        out.append((r.exit_code, r.stdout, r.stderr))
    return out


@pytest.mark.parametrize(("text", "code", "exit_code"), [
    # a 400-digit input size that does not divide: the message's 2 decimals, exactly
    (f"[{D400}x{D400}x3] INPUT\nCONV1: 8 2x2 filters at stride 3\n", "G101", 1),
    # a 310-digit pad (float() of it once overflowed in the message)
    (f"[8x8x3] INPUT\nCONV1: 8 3x3 filters at stride 2, pad {D310}\n", "G101", 1),
    # 3,000-digit sizes: 9,000-digit figures are refused, not printed
    (f"[{D3000}x{D3000}x{D3000}] INPUT\nCONV1: {D3000} 1x1 filters\n", "G108", 1),
    (f"[8x8x3] INPUT\nFC1: 1{'0' * 4250} neurons\n", "G108", 1),
    # a receptive field past the limit: the jump is the product of the strides
    ("ROUNDING floor\n[1x1x1] INPUT\n"
     + f"ZEROPAD: 1{'0' * 100}\nMAX POOL: 1x1 filters at stride 1{'0' * 100}\n" * 43,
     "G108", 1),
    # 4,100-digit sizes compute, and every format prints them in full
    (f"[1x1x1{'0' * 4100}] INPUT\nFC1: 2 neurons\n", "", 0),
])
def test_huge_numbers_are_refused_or_printed_never_crash(text: str, code: str,
                                                         exit_code: int) -> None:
    shown = _show(text)
    for got, _, stderr in shown:
        assert got == exit_code, stderr[:300]
    data = json.loads(shown[1][1])
    if code:
        assert f"[{code} " in shown[0][2]
        assert code in {d["code"] for d in data["diagnostics"]}
    else:
        assert data["totals"]["weights"] == 2 * 10**4100


def test_the_message_shows_exact_decimals_of_a_huge_fraction() -> None:
    a = analyze_text(f"[{D400}x{D400}x3] INPUT\nCONV1: 8 2x2 filters at stride 3\n")
    assert a.diagnostics[0].message.startswith(f"({D400} - 2)/3 + 1 = 3333")
    assert a.diagnostics[0].message.split(" = ")[1].split(":")[0].endswith(".67")


@pytest.mark.parametrize(("x", "decimals", "text"), [
    (Fraction(217, 4), 2, "54.25"), (Fraction(7, 3), 2, "2.33"), (Fraction(2, 3), 2, "0.67"),
    (Fraction(-7, 3), 2, "-2.33"), (Fraction(1, 8), 2, "0.13"), (Fraction(5, 2), 0, "3"),
    (Fraction(10**400 + 1, 4), 2, str(10**400 // 4) + ".25"),
])
def test_fixed_rounds_half_up_exactly(x: Fraction, decimals: int, text: str) -> None:
    assert fixed(x, decimals) == text


@pytest.mark.parametrize(("x", "number", "fraction"), [
    (Fraction(217, 4), "54.25", "54.25"), (Fraction(7, 3), "2.33", "7/3"),
    (Fraction(1995, 1000), "1.995", "1.995"), (Fraction(1, 1024), "0.001", "0.0009765625"),
    (Fraction(6, 3), "2", "2"), (7, "7", "7"), (Fraction(-1, 3), "-0.33", "-1/3"),
])
def test_number_formats(x: Fraction | int, number: str, fraction: str) -> None:
    assert fmt_number(x) == number
    assert fmt_fraction(x) == fraction


@pytest.mark.parametrize(("n", "text"), [
    (0, "0 B"), (1023, "1023 B"), (1024, "1 KiB"), (1536, "1.5 KiB"), (3_579_904, "3.41 MiB"),
    (10234, "9.99 KiB"), (10235, "10 KiB"), (1023 * 1024, "1023 KiB"), (1048575, "1 MiB"),
    (66_782_784, "63.7 MiB"), (3 * 2**90, "3,072 YiB"), (10**40, "8,271,806,125,530,276 YiB"),
    (10**4200 * 8, None),
])
def test_human_bytes_is_exact_for_any_int(n: int, text: str | None) -> None:
    shown = human_bytes(n)
    if text is not None:
        assert shown == text
    else:
        assert shown.endswith(" YiB")


def test_fractional_receptive_fields_are_exact_text_not_floats() -> None:
    """A stride-2 transposed conv halves the jump: the figures stay exact."""
    a = analyze_text("[4x4x1] INPUT\nDECONV1: 1 3x3 filters at stride 2, pad 1, output padding 1\n"
                     "DECONV2: 1 3x3 filters at stride 3, pad 1\n")
    assert a.ok, a.diagnostics
    r = a.layers[1]
    assert r.field is not None
    assert r.field.jump == (Fraction(1, 6), Fraction(1, 6))
    assert [plain(v) for v in r.field.jump] == ["1/6", "1/6"]
    assert receptive_field(a.layers[0]) == "2"
    runner = CliRunner()
    data = json.loads(runner.invoke(cli, ["show", "--format", "json", "-"], input=(
        "[4x4x1] INPUT\nDECONV1: 1 3x3 filters at stride 2, pad 1, output padding 1\n"
        "DECONV2: 1 3x3 filters at stride 3, pad 1\n")).stdout)
    assert data["layers"][1]["jump"] == ["1/6", "1/6"]
    assert all(type(v) in (int, str) for x in data["layers"] for v in x["receptive_field"])


@pytest.mark.parametrize("args", [
    ["show", "--batch", str(10**9 + 1), "specs/lenet5.txt"],
    ["run", "--batch", str(10**9 + 1), "specs/lenet5.txt"],
    ["run", "--seed", str(2**64), "specs/lenet5.txt"],
    ["show", "--define", f"n={'9' * 5000}", "specs/lenet5.txt"],
    ["show", "--input", f"{'9' * 5000}x8x3", "specs/lenet5.txt"],
])
def test_absurd_flags_are_usage_errors(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output


def test_a_dropout_rate_is_exact_in_every_notation() -> None:
    a = analyze_text("[4x4x1] INPUT\nDROPOUT 0.99999999999999999\n")
    assert a.ok and a.layers[0].layer.p == Fraction(99999999999999999, 10**17)
    keras = analyze_text("model = Sequential()\nmodel.add(Dense(4, input_shape=(8,)))\n"
                         "model.add(Dropout(0.1))\n", "k.py")
    assert keras.layers[1].layer.p == Fraction(1, 10)  # a tenth, not the binary 0.1
    bad = analyze_text("model = Sequential()\nmodel.add(Dense(4, input_shape=(8,)))\n"
                       "model.add(Dropout(1e400))\n", "k.py")
    assert [d.code for d in bad.diagnostics] == ["P010"]
