"""The Spec: what every notation's front end produces and the analysis consumes.

A Spec is an input volume plus an ordered tuple of frozen layer dataclasses. Each layer carries
the source span of its text, the span of each option it was given (so a message about the stride
can point at the stride), and the output shape its author declared in brackets, if any.

Shapes are plain tuples of ints: ``(H, W, C)`` for a volume, ``(N,)`` for a vector. A declared
``[1x1x4096]`` and a computed ``[4096]`` describe the same thing (see ``same_shape``).
"""

from __future__ import annotations

import re
from dataclasses import field
from fractions import Fraction
from typing import TYPE_CHECKING, Literal, NamedTuple

from cnncalc.records import record, record_kw

if TYPE_CHECKING:
    from cnncalc.diagnostics import Diagnostic

Shape = tuple[int, ...]
Pair = tuple[int, int]


class Span(NamedTuple):
    """A 1-based line and column range in one source file; ``end_col`` is exclusive. A named
    tuple rather than a dataclass: every token and option gets one, and a tuple is made ~3x
    faster; spans order by path, line, column as tuples do."""

    path: str
    line: int
    col: int
    end_col: int


class Ref(NamedTuple):
    """A reference to an earlier layer by its name (``INPUT``: the network's input), with the
    span of the text that names it, so that a name not defined earlier is reported there."""

    name: str
    span: Span


INPUT_NAME = "INPUT"
"""The name a reference gives the network's input (in a block: the block's input)."""


def source_lines(text: str) -> list[str]:
    """The text's lines as every front end numbers them: broken at ``\n``, ``\r\n`` and
    ``\r`` only (``str.splitlines`` also breaks at form feeds, ``\x1c``-``\x1e``, ``\x85``,
    U+2028 and U+2029, which would shift every later line number); no empty last line after
    a final line break, as with splitlines."""
    lines = text.split("\n") if "\r" not in text else _LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def fmt_shape(shape: Shape) -> str:
    """``(55, 55, 96)`` -> ``55x55x96``; ``(4096,)`` -> ``4096``."""
    return "x".join(map(str, shape))


