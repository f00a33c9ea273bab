"""Printed modules whose ``forward()`` cnncalc knows (:mod:`cnncalc.parse.pytorch_forward`),
wired as that forward wires them.

When such a container closes, the reader replaces its layers by one :class:`Block`: its
children (each the list of items its text made: layers, calls not read yet, inner blocks) and
the program of its forward. The calls are read when the whole text has been scanned; then
:meth:`Block.emit` writes the block's layers into the network, each child where its forward
calls it (a module called twice, as ResNet's ``relu``, gives a layer each time, under the
same name), the operations only forward shows, and the merges, every layer that does not read
the layer before it naming what it reads. The conditions of a forward (a residual only when
the stride is 1 and the channels stay; ShuffleNet's split when ``branch1`` is empty) are
decided from the printed arguments.

A layer reads another by its name, and a name means the latest layer so named: :class:`Out`
checks that every name a block refers to still means the layer it was given to, and reports
P001 where it does not (names cut to their last characters can meet), rather than wiring a
block to the wrong layer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Union

from cnncalc.diagnostics import Diagnostic
from cnncalc.parse.pytorch_calls import Call
from cnncalc.parse.pytorch_forward import MERGES, RESIDUAL, Op, Program, programs
from cnncalc.spec import (
    INPUT_NAME,
    Activation,
    AdaptivePool,
    Conv,
    Flatten,
    GlobalPool,
    Layer,
    Merge,
    Padding,
    Pool,
    Ref,
    Shuffle,
    Slice,
    Span,
    Unparsed,
)

Item = Union[Layer, Call, "Block"]

PARAM_FREE = frozenset(("StochasticDepth", "Identity", "Dropout", "Dropout2d", "ReLU", "ReLU6",
                        "SiLU", "Sigmoid", "Hardswish", "Hardsigmoid", "GELU", "Tanh"))
"""Modules that hold no params: only these may be left uncalled by a ``residual`` guard (an
uncalled child with params would drop them from the total)."""
_NO_FORWARD = frozenset(("ModuleList", "ModuleDict"))

MAX_NESTING = 64
"""Known blocks nest at most this deep (torchvision's, 5): a deeper one is read as a container
whose forward is not known, so that wiring it never recurses without bound."""

Child = tuple[str, str, int, int]
"""A printed child: its name, its module, where its items start, its repeat count."""


def match(cls: str, children: Sequence[Child], items: Sequence[Item]) -> Program | str:
    """The variant of ``cls``'s forward whose children are the ones printed (``items``: what
    they made), else why none is."""
    if any(isinstance(i, Block) and i.depth >= MAX_NESTING for i in items):
        return f"known blocks nest more than {MAX_NESTING} deep here"
    labels = [c[0] for c in children]
    found = set(labels)
    if any(repeat != 1 for _, _, _, repeat in children):
        return "a child is repeated (`N x`)"
    if len(found) != len(labels):
        return "two children have one name"
    if any(module in _NO_FORWARD for _, module, _, _ in children):
        return "a ModuleList or ModuleDict child has no forward() of its own"
    modules = {label: module for label, module, _, _ in children}
    variants = programs(cls)
    for program in variants:
        if program.variadic:
            if children:
                return program
            continue
        if program.required <= found <= program.labels | program.training and all(
                modules.get(c) in PARAM_FREE for c in program.guarded):
            return program
    fixed = [p for p in variants if not p.variadic]
    if not fixed:
        return "it has no children"
    nearest = min(fixed, key=lambda p: len(p.required - found) +
                  len(found - p.labels - p.training))
    missing = sorted(nearest.required - found)
    extra = sorted(found - nearest.labels - nearest.training)
    parts = ([f"no {_names(missing)}"] if missing else []) + (
        [f"{_names(extra)}, which that forward() does not call"] if extra else []) + (
        [] if missing or extra else
        [f"{_names(sorted(nearest.guarded))} with params, which that forward() may not call"])
    return f"its children are not those of torchvision's `{cls}`: {'; '.join(parts)}"


def _names(labels: Sequence[str]) -> str:
    shown = ", ".join(f"`{label}`" for label in labels[:6])
    return shown + (f" and {len(labels) - 6} more" if len(labels) > 6 else "")


@dataclass
class Out:
    """The network's layers as they are written, with the latest index of each name, and the
    problems found while wiring blocks."""

    layers: list[Layer]
    latest: dict[str, int] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        for i, layer in enumerate(self.layers):
            self.latest[layer.name] = i

    def push(self, layer: Layer) -> int:
        self.layers.append(layer)
        index = self.latest[layer.name] = len(self.layers) - 1
        return index

    def ref(self, index: int, span: Span, head: Span) -> Ref:
        """A reference to the layer at ``index`` (-1: the network's input)."""
        name = self.layers[index].name if index >= 0 else INPUT_NAME
        if self.latest.get(name, -1) != index:
            self.problems.append(Diagnostic(
                head, "P001", f"cannot wire this block: the name `{name}` it reads is given "
                "to a later layer too", "give the modules names of their own (names longer "
                "than 200 characters keep their last ones)"))
        return Ref(name, span)

    def read(self, layer: Layer, source: int, head: Span, wiring: str | None) -> int:
        """Write ``layer`` reading the layer at ``source``; its index."""
        if wiring is not None and layer.wiring is None:
            layer = replace(layer, wiring=wiring)
        if source != len(self.layers) - 1:
            layer = replace(layer, inputs=(self.ref(source, layer.span, head),))
        return self.push(layer)


def emit_items(items: Sequence[Item], source: int, out: Out, head: Span,
               wiring: str | None) -> int:
    """Write the layers of ``items`` in a chain from the layer at ``source``; the index of
    the last (``source`` when they make none)."""
    current = source
    for item in items:
        if isinstance(item, Block):
            current = item.emit(out, current, wiring)
            continue
        for layer in item.layers() if isinstance(item, Call) else [item]:
            current = out.read(layer, current, head, wiring)
    return current


def _convs(items: Sequence[Item]) -> list[Conv | None]:
    """The convolutions of ``items`` in printed order; None for a call that was not read."""
    found: list[Conv | None] = []
    for item in items:
        if isinstance(item, Block):
            for label in item.order:
                found += _convs(item.children[label])
        elif isinstance(item, Call):
            built = (item.origin or item).built
            if built is None:
                found.append(None)
            elif built[0] is Conv:
                found += [c for c in item.layers() if isinstance(c, Conv)]
        elif isinstance(item, Conv):
            found.append(item)
        elif isinstance(item, Unparsed):
            found.append(None)
    return found


@dataclass
class Block:
    """A printed module whose forward is known: its program, where its class name is written,
    its children's items by name (and their printed order), the names of the layers its
    operations make, and, when an outer container's order was assumed, that container."""

    program: Program
    head: Span
    children: dict[str, list[Item]]
    order: list[str]
    names: dict[str, str]
    wiring: str | None = None
    count: int = 0  # at most how many layers it makes
    depth: int = 1  # how many blocks deep it nests, itself included

    def renamed(self, rename: Callable[[str], str]) -> Block:
        children = {label: [_renamed(i, rename) for i in items]
                    for label, items in self.children.items()}
        return Block(self.program, self.head, children, self.order,
                     {k: rename(v) for k, v in self.names.items()}, self.wiring, self.count,
                     self.depth)

    def present(self, label: str) -> bool:
        return bool(self.children.get(label))

    @functools.cached_property
    def residual(self) -> bool:
        """torchvision's ``stride == 1 and in == out``: every convolution at stride 1, the
        first one's input channels the last one's output channels."""
        convs = _convs([i for label in self.order for i in self.children[label]])
        if not convs or None in convs:
            return False
        first, last = convs[0], convs[-1]
        assert first is not None and last is not None
        return all(c is not None and c.stride == (1, 1) for c in convs) and \
            first.in_channels is not None and first.in_channels == last.filters

    def holds(self, guard: tuple[bool, str] | None) -> bool:
        if guard is None:
            return True
        want, cond = guard
        return (self.residual if cond == RESIDUAL else self.present(cond)) == want

    def layer(self, op: Op, out: Out) -> Layer:
        """The layer an operation makes (not a merge)."""
        name, span, w = self.names[op.name], self.head, op.word
        nums = [int(a) for a in op.args if a.isdigit()]
        if w == "RELU":
            return Activation(name=name, span=span, fn="relu")
        if w == "FLATTEN":
            return Flatten(name=name, span=span)
        if w == "MEAN":
            return GlobalPool(name=name, span=span, op="avg")
        if w == "POOL":
            return AdaptivePool(name=name, span=span, op="avg", output=(nums[0], nums[0]))
        if w in ("AVGPOOL", "MAXPOOL"):
            k, s, p = (*nums, 0)[:3]
            return Pool(name=name, span=span, op="avg" if w == "AVGPOOL" else "max",
                        kernel=(k, k), stride=(s, s), padding=Padding.symmetric(p, p))
        if w == "SHUFFLE":
            return Shuffle(name=name, span=span, groups=nums[0])
        assert w == "CHUNK", w
        convs = _convs(self.children.get(op.args[1], []))
        width = convs[0].in_channels if convs and convs[0] is not None else None
        if width is None:  # no convolution, or one not read (reported there)
            if not convs:
                out.problems.append(Diagnostic(
                    span, "P011", f"{name}: `{op.args[1]}` has no convolution, whose input "
                    "channels would give the width of the split", "write the network in the "
                    "canonical notation, with SLICE layers"))
            return Unparsed(name=name, span=span)
        return Slice(name=name, span=span, start=nums[0] * width, stop=(nums[0] + 1) * width,
                     whole=2 * width)

    def emit(self, out: Out, source: int, outer: str | None) -> int:
        """Write the block's layers reading the layer at ``source``; the index of its
        output, which is the last layer written."""
        wiring = self.wiring or outer
        head = self.head
        values = {"x": source}
        current = source
        for seg in self.program.segments:
            if not self.holds(seg.guard):
                continue
            if isinstance(seg.source, Op):
                op = seg.source
                inputs = tuple(out.ref(values[a], head, head) for a in op.args)
                current = out.push(Merge(name=self.names[op.name], span=head,
                                         op=MERGES[op.word], inputs=inputs,  # type: ignore
                                         wiring=wiring))
            else:
                current = values[seg.source]
            for step in seg.steps:
                if step.save is not None:
                    values[step.save] = current
                elif step.child is not None:
                    current = emit_items(self.children.get(step.child, []), current, out,
                                         head, wiring)
                elif step.op is not None and step.op.word == "DENSE":
                    current = self.dense(out, current, wiring)
                elif step.op is not None:
                    current = out.read(self.layer(step.op, out), current, head, wiring)
        if current != len(out.layers) - 1:  # its output is an earlier layer: pass it on
            current = out.read(Activation(name=self.names[""], span=head, fn="identity"),
                               current, head, wiring)
        return current

    def dense(self, out: Out, source: int, wiring: str | None) -> int:
        """DenseNet's block, its concatenations made one input at a time (the same volumes
        as concatenating all the earlier ones each time, in a number of inputs linear in the
        children)."""
        features = source
        for i, label in enumerate(self.order):
            new = emit_items(self.children[label], features, out, self.head, wiring)
            name = self.names[f"{label}.cat"] if i + 1 < len(self.order) else self.names["cat"]
            features = out.push(Merge(
                name=name, span=self.head, op="concat", wiring=wiring,
                inputs=(out.ref(features, self.head, self.head),
                        out.ref(new, self.head, self.head))))
        return features


def _renamed(item: Item, rename: Callable[[str], str]) -> Item:
    if isinstance(item, Call | Block):
        return item.renamed(rename)
    return replace(item, name=rename(item.name))


def item_span(item: Item) -> Span:
    """Where an item is written (a block: its class name)."""
    return item.head if isinstance(item, Block) else item.span


def item_count(item: Item) -> int:
    """At most how many layers an item makes."""
    if isinstance(item, Block):
        return item.count
    if isinstance(item, Call):
        return item.count() or 1
    return 1


def make_block(program: Program, head: Span, prefix: str, items: Sequence[Item],
               children: Sequence[Child], first: int, name: Callable[[str], str]) -> Block:
    """The block of a container whose printed ``children`` match ``program``; ``items`` are
    the reader's items from ``first`` on; ``name`` makes a layer's full name from its local
    one under ``prefix``."""
    by_label: dict[str, list[Item]] = {}
    bounds = [c[2] - first for c in children] + [len(items)]
    for k, (label, _, _, _) in enumerate(children):
        by_label[label] = list(items[bounds[k]:bounds[k + 1]])
    order = [c[0] for c in children]
    names = {n: name(prefix + n) for n in program.op_names}
    names[""] = name(prefix + "output")
    if program.variadic:
        names.update({f"{label}.cat": name(f"{prefix}{label}.cat") for label in order})
    calls = {label: 0 for label in order}
    for seg in program.segments:
        for step in seg.steps:
            if step.child in calls:
                calls[step.child] += 1
    size = sum(item_count(i) for label in order for i in by_label[label]
               for _ in range(max(calls[label], 1)))
    extra = len(program.op_names) + 1 + (len(order) if program.variadic else 0)
    depth = 1 + max((i.depth for i in items if isinstance(i, Block)), default=0)
    return Block(program, head, by_label, order, names, count=size + extra, depth=depth)


def write_layers(items: Sequence[Item]) -> tuple[list[Layer], list[Diagnostic]]:
    """The layers of the reader's items, in order (the calls read), each block's wired; and
    the problems wiring found. The names layers are given are indexed from the first block
    on (a chain never pays for it)."""
    layers: list[Layer] = []
    out: Out | None = None
    for item in items:
        if isinstance(item, Block):
            out = out or Out(layers)
            item.emit(out, len(layers) - 1, None)
        elif out is not None:
            for layer in item.layers() if isinstance(item, Call) else [item]:
                out.push(layer)
        elif isinstance(item, Call):
            layers += item.layers()
        else:
            layers.append(item)
    return layers, out.problems if out is not None else []
