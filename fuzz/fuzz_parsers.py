"""Fuzz every front end of cnncalc, the analysis and every renderer for a number of seconds.

    python fuzz/fuzz_parsers.py --seconds 600 --seed 1

One input is a byte string. It is decoded as ``cnncalc show`` decodes a file (UTF-8 with
surrogate escapes; undecodable bytes must become P006), then, for the detected notation and
for each forced one (lecture, keras, pytorch, vgg), parsed, analysed and rendered as a table,
json, csv, markdown, canonical spec text and diagnostics; the executor's planner and memory
estimate (Python ints, no arrays) run too, and a network of the detected notation whose
estimate is under EXEC_BYTES is run in NumPy and compared layer by layer with the analysis.
The rich table, slow, is drawn for the detected notation only, up to TABLE_ROWS layers.

Any exception is a failure; so is an input that takes longer than ``--timeout`` seconds.
Each failing input is saved under ``fuzz/crashes/`` (``<sha1>.txt`` with the bytes,
``<sha1>.log`` with the traceback); the directory should be git-ignored.

Engines: ``atheris`` (coverage-guided, libFuzzer) when it is importable, else ``hypothesis``
(a test dependency): its strategies draw raw bytes, text from the notations' alphabet, and
seeds (``specs/*.txt`` and a few snippets of each notation) edited at drawn places, in batches
of examples with derived seeds until the time is up; every failing input is recorded, none
is shrunk. ``mutate`` is a plain mutation fuzzer over the same seeds (``--engine mutate``).
``--seed`` makes the hypothesis and mutate sequences reproducible (and is passed to libFuzzer
as ``-seed``); ``--runs N`` stops after N inputs. At the end it prints how many inputs
it tried and how many failed, and exits 1 when any did.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import re
import signal
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NOTATIONS: tuple[str | None, ...] = (None, "lecture", "keras", "pytorch", "vgg")
DEFINES: dict[str, Any] = {"num_classes": 10, "input_shape": (28, 28, 1)}
TABLE_ROWS = 2000
EXEC_BYTES = 16 * 2**20  # networks whose estimated peak fits are run in NumPy
"""rich takes about a millisecond a row (minutes for 100,000 layers, a known slowness):
the table is drawn for the detected notation only, and only up to this many layers."""

SNIPPETS = (
    b"[32x32x3] INPUT\nCONV1: 8 3x3 filters at stride 1, pad 1\nRELU1\nMAX POOL1: 2x2 filters "
    b"at stride 2\nFC2: 10 neurons\n",
    b"[227x227x3] INPUT\n[55x55x96] CONV1: 96 11x11 filters at stride 4, pad ?\n",
    b"[28x28x3] INPUT\nDWCONV1: 3x3 filters at stride 2, pad same, multiplier 2, no bias\n"
    b"DECONV2: 4 4x4 filters at stride 2, pad 1, output padding 1\nBATCHNORM\n"
    b"GLOBAL AVG POOL keepdims\nADAPTIVE AVG POOL 2x2\nZEROPAD top 1, bottom 0, left 2, right 1\n"
    b"DROPOUT 0.5\nFLATTEN\nFC: 10 neurons, no bias\nSOFTMAX\nROUNDING: floor\n",
    b"from keras import layers\nmodel = Sequential()\nmodel.add(Conv2D(8, (3, 3), strides=2, "
    b"padding='same', input_shape=(32, 32, 3)))\nmodel.add(MaxPooling2D())\n"
    b"model.add(SeparableConv2D(16, 3, depth_multiplier=2))\nmodel.add(Flatten())\n"
    b"model.add(Dense(num_classes, activation='softmax'))\n",
    b"model = keras.Sequential([\n    keras.Input(shape=(16, 16, 2)),\n    layers.Conv2DTranspose("
    b"4, 3, strides=2, output_padding=1),\n    layers.ZeroPadding2D(((1, 0), (2, 1))),\n"
    b"    layers.GlobalAveragePooling2D(keepdims=True),\n])\n",
    b"# cnncalc: input 32x32x3\nNet(\n  (conv): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), "
    b"padding=(1, 1))\n  (pool): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, "
    b"ceil_mode=True)\n  (blocks): ModuleList(\n    (0-1): 2 x Sequential(\n      (0): "
    b"BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
    b"      (1): ReLU(inplace=True)\n    )\n  )\n  (avg): AdaptiveAvgPool2d(output_size=(2, 2))\n"
    b"  (fc): Linear(in_features=32, out_features=10, bias=True)\n)\n",
    b"# cnncalc: input 64x64x3\nself.conv1 = nn.Conv2d(3, 16, 3, padding='same')\n"
    b"self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)\nnn.ZeroPad2d((1, 0, 2, 1))\n"
    b"nn.Flatten()\nnn.Linear(8 * 130 * 131, 10)\n",
    b"INPUT: [32x32x3]  memory: 32*32*3=3K  weights: 0\nCONV3-8: [32x32x8]  weights: "
    b"(3*3*3)*8 = 216\nPOOL2: [16x16x8]\nFC: [1x1x10]  weights: 16*16*8*10 = 20,480\n",
    b"input (32 x 32 RGB image)\nconv3-8\nconv1-4\nLRN\nmaxpool\nFC-10\nsoft-max\n",
)

TOKENS = (
    "0", "-1", "1", "2", "3", "7", "10**30", "1000000000000000000000000000000", "99999999999",
    "0.5", "1e9", "-0", "3x3", "0x0", "0x0x0", "-5x5x3", "227x227", "11x11x3x3", "x", "[", "]",
    "(", ")", "[]", "()", "[1x1x1]", ":", ",", ";", "=", "?", "*", "**", "//", "#", "'", '"',
    '"""', "\\", "\t", "\r", "\r\n", "\n", " ", "\ufeff", "\u00d7", "\u00e9", "\u2028", "\x00",
    "\x0c", "INPUT", "CONV", "conv", "DECONV", "DWCONV", "MAX POOL", "AVG POOL", "POOL",
    "GLOBAL AVG POOL", "ADAPTIVE MAX POOL", "NORM", "BATCHNORM", "FC", "ZEROPAD", "DROPOUT",
    "FLATTEN", "RELU", "SOFTMAX", "ROUNDING", "ceil", "floor", "strict", "same", "valid",
    "stride", "pad", "dilation", "groups", "multiplier", "no bias", "in", "output padding",
    "keepdims", "filters", "neurons", "top", "left", "conv3-64", "FC-4096", "maxpool",
    "memory:", "weights:", "TOTAL params:", "Conv2D(", "Dense(", "model.add(", "Sequential(",
    "Input(shape=(", "input_shape=", "kernel_size=", "strides=", "padding=", "use_bias=",
    "data_format='channels_first'", "name=", "lambda x: x", "f'{x}'", "__import__('os')",
    "os.system('true')", "(x := 3)", "[i for i in range(3)]", "*args", "**kw", "@dec",
    "exec('1')", "nn.Conv2d(", "Conv2d(", "Linear(", "MaxPool2d(", "ModuleList(", "(0): ",
    "(0-99999): 99999 x ", "ceil_mode=True", "padding_mode=reflect", "# cnncalc: input ",
    "# cnncalc: ignore[G101]", "224x224x3", "1x1x1", "0x0x3",
)

