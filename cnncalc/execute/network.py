"""A Spec as a NumPy network: plan it from its layers (shapes only; its memory plan is in
``memory``), build it with seeded random arrays, push a batch through, and check each layer
against the analysis.

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

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from cnncalc.analyze import Analysis, LayerResult
from cnncalc.execute import arena, bounds
from cnncalc.execute.base import size
from cnncalc.execute.fusion import Bound, Epilogue, Stage, groups, largest, magnitude, stage
from cnncalc.execute.geometry import GeometryError, Pair
from cnncalc.execute.graph_modules import (
    CropModule,
    MergeModule,
    ShuffleModule,
    SliceModule,
    UpsampleModule,
)
from cnncalc.execute.liveness import last_readers
from cnncalc.execute.memory import memory_plan, reads_of
from cnncalc.execute.modules import (
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
from cnncalc.execute.weights import WeightSource
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


class Measured(NamedTuple):
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
        # the tensors each step is the last reader of (its inputs and its output), once each
        self._drops = [tuple(dict.fromkeys(j for j in (*r, i) if self.last[j] == i))
                       for i, r in enumerate(self.reads, start=1)]
        self.output = len(modules) if output is None else output
        self._layouts: dict[tuple[Any, ...], arena.Layout | None] = {}
        self.spilled = 0  # outputs whose place in the block was found in use (never)
        self.gains = bounds.Gains()  # the weight sums the output bounds use
        self._stages: dict[int, tuple[Any, tuple[Stage, Bound]]] = {}  # fused layers
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
        output holds an inf or a nan (every later one is reported as not finite): each
        output is bounded from its inputs' bounds (:mod:`cnncalc.execute.bounds`), and looked
        at only where that bound does not vouch for it. The tensors live in ``store`` and
        nowhere else, so that dropping one there frees it; ``x``, the caller's, is never
        written over. A convolution runs the layers fused into it
        (:mod:`cnncalc.execute.fusion`) chunk by chunk; each still gets its own row."""
        batch = x.shape[0]
        out: list[Measured] = []
        self.result = None
        store: dict[int, Array] = {0: x}
        self.peak = x.size // batch
        finite = True
        outputs, block = self._outputs(x, ctx)
        limit = largest(self.dtype)
        modules, drops = self.modules, self._drops
        reach = {0: magnitude(x)}  # a bound of |value| of each tensor held
        held = x.size  # elements of the tensors in store

        def bound(i: int) -> float:
            """Layer ``i``'s output bound from its inputs' (inf: none)."""
            return bounds.after(self.modules[i - 1], [reach[j] for j in self.reads[i - 1]],
                                self.dtype, self.gains)

        def record(i: int, macs: int, seconds: float, within: float, final: bool = False
                   ) -> None:
            """Layer ``i``'s output, in ``store[i]``, checked, measured and maybe dropped;
            ``within``: a bound of its values, looked at where it does not vouch for them,
            unless ``final`` (a fused layer's, which its epilogue looked at chunk by chunk:
            the array holds the later stages' values by now)."""
            nonlocal finite, held
            m = modules[i - 1]
            y = store[i]
            shape = y.shape[1:]
            if shape != m.out_shape:
                raise RuntimeError(f"{m.layer.name}: the kernel made {shape}, its module "
                                   f"planned {m.out_shape}")
            reach[i] = within if within < limit or final else magnitude(y)
            finite = finite and reach[i] < math.inf
            held += y.size  # each tensor counted whole, also one that is a view
            del y  # a tensor dropped below is gone before ``each`` sees the step
            live = held // batch
            if live > self.peak:
                self.peak = live
            for j in drops[i - 1]:
                if j in store:
                    held -= store.pop(j).size
                    reach.pop(j, None)
            got = Measured(shape, m.params(), m.buffers(), macs // batch, seconds,
                           macs % batch == 0, finite, live, tuple(store))
            out.append(got)
            if each is not None:
                each(i - 1, got)

        fused, all_reads, clock = self.fused, self.reads, time.perf_counter
        i = 1
        with np.errstate(all="ignore"):  # once for the pass: a non-finite value is looked for
            while i <= len(modules):
                m, reads = modules[i - 1], all_reads[i - 1]
                members = fused.get(i)
                if members is not None:
                    vouched = bound(i)
                    epilogue = Epilogue([self._stage(j) for j in members],
                                        vouched if vouched < limit else None)
                    start = clock()
                    assert isinstance(m, ConvModule)
                    y, macs = m.run([store[reads[0]]], ctx, None,
                                    self._place(outputs.pop(i, None), store), epilogue)
                    own, theirs = epilogue.split(clock() - start)
                    store[i] = y
                    del y
                    record(i, macs, own, epilogue.reach[0], final=True)
                    for k, j in enumerate(members, start=1):
                        store[j] = store[j - 1]  # written over: the same array
                        record(j, 0, theirs[k - 1], epilogue.reach[k], final=True)
                    i += 1 + len(members)
                    continue
                inputs = [store[j] for j in reads]
                place = self._place(outputs.pop(i, None), store)
                spare = None if place is not None else self._spare(store, reads, i, x)
                start = clock()
                y, macs = m.run(inputs, ctx, spare, place)
                seconds = clock() - start
                if place is not None and y is not place:
                    raise RuntimeError(f"{m.layer.name}: the kernel did not write into its "
                                       "place")
                del inputs, place
                store[i] = y
                del y
                record(i, macs, seconds, bound(i))
                i += 1
        self.result = store.get(self.output)
        if self.result is not None and block is not None \
                and np.may_share_memory(self.result, block):  # the plan rules it out
            self.result = self.result.copy()
            self.spilled += 1
        return out

    def _stage(self, j: int) -> tuple[Stage, Bound]:
        """Fused layer ``j``'s in-place function and bound (``fusion.stage``), made once for
        the arrays it has: a batch norm's are read-only, so a change is a new affine form."""
        m = self.modules[j - 1]
        key = m.affine() if isinstance(m, BatchNormModule) else None
        made = self._stages.get(j)
        if made is None or made[0] is not key:
            made = self._stages[j] = (key, stage(m, self.dtype, self.gains))
        return made[1]

    def _place(self, view: Array | None, store: dict[int, Array]) -> Array | None:
        """``view``, a layer's planned place in the block, unless a tensor still held
        shares its memory, which the plan rules out (``spilled`` counts the times it did
        not, and the output then gets memory of its own)."""
        if view is not None and any(np.may_share_memory(view, a) for a in store.values()):
            self.spilled += 1
            return None
        return view

    def _outputs(self, x: Array, ctx: Context) -> tuple[dict[int, Array], Array | None]:
        """The layers' output arrays for the batch ``x``: views into the block
        (:mod:`cnncalc.execute.arena`), which ``ctx`` keeps from pass to pass, where the
        memory plan uses one (``memory_plan``); and the block."""
        batch = x.shape[0]
        key = (tuple(x.shape), self.dtype.itemsize, ctx.cap)
        if key not in self._layouts:
            self._layouts[key] = memory_plan(self.modules, tuple(x.shape[1:]), batch,
                                             self.dtype.itemsize, ctx.cap, self.output)[1]
        plan = self._layouts[key]
        if plan is None:
            return {}, None
        block = ctx.scratch.take("arena", (plan.size,), np.dtype(np.uint8))
        views = {}
        for i, offset in plan.offsets.items():
            shape = (batch, *self.modules[i - 1].out_shape)
            nbytes = size(shape) * self.dtype.itemsize
            views[i] = block[offset:offset + nbytes].view(self.dtype).reshape(shape)
        return views, block

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
