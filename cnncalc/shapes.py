"""The output-size formula, written once, and everything said about it when it fails.

Per axis, a window of F cells sliding at stride S over an input W cells wide, padded by P on
each side, gives ``(W - F + 2P)/S + 1`` outputs (the lecture's formula). With padding
(before, after) the ``2P`` is their sum. The result is kept as an exact Fraction so that a
layer that does not fit is reported with the lecture's own arithmetic (``= 54.25``) rather
than silently floored.
"""

from __future__ import annotations

import math
from fractions import Fraction

from cnncalc.records import record


def out_size(w: int, f: int, pad_total: int, s: int) -> int | Fraction:
    """``(W - F + 2P)/S + 1``, exactly: an int when whole, else a Fraction."""
    steps, rest = divmod(w - f + pad_total, s)
    return steps + 1 if rest == 0 else Fraction(w - f + pad_total, s) + 1


def fixed(x: Fraction, decimals: int) -> str:
    """``x`` to ``decimals`` places, rounded half up on the exact value (no float, so no
    overflow and no binary rounding): ``fixed(Fraction(217, 4), 2)`` -> ``54.25``."""
    sign = "-" if x < 0 else ""
    num, den = abs(x.numerator), x.denominator
    q = (2 * num * 10**decimals + den) // (2 * den)
    if not decimals:
        return f"{sign}{q}"
    whole, frac = divmod(q, 10**decimals)
    return f"{sign}{whole}.{frac:0{decimals}d}"


def fmt_number(x: int | Fraction) -> str:
    """A whole number as itself, otherwise two decimals (``54.25``, ``2.33``), or as many more
    as it takes not to look whole (``1.995``)."""
    if isinstance(x, int) or x.denominator == 1:
        return str(int(x))
    for decimals in range(2, 10):  # never show 1.995 as "2": a whole-looking non-whole lies
        text = fixed(x, decimals).rstrip("0").rstrip(".")
        if "." in text:
            return text
    return f"{x.numerator}/{x.denominator}"


def fmt_fraction(x: int | Fraction) -> str:
    """An exact number as exact text: ``7``, ``3.5``, ``0.125``, or ``7/3`` when its decimals
    never end (a receptive field after a transposed convolution, a dropout rate)."""
    if isinstance(x, int) or x.denominator == 1:
        return str(int(x))
    den, twos, fives = x.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1:
        return f"{x.numerator}/{x.denominator}"
    return fixed(x, max(twos, fives))


def article(number_text: str) -> str:
    """``a`` or ``an`` before a number as it is read aloud: an 11x11, an 8x8, a 3x3."""
    digits = number_text.split("x")[0]
    spoken_vowel = digits.startswith("8") or (
        len(digits) % 3 == 2 and digits[:2] in ("11", "18"))
    return "an" if spoken_vowel else "a"


def arithmetic(w: int, f: int, pad: tuple[int, int] | None, s: int) -> str:
    """The formula with the numbers filled in, e.g. ``(224 - 11 + 2*0)/4 + 1 = 54.25``.

    ``pad`` None means the layer has no padding option at all (the lecture's ``(N - F)/S + 1``).
    """
    if pad is None:
        inner = f"{w} - {f}"
        total = 0
    elif pad[0] == pad[1]:
        inner = f"{w} - {f} + 2*{pad[0]}"
        total = 2 * pad[0]
    else:
        inner = f"{w} - {f} + {pad[0]} + {pad[1]}"
        total = pad[0] + pad[1]
    return f"({inner})/{s} + 1 = {fmt_number(out_size(w, f, total, s))}"


