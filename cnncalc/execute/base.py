"""What every executor module shares: the context a forward pass runs in, and the base class
with the small set of methods each layer kind's module implements.

A module is made from a layer and the shape of the array it will receive, in Python ints
only: it resolves its settings (padding, rounding, groups), says the shape it will produce,
the arrays it needs and the workspace its kernel will allocate, all without allocating. So a
network can be planned and its memory estimated before any array exists (a spec with 10**30
channels is refused, not attempted). ``allocate`` then makes the arrays (seeded, from the
network's ``WeightSource``) and ``forward`` runs the kernel, returning the output and the
multiply-accumulates performed; ``run`` is what the network calls, with every tensor the
layer reads.

Shapes exclude the batch: ``(H, W, C)`` for a volume, ``(N,)`` for a vector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from cnncalc.execute import ops
from cnncalc.execute.geometry import GeometryError
from cnncalc.execute.ops import Array
from cnncalc.execute.weights import BIAS_HALF, WeightSource, he_half
from cnncalc.spec import Layer, Shape

Mode = Literal["test", "train"]
WORKSPACE_CAP = 64 * 2**20


@dataclass
class Context:
    """How a forward pass runs: ``mode`` train applies dropout (``rng`` draws the masks;
    ``inverted`` scales kept units by 1/(1-p)); ``cap`` bounds one im2col workspace chunk;
    ``scratch`` keeps the chunk buffers from layer to layer."""

    mode: Mode = "test"
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    inverted: bool = True
    cap: int = WORKSPACE_CAP
    scratch: ops.Scratch = field(default_factory=ops.Scratch)


def size(shape: Shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


class Module:
    """The base: a shape-preserving layer with no arrays and no workspace."""

    def __init__(self, layer: Layer, in_shape: Shape) -> None:
        self.layer = layer
        self.in_shape = in_shape
        self.out_shape: Shape = in_shape
        self.param_shapes: dict[str, Shape] = {}
        self.buffer_shapes: dict[str, Shape] = {}
        self.fan_in = 1
        self.arrays: dict[str, Array] = {}
        self.reads: tuple[int, ...] = ()  # the tensors it reads (0: the network's input)

    def workspace(self, batch: int, itemsize: int, cap: int) -> int:
        """Bytes the kernel allocates besides its input and output, at ``batch``."""
        return 0

    def scratch(self, batch: int, itemsize: int, cap: int) -> dict[str, int]:
        """Bytes the kernel takes from the context's scratch buffers, by name; those buffers
        outlive the layer (the largest request for each name is kept)."""
        return {}

    def allocate(self, source: WeightSource) -> None:
        """Weights in ``+-sqrt(12/fan_in)`` (variance ``2/fan_in``, He's, so outputs stay
        finite in deep stacks), biases in ``+-0.1``: seeded triangular values, made as
        ``cnncalc.execute.weights`` says (fast, reproducible, not i.i.d. for large arrays)."""
        for name, shape in self.param_shapes.items():
            half = he_half(self.fan_in) if name == "weight" else BIAS_HALF
            self.arrays[name] = source.triangular(shape, half)
            self.arrays[name].flags.writeable = False  # what is made of them is kept

    def params(self) -> int:
        arrays = self.arrays
        return sum([arrays[n].size for n in self.param_shapes]) if self.param_shapes else 0

    def buffers(self) -> int:
        arrays = self.arrays
        return sum([arrays[n].size for n in self.buffer_shapes]) if self.buffer_shapes else 0

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        return x, 0

    def places(self) -> bool:
        """Whether ``run`` writes the output into an array it is given (``out``: the
        output's place in the block of :mod:`cnncalc.execute.arena`), never returning a view
        of what it reads."""
        return False

    def run(self, xs: Sequence[Array], ctx: Context, spare: int | None = None,
            out: Array | None = None) -> tuple[Array, int]:
        """The layer on the tensors it reads, in the order it reads them. ``spare``: the
        position of an input the kernel may write its output over; the network offers one
        only when no later layer reads it and no tensor it still holds shares its memory.
        ``out``: where to write the output, given only to a module that :meth:`places`.
        Results are the same either way."""
        return self.forward(xs[0], ctx)

    def _get(self, name: str) -> Array | None:
        return self.arrays.get(name)


def volume(layer: Layer, shape: Shape) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise GeometryError(f"{layer.name} needs an HxWxC volume, not {shape}")
    return shape[0], shape[1], shape[2]

