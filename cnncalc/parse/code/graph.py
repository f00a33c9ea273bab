"""The network a run of model code builds: layers in the order they are made, each reading the
tensors it was called on, and the volume of every tensor as soon as it is made.

A :class:`Tensor` is the output of one layer (index 0: the network's input). Volumes are
computed as the layers are added, by the analysis's own walk (the same rules, rounding as
the framework does), so that code can ask a tensor for its size (``x.size(1)``, U-Net's
padding) and get what the analysis will say; a tensor whose volume cannot be computed (a
layer with an error) stops the run, and the analysis reports why.
"""

from __future__ import annotations

from typing import Any

from cnncalc.analyze import _Walk
from cnncalc.diagnostics import Diagnostic
from cnncalc.parse.bounds import TooManyLayers
from cnncalc.parse.bounds import bounded_name as bounded
from cnncalc.parse.code.values import Opaque, Stop
from cnncalc.spec import INPUT_NAME, Layer, Ref, Rounding, Shape, Span, Spec


class Tensor(Opaque):
    """The output of layer ``index`` of a :class:`Graph` (0: the network's input)."""

    what = "a tensor"
    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class Graph:
    """Layers made so far, unique names, and the volumes they compute."""

    def __init__(self, path: str, shape: Shape | None, rounding: Rounding,
                 max_layers: int) -> None:
        self.layers: list[Layer] = []
        self.names: dict[str, int] = {INPUT_NAME: 0}
        self.reserved: set[str] = set()  # names kept for layers to come (modules' paths)
        self.counts: dict[str, int] = {}
        self.max_layers = max_layers
        self.known = shape is not None
        spec = Spec(path, shape, None, self.layers, rounding=rounding)  # type: ignore[arg-type]
        self._diags: list[Diagnostic] = []
        self._walk = _Walk(spec, shape, rounding, self._diags)
        self.input = Tensor(0)

    def unique(self, name: str, own: bool = False) -> str:
        """``name``, or ``name_1``, ``name_2``... when it is taken (a module called twice),
        or ``reserved`` for another layer (a module's path, unless ``own``). A counter per
        name keeps this linear however often a name comes back."""
        def free(n: str) -> bool:
            return n not in self.names and (own or n not in self.reserved)

        if free(name):
            return name
        k = self.counts.get(name, 1)
        while not free(f"{name}_{k}"):
            k += 1
        self.counts[name] = k + 1
        return f"{name}_{k}"

    def name_of(self, t: Tensor) -> str:
        return INPUT_NAME if t.index == 0 else self.layers[t.index - 1].name

    def ref(self, t: Tensor, span: Span) -> Ref:
        return Ref(self.name_of(t), span)

    def add(self, cls: type[Layer], name: str, span: Span, inputs: list[Tensor],
            fields: tuple[tuple[str, Span], ...] = (), always_refs: bool = False,
            own: bool = False, **kwargs: Any) -> Tensor:
        """A new layer of class ``cls`` reading ``inputs``; its output. ``own``: the name is
        one ``reserved`` for it."""
        name = self.unique(bounded(name), own)
        index = len(self.layers) + 1
        if index > self.max_layers:
            raise TooManyLayers(span, name)
        refs: tuple[Ref, ...] = ()
        if always_refs or len(inputs) != 1 or inputs[0].index != index - 1:
            refs = tuple(self.ref(t, span) for t in inputs)
        layer = cls(name=name, span=span, fields=fields, inputs=refs, **kwargs)
        self.layers.append(layer)
        self.names[name] = index
        self._walk.step(index, layer)
        return Tensor(index)

    def shape(self, t: Tensor) -> Shape:
        """The volume of ``t``; stops the run when it is not known (the analysis says why)."""
        out = self._walk.outputs[t.index]
        if out is None:
            raise Stop(None)
        return out
