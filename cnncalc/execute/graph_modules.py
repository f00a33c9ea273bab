"""Executor modules of the layers that make a network a graph: the merges, which read several
layers, and the reshaping steps (crop, slice, shuffle, upsample), which read one. They follow
:mod:`cnncalc.execute.modules`: made from the layer and the shapes they will receive (Python
ints only), they say their output shape and the workspace their kernel allocates, and
``forward`` runs the kernel (:mod:`cnncalc.execute.graph_ops`).

Their output shapes are the executor's own reading of each layer, not the analysis's rules
(:mod:`cnncalc.graph_rules`), which they are there to check. None has params or buffers, and
none performs a matrix product, so each measures 0 MACs.
"""

from __future__ import annotations

from collections.abc import Sequence

from cnncalc.execute import graph_ops
from cnncalc.execute.base import Context, Module, size, volume
from cnncalc.execute.geometry import GeometryError
from cnncalc.execute.ops import Array
from cnncalc.spec import Crop, Merge, Shape, Shuffle, Slice, Upsample, fmt_shape


def _gate(shape: Shape) -> Shape | None:
    """The channels a ``1x1xC`` or ``C`` shape can scale or be added as, else None."""
    if len(shape) == 1:
        return shape
    if len(shape) == 3 and shape[0] == shape[1] == 1:
        return (shape[2],)
    return None


class MergeModule(Module):
    """Add, concat or multiply of the layers it reads (two or more).

    Add: equal volumes; or ``1x1xC`` and ``C`` mixed, added as ``C``. Multiply: the longest
    shape is the output; each input is either of its size, or a ``1x1xC`` / ``C`` gate
    broadcast over an ``HxWxC`` output. Concat: volumes of equal height and width stacked
    along the channels, or vectors end to end."""

    def __init__(self, layer: Merge, in_shapes: Sequence[Shape]) -> None:
        super().__init__(layer, in_shapes[0])
        self.in_shapes = tuple(in_shapes)
        self.op = layer.op
        self.views: tuple[Shape, ...] = self.in_shapes  # how each input is seen
        if len(in_shapes) < 2:
            raise GeometryError(f"{layer.name}: a merge reads two or more layers")
        if layer.op == "concat":
            self.out_shape = self._concat()
        elif layer.op == "add":
            self.out_shape = self._add()
        else:
            self.out_shape = self._multiply()

    def _shapes(self) -> str:
        return " and ".join(fmt_shape(s) for s in self.in_shapes)

    def _concat(self) -> Shape:
        shapes = self.in_shapes
        if all(len(s) == 1 for s in shapes):
            return (sum(s[0] for s in shapes),)
        if any(len(s) != 3 or s[:2] != shapes[0][:2] for s in shapes):
            raise GeometryError(f"cannot concatenate {self._shapes()}")
        return (*shapes[0][:2], sum(s[2] for s in shapes))

    def _add(self) -> Shape:
        first = self.in_shapes[0]
        if all(s == first for s in self.in_shapes):
            return first
        gates = [_gate(s) for s in self.in_shapes]
        if gates[0] is None or any(g != gates[0] for g in gates):
            raise GeometryError(f"cannot add {self._shapes()}")
        self.views = tuple(gates[0] for _ in self.in_shapes)
        return gates[0]

    def _multiply(self) -> Shape:
        out = max(self.in_shapes, key=lambda s: (len(s), size(s)))  # a gate may come first
        views = []
        for s in self.in_shapes:
            gate = _gate(s)
            if s == out or (gate is not None and gate == _gate(out)):
                views.append(out)
            elif gate is not None and len(out) == 3 and gate == (out[2],):
                views.append((1, 1, out[2]))
            else:
                raise GeometryError(f"cannot multiply {self._shapes()}")
        self.views = tuple(views)
        return out

    def places(self) -> bool:
        return True

    def run(self, xs: Sequence[Array], ctx: Context, spare: int | None = None,
            out: Array | None = None) -> tuple[Array, int]:
        batch = xs[0].shape[0]
        seen = [x if x.shape[1:] == v else x.reshape(batch, *v)
                for x, v in zip(xs, self.views, strict=True)]
        if self.op == "concat":
            return graph_ops.concat(seen, out), 0
        if out is None and spare is not None and spare < 2 \
                and self.views[spare] == self.out_shape:
            out = seen[spare]
        if self.op == "add":
            return graph_ops.add(seen, out), 0
        return graph_ops.multiply(seen, out), 0

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        raise GeometryError(f"{self.layer.name}: a merge runs on all its inputs (run)")


