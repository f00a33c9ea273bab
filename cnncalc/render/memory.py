"""Memory figures: activation bytes = elements x dtype size x batch; parameter bytes =
params x dtype size. Buffers (batch-norm statistics) are stored too and counted with params."""

from __future__ import annotations

from dataclasses import dataclass

DTYPES: dict[str, int] = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int8": 1}


@dataclass(frozen=True)
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


def human_bytes(n: int) -> str:
    """Binary units, three significant figures: 3,579,904 -> ``3.41 MiB``."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{n} B" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
