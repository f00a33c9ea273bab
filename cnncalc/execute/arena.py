"""Where the layers' outputs live: one block of memory, laid out before the forward pass.

A forward pass makes every layer's output and drops it after its last reader. Left to the C
allocator, each large output is a fresh ``mmap`` whose pages the kernel faults in (and zeroes)
one 4 KiB page at a time before NumPy writes them, and each is unmapped when dropped: about
1,500 page faults per MobileNetV1 pass at batch 1 and 2,300 at batch 8, 10-20% of its time.
Instead the outputs of the layers that can write into a place they are given (``places``:
convolutions, with the layers fused into them, which write over the same array; pooling,
batch norm, ReLU and ReLU6, the merges, crops, slices, upsampling, zero padding, transposed
convolutions) are views into one block that the executor keeps from pass to pass, at offsets
planned here, so that no two outputs held at the same time overlap.

The plan is TFLite's "greedy by size": the largest tensors first, each at the lowest offset
where it overlaps no tensor already placed whose lifetime meets its own. The block is then
at least the largest sum of outputs held at once: exactly that on the shipped specs but two,
DenseNet-121 (1.05x) and U-Net (1.46x: its long-lived skips leave holes; its pass does not
use the block).
The memory estimate counts the block itself, resident for the whole pass, in place of those
outputs (``memory.memory_plan``, which also decides whether the pass uses it).

Plain Python ints, bounded work: a plan that would look at more than :data:`WORK_LIMIT`
steps and neighbours is not made, and the outputs are allocated one by one as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ALIGN = 64  # bytes: each output starts on a cache line
WORK_LIMIT = 1 << 20  # steps and neighbours looked at while placing


@dataclass(frozen=True)
class Layout:
    """Byte offsets of the tensors in the block (by tensor index), and its size."""

    offsets: Mapping[int, int]
    size: int


def spans(places: Sequence[bool], fused: Mapping[int, Sequence[int]],
          reads: Sequence[Sequence[int]], passes: Sequence[bool], last: Sequence[int],
          output: int) -> dict[int, tuple[int, int]]:
    """The tensors that go in the block, with the steps they are held (made, last read): the
    output of each layer that writes into a place it is given (``places[i - 1]``), with the
    layers fused into it (``fused``, a convolution's: they write over the same array), until
    the last of them is dropped (``last``, from ``liveness.last_readers``), and also every
    later tensor that may be a view of it: the output of a layer that may pass what it reads
    through (``passes``: a flatten, an identity, dropout at test time) lives in the same
    memory, so the place is held until that one is dropped too. Not the network's
    ``output``, which the caller keeps after the pass (it gets no place, so it may be a view
    of what it reads), nor any tensor whose memory it may be."""
    members = {j for group in fused.values() for j in group}
    roots: list[frozenset[int]] = [frozenset()] * (len(places) + 1)  # places j may be in

    def through(i: int) -> frozenset[int]:
        return frozenset().union(*(roots[j] for j in reads[i - 1])) if passes[i - 1] \
            else frozenset()

    end: dict[int, int] = {}
    for i, placed in enumerate(places, start=1):
        if i in members:  # written over the tensor before it
            roots[i] = roots[i - 1]
        elif placed and i != output:
            roots[i] = frozenset((i,))
        else:
            roots[i] = through(i)
        for r in roots[i]:
            end[r] = max(end.get(r, 0), last[i])
    mine = roots[output] if output else frozenset()
    return {i: (i, end[i]) for i in end if i not in mine}


def layout(held: Mapping[int, tuple[int, int]], sizes: Mapping[int, int]) -> Layout | None:
    """Offsets for the tensors ``held`` (index -> first and last step) of ``sizes`` bytes:
    greedy by size (see the module's docstring); None when placing them would look at more
    than :data:`WORK_LIMIT` steps and neighbours, or there is nothing to place."""
    if not held:
        return None
    order = sorted(held, key=lambda t: (-sizes[t], held[t][0], t))
    steps = max(b for _, b in held.values()) + 1
    live: list[list[int]] = [[] for _ in range(steps)]  # placed tensors held at each step
    offsets: dict[int, int] = {}
    work = 0
    for t in order:
        first, last = held[t]
        neighbours: set[int] = set()
        for step in range(first, last + 1):
            work += 1 + len(live[step])
            if work > WORK_LIMIT:
                return None
            neighbours.update(live[step])
        need, at = sizes[t], 0
        for lo, hi in sorted((offsets[u], offsets[u] + sizes[u]) for u in neighbours):
            if lo - at >= need:
                break
            at = max(at, -(-hi // ALIGN) * ALIGN)
        offsets[t] = at
        for step in range(first, last + 1):
            live[step].append(t)
    return Layout(offsets, max(offsets[t] + sizes[t] for t in held))
