"""One executor module per layer kind of a chain, all with the small set of methods of
:class:`cnncalc.execute.base.Module` (the layers of graphs are in ``graph_modules``).

Shapes exclude the batch: ``(H, W, C)`` for a volume, ``(N,)`` for a vector.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from cnncalc.execute import activations, depthwise, ops, pooling
from cnncalc.execute.base import WORKSPACE_CAP as WORKSPACE_CAP
from cnncalc.execute.base import Context as Context
from cnncalc.execute.base import Mode as Mode
from cnncalc.execute.base import Module as Module
from cnncalc.execute.base import size as _size
from cnncalc.execute.base import volume as _volume
from cnncalc.execute.fusion import Epilogue
from cnncalc.execute.geometry import (
    CACHE_CHUNK,
    GeometryError,
    Pair,
    Transposed,
    adaptive_widest,
    chunk_budget,
    chunks,
    extent,
    keras_same,
    overhang,
    transposed,
    window_count,
)
from cnncalc.execute.ops import Array
from cnncalc.execute.weights import WeightSource
from cnncalc.spec import (
    Activation,
    AdaptivePool,
    BatchNorm,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalPool,
    Pool,
    Shape,
    ZeroPad,
)


def _pads(layer: Conv | Pool, h: int, w: int, fit: tuple[Pair, Pair] | None) -> tuple[Pair, Pair]:
    """The padding a layer asked for: explicit; ``same`` (Keras's, computed here); ``?`` the
    analysis's solution, which is a setting cnncalc chose for the user, not a result."""
    mode = layer.padding.mode
    if mode == "fit":
        if fit is None:
            raise GeometryError(f"{layer.name}: pad ? has no solved padding")
        return fit
    if mode == "same":
        return (keras_same(h, extent(layer.kernel[0], layer.dilation[0]), layer.stride[0]),
                keras_same(w, extent(layer.kernel[1], layer.dilation[1]), layer.stride[1]))
    return layer.padding.h, layer.padding.w


class Window(Module):
    """What convolutions and pooling share: padding, window counts under a rounding policy
    and the overhang of a ceil-mode last window (zeros for a conv, ignored by max pooling)."""

    def __init__(self, layer: Conv | Pool, in_shape: Shape, up: bool,
                 fit: tuple[Pair, Pair] | None) -> None:
        super().__init__(layer, in_shape)
        h, w, _ = _volume(layer, in_shape)
        self.kernel, self.stride, self.dilation = layer.kernel, layer.stride, layer.dilation
        self.pad_h, self.pad_w = _pads(layer, h, w, fit)
        span_h, span_w = extent(self.kernel[0], self.dilation[0]), extent(self.kernel[1],
                                                                            self.dilation[1])
        pooling = isinstance(layer, Pool)
        self.out_hw = (window_count(h, span_h, self.stride[0], self.pad_h, up, pooling),
                       window_count(w, span_w, self.stride[1], self.pad_w, up, pooling))
        more_h = overhang(h, span_h, self.stride[0], self.pad_h, self.out_hw[0])
        more_w = overhang(w, span_w, self.stride[1], self.pad_w, self.out_hw[1])
        self.padded = (h + self.pad_h[0] + self.pad_h[1] + more_h,
                       w + self.pad_w[0] + self.pad_w[1] + more_w)
        self.run_pad_h = (self.pad_h[0], self.pad_h[1] + more_h)
        self.run_pad_w = (self.pad_w[0], self.pad_w[1] + more_w)


class ConvModule(Window):
    def __init__(self, layer: Conv, in_shape: Shape, up: bool, fit: tuple[Pair, Pair] | None
                 ) -> None:
        super().__init__(layer, in_shape, up, fit)
        c = in_shape[2]
        groups, filters = layer.groups, layer.filters
        if layer.depth_multiplier is not None:
            groups, filters = c, c * layer.depth_multiplier
        if groups < 1 or c % groups or filters % groups:
            raise GeometryError(f"{groups} groups do not split {c} channels and {filters} "
                                "filters")
        self.groups, self.cg, self.kg = groups, c // groups, filters // groups
        self.fan_in = self.kernel[0] * self.kernel[1] * self.cg
        self.param_shapes = {"weight": (groups, self.fan_in, self.kg)}
        if layer.bias:
            self.param_shapes["bias"] = (filters,)
        self.out_shape = (*self.out_hw, filters)

    def scratch(self, batch: int, itemsize: int, cap: int) -> dict[str, int]:
        ho, wo = self.out_hw
        h, w, c = self.in_shape
        k = self.out_shape[2]
        if self.cg == 1 and self.groups > 1:  # depthwise: no columns
            step = (ops._step(self.stride[0], ho), ops._step(self.stride[1], wo))
            span_h = extent(self.kernel[0], ops._step(self.dilation[0], self.kernel[0]))
            return depthwise.buffers(batch, self.out_hw, c, k, step, span_h, self.padded[1],
                                     self.padded != self.in_shape[:2], itemsize)
        budget = chunk_budget(self.fan_in * itemsize, self.kg, cap)
        nb, rows = chunks(batch, ho, wo * self.kernel[0] * self.kernel[1] * c * itemsize, budget)
        m = nb * rows * wo
        if self.groups == 1 and ops.columns_are_input(self.kernel, self.run_pad_h,
                                                      self.run_pad_w, (h, w), self.out_hw):
            return {}
        out = {"cols": m * self.kernel[0] * self.kernel[1] * c * itemsize}
        if self.padded != self.in_shape[:2]:
            need = (rows - 1) * self.stride[0] + extent(self.kernel[0], self.dilation[0])
            out["rows"] = nb * need * self.padded[1] * c * itemsize
        if self.groups > 1:
            out["product"] = m * k * itemsize
        return out

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        return self.run((x,), ctx)

    def places(self) -> bool:
        return True

    def run(self, xs: Sequence[Array], ctx: Context, spare: int | None = None,
            out: Array | None = None, epilogue: Epilogue | None = None) -> tuple[Array, int]:
        """``epilogue``: the layers fused into this one (:mod:`cnncalc.execute.fusion`)."""
        return ops.conv2d(xs[0], self.arrays["weight"], self._get("bias"), self.kernel,
                          self.stride, self.dilation, self.run_pad_h, self.run_pad_w,
                          self.out_hw, ctx.cap, ctx.scratch, epilogue, out)


class TransposedModule(Module):
    def __init__(self, layer: Conv, in_shape: Shape) -> None:
        super().__init__(layer, in_shape)
        h, w, c = _volume(layer, in_shape)
        groups, filters = layer.groups, layer.filters
        if groups < 1 or c % groups or filters % groups:
            raise GeometryError(f"{groups} groups do not split {c} channels and {filters} "
                                "filters")
        same = layer.padding.mode == "same"
        self.kernel, self.stride, self.dilation = layer.kernel, layer.stride, layer.dilation
        self.axes: tuple[Transposed, Transposed] = tuple(  # type: ignore[assignment]
            transposed(size, layer.kernel[a], layer.stride[a], layer.dilation[a],
                       None if same else (layer.padding.h, layer.padding.w)[a],
                       layer.output_padding[a])
            for a, size in ((0, h), (1, w)))
        self.groups, self.cg, self.kg = groups, c // groups, filters // groups
        self.fan_in = self.cg * self.kernel[0] * self.kernel[1]
        self.param_shapes = {"weight": (groups, self.cg, self.kernel[0] * self.kernel[1]
                                        * self.kg)}
        if layer.bias:
            self.param_shapes["bias"] = (filters,)
        self.out_shape = (self.axes[0].out, self.axes[1].out, filters)

    def workspace(self, batch: int, itemsize: int, cap: int) -> int:
        k = self.out_shape[2]
        return batch * self.axes[0].length * self.axes[1].length * k * itemsize  # the canvas

    def scratch(self, batch: int, itemsize: int, cap: int) -> dict[str, int]:
        h, w, c = self.in_shape
        k = self.out_shape[2]
        taps = self.kernel[0] * self.kernel[1]
        budget = chunk_budget(taps * self.kg * itemsize, self.cg, cap)
        nb, rows = chunks(batch, h, w * taps * k * itemsize, budget)
        m = nb * rows * w
        out = {"cols": m * taps * k * itemsize}
        if self.groups > 1:
            out["rows"] = m * c * itemsize
        return out

    def places(self) -> bool:
        return True

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        return self.run((x,), ctx)

    def run(self, xs: Sequence[Array], ctx: Context, spare: int | None = None,
            out: Array | None = None) -> tuple[Array, int]:
        return ops.conv_transpose2d(xs[0], self.arrays["weight"], self._get("bias"),
                                    self.kernel, self.stride, self.dilation, self.axes[0],
                                    self.axes[1], ctx.cap, ctx.scratch, out)


class PoolModule(Window):
    def __init__(self, layer: Pool, in_shape: Shape, up: bool, fit: tuple[Pair, Pair] | None
                 ) -> None:
        super().__init__(layer, in_shape, up or layer.ceil_mode, fit)
        self.op = layer.op
        self.out_shape = (*self.out_hw, in_shape[2])

    def scratch(self, batch: int, itemsize: int, cap: int) -> dict[str, int]:
        """The padded input rows of a chunk (see ``pooling.pool2d``), when there is padding."""
        h, w, c = self.in_shape
        if self.padded == (h, w):
            return {}
        nb, rows = pooling.pool_chunks(batch, (h, w), c, ops._step(self.stride[0], self.out_hw[0]),
                                   self.run_pad_w, self.out_hw[0], itemsize,
                                   min(cap, CACHE_CHUNK))
        need = (rows - 1) * ops._step(self.stride[0], self.out_hw[0]) \
            + extent(self.kernel[0], ops._step(self.dilation[0], self.kernel[0]))
        return {"rows": nb * need * self.padded[1] * c * itemsize}

    def places(self) -> bool:
        return True

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        return self.run((x,), ctx)

    def run(self, xs: Sequence[Array], ctx: Context, spare: int | None = None,
            out: Array | None = None) -> tuple[Array, int]:
        return pooling.pool2d(xs[0], self.op, self.kernel, self.stride, self.dilation, self.pad_h,
                          self.pad_w, self.out_hw, out, ctx.scratch,
                          min(ctx.cap, CACHE_CHUNK)), 0


class GlobalPoolModule(Module):
    def __init__(self, layer: GlobalPool, in_shape: Shape) -> None:
        super().__init__(layer, in_shape)
        c = _volume(layer, in_shape)[2]
        self.op, self.keepdims = layer.op, layer.keepdims
        self.out_shape = (1, 1, c) if layer.keepdims else (c,)

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        return pooling.global_pool(x, self.op, self.keepdims), 0


class AdaptivePoolModule(Module):
    def __init__(self, layer: AdaptivePool, in_shape: Shape) -> None:
        super().__init__(layer, in_shape)
        c = _volume(layer, in_shape)[2]
        if min(layer.output) < 1:
            raise GeometryError(f"adaptive pooling to {layer.output}")
        self.op, self.out_hw = layer.op, layer.output
        self.out_shape = (*layer.output, c)

    def workspace(self, batch: int, itemsize: int, cap: int) -> int:
        h, w, c = self.in_shape
        oh, ow = self.out_hw
        first = oh * adaptive_widest(h, oh) * w * c
        second = oh * ow * adaptive_widest(w, ow) * c
        return batch * itemsize * (first + oh * w * c + second)

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        return pooling.adaptive_pool2d(x, self.op, self.out_hw), 0


class BatchNormModule(Module):
    """gamma and beta are parameters; the running mean and variance are buffers."""

    def __init__(self, layer: BatchNorm, in_shape: Shape) -> None:
        super().__init__(layer, in_shape)
        c = (in_shape[-1],)
        if layer.scale:
            self.param_shapes["gamma"] = c
        if layer.center:
            self.param_shapes["beta"] = c
        if layer.running_stats:
            self.buffer_shapes = {"mean": c, "var": c}
        self._affine: tuple[tuple[int, ...], tuple[Array | None, ...], ops.Affine] | None = None

    def workspace(self, batch: int, itemsize: int, cap: int) -> int:
        stats = self.buffer_shapes == {}
        return batch * _size(self.in_shape) * itemsize if stats else 0

    def allocate(self, source: WeightSource) -> None:
        rng, dtype = source.rng, source.dtype
        for name, shape in {**self.param_shapes, **self.buffer_shapes}.items():
            if name == "var":
                self.arrays[name] = rng.uniform(0.5, 1.5, shape).astype(dtype)
            else:
                base = 1.0 if name == "gamma" else 0.0
                self.arrays[name] = (base + 0.1 * rng.standard_normal(shape)).astype(dtype)
            self.arrays[name].flags.writeable = False  # see affine()

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        return self._normalise(x, None), 0

    def _normalise(self, x: Array, out: Array | None) -> Array:
        affine = self.affine()
        if affine is None:
            return ops.batch_norm(x, self._get("gamma"), self._get("beta"), None, None, out=out)
        return affine.apply(x, out)

    def affine(self) -> ops.Affine | None:
        """The layer as ``x * scale + shift`` with the running statistics (as the kernel
        computes it); None without them (the batch's own need the whole batch). Made once
        for the arrays the layer has: its own are read-only, so a change is a new array."""
        get = self.arrays.get
        arrays = gamma, beta, mean, var = get("gamma"), get("beta"), get("mean"), get("var")
        if mean is None or var is None:
            return None
        key = (id(gamma), id(beta), id(mean), id(var))
        if self._affine is None or self._affine[0] != key:  # the arrays are held: ids stay
            self._affine = (key, arrays, ops.Affine(*ops.bn_affine(gamma, beta, mean, var,
                                                                   mean.dtype)))
        return self._affine[2]

    def places(self) -> bool:
        return True

    def run(self, xs: Sequence[Array], ctx: Context, spare: int | None = None,
            out: Array | None = None) -> tuple[Array, int]:
        if out is None and spare is not None and self.buffer_shapes:
            out = xs[0]
        return self._normalise(xs[0], out), 0


class LRNModule(Module):
    def workspace(self, batch: int, itemsize: int, cap: int) -> int:
        rest = _size(self.in_shape[:-1])
        return batch * itemsize * rest * (self.in_shape[-1] + 4)

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        return ops.lrn(x), 0


class ZeroPadModule(Module):
    def __init__(self, layer: ZeroPad, in_shape: Shape) -> None:
        super().__init__(layer, in_shape)
        h, w, c = _volume(layer, in_shape)
        self.pad = (layer.padding.h, layer.padding.w)
        self.out_shape = (h + sum(self.pad[0]), w + sum(self.pad[1]), c)

    def places(self) -> bool:
        return True

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        return self.run((x,), ctx)

    def run(self, xs: Sequence[Array], ctx: Context, spare: int | None = None,
            out: Array | None = None) -> tuple[Array, int]:
        y = ops.pad_hw(xs[0], *self.pad, out=out)
        return (y.copy() if y is xs[0] else y), 0


class DenseModule(Module):
    def __init__(self, layer: Dense, in_shape: Shape) -> None:
        super().__init__(layer, in_shape)
        self.fan_in = _size(in_shape)
        self.param_shapes = {"weight": (self.fan_in, layer.units)}
        if layer.bias:
            self.param_shapes["bias"] = (layer.units,)
        self.out_shape = (layer.units,)

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        return ops.dense(x, self.arrays["weight"], self._get("bias"))


class ActivationModule(Module):
    def __init__(self, layer: Activation, in_shape: Shape) -> None:
        super().__init__(layer, in_shape)
        if layer.fn not in activations.ACTIVATIONS:
            raise GeometryError(f"no kernel for the activation {layer.fn}")
        self.fn = layer.fn

    def workspace(self, batch: int, itemsize: int, cap: int) -> int:
        extra = activations.TEMPORARIES.get(self.fn, 0.0)
        return math.ceil(extra * 4) * batch * _size(self.in_shape) * itemsize // 4

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        return activations.ACTIVATIONS[self.fn](x), 0

    def places(self) -> bool:
        return self.fn in activations.INTO

    def run(self, xs: Sequence[Array], ctx: Context, spare: int | None = None,
            out: Array | None = None) -> tuple[Array, int]:
        into = activations.INTO.get(self.fn)
        if into is None or (out is None and spare is None):
            return self.forward(xs[0], ctx)
        return into(xs[0], xs[0] if out is None else out), 0


class DropoutModule(Module):
    def __init__(self, layer: Dropout, in_shape: Shape) -> None:
        super().__init__(layer, in_shape)
        self.p = float(layer.p)  # the rate the random draws are compared with

    def workspace(self, batch: int, itemsize: int, cap: int) -> int:
        return batch * _size(self.in_shape) * (itemsize + 1)  # random draws and the mask

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        if ctx.mode == "test":
            return x, 0
        return ops.dropout(x, self.p, ctx.rng, ctx.inverted), 0


class FlattenModule(Module):
    def __init__(self, layer: Flatten, in_shape: Shape) -> None:
        super().__init__(layer, in_shape)
        self.out_shape = (_size(in_shape),)

    def forward(self, x: Array, ctx: Context) -> tuple[Array, int]:
        return np.ascontiguousarray(x).reshape(x.shape[0], -1), 0
