"""Two analyses of one network, layer by layer: what ``cnncalc diff`` reports.

Names say nothing across notations (the lecture's ``CONV1`` is PyTorch's ``features.0``), so
layers are aligned on what they are. Each analysis is split first:

- **context** layers change nothing that is counted: no params, buffers or MACs, one input,
  and as many output elements as input elements (ReLU, dropout, identity, LRN, flatten, an
  adaptive pool that keeps the size), or a zero-padding layer whose one reader is a conv or a
  pool (Keras's ``ZeroPadding2D`` before a conv says what PyTorch's ``padding=`` says: its
  effect shows in the reader's output and MACs). They are shown beside the layers they follow
  but are never a difference by themselves;
- every other layer is **significant**, and the significant layers of the two sides are
  aligned in analysis order (a longest common subsequence, ``cnncalc.align``): on the kind
  and settings (kernel, stride, dilation, pool op), then what is left in each gap on the
  kind alone, so that a changed kernel still pairs the two convs. Pairs left over whose
  figures are all equal are paired as moved (two notations may list an Inception block's
  branches in different orders). What has no partner is on one side only.

A matched pair differs in ``layer`` (kind or settings: kernel, stride, dilation, pool op),
``output`` (1x1xC and C are one volume), ``params``, ``buffers``, ``macs``, or ``wiring``:
the layers it reads, followed back through context layers and layers of one side only,
are not the partners of the ones its partner reads (a residual add reading another layer).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from typing import Literal

from cnncalc.align import Budget, Step, align, by_position
from cnncalc.analyze import Analysis, LayerResult
from cnncalc.records import record
from cnncalc.spec import (
    AdaptivePool,
    BatchNorm,
    Conv,
    Dense,
    GlobalPool,
    Merge,
    Pool,
    Shape,
    Upsample,
    ZeroPad,
    elements,
    flat_form,
)

RowStatus = Literal["same", "changed", "a-only", "b-only", "context"]
FIGURES = ("params", "buffers", "macs")
"""The totals compared (activations are not: a ReLU written on one side only adds some)."""


@record
class Row:
    """One line of the alignment. ``differs`` names what differs in a ``changed`` pair;
    ``reads`` (for a wiring difference) the layers each side reads, as indices of its own
    analysis (0 the input); ``moved``: paired out of order."""

    status: RowStatus
    a: LayerResult | None
    b: LayerResult | None
    differs: tuple[str, ...] = ()
    reads: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    moved: bool = False

    @property
    def is_difference(self) -> bool:
        return self.status in ("changed", "a-only", "b-only")


@record
class Comparison:
    """``totals``: (figure, A's, B's) for params, buffers and MACs. ``output``: what differs
    about the network's output (``volume``, ``wiring``). ``by_position``: the alignment ran
    out of its work budget and paired some layers by position."""

    a: Analysis
    b: Analysis
    rows: tuple[Row, ...]
    input_differs: bool
    output: tuple[str, ...]
    totals: tuple[tuple[str, int, int], ...]
    by_position: bool = False

    @property
    def differences(self) -> int:
        return (sum(1 for r in self.rows if r.is_difference) + self.input_differs
                + bool(self.output))

    @property
    def same(self) -> bool:
        return self.differences == 0


def is_context(r: LayerResult, reader: LayerResult | None) -> bool:
    """A layer that changes nothing counted (see the module's docstring); ``reader`` is the
    one layer that reads it, None if none or several do."""
    if r.params != 0 or r.buffers != 0 or r.macs != 0 or len(r.inputs) > 1:
        return False
    if r.input_shape is None or r.output_shape is None:
        return False
    if elements(r.input_shape) == elements(r.output_shape):
        return True
    return (isinstance(r.layer, ZeroPad) and reader is not None
            and isinstance(reader.layer, (Conv, Pool)))


def family(r: LayerResult) -> tuple[Hashable, ...]:
    """What a layer is, whatever the notation: a depthwise conv and a grouped one are both
    convs, a global pool and an adaptive pool to 1x1 are both global pools; a max and an
    average pool are both pools (their op is a setting, so that they pair as a change)."""
    layer = r.layer
    if isinstance(layer, Conv):
        return ("deconv" if layer.transposed else "conv",)
    if isinstance(layer, Pool):
        return ("pool",)
    if isinstance(layer, (GlobalPool, AdaptivePool)):
        return ("global pool",)
    if isinstance(layer, Dense):
        return ("fc",)
    if isinstance(layer, BatchNorm):
        return ("bn",)
    if isinstance(layer, Merge):
        return ("merge",)
    return (layer.kind,)


def settings(r: LayerResult) -> tuple[Hashable, ...]:
    """The family and the settings that make two layers of it different operations (the
    padding is not among them: its effect is the output volume)."""
    layer = r.layer
    if isinstance(layer, Conv):
        return (*family(r), layer.kernel, layer.stride, layer.dilation)
    if isinstance(layer, Pool):
        return (*family(r), layer.op, layer.kernel, layer.stride, layer.dilation)
    if isinstance(layer, (GlobalPool, AdaptivePool, Merge)):
        return (*family(r), layer.op)
    if isinstance(layer, Upsample):
        return (*family(r), layer.factor, layer.mode)
    return family(r)


def _flat(shape: Shape | None) -> Shape | None:
    return None if shape is None else flat_form(shape)


def figures(r: LayerResult) -> tuple[Hashable, ...]:
    return (*settings(r), _flat(r.output_shape), r.params, r.buffers, r.macs)


KEYS: tuple[Callable[[LayerResult], tuple[Hashable, ...]], ...] = (settings, family)
"""The alignment's keys, in turn. Not the figures first: when channel counts differ
throughout (the lecture's AlexNet and torchvision's), a conv whose figures happen to equal
another one's would pull the alignment out of step."""


class _Side:
    """One analysis split into its significant layers (in order) and the context layers
    that follow each (``after[0]``: those before the first significant one); once the
    alignment is known, ``partner`` maps a layer's index to its partner's (0, the input, to
    0)."""

    def __init__(self, a: Analysis) -> None:
        self.results = a.layers
        readers: list[list[LayerResult]] = [[] for _ in range(len(a.layers) + 1)]
        for r in a.layers:
            for j in r.inputs:
                if len(readers[j]) < 2:
                    readers[j].append(r)
        context = [False] + [is_context(r, q[0] if len(q) == 1 else None)
                             for r, q in zip(a.layers, readers[1:], strict=True)]
        self.significant: list[LayerResult] = []
        self.after: dict[int, list[LayerResult]] = {0: []}
        last = 0
        for index in canonical_order(a, context):
            r = a.layers[index - 1]
            if context[index]:
                self.after[last].append(r)
            else:
                self.significant.append(r)
                last = r.index
                self.after[last] = []
        self.partner: dict[int, int] = {0: 0}
        self._anchors: dict[int, int | None] = {}

    def anchor(self, index: int) -> int | None:
        """The nearest layer at or before ``index``, following single inputs through
        context layers and layers of this side only, that has a partner; None past a merge
        without one."""
        path: list[int] = []
        found: int | None
        while True:
            if index in self._anchors:
                found = self._anchors[index]
                break
            if index in self.partner:
                found = index
                break
            path.append(index)
            inputs = self.results[index - 1].inputs
            if len(inputs) != 1:
                found = None
                break
            index = inputs[0]
        for i in path:
            self._anchors[i] = found
        return found

    def resolve(self, index: int) -> int | None:
        """The partner (an index of the other side) of ``anchor(index)``."""
        found = self.anchor(index)
        return None if found is None else self.partner[found]


def canonical_order(a: Analysis, context: list[bool]) -> list[int]:
    """The layers' indices in an order that does not depend on how the text lists parallel
    branches: each layer after everything it reads (a post-order walk back from the output,
    then from any other layer that nothing reads), a concat's inputs walked in its order, an
    add's or multiply's deepest first (depth counts significant layers; ties in listed
    order). A chain, a ResNet block written main path first and an Inception block written
    branch by branch keep their analysis order."""
    n = len(a.layers)
    depth = [0] * (n + 1)
    read = [False] * (n + 1)
    for r in a.layers:
        depth[r.index] = max((depth[j] for j in r.inputs), default=0) + (not context[r.index])
        for j in r.inputs:
            read[j] = True
    output = a.output or n
    roots = [output] + [i for i in range(1, n + 1) if not read[i] and i != output]
    seen = [False] * (n + 1)
    seen[0] = True
    order: list[int] = []
    for root in roots:
        if seen[root]:
            continue
        seen[root] = True
        stack = [(root, iter(_walk(a.layers[root - 1], depth)))]
        while stack:
            node, pending = stack[-1]
            for j in pending:
                if not seen[j]:
                    seen[j] = True
                    stack.append((j, iter(_walk(a.layers[j - 1], depth))))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def _walk(r: LayerResult, depth: list[int]) -> list[int]:
    if isinstance(r.layer, Merge) and r.layer.op != "concat":
        return sorted(r.inputs, key=lambda j: -depth[j])  # stable: ties in listed order
    return list(r.inputs)


def compare(a: Analysis, b: Analysis) -> Comparison:
    """Both analyses must be complete (no errors, totals present)."""
    assert a.totals is not None and b.totals is not None and a.input and b.input
    sa, sb = _Side(a), _Side(b)
    budget = Budget(len(sa.significant) + len(sb.significant))
    found, positional = _steps(sa.significant, sb.significant, 0, budget)
    steps = _pair_moved(found, sa.significant, sb.significant)
    for i, j, _ in steps:
        if i is not None and j is not None:
            sa.partner[sa.significant[i].index] = sb.significant[j].index
            sb.partner[sb.significant[j].index] = sa.significant[i].index
    beside = Budget(len(a.layers) + len(b.layers))  # pairing context layers, shared
    rows: list[Row] = _context_rows(sa.after[0], sb.after[0], beside)
    for i, j, moved in steps:
        ra = None if i is None else sa.significant[i]
        rb = None if j is None else sb.significant[j]
        rows.append(_row(ra, rb, moved, sa, sb))
        rows.extend(_context_rows(sa.after[ra.index] if ra else [],
                                  sb.after[rb.index] if rb else [], beside))
    totals = tuple((name, getattr(a.totals, name), getattr(b.totals, name)) for name in FIGURES)
    return Comparison(a, b, tuple(rows), flat_form(a.input) != flat_form(b.input),
                      _output(a, b, sa, sb), totals, positional)


def _steps(xs: list[LayerResult], ys: list[LayerResult], level: int,
           budget: Budget) -> tuple[list[Step], bool]:
    """Align on ``KEYS[level]``, then each gap of what is left on the next key."""
    key = KEYS[level]
    found = align([key(r) for r in xs], [key(r) for r in ys], budget)
    positional = found is None
    steps = by_position(len(xs), len(ys)) if found is None else found
    if level + 1 == len(KEYS) or positional:
        return steps, positional
    out: list[Step] = []
    gap_a: list[int] = []
    gap_b: list[int] = []

    def flush() -> bool:
        if not gap_a or not gap_b:
            out.extend([(i, None) for i in gap_a] + [(None, j) for j in gap_b])
        else:
            inner, pos = _steps([xs[i] for i in gap_a], [ys[j] for j in gap_b], level + 1,
                                budget)
            out.extend((None if i is None else gap_a[i], None if j is None else gap_b[j])
                       for i, j in inner)
            if pos:
                return True
        gap_a.clear()
        gap_b.clear()
        return False

    for i, j in steps:
        if i is not None and j is not None:
            positional = flush() or positional
            out.append((i, j))
        elif i is not None:
            gap_a.append(i)
        else:
            assert j is not None
            gap_b.append(j)
    positional = flush() or positional
    return out, positional


def _pair_moved(steps: list[Step], xs: list[LayerResult], ys: list[LayerResult],
                ) -> list[tuple[int | None, int | None, bool]]:
    """Layers of one side only whose every figure equals one of the other side's are the
    same layer listed elsewhere: pair them (A's place in the order is kept)."""
    waiting: dict[tuple[Hashable, ...], deque[int]] = {}
    for i, j in steps:
        if j is None and i is not None:
            waiting.setdefault(figures(xs[i]), deque()).append(i)
    moved: dict[int, int] = {}
    for i, j in steps:
        if i is None and j is not None:
            queue = waiting.get(figures(ys[j]))
            if queue:
                moved[queue.popleft()] = j
    taken = set(moved.values())
    out: list[tuple[int | None, int | None, bool]] = []
    for i, j in steps:
        if i is not None and j is None and i in moved:
            out.append((i, moved[i], True))
        elif not (i is None and j in taken):
            out.append((i, j, False))
    return out


def _row(ra: LayerResult | None, rb: LayerResult | None, moved: bool, sa: _Side,
         sb: _Side) -> Row:
    if ra is None or rb is None:
        return Row("b-only" if ra is None else "a-only", ra, rb)
    differs = []
    if settings(ra) != settings(rb):
        differs.append("layer")
    if _flat(ra.output_shape) != _flat(rb.output_shape):
        differs.append("output")
    differs.extend(name for name in FIGURES if getattr(ra, name) != getattr(rb, name))
    reads = _wiring(ra, rb, sa, sb)
    if reads is not None:
        differs.append("wiring")
    return Row("changed" if differs else "same", ra, rb, tuple(differs), reads, moved)


def _wiring(ra: LayerResult, rb: LayerResult, sa: _Side, sb: _Side,
            ) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """(A's reads, B's reads) when they are not partners, else None. A read that leads to a
    merge of one side only is not compared: that merge is a difference of its own."""
    mapped = [sa.resolve(j) for j in ra.inputs]
    theirs = [sb.anchor(j) for j in rb.inputs]
    if None in mapped or None in theirs:
        return None
    if isinstance(ra.layer, Merge) and ra.layer.op != "concat":
        same = sorted(mapped) == sorted(theirs)  # type: ignore[type-var]
    else:
        same = mapped == theirs
    return None if same else (ra.inputs, rb.inputs)


def _context_rows(xs: list[LayerResult], ys: list[LayerResult], budget: Budget) -> list[Row]:
    """Context layers after one significant layer, paired by kind where both sides have
    them (a ReLU on each side), each on its own row otherwise; by position once the budget
    shared by all of them runs out (the pairing only decides which rows they share)."""
    if not xs and not ys:
        return []
    steps = align([r.layer.kind for r in xs], [r.layer.kind for r in ys], budget)
    if steps is None:
        steps = by_position(len(xs), len(ys))
    return [Row("context", None if i is None else xs[i], None if j is None else ys[j])
            for i, j in steps]


def _output(a: Analysis, b: Analysis, sa: _Side, sb: _Side) -> tuple[str, ...]:
    """What differs about the networks' outputs: the volume, or which layer gives it."""
    oa = a.output or len(a.layers)
    ob = b.output or len(b.layers)
    found = []
    if _flat(a.layers[oa - 1].output_shape) != _flat(b.layers[ob - 1].output_shape):
        found.append("volume")
    mapped, own = sa.resolve(oa), sb.anchor(ob)
    if mapped is not None and own is not None and mapped != own:
        found.append("wiring")
    return tuple(found)
