"""The executor's seeded weights, made at the speed of memory rather than of a random generator.

What is needed of them: reproducible (the same seed gives the same arrays, another seed other
arrays), not degenerate (not constant, not equal across layers or within one), and scaled so
that activations neither vanish nor explode in deep stacks. They need not be i.i.d. draws of one
generator: nothing the executor measures (output volumes, params, MACs, live tensors) depends
on their values, and the tests that compare against PyTorch load these very arrays into torch.

What we chose: every value is the sum of two uniform draws, ``half * ((u1 - 1/2) + (u2 - 1/2))``
with ``u1, u2`` uniform in [0, 1): a triangular distribution on ``+-half`` with variance
``half**2 / 6``. Weights take ``half = sqrt(12 / fan_in)``, variance ``2 / fan_in`` (He, the
variance of the former uniform ``+-sqrt(6 / fan_in)``, so activations keep today's scale);
biases take ``half = 0.1``.

- An array of at most ``WINDOW`` elements draws both terms straight from the generator, in
  its own type (float32 is drawn as float32, never made in float64 and cast).
- A larger array is filled window by window: ``WINDOW`` values at a time, each the sum of two
  slices of one seeded *pool* of ``POOL`` uniform values (drawn once per network, scaled once
  per array), starting at two offsets the generator draws for that window. One ``np.add`` per
  window of 32K values: the cost is one pass over the array's memory, and the windows of one
  array are shared among threads (as many as ``cnncalc.execute.threads.threads()`` gives, the
  count the depthwise kernels use: ``OPENBLAS_NUM_THREADS`` or ``OMP_NUM_THREADS`` where set,
  else one per processor, at most 8; ``np.add`` releases the GIL), each window's offsets fixed
  beforehand, so the values do not depend on the number of threads. Drawing VGG-16's 138 M
  float32 values from NumPy's generator (PCG64, single-threaded) takes about 0.35 s, longer
  than its forward pass (0.15-0.30 s on 2 cores); this takes about 0.12 s on one thread and
  0.07 s on two, most of it the operating system handing over the 553 MB (``np.ones`` of the
  same size costs 0.08 s on one).

Why not degenerate: inside a window the values are sums of distinct, independent draws; two
windows repeat each other only if both of their offsets coincide (about one chance in 5e10 per
pair, with 229,377 possible offsets each), and no array is constant, periodic or a copy of
another. Windows whose offsets are close share shifted terms, so neighbouring stretches can be
correlated (at most one half, when one term is shared): a structure a forward pass cannot
turn into a vanishing or exploding activation, since every value keeps the He variance.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from cnncalc.execute.ops import Array
from cnncalc.execute.threads import ranges, run_split
from cnncalc.execute.threads import threads as default_threads
from cnncalc.spec import Shape

POOL = 1 << 18  # uniform values drawn once per network for the large arrays (1 MiB in float32)
WINDOW = 1 << 15  # values per window: larger arrays are filled from the pool, small ones drawn


def setup_bytes(sizes: Iterable[int], itemsize: int) -> int:
    """The most bytes a ``WeightSource`` holds at once beside the arrays it has returned, when
    asked for arrays of ``sizes`` elements: once an array exceeds ``WINDOW`` values, the pool
    (kept until the network is built) and the scaled copy made for each large array; before
    that, the second draw added into the largest small array."""
    small = 0
    for n in sizes:
        if n > WINDOW:
            return 2 * POOL * itemsize
        small = max(small, n)
    return small * itemsize


def he_half(fan_in: int) -> float:
    """The half-width of weights with variance ``2 / fan_in``: ``sqrt(12 / fan_in)``."""
    return math.sqrt(12.0 / max(fan_in, 1))


BIAS_HALF = 0.1


class WeightSource:
    """Seeded arrays for one network, from ``rng`` (the network's own stream), in ``dtype``.
    The arrays depend on the seed and on the order and shapes of the requests only."""

    def __init__(self, rng: np.random.Generator, dtype: np.dtype[Any],
                 threads: int | None = None) -> None:
        self.rng = rng
        self.dtype = dtype
        self.threads = max(1, threads if threads is not None else default_threads())
        self._pool: Array | None = None

    def triangular(self, shape: Shape, half: float) -> Array:
        """An array of ``shape`` with values in ``+-half``, each the sum of two uniform draws
        in ``+-half/2`` (see the module's docstring for where the draws come from)."""
        n = 1
        for d in shape:
            n *= d
        scale = self.dtype.type(half)
        if n <= WINDOW:
            out = self.rng.random(n, dtype=self.dtype)
            out += self.rng.random(n, dtype=self.dtype)
            out -= self.dtype.type(1)
            out *= scale
            return out.reshape(shape)
        pool = self._scaled_pool(half / 2)
        out = np.empty(n, dtype=self.dtype)
        count = -(-n // WINDOW)
        offsets = self.rng.integers(0, POOL - WINDOW + 1, size=(count, 2)).tolist()

        def fill(first: int, last: int) -> None:
            for i in range(first, last):
                a, b = offsets[i]
                lo = i * WINDOW
                m = min(WINDOW, n - lo)
                np.add(pool[a:a + m], pool[b:b + m], out=out[lo:lo + m])

        parts = max(1, min(self.threads, count // 4))
        run_split([functools.partial(fill, *r) for r in ranges(count, parts)])
        return out.reshape(shape)

    def _scaled_pool(self, scale: float) -> Array:
        """The pool, uniform in ``+-1`` (drawn on first use), times ``scale``: a new array."""
        if self._pool is None:
            pool = self.rng.random(POOL, dtype=self.dtype)
            pool *= self.dtype.type(2)
            pool -= self.dtype.type(1)
            self._pool = pool
        scaled: Array = self._pool * self.dtype.type(scale)
        return scaled
