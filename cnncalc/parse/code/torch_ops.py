"""What forward() does to tensors besides calling modules: ``torch.``/``F.`` functions,
tensor methods (``view``, ``flatten``, ``mean``, ``size``, ``chunk``), ``+``/``*`` and
slicing, each as the Spec layer that gives the same volume (a merge, a flatten, a global
pool, a channel slice, a centre crop, an upsampling, a zero padding).

PyTorch's dimensions are NCHW; a cnncalc volume is HxWxC: dimension 1 is the channels, 2 and
3 the height and width. The batch is one sample: ``x.size(0)`` is the batch size, which
cnncalc keeps as a value of its own (:class:`Batch`), good only as the first size of a
reshape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cnncalc import spec
from cnncalc.parse.code.graph import Tensor
from cnncalc.parse.code.values import (
    Instance,
    Native,
    Node,
    Opaque,
    Value,
    describe,
    not_followed,
)
from cnncalc.spec import Padding, elements, same_shape

if TYPE_CHECKING:
    from cnncalc.parse.code.interp import Interp
    from cnncalc.parse.code.torch_nn import Torch

F = "torch.nn.functional."
ACTIVATIONS = {"relu": "relu", "relu6": "relu6", "gelu": "gelu", "silu": "silu",
               "sigmoid": "sigmoid", "tanh": "tanh", "hardswish": "hardswish",
               "hardsigmoid": "hardsigmoid", "leaky_relu": "leakyrelu", "elu": "elu",
               "softmax": "softmax", "log_softmax": "logsoftmax"}
# F.<pool>: the nn module whose argument reader it shares, and its own parameters
POOLS = {
    "max_pool2d": ("MaxPool2d", "input kernel_size stride padding dilation ceil_mode "
                   "return_indices"),
    "avg_pool2d": ("AvgPool2d", "input kernel_size stride padding ceil_mode count_include_pad "
                   "divisor_override"),
    "adaptive_avg_pool2d": ("AdaptiveAvgPool2d", "input output_size"),
    "adaptive_max_pool2d": ("AdaptiveMaxPool2d", "input output_size return_indices"),
    "dropout": ("Dropout", "input p training inplace"),
    "dropout2d": ("Dropout2d", "input p training inplace"),
}


class Batch(Opaque):
    """``x.size(0)``: the batch size."""

    what = "the batch size"


BATCH = Batch()


def _tensor(it: Interp, v: Value, node: Node, what: str) -> Tensor:
    if not isinstance(v, Tensor):
        raise not_followed(it.src, node, f"`{what}` of {describe(v)}", f"`{what}` is followed "
                           "on tensors")
    return v


def _dims(fw: Torch, it: Interp, x: Tensor) -> list[Value]:
    shape = fw.graph.shape(x)
    if len(shape) == 3:
        return [BATCH, shape[2], shape[0], shape[1]]
    return [BATCH, *shape]


def _dim(it: Interp, x: Tensor, d: Value, rank: int, node: Node) -> int:
    if type(d) is not int or not -rank <= d < rank:
        raise not_followed(it.src, node, f"dimension {d!r} of a tensor of {rank} dimensions")
    return d % rank


def _arg(args: list[Value], kwargs: dict[str, Value], i: int, name: str,
         default: Value = None) -> Value:
    return args[i] if len(args) > i else kwargs.get(name, default)


def call(fw: Torch, it: Interp, name: str, args: list[Value], kwargs: dict[str, Value],
         node: Node) -> Value:
    """``torch.<fn>(...)`` or ``F.<fn>(...)``."""
    short = name.rsplit(".", 1)[-1]
    functional = name.startswith(F)
    if functional or name == f"torch.{short}":
        if short in ACTIVATIONS and (functional or short in ("relu", "sigmoid", "tanh")):
            return activation(fw, it, short, args, kwargs, node)
        if functional and short in POOLS:
            return pool(fw, it, short, args, kwargs, node)
        if functional and short == "interpolate":
            x = _tensor(it, _arg(args, kwargs, 0, "input"), node, "F.interpolate")
            up = upsample(it, _arg(args, kwargs, 2, "scale_factor"), _arg(args, kwargs, 1,
                          "size"), _arg(args, kwargs, 3, "mode", "nearest"), node,
                          "F.interpolate", fw.graph.shape(x))
            return fw.graph.add(spec.Upsample, fw.local("interpolate"), it.src.span(node),
                                [x], **up)
        if functional and short == "pad":
            return pad(fw, it, args, kwargs, node)
        if not functional and short in ("cat", "concat", "concatenate"):
            return concat(fw, it, _arg(args, kwargs, 0, "tensors"), _arg(args, kwargs, 1,
                          "dim", 0), node)
        if not functional and short in ("add", "mul"):
            if len(args) != 2 or set(kwargs) - {"out"}:
                raise not_followed(it.src, node, f"`torch.{short}` of other than two tensors")
            return operator(fw, it, "+" if short == "add" else "*", args[0], args[1], node)
        if not functional and short in ("flatten", "chunk", "split", "mean"):
            x = _tensor(it, args[0] if args else kwargs.get("input"), node, f"torch.{short}")
            return METHODS[short](fw, it, x, args[1:], kwargs, node)
    raise not_followed(it.src, node, f"a call of `{name}`", "cnncalc follows the nn modules, "
                       "torch.cat/add/mul/flatten/sigmoid/chunk/split and the common F. "
                       "functions")


def activation(fw: Torch, it: Interp, short: str, args: list[Value], kwargs: dict[str, Value],
               node: Node) -> Value:
    x = _tensor(it, _arg(args, kwargs, 0, "input"), node, short)
    if short in ("softmax", "log_softmax"):
        d = _arg(args, kwargs, 1, "dim")
        rank = len(_dims(fw, it, x))
        if d is None or _dim(it, x, d, rank, node) != 1:
            raise not_followed(it.src, node, f"`{short}` over a dimension other than the "
                               "channels (dim=1)")
    return fw.graph.add(spec.Activation, fw.local(short), it.src.span(node), [x],
                        fn=ACTIVATIONS[short])


def pool(fw: Torch, it: Interp, short: str, args: list[Value], kwargs: dict[str, Value],
         node: Node) -> Value:
    from cnncalc.parse.code.torch_nn import read_module

    module, params = POOLS[short]
    x = _tensor(it, _arg(args, kwargs, 0, "input"), node, short)
    args, kwargs = list(args), dict(kwargs)
    if args:
        args[0] = 0
    else:
        kwargs["input"] = 0
    cls, kw, fields, _ = read_module(it, f"F.{short}", args, kwargs, node, module,
                                     params.split())
    fields = tuple(f for f in fields if f[0] != "input")
    return fw.graph.add(cls, fw.local(short), it.src.span(node), [x], fields, **kw)


def upsample_mode(it: Interp, mode: Value, node: Node, what: str) -> None:
    """Refuse an interpolation mode cnncalc does not model."""
    if mode not in ("nearest", "bilinear"):
        raise not_followed(it.src, node, f"`{what}` with mode={mode!r}", "cnncalc models "
                           "'nearest' and 'bilinear'")


def upsample(it: Interp, scale: Value, size: Value, mode: Value, node: Node, what: str,
             shape: tuple[int, ...] | None = None) -> dict[str, Any]:
    """The Upsample arguments for a scale factor or, given the input's volume, a size."""
    upsample_mode(it, mode, node, what)
    if scale is not None and size is None:
        pair = scale if isinstance(scale, tuple | list) else (scale, scale)
        if len(pair) == 2 and all(isinstance(s, int | float) and not isinstance(s, bool)
                                  and s >= 1 and float(s).is_integer() for s in pair):
            return {"factor": (int(pair[0]), int(pair[1])), "mode": mode}
        raise not_followed(it.src, node, f"`{what}` by {scale!r}", "cnncalc models whole "
                           "scale factors")
    if size is not None and scale is None and shape is not None and len(shape) == 3:
        pair = size if isinstance(size, tuple | list) else (size, size)
        if len(pair) == 2 and all(type(s) is int for s in pair) and pair[0] % shape[0] == 0 \
                and pair[1] % shape[1] == 0:
            return {"factor": (pair[0] // shape[0], pair[1] // shape[1]), "mode": mode}
    raise not_followed(it.src, node, f"`{what}` to a size that is not a whole multiple of "
                       "the input's", "give scale_factor")


def pad(fw: Torch, it: Interp, args: list[Value], kwargs: dict[str, Value], node: Node
        ) -> Value:
    x = _tensor(it, _arg(args, kwargs, 0, "input"), node, "F.pad")
    amounts = _arg(args, kwargs, 1, "pad")
    mode = _arg(args, kwargs, 2, "mode", "constant")
    value = _arg(args, kwargs, 3, "value")
    if mode != "constant" or value not in (None, 0, 0.0):
        raise not_followed(it.src, node, "`F.pad` other than with zeros")
    if not isinstance(amounts, tuple | list) or len(amounts) not in (2, 4) or not all(
            type(a) is int and a >= 0 for a in amounts):
        raise not_followed(it.src, node, f"`F.pad` by {amounts!r}", "cnncalc models padding "
                           "by 2 or 4 whole numbers of 0 or more (left, right, top, bottom)")
    left, right, top, bottom = (*amounts, 0, 0)[:4]
    return fw.graph.add(spec.ZeroPad, fw.local("pad"), it.src.span(node), [x],
                        padding=Padding("explicit", (top, bottom), (left, right)))


def concat(fw: Torch, it: Interp, tensors: Value, d: Value, node: Node) -> Value:
    if not isinstance(tensors, list | tuple) or len(tensors) < 2 or not all(
            isinstance(t, Tensor) for t in tensors):
        raise not_followed(it.src, node, "`torch.cat` of other than a list of two or more "
                           "tensors")
    rank = len(_dims(fw, it, tensors[0]))
    if _dim(it, tensors[0], d, rank, node) != 1:
        raise not_followed(it.src, node, f"`torch.cat` along dimension {d}", "cnncalc "
                           "concatenates channels (dim=1)")
    return fw.graph.add(spec.Merge, fw.local("cat"), it.src.span(node), list(tensors),
                        always_refs=True, op="concat")


def operator(fw: Torch, it: Interp, op: str, left: Value, right: Value, node: Node) -> Value:
    if op in ("+", "*") and isinstance(left, Tensor) and isinstance(right, Tensor):
        return fw.graph.add(spec.Merge, fw.local("add" if op == "+" else "mul"),
                            it.src.span(node), [left, right], always_refs=True,
                            op="add" if op == "+" else "multiply")
    raise not_followed(it.src, node, f"`{op}` of {describe(left)} and {describe(right)}",
                       "cnncalc follows `+` and `*` of two tensors")


def subscript(fw: Torch, it: Interp, x: Tensor, index: Value, node: Node) -> Value:
    """``x[:, a:b]`` (channels) or ``x[:, :, h0:h1, w0:w1]`` (a centre crop)."""
    items = list(index) if isinstance(index, tuple) else [index]
    dims = _dims(fw, it, x)
    if not all(isinstance(i, slice) and i.step in (None, 1) for i in items) \
            or len(items) > len(dims) or items[0] != slice(None):
        raise not_followed(it.src, node, "this indexing of a tensor", "cnncalc follows "
                           "`x[:, a:b]` (channels) and `x[:, :, a:b, c:d]` (a centre crop)")
    spans = [s.indices(n) for s, n in zip(items[1:], dims[1:], strict=False)]
    full = [r == (0, n, 1) for r, n in zip(spans, dims[1:], strict=False)]
    span = it.src.span(node)
    if all(full[1:]):
        start, stop, _ = spans[0]
        if stop <= start:
            raise not_followed(it.src, node, "an empty slice of a tensor")
        if full[0]:
            return x
        return fw.graph.add(spec.Slice, fw.local("slice"), span, [x], start=start, stop=stop)
    if len(dims) == 4 and full[0]:
        (h0, h1, _), (w0, w1, _) = spans[1], (spans[2] if len(spans) > 2 else (0, dims[3], 1))
        th, tw = h1 - h0, w1 - w0
        if th > 0 and tw > 0 and h0 == (dims[2] - th) // 2 and w0 == (dims[3] - tw) // 2:
            return fw.graph.add(spec.Crop, fw.local("crop"), span, [x], size=(th, tw))
        raise not_followed(it.src, node, "a crop that is not centred", "cnncalc models a crop "
                           "that starts at (size - target) // 2")
    raise not_followed(it.src, node, "slicing channels and height or width at once")


def _view(fw: Torch, it: Interp, x: Tensor, args: list[Value], kwargs: dict[str, Value],
          node: Node) -> Value:
    sizes = list(args[0]) if len(args) == 1 and isinstance(args[0], tuple | list) else args
    if kwargs or not sizes or not (sizes[0] is BATCH or sizes[0] == -1):
        raise not_followed(it.src, node, "a reshape whose first size is not the batch "
                           "(`x.size(0)` or -1)")
    rest = sizes[1:]
    n = elements(fw.graph.shape(x))
    if not all(type(s) is int and (s > 0 or s == -1) for s in rest) or rest.count(-1) > (
            sizes[0] is BATCH):
        raise not_followed(it.src, node, f"a reshape to {sizes!r}")
    known = elements(tuple(s for s in rest if s != -1))
    if -1 in rest:
        if known == 0 or n % known:
            raise not_followed(it.src, node, f"a reshape of {n:,} elements to {sizes!r}")
        rest = [n // known if s == -1 else s for s in rest]
    if elements(tuple(rest)) != n:
        raise not_followed(it.src, node, f"a reshape of {n:,} elements to {rest!r}")
    target = tuple(rest) if len(rest) != 3 else (rest[1], rest[2], rest[0])
    current = fw.graph.shape(x)
    if len(rest) == 1 and len(current) == 3:
        return fw.graph.add(spec.Flatten, fw.local("flatten"), it.src.span(node), [x])
    if same_shape(target, current):
        return x  # the same volume (a vector C as 1x1xC, a gate's view(b, c, 1, 1))
    raise not_followed(it.src, node, f"a reshape to {sizes!r}", "cnncalc follows a reshape "
                       "that flattens, or one that keeps the volume")


def _flatten(fw: Torch, it: Interp, x: Tensor, args: list[Value], kwargs: dict[str, Value],
             node: Node) -> Value:
    start = _arg(args, kwargs, 0, "start_dim", 0)
    end = _arg(args, kwargs, 1, "end_dim", -1)
    if start != 1 or end != -1:
        raise not_followed(it.src, node, f"a flatten from dimension {start!r} to {end!r}",
                           "cnncalc flattens everything but the batch: flatten(x, 1)")
    if len(fw.graph.shape(x)) == 1:
        return x
    return fw.graph.add(spec.Flatten, fw.local("flatten"), it.src.span(node), [x])


def _mean(fw: Torch, it: Interp, x: Tensor, args: list[Value], kwargs: dict[str, Value],
          node: Node) -> Value:
    d = _arg(args, kwargs, 0, "dim")
    keep = _arg(args, kwargs, 1, "keepdim", False)
    dims = _dims(fw, it, x)
    if len(dims) != 4 or not isinstance(d, tuple | list) or sorted(
            _dim(it, x, k, 4, node) for k in d) != [2, 3] or keep not in (True, False):
        raise not_followed(it.src, node, "a mean other than over the height and width "
                           "(`x.mean([2, 3])`)")
    return fw.graph.add(spec.GlobalPool, fw.local("mean"), it.src.span(node), [x], op="avg",
                        keepdims=keep)


def _size(fw: Torch, it: Interp, x: Tensor, args: list[Value], kwargs: dict[str, Value],
          node: Node) -> Value:
    dims = _dims(fw, it, x)
    d = _arg(args, kwargs, 0, "dim")
    return tuple(dims) if d is None else dims[_dim(it, x, d, len(dims), node)]


def _pieces(fw: Torch, it: Interp, x: Tensor, sizes: list[int], d: Value, node: Node,
            what: str) -> Value:
    dims = _dims(fw, it, x)
    if _dim(it, x, d, len(dims), node) != 1:
        raise not_followed(it.src, node, f"`{what}` along dimension {d}", "cnncalc splits "
                           "channels (dim=1)")
    out, start = [], 0
    for s in sizes:
        out.append(fw.graph.add(spec.Slice, fw.local(what), it.src.span(node), [x],
                                always_refs=True, start=start, stop=start + s))
        start += s
    return tuple(out)


def _chunk(fw: Torch, it: Interp, x: Tensor, args: list[Value], kwargs: dict[str, Value],
           node: Node) -> Value:
    n, d = _arg(args, kwargs, 0, "chunks"), _arg(args, kwargs, 1, "dim", 0)
    c = _dims(fw, it, x)[1]
    if type(n) is not int or n < 1 or type(c) is not int:
        raise not_followed(it.src, node, f"`chunk` into {n!r} pieces")
    size = -(-c // n)
    return _pieces(fw, it, x, [min(size, c - k) for k in range(0, c, size)], d, node, "chunk")


def _split(fw: Torch, it: Interp, x: Tensor, args: list[Value], kwargs: dict[str, Value],
           node: Node) -> Value:
    s, d = _arg(args, kwargs, 0, "split_size_or_sections"), _arg(args, kwargs, 1, "dim", 0)
    c = _dims(fw, it, x)[1]
    assert type(c) is int
    if type(s) is int and s > 0:
        sizes = [min(s, c - k) for k in range(0, c, s)]
    elif isinstance(s, list | tuple) and all(type(k) is int and k > 0 for k in s) \
            and sum(s) == c:
        sizes = list(s)
    else:
        raise not_followed(it.src, node, f"`split` of {c} channels by {s!r}")
    return _pieces(fw, it, x, sizes, d, node, "split")


def _same(fw: Torch, it: Interp, x: Tensor, args: list[Value], kwargs: dict[str, Value],
          node: Node) -> Value:
    return x


def _method_activation(fn: str) -> Any:
    def method(fw: Torch, it: Interp, x: Tensor, args: list[Value], kwargs: dict[str, Value],
               node: Node) -> Value:
        return activation(fw, it, fn, [x, *args], kwargs, node)
    return method


METHODS = {"view": _view, "reshape": _view, "flatten": _flatten, "mean": _mean,
           "size": _size, "chunk": _chunk, "split": _split, "contiguous": _same,
           "expand_as": _same, **{k: _method_activation(k) for k in ("relu", "sigmoid", "tanh")}}


def attribute(fw: Torch, it: Interp, obj: Value, name: str, node: Node) -> Value:
    from cnncalc.parse.code import torch_nn

    if isinstance(obj, Tensor):
        if name == "shape":
            return tuple(_dims(fw, it, obj))
        how = METHODS.get(name)
        if how is not None:
            return Native(f"Tensor.{name}", lambda it, a, kw, n: how(fw, it, obj, a, kw, n))
    elif isinstance(obj, torch_nn.Leaf):
        if name in torch_nn._ATTRS and torch_nn._ATTRS[name] in obj.kwargs:
            return obj.kwargs[torch_nn._ATTRS[name]]
        if name in obj.args:
            return obj.args[name]
        if name in ("weight", "bias"):
            return None if name == "bias" and obj.kwargs.get("bias") is False \
                else torch_nn.Param()
    elif isinstance(obj, Instance) and isinstance(obj.native, torch_nn.State):
        if name == "training":
            return False  # cnncalc describes the network at inference
        if name in ("add_module", "register_module"):
            return Native(name, lambda it, a, kw, n: fw.set_attr(it, obj, str(a[0]), a[1]))
        if name == "modules":
            return Native(name, lambda it, a, kw, n: [m for _, m in torch_nn.named_modules(
                obj)])
        if name == "children":
            return Native(name, lambda it, a, kw, n: list(obj.native.modules.values()))
        if name in ("append", "extend") and obj.cls.framework_bases():
            return _grow(fw, it, obj.native.modules, name, True)
    elif isinstance(obj, torch_nn.Container) and name in ("append", "extend", "add_module"):
        return _grow(fw, it, obj.children, name, obj.kind != "ModuleDict")
    raise not_followed(it.src, node, f"`.{name}` of {describe(obj)}")


def _grow(fw: Torch, it: Interp, children: dict[str, Value], name: str, numbered: bool
          ) -> Native:
    from cnncalc.parse.code import pyops, torch_nn

    def fn(it: Interp, a: list[Value], kw: dict[str, Value], node: Node) -> Value:
        if name == "add_module":
            items = [(str(a[0]), a[1])]
        else:
            got = [a[0]] if name == "append" else pyops.listed(it, a[0], node)
            items = [(str(len(children) + i), m) for i, m in enumerate(got)]
        for k, m in items:
            if not torch_nn.is_module(m):
                raise not_followed(it.src, node, f"`{name}` of {describe(m)}")
            children[k] = m
        return None
    return Native(name, fn)
