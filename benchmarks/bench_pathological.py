"""Benchmark cnncalc on pathological inputs: time growth when an input doubles, and memory.

    python benchmarks/bench_pathological.py [--quick] [--time-only | --memory-only] [-k NAME]

1. Growth. Each pathological input (blank lines, comment lines, runs of spaces, long VGG
   annotations, unclosed PyTorch calls, stray closing parentheses, and every other case that
   once took quadratic time) is made at three sizes, n, 2n and 4n bytes, in each notation it
   applies to ("detect": the notation is detected, as `cnncalc show` does). Each size is
   checked in-process as `cnncalc check` checks a file (runner.check_file: read, parse with
   detection, analyse, advice rules, suppressions; the cyclic garbage collector off, as it
   is there), with the limits raised so that all of it is read, and every diagnostic is
   shown as the full format shows it. The time is the least CPU time (time.process_time,
   which other processes on a shared machine disturb less than wall time) of five rounds,
   each of which times the three sizes in turn.

   How to read it: `x2` is t(2n)/t(n) and `x4` is t(4n)/t(2n). Linear time gives about 2.0
   for both; quadratic time gives about 4.0, and its ratio grows with n. The verdict is
   "linear" when both ratios are below 2.8 (noise on a shared machine moves a ratio by a few
   tenths; a quadratic step is far above). The first size is doubled until it takes 50 ms,
   where timer noise is small.

2. Memory. Each command runs in a subprocess that reports its own peak resident memory
   (VmHWM from /proc/self/status; ru_maxrss where there is no /proc).
   a. Per byte and per layer: a large spec in each notation (the 100,000-layer lecture spec
      of 4.4 MB, and about 4-5 MB in the others), `cnncalc check` and `cnncalc show --format
      json` with the limits raised so that nothing is refused; the start-up footprint (the
      same command on a two-line spec) is subtracted.
   b. Under the default limits: 5 MB specs in every notation and pathological files at the
      file-size limit, each handled within a few hundred MB or refused (P012 stops reading at
      the layer cap; P013 refuses a file over the size limit, and Keras and PyTorch text
      over a sixteenth of it, without parsing it); a 50 MB file is refused unread.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cnncalc.check.discover import Found  # noqa: E402
from cnncalc.check.runner import FileResult, check_file  # noqa: E402
from cnncalc.check.settings import FileSettings, Settings  # noqa: E402
from cnncalc.parse.bounds import CODE_SHARE, MAX_FILE_SIZE, MAX_LAYERS  # noqa: E402
from cnncalc.render.report import format_all  # noqa: E402

LINEAR = 2.8  # a ratio above this is reported as super-linear
PT = "# cnncalc: input 8x8x3\n"
INPUT = "[8x8x3] INPUT\n"


def times(text: str, n: int) -> str:
    """``text`` repeated to about ``n`` characters."""
    return text * max(1, n // len(text))


def spaces_line(n: int) -> str:
    return INPUT + " " * n + "x\n"


@dataclass(frozen=True)
class Case:
    name: str
    notations: tuple[str | None, ...]
    make: Callable[[int], str]  # the text of about n bytes
    n: int  # the smallest size, in bytes


CASES: tuple[Case, ...] = (
    # detection and every notation's line reading
    Case("blank lines", (None, "lecture", "vgg", "pytorch", "keras"),
         lambda n: "\n" * n + INPUT, 40_000),
    Case("comment lines", (None, "lecture", "vgg", "pytorch", "keras"),
         lambda n: times("# a comment\n", n) + INPUT, 40_000),
    Case("lines of spaces", (None, "lecture", "vgg", "pytorch"),
         lambda n: times(" " * 39 + "\n", n) + INPUT, 40_000),
    Case("a run of spaces before a word", (None, "lecture", "vgg", "pytorch"), spaces_line,
         40_000),
    Case("a run of spaces in a bracket", (None, "lecture", "vgg"),
         lambda n: INPUT + "[" + " " * n + "x\n", 40_000),
    Case("unclosed brackets", (None, "lecture", "vgg"), lambda n: times("[\n", n), 10_000),
    Case("remarks quoting code", (None,),
         lambda n: INPUT + times("CONV1: 8 3x3 filters, pad 1 (as in nn.Conv2d(8, 8, 3))\n", n),
         20_000),
    # the lecture notation (and the canonical notation, its superset)
    Case("blanks inside fast-path lines", ("lecture",),
         lambda n: INPUT + times("CONV1: 8 3x3" + " " * 4000 + "filters at stride 1 z\n", n),
         40_000),
    Case("quoted names and # on one line", ("lecture",),
         lambda n: INPUT + 'CONV "a' + times('" "#', n) + '"\n', 40_000),
    Case("canonical layers with remarks", ("lecture",),
         lambda n: INPUT + times("DWCONV1: 3x3 filters at stride 1, pad same, no bias "
                                 "(depthwise)\nBATCHNORM1\nRELU6 (clipped)\n", n), 40_000),
    Case("a long unknown word", ("lecture", "vgg"),
         lambda n: INPUT + "zz" + "".join(chr(97 + i % 26) + str(i) for i in range(n // 6))
         + "\n", 40_000),
    # VGG
    Case("a long weights: expression", ("vgg",),
         lambda n: "INPUT: [8x8x3]\nCONV3-8: weights: " + times("(3*3)", n) + "z\n", 40_000),
    Case("a long weights: figure", ("vgg",),
         lambda n: "INPUT: [8x8x3]\n" + times("CONV3-8: weights: " + "1" * 4000 + "z\n", n),
         40_000),
    Case("weights: repeated on one line", ("vgg",),
         lambda n: "INPUT: [8x8x3]\nCONV3-8: " + times("weights: ", n) + "\n", 20_000),
    # PyTorch
    Case("unclosed calls", ("pytorch",), lambda n: PT + times("self.fc = nn.Linear(3,\n", n),
         40_000),
    Case("unclosed calls of unknown modules", ("pytorch",),
         lambda n: PT + times("x((1,\n", n), 20_000),
    Case("an unclosed call before blank lines", ("pytorch",),
         lambda n: PT + "nn.Conv2d(3,\n" + "\n" * n, 40_000),
    Case("stray ) on one line", ("pytorch",), lambda n: PT + ")" * n + "\n", 20_000),
    Case("stray ) after blocks, then blank lines", ("pytorch",),
         lambda n: PT + times("A(\n", n // 3) + times(" )", n // 3) + "\n" * (n // 3), 20_000),
    Case("items on a long line after an import", ("pytorch",),
         lambda n: PT + "import torch\n" + " " * (n // 2) + times("nn.ReLU() ", n // 2) + "\n",
         40_000),
    Case("containers on one line", ("pytorch",),
         lambda n: PT + times("Sequential( ", n) + "\n", 20_000),
    Case("a deep nest of containers", ("pytorch",),
         lambda n: PT + times("Sequential(\n", n // 3) + times("ReLU()\n", n // 3)
         + times(")\n", n // 3), 20_000),
    Case("a deep nest of unknown containers", ("pytorch",),
         lambda n: PT + times("Block(\n", n // 3) + times("ReLU()\n", n // 3)
         + times(")\n", n // 3), 20_000),
    Case("many printed models", ("pytorch",),
         lambda n: PT + "Net(\n" + times("  nn.ReLU(0)\n", n // 2) + ")\n"
         + times("Other(\n  (0): ReLU()\n)\n", n // 2), 20_000),
    Case("a long label over many layers", ("pytorch",),
         lambda n: PT + "(" + "a" * (n // 2) + "): Sequential(\n" + times("ReLU()\n", n // 2)
         + ")\n", 20_000),
    # Keras
    Case("calls that are not literals", ("keras",),
         lambda n: "model = Sequential()\n" + times("model.add(Dense(f()))\n", n), 40_000),
    Case("many models", ("keras",),
         lambda n: "".join(f"m{i} = Sequential()\nm{i}.add(Dense(1, input_shape=(4,)))\n"
                           for i in range(n // 50)), 20_000),
    Case("list items that are not layers", ("keras",),
         lambda n: "model = Sequential([" + times("1, ", n) + "])\n", 20_000),
    Case("a long non-ASCII line of layers", ("keras",),
         lambda n: "# caf\u00e9\nmodel = Sequential([Input(shape=(4,)), "
         + times("Dense(1), ", n) + "])\n", 40_000),
    # comments read by every notation
    Case("unclosed suppression comments", ("lecture",),
         lambda n: INPUT + times("# cnncalc: ignore[\n", n), 40_000),
    Case("input directives with long blanks", ("pytorch",),
         lambda n: times("# cnncalc: input " + " " * 200 + "\n", n), 40_000),
    # networks that branch (issue 12): references, merges and blocks
    Case("graph: references to names not defined", ("lecture",),
         lambda n: INPUT + "RELU\n" + times("ADD from nowhere1, RELU\n", n), 40_000),
    Case("graph: one long from list", ("lecture",),
         lambda n: INPUT + "CONCAT from " + times("INPUT, ", n) + "INPUT\n", 40_000),
    Case("graph: residual merges in a chain", ("lecture",),
         lambda n: INPUT + "CONV1: 3 1x1 filters\n"
         + times("CONV1: 3 1x1 filters\nADD from CONV1, INPUT\n", n), 40_000),
    Case("graph: a block, new arguments each use", ("lecture",),
         lambda n: INPUT + "BLOCK b(K, S=1):\n    CONV1: K 1x1 filters at stride S\n"
         "    ADD from CONV1, INPUT\nEND\n"
         + "".join(f"u{i}: b({3 + i}, S=1)\n" for i in range(max(1, n // 16))), 40_000),
    Case("graph: a block of many lines used twice", ("lecture",),
         lambda n: INPUT + "BLOCK b(K):\n" + times("    CONV1: K 1x1 filters\n", n)
         + "END\nx: 2 x b(3)\n", 40_000),
)


def run_once(path: Path, settings: Settings) -> None:
    """What `cnncalc check` does with one file, and the human display of its findings."""
    result = check_file(Found(str(path), "bench.txt", "bench.txt"), settings)
    assert isinstance(result, FileResult), result
    format_all(result.diagnostics, result.lines)


def cpu_time(path: Path, settings: Settings) -> float:
    start = time.process_time()
    run_once(path, settings)
    return time.process_time() - start


def least_times(paths: list[Path], runs: int, settings: Settings) -> list[float]:
    """The least CPU time of each file over ``runs`` rounds, the files taken in turn in each
    round so that a busy moment of the machine falls on all of them alike; what other
    processes do to a run (caches, clock) only adds time, so the least is the steadiest."""
    samples: list[list[float]] = [[] for _ in paths]
    for _ in range(runs):
        for path, times_of in zip(paths, samples, strict=True):
            times_of.append(cpu_time(path, settings))
    return [min(times_of) for times_of in samples]


SHORTEST = 0.05  # seconds: a smaller first size is doubled until it takes this long


def bench_growth(runs: int, only: str) -> int:
    """The growth table; returns how many rows were not linear."""
    print(f"  {'input':<40} {'notation':<8} {'n bytes':>9} {'t(n) s':>8} {'t(4n) s':>8}"
          f" {'x2':>5} {'x4':>5}  verdict")
    bad = 0
    with tempfile.TemporaryDirectory(prefix="cnncalc-growth-") as tmp:
        path = Path(tmp, "bench.txt")
        paths = [Path(tmp, f"bench{k}.txt") for k in (1, 2, 4)]
        for case in CASES:
            if only and only.lower() not in case.name.lower():
                continue
            for notation in case.notations:
                # the limits raised: what is measured is reading the whole input
                settings = replace(Settings(), max_layers=10**9, max_file_size=2**40,
                                   cli=FileSettings(notation=notation))
                n = case.n
                for k in range(9):  # double the first size until it takes SHORTEST
                    path.write_text(case.make(n), encoding="utf-8")
                    if cpu_time(path, settings) >= SHORTEST or k == 8:
                        break
                    n *= 2
                for i, sized in enumerate(paths):
                    sized.write_text(case.make(n * 2**i), encoding="utf-8")
                size = paths[0].stat().st_size
                t = least_times(paths, runs, settings)
                r2, r4 = t[1] / max(t[0], 1e-9), t[2] / max(t[1], 1e-9)
                linear = r2 < LINEAR and r4 < LINEAR
                bad += not linear
                print(f"  {case.name:<40} {notation or 'detect':<8} {size:>9,} {t[0]:>8.4f}"
                      f" {t[2]:>8.4f} {r2:>5.2f} {r4:>5.2f}"
                      f"  {'linear' if linear else 'SUPER-LINEAR'}", flush=True)
    return bad


# ---- memory -------------------------------------------------------------------------------

def lecture(layers: int) -> str:
    return INPUT + "".join(f"CONV{i}: 3 3x3 filters at stride 1, pad 1\n"
                           for i in range(1, layers + 1))


def canonical(layers: int) -> str:
    kinds = ("DWCONV{}: 3x3 filters at stride 1, pad same, no bias", "BATCHNORM{}",
             "RELU6{}", "CONV{}: 3 1x1 filters, no bias")
    return INPUT + "".join(kinds[i % 4].format(i) + "\n" for i in range(1, layers + 1))


def keras(layers: int) -> str:
    return ("from keras.models import Sequential\nfrom keras.layers import Conv2D\n"
            "model = Sequential()\nmodel.add(Conv2D(3, (3, 3), padding='same', "
            "input_shape=(8, 8, 3)))\n"
            + "model.add(Conv2D(3, (3, 3), padding='same'))\n" * (layers - 1))


def pytorch_print(layers: int) -> str:
    return (PT + "Net(\n  (features): Sequential(\n"
            + "".join(f"    ({i}): Conv2d(3, 3, kernel_size=(3, 3), stride=(1, 1), "
                      "padding=(1, 1))\n" for i in range(layers))
            + "  )\n)\n")


def pytorch_code(layers: int) -> str:
    return PT + "nn.Sequential(\n" + "    nn.Conv2d(3, 3, 3, padding=1),\n" * layers + ")\n"


def vgg(layers: int) -> str:
    return "INPUT: [8x8x3]\n" + "CONV3-3: [8x8x3]  memory: 8*8*3=192  weights: (3*3*3)*3 = 81\n" \
        * layers


SPECS: tuple[tuple[str, str, Callable[[int], str], int], ...] = (
    # name, notation, text of n layers, layers
    ("lecture 100,000 layers", "lecture", lecture, 100_000),
    ("canonical", "lecture", canonical, 120_000),
    ("keras", "keras", keras, 100_000),
    ("pytorch print(model)", "pytorch", pytorch_print, 70_000),
    ("pytorch constructor code", "pytorch", pytorch_code, 100_000),
    ("vgg", "vgg", vgg, 80_000),
)
COMMANDS = (("check", ["check", "--isolated"]), ("show json", ["show", "--format", "json"]))
RAISED = ["--max-layers", "10000000", "--max-file-size", "1GiB"]


# Runs cnncalc in the child and writes its peak resident memory to argv[1]. VmHWM is the peak
# of the child's own memory; ru_maxrss is not: Linux counts in it the parent's memory that the
# child had between fork and exec.
PROBE = """
import sys
out, args = sys.argv[1], sys.argv[2:]
from cnncalc.cli import main
try:
    main(args)
