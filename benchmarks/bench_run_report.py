"""The figures ``bench_run.py`` prints, from what its workers measured.

Every time is a median over the timed turns; GFLOP/s is 2 x MACs (the analysis's, times the
batch) over the median time. Executor / torch is the median of the per-pair ratios (each pair
timed back to back, so that a burst of load from elsewhere hits both sides; the ratio of the
medians is printed beside it). A layer class's share of NumPy's matmul (or of np.copyto) is
the ratio of the two medians printed on its line, so that the line reads as its own
arithmetic.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

CLASSES = ("conv", "pointwise", "depthwise", "fc", "other")
TORCH_TARGETS = {"alexnet": 1.0, "vgg16": 1.0, "mobilenet_v1": 1.2, "mobilenet_v2": 1.2,
                 "resnet50": 1.2}
TORCH_TARGET = 1.2  # any other network
MATMUL_TARGET = 0.75
MEMORY_TARGET = 1.2
BUSY = 0.1  # other processes' share of the CPUs during the turns that disturbs the figures
med = statistics.median


@dataclass
class Result:
    """What one configuration measured at one thread count: the executor's ready answer and
    turns, torch's ready answer and times (or why there are none)."""

    config: str
    threads: int
    ready: dict[str, Any]
    turns: list[dict[str, Any]] = field(default_factory=list)
    torch: dict[str, Any] | None = None
    torch_times: list[float] = field(default_factory=list)
    torch_note: str = ""
    mismatch: str = ""
    load: str = field(default_factory=lambda: " ".join(f"{v:.2f}" for v in os.getloadavg()))
    seconds: float = 0.0  # wall time of the configuration: start-ups, set-ups, warm-ups, turns
    others: float | None = None  # share of all CPUs other processes used during the turns

    @property
    def name(self) -> str:
        return self.config.split(":")[0]

    @property
    def batch(self) -> int:
        return int(self.config.split(":")[1])

    def layers(self, cls: str) -> list[int]:
        return [i for i, row in enumerate(self.ready["layers"]) if row["class"] == cls]

    def per_turn(self, key: str, layers: Iterable[int]) -> list[float]:
        """The summed seconds of ``layers`` in each turn: ``layers`` (the forward pass's
        per-layer times), ``matmul`` (the reference products) or ``copy``."""
        chosen = list(layers)
        if key == "layers":
            return [sum(t["layers"][i] for i in chosen) for t in self.turns]
        return [sum(t[key][str(i)] for i in chosen) for t in self.turns]

    def share(self, key: str, layers: list[int]) -> float:
        """The layers' speed as a share of the reference's (``matmul`` or ``copy``) on the
        same work: median reference time over median layer time."""
        return med(self.per_turn(key, layers)) / med(self.per_turn("layers", layers))

    def torch_ratio(self) -> float | None:
        if not self.torch_times:
            return None
        return float(med(t["total"] / q
                         for t, q in zip(self.turns, self.torch_times, strict=True)))

    @property
    def torch_target(self) -> float:
        return TORCH_TARGETS.get(self.name, TORCH_TARGET)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def amount(n: float) -> str:
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n:.0f}"


def mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB" if n < 10 * 2**20 else f"{n / 2**20:.0f} MiB"


def others(r: Result) -> str:
    if r.others is None:
        return "other processes' CPU use unknown"
    note = " (figures disturbed)" if r.others > BUSY else ""
    return f"other processes used {r.others:.0%} of the CPUs during the turns{note}"


def timing(label: str, times: list[float], flops: int) -> str:
    t = med(times)
    return (f"  {label:9} {t * 1e3:8.1f} ms [{min(times) * 1e3:.1f}-{max(times) * 1e3:.1f}]  "
            f"{flops / t / 1e9:6.1f} GFLOP/s")


def class_line(r: Result, cls: str, total: float) -> str:
    layers = r.layers(cls)
    if not layers:
        return f"    {cls:10} (no layers)"
    s = med(r.per_turn("layers", layers))
    macs = sum(r.ready["layers"][i]["macs"] for i in layers)
    line = f"    {cls:10} {s * 1e3:8.1f} ms {s / total:5.0%}  {amount(macs):>9} MACs"
    if cls in ("conv", "pointwise", "fc"):
        line += f"  {2 * macs / s / 1e9:6.1f} GFLOP/s  " + matmul_part(r, layers)
    elif cls == "depthwise":
        moved = sum(r.ready["layers"][i]["bytes"] for i in layers)
        copy = med(r.per_turn("copy", layers))
        share = r.share("copy", layers)
        line += (f"  {2 * macs / s / 1e9:6.1f} GFLOP/s  {moved / s / 1e9:5.1f} GB/s in+out; "
                 f"np.copyto of the same bytes {moved / copy / 1e9:5.1f} GB/s: {share:4.0%}")
    return line


def matmul_part(r: Result, layers: list[int]) -> str:
    """The layers' speed as a share of NumPy's matmul on their own products, or why not."""
    unseen = [r.ready["layers"][i]["name"] for i in layers if not r.ready["layers"][i]["gemms"]]
    if unseen:
        return f"matmul: n/a ({', '.join(unseen)} not all np.matmul)"
    macs = sum(r.ready["layers"][i]["macs"] for i in layers)
    mm = med(r.per_turn("matmul", layers))
    share = r.share("matmul", layers)
    return (f"matmul on its products {2 * macs / mm / 1e9:6.1f} GFLOP/s: {share:4.0%}  "
            f"{verdict(share >= MATMUL_TARGET)} (>= {MATMUL_TARGET:.0%})")


