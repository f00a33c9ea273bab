"""Benchmark depthwise convolutions: MobileNetV1/V2 forward passes, executor against PyTorch.

    python benchmarks/bench_depthwise.py [--runs N] [--configs mobilenet_v1:1,mobilenet_v2:8]

In this process, the executor's forward pass on the shipped spec: the median time, and the
GFLOP/s of its layer classes (depthwise, pointwise = 1x1, other convolutions, FC) from the
per-layer times of the same runs; for the depthwise layers also the GB/s of the bytes they
must move (input read once, output written once) against ``np.copyto`` of the same bytes.
PyTorch, where importable, runs in a separate process with ``torch.set_num_threads`` equal to
the executor's BLAS threads, alternating with the executor run by run (one waits while the
other runs, after a pause of 0.1 s that lets the other's spinning threads sleep): MobileNetV1
as a ``Sequential`` built from the executor's layers, MobileNetV2 as
``torchvision.models.mobilenet_v2``. Ratios are medians of the interleaved pairs (target 1.2).

torch is not a dependency of cnncalc: without it only the executor is timed. A Python with
both can be made from two environments, e.g.
``PYTHONPATH=/path/to/torch-env/site-packages .venv/bin/python benchmarks/bench_depthwise.py``.
Figures are printed; the exit status is 0 (tests never assert times).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_run import blas_info, blas_threads

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ("mobilenet_v1:1", "mobilenet_v1:8", "mobilenet_v2:1", "mobilenet_v2:8")
TARGET = 1.2

TORCH_WORKER = r"""
import json, sys, time
import torch
nn = torch.nn
desc = json.loads(sys.stdin.readline())
torch.set_num_threads(desc["threads"])
if desc["model"] == "mobilenet_v2":
    import torchvision
    model = torchvision.models.mobilenet_v2(weights=None)
else:
    layers = []
    for kind, a in desc["layers"]:
        if kind == "conv":
            (t, b), (l, r) = a["pad_h"], a["pad_w"]
            if (t, l) != (b, r):
                layers.append(nn.ZeroPad2d((l, r, t, b)))
                t = l = 0
            layers.append(nn.Conv2d(a["cin"], a["cout"], a["kernel"], a["stride"], (t, l),
                                    a["dilation"], a["groups"], a["bias"]))
        elif kind == "bn":
            layers.append(nn.BatchNorm2d(a["c"]))
        elif kind == "relu":
            layers.append(nn.ReLU6() if a["fn"] == "relu6" else nn.ReLU())
        elif kind == "softmax":
            layers.append(nn.Softmax(dim=1))
        elif kind == "gap":
            layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        elif kind == "fc":
            layers.append(nn.Linear(a["cin"], a["cout"]))
    model = nn.Sequential(*layers)
model.eval()
x = torch.randn(desc["batch"], 3, 224, 224)
with torch.inference_mode():
    model(x)
    print("ready", torch.__version__, torch.get_num_threads(), flush=True)
    for line in sys.stdin:
        time.sleep(0.1)  # the other process's spinning threads go idle
        start = time.perf_counter()
        model(x)
        print(time.perf_counter() - start, flush=True)
"""


def describe(modules: Any) -> list[tuple[str, dict[str, Any]]]:
    """MobileNetV1's layers as the torch worker builds them."""
    from cnncalc.execute.modules import (
        ActivationModule,
        BatchNormModule,
        ConvModule,
        DenseModule,
        DropoutModule,
        GlobalPoolModule,
    )

    out: list[tuple[str, dict[str, Any]]] = []
    for m in modules:
        if isinstance(m, ConvModule):
            out.append(("conv", {"cin": m.in_shape[2], "cout": m.out_shape[2],
                                 "kernel": m.kernel, "stride": m.stride,
                                 "dilation": m.dilation, "groups": m.groups,
                                 "pad_h": m.run_pad_h, "pad_w": m.run_pad_w,
                                 "bias": "bias" in m.param_shapes}))
        elif isinstance(m, BatchNormModule):
            out.append(("bn", {"c": m.in_shape[-1]}))
        elif isinstance(m, ActivationModule):
            fn = m.layer.fn  # type: ignore[attr-defined]
            out.append(("softmax" if fn == "softmax" else "relu", {"fn": fn}))
        elif isinstance(m, GlobalPoolModule):
            out.append(("gap", {}))
        elif isinstance(m, DenseModule):
            out.append(("fc", {"cin": m.param_shapes["weight"][0], "cout": m.out_shape[0]}))
        elif not isinstance(m, DropoutModule):
            raise NotImplementedError(type(m).__name__)
    return out


def layer_class(module: Any) -> str:
    from cnncalc.execute.modules import ConvModule, DenseModule

    if isinstance(module, ConvModule):
        if module.groups > 1 and module.cg == 1:
            return "depthwise"
        return "pointwise" if module.kernel == (1, 1) else "conv"
    return "fc" if isinstance(module, DenseModule) else "other"


