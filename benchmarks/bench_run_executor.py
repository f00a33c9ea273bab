"""The executor side of ``bench_run.py``: a worker process that builds one network and times it.

    OPENBLAS_NUM_THREADS=T python benchmarks/bench_run_executor.py NAME BATCH  (by bench_run.py)

It runs with the thread count already in its environment (set by bench_run.py before NumPy is
imported), plans ``specs/NAME.txt``, builds it and runs one warm-up forward pass, in which every
``np.matmul`` call is recorded, layer by layer (``numpy.matmul`` is wrapped for that pass only).
Those are exactly the products the executor's kernels perform, with their shapes and chunks,
whatever the kernels' chunking is; a conv or FC layer whose recorded products do not add up to
its MACs (a kernel that multiplies some other way) gets no matmul figure rather than a wrong
one. Then the peak RSS (``ru_maxrss``) is read, before any reference array exists. It writes
two JSON lines: once planned, the description of the same network for the torch worker (and
the input shape), so that torch can build its model meanwhile; once warm, the network's
figures, each layer's class and MACs, and the memory figures.

Each ``go`` line on stdin is then one timed turn, after a pause of 0.3 s that lets the torch
process's spinning threads go idle: the forward pass (its total and per-layer times), then the
recorded products again with ``np.matmul`` on arrays of the same shapes (the weights themselves
as the right operand), layer by layer, and ``np.copyto`` of the bytes each depthwise layer
must move (its input read once and its output written once). The answer is one JSON line.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import math
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cnncalc.execute  # noqa: F401  (before NumPy: the OpenBLAS settings `cnncalc run` has)

ROOT = Path(__file__).resolve().parent.parent
PAUSE = 0.3  # seconds before each timed turn: the torch process's threads stop spinning
SMALL_K = 100  # a conv with F > 1 whose Fh*Fw*C (per group) is below this is a small-K layer
TORCHVISION = {name: name for name in ("resnet18", "resnet50", "densenet121", "mobilenet_v2")}
OPENBLAS_THREADS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                    "openblas_get_num_threads")


def rss_now() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def blas_threads() -> tuple[int, str]:
    """The threads NumPy's BLAS uses, and how that is known: threadpoolctl where importable,
    else OpenBLAS's own ``openblas_get_num_threads`` (the library NumPy loaded), else the
    environment variables, else the CPU count."""
    try:
        from threadpoolctl import threadpool_info

        for p in threadpool_info():
            if p.get("user_api") == "blas":
                return int(p["num_threads"]), "threadpoolctl"
    except ImportError:
        pass
    import numpy  # noqa: F401  (loads the BLAS library)

    with open("/proc/self/maps", encoding="ascii", errors="replace") as fh:
        libs = sorted({line.split()[-1] for line in fh if "openblas" in line.lower()
                       and ".so" in line})
    for path in libs:
        lib = ctypes.CDLL(path)
        for symbol in OPENBLAS_THREADS:
            get = getattr(lib, symbol, None)
            if get is not None:
                return int(get()), "openblas_get_num_threads"
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var]), var
    return os.cpu_count() or 1, "CPU count"


def blas_info() -> str:
    import numpy as np

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        name = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # show_config's layout is not an API
        name = "unknown"
    threads, how = blas_threads()
    return f"{name}, {threads} thread{'s' * (threads != 1)} ({how})"


def layer_class(module: Any) -> str:
    """conv (a dense or grouped conv wider than 1x1), pointwise (1x1), depthwise (one input
    channel per group), fc, other."""
    from cnncalc.execute.modules import ConvModule, DenseModule, TransposedModule

    if isinstance(module, ConvModule):
        if module.groups > 1 and module.cg == 1:
            return "depthwise"
        return "pointwise" if module.kernel == (1, 1) else "conv"
    if isinstance(module, TransposedModule):
        return "conv"
    return "fc" if isinstance(module, DenseModule) else "other"


def describe(modules: Any) -> list[tuple[str, dict[str, Any]]]:
    """A chain's modules as bench_run_torch.py builds them; NotImplementedError for a graph
    (a layer that does not read the one before it) or a module it has no torch equivalent for
    (a transposed conv, uneven pool padding)."""
    from cnncalc.execute import modules as em

    out: list[tuple[str, dict[str, Any]]] = []
    for i, m in enumerate(modules, start=1):
        if m.reads not in ((), (i - 1,)):
            raise NotImplementedError(f"{m.layer.name} reads {m.reads}: not a chain")
        if isinstance(m, em.ConvModule):
            out.append(("conv", {"cin": m.in_shape[2], "cout": m.out_shape[2],
                                 "kernel": m.kernel, "stride": m.stride, "dilation": m.dilation,
                                 "groups": m.groups, "pad_h": m.run_pad_h,
                                 "pad_w": m.run_pad_w, "bias": "bias" in m.param_shapes}))
        elif isinstance(m, em.PoolModule):
            if m.pad_h[0] != m.pad_h[1] or m.pad_w[0] != m.pad_w[1]:
                raise NotImplementedError(f"{m.layer.name}: uneven pool padding")
            out.append(("pool", {"op": m.op, "kernel": m.kernel, "stride": m.stride,
                                 "dilation": m.dilation, "pad": (m.pad_h[0], m.pad_w[0]),
                                 "ceil": (m.run_pad_h, m.run_pad_w) != (m.pad_h, m.pad_w)}))
        elif isinstance(m, em.GlobalPoolModule):
            out.append(("global_pool", {"op": m.op, "keepdims": m.keepdims}))
        elif isinstance(m, em.AdaptivePoolModule):
            out.append(("adaptive_pool", {"op": m.op, "output": m.out_hw}))
        elif isinstance(m, em.LRNModule):
            out.append(("lrn", {}))
        elif isinstance(m, em.BatchNormModule):
            out.append(("bn", {"c": m.in_shape[-1], "volume": len(m.in_shape) == 3,
                               "affine": bool(m.param_shapes),
                               "running": bool(m.buffer_shapes)}))
        elif isinstance(m, em.ActivationModule):
            out.append(("activation", {"fn": m.fn}))
        elif isinstance(m, em.ZeroPadModule):
            out.append(("zero_pad", {"pad_h": m.pad[0], "pad_w": m.pad[1]}))
        elif isinstance(m, em.FlattenModule):
            out.append(("flatten", {}))
        elif isinstance(m, em.DropoutModule):
            out.append(("dropout", {"p": m.p}))
        elif isinstance(m, em.DenseModule):
            out.append(("fc", {"cin": m.fan_in, "cout": m.out_shape[0],
                               "bias": "bias" in m.param_shapes,
                               "flatten": len(m.in_shape) > 1}))
        else:
            raise NotImplementedError(f"{m.layer.name}: no torch module for "
                                      f"{type(m).__name__}")
    return out


def torch_model(name: str, modules: Any) -> dict[str, Any]:
    """What the torch worker builds: torchvision's model for the graph networks it has,
    else a Sequential of the chain's layers; ``{"error": ...}`` when neither fits."""
    if name in TORCHVISION:
        return {"torchvision": TORCHVISION[name]}
    try:
        return {"layers": describe(modules)}
    except NotImplementedError as exc:
        return {"error": str(exc)}