class CropModule(Module):
    """A centre crop to the layer's size, or to the height and width of ``like`` (the shape
    of the layer it names, known when the network is planned: no tensor is kept for it)."""

    def __init__(self, layer: Crop, in_shape: Shape, like: Shape | None) -> None:
        super().__init__(layer, in_shape)
        h, w, c = volume(layer, in_shape)
        size = layer.size
        if size is None:
            if like is None or len(like) != 3:
                raise GeometryError(f"{layer.name}: crops like a layer that is not a volume")
            size = (like[0], like[1])
        if not (1 <= size[0] <= h and 1 <= size[1] <= w):
            raise GeometryError(f"cannot crop {fmt_shape(in_shape)} to {size[0]}x{size[1]}")
        self.size = size
        self.out_shape = (*size, c)

    def places(self) -> bool:
        return True

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        return self.run((x,), ctx)

    def run(self, xs: Sequence[Array], ctx: Context, spare: int | None = None,
            out: Array | None = None) -> tuple[Array, int]:
        return graph_ops.center_crop(xs[0], self.size, out), 0


class SliceModule(Module):
    def __init__(self, layer: Slice, in_shape: Shape) -> None:
        super().__init__(layer, in_shape)
        if not 0 <= layer.start < layer.stop <= in_shape[-1]:
            raise GeometryError(f"channels {layer.start} to {layer.stop} of "
                                f"{fmt_shape(in_shape)}")
        self.start, self.stop = layer.start, layer.stop
        self.out_shape = (*in_shape[:-1], layer.stop - layer.start)

    def places(self) -> bool:
        return True

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        return self.run((x,), ctx)

    def run(self, xs: Sequence[Array], ctx: Context, spare: int | None = None,
            out: Array | None = None) -> tuple[Array, int]:
        return graph_ops.channel_slice(xs[0], self.start, self.stop, out), 0


class ShuffleModule(Module):
    def __init__(self, layer: Shuffle, in_shape: Shape) -> None:
        super().__init__(layer, in_shape)
        c = volume(layer, in_shape)[2]
        if layer.groups < 1 or c % layer.groups:
            raise GeometryError(f"{layer.groups} groups do not split {c} channels")
        self.groups = layer.groups

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        return graph_ops.channel_shuffle(x, self.groups), 0


class UpsampleModule(Module):
    def __init__(self, layer: Upsample, in_shape: Shape) -> None:
        super().__init__(layer, in_shape)
        h, w, c = volume(layer, in_shape)
        if min(layer.factor) < 1:
            raise GeometryError(f"upsampling by {layer.factor}")
        self.factor, self.mode = layer.factor, layer.mode
        self.out_shape = (h * layer.factor[0], w * layer.factor[1], c)

    def workspace(self, batch: int, itemsize: int, cap: int) -> int:
        if self.mode == "nearest":
            return 0
        h, w, c = self.in_shape
        wide = h * w * self.factor[1] * c  # the width pass's result, then a second output
        return batch * itemsize * (wide + size(self.out_shape))

    def places(self) -> bool:
        return True

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        return self.run((x,), ctx)

    def run(self, xs: Sequence[Array], ctx: Context, spare: int | None = None,
            out: Array | None = None) -> tuple[Array, int]:
        if self.mode == "nearest":
            return graph_ops.upsample_nearest(xs[0], self.factor, out), 0
        return graph_ops.upsample_bilinear(xs[0], self.factor, out), 0
