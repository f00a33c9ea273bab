"""Memory figures: activation bytes = elements x dtype size x batch; parameter bytes =
params x dtype size. Buffers (batch-norm statistics) are stored too and counted with params."""

from __future__ import annotations

from cnncalc.records import record

DTYPES: dict[str, int] = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int8": 1}


@record
class Memory:
    batch: int = 1
    dtype: str = "float32"

    @property
    def size(self) -> int:
        return DTYPES[self.dtype]

    def activations(self, elements: int) -> int:
        return elements * self.size * self.batch

    def params(self, params: int, buffers: int = 0) -> int:
        return (params + buffers) * self.size


_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


_PRINTABLE_BITS = 14_000
"""A size of more bits than this (some 4,200 digits) is given as a power of two: Python
refuses to write an int of more than 4,300 digits (an executor's estimate for a layer of an
absurd stride or size can be one; the analysis bounds its own figures, G108)."""


def exact_bytes(n: int) -> str:
    """``3,579,904 bytes``, or ``human_bytes``'s power of two for a size too long to write."""
    return f"{n:,} bytes" if n.bit_length() <= _PRINTABLE_BITS else human_bytes(n)


def human_bytes(n: int) -> str:
    """Binary units, three significant figures, exactly (integer arithmetic, rounded half up,
    no float to overflow): 3,579,904 -> ``3.41 MiB``, 1536 -> ``1.5 KiB``; 1000 to 1023 of a
    unit keep four digits (``1010 KiB``; 1023.6 KiB is ``1 MiB``); sizes past YiB keep their
    digits, grouped."""
    if n.bit_length() > _PRINTABLE_BITS:  # more digits than Python converts to text
        return f"more than 2**{n.bit_length() - 1:,} B"
    k = 0
    while k < len(_UNITS) - 1 and n >= 1024 ** (k + 1):
        k += 1
    if k == 0:
        return f"{n} B"
    scale = 1024**k
    if n >= 1024 * scale:
        return f"{n // scale:,} {_UNITS[k]}"
    decimals = max(0, 3 - len(str(n // scale)))
    q = (2 * n * 10**decimals + scale) // (2 * scale)
    if decimals and q >= 10 ** (decimals + 2):  # 9.995 KiB -> 10.0, not 10.00
        decimals -= 1
        q = (2 * n * 10**decimals + scale) // (2 * scale)
    if q == 1024 and k < len(_UNITS) - 1:  # 1023.6 KiB rounds to 1024 KiB: that is 1 MiB
        return f"1 {_UNITS[k + 1]}"
    whole, frac = divmod(q, 10**decimals)
    text = f"{whole}.{frac:0{decimals}d}".rstrip("0").rstrip(".") if decimals else str(whole)
    return f"{text} {_UNITS[k]}"