@dataclass
class Product:
    """One recorded ``np.matmul``: the left operand's shape, the right operand (the array
    itself when it is a weight array, else its shape), and whether ``out=`` was given. The
    network is float32, so are the products."""

    a_shape: tuple[int, ...]
    b: Any
    out_shape: tuple[int, ...]
    into: bool

    @property
    def macs(self) -> int:
        return math.prod(self.out_shape) * self.a_shape[-1]


@dataclass
class Recorder:
    """Wraps ``numpy.matmul`` (which the kernels call as ``np.matmul``) while it is entered,
    and files each call under the layer that made it (``next_layer`` starts the next)."""

    weights: list[Any]
    layers: list[list[Product]] = field(default_factory=lambda: [[]])

    def __enter__(self) -> Recorder:
        import numpy as np

        self.real = np.matmul
        np.matmul = self.spy  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        import numpy as np

        np.matmul = self.real

    def spy(self, a: Any, b: Any, *args: Any, **kwargs: Any) -> Any:
        import numpy as np

        out = self.real(a, b, *args, **kwargs)
        weight = any(np.may_share_memory(b, w) for w in self.weights)
        self.layers[-1].append(Product(tuple(np.shape(a)), b if weight else tuple(np.shape(b)),
                                       tuple(np.shape(out)), bool(args) or "out" in kwargs))
        return out

    def next_layer(self, index: int, measured: Any) -> None:
        self.layers.append([])


