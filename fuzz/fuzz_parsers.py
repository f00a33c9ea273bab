"""Fuzz every front end of cnncalc, the analysis and every renderer for a number of seconds.

    python fuzz/fuzz_parsers.py --seconds 600 --seed 1

Each input (a byte string) is read in every notation and rendered in every format, and the
properties of issue 11 are checked on what is printed (``fuzz/target.py``: no raw control
character, lone surrogate or workflow command in any output, no total beside an error, the
canonical spec text reads back as the same analysis, the executor agrees with the analysis).
An exception is a failure, and so is a property that does not hold, an input of which one
step takes longer than ``--timeout`` seconds, and one that exhausts ``--memory-mb`` (the
process's address space; 0 for no limit). The time limit, 2 s by default, applies to each step
of an input: parsing it in one notation, analysing it, one rendering, the read-back, the
executor (one call of cnncalc each; an input goes through sixty-odd). In linear time every
notation parses a file of the generators' size (at most 600 KB) in well under that; the
generators leave out networks of 2,000 to 1,000,000 layers, legitimate and merely big, and
build the layers a cap keeps (up to 100,000 before it refuses the rest) from the cheapest
kinds: on this 2-core machine 100,000 convolutions took 1.4 to 1.9 s to parse.

Each failing input is saved under ``fuzz/crashes/`` (``<sha1>.txt`` with the bytes,
``<sha1>.log`` with the traceback or the properties); the directory is git-ignored.
``--replay FILE...`` runs saved inputs again.

Engines draw inputs three ways: the seeds (``specs/*.txt`` and a snippet of each notation)
edited (``fuzz/mutations.py``); raw bytes and text of the notations' alphabet; and the
generators of ``fuzz/generators.py`` (long runs of blank, space and comment lines, numbers of
300 to 4,300 digits, hostile names, huge and nested repeats), plain or edited.
``--only GENERATOR`` draws from one generator alone.

- ``atheris`` (coverage-guided, libFuzzer) when it is importable: its corpus starts from the
  seeds and a few outputs of each generator;
- else ``hypothesis`` (a test dependency), in batches of 50 examples with derived seeds until
  the time is up; every failing input is recorded, none is shrunk;
- ``mutate`` (``--engine mutate``): a plain loop over the same sources.

``--seed`` makes the hypothesis and mutate sequences reproducible (and is passed to libFuzzer
as ``-seed``); ``--runs N`` stops after N inputs. At the end it prints how many inputs it tried
and how many failed, by kind, and exits 1 when any did.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import os
import random
import resource
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

from fuzz.generators import GENERATORS, MAX_INPUT, big_number, hostile_name  # noqa: E402
from fuzz.mutations import SNIPPETS, TOKENS, mutate, seeds  # noqa: E402
from fuzz.target import PROGRESS, Violation, load  # noqa: E402

Target = Callable[[bytes], list[Violation]]


class Timeout(Exception):
    """A step of an input took longer than --timeout seconds."""


class _Alarm:
    """Whether an input is running. Once its time is up the alarm repeats every RETRY
    seconds until the input stops: a signal handler's exception that lands in a garbage
    collector callback or a ``__del__`` is printed and dropped, and the input would run on.
    The handler lets the alarm pass when it interrupts hypothesis's own code (its callback
    that times garbage collection): the next one lands in the input's code."""

    armed = False
    RETRY = 0.1


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    if _Alarm.armed and (frame is None or "hypothesis" not in frame.f_code.co_filename):
        raise Timeout()


def _disarm() -> None:
    _Alarm.armed = False
    signal.setitimer(signal.ITIMER_REAL, 0)


