"""Keras's side of the interpreter: the functional API.

``keras.Input(shape=...)`` starts a network (a :class:`~.graph.Graph` of its own) and gives its
input tensor; ``layers.Conv2D(...)`` builds a :class:`KLayer`, named as Keras names it at
construction (``conv2d``, ``conv2d_1``... per class, unless ``name=``); calling it on a tensor
adds its rows to that tensor's graph. ``layers.add([a, b])``, ``concatenate`` and ``multiply``
build an ``Add``/``Concatenate``/``Multiply`` layer and call it on the list, as Keras does;
``keras.Model(inputs, outputs)`` makes a :class:`KModel`. The layers' arguments are read by the
same readers as Sequential code (:mod:`cnncalc.parse.keras_layers`): the interpreter works out
each argument's value, and the reader gets a call of those values, placed where the arguments
are written (:mod:`.keras_args`), so that its messages and the layers' spans point at the text.

A layer with weights called a second time in one network shares them between its calls (one
set of weights, as Keras counts them): that is refused, since each call would be a row counting
its own; a layer without weights (``ReLU()``, a pooling) may be called again, and a layer may
be called once in each of two networks (an encoder and the autoencoder around it).

Keras's other namespaces that model code passes to layers or ``compile()`` (regularisers,
initialisers, optimisers, losses...) give opaque values: harmless as the arguments the readers
do not read, refused anywhere else.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from cnncalc import spec
from cnncalc.parse.bounds import MAX_LAYERS
from cnncalc.parse.code.graph import Graph, Tensor
from cnncalc.parse.code.keras_args import Values, call_node
from cnncalc.parse.code.values import (
    Instance,
    Native,
    Node,
    Opaque,
    Stop,
    Value,
    describe,
    not_followed,
)
from cnncalc.parse.keras import _KINDS
from cnncalc.parse.keras_layers import Args
from cnncalc.parse.keras_merges import MERGE_FUNCTIONS
from cnncalc.parse.pycode import Refusal, ints
from cnncalc.spec import Layer, Shape, Span

if TYPE_CHECKING:
    from cnncalc.parse.code.interp import Interp

# Keras namespaces whose values are passed to layers and compile() and change no figure
_OPAQUE = frozenset(("regularizers", "initializers", "constraints", "activations",
                     "optimizers", "losses", "metrics", "callbacks", "schedules"))
# a model's methods that change none of its figures: called, they do nothing
_MODEL_METHODS = frozenset(("compile", "fit", "summary", "evaluate", "predict", "save",
                            "save_weights", "load_weights", "build", "count_params"))
_LAYER_WEIGHTS = (spec.Conv, spec.Dense, spec.BatchNorm)


class KTensor(Opaque):
    """A Keras tensor: the output of row ``t`` of ``graph``."""

    what = "a Keras tensor"

    def __init__(self, graph: Graph, t: Tensor) -> None:
        self.graph, self.t = graph, t


class KLayer(Opaque):
    """A Keras layer object: its class, name, and its arguments as the reader has them."""

    def __init__(self, cls: str, name: str, args: Args, span: Span) -> None:
        self.cls, self.name, self.args, self.span = cls, name, args, span
        self.networks: set[int] = set()  # the graphs it was called in (by id)
        self.what = f"the Keras layer `{name}` ({cls})"


class KSequential(Opaque):
    """``keras.Sequential([...])`` used as a layer of a functional model (a data augmentation
    block): its layers run in turn; their rows are named ``sequential/random_flip``..., so that
    they add up to the one layer Keras's ``model.layers`` shows."""

    def __init__(self, name: str, layers: list[KLayer]) -> None:
        self.name, self.layers = name, layers
        self.what = f"the Keras Sequential `{name}`"


class KModel(Opaque):
    """``keras.Model(inputs, outputs)``: its one input and one output tensor."""

    what = "a Keras model"

    def __init__(self, inputs: KTensor, output: KTensor, span: Span, order: int) -> None:
        self.inputs, self.output, self.span, self.order = inputs, output, span, order


