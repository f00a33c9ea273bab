"""Benchmark `cnncalc run`'s NumPy executor: time, GFLOP/s, BLAS efficiency, torch, memory.

    python benchmarks/bench_run.py [--quick] [--runs N] [--configs alexnet:1,vgg16:8]

Each configuration (AlexNet and VGG-16, batch 1 and 8) runs in a subprocess of its own, so
that its peak RSS is its own. In it, side by side and interleaved so that both see the same
machine load:

- the executor's forward pass (median of the runs; FLOPs = 2 x MACs);
- NumPy's own float32 matmul on exactly the GEMMs the executor's convolutions perform (same
  shapes and chunks): the convolutions' GFLOP/s over it is the im2col overhead (target 60% or
  more on VGG-16);
- where torch is importable, torch's forward on the same layers with the same thread count
  (target: executor time <= 1.5 x torch's);
- peak RSS (``ru_maxrss``, measured before any reference array or torch is touched) against
  the memory guard's estimate (target: within 1.5 x), also net of the interpreter's baseline.

Figures are printed; the exit status is 0 (tests never assert times).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPECS = {"alexnet": "specs/alexnet.txt", "vgg16": "specs/vgg16.txt"}
CONFIGS = ("alexnet:1", "alexnet:8", "vgg16:1", "vgg16:8")
MATMUL_TARGET, TORCH_TARGET, MEMORY_TARGET = 0.60, 1.5, 1.5


def rss_now() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def blas_info() -> str:
    import numpy as np

    try:
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            p = pools[0]
            return (f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}), "
                    f"{p.get('num_threads')} threads")
    except ImportError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')} (threadpoolctl not installed)"
    except Exception:  # show_config's layout is not an API
        return "unknown"


def blas_threads() -> int:
    try:
        from threadpoolctl import threadpool_info

        for p in threadpool_info():
            if p.get("user_api") == "blas":
                return int(p["num_threads"])
    except ImportError:
        pass
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return os.cpu_count() or 1


def conv_gemms(modules: Any, batch: int, cap: int) -> list[tuple[int, int, int, int]]:
    """(groups, M, K, N) of every product the executor's convolutions perform."""
    from cnncalc.execute.geometry import chunk_budget, chunks
    from cnncalc.execute.modules import ConvModule

    out = []
    for m in modules:
        if not isinstance(m, ConvModule):
            continue
        ho, wo = m.out_hw
        c = m.in_shape[2]
        k = m.kernel[0] * m.kernel[1] * m.cg
        budget = chunk_budget(k * 4, m.kg, cap)
        nb, rows = chunks(batch, ho, wo * m.kernel[0] * m.kernel[1] * c * 4, budget)
        for n0 in range(0, batch, nb):
            for r0 in range(0, ho, rows):
                mm = min(nb, batch - n0) * min(rows, ho - r0) * wo
                out.append((m.groups, mm, k, m.kg))
    return out


def torch_model(modules: Any) -> Any:
    import torch

    from cnncalc.execute.modules import ConvModule, DenseModule, LRNModule, PoolModule

    layers: list[Any] = []
    for m in modules:
        if isinstance(m, ConvModule):
            (t, b), (lft, r) = m.run_pad_h, m.run_pad_w
            if (t, lft) != (b, r):
                layers.append(torch.nn.ZeroPad2d((lft, r, t, b)))
                t = lft = 0
            layers.append(torch.nn.Conv2d(m.in_shape[2], m.out_shape[2], m.kernel, m.stride,
                                          (t, lft), m.dilation, m.groups, "bias" in m.arrays))
        elif isinstance(m, PoolModule):
            cls = torch.nn.MaxPool2d if m.op == "max" else torch.nn.AvgPool2d
            layers.append(cls(m.kernel, m.stride, (m.pad_h[0], m.pad_w[0])))
        elif isinstance(m, LRNModule):
            layers.append(torch.nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0))
        elif isinstance(m, DenseModule):
            layers += [torch.nn.Flatten(), torch.nn.Linear(m.param_shapes["weight"][0],
                                                           m.out_shape[0])]
        else:
            raise NotImplementedError(type(m).__name__)
    return torch.nn.Sequential(*layers).eval()


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def worker(name: str, batch: int, runs: int) -> dict[str, Any]:
    """One configuration, in its own process; prints a JSON record."""
    base_rss = rss_now()
    import numpy as np

    from cnncalc.execute.modules import WORKSPACE_CAP, Context, ConvModule
    from cnncalc.execute.network import Network, memory_estimate, plan, random_input
    from cnncalc.options import load

    analysis = load(str(ROOT / SPECS[name]))
    planned = plan(analysis)
    assert analysis.input is not None and analysis.totals is not None
    est = memory_estimate(planned.modules, analysis.input, batch, 4)
    imported_rss = rss_now()
    net = Network(planned.modules, "float32", 0)
    x = random_input(analysis.input, batch, "float32", 0)
    ctx = Context()
    conv = [i for i, m in enumerate(planned.modules) if isinstance(m, ConvModule)]
    total, conv_time = [], []

    def forward() -> None:
        start = time.perf_counter()
        measured = net.forward(x, ctx)
        total.append(time.perf_counter() - start)
        conv_time.append(sum(measured[i].seconds for i in conv))

    forward()  # warm-up; also the peak of the executor alone
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    total.clear()
    conv_time.clear()

    gemms = conv_gemms(planned.modules, batch, WORKSPACE_CAP)
    rng = np.random.default_rng(0)
    operands = {}
    for g, m, k, n in set(gemms):
        operands[(g, m, k, n)] = (rng.random((g, m, k), dtype=np.float32),
                                  rng.random((g, k, n), dtype=np.float32),
                                  np.empty((g, m, n), dtype=np.float32))

    def reference() -> None:
        for key in gemms:
            a, b, c = operands[key]
            np.matmul(a, b, out=c)

    ref_time = []
    for _ in range(runs):
        forward()
        ref_time.append(timed(reference))
    operands.clear()

    torch_time: list[float] = []
    torch_version = None
    threads = blas_threads()
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch_version = torch.__version__
        torch.set_num_threads(threads)
        model = torch_model(planned.modules)
        tx = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        with torch.inference_mode():
            model(tx)
            for _ in range(runs):
                forward()
                torch_time.append(timed(lambda: model(tx)))
    conv_macs = sum(r.macs or 0 for i, r in enumerate(analysis.layers) if i in conv) * batch
    return {
        "config": f"{name} b{batch}", "macs": analysis.totals.macs * batch,
        "conv_macs": conv_macs, "total": total, "conv": conv_time, "matmul": ref_time,
        "gemm_flops": sum(2 * g * m * k * n for g, m, k, n in gemms),
        "torch": torch_time, "torch_version": torch_version, "threads": threads,
        "peak_rss": peak_rss, "base_rss": base_rss, "imported_rss": imported_rss,
        "estimate": est.peak_bytes, "blas": blas_info(),
    }


