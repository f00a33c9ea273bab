"""Exact arithmetic: every count is a Python int however large (no float anywhere), the
output-size formula over a grid of cases, and the number formatting the renderers share."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from helpers import analyze_text, spec_text

from cnncalc.cli import cli
from cnncalc.render.numbers import abbreviate, grouped
from cnncalc.shapes import arithmetic, fmt_number, out_size, smallest_fitting_pad

HUGE = 10**30


def _ints(*values):
    return all(type(v) is int for v in values)


def test_conv_with_10_to_the_30_filters():
    a = analyze_text(spec_text("4x4x1", f"CONV1: {HUGE} 3x3 filters"))
    assert a.ok, a.diagnostics
    r = a.layers[0]
    assert r.output_shape == (2, 2, HUGE)
    assert r.weights == 9 * HUGE
    assert r.biases == HUGE
    assert r.params == 10 * HUGE
    assert r.macs == 2 * 2 * HUGE * 9
    assert r.flops == 72 * HUGE
    assert r.activations == 4 * HUGE
    assert _ints(r.weights, r.biases, r.params, r.macs, r.flops, r.activations, *r.output_shape)
    t = a.totals
    assert t is not None
    assert (t.params, t.macs, t.activations) == (10 * HUGE, 36 * HUGE, 4 * HUGE)
    assert _ints(t.weights, t.biases, t.params, t.macs, t.flops, t.activations)


def test_huge_chain_stays_exact():
    """10**30 filters feeding a 1x1 conv of 10**30 + 7 filters and an FC: products of ~10**60
    that a float would round."""
    k1, k2 = HUGE, HUGE + 7
    a = analyze_text(spec_text("4x4x1", f"CONV1: {k1} 3x3 filters", f"CONV2: {k2} 1x1 filters",
                               "FC1: 3 neurons"))
    assert a.ok, a.diagnostics
    c2 = a.layers[1]
    assert c2.weights == k1 * k2
    assert c2.macs == 2 * 2 * k2 * k1
    fc = a.layers[2]
    assert fc.weights == 2 * 2 * k2 * 3
    expected = (9 * k1 + k1) + (k1 * k2 + k2) + (4 * k2 * 3 + 3)
    assert a.totals.params == expected
    assert int(float(a.totals.params)) != a.totals.params


def test_huge_input_volume():
    n = 10**12 + 1
    a = analyze_text(spec_text(f"{n}x{n}x3", "CONV1: 5 3x3 filters at stride 2"))
    assert a.ok, a.diagnostics
    side = (n - 3) // 2 + 1
    assert a.layers[0].output_shape == (side, side, 5)
    assert a.layers[0].macs == side * side * 5 * 27


def test_huge_counts_in_json(runner):
    result = runner.invoke(cli, ["show", "--format", "json", "-"],
                           input=spec_text("4x4x1", f"CONV1: {HUGE} 3x3 filters"))
    assert result.exit_code == 0, result.output
    assert f'"weights": {9 * HUGE}' in result.stdout  # written as an integer, not 9e+30
    data = json.loads(result.stdout)
    assert data["layers"][0]["macs"] == 36 * HUGE
    assert type(data["totals"]["params"]) is int
    assert data["totals"]["params"] == 10 * HUGE


def test_huge_counts_in_csv_and_markdown(runner):
    text = spec_text("4x4x1", f"CONV1: {HUGE} 3x3 filters")
    csv_out = runner.invoke(cli, ["show", "--format", "csv", "-"], input=text).stdout
    assert str(9 * HUGE) in csv_out
    md = runner.invoke(cli, ["show", "--format", "markdown", "-"], input=text).stdout
    assert f"{10 * HUGE:,}" in md


# --- the formula over a grid --------------------------------------------------------------

GRID = [(w, f, p, s) for w in (1, 2, 5, 7, 8, 13, 32) for f in (1, 2, 3, 5)
        for p in (0, 1, 2) for s in (1, 2, 3, 4)]


@pytest.mark.parametrize(("w", "f", "p", "s"), GRID)
def test_output_size_grid(w, f, p, s):
    line = f"CONV1: 1 {f}x{f} filters at stride {s}, pad {p}"
    a = analyze_text(spec_text(f"{w}x{w}x1", line))
    codes = [d.code for d in a.diagnostics]
    if w + 2 * p < f:
        assert codes == ["G102"]
    elif (w - f + 2 * p) % s:
        assert codes == ["G101"]
        exact = Fraction(w - f + 2 * p, s) + 1
        assert f"= {fmt_number(exact)}:" in a.diagnostics[0].message
    else:
        assert codes == []
        side = (w - f + 2 * p) // s + 1
        assert a.layers[0].output_shape == (side, side, 1)
        assert a.layers[0].macs == side * side * f * f


@pytest.mark.parametrize(("w", "f", "s"), [(w, f, s) for w in (1, 3, 7, 8, 32, 224)
                                           for f in (1, 3, 5, 11) for s in (1, 2, 3, 4)])
def test_smallest_fitting_pad(w, f, s):
    p = smallest_fitting_pad(w, f, s)
    fits = [q for q in range(0, f + s + 1) if w + 2 * q >= f and (w - f + 2 * q) % s == 0]
    assert p == (fits[0] if fits else None)


@pytest.mark.parametrize(("w", "f", "pad", "s", "text"), [
    (7, 3, None, 1, "(7 - 3)/1 + 1 = 5"),
    (7, 3, None, 2, "(7 - 3)/2 + 1 = 3"),
    (7, 3, None, 3, "(7 - 3)/3 + 1 = 2.33"),
    (7, 3, (1, 1), 1, "(7 - 3 + 2*1)/1 + 1 = 7"),
    (224, 11, (0, 0), 4, "(224 - 11 + 2*0)/4 + 1 = 54.25"),
    (227, 11, (0, 0), 4, "(227 - 11 + 2*0)/4 + 1 = 55"),
    (8, 3, (0, 1), 2, "(8 - 3 + 0 + 1)/2 + 1 = 4"),
    (8, 3, None, 2, "(8 - 3)/2 + 1 = 3.5"),
    (10, 3, None, 3, "(10 - 3)/3 + 1 = 3.33"),
    (11, 3, None, 3, "(11 - 3)/3 + 1 = 3.67"),
])
def test_arithmetic_text(w, f, pad, s, text):
    assert arithmetic(w, f, pad, s) == text


def test_out_size_is_exact():
    assert out_size(224, 11, 0, 4) == Fraction(217, 4)
    assert out_size(7, 3, 0, 3) == Fraction(7, 3)
    assert out_size(10**40 + 3, 3, 0, 2) == Fraction(10**40, 2) + 1


@pytest.mark.parametrize(("n", "text"), [
    (0, "0"), (999, "999"), (1000, "1.00K"), (34_944, "34.9K"), (290_400, "290K"),
    (69_984, "70.0K"), (9_995, "10.0K"), (999_499, "999K"), (999_500, "1.00M"),
    (62_378_344, "62.4M"), (1_135_256_096, "1.14G"), (15_470_264_320, "15.5G"),
    (138_357_544, "138M"), (-1500, "-1.50K"),
])
def test_abbreviate(n, text):
    assert abbreviate(n) == text


@pytest.mark.parametrize(("n", "text"), [(0, "0"), (61_706, "61,706"),
                                         (62_378_344, "62,378,344"),
                                         (10**30, "1" + ",000" * 10)])
def test_grouped(n, text):
    assert grouped(n) == text
