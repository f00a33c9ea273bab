"""Benchmark the NumPy executor on a graph network: ResNet-50's forward pass against PyTorch's.

    python benchmarks/bench_resnet50.py [--runs N] [--batch B] [--spec PATH]

ResNet-50 is written in cnncalc's canonical notation (``--spec``, by default
``specs/resnet50.txt`` when it exists, else the text below: torchvision's layout, the stride
on the bottleneck's 3x3 convolution).
In one process, after a warm-up of each:

- the executor's forward pass, checked as ``cnncalc run`` checks it: every layer's output
  volume, params, buffers and MACs against the analysis, and the peak of live activations it
  measured against the analysis's inference-memory estimate;
- ``torchvision.models.resnet50`` in eval mode under ``torch.no_grad()``, with
  ``torch.set_num_threads`` equal to the executor's BLAS threads, given the executor's random
  weights and input, so that its class scores can be compared with the executor's;
- the two timed interleaved, so that a burst of load on the machine hits both: medians,
  ranges, and the median of the ratios of the pairs (target: executor <= 1.5 x torch).

torch and torchvision are not dependencies of cnncalc: without them only the executor is
timed. A Python that has both and cnncalc's own packages can be made from two environments,
e.g. ``PYTHONPATH=/path/to/torch-env/site-packages .venv/bin/python benchmarks/...``.
Figures are printed; the exit status is 0 (tests never assert times).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench_run_executor import blas_info, blas_threads

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "resnet50.txt"
TARGET = 1.5
PARAMS, MACS = 25_557_032, 4_089_184_256  # torchvision's, at 224x224x3

INLINE = """\
ROUNDING: floor
[224x224x3] INPUT
conv1: 64 7x7 filters at stride 2, pad 3, no bias
bn1
relu
maxpool: 3x3 filters at stride 2, pad 1
BLOCK bottleneck(W, C):
    conv1: W 1x1 filters, no bias
    bn1
    relu1
    conv2: W 3x3 filters at stride 1, pad 1, no bias
    bn2
    relu2
    conv3: C 1x1 filters, no bias
    bn3
    ADD from bn3, INPUT
    relu3
END
BLOCK down(W, C, S=2):
    conv1: W 1x1 filters, no bias
    bn1
    relu1
    conv2: W 3x3 filters at stride S, pad 1, no bias
    bn2
    relu2
    conv3: C 1x1 filters, no bias
    bn3
    CONV "downsample.0" from INPUT: C 1x1 filters at stride S, no bias
    BATCHNORM "downsample.1"
    ADD from bn3, "downsample.1"
    relu3
