"""Does ``cnncalc run``'s estimated peak memory agree with the peak it measures?

Each spec in specs/ runs in its own process (``python -m cnncalc run --quiet --format json``),
at batch 1 and at batch 8 (skipped for a spec whose batch-8 run would take more than
``--b8-under`` seconds: its batch-1 set-up plus 8 times its batch-1 forward pass). From the
JSON totals: the estimate (``estimated_peak_bytes`` = ``baseline_bytes``, the interpreter and
libraries measured before the network, + the network's own peak) against
``measured_peak_bytes`` (the process's ``ru_maxrss`` at the end of the run), their ratio, and
PASS when it lies within 1.2x either way.

``--explain`` runs each spec twice more to say what the gap (measured - estimated) is made of:
with ``MALLOC_MMAP_THRESHOLD_=131072`` (glibc then returns every freed block above 128 KiB to
the system instead of keeping it: the difference is memory the allocator kept after NumPy
freed a tensor), and then also with ``OPENBLAS_NUM_THREADS=1`` (the difference is what the
extra BLAS and cnncalc threads hold: OpenBLAS's per-thread packing buffers, mostly).

    .venv/bin/python benchmarks/bench_memory.py [--threads N] [--explain] [SPEC ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIB = 2**20
LIMIT = 1.2


def run(spec: Path, batch: int, env: dict[str, str]) -> dict | None:
    """The totals of ``cnncalc run`` on ``spec`` (None when nothing ran)."""
    done = subprocess.run([sys.executable, "-m", "cnncalc", "run", "--quiet", "--format", "json",
                           "--batch", str(batch), str(spec)],
                          capture_output=True, text=True, env={**os.environ, **env},
                          check=False)
    try:
        totals = json.loads(done.stdout)["totals"]
    except (json.JSONDecodeError, KeyError):
        return None
    return totals if totals and totals.get("measured_peak_bytes") else None


def gap(totals: dict) -> float:
    return (totals["measured_peak_bytes"] - totals["estimated_peak_bytes"]) / MIB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("specs", nargs="*", type=Path)
    parser.add_argument("--threads", type=int, default=None,
                        help="OPENBLAS_NUM_THREADS for every run (default: the environment's)")
    parser.add_argument("--b8-under", type=float, default=20.0,
                        help="run batch 8 only when it should take at most this many seconds")
    parser.add_argument("--explain", action="store_true",
                        help="attribute the gap: allocator retention, extra threads")
    args = parser.parse_args()
    specs = args.specs or sorted((ROOT / "specs").glob("*.txt"))
    env = {} if args.threads is None else {"OPENBLAS_NUM_THREADS": str(args.threads)}
    head = (f"{'spec':<22} {'batch':>5} {'baseline':>9} {'network':>9} {'estimate':>9} "
            f"{'measured':>9} {'ratio':>6}  verdict")
    if args.explain:
        head += f"  {'gap':>6} {'alloc':>6} {'threads':>7} {'rest':>6}"
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; MiB; ratio = measured / "
          f"estimate; PASS within {LIMIT}x either way")
    print(head)
    failed = 0
    for spec in specs:
        slow = False
        for batch in (1, 8):
            if slow:
                print(f"{spec.name:<22} {batch:>5}  skipped: it would take over "
                      f"{args.b8_under:g} s")
                continue
            totals = run(spec, batch, env)
            if totals is None:
                print(f"{spec.name:<22} {batch:>5}  not run (the spec does not run)")
                break
            slow = totals["setup_seconds"] + 8 * totals["seconds"] > args.b8_under
            est, got = totals["estimated_peak_bytes"], totals["measured_peak_bytes"]
            ratio = got / est
            ok = 1 / LIMIT <= ratio <= LIMIT
            failed += not ok
            line = (f"{spec.name:<22} {batch:>5} {totals['baseline_bytes'] / MIB:>9.1f} "
                    f"{(est - totals['baseline_bytes']) / MIB:>9.1f} {est / MIB:>9.1f} "
                    f"{got / MIB:>9.1f} {ratio:>6.3f}  {'PASS' if ok else 'FAIL'}")
            if args.explain:
                fixed = run(spec, batch, {**env, "MALLOC_MMAP_THRESHOLD_": "131072"})
                one = run(spec, batch, {**env, "MALLOC_MMAP_THRESHOLD_": "131072",
                                           "OPENBLAS_NUM_THREADS": "1"})
                if fixed is not None and one is not None:
                    g, gf, g1 = gap(totals), gap(fixed), gap(one)
                    line += f"    {g:>6.1f} {g - gf:>6.1f} {gf - g1:>7.1f} {g1:>6.1f}"
            print(line, flush=True)
    if args.explain:
        print("gap = measured - estimate; alloc = kept by the allocator after NumPy freed it; "
              "threads = held by the threads beyond the first; rest = the gap on one thread "
              "with no allocator retention (OpenBLAS's first buffer, thread stacks, noise; "
              "negative where the estimate counts a tensor the executor writes over its "
              "input as a new one)")
    print(f"{failed} outside {LIMIT}x" if failed else f"all within {LIMIT}x")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
