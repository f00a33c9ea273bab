"""The threads the executor runs on, decided in one place.

Two pools do the work of ``cnncalc run``: NumPy's BLAS (the matrix products of convolutions
and dense layers) and cnncalc's own threads (the depthwise taps, the weights' fill), which
split ufunc work that releases the GIL. Both follow the variables NumPy's OpenBLAS reads when
it is loaded: ``OPENBLAS_NUM_THREADS``, then ``GOTO_NUM_THREADS``, then ``OMP_NUM_THREADS``
(the first that holds a positive integer; 0 or text passes to the next), else the CPUs this
process may run on (``os.sched_getaffinity``, where the platform has it, else
``os.cpu_count``).

OpenBLAS then caps its count at those CPUs (measured: ``OPENBLAS_NUM_THREADS=4`` on 2 CPUs
starts 2 threads) and at the ``MAX_THREADS`` it was built with (read from NumPy's build
configuration); cnncalc's own threads are capped at :data:`MAX_THREADS`. Which BLAS NumPy uses
is read from its build configuration; for another BLAS than OpenBLAS (MKL, Accelerate) its
thread count is not known here and is reported as such. No dependency beyond NumPy: the counts
are modelled from what OpenBLAS reads, not asked of the library (threadpoolctl could, but it
is not a dependency).
"""

from __future__ import annotations

import contextvars
import itertools
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")
MAX_THREADS = 8  # cnncalc's own threads: more do not pay on arrays this size
CPUS = "the CPUs available"


def cpus() -> int:
    """The processors this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on every platform
        return max(1, os.cpu_count() or 1)


def requested() -> tuple[str, int] | None:
    """The first of :data:`VARIABLES` set to a positive integer, with its value."""
    for var in VARIABLES:
        value = os.environ.get(var, "").strip()
        if value.isdigit() and int(value) >= 1:
            return var, int(value)
    return None


def threads() -> int:
    """cnncalc's own threads: the count the variables ask for, else the CPUs available; at
    most :data:`MAX_THREADS`."""
    asked = requested()
    return max(1, min(asked[1] if asked else cpus(), MAX_THREADS))


@dataclass(frozen=True)
class ThreadUse:
    """The threads a run uses. ``blas``: NumPy's BLAS threads (None: a BLAS whose count is
    not known here); ``library``: that BLAS's name as NumPy's build records it (None: not
    recorded); ``own``: cnncalc's threads; ``source``: where the count comes from, e.g.
    ``OPENBLAS_NUM_THREADS=2`` or ``the CPUs available``."""

    blas: int | None
    library: str | None
    own: int
    source: str

    def describe(self) -> str:
        """``2 threads (OPENBLAS_NUM_THREADS=2)`` when both pools agree; else each named."""
        if self.blas == self.own:
            return f"{_threads(self.own)} ({self.source})"
        if self.blas is None:
            return (f"{_threads(self.own)} of cnncalc's own ({self.source}); "
                    f"NumPy's BLAS ({self.library or 'unknown'}) threads not known")
        why = self.source
        if self.blas < self.own:  # OpenBLAS caps what the variable asks at the CPUs
            why = f"{self.source}, capped by OpenBLAS at {_plural(self.blas, 'CPU')}"
        return (f"BLAS {_threads(self.blas)} ({why}), cnncalc's own {_threads(self.own)} "
                f"({self.source}, at most {MAX_THREADS})")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _threads(n: int) -> str:
    return _plural(n, "thread")


def blas_config() -> tuple[str | None, int | None]:
    """NumPy's BLAS: its name and the ``MAX_THREADS`` OpenBLAS was built with, from NumPy's
    build configuration (None where it does not say)."""
    try:
        import numpy as np

        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
    except (TypeError, KeyError, AttributeError):  # an older NumPy: no mode="dicts"
        return None, None
    name = str(blas.get("name")) if blas.get("name") else None
    built = re.search(r"MAX_THREADS=(\d+)", str(blas.get("openblas configuration", "")))
    return name, int(built.group(1)) if built else None


def thread_use() -> ThreadUse:
    """The threads of this process's run (see the module's docstring for the rules)."""
    asked = requested()
    source = f"{asked[0]}={asked[1]}" if asked else CPUS
    library, built = blas_config()
    blas: int | None = None
    if library is not None and "openblas" in library.lower():
        blas = min(asked[1] if asked else cpus(), cpus(), built or cpus())
    return ThreadUse(blas, library, threads(), source)


T = TypeVar("T")
_POOLS: dict[int, ThreadPoolExecutor] = {}


def pool(workers: int) -> ThreadPoolExecutor:
    """cnncalc's own threads: one pool per thread count, made on first use and kept. They
    run NumPy work that releases the GIL (the depthwise taps, the im2col gather, a chunk's
    bias and fused layers, the weights' fill) side by side."""
    if workers not in _POOLS:
        _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="cnncalc")
    return _POOLS[workers]


def ranges(size: int, parts: int) -> list[tuple[int, int]]:
    """``0 .. size`` cut into at most ``parts`` ranges (first, last + 1), as equal as they can
    be, none empty: how the pieces of a job split among the threads are made."""
    cuts = [size * p // parts for p in range(parts + 1)]
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def run_split(jobs: Sequence[Callable[[], T]]) -> list[T]:
    """``jobs`` run side by side, their results in order: the first in the calling thread,
    the others on the pool, each in a copy of the caller's context (NumPy's error state,
    ``np.errstate``, is a context variable a pool's thread would not otherwise see). The
    caller works instead of waiting, and one thread fewer is woken: on this 2-core VM
    handing all the pieces to the pool cost 0.1-0.3 ms a call."""
    if len(jobs) < 2:
        return [job() for job in jobs]
    workers = pool(len(jobs))
    rest = [workers.submit(contextvars.copy_context().run, job) for job in jobs[1:]]
    first = jobs[0]()
    return [first, *(future.result() for future in rest)]