class Stats:
    """Failures counted by kind (an exception and where, a property), each kind split by
    where it happened (the step and notation, the output format)."""

    def __init__(self, crashes: Path) -> None:
        self.crashes = crashes
        self.tried = 0
        self.failed = 0
        self.kinds: Counter[str] = Counter()
        self.places: dict[str, Counter[str]] = {}
        self.saved: set[str] = set()

    def record(self, data: bytes, found: list[tuple[str, str]], log: str) -> None:
        self.failed += 1
        self.kinds.update(dict.fromkeys((kind for kind, _ in found), 1))
        for kind, place in dict.fromkeys(found):
            if place:
                self.places.setdefault(kind, Counter())[place] += 1
        digest = hashlib.sha1(data).hexdigest()[:16]
        if digest in self.saved:
            return
        self.saved.add(digest)
        self.crashes.mkdir(parents=True, exist_ok=True)
        (self.crashes / f"{digest}.txt").write_bytes(data)
        heads = "\n".join(dict.fromkeys(f"{k} [{p}]" if p else k for k, p in found))
        (self.crashes / f"{digest}.log").write_text(
            heads + "\n\n" + log, encoding="utf-8", errors="backslashreplace")

    def record_exception(self, data: bytes, exc: BaseException) -> None:
        tb = traceback.extract_tb(exc.__traceback__)
        where = next((f"{Path(f.filename).name}:{f.lineno}" for f in reversed(tb)
                      if "cnncalc" in f.filename), "?")
        if isinstance(exc, Timeout):  # the step is what was slow; the line is where it stopped
            step, _, notation = PROGRESS.stage.partition(" (")
            found = [(f"Timeout in {step}", f"{where} ({notation}")]
        else:
            found = [(f"{type(exc).__name__} at {where}", PROGRESS.stage)]
        self.record(data, found, "".join(traceback.format_exception(exc)))

    def record_violations(self, data: bytes, found: list[Violation]) -> None:
        self.record(data, [(f"property: {v.kind}", v.where) for v in found],
                    "\n".join(str(v) for v in found) + "\n")

    def report(self, engine: str, seconds: float) -> str:
        lines = [f"engine {engine}: tried {self.tried} inputs in {seconds:.0f} s, "
                 f"{self.failed} failed"]
        for kind, n in self.kinds.most_common():
            places = self.places.get(kind, Counter()).most_common()
            shown = ", ".join(f"{p} {k}" for p, k in places[:12])
            more = f", {len(places) - 12} more" if len(places) > 12 else ""
            lines.append(f"  {n} x {kind}" + (f" [{shown}{more}]" if places else ""))
        if self.failed:
            lines.append(f"  failing inputs saved in {self.crashes}")
        return "\n".join(lines)


def run_one(target: Target, data: bytes, stats: Stats, timeout: float) -> None:
    """Run one input; each of its steps may take ``timeout`` seconds (``Progress``)."""
    stats.tried += 1

    def restart() -> None:
        if _Alarm.armed:
            signal.setitimer(signal.ITIMER_REAL, timeout, _Alarm.RETRY)

    PROGRESS.on_step = restart
    _Alarm.armed = True
    restart()
    try:
        found = target(data)
    except Exception as exc:  # every exception is a finding, Timeout and MemoryError included
        _disarm()
        stats.record_exception(data, exc)
        return
    finally:
        _disarm()
    if found:
        stats.record_violations(data, found)


def _generators(only: str | None) -> list[Callable[[random.Random], bytes]]:
    return [GENERATORS[only]] if only else list(GENERATORS.values())


def run_mutate(args: argparse.Namespace, stats: Stats) -> None:
    """Each input: a generator's output (one in three, or always with ``--only``), edited
    one time in four; else a seed, edited."""
    target = load()
    rng = random.Random(args.seed)
    pool = seeds()
    gens = _generators(args.only)
    start = time.monotonic()
    if args.only is None:
        for data in pool:
            run_one(target, data, stats, args.timeout)
    while time.monotonic() - start < args.seconds and (args.runs is None
                                                        or stats.tried < args.runs):
        if args.only or rng.random() < 1 / 3:
            child = rng.choice(gens)(rng)
            if rng.random() < 0.25:
                child = mutate(rng, child, pool)
        else:
            child = mutate(rng, rng.choice(pool), pool)
        run_one(target, child, stats, args.timeout)
    print(stats.report("mutate", time.monotonic() - start), flush=True)


