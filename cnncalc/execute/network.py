"""A Spec as a NumPy network: plan it from its layers (shapes only), estimate its memory,
build it with seeded random arrays, push a batch through, and check each layer against the
analysis.

What is compared, per layer and per example:

- the output volume, measured from the produced array's shape;
- params, the sizes of the layer's weight, bias, gamma and beta arrays; buffers, the sizes of
  batch norm's running mean and variance;
- MACs, the dimensions of the matrix products the kernels performed, summed over the batch and
  divided by it.

The executor takes from the analysis only what the user asked cnncalc to choose: the input
volume, the rounding policy, and the padding it solved for ``pad ?``. It stops before the
first layer the analysis could not compute.

Floating-point trouble (overflow to inf, an invalid operation making nan) is not an error
here: shapes, sizes and the products performed are measured all the same. NumPy's warnings
about it are turned off while the network is built and run (``np.errstate``, for those
calls only), and ``Measured.finite`` says instead whether a layer's output stayed finite.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnncalc.analyze import Analysis, LayerResult
from cnncalc.execute.estimate import Estimate, LayerMemory
from cnncalc.execute.geometry import GeometryError, Pair
from cnncalc.execute.modules import (
    WORKSPACE_CAP,
    ActivationModule,
    AdaptivePoolModule,
    BatchNormModule,
    Context,
    ConvModule,
    DenseModule,
    DropoutModule,
    FlattenModule,
    GlobalPoolModule,
    LRNModule,
    Module,
    PoolModule,
    TransposedModule,
    ZeroPadModule,
)
from cnncalc.execute.ops import Array
from cnncalc.spec import (
    LRN,
    Activation,
    AdaptivePool,
    BatchNorm,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalPool,
    Layer,
    Pool,
    Rounding,
    Shape,
    ZeroPad,
)


@dataclass(frozen=True)
class Measured:
    """What the executor measured for one layer; ``macs`` per example."""

    output_shape: Shape
    params: int
    buffers: int
    macs: int
    seconds: float
    macs_whole: bool = True
    finite: bool = True


@dataclass(frozen=True)
class Plan:
    """The modules to run, in order, and why the list ends where it does: ``stop`` is the
    first layer the analysis did not compute; ``failure`` a layer the executor cannot build
    although the analysis computed it (with the reason)."""

    analysis: Analysis
    modules: tuple[Module, ...]
    stop: LayerResult | None = None
    failure: tuple[LayerResult, str] | None = None

    @property
    def results(self) -> tuple[LayerResult, ...]:
        return self.analysis.layers[:len(self.modules)]


# layer kinds whose module needs only the layer and its input shape
_SIMPLE: dict[type[Layer], Callable[[Any, Shape], Module]] = {
    GlobalPool: GlobalPoolModule, AdaptivePool: AdaptivePoolModule, BatchNorm: BatchNormModule,
    LRN: LRNModule, ZeroPad: ZeroPadModule, Dense: DenseModule, Activation: ActivationModule,
    Dropout: DropoutModule, Flatten: FlattenModule,
}


def make_module(layer: Layer, in_shape: Shape, rounding: Rounding,
                fit: tuple[Pair, Pair] | None = None) -> Module:
    """The module for ``layer`` on an input of ``in_shape``; ``fit`` is the padding the
    analysis solved for ``pad ?``. Raises GeometryError when the layer cannot be built."""
    up = rounding == "ceil"
    if isinstance(layer, Conv):
        if layer.transposed:
            return TransposedModule(layer, in_shape)
        return ConvModule(layer, in_shape, up, fit)
    if isinstance(layer, Pool):
        return PoolModule(layer, in_shape, up, fit)
    simple = _SIMPLE.get(type(layer))
    if simple is not None:
        return simple(layer, in_shape)
    raise GeometryError(f"no executor module for {layer.kind} layers")


def _fit_padding(r: LayerResult) -> tuple[Pair, Pair] | None:
    layer = r.layer
    if isinstance(layer, (Conv, Pool)) and layer.padding.mode == "fit":
        return r.padding
    return None


def plan(analysis: Analysis) -> Plan:
    """Modules for every layer up to the first one the analysis did not compute."""
    shape = analysis.input
    modules: list[Module] = []
    if shape is None:
        first = analysis.layers[0] if analysis.layers else None
        return Plan(analysis, (), stop=first)
    for r in analysis.layers:
        if r.status != "ok":
            return Plan(analysis, tuple(modules), stop=r)
        try:
            module = make_module(r.layer, shape, analysis.rounding, _fit_padding(r))
        except GeometryError as exc:
            return Plan(analysis, tuple(modules), failure=(r, str(exc)))
        modules.append(module)
        shape = module.out_shape
    return Plan(analysis, tuple(modules))


def _elements(shape: Shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def memory_estimate(modules: tuple[Module, ...], input_shape: Shape, batch: int, itemsize: int,
                    cap: int = WORKSPACE_CAP) -> Estimate:
    """The peak memory of building and running ``modules`` (see ``cnncalc.execute.estimate``)."""
    params = sum(_elements(s) for m in modules
                 for s in (*m.param_shapes.values(), *m.buffer_shapes.values()))
    layers = tuple(LayerMemory(m.layer.name, batch * _elements(m.in_shape) * itemsize,
                               batch * _elements(m.out_shape) * itemsize,
                               m.workspace(batch, itemsize, cap)) for m in modules)
    scratch: dict[str, int] = {}
    for m in modules:
        for name, size in m.scratch(batch, itemsize, cap).items():
            scratch[name] = max(scratch.get(name, 0), size)
    return Estimate(params * itemsize, batch * _elements(input_shape) * itemsize, layers,
                    sum(scratch.values()))


def random_input(shape: Shape, batch: int, dtype: str | np.dtype[Any], seed: int) -> Array:
    """A standard normal batch, from its own stream of ``seed`` (weights use another)."""
    rng = np.random.default_rng([seed, 1])
    return rng.standard_normal((batch, *shape), dtype=np.dtype(dtype))


class Network:
    """Allocated modules; ``forward`` runs a batch and measures every layer."""

    def __init__(self, modules: tuple[Module, ...], dtype: str | np.dtype[Any] = "float32",
                 seed: int = 0, built: Callable[[int], None] | None = None) -> None:
        self.modules = modules
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng([seed, 0])
        with np.errstate(all="ignore"):
            for i, m in enumerate(modules):
                m.allocate(rng, self.dtype)
                if built is not None:
                    built(i)

    def forward(self, x: Array, ctx: Context,
                each: Callable[[int, Measured], None] | None = None) -> list[Measured]:
        """Every layer measured in turn; ``finite`` is checked until the first layer whose
        output holds an inf or a nan (every later one is reported as not finite)."""
        batch = x.shape[0]
        out: list[Measured] = []
        finite = True
        for i, m in enumerate(self.modules):
            start = time.perf_counter()
            with np.errstate(all="ignore"):
                y, macs = m.forward(x, ctx)
            seconds = time.perf_counter() - start
            shape = tuple(int(d) for d in y.shape[1:])
            if shape != m.out_shape:
                raise RuntimeError(f"{m.layer.name}: the kernel made {shape}, its module "
                                   f"planned {m.out_shape}")
            finite = finite and bool(np.isfinite(y).all())
            got = Measured(shape, m.params(), m.buffers(), macs // batch, seconds,
                           macs % batch == 0, finite)
            out.append(got)
            if each is not None:
                each(i, got)
            x = y
        return out
