"""When the executor drops each tensor, and what it holds at each step: the tensors of a graph
network live from the layer that makes them to the last layer that reads them.

Tensor ``j`` is the output of layer ``j`` (1-based, as the analysis numbers layers), or the
network's input for ``j = 0``. Layer ``i`` reads the tensors ``reads[i - 1]``; a tensor is
dropped right after its last reader has run, one that no layer reads right after it is made,
and the network's output is kept to the end. Plain Python ints: the memory estimate uses this
before anything is allocated, the forward pass to free tensors as it goes.
"""

from __future__ import annotations

from collections.abc import Sequence


def last_readers(reads: Sequence[Sequence[int]], output: int) -> list[int]:
    """For each tensor, the step after which it is dropped: its last reader, itself when
    nothing reads it, ``len(reads) + 1`` (never) for ``output`` (0: no output kept)."""
    n = len(reads)
    last = list(range(n + 1))
    for i, sources in enumerate(reads, start=1):
        for j in sources:
            if last[j] < i:
                last[j] = i
    if output:
        last[output] = n + 1
    return last


def held_across(reads: Sequence[Sequence[int]], output: int, sizes: Sequence[int]
                ) -> list[int]:
    """For each layer, the total size of the tensors held while it runs that it neither reads
    nor makes (a residual's shortcut, an Inception branch, a U-Net skip); ``sizes[j]`` is
    tensor ``j``'s. The network's input is not counted: its caller holds it throughout."""
    n = len(reads)
    last = last_readers(reads, output)
    freed = [0] * (n + 2)
    for j in range(1, n + 1):
        freed[last[j]] += sizes[j]
    alive = 0  # tensors 1 .. i-1 not yet dropped when layer i starts
    held = []
    for i in range(1, n + 1):
        if i > 1:
            alive += sizes[i - 1]
            alive -= freed[i - 1]
        read = sum(sizes[j] for j in set(reads[i - 1]) if j)
        held.append(alive - read)
    return held
