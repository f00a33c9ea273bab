"""How far cnncalc's own threads can speed up NumPy work, by the size of each NumPy call.

The executor splits work that NumPy does without the GIL (a depthwise convolution's taps, the
im2col gather, a chunk's fused batch norm and activation) among Python threads
(``cnncalc.execute.threads.run_split``). Each NumPy call releases the GIL and takes it back;
when two threads both want it, the hand-over goes through the operating system. This script
measures, side by side in one run, the same work done serially and cut between the threads:

- ``calls``: two arrays, each multiplied in place ``calls`` times (``np.multiply``), one per
  thread, from one call of 2 M values down to many calls of a few thousand;
- ``handoff``: ``run_split`` of two jobs that do nothing (the cost of starting and joining a
  piece on the pool);
- ``depthwise``: MobileNetV2's 3x3 depthwise layers with their batch norm and ReLU6 fused, at
  batch 1, as the executor runs them: all in the calling thread, then cut into one piece per
  thread (``depthwise.PARALLEL`` lowered so that every layer is cut).

    .venv/bin/python benchmarks/bench_threads.py [--threads N] [--repeat R]

Printed: the median time of each (ms), the speedup of the threads over the serial run, and
the machine's load. A speedup below 1 means the threads cost more than they save: with calls
of under about 20 K values (about 5 us each) on this 2-core VM, two threads took 1.6-1.9 times
as long as one. Tests never assert these times.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import time
from collections.abc import Callable

import cnncalc.execute  # noqa: F401  (before NumPy: OpenBLAS's settings, as `cnncalc run`)

# isort: split
import numpy as np

from cnncalc.execute import depthwise, ops
from cnncalc.execute.activations import IN_PLACE
from cnncalc.execute.fusion import Epilogue
from cnncalc.execute.threads import run_split

SIZES = ((2_000_000, 1), (200_000, 10), (20_000, 100), (5_000, 400))
# MobileNetV2's depthwise layers at batch 1: input side, channels, stride
DEPTHWISE = ((112, 32, 1), (112, 96, 2), (56, 144, 1), (28, 192, 1), (14, 384, 1), (7, 960, 1))


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def calls(size: int, count: int, workers: int, repeat: int) -> tuple[float, float]:
    arrays = [np.random.default_rng(k).random(size, dtype=np.float32) for k in range(workers)]

    def work(x: np.ndarray) -> None:
        for _ in range(count):
            np.multiply(x, np.float32(1.0001), out=x)

    def serial() -> None:
        for x in arrays:
            work(x)

    def split() -> None:
        run_split([functools.partial(work, x) for x in arrays])

    return median_ms(serial, repeat), median_ms(split, repeat)


def depthwise_layer(side: int, channels: int, stride: int, repeat: int) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    x = rng.random((1, side, side, channels), dtype=np.float32)
    w = rng.random((channels, 9, 1), dtype=np.float32)
    out = (side + 2 - 3) // stride + 1
    y = np.empty((1, out, out, channels), np.float32)
    scratch = ops.Scratch()
    affine = ops.Affine(rng.random(channels, dtype=np.float32),
                        rng.random(channels, dtype=np.float32))

    def normalise(v: np.ndarray) -> None:
        affine.apply(v, out=v)

    stages = [(normalise, lambda b: b * 2.0), (IN_PLACE["relu6"], lambda b: 6.0)]

    def run(parallel: int) -> None:
        saved, depthwise.PARALLEL = depthwise.PARALLEL, parallel
        try:
            ops.conv2d(x, w, None, (3, 3), (stride, stride), (1, 1), (1, 1), (1, 1),
                       (out, out), 1 << 22, scratch, Epilogue(stages, 10.0), y)
        finally:
            depthwise.PARALLEL = saved

    return median_ms(lambda: run(1 << 62), repeat), median_ms(lambda: run(1), repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="pieces to cut the work into")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs of each case")
    args = parser.parse_args()
    workers, repeat = max(2, args.threads), max(1, args.repeat)
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}; numpy {np.__version__}; "
          f"{os.cpu_count()} CPUs; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"{'case':34} {'serial':>10} {f'{workers} threads':>10} {'speedup':>8}")
    noop = median_ms(lambda: run_split([lambda: None] * workers), repeat * 10)
    print(f"{'handoff (jobs doing nothing)':34} {'':>10} {noop:9.3f}  {'':>8}")
    for size, count in SIZES:
        one, many = calls(size, count, workers, repeat)
        print(f"{f'{count} calls of {size:,} values':34} {one:9.3f}  {many:9.3f}  "
              f"{one / many:7.2f}")
    for side, channels, stride in DEPTHWISE:
        one, many = depthwise_layer(side, channels, stride, repeat)
        name = f"depthwise {side}x{side}x{channels} s{stride} +BN+ReLU6"
        print(f"{name:34} {one:9.3f}  {many:9.3f}  {one / many:7.2f}")


if __name__ == "__main__":
    main()
