"""The one-layer calculator behind ``cnncalc conv``: the lecture's worked examples as a
command. It builds a one-layer Spec and runs the same analysis as ``show``, so that every
formula and its messages exist once (``cnncalc.layers``, ``cnncalc.shapes``): the figures
printed are the analysis's; the text around them only writes out their factors."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from cnncalc.analyze import Analysis, analyze
from cnncalc.diagnostics import Severity
from cnncalc.render.common import layer_record
from cnncalc.render.numbers import grouped
from cnncalc.results import LayerResult
from cnncalc.shapes import arithmetic, dilated
from cnncalc.spec import Conv, Pair, Pool, Rounding, Span, Spec, fmt_shape

SPAN = Span("<conv>", 1, 1, 2)
"""The span of the one layer: the command line has no source text to point at."""


_FIT_CODES = frozenset(("G101", "G102", "G103"))
"""The errors of a window that does not fit its input; any other (groups that do not divide
the channels, an output padding past the stride) is an error of the settings."""


class Calculation(NamedTuple):
    size: Pair
    depth: int | None
    layer: Conv | Pool
    analysis: Analysis

    @property
    def result(self) -> LayerResult:
        return self.analysis.layers[0]

    @property
    def fits(self) -> bool:
        return self.result.output_shape is not None


def calculate(size: Pair, depth: int | None, layer: Conv | Pool,
              rounding: Rounding = "strict") -> Calculation:
    """``layer`` on an input of ``size`` (and ``depth``; None: not given, taken as 1 and not
    shown), through the analysis every spec goes through."""
    spec = Spec("<conv>", (size[0], size[1], depth or 1), None, (layer,))
    return Calculation(size, depth, layer, analyze(spec, rounding=rounding))


def report(calc: Calculation) -> str:
    """The lines ``cnncalc conv`` prints: the problems and notes, the arithmetic per axis,
    the output, and for a conv on an input of known depth its weights and MACs."""
    lines = _messages(calc)
    result, layer = calc.result, calc.layer
    if result.output_shape is None:
        return "\n".join(lines)
    lines.extend(_arithmetic(calc))
    out = result.output_shape
    counted = calc.depth is not None and isinstance(layer, Conv)
    lines.append(f"output {fmt_shape(_shown_output(calc) or out)}")
    if counted and isinstance(layer, Conv) and (_given(layer) or layer.depth_multiplier):
        lines.extend(_counts(calc, layer))
    return "\n".join(lines)


def _shown_output(calc: Calculation) -> tuple[int, ...] | None:
    """The output volume as far as it is known: without the input's depth, a pooling
    window's or a depthwise conv's output depth is not (the analysis took it as 1)."""
    out, layer = calc.result.output_shape, calc.layer
    if out is None or calc.depth is not None:
        return out
    known = isinstance(layer, Conv) and layer.depth_multiplier is None and _given(layer)
    return out if known else out[:2]


def _given(layer: Conv) -> bool:
    return any(name == "filters" for name, _ in layer.fields)


def _messages(calc: Calculation) -> list[str]:
    lines: list[str] = []
    for d in calc.analysis.diagnostics:
        message = d.message.removeprefix("layer: ")
        if d.code == "G108":
            message = f"refused: {message.removeprefix('the input: ')}"
        elif d.severity is Severity.ERROR and "does not fit" not in message:
            word = "does not fit" if d.code in _FIT_CODES else "error"
            message = f"{word}: {message}"
        lines.append(message)
        if d.hint:
            lines.append(f"hint: {d.hint}")
    return lines


def _arithmetic(calc: Calculation) -> list[str]:
    """Per axis, the formula with the numbers filled in (once when both axes say the same).
    A solved ``pad ?`` and a rounded size already have theirs in the note above."""
    layer, result = calc.layer, calc.result
    assert result.output_shape is not None and result.padding is not None
    if layer.padding.mode == "fit" or result.rounded:
        return []
    padded = bool(layer.fields and any(n == "pad" for n, _ in layer.fields))
    shown: list[tuple[str, str]] = []
    for word, i in (("height", 0), ("width", 1)):
        w, k, s, d = calc.size[i], layer.kernel[i], layer.stride[i], layer.dilation[i]
        pad = result.padding[i]
        text = ""
        if d != 1:
            text = f"span {d}*({k} - 1) + 1 = {dilated(k, d)}; "
        if isinstance(layer, Conv) and layer.transposed:
            out = result.output_shape[i]
            op = layer.output_padding[i]
            if layer.padding.mode == "same":
                text += f"{w}*{s} + {op} = {out}"
            else:
                minus = f"2*{pad[0]}" if pad[0] == pad[1] else f"{pad[0]} - {pad[1]}"
                text += f"({w} - 1)*{s} - {minus} + {d}*({k} - 1) + {op} + 1 = {out}"
        else:
            text += arithmetic(w, dilated(k, d), pad if padded else None, s)
        shown.append((word, text))
    if shown[0][1] == shown[1][1]:
        return [shown[0][1]]
    return [f"{word}: {text}" for word, text in shown]


def _counts(calc: Calculation, layer: Conv) -> list[str]:
    """Weights and MACs with their factors written out: ``Fh*Fw*(D1/groups)*K``, and
    ``H2*W2*K x Fh*Fw*(D1/groups)`` (a transposed conv: ``H1*W1*D1 x Fh*Fw*(K/groups)``)."""
    r = calc.result
    assert calc.depth is not None and r.output_shape is not None
    assert r.weights is not None and r.biases is not None and r.macs is not None
    depth, (kh, kw), out = calc.depth, layer.kernel, r.output_shape
    k = out[2]
    groups = depth if layer.depth_multiplier is not None else layer.groups
    per_group = ("1" if layer.depth_multiplier is not None else str(depth) if groups == 1
                 else f"({depth}/{groups})")
    lines = [f"weights {grouped(r.weights)} ({kh}*{kw}*{per_group}*{k}), biases "
             f"{grouped(r.biases)}, params {grouped(r.weights + r.biases)}"]
    if layer.transposed:
        each = str(k) if groups == 1 else f"({k}/{groups})"
        lines.append(f"MACs {grouped(r.macs)} ({calc.size[0]}*{calc.size[1]}*{depth} inputs x "
                     f"{kh}*{kw}*{each}), FLOPs {grouped(2 * r.macs)}")
    else:
        lines.append(f"MACs {grouped(r.macs)} ({out[0]}*{out[1]}*{k} outputs x "
                     f"{kh}*{kw}*{per_group}), FLOPs {grouped(2 * r.macs)}")
    return lines


def to_json(calc: Calculation) -> str:
    """The layer's record as ``show --format json`` writes a layer (the same keys), with
    whether it fits, the padding used per side, and the diagnostics."""
    r = calc.result
    record: dict[str, Any] = {"fits": calc.fits}
    record.update((key, value) for key, value in layer_record(r).items()
                  if key not in ("index", "name", "line", "assumed", "inputs"))
    if calc.depth is None:  # the depth was not given: neither is any figure that needs it
        record["input_shape"] = list(calc.size)
        shown = _shown_output(calc)
        record["output_shape"] = None if shown is None else list(shown)
        for key in ("weights", "biases", "params", "macs", "flops", "activations", "buffers"):
            record[key] = None
    record["padding"] = None if r.padding is None else [list(p) for p in r.padding]
    record["diagnostics"] = [
        {key: value for key, value in d.to_dict().items()
         if key not in ("path", "line", "col", "end_col")}
        for d in calc.analysis.diagnostics]
    lines = (f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in record.items())
    return "{\n" + ",\n".join(lines) + "\n}\n"
