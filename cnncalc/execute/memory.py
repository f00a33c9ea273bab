"""The memory plan of a forward pass, before anything is allocated: what the executor will
hold at once (the estimate the memory guard compares with its limit, see
:mod:`cnncalc.execute.estimate`), and where the layers' outputs go in the block of
:mod:`cnncalc.execute.arena` when the pass uses one. Python ints over the modules' shapes."""

from __future__ import annotations

from collections.abc import Sequence

from cnncalc.execute import arena, bounds
from cnncalc.execute.base import size
from cnncalc.execute.estimate import Estimate, LayerMemory
from cnncalc.execute.fusion import groups
from cnncalc.execute.graph_modules import CropModule, MergeModule, SliceModule, UpsampleModule
from cnncalc.execute.liveness import held_across, last_readers
from cnncalc.execute.modules import (
    WORKSPACE_CAP,
    ActivationModule,
    AdaptivePoolModule,
    BatchNormModule,
    ConvModule,
    DenseModule,
    GlobalPoolModule,
    LRNModule,
    Module,
    PoolModule,
    TransposedModule,
)
from cnncalc.execute.weights import setup_bytes
from cnncalc.spec import Shape


def reads_of(modules: Sequence[Module]) -> list[tuple[int, ...]]:
    """The tensors each module reads; a module made outside ``plan`` reads the one before."""
    return [m.reads or (i - 1,) for i, m in enumerate(modules, start=1)]


# kernels whose output is a new array, never a view of what they read (an activation other
# than the identity too): a layer that writes over a dying input is only ever offered one
# that owns its memory (Network._spare), never a view into the block of outputs
_FRESH = (ConvModule, TransposedModule, PoolModule, GlobalPoolModule, AdaptivePoolModule,
          BatchNormModule, LRNModule, DenseModule, MergeModule, CropModule, SliceModule,
          UpsampleModule)


def passes_through(module: Module) -> bool:
    """Whether a layer's output may be the memory of a tensor it reads (a flatten's view,
    dropout at test time, an identity, a crop by negative padding, a trivial shuffle, and
    any kind not known to make a new array)."""
    if isinstance(module, ActivationModule):
        return module.fn == "identity"
    return not isinstance(module, _FRESH)


def arena_layout(modules: Sequence[Module], fused: dict[int, tuple[int, ...]],
                 last: Sequence[int], output: int, batch: int, itemsize: int
                 ) -> tuple[arena.Layout | None, frozenset[int]]:
    """Where the layers' outputs go in the block of :mod:`cnncalc.execute.arena` at
    ``batch``, and the tensors that live there (a convolution's and its fused layers' are
    the same array); (None, none) when there is no plan."""
    held = arena.spans([m.places() for m in modules], fused, reads_of(modules),
                       [passes_through(m) for m in modules], last, output)
    sizes = {i: batch * size(modules[i - 1].out_shape) * itemsize for i in held}
    plan = arena.layout(held, sizes)
    if plan is None:
        return None, frozenset()
    return plan, frozenset(j for i in plan.offsets for j in (i, *fused.get(i, ())))


BLOCK_SLACK = (0.03, 1 << 20)  # the block may add 3% to the peak, or 1 MiB where that is more


def memory_estimate(modules: tuple[Module, ...], input_shape: Shape, batch: int, itemsize: int,
                    cap: int = WORKSPACE_CAP, output: int | None = None) -> Estimate:
    """The peak memory of building and running ``modules`` (see ``cnncalc.execute.estimate``);
    ``output``: the tensor kept to the end (default: the last module's). The process's own
    memory, ``baseline_bytes``, is left 0: the caller measures it."""
    return memory_plan(modules, input_shape, batch, itemsize, cap, output)[0]


def memory_plan(modules: Sequence[Module], input_shape: Shape, batch: int, itemsize: int,
                cap: int = WORKSPACE_CAP, output: int | None = None, block: bool = True
                ) -> tuple[Estimate, arena.Layout | None]:
    """The estimate, and the layout of the block of outputs (:mod:`cnncalc.execute.arena`)
    the forward pass uses: the block holds its largest total of outputs held at once for
    the whole pass, so where the other arrays (a transposed convolution's canvas, the
    network's output, a tensor that may be a view) peak elsewhere the sum can be more than the
    outputs allocated one by one need. The block is used unless that costs more than
    :data:`BLOCK_SLACK` (or ``block`` is False)."""
    kept_to = len(modules) if output is None else output
    reads = reads_of(modules)
    last = last_readers(reads, kept_to)
    fused = groups(modules, reads, last)
    apart = _estimate(modules, input_shape, batch, itemsize, cap, reads, kept_to, fused, None)
    layout, inside = arena_layout(modules, fused, last, kept_to, batch, itemsize)
    if layout is None or not block:
        return apart, None
    together = _estimate(modules, input_shape, batch, itemsize, cap, reads, kept_to, fused,
                         (layout, inside))
    share, least = BLOCK_SLACK
    if together.peak_bytes - apart.peak_bytes > max(apart.peak_bytes * share, least):
        return apart, None
    return together, layout


def _estimate(modules: Sequence[Module], input_shape: Shape, batch: int, itemsize: int,
              cap: int, reads: Sequence[tuple[int, ...]], kept_to: int,
              fused: dict[int, tuple[int, ...]],
              block: tuple[arena.Layout, frozenset[int]] | None) -> Estimate:
    params = sum(size(s) for m in modules
                 for s in (*m.param_shapes.values(), *m.buffer_shapes.values()))
    sizes = [batch * size(input_shape) * itemsize]
    sizes += [batch * size(m.out_shape) * itemsize for m in modules]
    # the outputs in the block are resident throughout: counted once, there
    for j in block[1] if block is not None else ():
        sizes[j] = 0
    held = held_across(reads, kept_to, sizes)
    # a layer fused into the convolution before it writes over that convolution's output
    over = {j for members in fused.values() for j in members}
    # the network's input (0) is the caller's, counted once as the input batch
    layers = tuple(LayerMemory(m.layer.name, sum(sizes[j] for j in set(r) if j),
                               0 if i in over else sizes[i],
                               m.workspace(batch, itemsize, cap), kept)
                   for i, (m, r, kept) in enumerate(zip(modules, reads, held, strict=True),
                                                    start=1))
    # NumPy's buffered loops (an in-place ufunc over a broadcast operand, as batch norm's)
    # take up to 8,192 elements per operand, three operands at most here; the output bounds
    # sum a convolution's |w| a slice at a time (bounds.py)
    scratch = {"ufunc buffers": 3 * 8192 * itemsize, "weight sums": bounds.BLOCK * itemsize}
    if block is not None:
        scratch["arena"] = block[0].size
    for m in modules:
        for name, nbytes in m.scratch(batch, itemsize, cap).items():
            scratch[name] = max(scratch.get(name, 0), nbytes)
    setup = setup_bytes((size(s) for m in modules for s in m.param_shapes.values()),
                        itemsize)
    return Estimate(params * itemsize, batch * size(input_shape) * itemsize, layers,
                    sum(scratch.values()), setup,
                    block_bytes=block[0].size if block is not None else 0)
