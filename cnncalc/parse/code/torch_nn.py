"""PyTorch's side of the interpreter: ``nn`` modules, containers, and classes deriving from
``nn.Module``.

``nn.Conv2d(...)`` and the other modules of :data:`~cnncalc.parse.pytorch_modules.MODULES`
are read with the same argument conventions as printed models (a :class:`Leaf` holds the
layer they describe); ``nn.Sequential`` (positional or from an ``OrderedDict``),
``nn.ModuleList`` and ``nn.ModuleDict`` are :class:`Container` values. An instance of a
class of the file deriving from ``nn.Module`` registers the modules set on it in order, as
``_modules`` does, so that every module gets the path ``named_modules()`` gives it
(``layer1.0.conv1``): calling a module on a tensor adds its layer under that name (a module
called again gets ``_1``, ``_2``...). Calling an instance runs its ``forward()``; the
functions it calls (:mod:`.torch_ops`) add layers named after it and the function
(``layer1.0.add``).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from cnncalc import spec
from cnncalc.diagnostics import Diagnostic
from cnncalc.parse.bounds import bounded_name as bounded
from cnncalc.parse.code import torch_ops
from cnncalc.parse.code.graph import Graph, Tensor
from cnncalc.parse.code.values import (
    Instance,
    Node,
    Opaque,
    Source,
    Stop,
    Value,
    describe,
    not_followed,
)
from cnncalc.parse.pycode import Refusal
from cnncalc.parse.pytorch_modules import FIELDS, MODULES, SIGNATURES, Args
from cnncalc.spec import Layer, Span

if TYPE_CHECKING:
    from cnncalc.parse.code.interp import Interp

NN = "torch.nn."
_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")
_BASES = frozenset(NN + c for c in ("Module", *_CONTAINERS))
_ATTRS = {"out_channels": "filters", "out_features": "units", "in_channels": "in_channels",
          "in_features": "in_features", "num_features": "num_features"}


class Leaf(Opaque):
    """An ``nn`` layer: the Spec layer class and arguments it makes, where it was built."""

    what = "an nn module"

    def __init__(self, module: str, cls: type[Layer], kwargs: dict[str, Any],
                 fields: tuple[tuple[str, Span], ...], span: Span, args: dict[str, Value]
                 ) -> None:
        self.module, self.cls, self.kwargs, self.fields = module, cls, kwargs, fields
        self.span, self.args = span, args

    @property
    def has_params(self) -> bool:
        return self.cls in (spec.Conv, spec.Dense) or (self.cls is spec.BatchNorm and (
            self.kwargs["scale"] or self.kwargs["center"] or self.kwargs["running_stats"]))


class Container(Opaque):
    """``nn.Sequential``, ``nn.ModuleList`` or ``nn.ModuleDict``: children by name."""

    def __init__(self, kind: str, children: dict[str, Value]) -> None:
        self.kind, self.children = kind, children
        self.what = f"an nn.{kind}"


class Param(Opaque):
    """A module's weight or bias, for ``nn.init`` calls (which change no figure)."""

    what = "a parameter"


class State:
    """What an instance of an ``nn.Module`` class of the file registers: its modules."""

    def __init__(self) -> None:
        self.modules: dict[str, Value] = {}


def is_module(v: Value) -> bool:
    return isinstance(v, Leaf | Container) or (isinstance(v, Instance) and isinstance(
        v.native, State))


def arg_spans(src: Source, node: Node, n_args: int, keys: list[str],
              params: list[str] | None) -> dict[str, Span]:
    """The span of each argument of a call node, by parameter name where it can be told."""
    spans: dict[str, Span] = {}
    if not isinstance(node, ast.Call):
        return spans
    if not any(isinstance(a, ast.Starred) for a in node.args):
        for i, a in enumerate(node.args):
            spans[params[i] if params and i < len(params) else str(i)] = src.span(a)
    for k in node.keywords:
        if k.arg is not None:
            spans[k.arg] = src.span(k)
    return spans


def plain_value(v: Value) -> Value:
    """A call argument as the argument readers take it (lists as tuples); None for values
    that are not numbers, text, None or tuples of them."""
    if isinstance(v, list | tuple):
        items = [plain_value(x) for x in v]
        return None if any(x is _BAD for x in items) else tuple(items)
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return _BAD


_BAD = object()


