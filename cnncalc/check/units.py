"""Budget figures as people write them: ``65M`` params, ``2G`` MACs, ``100MB`` of activations,
and the figures ``check`` prints back: exact, whatever their size.

- Counts take SI suffixes, 1000-based: ``K`` (``k``), ``M``, ``G``, ``T``. ``1.5M`` is
  1,500,000; a figure that is not a whole count (``1.5K5``, ``0.0001K``) is refused.
- Bytes take ``B``, ``KB``/``MB``/``GB``/``TB`` (1000-based, as disks and SI count) and
  ``KiB``/``MiB``/``GiB``/``TiB`` (1024-based); units are case-insensitive (``mb`` = ``MB``).
  A bare number is bytes. ``100M`` is refused for bytes: say ``100MB`` or ``100MiB``.
- ``_`` and ``,`` group digits: ``65_000_000``, ``65,000,000``.
- A budget above ``MAX_BUDGET`` (10^30) is refused as a typo: no network comes near it, and
  a bound keeps a 5,000-digit flag from reaching ``int()``.

Parsing goes through ``Fraction`` (and TOML decimals arrive as ``Decimal``) so that no figure
is ever a float. Printing uses integers only: ratios are rounded half up on the exact value.
The analysis keeps every figure under 4,200 digits (G108), but check multiplies some (a pooling
window's area), and a number longer than Python's ``int()`` limit (4,300 digits) prints as its
first digits and its length instead of crashing.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

from cnncalc.shapes import fixed

COUNT_UNITS: dict[str, int] = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
BYTE_UNITS: dict[str, int] = {
    "": 1, "B": 1,
    "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40,
}
MAX_BUDGET = 10**30
"""The largest budget (count or bytes) accepted: 10^30, far above any network (GPT-scale
models have about 10^12 params) and far below where figures get slow to handle."""
_BUDGET_DIGITS = 40
"""Digits a budget may be written with (``1.500000000000M`` included); more is refused before
any conversion."""
_LEAD_DIGITS = 20
"""Digits shown of a figure too long to print whole."""

_FIGURE = re.compile(r"^\s*(?P<num>[0-9][0-9_,]*(?:\.[0-9]+)?|\.[0-9]+)\s*(?P<unit>[A-Za-z]*)\s*$")


class UnitError(ValueError):
    """A figure that could not be read; the message says what to write instead."""


def shown(text: str, most: int = 40, quote: bool = True) -> str:
    """``text`` for a message (``repr``-quoted unless ``quote`` is false), shortened when long:
    a 5,000-digit flag is not echoed whole."""
    show = repr if quote else str
    if len(text) <= most:
        return show(text)
    return f"{show(text[:most // 2])}... ({len(text):,} characters)"


def _whole(value: Fraction | int | Decimal, text: str, what: str) -> int:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise UnitError(f"{text} is not {what}")
        if value.adjusted() > 30:
            raise UnitError(f"{text} is more than the largest budget, 10^30")
        if value != value.to_integral_value():
            raise UnitError(f"{text} is not a whole number")
        value = int(value)
    if isinstance(value, Fraction):
        if value.denominator != 1:
            raise UnitError(f"{text} is not a whole number")
        value = int(value)
    if value < 0:
        raise UnitError(f"{text} is negative: {what} is 0 or more")
    if value > MAX_BUDGET:
        raise UnitError(f"{text} is more than the largest budget, 10^30 "
                        f"({count_text(MAX_BUDGET)}): is it a typo?")
    return value


def _parse(text: str | int | Decimal, units: dict[str, int], what: str, example: str) -> int:
    if isinstance(text, bool):
        raise UnitError(f"{str(text).lower()} is not {what}: write e.g. {example}")
    if isinstance(text, int):
        label = str(text) if abs(text) < 10**_BUDGET_DIGITS else \
            f"a number of {_digit_count(abs(text)):,} digits"
        return _whole(text, label, what)
    if isinstance(text, Decimal):
        return _whole(text, str(text), what)
    m = _FIGURE.match(text)
    unit = m["unit"].upper() if m else ""
    if m is None or unit not in units:
        known = ", ".join(u for u in units if u)
        raise UnitError(f"{shown(text)} is not {what}: write a number with an optional unit "
                        f"({known}), e.g. {example}")
    digits = re.sub(r"[_,.]", "", m["num"]).lstrip("0")
    if len(digits) > _BUDGET_DIGITS:
        raise UnitError(f"{shown(text)} has more digits than any budget needs (the largest "
                        "is 10^30)")
    value = Fraction(m["num"].replace("_", "").replace(",", "")) * units[unit]
    return _whole(value, repr(text), what)


def parse_count(text: str | int | Decimal) -> int:
    """``65M`` -> 65,000,000; ``2G`` -> 2,000,000,000; ``1500`` -> 1500."""
    return _parse(text, COUNT_UNITS, "a count", "65M or 2G")


def parse_bytes(text: str | int | Decimal) -> int:
    """``100MB`` -> 100,000,000; ``100MiB`` -> 104,857,600; ``4096`` -> 4096."""
    try:
        return _parse(text, BYTE_UNITS, "a size in bytes", "100MB or 64MiB")
    except UnitError:
        m = _FIGURE.match(text) if isinstance(text, str) and len(text) <= _BUDGET_DIGITS else None
        if m is not None and m["unit"].upper() in COUNT_UNITS:
            raise UnitError(f"{m.string!r}: say which bytes, e.g. {m['num']}{m['unit']}B "
                            f"(1000-based) or {m['num']}{m['unit']}iB (1024-based)") from None
        raise


def _digit_count(n: int) -> int:
    """Decimal digits of ``n`` > 0, from its bit length (a lower bound, log10(2) rounded
    down) corrected upwards, without converting ``n`` to text."""
    exponent = (n.bit_length() - 1) * 30102999566 // 10**11
    power = 10 ** (exponent + 1)
    while n >= power:
        exponent += 1
        power *= 10
    return exponent + 1


def count_text(n: int) -> str:
    """Thousands separators: 62,378,344. A figure longer than ``int()`` converts (4,300
    digits) shows its first 20 digits and its length: ``12345678901234567890... (8,601
    digits)``."""
    try:
        return f"{n:,}"
    except ValueError:
        return _long_text(n)


def digits_text(n: int) -> str:
    """Plain digits, as sizes are written (``224 -> 222``); past 4,300 digits as ``count_text``
    shows them."""
    try:
        return str(n)
    except ValueError:
        return _long_text(n)


def _long_text(n: int) -> str:
    sign, n = ("-", -n) if n < 0 else ("", n)
    digits = _digit_count(n)
    lead = n // 10 ** (digits - _LEAD_DIGITS)
    return f"{sign}{lead}... ({digits:,} digits)"


_PLURALS = {"info": "info"}
"""Words whose plural is not the word and ``s`` (``3 info``: findings of severity info)."""


def plural(n: int, word: str) -> str:
    """``1 spec``, ``2 specs``, ``0 files``, ``3 info``: every count check prints in words goes
    through here."""
    return f"{count_text(n)} {word if n == 1 else _PLURALS.get(word, word + 's')}"


def decimal_text(num: int, den: int, places: int) -> str:
    """``|num| / den`` with ``places`` decimals, rounded half up on the exact value
    (``shapes.fixed``), thousands grouped: ``decimal_text(1, 8, 2)`` is ``0.13``,
    ``decimal_text(12345, 1, 0)`` is ``12,345``."""
    whole, dot, frac = fixed(Fraction(abs(num), den), places).partition(".")
    return f"{int(whole):,}{dot}{frac}"


def percent_text(part: int, whole: int, places: int) -> str:
    """``part`` as a signed percentage of ``whole`` (> 0): ``percent_text(15732, 47206, 2)``
    is ``+33.33%``. The sign is the exact value's; the magnitude is rounded half up."""
    sign = "-" if part < 0 else "+"
    return f"{sign}{decimal_text(part * 100, whole, places)}%"
