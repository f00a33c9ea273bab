"""Rules for the layers that make a network a graph: the merges (add, concat, multiply), which
read several layers, and the reshaping steps branching networks use (crop, slice, shuffle,
upsample), which read one. Pure functions, like :mod:`cnncalc.layers`; none of them has params
or MACs (an addition is not a multiply-accumulate, nor is an interpolation).

Receptive field through a merge: the merged neuron sees what each input's neuron sees, so its
field is the largest of its inputs' (per axis), with that input's jump; a multiply's jump is
the volume's, not that of a gate broadcast over it (squeeze-and-excitation's, pooled to 1x1,
whose jump is the whole input: taken on, it would multiply every later field). A crop, a slice and a
shuffle move no window; an upsampling by F divides the jump by F, and bilinear interpolation
reads two neighbours, one more input step of field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cnncalc.diagnostics import Diagnostic
from cnncalc.layers import Computed, Field, Invalid, flat_input
from cnncalc.spec import (
    Crop,
    Layer,
    Merge,
    Pair,
    Rounding,
    Shape,
    Shuffle,
    Slice,
    Upsample,
    elements,
    flat_form,
    fmt_shape,
)

Source = tuple[str, Shape, Field]
"""One input of a merge: the name of the layer it comes from, its volume and its field."""


def _volumes(sources: Sequence[Source]) -> str:
    """``conv3 gives 56x56x64, downsample gives 28x28x128``."""
    return ", ".join(f"{name} gives {fmt_shape(shape)}" for name, shape, _ in sources)


def _largest_field(fields: Sequence[Field]) -> Field:
    """Per axis, the largest receptive field of the inputs, with that input's jump."""
    axes = []
    for axis in (0, 1):
        best = max(fields, key=lambda f: (f.rf[axis], f.jump[axis]))
        axes.append((best.rf[axis], best.jump[axis]))
    first = fields[0]
    return Field((axes[0][0], axes[1][0]), (axes[0][1], axes[1][1]), first.extent)


def merge(layer: Merge, sources: Sequence[Source]) -> Computed:
    """The output of an add, concat or multiply of ``sources``; raises Invalid when their
    volumes cannot be combined, naming which input gives which volume."""
    shapes = [shape for _, shape, _ in sources]
    fld = _largest_field([f for _, _, f in sources])
    if layer.op == "concat":
        return Computed(_concat(layer, sources, shapes), fld)
    if layer.op == "multiply":
        full = max(shapes, key=lambda s: (len(s), elements(s)))  # a gate may come first
        for shape in shapes:
            if shape != full and not (len(full) == 3 and flat_form(shape) == (full[2],)) \
                    and flat_form(shape) != flat_form(full):
                raise _mismatch(layer, "multiply", sources, _gate_hint(full))
        # a gate is broadcast over the volume: neighbouring outputs are the volume's apart
        spread = _largest_field([f for _, shape, f in sources if shape == full])
        return Computed(full, Field(fld.rf, spread.jump, fld.extent))
    first = shapes[0]
    if any(flat_form(s) != flat_form(first) for s in shapes[1:]):
        raise _mismatch(layer, "add", sources, _add_hint(sources))
    return Computed(first if all(s == first for s in shapes) else flat_form(first), fld)


def _mismatch(layer: Merge, verb: str, sources: Sequence[Source], hint: str) -> Invalid:
    volumes = " and ".join(fmt_shape(shape) for _, shape, _ in sources)
    return Invalid(Diagnostic(
        layer.span_of("from"), "G109",
        f"{layer.name}: cannot {verb} {volumes}: {_volumes(sources)}", hint))


def _add_hint(sources: Sequence[Source]) -> str:
    """For a residual whose shortcut does not match: the projection that would make it."""
    shapes = [shape for _, shape, _ in sources]
    big = max(shapes, key=lambda s: s[0] if len(s) == 3 else 0)
    small = min(shapes, key=lambda s: s[0] if len(s) == 3 else 0)
    if len(big) == 3 and len(small) == 3 and big[0] % small[0] == 0 \
            and big[0] // small[0] == big[1] // small[1] and big[1] % small[1] == 0:
        stride = big[0] // small[0]
        name = next(name for name, shape, _ in sources if shape == big)
        at = f" at stride {stride}" if stride > 1 else ""
        return (f"volumes added must be equal: give {name} a 1x1 convolution{at} with "
                f"{small[2]} filters (a projection shortcut), or change the other branch")
    return "volumes added must be equal in height, width and channels"


def _gate_hint(full: Shape) -> str:
    depth = full[2] if len(full) == 3 else full[0]
    return (f"multiply volumes that are equal, or an HxWxC volume by a 1x1x{depth} gate "
            "(squeeze-and-excitation)")


