"""The PyTorch modules cnncalc reads: each one's parameters, in PyTorch's order with its
defaults, and how its arguments (read by :mod:`cnncalc.parse.pytorch_read`) make a layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnncalc import spec
from cnncalc.parse.pycode import Refusal, Value, exact, ints, is_int, refuse
from cnncalc.spec import Layer, Padding, Pair, Span

Built = tuple[type[Layer], dict[str, Any]]

FIELDS = {"out_channels": "filters", "kernel_size": "kernel", "padding": "pad",
          "out_features": "units", "output_size": "output"}
"""The names of a layer's fields (its options' spans) for PyTorch's argument names."""


class Args:
    """One call's arguments by parameter name, their spans, and typed getters that fail with
    P010 pointing at the argument."""

    def __init__(self, module: str, span: Span) -> None:
        self.module, self.span = module, span
        self.values: dict[str, Value] = {}
        self.spans: dict[str, Span] = {}

    def bad(self, name: str, message: str, hint: str = "", code: str = "P010") -> Refusal:
        return refuse(self.spans.get(name, self.span), code, f"{self.module}: {message}", hint)

    def int(self, name: str, default: int | None = None) -> int:
        v = self.values.get(name, default)
        if type(v) is not int and not is_int(v):
            raise self.bad(name, f"{name}={v!r} is not a whole number")
        return v

    def pair(self, name: str, default: Pair | None = None) -> Pair:
        v = self.values.get(name, default)
        if type(v) is tuple and len(v) == 2 and type(v[0]) is int and type(v[1]) is int:
            return (v[0], v[1])  # the usual cases first: (3, 3) and 3
        if type(v) is int:
            return (v, v)
        p = ints(v, 2)
        if p is None:
            raise self.bad(name, f"{name}={v!r} is not a whole number or a pair of them",
                           f"write {name}=3 or {name}=(3, 3)")
        return (p[0], p[1])

    def flag(self, name: str, default: bool) -> bool:
        v = self.values.get(name, default)
        if not isinstance(v, bool):
            raise self.bad(name, f"{name}={v!r} is not True or False")
        return v


def _conv(a: Args) -> Built:
    transposed = a.module == "ConvTranspose2d"
    kw: dict[str, Any] = dict(
        in_channels=a.int("in_channels"), filters=a.int("out_channels"),
        kernel=a.pair("kernel_size"), stride=a.pair("stride", (1, 1)),
        dilation=a.pair("dilation", (1, 1)), groups=a.int("groups", 1), bias=a.flag("bias", True))
    pad = a.values.get("padding", 0)
    if pad in ("same", "valid") and not transposed:
        if pad == "same" and kw["stride"] != (1, 1):
            raise a.bad("padding", "padding='same' is not supported for strided convolutions",
                        "PyTorch refuses it too: give the padding as a number")
        kw["padding"] = Padding.same() if pad == "same" else Padding()
    elif isinstance(pad, str):
        raise a.bad("padding", f"padding={pad!r} is not a padding {a.module} takes",
                    "write a number, a pair" + ("" if transposed else ", 'same' or 'valid'"))
    else:
        kw["padding"] = Padding.symmetric(*a.pair("padding", (0, 0)))
    if transposed:
        kw.update(transposed=True, output_padding=a.pair("output_padding", (0, 0)))
    return spec.Conv, kw


