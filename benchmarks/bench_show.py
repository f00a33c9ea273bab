"""Benchmark `cnncalc show`: startup, the no-numpy rule, analysis scaling, JSON and table rendering.

    python benchmarks/bench_show.py [--quick]

Every figure is a median of several runs taken in this one invocation, so that the comparisons
(ratios) are made under the same machine load. Targets are reported as PASS/FAIL; the exit
status is 0 unless `show` imports numpy (then 1).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from cnncalc.analyze import Analysis, analyze
from cnncalc.parse import parse_text
from cnncalc.render.machine import to_json
from cnncalc.render.memory import Memory
from cnncalc.render.table import print_table

ROOT = Path(__file__).resolve().parent.parent
SPEC = "specs/alexnet.txt"
SHOW = ["-m", "cnncalc", "show", "--format", "json", SPEC]
# issue 12: a network that branches, 16 bottleneck blocks written once, as its table
SHOW_GRAPH = ["-m", "cnncalc", "show", "specs/resnet50.txt"]
BASELINE = ["-c", "import click, rich.console, rich.table"]
STARTUP_TARGET = 1.3  # show / baseline, medians
TEN_K_TARGET = 1.0  # seconds for parse + analyze of 10,000 layers
LINEAR_LIMIT = 2.0  # per-layer cost, largest size / smallest size

# Runs `show` in-process, then prints its exit status and whether numpy was imported.
NUMPY_PROBE = f"""
import contextlib, io, sys
from cnncalc.cli import main
code = None
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main({SHOW[2:]!r})
    except SystemExit as exc:
        code = exc.code
print(code, 'numpy' in sys.modules)
"""


def bench_rich_saving(runs: int) -> None:
    """What writing the table without rich's Console (cnncalc.render.terminal) saves: the
    import of rich.console, which show's table no longer needs, against show's own time. The
    brief keeps such a mirror of another library's rule only while it saves over 10%."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    probe = ("import sys, contextlib, io\nfrom cnncalc.cli import main\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n"
             f"    try: main({SHOW_GRAPH[2:]!r})\n    except SystemExit: pass\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, check=False).stdout.strip()
    print(f"  rich modules imported by `show specs/resnet50.txt`: {loaded or '?'}")
    cmds = {"click": ["-c", "import click"], "click+rich.console":
            ["-c", "import click, rich.console"], "show": SHOW_GRAPH}
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for cmd in cmds.values():
        run_once(cmd, env)
    for _ in range(runs):
        for name, cmd in cmds.items():
            times[name].append(run_once(cmd, env))
    med = {k: statistics.median(v) for k, v in times.items()}
    saved = med["click+rich.console"] - med["click"]
    share = saved / (med["show"] + saved)
    print(f"  import rich.console: {saved * 1e3:.1f} ms (click {med['click'] * 1e3:.1f} ms,"
          f" click+rich.console {med['click+rich.console'] * 1e3:.1f} ms); show's table"
          f" {med['show'] * 1e3:.1f} ms: drawing without it saves {share:.0%} of the"
          f" command's time (keep the mirror while > 10%)  {verdict(share > 0.10)}")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def ms(times: list[float]) -> str:
    lo, hi = min(times) * 1e3, max(times) * 1e3
    return f"{statistics.median(times) * 1e3:6.1f} ms [{lo:.0f}-{hi:.0f}]"


