"""Number formatting shared by the human renderers."""

from __future__ import annotations

import functools

_SUFFIXES = ("", "K", "M", "G", "T", "P", "E")
_LARGEST = 1000 ** len(_SUFFIXES)


@functools.lru_cache(maxsize=4096)  # a network repeats its figures: blocks, stages
def abbreviate(n: int) -> str:
    """Three significant figures with an SI suffix: 62378344 -> ``62.4M``; below 1000 exact.

    Integer arithmetic with rounding half up, so that no figure depends on float rounding;
    a value that rounds up to the next thousand moves to the next suffix (999,950 -> ``1.00M``).
    """
    if n < 0:
        return "-" + abbreviate(-n)
    if n < 1000:
        return str(n)
    if n >= _LARGEST - 1000 ** (len(_SUFFIXES) - 1) // 2:  # would round to 1000E
        return _scientific(n)
    k = 1
    while k < len(_SUFFIXES) - 1 and n >= 1000 ** (k + 1):
        k += 1
    while True:
        scale = 1000**k
        decimals = max(0, 3 - len(str(n // scale)))
        q = (2 * n * 10**decimals + scale) // (2 * scale)
        if q >= 1000 and decimals:
            decimals -= 1  # 9.995K rounds to 10.0K, not 10.00K
            q = (2 * n * 10**decimals + scale) // (2 * scale)
        elif q >= 1000 and k < len(_SUFFIXES) - 1:
            k += 1  # 999.5K rounds to 1.00M
            continue
        whole, frac = divmod(q, 10**decimals)
        digits = f"{whole}.{frac:0{decimals}d}" if decimals else str(whole)
        return digits + _SUFFIXES[k]


def _scientific(n: int) -> str:
    """Beyond the suffixes, two significant figures: 10**31 -> ``1.0e31``."""
    exp = len(str(n)) - 1
    q = (2 * n + 10 ** (exp - 1)) // (2 * 10 ** (exp - 1))  # two digits, rounded half up
    if q >= 100:
        q, exp = q // 10, exp + 1
    return f"{q // 10}.{q % 10}e{exp}"


def grouped(n: int) -> str:
    """62378344 -> ``62,378,344``."""
    return f"{n:,}"
