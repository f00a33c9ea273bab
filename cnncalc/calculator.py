"""The one-layer calculator behind ``cnncalc conv``: the lecture's worked examples as a
command. It builds a one-layer Spec and runs the same analysis as ``show``, so that the
formula and its messages exist once."""

from __future__ import annotations

from cnncalc.analyze import analyze
from cnncalc.diagnostics import Severity
from cnncalc.render.numbers import grouped
from cnncalc.shapes import arithmetic
from cnncalc.spec import Conv, Padding, Pair, Pool, Rounding, Span, Spec, fmt_shape

_SPAN = Span("<conv>", 1, 1, 2)


def one_layer(size: Pair, depth: int | None, kernel: Pair, stride: Pair, pad: Pair | None,
              solve_pad: bool, filters: int | None, pool: bool,
              rounding: Rounding = "strict") -> tuple[str, bool]:
    """(report text, fits). ``pad`` None with ``solve_pad`` False means no padding given."""
    padding = Padding.fit() if solve_pad else Padding.symmetric(*(pad or (0, 0)))
    fields = (("pad", _SPAN),) if pad is not None or solve_pad else ()
    common = {"name": "layer", "span": _SPAN, "kernel": kernel, "stride": stride,
              "padding": padding, "fields": fields}
    layer = (Pool(op="max", **common) if pool  # type: ignore[arg-type]
             else Conv(filters=filters or 1, **common))  # type: ignore[arg-type]
    spec = Spec("<conv>", (size[0], size[1], depth or 1), None, (layer,))
    analysis = analyze(spec, rounding=rounding)
    lines: list[str] = []
    for d in analysis.diagnostics:
        message = d.message.removeprefix("layer: ")
        if d.code == "G108":
            message = f"refused: {message.removeprefix('the input: ')}"
        elif d.severity is Severity.ERROR and "does not fit" not in message:
            message = f"does not fit: {message}"
        lines.append(message)
        if d.hint:
            lines.append(f"hint: {d.hint}")
    result = analysis.layers[0]
    if result.output_shape is None:
        return "\n".join(lines), False
    assert result.padding is not None
    axes = (("height", 0), ("width", 1))
    shown = [(word, arithmetic(size[i], kernel[i],
                               result.padding[i] if fields else None, stride[i]))
             for word, i in axes]
    if solve_pad or result.rounded:
        pass  # the note above already shows the arithmetic
    elif shown[0][1] == shown[1][1]:
        lines.append(shown[0][1])
    else:
        lines.extend(f"{word}: {text}" for word, text in shown)
    out = result.output_shape
    if depth is None:
        lines.append(f"output {out[0]}x{out[1]}" + ("" if pool or filters is None
                                                    else f"x{filters}"))
    else:
        lines.append(f"output {fmt_shape(out)}")
    if depth is not None and filters is not None and not pool:
        assert result.weights is not None and result.biases is not None
        assert result.macs is not None
        lines.append(f"weights {grouped(result.weights)} ({kernel[0]}*{kernel[1]}*{depth}*"
                     f"{filters}), biases {grouped(result.biases)}, params "
                     f"{grouped(result.weights + result.biases)}")
        lines.append(f"MACs {grouped(result.macs)} ({out[0]}*{out[1]}*{filters} outputs x "
                     f"{kernel[0]}*{kernel[1]}*{depth}), FLOPs {grouped(2 * result.macs)}")
    return "\n".join(lines), True