class KOther(Opaque):
    """A value of one of Keras's namespaces that changes no figure (``regularizers.l2(1e-4)``,
    ``optimizers.Adam()``)."""

    def __init__(self, name: str) -> None:
        self.what = f"`{name}`"


def _short(name: str) -> tuple[str, str] | None:
    """``keras.layers.Conv2D`` -> (``layers``, ``Conv2D``); None for a name not Keras's."""
    parts = name.split(".")
    at = next((i for i, p in enumerate(parts) if p in ("keras", "tf_keras")), None)
    if at is None or at == len(parts) - 1:
        return None
    return ".".join(parts[at + 1:-1]), parts[-1]


class Keras:
    """The :class:`~.values.Framework` for the Keras functional API."""

    def __init__(self, text: str, path: str, input_volume: Shape | None,
                 fallback: Shape | None, max_layers: int = MAX_LAYERS) -> None:
        self.values = Values(text, path)
        self.input_volume, self.fallback = input_volume, fallback  # --input; the comment's
        self.max_layers = max_layers
        self.graphs: list[Graph] = []
        self.models: list[KModel] = []
        self.counts: dict[str, int] = {}
        self.made = 0  # Keras objects made (layers, tensors, models): model code was run
        # each network: the volume its keras.Input gives (None: not in full), and where
        self.given: dict[int, tuple[Shape | None, Span]] = {}

    # --- the protocol ---------------------------------------------------------------------

    def is_base(self, name: str) -> bool:
        return False  # subclassed layers and models are not followed

    def is_instance(self, obj: Value, name: str) -> bool | None:
        return None

    def call_name(self, it: Interp, name: str, args: list[Value], kwargs: dict[str, Value],
                  node: Node) -> Value:
        found = _short(name)
        if found is not None:
            where, short = found
            if short == "Input" and where in ("", "layers"):
                return self.input(it, args, kwargs, node)
            if short in ("Model", "Functional") and where in ("", "models"):
                return self.model(it, args, kwargs, node)
            if short == "Sequential" and where in ("", "models"):
                return self.sequential(it, args, kwargs, node)
            if short in _KINDS and where in ("", "layers") and short not in (
                    "Input", "InputLayer"):
                return self.layer(it, short, args, kwargs, node)
            if short in MERGE_FUNCTIONS and where in ("", "layers"):
                return self.merge_function(it, short, args, kwargs, node)
            if short == "int_shape" and where == "backend" and len(args) == 1:
                return self.get_attr(it, args[0], "shape", node)
            if where.split(".")[0] in _OPAQUE:
                return KOther(name)
        raise not_followed(it.src, node, f"a call of `{name}`", "cnncalc follows keras.Input, "
                           "the Keras layers it knows, layers.add/concatenate/multiply and "
                           "keras.Model(inputs, outputs)")

    def new_instance(self, it: Interp, inst: Instance) -> None:
        """A class of the file deriving from a Keras class is refused when its ``__init__``
        reaches Keras's (:meth:`base_init`), or when it is called."""

    def base_init(self, it: Interp, inst: Instance, base: str, args: list[Value],
                  kwargs: dict[str, Value], node: Node) -> None:
        raise not_followed(it.src, node, f"a class deriving from `{base}`", "cnncalc reads "
                           "Keras models written with the functional API or Sequential")

    def set_attr(self, it: Interp, inst: Instance, name: str, value: Value) -> None:
        inst.attrs[name] = value

    def get_attr(self, it: Interp, obj: Value, name: str, node: Node) -> Value:
        if isinstance(obj, KTensor) and name == "shape":
            return (None, *obj.graph.shape(obj.t))
        if isinstance(obj, KLayer | KSequential) and name == "name":
            return obj.name
        if isinstance(obj, KSequential) and name == "add":
            seq = obj
            return Native("add", lambda it, a, kw, n: seq.layers.extend(
                self.members(it, [a[0]] if len(a) == 1 and not kw else [None], n)))
        if isinstance(obj, KModel):
            if name in ("input", "inputs"):
                return obj.inputs if name == "input" else [obj.inputs]
            if name in ("output", "outputs"):
                return obj.output if name == "output" else [obj.output]
            if name in _MODEL_METHODS:
                return Native(name, lambda it, a, kw, n: None)
        raise not_followed(it.src, node, f"`.{name}` of {describe(obj)}")

    def call_object(self, it: Interp, obj: Value, args: list[Value], kwargs: dict[str, Value],
                    node: Node) -> Value:
        if not isinstance(obj, KLayer | KSequential):
            raise not_followed(it.src, node, f"calling {describe(obj)}", "cnncalc follows "
                               "Keras layers called on tensors" if isinstance(obj, KModel) else "")
        if len(args) != 1 or set(kwargs) - {"training"}:
            raise not_followed(it.src, node, f"calling {obj.what} on "
                               f"{', '.join(describe(a) for a in args) or 'nothing'}",
                               "a layer is called on one tensor, or a merge on a list of them")
        if isinstance(obj, KSequential):
            x = args[0]
            for layer in obj.layers:
                x = self.apply(it, layer, x, node, f"{obj.name}/")
            return x
        return self.apply(it, obj, args[0], node)

    def operator(self, it: Interp, op: str, left: Value, right: Value, node: Node) -> Value:
        """``a + b`` and ``a * b`` of two tensors: Keras's ``add`` and ``multiply`` operations,
        named from the same counters as the ``Add`` and ``Multiply`` layers (Keras 3 lists
        them in the summary as ``add (Add)``)."""
        kind = {"+": "add", "*": "multiply"}.get(op)
        if kind is None or not isinstance(left, KTensor) or not isinstance(right, KTensor):
            raise not_followed(it.src, node, f"`{op}` of {describe(left)} and "
                               f"{describe(right)}", "cnncalc follows `+` and `*` of two "
                               "tensors, as layers.add and layers.multiply")
        if left.graph is not right.graph:
            raise not_followed(it.src, node, f"`{op}` of tensors of two different keras.Input "
                               "calls", "cnncalc reads models of one input")
        g = left.graph
        self.made += 1
        out = g.add(spec.Merge, self.auto_name(kind), it.src.span(node), [left.t, right.t],
                    always_refs=True, op=kind)
        return KTensor(g, out)

    def subscript(self, it: Interp, obj: Value, index: Value, node: Node) -> Value:
        raise not_followed(it.src, node, f"indexing {describe(obj)}")

    def items(self, it: Interp, obj: Value, node: Node) -> list[Value]:
        raise not_followed(it.src, node, f"iterating over {describe(obj)}")

    # --- building -------------------------------------------------------------------------

    def auto_name(self, base: str) -> str:
        """Keras's name for the next layer of a kind it names itself: conv2d, conv2d_1..."""
        self.counts[base] = n = self.counts.get(base, -1) + 1
        return f"{base}_{n}" if n else base

    def input(self, it: Interp, args: list[Value], kwargs: dict[str, Value], node: Node
              ) -> KTensor:
        """``keras.Input(shape=...)``: a network of its own and its input tensor."""
        allowed = {"shape", "batch_size", "dtype", "sparse", "batch_shape", "name", "ragged",
                   "optional"}
        if len(args) > 1 or set(kwargs) - allowed or "tensor" in kwargs:
            raise not_followed(it.src, node, "this `keras.Input` call", "write "
                               "keras.Input(shape=(H, W, C))")
        shape_v = args[0] if args else kwargs.get("shape")
        if shape_v is None and isinstance(kwargs.get("batch_shape"), list | tuple):
            shape_v = tuple(kwargs["batch_shape"])[1:]
        sv = tuple(shape_v) if isinstance(shape_v, list | tuple) else shape_v
        got = (ints(sv, 1) or ints(sv, 3)) if isinstance(sv, tuple) else None
        span = it.src.span(node)
        volume = self.input_volume or got or self.fallback
        if volume is None or (got is None and not _fits(sv, volume)):
            raise Stop(_no_shape(span, shape_v, volume))
        self.made += 1
        g = Graph(it.src.path, volume, "floor", self.max_layers)
        self.graphs.append(g)
        self.given[id(g)] = (got, span)
        return KTensor(g, g.input)

    def layer(self, it: Interp, cls: str, args: list[Value], kwargs: dict[str, Value],
              node: Node) -> KLayer:
        canon, _, _, base = _KINDS[cls]
        name_v = kwargs.pop("name", None)
        if name_v is not None and not isinstance(name_v, str):
            raise not_followed(it.src, node, f"a layer name that is {describe(name_v)}")
        span = it.src.span(node)
        try:
            a = Args(self.values, call_node(node, args, kwargs, self.values), canon, span)
        except Refusal as exc:
            raise Stop(exc.diag) from None
        self.made += 1
        name = name_v or self.auto_name(base)
        a.name = name
        return KLayer(canon, name, a, span)

    def merge_function(self, it: Interp, fn: str, args: list[Value], kwargs: dict[str, Value],
                       node: Node) -> Value:
        """``layers.add(inputs, **kwargs)``: ``Add(**kwargs)(inputs)``."""
        inputs = args[0] if args else kwargs.pop("inputs", None)
        layer = self.layer(it, MERGE_FUNCTIONS[fn], list(args[1:]), kwargs, node)
        return self.apply(it, layer, inputs, node)

    def model(self, it: Interp, args: list[Value], kwargs: dict[str, Value], node: Node
              ) -> KModel:
        params = ["inputs", "outputs", "name"]
        if len(args) > 3 or set(kwargs) - {*params, "trainable"} \
                or any(p in kwargs for p in params[:len(args)]):
            raise not_followed(it.src, node, "this `keras.Model` call", "write "
                               "keras.Model(inputs, outputs)")
        given = dict(zip(params, args, strict=False)) | kwargs
        ins, outs = (_one(it, given.get(k), node, k) for k in ("inputs", "outputs"))
        if ins.t.index != 0:
            raise not_followed(it.src, node, "a model whose input is not a keras.Input")
        if outs.t.index == 0:
            raise not_followed(it.src, node, "a model whose output is its input")
        if ins.graph is not outs.graph:
            raise not_followed(it.src, node, "a model whose output does not come from its "
                               "input", "the output must be computed from the keras.Input")
        self.made += 1
        m = KModel(ins, outs, it.src.span(node), len(self.models))
        self.models.append(m)
        return m

    def sequential(self, it: Interp, args: list[Value], kwargs: dict[str, Value], node: Node
                   ) -> KSequential:
        if len(args) > 1 or set(kwargs) - {"layers", "name", "trainable"}:
            raise not_followed(it.src, node, "this `keras.Sequential` call")
        items = args[0] if args else kwargs.get("layers")
        name = kwargs.get("name")
        if name is not None and not isinstance(name, str):
            raise not_followed(it.src, node, f"a model name that is {describe(name)}")
        members = self.members(it, [] if items is None else _listed(it, items, node, None),
                               node)
        self.made += 1
        return KSequential(name or self.auto_name("sequential"), members)

    def members(self, it: Interp, items: list[Value], node: Node) -> list[KLayer]:
        for v in items:
            if not isinstance(v, KLayer) or v.cls in MERGE_FUNCTIONS.values():
                raise not_followed(it.src, node, f"a Sequential of {describe(v)}", "cnncalc "
                                   "follows a Sequential of layers inside a functional model")
        return items

    def apply(self, it: Interp, layer: KLayer, x: Value, node: Node, prefix: str = ""
              ) -> KTensor:
        """``layer(x)``: its rows added to ``x``'s graph."""
        merge = layer.cls in MERGE_FUNCTIONS.values()
        if merge:
            xs = [_tensor(it, v, node, layer) for v in _listed(it, x, node, layer)]
            if len(xs) < 2:
                raise not_followed(it.src, node, f"{layer.what} on fewer than two tensors")
            if any(t.graph is not xs[0].graph for t in xs):
                raise not_followed(it.src, node, f"{layer.what} on tensors of two different "
                                   "keras.Input calls", "cnncalc reads models of one input")
        else:
            xs = [_tensor(it, x, node, layer)]
        g = xs[0].graph
        shape = g.shape(xs[0].t)
        self.values.rank = 1 if len(shape) == 1 else 3
        try:
            made = _KINDS[layer.cls][1](layer.args)
        except Refusal as exc:
            raise Stop(exc.diag) from None
        again = id(g) in layer.networks
        if again and any(isinstance(m, _LAYER_WEIGHTS) for m in made):
            raise not_followed(it.src, node, f"calling {layer.what} a second time", "the layer's "
                               "weights are shared between its calls, which cnncalc does not "
                               "count; build a layer for each call")
        if not again and any(g.unique(prefix + m.name) != prefix + m.name for m in made):
            raise not_followed(it.src, node, f"a second layer named `{layer.name}`", "Keras "
                               "refuses a model whose layers' names are not all different")
        layer.networks.add(id(g))
        self.made += 1
        ts = [t.t for t in xs]
        for m in made:
            out = g.add(type(m), prefix + m.name, m.span, ts, m.fields, always_refs=merge,
                        **_options(m))
            ts = [out]
        return KTensor(g, ts[0])


