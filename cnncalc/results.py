"""What the analysis gives: one record per layer, the totals derived from them, and the
whole analysis. Data only (frozen dataclasses), plus the inference-memory peak, which is a
function of the records and the graph they form.
"""

from __future__ import annotations

from dataclasses import field
from typing import Literal

from cnncalc.diagnostics import Diagnostic, has_errors
from cnncalc.layers import Field
from cnncalc.records import record
from cnncalc.spec import Layer, Pair, Rounding, Shape, Spec, elements

Status = Literal["ok", "error", "not-computed"]


@record
class LayerResult:
    index: int
    layer: Layer
    status: Status
    input_shape: Shape | None = None
    output_shape: Shape | None = None
    weights: int | None = None
    biases: int | None = None
    macs: int | None = None
    padding: tuple[Pair, Pair] | None = None
    field: Field | None = None
    buffers: int | None = None
    rounded: bool = False
    assumed: str | None = None
    inputs: tuple[int, ...] = ()  # the layers it reads, by index; 0 is the network's input

    @property
    def params(self) -> int | None:
        if self.weights is None or self.biases is None:
            return None
        return self.weights + self.biases

    @property
    def flops(self) -> int | None:
        return None if self.macs is None else 2 * self.macs

    @property
    def activations(self) -> int | None:
        return None if self.output_shape is None else elements(self.output_shape)


ASSUMED_FIGURES = ("macs", "flops", "activations")
"""What rests on an assumed wiring: the volumes a layer receives, so its MACs and activations.
Params do not: every layer a wiring is assumed for declares its input channels or features
(PyTorch's ``Conv2d(64, ...)``), and a layer that receives others is a C001 error."""


@record
class Totals:
    weights: int
    biases: int
    params: int
    buffers: int
    macs: int
    flops: int
    activations: int
    assumed: tuple[str, ...] = ()  # the figures that rest on an assumed wiring
    peak_activations: int = 0  # elements alive at once at the worst step (inference memory)


@record
class Analysis:
    spec: Spec
    input: Shape | None
    layers: tuple[LayerResult, ...]
    diagnostics: tuple[Diagnostic, ...]
    totals: Totals | None = field(default=None)
    rounding: Rounding = "strict"
    output: int = 0  # the index of the network's output layer (0: none)

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def peak_live(results: tuple[LayerResult, ...] | list[LayerResult], input_shape: Shape,
              output: int) -> int:
    """Inference memory: the most output elements alive at once when the layers run in order
    and each tensor is freed after its last reader has run (the network's input counts, and
    the output is kept to the end). A chain holds two at a time; a residual's shortcut, an
    Inception branch or a U-Net skip keeps its tensor alive across the layers in between."""
    n = len(results)
    last = list(range(n + 1))  # a tensor nobody reads dies where it is made
    for r in results:
        index = r.index
        for j in r.inputs:
            if last[j] < index:
                last[j] = index
    if output:
        last[output] = n + 1
    sizes = [elements(input_shape)]
    sizes += [0 if r.output_shape is None else elements(r.output_shape) for r in results]
    freed = [0] * (n + 2)  # by step, the elements whose last reader that step is
    for j, at in enumerate(last):
        freed[at] += sizes[j]
    live = peak = sizes[0]
    live -= freed[0]
    for i in range(1, n + 1):
        live += sizes[i]
        if live > peak:
            peak = live
        live -= freed[i]
    return peak