@dataclass
class Bench:
    """A built network, its input, and what one turn re-runs."""

    net: Any
    x: Any
    ctx: Any
    products: dict[int, list[Product]]  # by layer, only layers whose products are complete
    copies: dict[int, int]  # float32 elements np.copyto moves for each depthwise layer
    buffers: dict[str, Any] = field(default_factory=dict)


def layer_rows(planned: Any, batch: int, recorded: list[list[Product]]) -> list[dict[str, Any]]:
    """Per layer: name, class, MACs (times the batch); for conv, pointwise and fc whether the
    recorded products add up to its MACs (``gemms``); for the network's first convolution and
    every conv with F > 1 and Fh*Fw*C below :data:`SMALL_K`, that product (``small_k``); for
    depthwise, the bytes of its input and output (``bytes``)."""
    rows = []
    first = True
    for i, (r, m) in enumerate(zip(planned.results, planned.modules, strict=True)):
        cls = layer_class(m)
        macs = (r.macs or 0) * batch
        row: dict[str, Any] = {"name": r.layer.name, "class": cls, "macs": macs}
        if cls in ("conv", "pointwise", "fc"):
            row["gemms"] = sum(p.macs for p in recorded[i]) == macs
        if cls in ("conv", "pointwise") and (first or (cls == "conv" and m.fan_in < SMALL_K)):
            row["small_k"] = f"{m.kernel[0]}x{m.kernel[1]}x{m.cg}"
        first = first and cls not in ("conv", "pointwise", "depthwise")
        if cls == "depthwise":
            row["bytes"] = (math.prod(m.in_shape) + math.prod(m.out_shape)) * batch * 4
        rows.append(row)
    return rows


def reference_buffers(bench: Bench) -> None:
    """Operands for the recorded products (random values: BLAS's speed does not depend on
    them) and for the copies; made only after the peak RSS was read."""
    import numpy as np

    rng = np.random.default_rng(0)
    every = [p for ps in bench.products.values() for p in ps]
    sizes = {"a": max((math.prod(p.a_shape) for p in every), default=0),
             "b": max((math.prod(p.b) for p in every if isinstance(p.b, tuple)), default=0),
             "out": max((math.prod(p.out_shape) for p in every), default=0),
             "src": max(bench.copies.values(), default=0)}
    for name, n in sizes.items():
        bench.buffers[name] = rng.standard_normal(n, dtype=np.float32)
    bench.buffers["dst"] = np.empty_like(bench.buffers["src"])


def view(buf: Any, shape: tuple[int, ...]) -> Any:
    return buf[:math.prod(shape)].reshape(shape)


def references(bench: Bench) -> dict[str, dict[int, float]]:
    """The recorded products again, layer by layer, and the depthwise layers' copies."""
    import numpy as np

    buf = bench.buffers
    matmul = {}
    for i, products in bench.products.items():
        operands = [(view(buf["a"], p.a_shape),
                     view(buf["b"], p.b) if isinstance(p.b, tuple) else p.b,
                     view(buf["out"], p.out_shape) if p.into else None)
                    for p in products]
        start = time.perf_counter()
        for a, b, out in operands:
            np.matmul(a, b, out=out)
        matmul[i] = time.perf_counter() - start
    copy = {}
    for i, n in bench.copies.items():
        src, dst = buf["src"][:n], buf["dst"][:n]
        start = time.perf_counter()
        np.copyto(dst, src)
        copy[i] = time.perf_counter() - start
    return {"matmul": matmul, "copy": copy}


