"""Benchmark `cnncalc show` in every format against `cnncalc check` on the same large file.

    python benchmarks/bench_formats.py [--quick] [--runs N]

Issue 14 asks that `show` in every format (table, json, csv, markdown) cost at most 1.5x what
`check` costs on the same 100,000-layer file, and grow linearly. Each command runs as a
subprocess, as a user runs it (output to a pipe that is read and dropped), interleaved round
by round so that a change in the machine's load hits every command alike. Printed: medians of
wall time and of CPU time (user + system of the child), each format's ratio to `check`, and
the growth of its per-layer cost from 10,000 to 100,000 layers.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("table", "json", "csv", "markdown")
TARGET = 1.5  # show / check, 100,000 layers
LINEAR = 1.3  # per-layer cost at 100,000 over 10,000 layers


def lecture_text(n: int) -> str:
    """INPUT, then n convolutions that keep the volume (as bench_show.py's scaling spec)."""
    lines = ["[224x224x3] INPUT"]
    lines += [f"CONV{i}: 3 3x3 filters at stride 1, pad 1" for i in range(n)]
    return "\n".join(lines) + "\n"


def timed(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one subprocess (its stdout read and dropped)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cnncalc", *args], cwd=ROOT, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="10,000 and 30,000 layers, 3 runs")
    ap.add_argument("--runs", type=int, default=None, help="rounds per size (default 5)")
    opts = ap.parse_args()
    sizes = (10_000, 30_000) if opts.quick else (10_000, 100_000)
    runs = opts.runs or (3 if opts.quick else 5)
    print(f"Python {sys.version.split()[0]}; os.cpu_count(): {os.cpu_count()}; load average: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {runs} interleaved rounds a size")
    per_layer: dict[tuple[str, int], float] = {}
    failed = False
    with tempfile.TemporaryDirectory(prefix="cnncalc-formats-") as tmp:
        for n in sizes:
            path = Path(tmp) / f"net{n}.txt"
            path.write_text(lecture_text(n), encoding="utf-8")
            limit = ["--max-layers", str(n + 10)]
            cmds = {"check": ["check", *limit, str(path)]}
            cmds.update({fmt: ["show", "--format", fmt, *limit, str(path)] for fmt in FORMATS})
            walls: dict[str, list[float]] = {k: [] for k in cmds}
            cpus: dict[str, list[float]] = {k: [] for k in cmds}
            for _ in range(runs):
                for name, args in cmds.items():
                    wall, cpu = timed(args)
                    walls[name].append(wall)
                    cpus[name].append(cpu)
            check_wall = statistics.median(walls["check"])
            check_cpu = statistics.median(cpus["check"])
            print(f"\n{n:,} layers: check {check_wall:.2f} s wall, {check_cpu:.2f} s CPU")
            for name in cmds:
                wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
                per_layer[(name, n)] = cpu / n
                if name == "check":
                    continue
                ratio = wall / check_wall
                line = (f"  show --format {name:<9} {wall:6.2f} s wall ({ratio:.2f}x check),"
                        f" {cpu:6.2f} s CPU ({cpu / check_cpu:.2f}x)")
                if n == sizes[-1] and not opts.quick:
                    ok = ratio <= TARGET
                    failed |= not ok
                    line += f"  target <= {TARGET}x  {'PASS' if ok else 'FAIL'}"
                print(line)
    small, large = sizes
    print(f"\nper-layer CPU cost, {large:,} over {small:,} layers (linear ~1.0; "
          f"target <= {LINEAR}):")
    for name in ("check", *FORMATS):
        growth = per_layer[(name, large)] / per_layer[(name, small)]
        ok = growth <= LINEAR
        failed |= not ok
        print(f"  {name:<9} {growth:.2f}x  {'PASS' if ok else 'FAIL'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