def run_hypothesis(args: argparse.Namespace, stats: Stats) -> None:
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis import strategies as st

    target = load()
    pool = seeds()
    alphabet = "".join(sorted({*b"".join(SNIPPETS).decode(), *"\t\r\x0c\u00d7\u2028\ufeff"}))
    gens = _generators(args.only)
    generated = st.builds(lambda g, s: g(random.Random(s)), st.sampled_from(gens),
                          st.integers(0, 2**64 - 1))

    @st.composite
    def edited(draw: st.DrawFn, base: st.SearchStrategy[bytes]) -> bytes:
        """``base`` with one to four edits at drawn places: a slice replaced by drawn text, a
        token, a boundary or 300-to-4,300-digit number or a hostile name inserted, a slice
        repeated."""
        data = draw(base)
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(data)))
            j = min(len(data), i + draw(st.integers(0, 12)))
            rng = random.Random(draw(st.integers(0, 2**32 - 1)))
            new = draw(st.one_of(
                st.text(alphabet, max_size=12).map(str.encode),
                st.sampled_from(TOKENS).map(str.encode),
                st.sampled_from(("0", "-1", "1", "10**30", "9" * 40, "9" * 5000)).map(str.encode),
                st.just(big_number(rng).encode()),
                st.just(hostile_name(rng).encode("utf-8", "surrogatepass")),
                st.binary(max_size=4),
                st.just(data[i:j] * 2)))
            data = data[:i] + new + data[j:]
        return data[:MAX_INPUT]

    if args.only:
        inputs = st.one_of(generated, edited(generated))
    else:
        inputs = st.one_of(edited(st.sampled_from(pool)), st.binary(max_size=512),
                           st.text(alphabet, max_size=400).map(str.encode),
                           generated, edited(generated))
    start = time.monotonic()

    def out_of_time() -> bool:
        return time.monotonic() - start >= args.seconds or (
            args.runs is not None and stats.tried >= args.runs)

    if args.only is None:
        for data in pool:
            run_one(target, data, stats, args.timeout)
    batch = 0
    while not out_of_time():
        size = 50 if args.runs is None else min(50, args.runs - stats.tried)

        @seed(args.seed * 1_000_003 + batch)
        @settings(max_examples=size, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(inputs)
        def one(data: bytes) -> None:
            if not out_of_time():
                run_one(target, data, stats, args.timeout)

        one()
        batch += 1
    print(stats.report("hypothesis", time.monotonic() - start), flush=True)


def run_atheris(args: argparse.Namespace, stats: Stats) -> None:
    atheris: Any = importlib.import_module("atheris")  # optional: not a dependency
    with atheris.instrument_imports(include=["cnncalc"]):
        target = load()
    corpus = Path(args.corpus)
    corpus.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    start_with = [] if args.only else seeds()
    start_with += [g(rng) for g in _generators(args.only) for _ in range(8)]
    for k, data in enumerate(start_with):
        (corpus / f"seed{k:03d}.txt").write_bytes(data)
    start = time.monotonic()

    def one(data: bytes) -> None:
        if time.monotonic() - start >= args.seconds or (
                args.runs is not None and stats.tried >= args.runs):
            print(stats.report("atheris", time.monotonic() - start), flush=True)
            os._exit(1 if stats.failed else 0)
        run_one(target, data, stats, args.timeout)

    argv = [sys.argv[0], str(corpus), f"-seed={args.seed}", f"-max_len={MAX_INPUT}",
            "-timeout=0", "-rss_limit_mb=0", "-print_final_stats=0"]
    atheris.Setup(argv, one)
    atheris.Fuzz()


def replay(names: list[str]) -> int:
    target = load()
    failed = 0
    for name in names:
        try:
            found = target(Path(name).read_bytes())
        except Exception:
            print(f"{name}:\n{traceback.format_exc()}")
            failed += 1
            continue
        if found:
            print(f"{name}:\n" + "\n".join(f"  {v}" for v in found))
            failed += 1
        else:
            print(f"{name}: ok")
    return 1 if failed else 0


def limit_memory(mb: int) -> None:
    """Cap the address space, so that an input that would take gigabytes is a MemoryError
    (a failure) rather than a machine out of memory."""
    if mb > 0:
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        want = mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS,
                           (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60.0, help="how long to fuzz")
    p.add_argument("--seed", type=int, default=0, help="random seed (reproducible runs)")
    p.add_argument("--runs", type=int, default=None, help="stop after this many inputs")
    p.add_argument("--engine", choices=("auto", "atheris", "hypothesis", "mutate"),
                   default="auto", help="auto: atheris when importable, else hypothesis")
    p.add_argument("--only", choices=sorted(GENERATORS), default=None,
                   help="draw every input from this generator")
    p.add_argument("--timeout", type=float, default=2.0,
                   help="seconds one step of an input (parsing it in one notation, analysing "
                   "it, one rendering) may take before it counts as a hang (default 2)")
    p.add_argument("--memory-mb", type=int, default=4096,
                   help="address-space limit of the process in MiB (0: none)")
    p.add_argument("--crashes", default=str(ROOT / "fuzz" / "crashes"),
                   help="where failing inputs are saved")
    p.add_argument("--corpus", default=str(ROOT / "fuzz" / "crashes" / "corpus"),
                   help="atheris's working corpus (seeded from specs/*.txt and the generators)")
    p.add_argument("--replay", nargs="*", default=None, metavar="FILE",
                   help="run these saved inputs once each and print what failed")
    args = p.parse_args(argv)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        limit_memory(args.memory_mb)
        return replay(args.replay) if args.replay is not None else fuzz(args)
    finally:
        signal.signal(signal.SIGALRM, previous)


def fuzz(args: argparse.Namespace) -> int:
    stats = Stats(Path(args.crashes))
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if importlib.util.find_spec("atheris") else "hypothesis"
    if engine == "atheris":
        run_atheris(args, stats)
    elif engine == "hypothesis":
        run_hypothesis(args, stats)
    else:
        run_mutate(args, stats)
    return 1 if stats.failed else 0


if __name__ == "__main__":
    sys.exit(main())