def read_module(it: Interp, module: str, args: list[Value], kwargs: dict[str, Value],
                node: Node, reader: str | None = None, params: list[str] | None = None
                ) -> tuple[type[Layer], dict[str, Any], tuple[tuple[str, Span], ...],
                           dict[str, Value]]:
    """The layer ``nn.<module>(*args, **kwargs)`` describes, read by the builder of
    :data:`MODULES` (``reader``, when the call is a function with its own ``params``)."""
    reader = reader or module
    sig_params, allowed, required = SIGNATURES[reader]
    params = params if params is not None else sig_params
    span = it.src.span(node)
    spans = arg_spans(it.src, node, len(args), list(kwargs), params)
    a = Args(reader, span)  # the builder tells modules apart by this name
    if params is not None and len(args) > len(params):
        raise not_followed(it.src, node, f"`{module}` with {len(args)} positional arguments")
    for i, v in enumerate(args):
        a.values[params[i] if params else str(i)] = v
    for k, v in kwargs.items():
        if params is not None and k not in allowed and k not in params:
            raise Stop(_bad_kw(spans.get(k, span), module, k, allowed))
        a.values[k] = v
    for k, v in list(a.values.items()):
        p = plain_value(v)
        if p is _BAD:
            raise not_followed(it.src, node, f"`{module}` with {k}={describe(v)}")
        a.values[k] = p
    a.spans = {k: spans.get(k, span) for k in a.values}
    for p in required:
        if p not in a.values:
            raise Stop(_missing(span, module, p, allowed))
    try:
        cls, kw = MODULES[reader][2](a)
    except Refusal as exc:
        raise Stop(exc.diag) from None
    fields = tuple((FIELDS.get(k, k), s) for k, s in a.spans.items())
    return cls, kw, fields, dict(a.values)


def _bad_kw(at: Span, module: str, key: str, allowed: list[str]) -> Any:
    return Diagnostic(at, "P010", f"{module} has no argument `{key}`",
                      f"{module} takes {', '.join(allowed)}")


def _missing(span: Span, module: str, p: str, allowed: list[str]) -> Any:
    return Diagnostic(span, "P010", f"{module} needs {p}", f"{module} takes {', '.join(allowed)}")


