"""Number formatting shared by the human renderers."""

from __future__ import annotations

_SUFFIXES = ("", "K", "M", "G", "T", "P", "E")


def abbreviate(n: int) -> str:
    """Three significant figures with an SI suffix: 62378344 -> ``62.4M``; below 1000 exact.

    Integer arithmetic with rounding half up, so that no figure depends on float rounding;
    a value that rounds up to the next thousand moves to the next suffix (999,950 -> ``1.00M``).
    """
    if n < 0:
        return "-" + abbreviate(-n)
    if n < 1000:
        return str(n)
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


def grouped(n: int) -> str:
    """62378344 -> ``62,378,344``."""
    return f"{n:,}"
