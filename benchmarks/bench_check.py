"""Benchmark `cnncalc check`: 1,000 spec files checked in one process, beside one file.

    python benchmarks/bench_check.py [--files N] [--runs R]

Copies of the shipped specs (every notation; specs/alexnet224.txt included, so findings are
rendered too) are written round-robin into a temporary directory; each copy gets a distinct
comment line so that no cache could serve one copy for another. The command runs in this
process through click (discovery, reading, parse, analysis, rules, output) with the `concise`
and `json` formats; figures are medians of R runs taken side by side, so that the machine's
load hits them alike. Target: 1,000 files under 2 seconds, on the shipped specs the target
was set on (issue 5: the chains, 20 layers a file on average). The graph specs of issue 12
(ResNet, GoogLeNet, DenseNet, MobileNetV2, U-Net: 53 to 426 layers each) make a file 3.5
times as many layers on average, so a second tree holds every shipped spec, graphs included:
its time is printed beside the first with the cost per layer of each, which is what stays
the same when the work is linear. Also printed: the time per
notation, the cost of one file, the ratio (1,000-file time / 1,000 x one-file time, ~1 when
the per-file cost does not grow), peak memory, whether numpy was imported, and a calibration
loop timed beside each run, which says how fast the (shared, drifting) host was at the time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cnncalc.commands.check import check
from cnncalc.parse import detect

ROOT = Path(__file__).resolve().parent.parent
TARGET = 2.0  # seconds for 1,000 files


def run_once(args: list[str]) -> tuple[float, int]:
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            check.main(args=args, prog_name="cnncalc check", standalone_mode=True)
        except SystemExit as exc:
            code = int(exc.code or 0)
        else:
            code = 0
    return time.perf_counter() - start, code


def calibrate() -> float:
    """A fixed pure-Python workload (the interpreter loop, no cnncalc), timed beside every run:
    this shared host's speed drifts by 1.6x within an hour, and the ratio of a run to this
    figure drifts much less than either does."""
    start = time.perf_counter()
    for _ in range(20):
        sum(i * i for i in range(100_000))
    return (time.perf_counter() - start) / 20


GRAPHS = ("resnet18.txt", "resnet50.txt", "googlenet.txt", "densenet121.txt",
          "mobilenet_v2.txt", "unet.txt")


def make_tree(directory: Path, n: int, graphs: bool = False) -> dict[str, int]:
    """``n`` copies of the shipped specs, round-robin; the graph specs only with ``graphs``.
    Returns the files by notation, and under "layers" their layers in all."""
    from cnncalc.parse import parse_text

    specs = [p for p in sorted((ROOT / "specs").glob("*.txt")) if graphs or p.name not in GRAPHS]
    per_notation: dict[str, int] = {"layers": 0}
    sizes = {p: len(parse_text(p.read_text(encoding="utf-8"), p.name).layers) for p in specs}
    directory.mkdir(exist_ok=True)
    for i in range(n):
        src = specs[i % len(specs)]
        text = src.read_text(encoding="utf-8")
        sub = directory / f"d{i // 100:02d}"
        sub.mkdir(exist_ok=True)
        (sub / f"{i:04d}_{src.name}").write_text(f"# copy {i}\n{text}", encoding="utf-8")
        kind = detect(text)
        per_notation[kind] = per_notation.get(kind, 0) + 1
        per_notation["layers"] += sizes[src]
    return per_notation


def bare_analysis(directory: Path) -> float:
    """Read, parse and analyse the same files with no check machinery around them: what
    `cnncalc show`'s engine costs; check / this is the overhead of the gate itself."""
    from cnncalc.check.runner import analyse, decode
    from cnncalc.check.settings import FileSettings

    files = sorted(str(p) for p in directory.rglob("*.txt"))
    fs = FileSettings()
    start = time.perf_counter()
    for name in files:
        with open(name, "rb") as fh:
            text, bad = decode(fh.read(), name)
        analyse(text, name, fs, bad)
    return time.perf_counter() - start