END
layer1: down(64, 256, S=1), 2 x bottleneck(64, 256)
layer2: down(128, 512), 3 x bottleneck(128, 512)
layer3: down(256, 1024), 5 x bottleneck(256, 1024)
layer4: down(512, 2048), 2 x bottleneck(512, 2048)
GLOBAL AVG POOL
fc: 1000 neurons
"""


def load(path: str | None) -> Any:
    from cnncalc.analyze import analyze
    from cnncalc.parse import parse_text

    spec = Path(path) if path else SPEC if SPEC.exists() else None
    if spec is not None:
        return analyze(parse_text(spec.read_text(encoding="utf-8"), str(spec)))
    return analyze(parse_text(INLINE, "bench_resnet50.py (inline spec)"))


def torch_copy(modules: Any, torch: Any, torchvision: Any) -> Any:
    """torchvision's ResNet-50 holding the executor's weights: its convolutions, batch norms
    and FC layer, in order, are the executor's in order (torchvision registers a bottleneck's
    modules as conv1, bn1, conv2, bn2, conv3, bn3, downsample, as the spec lists them)."""
    from cnncalc.execute.modules import BatchNormModule, ConvModule, DenseModule

    model = torchvision.models.resnet50(weights=None).eval()
    theirs = [m for m in model.modules()
              if isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.Linear))]
    ours = [m for m in modules if isinstance(m, (ConvModule, BatchNormModule, DenseModule))]
    assert len(theirs) == len(ours), (len(theirs), len(ours))
    with torch.no_grad():
        for t, m in zip(theirs, ours, strict=True):
            a = m.arrays
            if isinstance(m, ConvModule):
                k = t.weight.shape[0]
                hwio = a["weight"][0].reshape(*m.kernel, m.cg, k)
                t.weight.copy_(torch.from_numpy(hwio.transpose(3, 2, 0, 1).copy()))
            elif isinstance(m, BatchNormModule):
                for name, arr in (("weight", "gamma"), ("bias", "beta"),
                                  ("running_mean", "mean"), ("running_var", "var")):
                    getattr(t, name).copy_(torch.from_numpy(a[arr].copy()))  # ours: read-only
            else:
                t.weight.copy_(torch.from_numpy(a["weight"].T.copy()))
                t.bias.copy_(torch.from_numpy(a["bias"].copy()))
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--spec", help="a ResNet-50 in canonical notation")
    args = parser.parse_args()

    import numpy as np

    from cnncalc.execute.memory import memory_estimate
    from cnncalc.execute.modules import Context
    from cnncalc.execute.network import Network, plan, random_input
    from cnncalc.execute.report import make_row

    analysis = load(args.spec)
    assert analysis.totals is not None and analysis.input is not None
    planned = plan(analysis)
    assert planned.stop is None and planned.failure is None
    est = memory_estimate(planned.modules, analysis.input, args.batch, 4,
                          output=planned.output)
    net = Network(planned.modules, "float32", 0, output=planned.output)
    x = random_input(analysis.input, args.batch, "float32", 0)
    ctx = Context()
    measured = net.forward(x, ctx)  # warm-up, and the run that is checked
    rows = [make_row(r, m.output_shape, m.params, m.buffers, m.macs, m.seconds, m.macs_whole)
            for r, m in zip(planned.results, measured, strict=True)]
    bad = [r for r in rows if not r.match]
    t = analysis.totals
    threads, _ = blas_threads()
    print(f"Python {platform.python_version()}, numpy {np.__version__}, BLAS {blas_info()}; "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} on "
          f"{os.cpu_count()} CPUs")
    print(f"spec: {analysis.spec.path}: {len(rows)} layers, {t.params:,} params "
          f"(torchvision {PARAMS:,}), {t.macs:,} MACs (torchvision {MACS:,})")
    print(f"confirmed: {len(rows) - len(bad)} of {len(rows)} layers match the analysis "
          "(output volume, params, buffers, MACs)"
          + "".join(f"\n  MISMATCH {r.result.layer.name}: {r.mismatches}" for r in bad))
    print(f"activations per example: measured peak of live tensors {net.peak:,} elements, "
          f"analysis's inference-memory estimate {t.peak_activations:,} "
          f"({'equal' if net.peak == t.peak_activations else 'MISMATCH'}); sum of all "
          f"outputs {t.activations:,}; memory guard's estimate {est.peak_bytes / 2**20:.0f} MiB"
          f" at batch {args.batch}")

    try:
        import torch
        import torchvision
    except ImportError:
        torch = torchvision = None
    model = tx = None
    if torch is not None:
        torch.set_num_threads(threads)
        model = torch_copy(net.modules, torch, torchvision)
        tx = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        with torch.no_grad():
            want = model(tx).numpy()
        net.forward(x, ctx)
        got = net.result
        assert got is not None
        scale = float(np.abs(want).max())
        print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
              f"{torch.get_num_threads()} threads (executor: {threads} BLAS threads); class "
              f"scores: max |executor - torch| = {float(np.abs(got - want).max()):.3g}, "
              f"{float(np.abs(got - want).max()) / scale:.2g} of the largest score "
              f"({scale:.3g})")
    else:
        print("torch/torchvision not importable: the executor alone is timed")

    ours: list[float] = []
    theirs: list[float] = []
    kinds: dict[str, list[float]] = {}
    for _ in range(args.runs):
        start = time.perf_counter()
        layers = net.forward(x, ctx)
        ours.append(time.perf_counter() - start)
        for r, m in zip(planned.results, layers, strict=True):
            kinds.setdefault(r.layer.kind, []).append(m.seconds)
        if model is not None:
            with torch.no_grad():
                start = time.perf_counter()
                model(tx)
                theirs.append(time.perf_counter() - start)
    med = statistics.median
    flops = 2 * t.macs * args.batch
    print(f"{'batch ' + str(args.batch):10} {'median':>10} {'min':>9} {'max':>9} {'GFLOP/s':>8}")
    for name, times in (("executor", ours), ("torch", theirs)):
        if times:
            print(f"{name:10} {med(times) * 1e3:7.1f} ms {min(times) * 1e3:6.1f} ms "
                  f"{max(times) * 1e3:6.1f} ms {flops / med(times) / 1e9:8.1f}")
    spent = {k: sum(v) for k, v in kinds.items()}
    total = sum(spent.values())
    print("executor time by layer kind: " + ", ".join(
        f"{k} {v / total:.1%}" for k, v in sorted(spent.items(), key=lambda kv: -kv[1])
        if v / total >= 0.001) + f"; measuring and bookkeeping {1 - total / sum(ours):.1%}")
    if theirs:
        ratio = med(a / b for a, b in zip(ours, theirs, strict=True))
        verdict = "PASS" if ratio <= TARGET else "FAIL"
        print(f"executor / torch: {ratio:.2f} (median of {args.runs} interleaved pairs; "
              f"ratio of medians {med(ours) / med(theirs):.2f})  {verdict} (<= {TARGET})")


if __name__ == "__main__":
    sys.exit(main())