def _pool(a: Args) -> Built:
    kernel = a.pair("kernel_size")
    stride = kernel if a.values.get("stride") is None else a.pair("stride")
    pad = a.pair("padding", (0, 0))
    if any(k >= 1 and p > k // 2 for k, p in zip(kernel, pad, strict=True)):
        raise a.bad("padding", f"padding {pad[0]} is more than half the {kernel[0]}x{kernel[1]} "
                    "window", "PyTorch refuses it: pad should be at most half of kernel size")
    return spec.Pool, dict(op="max" if a.module == "MaxPool2d" else "avg", kernel=kernel,
                      stride=stride, padding=Padding.symmetric(*pad),
                      dilation=a.pair("dilation", (1, 1)), ceil_mode=a.flag("ceil_mode", False))


def _adaptive(a: Args) -> Built:
    out = a.values.get("output_size")
    if out is None or (isinstance(out, tuple) and None in out):
        raise a.bad("output_size", "output_size None keeps the input's size there",
                    "cnncalc needs both output sizes: write them as numbers", "P011")
    return spec.AdaptivePool, dict(op="max" if "Max" in a.module else "avg",
                              output=a.pair("output_size"))


def _flatten(a: Args) -> Built:
    if a.values.get("start_dim", 1) != 1 or a.values.get("end_dim", -1) != -1:
        raise a.bad("start_dim", "only start_dim=1, end_dim=-1 is modelled",
                    "cnncalc flattens everything but the batch", "P011")
    return spec.Flatten, {}


def _zeropad(a: Args) -> Built:
    v = a.values.get("padding")
    sides = ints(v, 4) if isinstance(v, tuple) else None
    if sides is not None:
        left, right, top, bottom = sides
        return spec.ZeroPad, dict(padding=Padding("explicit", (top, bottom), (left, right)))
    return spec.ZeroPad, dict(padding=Padding.symmetric(a.int("padding"), a.int("padding")))


def _dropout(a: Args) -> Built:
    p = a.values.get("p", 0.5)
    rate = exact(p)
    if rate is None:
        raise a.bad("p", f"p={p!r} is not a number")
    return spec.Dropout, dict(p=rate)


_ACTIVATIONS = {"ReLU": "inplace", "ReLU6": "inplace", "LeakyReLU": "negative_slope inplace",
                "ELU": "alpha inplace", "GELU": "approximate", "SiLU": "inplace", "Sigmoid": "",
                "Tanh": "", "Hardswish": "inplace", "Hardsigmoid": "inplace", "Softmax": "dim",
                "LogSoftmax": "dim", "Identity": "*"}
_CONV = "in_channels out_channels kernel_size stride padding "
# module -> (positional parameters [| keyword-only ones], how many are required, builder);
# parameters "*": anything is accepted (Identity)
MODULES: dict[str, tuple[str, int, Callable[[Args], Built]]] = {
    "Conv2d": (_CONV + "dilation groups bias padding_mode device dtype", 3, _conv),
    "ConvTranspose2d": (_CONV + "output_padding groups bias dilation padding_mode device dtype",
                        3, _conv),
    "MaxPool2d": ("kernel_size stride padding dilation return_indices ceil_mode", 1, _pool),
    "AvgPool2d": ("kernel_size stride padding ceil_mode count_include_pad divisor_override", 1,
                  _pool),
    "AdaptiveAvgPool2d": ("output_size", 1, _adaptive),
    "AdaptiveMaxPool2d": ("output_size return_indices", 1, _adaptive),
    "BatchNorm2d": ("num_features eps momentum affine track_running_stats device dtype | bias", 1,
                    lambda a: (spec.BatchNorm, dict(
                        num_features=a.int("num_features"), scale=a.flag("affine", True),
                        center=a.flag("affine", True) and a.flag("bias", True),
                        running_stats=a.flag("track_running_stats", True)))),
    "LocalResponseNorm": ("size alpha beta k", 1, lambda a: (spec.LRN, {})),
    "Linear": ("in_features out_features bias device dtype", 2, lambda a: (spec.Dense, dict(
        in_features=a.int("in_features"), units=a.int("out_features"),
        bias=a.flag("bias", True)))),
    "Dropout": ("p inplace", 0, _dropout),
    "Dropout2d": ("p inplace", 0, _dropout),
    "Flatten": ("start_dim end_dim", 0, _flatten),
    # torchvision.ops.StochasticDepth: it drops whole residual branches in training only
    "StochasticDepth": ("p mode", 2, lambda a: (spec.Activation, dict(fn="identity"))),
    "ZeroPad2d": ("padding", 1, _zeropad),
    **{m: (params, 0, lambda a: (spec.Activation, dict(fn=a.module.lower())))
       for m, params in _ACTIVATIONS.items()},
}


def _signature(module: str) -> tuple[list[str] | None, list[str], list[str]]:
    """A module's positional parameters (None: any), every parameter it takes, and the ones it
    requires."""
    signature, required, _ = MODULES[module]
    positional, _, kwonly = signature.partition("|")
    params = None if positional == "*" else positional.split()
    return params, [*(params or ()), *kwonly.split()], (params or [])[:required]


SIGNATURES = {module: _signature(module) for module in MODULES}
