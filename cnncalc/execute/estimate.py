"""The memory guard: the executor's peak estimated in Python ints before anything is
allocated, the ``--max-memory`` sizes, and the default limit (half the available memory).

No numpy here: a network with 10**30 channels is estimated exactly and refused without an
overflow, and the command can parse its options before numpy is imported.

The estimate is the arrays the kernels will hold at once, the worst layer deciding:

    params and buffers of every layer (all are built before the forward pass)
  + the input batch (the caller keeps it)
  + the scratch buffers the kernels reuse from layer to layer (the largest im2col chunk:
    about 4 MiB, more for wide weights, at most the 64 MiB cap unless a single output row
    needs more; the padded input rows a convolution's or a pooling layer's chunk reads; a
    grouped product; NumPy's ufunc buffers, 8,192 elements per operand) and the block the
    layers' outputs live in, where the forward pass uses one
  + max over layers of (its inputs + its output + its kernel's other workspace
                       + the tensors held across it for later layers)

where the other workspace is what the module says its kernel allocates for itself: a
transposed convolution's canvas, an activation's temporaries. The tensors held across a layer
are those of a graph that a later layer still reads (a residual's shortcut, an Inception
branch, a U-Net skip: the executor drops each after its last reader, as the analysis's
inference memory counts); a chain holds none. A tensor that lives in the block
(``cnncalc.execute.arena``: the outputs of the layers that can write into a place they are
given, laid out before the pass so that no two held at once overlap) counts 0 there: the
block is resident for the whole pass, counted once among the scratch buffers. The pass uses
the block unless that makes this estimate more than 3% (or 1 MiB) larger than outputs
allocated one by one would (``memory.memory_plan``), and the estimate is the one of the way
it runs.

That is the network's forward pass (``Estimate.peak_bytes``). Building it needs its params
plus the weights' set-up temporaries (``setup_bytes``: the seeded pool of
``cnncalc.execute.weights`` and its scaled copy, 2 MiB in float32), which can be the larger
of the two on a small network (``network_bytes`` is the larger). On top comes the process
itself (``baseline_bytes``): the resident memory of the interpreter and the libraries the run
has loaded (NumPy with its random module and BLAS, rich, cnncalc), measured when the estimate
is made, about 40 MiB on Linux. ``total_bytes`` is what ``run`` puts beside the peak resident
memory it measures at the end. The memory guard compares ``network_bytes``, what the run would
add to the process, with the limit: the default limit is half of ``MemAvailable``, which is
already net of the memory the process holds, and a ``--max-memory`` of a few MiB still means
the network's arrays.

Not modelled, and measured on the shipped specs instead (``benchmarks/bench_memory.py``):
OpenBLAS's per-thread packing buffers (0.5-3 MiB on one thread, up to 10 MiB more with a
second one, depending on the products' shapes) and the memory the C allocator keeps after
NumPy frees a tensor (glibc raises its threshold for returning freed blocks to the system to
the size of the largest freed one, up to 32 MiB, so mid-sized tensors come back to its heap
and stay resident: up to 38 MiB on U-Net at batch 8). A batch norm or ReLU fused into the
convolution before it (``cnncalc.execute.fusion``) adds no output: it writes over that
convolution's. On the shipped specs, at batch 1 and 8, the measured peak is 1.01 to 1.17
times the estimate on 2 threads, 0.996 to 1.14 on one.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass

from cnncalc.render.memory import human_bytes

_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)(?:i?b)?\s*$", re.IGNORECASE)


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


def _proc_bytes(path: str, key: str) -> int | None:
    """The ``key:`` line of a /proc file in kB (``MemAvailable`` in /proc/meminfo, ``VmRSS``
    in /proc/self/status), as bytes; None where it cannot be read."""
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def available_memory() -> int | None:
    """Bytes the kernel says are available (``MemAvailable`` in /proc/meminfo), else free
    physical pages from ``os.sysconf``; None when neither can be read."""
    avail = _proc_bytes("/proc/meminfo", "MemAvailable")
    if avail is not None:
        return avail
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
    """One layer's arrays while it runs; ``output_bytes``: what its output adds (0 for a layer
    that writes over its input)."""

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
    setup_bytes: int = 0  # the weights' set-up temporaries, beside the params built so far
    baseline_bytes: int = 0  # the process before the network: interpreter and libraries
    block_bytes: int = 0  # of the scratch buffers, the block the layers' outputs live in

    @property
    def network_bytes(self) -> int:
        """The network's own peak: the forward pass's, or the set-up's when that is larger."""
        return max(self.peak_bytes, self.param_bytes + self.setup_bytes)

    @property
    def total_bytes(self) -> int:
        """The process's estimated peak: the baseline and the network's own."""
        return self.baseline_bytes + self.network_bytes

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
        if self.block_bytes:
            text += (f" (of which the layers' outputs, laid out in one block, "
                     f"{human_bytes(self.block_bytes)}: a layer's own input and output "
                     "below are those outside it)")
        worst = self.worst
        if worst is not None:
            text += (f" + the largest layer, {worst.name}: input {human_bytes(worst.input_bytes)}, "
                     f"output {human_bytes(worst.output_bytes)}, workspace "
                     f"{human_bytes(worst.workspace_bytes)}")
            if worst.held_bytes:
                text += f", tensors kept for later layers {human_bytes(worst.held_bytes)}"
        if self.network_bytes > self.peak_bytes:
            text += (f"; building the weights takes more: parameters + set-up temporaries "
                     f"{human_bytes(self.setup_bytes)}")
        if self.baseline_bytes:
            text += (f"; the interpreter and libraries, {human_bytes(self.baseline_bytes)}, "
                     "come on top (resident already: the limit is on the network's part)")
        return text


def resident_bytes() -> int | None:
    """This process's resident memory now: ``VmRSS`` in /proc/self/status (Linux), else its
    peak so far (``peak_resident_bytes``, an upper bound); None when neither can be read."""
    now = _proc_bytes("/proc/self/status", "VmRSS")
    return now if now is not None else peak_resident_bytes()


def peak_resident_bytes() -> int | None:
    """This process's peak resident memory so far: ``VmHWM`` in /proc/self/status (Linux),
    else ``ru_maxrss`` (KiB on Linux and the BSDs, bytes on macOS); None where neither can be
    read (Windows). On Linux ``ru_maxrss`` is carried across fork and exec, so a run started
    by a process holding 600 MiB (a test runner that imported torch) would report at least
    that; ``VmHWM`` is this process's own."""
    peak = _proc_bytes("/proc/self/status", "VmHWM")
    if peak is not None:
        return peak
    try:
        import resource
    except ImportError:
        return None
    rss = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return rss if sys.platform == "darwin" else rss * 1024