except SystemExit:
    pass
peak = None
try:
    with open("/proc/self/status") as fh:
        peak = next(int(ln.split()[1]) * 1024 for ln in fh if ln.startswith("VmHWM:"))
except (OSError, StopIteration):
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
with open(out, "w") as fh:
    fh.write(str(peak))
"""


def peak_rss(args: list[str]) -> tuple[int, float]:
    """(peak resident bytes, wall seconds) of ``cnncalc ARGS`` run in a child process."""
    with tempfile.NamedTemporaryFile(prefix="cnncalc-peak-", delete=False) as fh:
        out = fh.name
    try:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", PROBE, out, *args], cwd=ROOT, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        secs = time.perf_counter() - start
        return int(Path(out).read_text(encoding="utf-8") or 0), secs
    finally:
        os.unlink(out)


def mib(n: float) -> str:
    return f"{n / 2**20:7.1f}"


def at_limit(notation: str | None, make: Callable[[int], str]) -> str:
    """``make`` (text of about n bytes) filled to just under the notation's default limit."""
    code = notation in ("keras", "pytorch")
    return make((MAX_FILE_SIZE // CODE_SHARE if code else MAX_FILE_SIZE) - 1000)


PATHOLOGICAL: tuple[tuple[str, str | None, Callable[[int], str]], ...] = (
    ("blank lines", None, lambda n: "\n" * n + INPUT),
    ("comment lines", None, lambda n: times("# a comment\n", n) + INPUT),
    ("short lines that are not layers", "lecture", lambda n: INPUT + times("xy\n", n)),
    ("second INPUT lines", "lecture", lambda n: times(INPUT, n)),
    ("weights: repeated on one line", "vgg",
     lambda n: "INPUT: [8x8x3]\nCONV3-8: " + times("weights: ", n) + "\n"),
    ("unclosed PyTorch calls", "pytorch", lambda n: PT + times("x((1,\n", n)),
    ("stray ) lines", "pytorch", lambda n: PT + times(")\n", n)),
    ("containers on one line", "pytorch", lambda n: PT + times("Sequential( ", n)),
    ("a call with many arguments", "pytorch",
     lambda n: PT + "nn.Conv2d(" + times("a,", n) + ")\n"),
    ("distinct calls", "pytorch",
     lambda n: PT + "".join(f"nn.ReLU({i})\n" for i in range(n // 16))),
    ("dense Keras code", "keras", lambda n: times("a;", n) + "\n"),
    ("failing Keras assignments", "keras", lambda n: times("a = f()\n", n)),
)


def bench_memory() -> None:
    with tempfile.TemporaryDirectory(prefix="cnncalc-mem-") as tmp:
        tiny = Path(tmp, "tiny.txt")
        tiny.write_text(INPUT + "CONV1: 3 3x3 filters\n", encoding="utf-8")
        base = {name: peak_rss([*cmd, *RAISED, str(tiny)])[0] for name, cmd in COMMANDS}
        print("  start-up footprint (a two-line spec): "
              + ", ".join(f"{name} {mib(b).strip()} MiB" for name, b in base.items()))
        print("\n  a. limits raised")
        print(f"  {'spec':<26} {'MB':>5} {'layers':>8} {'command':<9} {'peak MiB':>8}"
              f" {'B/byte':>7} {'KB/layer':>8} {'s':>6}")
        path = Path(tmp, "spec.txt")
        for name, notation, make, layers in SPECS:
            text = make(layers)
            path.write_text(text, encoding="utf-8")
            size = len(text.encode("utf-8"))
            for cmd_name, cmd in COMMANDS:
                peak, secs = peak_rss([*cmd, *RAISED, "--notation", notation, str(path)])
                extra = max(0, peak - base[cmd_name])
                print(f"  {name:<26} {size / 1e6:>5.2f} {layers:>8,} {cmd_name:<9} {mib(peak):>8}"
                      f" {extra / size:>7.1f} {extra / layers / 1000:>8.2f} {secs:>6.1f}",
                      flush=True)
        print(f"\n  b. default limits ({MAX_FILE_SIZE / 2**20:.0f} MiB, Keras and PyTorch "
              f"{MAX_FILE_SIZE // CODE_SHARE / 2**10:.0f} KiB; {MAX_LAYERS:,} layers)")
        print(f"  {'input':<38} {'MB':>5} {'command':<9} {'peak MiB':>8} {'s':>6}  outcome")
        lecture_spec = SPECS[0]
        inputs: list[tuple[str, str | None, str]] = [
            (lecture_spec[0], lecture_spec[1], lecture_spec[2](lecture_spec[3]))]
        inputs += [(f"{name.split(' 100,000')[0]} 5 MB", notation,
                    make(layers * 5_000_000 // len(make(layers))))
                   for name, notation, make, layers in SPECS]
        inputs += [(f"{name} at the limit", notation, at_limit(notation, make))
                   for name, notation, make in PATHOLOGICAL]
        for label, forced, text in inputs:
            path.write_text(text, encoding="utf-8")
            nt = ["--notation", forced] if forced else []
            said = outcome(path, forced)
            for cmd_name, cmd in COMMANDS:
                peak, secs = peak_rss([*cmd, *nt, str(path)])
                print(f"  {label:<38} {len(text) / 1e6:>5.2f} {cmd_name:<9} {mib(peak):>8}"
                      f" {secs:>6.1f}  {said}", flush=True)
        big = Path(tmp, "big.py")
        big.write_text(keras(1_100_000), encoding="utf-8")
        peak, secs = peak_rss(["check", "--isolated", str(big)])
        print(f"  a {big.stat().st_size / 1e6:.0f} MB Keras file: {outcome(big, None)},"
              f" peak {mib(peak).strip()} MiB, {secs:.1f} s")


def outcome(path: Path, notation: str | None) -> str:
    """What cnncalc says about the file under the default limits: its P012 or P013, or how
    many layers it read."""
    from cnncalc.options import load

    a = load(str(path), notation=notation)
    codes = sorted({d.code for d in a.diagnostics if d.code in ("P012", "P013")})
    return ", ".join(codes) or f"{len(a.layers):,} layers read"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="one run per size instead of five")
    ap.add_argument("--time-only", action="store_true")
    ap.add_argument("--memory-only", action="store_true")
    ap.add_argument("-k", default="", help="only the growth rows whose input name has this")
    args = ap.parse_args()
    print(f"Python {platform.python_version()}   os.cpu_count(): {os.cpu_count()}   "
          f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    bad = 0
    if not args.memory_only:
        print("\n1. Growth when the input doubles (least CPU time of "
              f"{1 if args.quick else 5} rounds; linear ~2.0, quadratic ~4.0)")
        bad = bench_growth(1 if args.quick else 5, args.k)
        print(f"  {bad} super-linear rows" if bad else "  every row linear")
    if not args.time_only:
        print("\n2. Peak memory (subprocess, limits raised; per byte and per layer above the "
              "start-up footprint)")
        bench_memory()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
