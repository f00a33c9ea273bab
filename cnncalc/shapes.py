"""The output-size formula, written once, and everything said about it when it fails.

Per axis, a window of F cells sliding at stride S over an input W cells wide, padded by P on
each side, gives ``(W - F + 2P)/S + 1`` outputs (the lecture's formula). With padding
(before, after) the ``2P`` is their sum. The result is kept as an exact Fraction so that a
layer that does not fit is reported with the lecture's own arithmetic (``= 54.25``) rather
than silently floored.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


def out_size(w: int, f: int, pad_total: int, s: int) -> Fraction:
    """``(W - F + 2P)/S + 1``, exactly."""
    return Fraction(w - f + pad_total, s) + 1


def fmt_number(x: Fraction) -> str:
    """A whole number as itself, otherwise at most two decimals (``54.25``, ``2.33``)."""
    if x.denominator == 1:
        return str(x.numerator)
    text = f"{float(x):.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


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

    ``2P mod S`` repeats with period S, so S candidates from the least admissible P suffice.
    """
    if w <= 0 or f <= 0 or s <= 0:
        return None
    p_min = max(0, -((w - f) // 2))  # ceil((F - W) / 2)
    for p in range(p_min, p_min + s):
        if (w - f + 2 * p) % s == 0:
            return p
    return None


@dataclass(frozen=True)
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
    if span >= 0:
        for cand in range(max(1, s // 2), 2 * s + 1):
            if cand != s and span % cand == 0:
                strides.append((cand, span // cand + 1))
    strides.sort(key=lambda t: (abs(t[0] - s), t[0]))
    return Fixes(tuple(inputs), pad, tuple(strides[:2]))