def run_once(args: Sequence[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def bench_startup(runs: int, show: list[str]) -> None:
    """Two environments: the inherited one, and one that caches bytecode in a temporary
    PYTHONPYCACHEPREFIX (outside the repo), as an installed copy would have .pyc files."""
    proc = subprocess.run([sys.executable, *show], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        print(f"  warning: `cnncalc show` exited {proc.returncode}: {proc.stderr.strip()[:200]}")
    with tempfile.TemporaryDirectory(prefix="cnncalc-pyc-") as prefix:
        cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached["PYTHONPYCACHEPREFIX"] = prefix
        envs = {"inherited env": dict(os.environ), "bytecode cached": cached}
        times: dict[tuple[str, str], list[float]] = {}
        for env in envs.values():
            for cmd in (show, BASELINE):  # warm-up: bytecode cache, page cache
                run_once(cmd, env)
        for _ in range(runs):  # interleaved A B A' B' so that load changes hit all alike
            for env_name, env in envs.items():
                for cmd_name, cmd in (("show", show), ("baseline", BASELINE)):
                    times.setdefault((env_name, cmd_name), []).append(run_once(cmd, env))
    for label, cmd in (("show", show), ("baseline", BASELINE)):
        print(f"  {label}: {shlex.join(['python', *cmd])}")
    print(f"  inherited PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE')!r};"
          f" medians of {runs} runs each, [min-max]; paired = median of per-round ratios")
    for env_name in envs:
        mine, base = times[(env_name, "show")], times[(env_name, "baseline")]
        ratio = statistics.median(mine) / statistics.median(base)
        paired = statistics.median(a / b for a, b in zip(mine, base, strict=True))
        print(f"  {env_name + ':':<16} show {ms(mine)}  baseline {ms(base)}  ratio {ratio:.2f}x"
              f" (paired {paired:.2f}x; <= {STARTUP_TARGET}x)  {verdict(ratio <= STARTUP_TARGET)}")


def who_imported_numpy() -> str:
    """From `-X importtime`: the first module that finished importing right after numpy's
    top-level line at a shallower depth, i.e. the one that imported numpy."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *SHOW], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    rows = [ln.split("|")[-1] for ln in proc.stderr.splitlines() if ln.startswith("import time:")]
    depth = {i: len(r) - len(r.lstrip()) for i, r in enumerate(rows)}
    top = next((i for i, r in enumerate(rows) if r.strip() == "numpy"), None)
    if top is None:
        return "(numpy not seen in -X importtime output)"
    parents = [rows[i].strip() for i in range(top + 1, len(rows)) if depth[i] < depth[top]]
    return " <- ".join(["numpy", *parents[:4]]) if parents else "numpy (top level)"


def check_numpy() -> bool:
    proc = subprocess.run([sys.executable, "-c", NUMPY_PROBE], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    answer = (proc.stdout.strip().splitlines() or ["? ?"])[-1].split()
    if answer[-1] not in ("True", "False") or answer[0] not in ("0", "1"):
        print(f"  probe failed (exit {proc.returncode}, show exit {answer[0]}):"
              f" {proc.stderr.strip()[-300:]}")
        return True
    imported = answer[-1] == "True"
    print(f"  numpy imported by show: {'yes' if imported else 'no'}")
    if imported:
        print(f"  import chain: {who_imported_numpy()}")
    return imported


def lecture_text(n: int) -> str:
    """An INPUT then n layers alternating conv 3x3 s1 p1 and ReLU: the shape stays 32x32x16."""
    lines = ["[32x32x16] INPUT"]
    for i in range(1, n + 1):
        lines.append(f"CONV{i}: 16 3x3 filters at stride 1, pad 1" if i % 2 else f"RELU{i}")
    return "\n".join(lines) + "\n"


def bench_scaling(sizes: Sequence[int], repeats: dict[int, int]) -> Analysis | None:
    """Table of parse / analyze times; returns the 10,000-layer analysis for the JSON timing."""
    print(f"  {'layers':>8} {'runs':>4} {'parse s':>9} {'analyze s':>10} {'total s':>9}"
          f" {'us/layer':>9} {'growth':>7}")
    per_layer: dict[int, float] = {}
    keep: Analysis | None = None
    prev: int | None = None
    for n in sizes:
        text, path = lecture_text(n), f"<{n} layers>"
        parse_t: list[float] = []
        analyze_t: list[float] = []
        for _ in range(repeats[n]):
            t0 = time.perf_counter()
            spec = parse_text(text, path)
            t1 = time.perf_counter()
            result = analyze(spec)
            parse_t.append(t1 - t0)
            analyze_t.append(time.perf_counter() - t1)
        if not result.ok or len(result.layers) != n:
            print(f"  warning: the {n}-layer spec did not analyse clean "
                  f"({len(result.layers)} layers, {len(result.diagnostics)} diagnostics)")
        total = statistics.median(p + a for p, a in zip(parse_t, analyze_t, strict=True))
        per_layer[n] = total / n * 1e6
        growth = "" if prev is None else f"{per_layer[n] / per_layer[prev]:.2f}x"
        print(f"  {n:>8,} {repeats[n]:>4} {statistics.median(parse_t):>9.3f}"
              f" {statistics.median(analyze_t):>10.3f} {total:>9.3f} {per_layer[n]:>9.1f}"
              f" {growth:>7}")
        if n == 10_000:
            keep = result
            print(f"           10,000 layers in {total:.3f} s (target < {TEN_K_TARGET} s)"
                  f"  {verdict(total < TEN_K_TARGET)}")
        prev = n
    lo, hi = min(per_layer), max(per_layer)
    ratio = per_layer[hi] / per_layer[lo]
    print(f"  per-layer cost {hi:,} vs {lo:,} layers: {ratio:.2f}x"
          f"  (linear ~1x; target <= {LINEAR_LIMIT}x)  {verdict(ratio <= LINEAR_LIMIT)}")
    return keep


def bench_json(analysis: Analysis, runs: int) -> None:
    times: list[float] = []
    size = 0
    for _ in range(runs):
        start = time.perf_counter()
        size = len(to_json(analysis))
        times.append(time.perf_counter() - start)
    print(f"  to_json, {len(analysis.layers):,} layers: median {statistics.median(times):.3f} s"
          f"  ({statistics.median(times) / len(analysis.layers) * 1e6:.1f} us/layer,"
          f" {size / 1e6:.1f} MB, n={runs})")


def table_seconds(analysis: Analysis) -> float:
    """Time of one human table (as `show` prints it, 100 columns, no colour)."""
    start = time.perf_counter()
    print_table(analysis, Memory(), file=io.StringIO(), width=100)
    return time.perf_counter() - start


def bench_tables(runs: int) -> None:
    """The table in-process: the shipped graphs, where it used to dwarf the analysis."""
    for name in ("specs/resnet50.txt", "specs/densenet121.txt"):
        path = ROOT / name
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        analyse_t: list[float] = []
        for _ in range(runs):
            start = time.perf_counter()
            analysis = analyze(parse_text(text, name))
            analyse_t.append(time.perf_counter() - start)
        table = statistics.median(table_seconds(analysis) for _ in range(runs))
        print(f"  {name}: {len(analysis.layers)} rows, parse + analyze"
              f" {statistics.median(analyse_t) * 1e3:.1f} ms, table {table * 1e3:.1f} ms"
              f" (medians, n={runs})")


def bench_table(analysis: Analysis, runs: int) -> None:
    times = [table_seconds(analysis) for _ in range(runs)]
    print(f"  table, {len(analysis.layers):,} layers: median {statistics.median(times):.3f} s"
          f"  ({statistics.median(times) / len(analysis.layers) * 1e6:.1f} us/row, n={runs})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="fewer runs, no 100,000 layers")
    quick = ap.parse_args().quick
    print(f"Python {platform.python_version()} ({sys.executable})")
    print(f"os.cpu_count(): {os.cpu_count()}   load average: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}   mode: "
          f"{'quick' if quick else 'full'}")

    print("\n1. Startup (wall time of a subprocess, runs interleaved)")
    bench_startup(5 if quick else 15, SHOW)
    if (ROOT / SHOW_GRAPH[-1]).exists():
        print("\n1b. Startup on a network that branches (ResNet-50's table)")
        bench_startup(5 if quick else 15, SHOW_GRAPH)

    print("\n2. Imports")
    numpy_imported = check_numpy()
    if (ROOT / SHOW_GRAPH[-1]).exists():
        bench_rich_saving(5 if quick else 11)

    print("\n3. Analysis scaling (lecture notation: INPUT, then CONV 3x3 s1 p1 / RELU)")
    sizes = [1_000, 10_000] if quick else [1_000, 10_000, 100_000]
    repeats = {1_000: 3, 10_000: 1} if quick else {1_000: 7, 10_000: 3, 100_000: 2}
    analysis = bench_scaling(sizes, repeats)

    print("\n4. Rendering")
    if analysis is not None:
        bench_json(analysis, 1 if quick else 3)
        bench_table(analysis, 1 if quick else 3)
    bench_tables(3 if quick else 7)
    return 1 if numpy_imported else 0


if __name__ == "__main__":
    sys.exit(main())
