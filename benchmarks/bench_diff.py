"""Benchmark ``cnncalc diff``'s alignment: time growth when both networks double.

    python benchmarks/bench_diff.py [--quick]

Three pairs of chains, each at n, 2n and 4n layers: the same network twice (the common
prefix is stripped), every conv's filter count different (all pairs changed, aligned on
their settings), and two unrelated random sequences of four layer kinds (the search runs out
of its work budget and the rest is paired by position). The time is compare() plus both
renderings (text and JSON), the least CPU time of three rounds; parsing and analysis are not
timed. ``x2`` is t(2n)/t(n), ``x4`` t(4n)/t(2n): about 2 for linear time, about 4 for
quadratic.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cnncalc.analyze import Analysis, analyze  # noqa: E402
from cnncalc.compare import compare  # noqa: E402
from cnncalc.parse import parse_text  # noqa: E402
from cnncalc.render.diff import to_json, to_text  # noqa: E402

KINDS = ("CONV: {k} 3x3 filters, pad 1", "CONV: {k} 1x1 filters", "BN", "RELU")


def chain(n: int, filters: int, seed: int | None) -> Analysis:
    """n layers: alternating 3x3 convs and ReLUs, or (seed given) random kinds."""
    rng = random.Random(seed)
    lines = ["[8x8x4] INPUT"]
    for i in range(n):
        kind = rng.choice(KINDS) if seed is not None else KINDS[0 if i % 2 == 0 else 3]
        lines.append(kind.format(k=filters))
    return analyze(parse_text("\n".join(lines) + "\n", "bench.txt"))


def timed(a: Analysis, b: Analysis) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        c = compare(a, b)
        to_text(c)
        to_json(c)
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="start at 2,000 layers, not 10,000")
    n = 2_000 if parser.parse_args().quick else 10_000
    cases = {"same network": (4, None, 4, None), "filters differ": (4, None, 5, None),
             "unrelated": (4, 1, 4, 2)}
    print(f"{'case':<16} {'n':>7} {'t(n)':>8} {'t(2n)':>8} {'t(4n)':>8} {'x2':>5} {'x4':>5}")
    for name, (ka, sa, kb, sb) in cases.items():
        times = [timed(chain(m, ka, sa), chain(m, kb, sb)) for m in (n, 2 * n, 4 * n)]
        print(f"{name:<16} {n:>7,} {times[0]:>8.3f} {times[1]:>8.3f} {times[2]:>8.3f} "
              f"{times[1] / times[0]:>5.2f} {times[2] / times[1]:>5.2f}")


if __name__ == "__main__":
    main()