def per_notation_times(runs: int) -> None:
    """One file of each shipped spec, timed alone (median), grouped by notation."""
    by: dict[str, list[float]] = {}
    for spec in sorted((ROOT / "specs").glob("*.txt")):
        times = [run_once(["--isolated", "--output-format", "concise", str(spec)])[0]
                 for _ in range(runs)]
        by.setdefault(detect(spec.read_text(encoding="utf-8")), []).append(
            statistics.median(times))
        print(f"    {spec.name:<24} {statistics.median(times) * 1e3:7.2f} ms")
    for kind, times in sorted(by.items()):
        print(f"  {kind:<8} mean of {len(times)} specs: {statistics.mean(times) * 1e3:.2f} ms"
              " per file")


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    opts = ap.parse_args()
    print(f"Python {platform.python_version()}  cpus {os.cpu_count()}  load "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    root = Path(tempfile.mkdtemp(prefix="cnncalc-bench-check-"))
    tmp, full = root / "chains", root / "all"
    try:
        counts = make_tree(tmp, opts.files)
        everything = make_tree(full, opts.files, graphs=True)
        for where, found in ((tmp, counts), (full, everything)):
            print(f"{opts.files} files in {where}: " + ", ".join(
                f"{n} {k}" for k, n in sorted(found.items()) if k != "layers")
                + f"; {found['layers']:,} layers")
        one = str(ROOT / "specs" / "alexnet.txt")
        for args in (["--isolated", str(tmp)], ["--isolated", one]):  # warm-up
            run_once(args)
        rows: dict[str, list[float]] = {}
        code = 0
        for _ in range(opts.runs):  # interleaved, so that load changes hit every case alike
            for fmt in ("concise", "json"):
                t, code = run_once(["--isolated", "--output-format", fmt, str(tmp)])
                rows.setdefault(f"{opts.files} files, {fmt}", []).append(t)
            t, _ = run_once(["--isolated", "--output-format", "concise", str(full)])
            rows.setdefault(f"{opts.files} files with graphs, concise", []).append(t)
            t, _ = run_once(["--isolated", "--output-format", "concise", one])
            rows.setdefault("1 file (alexnet.txt), concise", []).append(t)
            rows.setdefault(f"{opts.files} files, parse+analyse only", []).append(
                bare_analysis(tmp))
            rows.setdefault("calibration loop", []).append(calibrate())
        print(f"\nmedians of {opts.runs} runs [min-max]; exit status of the big run: {code}")
        for label, times in rows.items():
            med = statistics.median(times)
            if label == "calibration loop":
                print(f"  {label:<32} {med * 1e3:8.2f} ms [{min(times) * 1e3:.2f}-"
                      f"{max(times) * 1e3:.2f}]  (sum(i*i for i in range(100000)), host speed)")
                continue
            print(f"  {label:<32} {med:8.3f} s  [{min(times):.3f}-{max(times):.3f}]"
                  f"  {med / (opts.files if 'files' in label else 1) * 1e3:6.2f} ms/file")
        big = statistics.median(rows[f"{opts.files} files, concise"])
        bare = statistics.median(rows[f"{opts.files} files, parse+analyse only"])
        print(f"\n  check / bare parse+analyse of the same files: {big / bare:.2f}x"
              f" ({(big - bare) / opts.files * 1e3:.2f} ms per file for discovery, rules,"
              " suppression and output)")
        single = statistics.median(rows["1 file (alexnet.txt), concise"])
        scale = opts.files / 1000
        print(f"  {opts.files} files / ({opts.files} x one alexnet file): "
              f"{big / (opts.files * single):.2f}x (the mix is heavier than alexnet alone)")
        unit = statistics.median(rows["calibration loop"])
        print(f"  1,000 files = {big / scale / unit:.0f} calibration loops (compare runs taken"
              " at different moments by this figure, not by seconds)")
        verdict = "PASS" if big / scale < TARGET else "FAIL"
        print(f"  1,000 files: {big / scale:.3f} s (target < {TARGET} s)  {verdict}")
        graphs = statistics.median(rows[f"{opts.files} files with graphs, concise"])
        per_chain = big / counts["layers"] * 1e6
        per_all = graphs / everything["layers"] * 1e6
        print(f"  with the graph specs: {graphs:.3f} s for {everything['layers']:,} layers "
              f"({per_all:.1f} us a layer) against {big:.3f} s for {counts['layers']:,} "
              f"({per_chain:.1f} us a layer): {per_all / per_chain:.2f}x the cost per layer")
        print("\nper file, by notation (one shipped spec at a time):")
        per_notation_times(max(3, opts.runs))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\npeak RSS of this process: {peak:.0f} MiB;"
              f" numpy imported: {'numpy' in sys.modules}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if "numpy" in sys.modules else 0


if __name__ == "__main__":
    sys.exit(main())
