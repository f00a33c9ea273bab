"""Element-wise layers run inside the convolution before them, chunk by chunk.

A batch norm (with running statistics) or an in-place activation (ReLU, ReLU6) right after a
convolution, reading nothing else, whose input no later layer reads, is a pass over the whole
output once the convolution is done: it reads and writes arrays far larger than the cache.
Here it is applied to each chunk of the convolution's output as soon as the chunk is made,
while it is in cache (and, for depthwise convolutions, in the thread that made it). The same
operations run on the same values in the same order, so the results are bitwise those of the
layers run one by one; each layer keeps its own row, figures and time.

Each chunk's values are bounded after each layer (``Measured.finite``): the convolution's by
the bound the network carries from its input (:mod:`cnncalc.execute.bounds`), else by one
BLAS dot product over the chunk, in cache (:func:`magnitude`); a fused layer's by how far it
can move a value, looked at again only where that bound does not vouch for it
(:class:`Epilogue`). The chunks are given as whole output rows (``Wo*K`` values each), so
that each pass runs one long inner loop.

Times: a chunk's time in each fused layer is measured around its call; where the chunks are
cut among threads (the pieces of a depthwise convolution, or a large chunk's rows), each
counts for its share (its time divided by the threads doing the same at once, which work on
equal parts), and the convolution's time is the wall-clock time of the whole loop less its
fused layers'.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from cnncalc.execute import bounds
from cnncalc.execute.threads import ranges, run_split, threads

Array = NDArray[Any]
Stage = Callable[[Array], Any]
Bound = Callable[[float], float]
"""From a bound of ``|value|`` before a stage, one after it (inf: none)."""
PARALLEL_FINISH = 1 << 20  # bytes


@functools.lru_cache(maxsize=8)
def largest(dtype: np.dtype[Any]) -> float:
    """The largest finite value of ``dtype`` (inf for an integer type: it cannot overflow
    to inf)."""
    return float(np.finfo(dtype).max) if dtype.kind in "fc" else math.inf


def magnitude(y: Array) -> float:
    """An upper bound of the largest ``|value|`` of ``y``, or inf if a value is not finite.
    Mostly one BLAS dot product that allocates nothing: the sum of the squares is finite if
    every value is (an inf or a nan makes it inf or nan), and its square root bounds them,
    allowing for the rounding of ``n`` additions (``n * eps`` relative). Where it is not
    finite (also when large finite values overflow it), or too many values make that
    allowance loose, the least and the greatest value decide (a nan makes both nan)."""
    if y.size == 0 or y.dtype.kind != "f":
        return 0.0 if y.dtype.kind in "biu" or np.isfinite(y).all() else math.inf
    flat = y.reshape(-1)
    slack = 1.0 - flat.size * float(np.finfo(y.dtype).eps)
    if slack >= 0.5:
        with np.errstate(all="ignore"):  # thread-local: a depthwise piece's thread has its own
            squares = float(np.dot(flat, flat))
        if math.isfinite(squares):
            return math.sqrt(squares / slack) * 1.001
    low, high = float(y.min()), float(y.max())
    if not (math.isfinite(low) and math.isfinite(high)):
        return math.inf
    return max(-low, high)


class Epilogue:
    """Called on each chunk of a convolution's output (a view of the output array, written in
    place). ``stages``: the fused layers, in order, each an in-place function and how far it
    can move the values (:data:`Bound`); ``finite[0]`` is the convolution's own output,
    ``finite[k]`` after stage ``k``. A stage's output is looked at only where its bound, from
    the bound of its input, does not already say it is finite (batch norm's scale and shift
    keep 1e3 far below float32's 3.4e38; a ReLU never makes a finite value infinite).
    Thread-safe: the chunks of a depthwise convolution's pieces call it from their threads."""

    def __init__(self, stages: Sequence[tuple[Stage, Bound]] = (), start: float | None = None
                 ) -> None:
        self.stages = tuple(stages)
        self.start = start  # a bound of the convolution's output, if one vouches for it
        self.reach = [0.0] * (len(self.stages) + 1)  # bounds of |value|, over the chunks
        self._busy = [0.0] * (len(self.stages) + 1)  # wall-clock shares; [0]: the checks
        self._lock = threading.Lock()

    @property
    def finite(self) -> list[bool]:
        """Whether each output (the convolution's, then each stage's) stayed finite."""
        return [r < math.inf for r in self.reach]

    def __call__(self, chunk: Array, workers: int = 1) -> None:
        """``chunk`` done; ``workers``: how many threads are doing the same at once, so that a
        chunk's time counts for that share of the wall-clock time."""
        start = time.perf_counter()
        limit = largest(chunk.dtype)
        reach = self.start if self.start is not None and self.start < limit \
            else magnitude(chunk)
        reached = [reach]
        checked = time.perf_counter()
        spent = [checked - start]
        for stage, bound in self.stages:
            begin = time.perf_counter()
            stage(chunk)
            done = time.perf_counter()
            reach = bound(reach) if reach < math.inf else math.inf
            if not reach < limit:  # not known to be finite: look
                reach = magnitude(chunk)
            reached.append(reach)
            checked = time.perf_counter()
            spent[0] += checked - done
            spent.append(done - begin)
        with self._lock:
            for k, r in enumerate(reached):
                self.reach[k] = max(self.reach[k], r)
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
    run_split([functools.partial(part, out[a:b]) for a, b in ranges(len(out), workers)])


def fusible(module: Any) -> bool:
    """Whether a layer can run inside the convolution before it: batch norm with running
    statistics (an affine map per channel) and the activations with an in-place kernel."""
    from cnncalc.execute import activations
    from cnncalc.execute.modules import ActivationModule, BatchNormModule

    if isinstance(module, BatchNormModule):
        return bool(module.buffer_shapes)
    return isinstance(module, ActivationModule) and module.fn in activations.IN_PLACE


def stage(module: Any, dtype: np.dtype[Any], gains: bounds.Gains) -> tuple[Stage, Bound]:
    """The in-place function of a fusible layer, with its arrays as they are now, and how far
    it can move a value (``bounds.after``: batch norm ``|x * scale + shift| <= b * max|scale|
    + max|shift|``, ReLU6 to at most 6, ReLU not at all, with margins for rounding)."""
    from cnncalc.execute import activations
    from cnncalc.execute.modules import BatchNormModule

    def bound(b: float) -> float:
        return bounds.after(module, [b], dtype, gains)

    if isinstance(module, BatchNormModule):
        affine = module.affine()
        if affine is None:
            raise ValueError(f"{module.layer.name}: batch norm without running statistics")

        def normalise(x: Array) -> None:
            affine.apply(x, out=x)

        return normalise, bound
    return activations.IN_PLACE[module.fn], bound


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