def print_small_k(r: Result) -> None:
    small = [i for i, row in enumerate(r.ready["layers"]) if "small_k" in row]
    if not small:
        return
    print("  the first conv and the small-K convs (F > 1, Fh*Fw*C below 100), one by one:")
    for i in small:
        row = r.ready["layers"][i]
        s = med(r.per_turn("layers", [i]))
        print(f"    {row['name']:12} {row['small_k']:>9} {s * 1e3:8.2f} ms  "
              f"{2 * row['macs'] / s / 1e9:6.1f} GFLOP/s  " + matmul_part(r, [i]))


def print_memory(r: Result) -> None:
    rss, est = r.ready["rss"], r.ready["estimate"]
    ratio = rss["peak"] / est["total"]
    parts = "the network's peak alone (the estimate has no baseline)" if est["baseline"] is \
        None else f"the network {mib(est['network'])} + the baseline {mib(est['baseline'])}"
    print(f"  memory: peak RSS {mib(rss['peak'])} (at start {mib(rss['start'])}, after imports "
          f"{mib(rss['imported'])}); estimate {mib(est['total'])}: {parts}; RSS / estimate "
          f"{ratio:.2f}  {verdict(1 / MEMORY_TARGET <= ratio <= MEMORY_TARGET)} "
          f"(within {MEMORY_TARGET}x)")


def print_config(r: Result) -> None:
    ready = r.ready
    flops = 2 * ready["macs"]
    total = [t["total"] for t in r.turns]
    print(f"\n{r.name}, batch {r.batch}, {plural(r.threads, 'thread')}: "
          f"{ready['spec']}, {ready['params']:,} params, {amount(ready['macs'])} MACs; "
          f"set-up {ready['setup']:.2f} s; {plural(len(total), 'timed turn')}; "
          f"{r.seconds:.0f} s in all; load average {r.load}; {others(r)}")
    print(f"  executor: numpy {ready['numpy']}; BLAS {ready['blas']}; cnncalc's own pool "
          f"{plural(ready['own_threads'], 'thread')}; output {ready['output']}")
    print(f"  {r.torch_note}")
    if r.mismatch:
        print(f"  ERROR: {r.mismatch}: no torch figures")
    print(timing("executor", total, flops))
    ratio = r.torch_ratio()
    if ratio is None:
        print("  executor / torch: n/a (no torch times)")
    else:
        print(timing("torch", r.torch_times, flops))
        print(f"  executor / torch {ratio:.2f} (median of {plural(len(total), 'pair')}; ratio "
              f"of the medians {med(total) / med(r.torch_times):.2f}, of the minima "
              f"{min(total) / min(r.torch_times):.2f})  "
              f"{verdict(ratio <= r.torch_target)} (<= {r.torch_target})")
    print("  by layer class (conv: F > 1, pointwise: 1x1, depthwise, fc, other):")
    for cls in CLASSES:
        print(class_line(r, cls, med(total)))
    print_small_k(r)
    print_memory(r)


def share_cell(r: Result, cls: str, fn: Callable[[Result, list[int]], float | None]) -> str:
    layers = r.layers(cls)
    value = fn(r, layers) if layers else None
    return f"{value:6.0%}" if value is not None else f"{'-':>6}"


def matmul_share(r: Result, layers: list[int]) -> float | None:
    if not all(r.ready["layers"][i]["gemms"] for i in layers):
        return None
    return r.share("matmul", layers)


def print_summary(results: list[Result]) -> None:
    if not results:
        return
    print("\nsummary: medians; exec/torch: median of the per-pair ratios; conv, pointwise, "
          "fc: share of np.matmul's speed on the same products (target 75%); dw: depthwise "
          "GB/s as a share of np.copyto's; others: the CPUs' share other processes used "
          f"during the timed turns (above {BUSY:.0%}, the figures are disturbed)")
    print(f"{'config':16} {'thr':>3} {'executor':>11} {'torch':>11} {'exec/torch':>10} "
          f"{'target':>11} {'conv':>6} {'pointw':>6} {'fc':>6} {'dw':>6} {'RSS/est':>7} "
          f"{'others':>6}")
    for r in results:
        t = med(t["total"] for t in r.turns)
        ratio = r.torch_ratio()
        torch = f"{med(r.torch_times) * 1e3:8.1f} ms" if r.torch_times else f"{'-':>11}"
        judged = f"{ratio:10.2f} {verdict(ratio <= r.torch_target)} <= {r.torch_target}" \
            if ratio is not None else f"{'-':>10} {'-':>11}"
        print(f"{r.name + ' b' + str(r.batch):16} {r.threads:3} {t * 1e3:8.1f} ms {torch} "
              f"{judged} "
              + " ".join(share_cell(r, c, matmul_share) for c in ("conv", "pointwise", "fc"))
              + " " + share_cell(r, "depthwise", lambda q, ls: q.share("copy", ls))
              + f" {r.ready['rss']['peak'] / r.ready['estimate']['total']:7.2f} "
              + (f"{r.others:6.0%}" if r.others is not None else f"{'-':>6}"))