def _options(m: Layer) -> dict[str, Any]:
    skip = {"name", "span", "fields", "inputs"}
    return {f.name: getattr(m, f.name) for f in dataclasses.fields(m)
            if f.name not in skip and f.init}


def _listed(it: Interp, v: Value, node: Node, layer: KLayer | None) -> list[Value]:
    if not isinstance(v, list | tuple):
        if layer is None:
            raise not_followed(it.src, node, f"a Sequential of {describe(v)}", "write "
                               "keras.Sequential([layer, layer, ...])")
        raise not_followed(it.src, node, f"{layer.what} on {describe(v)}", "a merge layer is "
                           "called on a list of tensors")
    return list(v)


def _tensor(it: Interp, v: Value, node: Node, layer: KLayer) -> KTensor:
    if not isinstance(v, KTensor):
        raise not_followed(it.src, node, f"calling {layer.what} on {describe(v)}",
                           "a layer is called on a tensor (keras.Input, or a layer's output)")
    return v


def _one(it: Interp, v: Value, node: Node, what: str) -> KTensor:
    """The one tensor of a model's ``inputs`` or ``outputs``."""
    if isinstance(v, list | tuple) and len(v) == 1:
        v = v[0]
    if isinstance(v, dict) and len(v) == 1:
        v = next(iter(v.values()))
    if not isinstance(v, KTensor):
        raise not_followed(it.src, node, f"a model whose {what} are {describe(v)}",
                           "cnncalc reads models of one input and one output tensor")
    return v


def _fits(shape: Value, volume: Shape) -> bool:
    """Whether ``volume`` (``--input``, the comment's) has the sizes a partial shape gives:
    ``(None, None, 3)`` takes 32x32x3, not 32x32x1."""
    return isinstance(shape, tuple) and len(shape) == len(volume) and all(
        s is None or s == v for s, v in zip(shape, volume, strict=True))


def _no_shape(span: Span, shape: Value, volume: Shape | None) -> Any:
    from cnncalc.diagnostics import Diagnostic

    if volume is not None:
        given = "x".join(map(str, volume))
        return Diagnostic(span, "P011", f"the input volume {given} does not fit this "
                          f"keras.Input's shape {shape!r}", "give --input (or the `# cnncalc: "
                          "input` comment) the sizes the code gives")
    return Diagnostic(span, "P011", f"keras.Input gives no fixed HxWxC or N shape ({shape!r})",
                      "give whole sizes, e.g. shape=(224, 224, 3), or pass --input 224x224x3")