def elements(shape: Shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def flat_form(shape: Shape) -> Shape:
    """``1x1xN`` as the vector ``N``; any other shape as it is."""
    return (shape[2],) if len(shape) == 3 and shape[0] == 1 and shape[1] == 1 else shape


def same_shape(a: Shape, b: Shape) -> bool:
    """True when two shapes name the same volume: ``[1x1xN]`` equals ``[N]``."""
    return flat_form(a) == flat_form(b)


def fmt_pair(p: Pair) -> str:
    """Filters are written in full even when square: ``(3, 3)`` -> ``3x3``."""
    return f"{p[0]}x{p[1]}"


def fmt_scalar_pair(p: Pair) -> str:
    """Strides and pads: ``(2, 2)`` -> ``2``, ``(2, 1)`` -> ``2x1``."""
    return str(p[0]) if p[0] == p[1] else f"{p[0]}x{p[1]}"


@record
class Padding:
    """Zero padding per axis as (before, after) counts; or ``fit``: solve for the smallest
    symmetric padding that makes the layer fit exactly (the lecture's ``P = ?``); or ``same``:
    output ``ceil(W/S)``, padding ``max((ceil(W/S) - 1)*S + span - W, 0)`` split with the extra
    cell after (Keras/TensorFlow; PyTorch's ``padding='same'`` is the stride-1 case of it)."""

    mode: Literal["explicit", "fit", "same"] = "explicit"
    h: Pair = (0, 0)
    w: Pair = (0, 0)

    @staticmethod
    def symmetric(ph: int, pw: int) -> Padding:
        return Padding("explicit", (ph, ph), (pw, pw))

    @staticmethod
    def fit() -> Padding:
        return Padding("fit")

    @staticmethod
    def same() -> Padding:
        return Padding("same")

    def describe(self) -> str:
        if self.mode != "explicit":
            return "?" if self.mode == "fit" else "same"
        if self.h[0] == self.h[1] and self.w[0] == self.w[1]:
            return fmt_scalar_pair((self.h[0], self.w[0]))
        return f"{self.h[0]},{self.h[1]}x{self.w[0]},{self.w[1]}"


@record_kw
class Layer:
    """Fields every layer has. ``declared`` is the output shape the text asserts in brackets;
    ``declared_weights`` a weights figure it asserts (the VGG listing's ``weights:``).
    ``fields`` maps option names (``kernel``, ``stride``, ``pad``, ``filters``, ``units``...)
    to the span of their text. ``wiring`` names the container whose ``forward()`` cnncalc does
    not know when the layer's place in the network was assumed from the order its text lists
    the children in (PyTorch's ``print(model)`` of a custom class); None when the text says
    how the layer is wired. ``declared_input`` is an input volume the text asserts for a layer
    that does not define the network's input (Keras's ``input_shape=`` on a later layer).
    ``inputs`` names the earlier layers it reads; empty, it reads the layer before it, so a
    chain names nothing and the layer list is a graph in topological order. ``origin`` is
    the span of the use line that made the layer from a block (its ``span`` is in the
    block's definition)."""

    name: str
    span: Span
    declared: Shape | None = None
    declared_span: Span | None = None
    declared_weights: int | None = None
    declared_weights_span: Span | None = None
    fields: tuple[tuple[str, Span], ...] = field(default=(), compare=False)
    wiring: str | None = None
    declared_input: tuple[Shape, Span] | None = None
    inputs: tuple[Ref, ...] = ()
    origin: Span | None = field(default=None, compare=False)

    kind = "layer"

    def span_of(self, *names: str) -> Span:
        """The span covering the named options (first to last found), else the layer's."""
        found = [s for n, s in self.fields if n in names]
        if not found:
            return self.span
        first = min(found)
        last = max(found, key=lambda s: (s.line, s.end_col))
        if first.line != last.line:
            return first
        return Span(first.path, first.line, first.col, last.end_col)


@record_kw
class Conv(Layer):
    """A convolution, or with ``transposed`` a transposed convolution.

    ``groups`` splits input and output channels into independent groups; a depthwise
    convolution (``depth_multiplier`` set) has one group per input channel and
    ``filters = C * depth_multiplier``, known only once the input depth is. ``in_channels``
    is a channel count the text declared (PyTorch's ``Conv2d(64, ...)``), checked, not used.
    """

    filters: int
    kernel: Pair
    stride: Pair = (1, 1)
    padding: Padding = Padding()
    dilation: Pair = (1, 1)
    groups: int = 1
    depth_multiplier: int | None = None
    bias: bool = True
    transposed: bool = False
    output_padding: Pair = (0, 0)
    in_channels: int | None = None

    @property
    def kind(self) -> str:  # type: ignore[override]
        if self.transposed:
            return "convtranspose"
        return "depthwise" if self.depth_multiplier is not None else "conv"


@record_kw
class Pool(Layer):
    """Max or average pooling. ``ceil_mode`` rounds a partial last window up as PyTorch and
    Caffe do (a last window that would start inside the right padding is dropped)."""

    op: Literal["max", "avg"]
    kernel: Pair
    stride: Pair
    padding: Padding = Padding()
    dilation: Pair = (1, 1)
    ceil_mode: bool = False

    @property
    def kind(self) -> str:  # type: ignore[override]
        return f"{self.op}pool"


@record_kw
class GlobalPool(Layer):
    """Global average or max pooling: HxWxC -> C (``keepdims``: 1x1xC)."""

    op: Literal["max", "avg"]
    keepdims: bool = False

    @property
    def kind(self) -> str:  # type: ignore[override]
        return f"global{self.op}pool"


@record_kw
class AdaptivePool(Layer):
    """PyTorch's adaptive pooling to a fixed output size; output cell i on an axis of W
    covers ``[floor(i*W/O), ceil((i+1)*W/O))``."""

    op: Literal["max", "avg"]
    output: Pair

    @property
    def kind(self) -> str:  # type: ignore[override]
        return f"adaptive{self.op}pool"


@record_kw
class BatchNorm(Layer):
    """Batch normalisation: params gamma (``scale``, counted as weights) and beta (``center``,
    counted as biases), C each; buffers running mean and variance (2C, what Keras lists as
    non-trainable). ``num_features`` is a declared C, checked, not used."""

    num_features: int | None = None
    scale: bool = True
    center: bool = True
    running_stats: bool = True

    kind = "batchnorm"


@record_kw
class ZeroPad(Layer):
    """Zero padding as a layer of its own: (top, bottom) and (left, right)."""

    padding: Padding

    kind = "zeropad"


@record_kw
class LRN(Layer):
    """Local response normalisation (the lecture's NORM layers): shape-preserving, no params."""

    kind = "lrn"


@record_kw
class Dense(Layer):
    """A fully connected layer; after a volume it connects to the whole volume."""

    units: int
    bias: bool = True
    in_features: int | None = None

    kind = "fc"


@record_kw
class Activation(Layer):
    fn: str

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.fn


@record_kw
class Dropout(Layer):
    """``p``: the rate, exact (a decimal as written), so that it is compared with 0 and 1
    without float rounding."""

    p: Fraction

    kind = "dropout"


@record_kw
class Flatten(Layer):
    kind = "flatten"


@record_kw
class Unparsed(Layer):
    """A line the front end could not read. It stands in the layer list so that the layers
    after it are marked not computed instead of being fed the wrong input."""

    kind = "unparsed"


@record_kw
class Merge(Layer):
    """Layers that combine their inputs (two or more, named in ``inputs``): ``add`` sums equal
    volumes (a residual), ``concat`` stacks volumes of equal H and W along the channels (or
    vectors end to end), ``multiply`` multiplies elementwise, a ``1x1xC`` (or ``C``) gate
    broadcast over an ``HxWxC`` volume (squeeze-and-excitation). No params, no MACs."""

    op: Literal["add", "concat", "multiply"]

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.op


@record_kw
class Crop(Layer):
    """A centre crop of the height and width (U-Net's crop-and-copy): to ``size``, or to the
    height and width of the layer ``like`` names. The crop starts at ``(size - target) // 2``,
    so an odd cell left over is cut after, as U-Net implementations crop (torchvision's
    ``center_crop`` rounds that offset half to even; the shapes are the same)."""

    size: Pair | None = None
    like: Ref | None = None

    kind = "crop"


@record_kw
class Slice(Layer):
    """Channels ``start`` to ``stop`` (exclusive) of the input (ShuffleNetV2's split, a
    ``chunk``); of a flat vector, its elements. ``whole``, when set, is the depth the input
    must have (a part of ``x.chunk(n)`` whose width the text gives): any other is an error."""

    start: int
    stop: int
    whole: int | None = None

    kind = "slice"


@record_kw
class Shuffle(Layer):
    """Channel shuffle in ``groups`` (ShuffleNet): the volume keeps its shape."""

    groups: int

    kind = "shuffle"


@record_kw
class Upsample(Layer):
    """Upsampling by an integer ``factor`` per axis, ``nearest`` or ``bilinear``: the shape
    only; no params, no MACs (interpolation is not a multiply-accumulate)."""

    factor: Pair
    mode: Literal["nearest", "bilinear"] = "nearest"

    kind = "upsample"


Rounding = Literal["strict", "floor", "ceil"]
"""How a non-integer output size is treated: ``strict`` (the lecture's "doesn't fit"), ``floor``
(Keras, and PyTorch without ceil_mode) or ``ceil`` (Caffe pooling). A pooling layer's own
``ceil_mode`` is an explicit choice: it rounds that layer up under every policy."""


@record
class Spec:
    """A parsed network. ``diagnostics`` holds what the front end found wrong with the text;
    ``lines`` the source text, so that messages can quote it."""

    path: str
    input: Shape | None
    input_span: Span | None
    layers: tuple[Layer, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    lines: tuple[str, ...] = ()
    notation: str = "lecture"
    rounding: Rounding = "strict"
    output: Ref | None = None  # the network's output, when it is not the last layer