_NUMBER = re.compile(rb"\d+")


class Timeout(Exception):
    """An input that took longer than --timeout seconds."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise Timeout()


def _load() -> Callable[[bytes], None]:
    """Import cnncalc (after atheris instruments it, when it does) and return the target."""
    from cnncalc.analyze import analyze
    from cnncalc.options import undecodable
    from cnncalc.parse import parse_text
    from cnncalc.render.machine import to_csv, to_json, to_markdown
    from cnncalc.render.memory import Memory
    from cnncalc.render.report import format_all
    from cnncalc.render.spec_text import to_spec_text
    from cnncalc.render.table import print_table

    try:
        from cnncalc.execute.modules import Context
        from cnncalc.execute.network import Network, memory_estimate, plan, random_input
    except ImportError:  # the executor is optional for this fuzzer
        plan = None  # type: ignore[assignment]

    def execute(a: Any) -> None:
        """Plan and estimate (ints only); run small networks in NumPy and compare every layer
        with the analysis (a differential check)."""
        planned = plan(a)
        est = memory_estimate(planned.modules, a.input or (), 1, 4)
        est.describe()
        if not planned.modules or a.input is None or est.peak_bytes > EXEC_BYTES:
            return
        measured = Network(planned.modules, "float32", 0).forward(
            random_input(a.input, 1, "float32", 0), Context())
        for r, m in zip(planned.results, measured, strict=True):
            want = (r.output_shape, r.params, r.buffers or 0, r.macs)
            got = (m.output_shape, m.params, m.buffers, m.macs)
            if got != want:
                raise AssertionError(f"{r.layer.name}: executor {got} != analysis {want}")

    def target(data: bytes) -> None:
        text = data.decode("utf-8", errors="surrogateescape")
        if undecodable(text, "fuzz.txt") is not None:
            return  # load() reports P006 and reads no further
        for notation in NOTATIONS:
            spec = parse_text(text, "fuzz.txt", notation, DEFINES, False)
            a = analyze(spec)
            if notation is None and len(a.layers) <= TABLE_ROWS:
                print_table(a, Memory(), file=io.StringIO(), width=100)
            to_json(a, Memory(2, "float16"))
            to_csv(a)
            to_markdown(a, Memory())
            format_all(a.diagnostics, a.spec.lines)
            to_spec_text(a.spec, a.input)
            if plan is not None and notation is None:
                execute(a)

    return target


def seeds() -> list[bytes]:
    found = [p.read_bytes() for p in sorted((ROOT / "specs").glob("*.txt"))]
    return found + list(SNIPPETS)


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    """One to four edits: lines deleted, duplicated, swapped; characters flipped; tokens
    inserted; numbers changed to 0, -1 or huge; a splice with another seed; bytes inserted."""
    for _ in range(rng.randint(1, 4)):
        lines = data.split(b"\n")
        op = rng.randrange(11)
        i = rng.randrange(len(lines))
        if op == 0 and len(lines) > 1:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3 and data:
            k = rng.randrange(len(data))
            data = data[:k] + bytes([data[k] ^ (1 << rng.randrange(8))]) + data[k + 1:]
            continue
        elif op in (4, 5, 6):
            tok = rng.choice(TOKENS).encode("utf-8")
            k = rng.randrange(len(data) + 1)
            data = data[:k] + tok + data[k:]
            continue
        elif op in (7, 8):
            numbers = list(_NUMBER.finditer(data))
            if numbers:
                m = rng.choice(numbers)
                new = rng.choice((b"0", b"-1", b"1", b"10**30", b"9" * rng.randint(10, 40),
                                  str(rng.randint(0, 5000)).encode()))
                data = data[:m.start()] + new + data[m.end():]
            continue
        elif op == 9:
            other = rng.choice(pool).split(b"\n")
            j = rng.randrange(len(other))
            lines[i:i] = other[j:j + rng.randint(1, 5)]
        else:
            k = rng.randrange(len(data) + 1)
            junk = rng.choice((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\x00",
                               bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))))
            data = data[:k] + junk + data[k:]
            continue
        data = b"\n".join(lines)
    return data[:200_000]


class Stats:
    def __init__(self, crashes: Path) -> None:
        self.crashes = crashes
        self.tried = 0
        self.failed = 0
        self.kinds: Counter[str] = Counter()
        self.saved: set[str] = set()

    def record(self, data: bytes, exc: BaseException) -> None:
        self.failed += 1
        tb = traceback.extract_tb(exc.__traceback__)
        where = next((f"{Path(f.filename).name}:{f.lineno}" for f in reversed(tb)
                      if "cnncalc" in f.filename), "?")
        kind = f"{type(exc).__name__} at {where}"
        self.kinds[kind] += 1
        digest = hashlib.sha1(data).hexdigest()[:16]
        if digest in self.saved:
            return
        self.saved.add(digest)
        self.crashes.mkdir(parents=True, exist_ok=True)
        (self.crashes / f"{digest}.txt").write_bytes(data)
        (self.crashes / f"{digest}.log").write_text(
            kind + "\n\n" + "".join(traceback.format_exception(exc)), encoding="utf-8")

    def report(self, engine: str, seconds: float) -> str:
        lines = [f"engine {engine}: tried {self.tried} inputs in {seconds:.0f} s, "
                 f"{self.failed} failed"]
        lines += [f"  {n} x {kind}" for kind, n in self.kinds.most_common()]
        if self.failed:
            lines.append(f"  failing inputs saved in {self.crashes}")
        return "\n".join(lines)


def run_one(target: Callable[[bytes], None], data: bytes, stats: Stats, timeout: float) -> None:
    stats.tried += 1
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        target(data)
    except Exception as exc:  # every exception is a finding, Timeout included
        signal.setitimer(signal.ITIMER_REAL, 0)
        stats.record(data, exc)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def run_mutate(args: argparse.Namespace, stats: Stats) -> None:
    target = _load()
    rng = random.Random(args.seed)
    pool = seeds()
    start = time.monotonic()
    for data in pool:
        run_one(target, data, stats, args.timeout)
    while time.monotonic() - start < args.seconds and (args.runs is None
                                                        or stats.tried < args.runs):
        parent = rng.choice(pool)
        child = mutate(rng, parent, pool)
        run_one(target, child, stats, args.timeout)
    print(stats.report("mutate", time.monotonic() - start), flush=True)


class _Done(Exception):
    """Time is up (raised inside a hypothesis example to end its batch)."""


def run_hypothesis(args: argparse.Namespace, stats: Stats) -> None:
    from hypothesis import HealthCheck, given, seed, settings
    from hypothesis import strategies as st

    target = _load()
    pool = seeds()
    alphabet = "".join(sorted({*b"".join(SNIPPETS).decode(), *"\t\r\x0c\u00d7\u2028\ufeff"}))

    @st.composite
    def edited(draw: st.DrawFn) -> bytes:
        """A seed with one to four edits at drawn places: a slice replaced by drawn text, a
        token or a boundary number inserted, a line deleted or repeated."""
        data = draw(st.sampled_from(pool))
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(data)))
            j = min(len(data), i + draw(st.integers(0, 12)))
            new = draw(st.one_of(
                st.text(alphabet, max_size=12).map(str.encode),
                st.sampled_from(TOKENS).map(str.encode),
                st.sampled_from(("0", "-1", "1", "10**30", "9" * 40, "9" * 5000)).map(str.encode),
                st.binary(max_size=4),
                st.just(data[i:j] * 2)))
            data = data[:i] + new + data[j:]
        return data[:200_000]

    inputs = st.one_of(edited(), st.binary(max_size=512),
                       st.text(alphabet, max_size=400).map(str.encode))
    start = time.monotonic()

    def out_of_time() -> bool:
        return time.monotonic() - start >= args.seconds or (
            args.runs is not None and stats.tried >= args.runs)

    for data in pool:
        run_one(target, data, stats, args.timeout)
    batch = 0
    while not out_of_time():
        @seed(args.seed * 1_000_003 + batch)
        @settings(max_examples=500, deadline=None, database=None, derandomize=False,
                  suppress_health_check=list(HealthCheck))
        @given(inputs)
        def one(data: bytes) -> None:
            if out_of_time():
                raise _Done()
            run_one(target, data, stats, args.timeout)

        try:
            one()
        except _Done:
            break
        batch += 1
    print(stats.report("hypothesis", time.monotonic() - start), flush=True)


def run_atheris(args: argparse.Namespace, stats: Stats) -> None:
    import atheris  # type: ignore[import-not-found]

    with atheris.instrument_imports(include=["cnncalc"]):
        target = _load()
    corpus = Path(args.corpus)
    corpus.mkdir(parents=True, exist_ok=True)
    for k, data in enumerate(seeds()):
        (corpus / f"seed{k:02d}.txt").write_bytes(data)
    start = time.monotonic()

    def one(data: bytes) -> None:
        if time.monotonic() - start >= args.seconds or (
                args.runs is not None and stats.tried >= args.runs):
            print(stats.report("atheris", time.monotonic() - start), flush=True)
            os._exit(1 if stats.failed else 0)
        run_one(target, data, stats, args.timeout)

    argv = [sys.argv[0], str(corpus), f"-seed={args.seed}", "-max_len=65536",
            "-timeout=0", "-rss_limit_mb=4096", "-print_final_stats=0"]
    atheris.Setup(argv, one)
    atheris.Fuzz()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60.0, help="how long to fuzz")
    p.add_argument("--seed", type=int, default=0, help="random seed (reproducible runs)")
    p.add_argument("--runs", type=int, default=None, help="stop after this many inputs")
    p.add_argument("--engine", choices=("auto", "atheris", "hypothesis", "mutate"),
                   default="auto", help="auto: atheris when importable, else hypothesis")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds one input may take before it counts as a hang")
    p.add_argument("--crashes", default=str(ROOT / "fuzz" / "crashes"),
                   help="where failing inputs are saved")
    p.add_argument("--corpus", default=str(ROOT / "fuzz" / "crashes" / "corpus"),
                   help="atheris's working corpus (seeded from specs/*.txt)")
    p.add_argument("--replay", nargs="*", default=None, metavar="FILE",
                   help="run these saved inputs once each and print their tracebacks")
    args = p.parse_args(argv)
    signal.signal(signal.SIGALRM, _on_alarm)
    stats = Stats(Path(args.crashes))
    if args.replay is not None:
        target = _load()
        for name in args.replay:
            try:
                target(Path(name).read_bytes())
                print(f"{name}: ok")
            except Exception:
                print(f"{name}:\n{traceback.format_exc()}")
                stats.failed += 1
        return 1 if stats.failed else 0
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # type: ignore[import-not-found]  # noqa: F401
            engine = "atheris"
        except ImportError:
            engine = "hypothesis"
    if engine == "atheris":
        run_atheris(args, stats)
    elif engine == "hypothesis":
        run_hypothesis(args, stats)
    else:
        run_mutate(args, stats)
    return 1 if stats.failed else 0


if __name__ == "__main__":
    sys.exit(main())
