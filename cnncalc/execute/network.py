"""A Spec as a NumPy network: plan it from its layers (shapes only), estimate its memory,
build it with seeded random arrays, push a batch through, and check each layer against the
analysis.

The layers run in order; each gets the tensors of the layers it reads (``LayerResult.inputs``,
which is what the text wired, not a computed figure), and a tensor is dropped as soon as its
last reader has run (the network's output is kept), so NumPy releases it. The forward pass
measures the elements it holds at each step: the peak is the run's inference memory, to
compare with the analysis's ``Totals.peak_activations``.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnncalc.analyze import Analysis, LayerResult
from cnncalc.execute.estimate import Estimate, LayerMemory
from cnncalc.execute.fusion import Epilogue, all_finite, groups, stage
from cnncalc.execute.geometry import GeometryError, Pair
from cnncalc.execute.graph_modules import (
    CropModule,
    MergeModule,
    ShuffleModule,
    SliceModule,
    UpsampleModule,
)
from cnncalc.execute.liveness import held_across, last_readers
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
from cnncalc.execute.weights import WeightSource, setup_bytes
from cnncalc.spec import (
    INPUT_NAME,
    LRN,
    Activation,
    AdaptivePool,
    BatchNorm,
    Conv,
    Crop,
    Dense,
    Dropout,
    Flatten,
    GlobalPool,
    Layer,
    Merge,
    Pool,
    Rounding,
    Shape,
    Shuffle,
    Slice,
    Upsample,
    ZeroPad,
)


@dataclass(frozen=True)
class Measured:
    """What the executor measured for one layer; ``macs`` per example. ``live``: elements
    per example of the tensors held once its output was made, before any was dropped (its
    inputs, its output, and every tensor kept for later layers), each tensor counted whole
    as the analysis counts it, also where a kernel's output is its input's memory (a
    flatten's view, an identity, an output written over a dying input); ``held``: the
    tensors still held after the step, by index (0: the network's input)."""

    output_shape: Shape
    params: int
    buffers: int
    macs: int
    seconds: float
    macs_whole: bool = True
    finite: bool = True
    live: int = 0
    held: tuple[int, ...] = ()


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
    def output(self) -> int:
        """The tensor kept to the end: the network's output, or the last layer built."""
        n = len(self.modules)
        return self.analysis.output if 0 < self.analysis.output <= n else n

    @property
    def results(self) -> tuple[LayerResult, ...]:
        return self.analysis.layers[:len(self.modules)]


# layer kinds whose module needs only the layer and its input shape
_SIMPLE: dict[type[Layer], Callable[[Any, Shape], Module]] = {
    GlobalPool: GlobalPoolModule, AdaptivePool: AdaptivePoolModule, BatchNorm: BatchNormModule,
    LRN: LRNModule, ZeroPad: ZeroPadModule, Dense: DenseModule, Activation: ActivationModule,
    Dropout: DropoutModule, Flatten: FlattenModule, Slice: SliceModule, Shuffle: ShuffleModule,
    Upsample: UpsampleModule,
}


def make_module(layer: Layer, in_shape: Shape, rounding: Rounding,
                fit: tuple[Pair, Pair] | None = None, sources: Sequence[Shape] = (),
                like: Shape | None = None) -> Module:
    """The module for ``layer`` on an input of ``in_shape``; ``fit`` is the padding the
    analysis solved for ``pad ?``; ``sources`` the shapes a merge reads (``in_shape`` first);
    ``like`` the shape of the layer a crop's ``like`` names. Raises GeometryError when the
    layer cannot be built."""
    up = rounding == "ceil"
    if isinstance(layer, Merge):
        return MergeModule(layer, sources or (in_shape,))
    if isinstance(layer, Crop):
        return CropModule(layer, in_shape, like)
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


def _like(layer: Layer, names: dict[str, int], shapes: list[Shape]) -> Shape | None:
    """The shape of the layer a crop's ``like`` names: the latest of that name above it."""
    if not isinstance(layer, Crop) or layer.like is None:
        return None
    found = names.get(layer.like.name)
    if found is None:
        raise GeometryError(f"no layer named {layer.like.name!r} above {layer.name}")
    return shapes[found]


def plan(analysis: Analysis) -> Plan:
    """Modules for every layer up to the first one the analysis did not compute. Each reads
    the tensors the analysis records it reading, and is made on their shapes as the
    executor's own modules give them."""
    if analysis.input is None:
        first = analysis.layers[0] if analysis.layers else None
        return Plan(analysis, (), stop=first)
    shapes: list[Shape] = [analysis.input]  # by tensor index
    names = {INPUT_NAME: 0}
    modules: list[Module] = []
    for r in analysis.layers:
        if r.status != "ok":
            return Plan(analysis, tuple(modules), stop=r)
        reads = r.inputs or (r.index - 1,)
        try:
            module = make_module(r.layer, shapes[reads[0]], analysis.rounding, _fit_padding(r),
                                 [shapes[j] for j in reads], _like(r.layer, names, shapes))
        except GeometryError as exc:
            return Plan(analysis, tuple(modules), failure=(r, str(exc)))
        module.reads = reads
        modules.append(module)
        shapes.append(module.out_shape)
        names[r.layer.name] = r.index
    return Plan(analysis, tuple(modules))


def _elements(shape: Shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def reads_of(modules: Sequence[Module]) -> list[tuple[int, ...]]:
    """The tensors each module reads; a module made outside ``plan`` reads the one before."""
    return [m.reads or (i - 1,) for i, m in enumerate(modules, start=1)]


def memory_estimate(modules: tuple[Module, ...], input_shape: Shape, batch: int, itemsize: int,
                    cap: int = WORKSPACE_CAP, output: int | None = None) -> Estimate:
    """The peak memory of building and running ``modules`` (see ``cnncalc.execute.estimate``);
    ``output``: the tensor kept to the end (default: the last module's). The process's own
    memory, ``baseline_bytes``, is left 0: the caller measures it."""
    params = sum(_elements(s) for m in modules
                 for s in (*m.param_shapes.values(), *m.buffer_shapes.values()))
    reads = reads_of(modules)
    sizes = [batch * _elements(input_shape) * itemsize]
    sizes += [batch * _elements(m.out_shape) * itemsize for m in modules]
    kept_to = len(modules) if output is None else output
    held = held_across(reads, kept_to, sizes)
    # a layer fused into the convolution before it writes over that convolution's output
    over = {j for members in groups(modules, reads, last_readers(reads, kept_to)).values()
            for j in members}
    layers = tuple(LayerMemory(m.layer.name, sum(sizes[j] for j in set(r)),
                               0 if i in over else sizes[i],
                               m.workspace(batch, itemsize, cap), kept)
                   for i, (m, r, kept) in enumerate(zip(modules, reads, held, strict=True),
                                                    start=1))
    scratch: dict[str, int] = {}
    for m in modules:
        for name, size in m.scratch(batch, itemsize, cap).items():
            scratch[name] = max(scratch.get(name, 0), size)
    setup = setup_bytes((_elements(s) for m in modules for s in m.param_shapes.values()),
                        itemsize)
    return Estimate(params * itemsize, batch * _elements(input_shape) * itemsize, layers,
                    sum(scratch.values()), setup)


def random_input(shape: Shape, batch: int, dtype: str | np.dtype[Any], seed: int) -> Array:
    """A standard normal batch, from its own stream of ``seed`` (weights use another)."""
    rng = np.random.default_rng([seed, 1])
    return rng.standard_normal((batch, *shape), dtype=np.dtype(dtype))


class Network:
    """Allocated modules; ``forward`` runs a batch and measures every layer. ``output``: the
    tensor kept to the end (default: the last module's)."""

    def __init__(self, modules: tuple[Module, ...], dtype: str | np.dtype[Any] = "float32",
                 seed: int = 0, built: Callable[[int], None] | None = None,
                 output: int | None = None) -> None:
        self.modules = modules
        self.dtype = np.dtype(dtype)
        self.reads = reads_of(modules)
        self.last = last_readers(self.reads, output if output is not None else len(modules))
        self.fused = groups(modules, self.reads, self.last)  # by convolution: layers fused
        self.output = len(modules) if output is None else output
        self.peak = 0  # elements per example held at once in the last forward pass
        self.result: Array | None = None  # the output tensor of the last forward pass
        source = WeightSource(np.random.default_rng([seed, 0]), self.dtype)
        with np.errstate(all="ignore"):
            for i, m in enumerate(modules):
                m.allocate(source)
                if built is not None:
                    built(i)

    def forward(self, x: Array, ctx: Context,
                each: Callable[[int, Measured], None] | None = None) -> list[Measured]:
        """Every layer measured in turn; ``finite`` is checked until the first layer whose
        output holds an inf or a nan (every later one is reported as not finite). The
        tensors live in ``store`` and nowhere else, so that dropping one there frees it;
        ``x``, the caller's, is never written over. A convolution runs the layers fused into
        it (:mod:`cnncalc.execute.fusion`) chunk by chunk; each still gets its own row."""
        batch = x.shape[0]
        out: list[Measured] = []
        self.result = None
        store: dict[int, Array] = {0: x}
        self.peak = x.size // batch
        finite = True

        def record(i: int, macs: int, seconds: float, ok: bool | None) -> None:
            """Layer ``i``'s output, in ``store[i]``, checked, measured and maybe dropped."""
            nonlocal finite
            m = self.modules[i - 1]
            shape = tuple(int(d) for d in store[i].shape[1:])
            if shape != m.out_shape:
                raise RuntimeError(f"{m.layer.name}: the kernel made {shape}, its module "
                                   f"planned {m.out_shape}")
            finite = finite and (all_finite(store[i]) if ok is None else ok)
            live = sum(a.size for a in store.values()) // batch
            self.peak = max(self.peak, live)
            for j in (*self.reads[i - 1], i):
                if self.last[j] == i:
                    store.pop(j, None)
            got = Measured(shape, m.params(), m.buffers(), macs // batch, seconds,
                           macs % batch == 0, finite, live, tuple(store))
            out.append(got)
            if each is not None:
                each(i - 1, got)

        i = 1
        while i <= len(self.modules):
            m, reads = self.modules[i - 1], self.reads[i - 1]
            members = self.fused.get(i)
            if members is not None:
                epilogue = Epilogue([stage(self.modules[j - 1]) for j in members])
                start = time.perf_counter()
                assert isinstance(m, ConvModule)
                with np.errstate(all="ignore"):
                    y, macs = m.run([store[reads[0]]], ctx, None, epilogue)
                own, theirs = epilogue.split(time.perf_counter() - start)
                store[i] = y
                del y
                record(i, macs, own, epilogue.finite[0])
                for k, j in enumerate(members, start=1):
                    store[j] = store[j - 1]  # written over: the same array
                    record(j, 0, theirs[k - 1], epilogue.finite[k])
                i += 1 + len(members)
                continue
            inputs = [store[j] for j in reads]
            spare = self._spare(store, reads, i, x)
            start = time.perf_counter()
            with np.errstate(all="ignore"):
                y, macs = m.run(inputs, ctx, spare)
            seconds = time.perf_counter() - start
            del inputs
            store[i] = y
            del y
            record(i, macs, seconds, None)
            i += 1
        self.result = store.get(self.output)
        return out

    def _spare(self, store: dict[int, Array], reads: tuple[int, ...], step: int,
               given: Array) -> int | None:
        """The position of an input layer ``step`` may write over: one it is the last reader
        of, read once, not the caller's input, and an array that owns its memory and shares
        it with no other tensor held (a flatten's view, an identity's same array)."""
        for pos, j in enumerate(reads):
            if j == 0 or self.last[j] != step or reads.count(j) > 1:
                continue
            a = store[j]
            if not (a.flags.owndata and a.flags.writeable and a.flags.c_contiguous) or \
                    np.may_share_memory(a, given):
                continue
            if not any(k != j and np.may_share_memory(a, b) for k, b in store.items()):
                return pos
        return None