def run(name: str, batch: int, runs: int) -> None:
    import numpy as np

    from cnncalc.execute.modules import Context
    from cnncalc.execute.network import Network, plan, random_input
    from cnncalc.options import load

    analysis = load(str(ROOT / "specs" / f"{name}.txt"))
    planned = plan(analysis)
    assert analysis.input is not None and planned.stop is None
    net = Network(planned.modules, "float32", 0, output=planned.output)
    x = random_input(analysis.input, batch, "float32", 0)
    ctx = Context()
    classes = [layer_class(m) for m in planned.modules]
    threads = blas_threads()

    worker = None
    try:
        import torch  # noqa: F401  (only whether it is importable)

        worker = subprocess.Popen([sys.executable, "-c", TORCH_WORKER], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        assert worker.stdin is not None and worker.stdout is not None
        desc = {"model": name, "batch": batch, "threads": threads,
                "layers": describe(planned.modules) if name == "mobilenet_v1" else []}
        worker.stdin.write(json.dumps(desc) + "\n")
        worker.stdin.flush()
        ready = worker.stdout.readline().split()
        torch_note = f"torch {ready[1]}, {ready[2]} threads"
    except ImportError:
        torch_note = "torch not importable"

    net.forward(x, ctx)  # warm-up
    ours: list[float] = []
    theirs: list[float] = []
    spent: dict[str, list[float]] = {}
    for _ in range(runs):
        time.sleep(0.1)  # the torch process's spinning threads go idle
        start = time.perf_counter()
        measured = net.forward(x, ctx)
        ours.append(time.perf_counter() - start)
        per: dict[str, float] = {}
        for cls, m in zip(classes, measured, strict=True):
            per[cls] = per.get(cls, 0.0) + m.seconds
        for cls, s in per.items():
            spent.setdefault(cls, []).append(s)
        if worker is not None:
            assert worker.stdin is not None and worker.stdout is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
            theirs.append(float(worker.stdout.readline()))
    if worker is not None:
        assert worker.stdin is not None
        worker.stdin.close()
        worker.wait()

    med = statistics.median
    macs: dict[str, int] = {}
    moved = 0
    for cls, r, m in zip(classes, planned.results, planned.modules, strict=True):
        macs[cls] = macs.get(cls, 0) + (r.macs or 0) * batch
        if cls == "depthwise":
            moved += (int(np.prod(m.in_shape)) + int(np.prod(m.out_shape))) * 4 * batch
    src = np.ones(moved // 8, dtype=np.float32)
    dst = np.empty_like(src)
    copies = []
    for _ in range(max(runs, 5)):
        start = time.perf_counter()
        np.copyto(dst, src)
        copies.append(time.perf_counter() - start)
    copy_gbs = 2 * src.nbytes / med(copies) / 1e9

    t = med(ours)
    print(f"{name} batch {batch}: executor {t * 1e3:.1f} ms [{min(ours) * 1e3:.1f}-"
          f"{max(ours) * 1e3:.1f}], {2 * sum(macs.values()) / t / 1e9:.1f} GFLOP/s; " + (
              f"torch {med(theirs) * 1e3:.1f} ms [{min(theirs) * 1e3:.1f}-"
              f"{max(theirs) * 1e3:.1f}] ({torch_note})" if theirs else torch_note))
    for cls in ("depthwise", "pointwise", "conv", "fc", "other"):
        if cls not in spent:
            continue
        s = med(spent[cls])
        line = f"  {cls:10} {s * 1e3:7.1f} ms ({s / t:4.0%} of the forward)"
        if macs.get(cls):
            line += f", {macs[cls] / 1e6:7.1f} M MACs, {2 * macs[cls] / s / 1e9:6.1f} GFLOP/s"
        if cls == "depthwise":
            line += (f", {moved / s / 1e9:.1f} GB/s in+out (np.copyto of the same bytes: "
                     f"{copy_gbs:.1f} GB/s)")
        print(line)
    if theirs:
        ratio = med(a / b for a, b in zip(ours, theirs, strict=True))
        print(f"  executor / torch {ratio:.2f} (median of {runs} interleaved pairs)  "
              f"{'PASS' if ratio <= TARGET else 'FAIL'} (<= {TARGET})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    args = parser.parse_args()
    import numpy as np

    import cnncalc

    print(f"cnncalc from {Path(cnncalc.__file__).parent}; numpy {np.__version__}, BLAS "
          f"{blas_info()}, {blas_threads()} threads; load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs")
    for config in args.configs.split(","):
        name, batch = config.split(":")
        run(name, int(batch), args.runs)


if __name__ == "__main__":
    main()
