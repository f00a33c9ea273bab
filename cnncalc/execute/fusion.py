"""Element-wise layers run inside the convolution before them, chunk by chunk.

A batch norm (with running statistics) or an in-place activation (ReLU, ReLU6) right after a
convolution, reading nothing else, whose input no later layer reads, is a pass over the whole
output once the convolution is done: it reads and writes arrays far larger than the cache.
Here it is applied to each chunk of the convolution's output as soon as the chunk is made,
while it is in cache (and, for depthwise convolutions, in the thread that made it). The same
operations run on the same values in the same order, so the results are bitwise those of the
layers run one by one; each layer keeps its own row, figures and time.

Each chunk's values are also checked for inf and nan after each layer (``Measured.finite``),
in cache, instead of a pass over every output afterwards.

Times: a chunk's time in each fused layer is measured around its call; where the chunks are
cut among threads (the pieces of a depthwise convolution, or a large chunk's rows), each
counts for its share (its time divided by the threads doing the same at once, which work on
equal parts), and the convolution's time is the wall-clock time of the whole loop less its
fused layers'.
"""

from __future__ import annotations

import contextvars
import functools
import itertools
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from cnncalc.execute.depthwise import pool, threads

Array = NDArray[Any]
Stage = Callable[[Array], Any]
PARALLEL_FINISH = 1 << 20  # bytes


def all_finite(y: Array) -> bool:
    """Whether every value of ``y`` is finite. The sum of the squares, one BLAS dot product
    that allocates nothing, is finite if they all are (an inf or a nan makes it inf or nan);
    only where it is not (also when large finite values overflow it) are the least and the
    greatest value looked at (a nan makes both nan, an inf is one of them)."""
    if y.size == 0 or y.dtype.kind not in "fc":
        return True
    flat = y.reshape(-1)
    with np.errstate(all="ignore"):  # thread-local: a depthwise piece's thread has its own
        if np.isfinite(np.dot(flat, flat)):
            return True
    return bool(np.isfinite(y.min()) and np.isfinite(y.max()))


class Epilogue:
    """Called on each chunk of a convolution's output (a view of the output array, written in
    place). ``stages``: the fused layers' in-place functions, in order; ``finite[0]`` is the
    convolution's own output, ``finite[k]`` after stage ``k``. Thread-safe: the chunks of a
    depthwise convolution's pieces call it from their threads."""

    def __init__(self, stages: Sequence[Stage] = ()) -> None:
        self.stages = tuple(stages)
        self.finite = [True] * (len(self.stages) + 1)
        self._busy = [0.0] * (len(self.stages) + 1)  # wall-clock shares; [0]: the checks
        self._lock = threading.Lock()

    def __call__(self, chunk: Array, workers: int = 1) -> None:
        """``chunk`` done; ``workers``: how many threads are doing the same at once, so that a
        chunk's time counts for that share of the wall-clock time."""
        start = time.perf_counter()
        finite = [all_finite(chunk)]
        checked = time.perf_counter()
        spent = [checked - start]
        for stage in self.stages:
            begin = time.perf_counter()
            stage(chunk)
            done = time.perf_counter()
            finite.append(all_finite(chunk))
            checked = time.perf_counter()
            spent[0] += checked - done
            spent.append(done - begin)
        with self._lock:
            for k, ok in enumerate(finite):
                self.finite[k] = self.finite[k] and ok
            for k, s in enumerate(spent):
                self._busy[k] += s / workers

    def split(self, wall: float) -> tuple[float, list[float]]:
        """The loop's ``wall`` seconds as (the convolution's, each fused layer's), excluding
        the finiteness checks, which are not any layer's work."""
        return max(wall - sum(self._busy), 0.0), self._busy[1:]


class ChunkHook(Protocol):
    """What a convolution calls on each finished chunk (an :class:`Epilogue`)."""

    def __call__(self, chunk: Array, workers: int = 1) -> None: ...


def finish(out: Array, bias: Array | None, epilogue: ChunkHook | None) -> None:
    """A finished chunk of a convolution's output (rows of a matrix): its bias added, then
    ``epilogue``, in place. A chunk of at least ``PARALLEL_FINISH`` bytes is cut by rows among
    the threads, as the product that made it was, instead of leaving all but one idle."""
    if bias is None and epilogue is None:
        return

    workers = threads() if out.nbytes >= PARALLEL_FINISH else 1
    workers = min(workers, len(out))

    def part(rows: Array) -> None:
        if bias is not None:
            rows += bias
        if epilogue is not None:
            epilogue(rows, workers)

    if workers < 2:
        part(out)
        return
    cuts = [len(out) * p // workers for p in range(workers + 1)]
    jobs = [pool(workers).submit(functools.partial(contextvars.copy_context().run, part,
                                                   out[a:b]))
            for a, b in itertools.pairwise(cuts) if b > a]
    for job in jobs:
        job.result()


def fusible(module: Any) -> bool:
    """Whether a layer can run inside the convolution before it: batch norm with running
    statistics (an affine map per channel) and the activations with an in-place kernel."""
    from cnncalc.execute import activations
    from cnncalc.execute.modules import ActivationModule, BatchNormModule

    if isinstance(module, BatchNormModule):
        return bool(module.buffer_shapes)
    return isinstance(module, ActivationModule) and module.fn in activations.IN_PLACE


def stage(module: Any) -> Stage:
    """The in-place function of a fusible layer, with its arrays as they are now."""
    from cnncalc.execute import activations
    from cnncalc.execute.modules import BatchNormModule

    if isinstance(module, BatchNormModule):
        fn = module.in_place()
        if fn is None:
            raise ValueError(f"{module.layer.name}: batch norm without running statistics")
        return fn
    return activations.IN_PLACE[module.fn]


def groups(modules: Sequence[Any], reads: Sequence[tuple[int, ...]], last: Sequence[int]
           ) -> dict[int, tuple[int, ...]]:
    """For each convolution (by tensor index, 1-based), the indices of the layers fused into
    it (maybe none): each reads only the tensor before it, which nothing else reads (``last``,
    from ``liveness.last_readers``, keeps the network's output past every layer)."""
    from cnncalc.execute.modules import ConvModule

    out: dict[int, tuple[int, ...]] = {}
    for i, m in enumerate(modules, start=1):
        if not isinstance(m, ConvModule):
            continue
        members: list[int] = []
        j = i + 1
        while j <= len(modules) and tuple(reads[j - 1]) == (j - 1,) and last[j - 1] == j \
                and fusible(modules[j - 1]):
            members.append(j)
            j += 1
        out[i] = tuple(members)
    return out