def turn(bench: Bench) -> dict[str, Any]:
    """One timed forward pass, then the references."""
    start = time.perf_counter()
    measured = bench.net.forward(bench.x, bench.ctx)
    total = time.perf_counter() - start
    return {"total": total, "layers": [m.seconds for m in measured], **references(bench)}


def estimate(est: Any, baseline: int) -> dict[str, int | None]:
    """The memory guard's figures: ``total`` the process's estimated peak with the baseline
    measured here (after the imports, as ``cnncalc run`` measures it), where the estimate has
    one (``baseline_bytes``); else the network's peak alone and ``baseline`` None."""
    if not hasattr(est, "baseline_bytes"):
        return {"total": est.peak_bytes, "network": est.peak_bytes, "baseline": None}
    est = dataclasses.replace(est, baseline_bytes=baseline)
    return {"total": est.total_bytes, "network": est.network_bytes, "baseline": baseline}


def prepare(name: str, batch: int) -> tuple[Bench, dict[str, Any]]:
    """Plan, announce the torch model (so that torch builds it while this process builds the
    executor's), build, warm up while recording the products, read the peak RSS."""
    rss_start = rss_now()
    import numpy as np

    from cnncalc.execute.memory import memory_estimate
    from cnncalc.execute.modules import Context
    from cnncalc.execute.network import Network, plan, random_input
    from cnncalc.execute.threads import threads as own_threads
    from cnncalc.options import load

    spec = ROOT / "specs" / f"{name}.txt"
    analysis = load(str(spec))
    planned = plan(analysis)
    if analysis.input is None or analysis.totals is None or planned.stop or planned.failure:
        raise SystemExit(f"{spec}: the executor cannot run it ({planned.failure or 'no input'})")
    print(json.dumps({"torch": torch_model(name, planned.modules),
                      "input": list(analysis.input)}), flush=True)
    import numpy.random  # loaded by the run: in the baseline, as `cnncalc run` counts it

    rss_imported = rss_now()
    est = memory_estimate(planned.modules, analysis.input, batch, 4, output=planned.output)
    start = time.perf_counter()
    net = Network(planned.modules, "float32", 0, output=planned.output)
    setup = time.perf_counter() - start
    x = random_input(analysis.input, batch, "float32", 0)
    ctx = Context()
    weights = [a for m in planned.modules for a in m.arrays.values()]
    with Recorder(weights) as rec:
        net.forward(x, ctx, rec.next_layer)  # the warm-up
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert net.result is not None
    rows = layer_rows(planned, batch, rec.layers)
    bench = Bench(net, x, ctx,
                  {i: rec.layers[i] for i, row in enumerate(rows) if row.get("gemms")},
                  {i: row["bytes"] // 8 for i, row in enumerate(rows) if "bytes" in row})
    reference_buffers(bench)
    threads, how = blas_threads()
    ready = {
        "spec": str(spec.relative_to(ROOT)),
        "numpy": f"{np.__version__} from {Path(np.__file__).parent.parent}",
        "blas": blas_info(), "blas_threads": threads, "blas_threads_from": how,
        "own_threads": own_threads(), "setup": setup,
        "params": analysis.totals.params, "macs": analysis.totals.macs * batch,
        "output": list(net.result.shape[1:]), "layers": rows,
        "rss": {"start": rss_start, "imported": rss_imported, "peak": peak},
        "estimate": estimate(est, rss_imported),
    }
    return bench, ready


def serve(name: str, batch: int) -> None:
    bench, ready = prepare(name, batch)
    print(json.dumps(ready), flush=True)
    for _ in sys.stdin:
        time.sleep(PAUSE)
        print(json.dumps(turn(bench)), flush=True)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