def mib(n: float) -> str:
    return f"{n / 2**20:7.0f} MiB"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(records: list[dict[str, Any]]) -> None:
    med = statistics.median
    first = records[0]
    import numpy as np

    print(f"Python {platform.python_version()}, numpy {np.__version__}, BLAS {first['blas']}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; "
          f"torch {first['torch_version'] or 'not importable'}"
          + (f" ({first['threads']} threads)" if first["torch_version"] else "")
          + f"; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} on "
          f"{os.cpu_count()} CPUs")
    print(f"{'config':11} {'executor':>16} {'GFLOP/s':>8} {'conv GF/s':>10} "
          f"{'matmul GF/s':>12} {'conv/mm':>8} {'torch':>10} {'exec/torch':>10} "
          f"{'peak RSS':>11} {'estimate':>11} {'RSS/est':>8} {'net/est':>8}")
    checks: list[tuple[str, bool]] = []
    for r in records:
        runs = len(r["matmul"])
        t, conv, mm = med(r["total"]), med(r["conv"]), med(r["matmul"])
        conv_gf = 2 * r["conv_macs"] / conv / 1e9
        mm_gf = r["gemm_flops"] / mm / 1e9
        assert r["gemm_flops"] == 2 * r["conv_macs"], "the reference GEMMs differ"
        # ratios of the interleaved pairs, so that a burst of load hits both sides
        eff = med(m / c for m, c in zip(r["matmul"], r["conv"][:runs], strict=True))
        ratio = med(e / q for e, q in zip(r["total"][runs:], r["torch"], strict=True)) \
            if r["torch"] else None
        rss_ratio = r["peak_rss"] / r["estimate"]
        net_ratio = (r["peak_rss"] - r["imported_rss"]) / r["estimate"]
        print(f"{r['config']:11} {t * 1e3:8.1f} ms "
              f"[{min(r['total']) * 1e3:.0f}-{max(r['total']) * 1e3:.0f}] "
              f"{2 * r['macs'] / t / 1e9:8.1f} {conv_gf:10.1f} {mm_gf:12.1f} {eff:8.0%} "
              + (f"{med(r['torch']) * 1e3:7.1f} ms {ratio:10.2f} " if ratio else
                 f"{'-':>10} {'-':>10} ")
              + f"{mib(r['peak_rss'])} {mib(r['estimate'])} {rss_ratio:8.2f} {net_ratio:8.2f}")
        if r["config"].startswith("vgg16"):
            checks.append((f"{r['config']}: convs at {eff:.0%} of matmul (>= "
                           f"{MATMUL_TARGET:.0%})", eff >= MATMUL_TARGET))
        if ratio is not None:
            checks.append((f"{r['config']}: executor / torch {ratio:.2f} (<= {TORCH_TARGET})",
                           ratio <= TORCH_TARGET))
        checks.append((f"{r['config']}: peak RSS / estimate {rss_ratio:.2f} (within "
                       f"{MEMORY_TARGET}x)", 1 / MEMORY_TARGET <= rss_ratio <= MEMORY_TARGET))
    print("executor = median forward pass [min-max]; GFLOP/s = 2 x MACs / time; conv GF/s = "
          "the conv layers alone; matmul GF/s = np.matmul on the same GEMMs (shapes and "
          "chunks); conv/mm and exec/torch = medians of the ratios of interleaved runs; "
          "net/est = (peak RSS - RSS after imports) / estimate")
    for text, ok in checks:
        print(f"  {verdict(ok)}  {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 runs per configuration")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help="NAME:BATCH,... with NAME alexnet or vgg16")
    parser.add_argument("--worker", nargs=3, metavar=("NAME", "BATCH", "RUNS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        name, batch, runs = args.worker
        print(json.dumps(worker(name, int(batch), int(runs))))
        return
    runs = 3 if args.quick else args.runs
    records = []
    for config in args.configs.split(","):
        name, batch = config.split(":")
        proc = subprocess.run([sys.executable, __file__, "--worker", name, batch, str(runs)],
                              cwd=ROOT, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"{config}: worker failed\n{proc.stderr}", file=sys.stderr)
            continue
        records.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    if records:
        report(records)


if __name__ == "__main__":
    main()
