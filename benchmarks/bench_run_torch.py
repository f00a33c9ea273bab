"""The PyTorch side of ``bench_run.py``: a worker process that builds a model and times it.

    OMP_NUM_THREADS=T python benchmarks/bench_run_torch.py T     (started by bench_run.py)

It speaks one JSON object per line over stdin/stdout. A ``model`` request describes a network:
``{"model": {"torchvision": "resnet50"} | {"layers": [[kind, {...}], ...]}, "input": [C, H, W],
"batch": B}``; the worker builds it (torchvision's with ``weights=None``; a ``Sequential`` of
the layers, as ``bench_run_executor.describe`` lists the executor's modules), puts it in eval
mode, runs it once and answers ``{"params": ..., "output": [...], "torch": version,
"threads": torch.get_num_threads()}`` (or ``{"error": ...}``). Each ``go`` request then times
one forward pass under ``torch.inference_mode()``, after a pause of 0.3 s that lets the other
process's spinning threads go idle, and answers ``{"seconds": ...}``. A new ``model`` request
replaces the model; end of input ends the worker. Its first line, before any request, says
``{"torch": version, "threads": ...}``.

The thread count is set twice: in the environment before torch is imported (by bench_run.py,
``OMP_NUM_THREADS`` and the others) and with ``torch.set_num_threads``. Nothing of cnncalc is
imported here: the model is built from the description alone.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

PAUSE = 0.3  # seconds before each timed run: the other side's BLAS threads stop spinning

ACTIVATIONS = {"relu": "ReLU", "relu6": "ReLU6", "tanh": "Tanh", "sigmoid": "Sigmoid",
               "elu": "ELU", "gelu": "GELU", "silu": "SiLU", "swish": "SiLU",
               "hardswish": "Hardswish", "hardsigmoid": "Hardsigmoid", "identity": "Identity"}


def layer(nn: Any, kind: str, a: dict[str, Any]) -> list[Any]:
    """The torch modules of one described layer (a conv with uneven padding is a ZeroPad2d
    and an unpadded conv, as PyTorch pads evenly)."""
    if kind == "conv":
        (t, b), (lft, r) = a["pad_h"], a["pad_w"]
        pad = []
        if (t, lft) != (b, r):
            pad, t, lft = [nn.ZeroPad2d((lft, r, t, b))], 0, 0
        return [*pad, nn.Conv2d(a["cin"], a["cout"], a["kernel"], a["stride"], (t, lft),
                                a["dilation"], a["groups"], a["bias"])]
    if kind == "pool":
        if a["op"] == "max":
            return [nn.MaxPool2d(a["kernel"], a["stride"], a["pad"], a["dilation"],
                                 ceil_mode=a["ceil"])]
        return [nn.AvgPool2d(a["kernel"], a["stride"], a["pad"], ceil_mode=a["ceil"])]
    if kind == "global_pool":
        cls = nn.AdaptiveMaxPool2d if a["op"] == "max" else nn.AdaptiveAvgPool2d
        return [cls(1)] + ([] if a["keepdims"] else [nn.Flatten()])
    if kind == "adaptive_pool":
        cls = nn.AdaptiveMaxPool2d if a["op"] == "max" else nn.AdaptiveAvgPool2d
        return [cls(tuple(a["output"]))]
    if kind == "lrn":
        return [nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0)]
    if kind == "bn":
        cls = nn.BatchNorm2d if a["volume"] else nn.BatchNorm1d
        return [cls(a["c"], affine=a["affine"], track_running_stats=a["running"])]
    if kind == "activation":
        if a["fn"] in ("softmax", "logsoftmax"):
            return [(nn.Softmax if a["fn"] == "softmax" else nn.LogSoftmax)(dim=1)]
        if a["fn"] == "leakyrelu":
            return [nn.LeakyReLU(0.01)]
        return [getattr(nn, ACTIVATIONS[a["fn"]])()]
    if kind == "zero_pad":
        (t, b), (lft, r) = a["pad_h"], a["pad_w"]
        return [nn.ZeroPad2d((lft, r, t, b))]
    if kind == "flatten":
        return [nn.Flatten()]
    if kind == "dropout":
        return [nn.Dropout(a["p"])]
    if kind == "fc":
        return ([nn.Flatten()] if a["flatten"] else []) + [nn.Linear(a["cin"], a["cout"],
                                                                     a["bias"])]
    raise ValueError(f"no torch module for {kind!r}")


def build(torch: Any, model: dict[str, Any]) -> Any:
    if "torchvision" in model:
        import torchvision

        return getattr(torchvision.models, model["torchvision"])(weights=None).eval()
    nn = torch.nn
    return nn.Sequential(*(m for kind, a in model["layers"] for m in layer(nn, kind, a))).eval()


def serve(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}),
          flush=True)
    model = x = None
    for line in sys.stdin:
        request = json.loads(line)
        if "model" in request:
            model = x = None
            try:
                model = build(torch, request["model"])
            except (ImportError, ValueError, AttributeError) as exc:
                print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
                continue
            x = torch.randn(request["batch"], *request["input"])
            with torch.inference_mode():
                out = model(x)
            print(json.dumps({"params": sum(p.numel() for p in model.parameters()),
                              "output": list(out.shape[1:]), "torch": torch.__version__,
                              "threads": torch.get_num_threads()}), flush=True)
        else:
            assert model is not None and x is not None, "a 'go' before any model"
            time.sleep(PAUSE)
            with torch.inference_mode():
                start = time.perf_counter()
                model(x)
                seconds = time.perf_counter() - start
            print(json.dumps({"seconds": seconds}), flush=True)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
