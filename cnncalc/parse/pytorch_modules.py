"""One PyTorch module call, ``Conv2d(3, 64, kernel_size=(11, 11), stride=(4, 4))``, as a layer.

The call's text goes through ``ast`` and is never evaluated: only literals, names bound by
``--define`` and integer ``+ - * //`` are read; calls, attributes, lambdas and f-strings are
P009. The printed form leaves ``padding=same`` and ``padding_mode=reflect`` unquoted, so those
bare words stand for themselves. Each module's parameters are PyTorch's, in PyTorch's order,
with its defaults.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from cnncalc import spec
from cnncalc.parse import DefineValue
from cnncalc.parse.cursor import suggest
from cnncalc.parse.pycode import (
    Refusal,
    Value,
    char_col,
    ints,
    is_int,
    literal,
    quiet_parse,
    refuse,
)
from cnncalc.spec import Layer, Padding, Pair, Span

Built = tuple[type[Layer], dict[str, Any]]

_FIELD = {"out_channels": "filters", "kernel_size": "kernel", "padding": "pad",
          "out_features": "units", "output_size": "output"}
_AS_TEXT = {"padding_mode", "approximate", "device", "dtype"}  # bare words mean themselves
_NOT_LITERAL = {ast.Call: "a call", ast.Attribute: "attribute access", ast.Lambda: "a lambda",
                ast.JoinedStr: "an f-string", ast.Subscript: "indexing"}


class _Args:
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
        if not is_int(v):
            raise self.bad(name, f"{name}={v!r} is not a whole number")
        return v

    def pair(self, name: str, default: Pair | None = None) -> Pair:
        v = self.values.get(name, default)
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


def _conv(a: _Args) -> Built:
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


def _pool(a: _Args) -> Built:
    kernel = a.pair("kernel_size")
    stride = kernel if a.values.get("stride") is None else a.pair("stride")
    pad = a.pair("padding", (0, 0))
    if any(k >= 1 and p > k // 2 for k, p in zip(kernel, pad, strict=True)):
        raise a.bad("padding", f"padding {pad[0]} is more than half the {kernel[0]}x{kernel[1]} "
                    "window", "PyTorch refuses it: pad should be at most half of kernel size")
    return spec.Pool, dict(op="max" if a.module == "MaxPool2d" else "avg", kernel=kernel,
                      stride=stride, padding=Padding.symmetric(*pad),
                      dilation=a.pair("dilation", (1, 1)), ceil_mode=a.flag("ceil_mode", False))


def _adaptive(a: _Args) -> Built:
    out = a.values.get("output_size")
    if out is None or (isinstance(out, tuple) and None in out):
        raise a.bad("output_size", "output_size None keeps the input's size there",
                    "cnncalc needs both output sizes: write them as numbers", "P011")
    return spec.AdaptivePool, dict(op="max" if "Max" in a.module else "avg",
                              output=a.pair("output_size"))


def _flatten(a: _Args) -> Built:
    if a.values.get("start_dim", 1) != 1 or a.values.get("end_dim", -1) != -1:
        raise a.bad("start_dim", "only start_dim=1, end_dim=-1 is modelled",
                    "cnncalc flattens everything but the batch", "P011")
    return spec.Flatten, {}


def _zeropad(a: _Args) -> Built:
    v = a.values.get("padding")
    sides = ints(v, 4) if isinstance(v, tuple) else None
    if sides is not None:
        left, right, top, bottom = sides
        return spec.ZeroPad, dict(padding=Padding("explicit", (top, bottom), (left, right)))
    return spec.ZeroPad, dict(padding=Padding.symmetric(a.int("padding"), a.int("padding")))


def _dropout(a: _Args) -> Built:
    p = a.values.get("p", 0.5)
    if isinstance(p, bool) or not isinstance(p, int | float):
        raise a.bad("p", f"p={p!r} is not a number")
    return spec.Dropout, dict(p=float(p))


_ACTIVATIONS = {"ReLU": "inplace", "ReLU6": "inplace", "LeakyReLU": "negative_slope inplace",
                "ELU": "alpha inplace", "GELU": "approximate", "SiLU": "inplace", "Sigmoid": "",
                "Tanh": "", "Hardswish": "inplace", "Hardsigmoid": "inplace", "Softmax": "dim",
                "LogSoftmax": "dim", "Identity": "*"}
_CONV = "in_channels out_channels kernel_size stride padding "
# module -> (positional parameters [| keyword-only ones], how many are required, builder);
# parameters "*": anything is accepted (Identity)
MODULES: dict[str, tuple[str, int, Callable[[_Args], Built]]] = {
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
    "ZeroPad2d": ("padding", 1, _zeropad),
    **{m: (params, 0, lambda a: (spec.Activation, dict(fn=a.module.lower())))
       for m, params in _ACTIVATIONS.items()},
}


def read_call(module: str, snippet: str, start: int, span: Span, at: Callable[[int, int], Span],
              defines: Mapping[str, DefineValue]
              ) -> tuple[type[Layer], dict[str, Any], tuple[tuple[str, Span], ...]]:
    """The layer class, its keyword arguments and field spans for the text of one call to a
    module of :data:`MODULES`, found at offset ``start``; ``at`` gives the span between two
    offsets and ``span`` is the call's."""
    rows = snippet.split("\n")

    def node_span(node: ast.expr | ast.keyword) -> Span:
        def off(lineno: int, col: int) -> int:
            return start + sum(len(r) + 1 for r in rows[:lineno - 1]) + char_col(
                rows[lineno - 1], col)
        return at(off(node.lineno, node.col_offset),
                  off(node.end_lineno or node.lineno, node.end_col_offset or 0))

    def name(as_text: bool, node: ast.Name) -> Value:
        if as_text or node.id in ("same", "valid"):
            return node.id
        if node.id in defines:
            v = defines[node.id]
            return v if isinstance(v, int | float) else tuple(v)
        raise refuse(node_span(node), "P008", f"`{node.id}` has no value",
                     f"bind it with --define {node.id}=VALUE")

    def not_literal(node: ast.expr) -> Refusal:
        return refuse(node_span(node), "P009", f"{_NOT_LITERAL.get(type(node), 'an expression')} "
                      "is not a literal: cnncalc never runs the text",
                      "write the value as a number, or bind a name with --define")

    try:
        with quiet_parse():
            call = ast.parse(snippet, mode="eval").body
    except SyntaxError as exc:
        raise refuse(span, "P001", f"`{rows[0]}` is not a call cnncalc can read: {exc.msg}",
                     "check the brackets, commas and quotes") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # e.g. undecodable bytes, deep nesting
        raise refuse(span, "P001", f"`{rows[0]}` is not a call cnncalc can read: "
                     f"{type(exc).__name__}", "save the file as UTF-8 text and check the "
                     "brackets") from None
    if not isinstance(call, ast.Call):
        raise refuse(span, "P001", f"`{rows[0]}` is not a module call")
    signature, required, builder = MODULES[module]
    positional, _, kwonly = signature.partition("|")
    params = None if positional == "*" else positional.split()
    allowed = [*(params or ()), *kwonly.split()]
    if params is not None and len(call.args) > len(params):
        raise refuse(node_span(call.args[len(params)]), "P010",
                     f"{module} takes at most {len(params)} positional arguments",
                     f"{module} takes {', '.join(allowed) or 'no arguments'}")
    unpacked: list[ast.expr | ast.keyword] = [
        *(n for n in call.args if isinstance(n, ast.Starred)),
        *(k for k in call.keywords if k.arg is None)]
    if unpacked:
        raise refuse(node_span(unpacked[0]), "P009", "`*` or `**` unpacks values cnncalc "
                     "does not compute", "write the arguments out")
    bound = [(params[i] if params else str(i), node, node_span(node))
             for i, node in enumerate(call.args)]
    for kw in call.keywords:
        key = kw.arg or ""
        if params is not None and key not in allowed:
            raise refuse(node_span(kw), "P010", f"{module} has no argument `{key}`",
                         suggest(key, allowed) or f"{module} takes {', '.join(allowed)}")
        if any(key == b[0] for b in bound):
            raise refuse(node_span(kw), "P010", f"{module}: `{key}` is given twice")
        bound.append((key, kw.value, node_span(kw)))
    args = _Args(module, span)
    for key, node, nspan in bound:
        args.values[key] = literal(node, partial(name, key in _AS_TEXT), not_literal,
                                   arithmetic=True)
        args.spans[key] = nspan
    missing = [p for p in (params or ())[:required] if p not in args.values]
    if missing:
        raise refuse(span, "P010", f"{module} needs {missing[0]}",
                     f"{module} takes {', '.join(allowed)}")
    cls, kwargs = builder(args)
    return cls, kwargs, tuple((_FIELD.get(k, k), s) for k, s in args.spans.items())