def _concat(layer: Merge, sources: Sequence[Source], shapes: list[Shape]) -> Shape:
    """Channels stacked (or vectors end to end); H and W must agree."""
    if all(len(s) == 1 for s in shapes):
        return (sum(s[0] for s in shapes),)
    if any(len(s) != 3 for s in shapes):
        raise Invalid(Diagnostic(
            layer.span_of("from"), "G110",
            f"{layer.name}: cannot concatenate a flat vector and a volume: "
            f"{_volumes(sources)}", "flatten the volumes first, or concatenate volumes"))
    h, w = min(s[0] for s in shapes), min(s[1] for s in shapes)
    if any((s[0], s[1]) != (h, w) for s in shapes):
        larger = [name for name, s, _ in sources if (s[0], s[1]) != (h, w)]
        raise Invalid(Diagnostic(
            layer.span_of("from"), "G110",
            f"{layer.name}: cannot concatenate volumes of different height and width: "
            f"{_volumes(sources)}",
            f"crop {', '.join(larger)} to {h}x{w} first (`CROP from NAME: {h}x{w}`, as U-Net "
            "crops its skip connections), or pad the smaller ones"))
    return (h, w, sum(s[2] for s in shapes))


def _crop(layer: Crop, shape: Shape, fld: Field, rounding: Rounding,
          like: Shape | None = None) -> Computed:
    if len(shape) != 3:
        raise flat_input(layer, shape)
    size: Pair | None = layer.size if layer.size is not None else (
        None if like is None or len(like) != 3 else (like[0], like[1]))
    if size is None:
        raise Invalid(Diagnostic(layer.span_of("like", "size"), "G111",
                                 f"{layer.name}: crops to the height and width of a flat vector",
                                 "crop to HxW, or to a layer that gives a volume"))
    if size[0] > shape[0] or size[1] > shape[1] or min(size) < 1:
        raise Invalid(Diagnostic(
            layer.span_of("like", "size"), "G111",
            f"{layer.name}: cannot crop {fmt_shape(shape)} to {size[0]}x{size[1]}",
            "a crop keeps at most the input's height and width, and at least 1x1"))
    return Computed((size[0], size[1], shape[2]), fld)


def _slice(layer: Slice, shape: Shape, fld: Field, rounding: Rounding) -> Computed:
    depth = shape[-1]
    if layer.whole is not None and depth != layer.whole:
        raise Invalid(Diagnostic(
            layer.span_of("start", "stop"), "C003",
            f"{layer.name}: channels {layer.start} to {layer.stop} are a part of "
            f"{layer.whole}, but the input has {depth}",
            f"the layers that read the parts declare {layer.whole} channels in all: give the "
            f"layer before {layer.whole} channels, or change those that read the parts"))
    if not 0 <= layer.start < layer.stop <= depth:
        what = "channels" if len(shape) == 3 else "elements"
        raise Invalid(Diagnostic(
            layer.span_of("start", "stop"), "C003",
            f"{layer.name}: {what} {layer.start} to {layer.stop} are not within the "
            f"{depth} of {fmt_shape(shape)}",
            f"slice from 0 up to {depth}, the start before the stop"))
    return Computed((*shape[:-1], layer.stop - layer.start), fld)


def _shuffle(layer: Shuffle, shape: Shape, fld: Field, rounding: Rounding) -> Computed:
    if len(shape) != 3:
        raise flat_input(layer, shape)
    if layer.groups < 1 or shape[2] % layer.groups:
        raise Invalid(Diagnostic(
            layer.span_of("groups"), "C003",
            f"{layer.name}: {layer.groups} groups do not divide {shape[2]} channels",
            "a channel shuffle splits the channels into equal groups"))
    return Computed(shape, fld)


def _upsample(layer: Upsample, shape: Shape, fld: Field, rounding: Rounding) -> Computed:
    if len(shape) != 3:
        raise flat_input(layer, shape)
    fh, fw = layer.factor
    taps = 2 if layer.mode == "bilinear" else 1
    grown = fld.upsample((taps * fh - fh + 1, taps * fw - fw + 1), (fh, fw))
    return Computed((shape[0] * fh, shape[1] * fw, shape[2]),
                    Field(grown.rf, grown.jump, fld.extent))


RESHAPE_RULES: dict[type[Layer], Callable[..., Computed]] = {
    Crop: _crop, Slice: _slice, Shuffle: _shuffle, Upsample: _upsample}
"""The one-input rules of this module, by layer class, as :data:`cnncalc.layers.RULES`."""

