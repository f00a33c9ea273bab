"""Budget figures as people write them: ``65M`` params, ``2G`` MACs, ``100MB`` of activations.

- Counts take SI suffixes, 1000-based: ``K`` (``k``), ``M``, ``G``, ``T``. ``1.5M`` is
  1,500,000; a figure that is not a whole count (``1.5K5``, ``0.0001K``) is refused.
- Bytes take ``B``, ``KB``/``MB``/``GB``/``TB`` (1000-based, as disks and SI count) and
  ``KiB``/``MiB``/``GiB``/``TiB`` (1024-based); units are case-insensitive (``mb`` = ``MB``).
  A bare number is bytes. ``100M`` is refused for bytes: say ``100MB`` or ``100MiB``.
- ``_`` and ``,`` group digits: ``65_000_000``, ``65,000,000``.

Parsing goes through ``Fraction`` so that no figure is ever a float.
"""

from __future__ import annotations

import re
from fractions import Fraction

COUNT_UNITS: dict[str, int] = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
BYTE_UNITS: dict[str, int] = {
    "": 1, "B": 1,
    "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40,
}

_FIGURE = re.compile(r"^\s*(?P<num>\d[\d_,]*(?:\.\d+)?|\.\d+)\s*(?P<unit>[A-Za-z]*)\s*$")


class UnitError(ValueError):
    """A figure that could not be read; the message says what to write instead."""


def _parse(text: str | int, units: dict[str, int], what: str, example: str) -> int:
    if isinstance(text, bool):
        raise UnitError(f"{str(text).lower()} is not {what}: write e.g. {example}")
    if isinstance(text, int):
        if text < 0:
            raise UnitError(f"{text} is negative: {what} is 0 or more")
        return text
    m = _FIGURE.match(text)
    unit = m["unit"].upper() if m else ""
    if m is None or unit not in units:
        known = ", ".join(u for u in units if u)
        raise UnitError(f"{text!r} is not {what}: write a number with an optional unit "
                        f"({known}), e.g. {example}")
    value = Fraction(m["num"].replace("_", "").replace(",", "")) * units[unit]
    if value.denominator != 1:
        raise UnitError(f"{text!r} is not a whole number of {what}")
    return int(value)


def parse_count(text: str | int) -> int:
    """``65M`` -> 65,000,000; ``2G`` -> 2,000,000,000; ``1500`` -> 1500."""
    return _parse(text, COUNT_UNITS, "a count", "65M or 2G")


def parse_bytes(text: str | int) -> int:
    """``100MB`` -> 100,000,000; ``100MiB`` -> 104,857,600; ``4096`` -> 4096."""
    try:
        return _parse(text, BYTE_UNITS, "a size in bytes", "100MB or 64MiB")
    except UnitError:
        m = _FIGURE.match(text) if isinstance(text, str) else None
        if m is not None and m["unit"].upper() in COUNT_UNITS:
            raise UnitError(f"{text!r}: say which bytes, e.g. {m['num']}{m['unit']}B "
                            f"(1000-based) or {m['num']}{m['unit']}iB (1024-based)") from None
        raise


def count_text(n: int) -> str:
    """Thousands separators: 62,378,344."""
    return f"{n:,}"
