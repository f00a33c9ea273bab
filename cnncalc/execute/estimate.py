"""The memory guard: the executor's peak estimated in Python ints before anything is
allocated, the ``--max-memory`` sizes, and the default limit (half the available memory).

No numpy here: a network with 10**30 channels is estimated exactly and refused without an
overflow, and the command can parse its options before numpy is imported.

The estimate is the arrays the kernels will hold at once, the worst layer deciding:

    params and buffers of every layer (all are built before the forward pass)
  + the input batch (the caller keeps it)
  + the scratch buffers the convolutions reuse from layer to layer (the largest im2col chunk:
    about 4 MiB, more for wide weights, at most the 64 MiB cap unless a single output row
    needs more; the padded input rows it reads; a grouped product)
  + max over layers of (its inputs + its output + its kernel's other workspace
                       + the tensors held across it for later layers)

where the other workspace is what the module says its kernel allocates for itself: a pooling
layer's padded copy, a transposed convolution's canvas, an activation's temporaries. The
tensors held across a layer are those of a graph that a later layer still reads (a residual's
shortcut, an Inception branch, a U-Net skip: the executor drops each after its last reader, as
the analysis's inference memory counts); a chain holds none. Python's and BLAS's own memory
come on top (tens of MiB).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from cnncalc.render.memory import human_bytes

_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``8G``, ``500M``, ``1.5GiB``, ``64KB``, ``1000000`` -> bytes. Units are binary
    (K = 1024); raises ValueError with what is expected."""
    m = _SIZE.match(text)
    if m is None or (m.group(1) == "0" and not m.group(2)):
        raise ValueError(f"{text!r}: write a size such as 8G, 500M, 1.5G or 65536 (bytes); "
                         "K, M, G, T are powers of 1024")
    number, unit = m.group(1), m.group(2).lower()
    whole, _, frac = number.partition(".")
    scale = _UNITS[unit]
    value = int(whole) * scale + (int(frac) * scale) // 10 ** len(frac) if frac else \
        int(whole) * scale
    if value < 1:
        raise ValueError(f"{text!r}: the limit must be at least 1 byte")
    return value


def available_memory() -> int | None:
    """Bytes the kernel says are available (``MemAvailable`` in /proc/meminfo), else free
    physical pages from ``os.sysconf``; None when neither can be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def default_limit() -> int:
    """Half the available memory, or 4 GiB when it cannot be read."""
    avail = available_memory()
    return avail // 2 if avail else 4 * 2**30


@dataclass(frozen=True)
class LayerMemory:
    name: str
    input_bytes: int
    output_bytes: int
    workspace_bytes: int
    held_bytes: int = 0

    @property
    def total(self) -> int:
        return self.input_bytes + self.output_bytes + self.workspace_bytes + self.held_bytes


@dataclass(frozen=True)
class Estimate:
    """Bytes, as Python ints."""

    param_bytes: int
    input_bytes: int
    layers: tuple[LayerMemory, ...]
    scratch_bytes: int = 0

    @property
    def worst(self) -> LayerMemory | None:
        return max(self.layers, key=lambda m: m.total, default=None)

    @property
    def peak_bytes(self) -> int:
        worst = self.worst
        return (self.param_bytes + self.input_bytes + self.scratch_bytes
                + (worst.total if worst else 0))

    def describe(self) -> str:
        """``weights 233 MiB + input 588 KiB + CONV1 (in 588 KiB, out ..., workspace ...)``."""
        text = (f"parameters {human_bytes(self.param_bytes)} + input batch "
                f"{human_bytes(self.input_bytes)} + scratch buffers "
                f"{human_bytes(self.scratch_bytes)}")
        worst = self.worst
        if worst is not None:
            text += (f" + the largest layer, {worst.name}: input {human_bytes(worst.input_bytes)}, "
                     f"output {human_bytes(worst.output_bytes)}, workspace "
                     f"{human_bytes(worst.workspace_bytes)}")
            if worst.held_bytes:
                text += f", tensors kept for later layers {human_bytes(worst.held_bytes)}"
        return text