class Torch:
    """The :class:`~.values.Framework` for PyTorch model code."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.paths: dict[int, str] = {}
        self.called: set[int] = set()
        self.prefix: list[str] = []
        self.modules_in_order: list[Value] = []
        self.problems: list[Diagnostic] = []  # found while the model ran; it goes on

    # --- the protocol ---------------------------------------------------------------------

    def is_base(self, name: str) -> bool:
        return name in _BASES

    def is_instance(self, obj: Value, name: str) -> bool | None:
        if not name.startswith(NN):
            return None
        short = name[len(NN):]
        if isinstance(obj, Leaf):
            return obj.module == short
        if isinstance(obj, Container):
            return obj.kind == short or short == "Module"
        if isinstance(obj, Instance):
            return short in ("Module", *[b[len(NN):] for b in obj.cls.framework_bases()])
        return False

    def call_name(self, it: Interp, name: str, args: list[Value], kwargs: dict[str, Value],
                  node: Node) -> Value:
        if name.startswith(NN) and name.count(".") == 2:
            return self.module(it, name[len(NN):], args, kwargs, node)
        if name.startswith(NN + "init."):
            return None  # weight initialisation changes no figure
        return torch_ops.call(self, it, name, args, kwargs, node)

    def module(self, it: Interp, kind: str, args: list[Value], kwargs: dict[str, Value],
               node: Node) -> Value:
        if kind in _CONTAINERS:
            return Container(kind, self.children(it, kind, args, kwargs, node))
        if kind in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"):
            mode = {"UpsamplingNearest2d": "nearest", "UpsamplingBilinear2d": "bilinear"}.get(
                kind, kwargs.get("mode", "nearest"))
            scale, size = kwargs.get("scale_factor"), kwargs.get("size")
            if size is not None and scale is None:  # the factor waits for the input's volume
                torch_ops.upsample_mode(it, mode, node, kind)
                up = {"size": size, "mode": mode}
            else:
                up = torch_ops.upsample(it, scale, size, mode, node, kind)
            return Leaf(kind, spec.Upsample, up, (), it.src.span(node), dict(kwargs))
        if kind not in MODULES:
            raise not_followed(it.src, node, f"a call of `nn.{kind}`", "cnncalc knows the nn "
                               f"modules {', '.join(sorted(MODULES))}, and nn.Sequential, "
                               "nn.ModuleList, nn.ModuleDict, nn.Upsample")
        cls, kw, fields, values = read_module(it, kind, args, kwargs, node)
        return Leaf(kind, cls, kw, fields, it.src.span(node), values)

    def children(self, it: Interp, kind: str, args: list[Value], kwargs: dict[str, Value],
                 node: Node) -> dict[str, Value]:
        if kwargs:
            raise not_followed(it.src, node, f"`nn.{kind}` with keyword arguments")
        items: list[tuple[str, Value]]
        if len(args) == 1 and isinstance(args[0], dict):
            items = [(str(k), v) for k, v in args[0].items()]
        elif kind in ("ModuleList", "ModuleDict") and args:
            if len(args) > 1:
                raise not_followed(it.src, node, f"`nn.{kind}` of several arguments")
            from cnncalc.parse.code.pyops import listed

            got = listed(it, args[0], node)
            items = [(str(k), v) for k, v in got] if kind == "ModuleDict" \
                else [(str(i), v) for i, v in enumerate(got)]
        else:
            items = [(str(i), v) for i, v in enumerate(args)]
        for _, v in items:
            if not is_module(v):
                raise not_followed(it.src, node, f"`nn.{kind}` of {describe(v)}", "its items "
                                   "must be nn modules")
        return dict(items)

    def new_instance(self, it: Interp, inst: Instance) -> None:
        inst.native = State()

    def base_init(self, it: Interp, inst: Instance, base: str, args: list[Value],
                  kwargs: dict[str, Value], node: Node) -> None:
        kind = base[len(NN):]
        if kind == "Module":
            if args or kwargs:
                raise not_followed(it.src, node, "`nn.Module.__init__` with arguments")
            return
        for k, v in self.children(it, kind, args, kwargs, node).items():
            self.set_attr(it, inst, k, v)

    def set_attr(self, it: Interp, inst: Instance, name: str, value: Value) -> None:
        inst.attrs[name] = value
        state = inst.native
        if not isinstance(state, State):
            return
        if is_module(value):
            state.modules[name] = value
        else:
            state.modules.pop(name, None)

    def get_attr(self, it: Interp, obj: Value, name: str, node: Node) -> Value:
        return torch_ops.attribute(self, it, obj, name, node)

    def call_object(self, it: Interp, obj: Value, args: list[Value], kwargs: dict[str, Value],
                    node: Node) -> Value:
        if not is_module(obj):
            raise not_followed(it.src, node, f"calling {describe(obj)}")
        if len(args) != 1 or kwargs or not isinstance(args[0], Tensor):
            if isinstance(obj, Instance) and obj.cls.lookup("forward") is not None:
                return self.forward(it, obj, args, kwargs, node)
            raise not_followed(it.src, node, f"calling {describe(obj)} on "
                               f"{', '.join(describe(a) for a in args) or 'nothing'}",
                               "a module is called on one tensor")
        return self.apply(it, obj, args[0], node)

    def apply(self, it: Interp, obj: Value, x: Tensor, node: Node) -> Value:
        """``obj(x)`` for a module ``obj``."""
        again = id(obj) in self.called
        self.called.add(id(obj))
        if isinstance(obj, Leaf):
            path = self.paths.get(id(obj))
            if obj.has_params:
                self.counted(it, obj, path, again, node)
            if obj.cls is spec.Dense and len(self.graph.shape(x)) == 3:
                raise not_followed(it.src, node, f"nn.{obj.module} on a volume", "PyTorch "
                                   "applies it to the last dimension (the width): flatten first "
                                   "(torch.flatten(x, 1))")
            name = path or self.local(obj.module.lower())
            kwargs = obj.kwargs
            if "size" in kwargs:  # nn.Upsample(size=...): a factor of this input's volume
                kwargs = torch_ops.upsample(it, None, kwargs["size"], kwargs["mode"], node,
                                            obj.module, self.graph.shape(x))
            return self.graph.add(obj.cls, name, obj.span, [x], obj.fields, own=path is not None,
                                  **kwargs)
        if isinstance(obj, Container):
            if obj.kind != "Sequential":
                raise not_followed(it.src, node, f"calling an nn.{obj.kind}", "iterate over "
                                   "it, or index it, and call its modules")
            if not obj.children and id(obj) in self.paths:  # a leaf to PyTorch: the identity
                return self.graph.add(spec.Activation, self.paths[id(obj)], it.src.span(node),
                                      [x], own=True, fn="identity")
            return self.chain(it, obj.children.values(), x, node)
        assert isinstance(obj, Instance)
        if obj.cls.lookup("forward") is not None:
            return self.forward(it, obj, [x], {}, node)
        if "torch.nn.Sequential" in obj.cls.framework_bases():
            return self.chain(it, obj.native.modules.values(), x, node)
        raise not_followed(it.src, node, f"calling `{obj.cls.name}`, which has no forward()")

    def counted(self, it: Interp, obj: Leaf, path: str | None, again: bool, node: Node
                ) -> None:
        """P024 where PyTorch's parameter count and the network's part: a module with
        parameters called a second time (its parameters are shared; the network counts them
        per call), or one the model does not register (kept in a plain list, or made in
        forward(): PyTorch does not count it)."""
        if path is not None and not again:
            return
        if path is None and again:
            return  # reported at its first call
        what = (f"`{path}` (nn.{obj.module}) is called again: PyTorch shares its parameters, "
                "the network counts them at each call") if path is not None else (
                f"this nn.{obj.module} is not registered on the model (kept in a plain list, "
                "or made in forward()): PyTorch does not count its parameters")
        hint = ("call a module with parameters once, or make one module per call"
                if path is not None else "keep modules in nn.ModuleList or nn.Sequential, or "
                "set them as attributes in __init__")
        self.problems.append(Diagnostic(it.src.span(node), "P024", what, hint))

    def chain(self, it: Interp, modules: Any, x: Value, node: Node) -> Value:
        for m in list(modules):
            x = self.call_object(it, m, [x], {}, node)
        return x

    def forward(self, it: Interp, obj: Instance, args: list[Value], kwargs: dict[str, Value],
                node: Node) -> Value:
        self.called.add(id(obj))
        found = obj.cls.lookup("forward")
        assert found is not None
        self.prefix.append(self.paths.get(id(obj), ""))
        try:
            return it.run(found[0], [obj, *args], kwargs, node, found[1], obj)
        finally:
            self.prefix.pop()

    def local(self, op: str) -> str:
        """The name of a layer a function of forward() adds: after the module whose forward()
        it is (``layer1.0.add``)."""
        where = self.prefix[-1] if self.prefix else ""
        return f"{where}.{op}" if where else op

    def operator(self, it: Interp, op: str, left: Value, right: Value, node: Node) -> Value:
        return torch_ops.operator(self, it, op, left, right, node)

    def subscript(self, it: Interp, obj: Value, index: Value, node: Node) -> Value:
        if isinstance(obj, Tensor):
            return torch_ops.subscript(self, it, obj, index, node)
        children = obj.children if isinstance(obj, Container) else (
            obj.native.modules if isinstance(obj, Instance) and isinstance(obj.native, State)
            else None)
        if children is None:
            raise not_followed(it.src, node, f"indexing {describe(obj)}")
        kind = obj.kind if isinstance(obj, Container) else "Sequential"
        if kind == "ModuleDict" and isinstance(index, str) and index in children:
            return children[index]
        values = list(children.values())
        if type(index) is int and -len(values) <= index < len(values):
            return values[index]
        if isinstance(index, slice):
            keys = list(children)[index]
            return Container(kind, {k: children[k] for k in keys})
        raise not_followed(it.src, node, f"`[{index!r}]` of {describe(obj)}")

    def items(self, it: Interp, obj: Value, node: Node) -> list[Value]:
        if isinstance(obj, Container):
            return list(obj.children) if obj.kind == "ModuleDict" else list(
                obj.children.values())
        if isinstance(obj, Instance) and isinstance(obj.native, State):
            return list(obj.native.modules.values())
        raise not_followed(it.src, node, f"iterating over {describe(obj)}")

    # --- after the model is built ---------------------------------------------------------

    def name_modules(self, root: Value) -> None:
        """Each module's path as ``named_modules()`` gives it (the first, for a module
        registered twice)."""
        for path, obj in named_modules(root):
            self.paths[id(obj)] = path
            self.modules_in_order.append(obj)
            self.graph.reserved.add(path)

    def unused(self) -> list[tuple[str, Leaf]]:
        """Modules with parameters or buffers that forward() never called."""
        return [(self.paths[id(m)], m) for m in self.modules_in_order
                if isinstance(m, Leaf) and m.has_params and id(m) not in self.called]


def named_modules(root: Value) -> list[tuple[str, Value]]:
    """``root.named_modules()``: every module under it once, depth first, with its path."""
    out: list[tuple[str, Value]] = []
    seen: set[int] = set()
    todo: list[tuple[str, Value]] = [("", root)]
    while todo:
        path, obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        out.append((path, obj))
        kids = obj.children if isinstance(obj, Container) else (
            obj.native.modules if isinstance(obj, Instance) and isinstance(obj.native, State)
            else {})
        todo.extend(reversed([(bounded(f"{path}.{k}" if path else k), v)
                              for k, v in kids.items()]))
    return out