def smallest_fitting_pad(w: int, f: int, s: int) -> int | None:
    """The smallest symmetric P >= 0 with ``(W - F + 2P)`` divisible by S and ``W + 2P >= F``.

    Solved as the congruence ``2P = F - W (mod S)``, not by trying paddings one by one, so
    that a stride of 10**20 answers at once.
    """
    if w <= 0 or f <= 0 or s <= 0:
        return None
    p_min = max(0, -((w - f) // 2))  # ceil((F - W) / 2)
    g = math.gcd(2, s)
    if (f - w) % g:
        return None
    m = s // g
    p0 = 0 if m == 1 else ((f - w) // g * pow(2 // g, -1, m)) % m
    return p0 + max(0, ceil_div(p_min - p0, m)) * m


@record
class Fixes:
    """Nearby settings under which the window fits exactly."""

    inputs: tuple[int, ...]
    pad: int | None
    strides: tuple[tuple[int, int], ...]  # (stride, resulting output size)

    def describe(self, axis_word: str) -> str:
        parts: list[str] = []
        if self.inputs:
            sizes = " or ".join(str(i) for i in self.inputs)
            parts.append(f"an input {sizes} {axis_word} fits")
        if self.pad is not None:
            parts.append(f"pad {self.pad} fits")
        for stride, size in self.strides:
            parts.append(f"stride {stride} fits (output {size})")
        if not parts:
            return "no nearby input size, padding or stride makes this window fit"
        return "; ".join(parts)


def nearest_fixes(w: int, f: int, pad_total: int, s: int) -> Fixes:
    """The nearest input sizes below and above W, the smallest symmetric padding, and the
    strides within a factor of two of S that make ``(W - F + 2P)/S + 1`` whole."""
    inputs: list[int] = []
    below = w - ((w - f + pad_total) % s)
    if below != w and below + pad_total >= f and below > 0:
        inputs.append(below)
    above = below + s
    if above != w:
        inputs.append(above)
    pad = smallest_fitting_pad(w, f, s)
    strides: list[tuple[int, int]] = []
    span = w - f + pad_total
    if span >= 0:  # outward from S, the nearer (and on a tie the smaller) first
        for k in range(1, min(s, _PROBES) + 1):
            for cand in (s - k, s + k):
                if max(1, s // 2) <= cand <= 2 * s and span % cand == 0 and len(strides) < 2:
                    strides.append((cand, span // cand + 1))
    return Fixes(tuple(inputs), pad, tuple(strides))


_PROBES = 1_000  # strides tried each side of S for a suggestion; bounds the time for huge S


def dilated(f: int, d: int) -> int:
    """The extent a filter of F taps spans at dilation D: ``D*(F - 1) + 1``."""
    return d * (f - 1) + 1


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def same_pad(w: int, span: int, s: int) -> tuple[int, int]:
    """Keras/TensorFlow ``padding='same'``: the output is ``ceil(W/S)``; the padding that gives
    it, ``max((ceil(W/S) - 1)*S + span - W, 0)``, is split with the odd cell after (right,
    bottom). For stride 1 this is PyTorch's ``padding='same'`` too."""
    total = max((ceil_div(w, s) - 1) * s + span - w, 0)
    return (total // 2, total - total // 2)


def rounded_size(w: int, span: int, pad: tuple[int, int], s: int, up: bool) -> int:
    """A size that is not whole, rounded: down (floor, as Keras and PyTorch compute), or up
    (ceil mode, as PyTorch and Caffe pooling compute) where a last window that would start in
    the right padding is dropped: ``if (out - 1)*S >= W + P_before: out -= 1``."""
    num = w - span + pad[0] + pad[1]
    if not up:
        return num // s + 1
    size = ceil_div(num, s) + 1
    if (size - 1) * s >= w + pad[0]:
        size -= 1
    return size


def transposed_size(w: int, f: int, s: int, pad: tuple[int, int], d: int, out_pad: int) -> int:
    """Transposed convolution: ``(W - 1)*S - 2P + D*(F - 1) + output_padding + 1``."""
    return (w - 1) * s - pad[0] - pad[1] + d * (f - 1) + out_pad + 1


def adaptive_window(w: int, o: int) -> int:
    """The widest window of adaptive pooling from W cells to O: cell i covers
    ``[floor(i*W/O), ceil((i+1)*W/O))``.

    The remainders ``i*W mod O`` run over the multiples of ``g = gcd(W, O)`` below O, so the
    widest window is ``ceil((W + O - g)/O)``, with no loop over O (which may be huge)."""
    return ceil_div(w + o - math.gcd(w, o), o)
