"""The layers each Keras layer call builds (``LAYERS``: a builder and the parameters it
takes, by class name), from its arguments as :class:`cnncalc.parse.keras_layers.Args` reads
them. The conventions are Keras's, as :mod:`cnncalc.parse.keras_layers` lists them."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from cnncalc import spec
from cnncalc.parse.keras_merges import MERGES, merge
from cnncalc.parse.keras_preprocessing import (
    center_crop,
    cropping,
    identity,
    normalization,
    upsampling,
)
from cnncalc.parse.pycode import exact, ints, refuse
from cnncalc.spec import Layer, Padding, Pair

if TYPE_CHECKING:
    from cnncalc.parse.keras_layers import Args

_L = TypeVar("_L", bound=Layer)


def _quick(cls: type[_L]) -> Callable[..., _L]:
    """``cls(**given)`` for a frozen layer dataclass, 2-3x faster. Its generated ``__init__``
    sets each of the 10 to 18 fields with a call to ``object.__setattr__``, as a frozen class
    must; here the new instance gets its whole ``__dict__`` at once, the defaults updated with
    the given fields, in field order: an equal object (``==``, repr, hash, pickle alike). A class
    that cannot be built so (no ``__dict__``, a ``__post_init__``, a default factory, a field
    left out of ``__init__``) is returned as is, and a call that gives an unknown field or
    leaves out a required one goes to the class, to raise as it would."""
    fields = dataclasses.fields(cls)
    if not cls.__dictoffset__ or hasattr(cls, "__post_init__") or any(
            f.default_factory is not dataclasses.MISSING or not f.init for f in fields):
        return cls
    defaults = {f.name: f.default for f in fields}  # MISSING for a required field
    size = len(defaults)
    required = frozenset(f.name for f in fields if f.default is dataclasses.MISSING)
    new, set_ = object.__new__, object.__setattr__

    def make(**given: Any) -> _L:
        attrs = {**defaults, **given}
        if len(attrs) != size or not given.keys() >= required:
            return cls(**given)
        made = new(cls)
        set_(made, "__dict__", attrs)
        return made

    return make


_Conv, _Pool, _GlobalPool = _quick(spec.Conv), _quick(spec.Pool), _quick(spec.GlobalPool)
_BatchNorm, _Dropout, _Dense = _quick(spec.BatchNorm), _quick(spec.Dropout), _quick(spec.Dense)
_ZeroPad, _Flatten = _quick(spec.ZeroPad), _quick(spec.Flatten)
_Activation = _quick(spec.Activation)


def _conv(c: Args) -> list[Layer]:
    """Conv2D, Conv2DTranspose, DepthwiseConv2D and SeparableConv2D."""
    kernel, stride = c.pair("kernel_size"), c.pair("strides", (1, 1))
    padding, dilation, bias = c.padding(), c.pair("dilation_rate", (1, 1)), c.flag("use_bias", True)
    c.data_format()
    if c.cls == "DepthwiseConv2D":
        mult = c.count("depth_multiplier", 1)
        return [_Conv(name=c.name, span=c.span, filters=0, kernel=kernel, stride=stride,
                      padding=padding, dilation=dilation, bias=bias, depth_multiplier=mult,
                      fields=c.recorded())]
    filters = c.count("filters")
    if c.cls == "SeparableConv2D":
        mult, fields = c.count("depth_multiplier", 1), c.recorded()
        return [_Conv(name=f"{c.name}/depthwise", span=c.span, filters=0, kernel=kernel,
                      stride=stride, padding=padding, dilation=dilation, bias=False,
                      depth_multiplier=mult, fields=fields),
                _Conv(name=f"{c.name}/pointwise", span=c.span, filters=filters,
                      kernel=(1, 1), bias=bias, fields=fields)]
    if c.cls == "Conv2D":
        groups = c.count("groups", 1)
        return [_Conv(name=c.name, span=c.span, filters=filters, kernel=kernel, stride=stride,
                      padding=padding, dilation=dilation, groups=groups, bias=bias,
                      fields=c.recorded())]
    spans = [d * (f - 1) + 1 for f, d in zip(kernel, dilation, strict=True)]
    out_pad: Pair = (0, 0)
    if c.raw("output_padding", None) is not None:
        out_pad = c.pair("output_padding")
        if padding.mode == "same":
            padding = Padding.symmetric(spans[0] // 2, spans[1] // 2)
    elif padding.mode != "same":
        out_pad = (max(stride[0] - spans[0], 0), max(stride[1] - spans[1], 0))
    return [_Conv(name=c.name, span=c.span, filters=filters, kernel=kernel, stride=stride,
                  padding=padding, dilation=dilation, bias=bias, transposed=True,
                  output_padding=out_pad, fields=c.recorded())]


def _pool(c: Args) -> list[Layer]:
    """MaxPooling2D, AveragePooling2D and their global forms."""
    op: Literal["max", "avg"] = "max" if "Max" in c.cls else "avg"
    c.data_format()
    if c.cls.startswith("Global"):
        keepdims = c.flag("keepdims", False)
        return [_GlobalPool(name=c.name, span=c.span, op=op, keepdims=keepdims,
                            fields=c.recorded())]
    kernel = c.pair("pool_size", (2, 2))
    stride = kernel if c.raw("strides", None) is None else c.pair("strides")
    padding = c.padding()
    return [_Pool(name=c.name, span=c.span, op=op, kernel=kernel, stride=stride,
                  padding=padding, fields=c.recorded())]


def _batchnorm(c: Args) -> list[Layer]:
    if "axis" in c.nodes and c.raw("axis", -1) not in (-1, 1 if c.r.rank == 1 else 3):
        raise refuse(c.arg_span("axis"), "P011", f"{c.name}: cnncalc normalises only the channel "
                     "axis", "drop `axis` (Keras's default -1)")
    center, scale = c.flag("center", True), c.flag("scale", True)
    return [_BatchNorm(name=c.name, span=c.span, center=center, scale=scale,
                       fields=c.recorded())]


def _dropout(c: Args) -> list[Layer]:
    rate = exact(c.raw("rate", None, True))
    if rate is None:
        raise c.bad("rate", "a number such as 0.5")
    return [_Dropout(name=c.name, span=c.span, p=rate, fields=c.recorded())]


def _dense(c: Args) -> list[Layer]:
    units, bias = c.count("units"), c.flag("use_bias", True)
    if c.r.rank == 3:
        c.fields = {a: ("filters" if f == "units" else f, s) for a, (f, s) in c.fields.items()}
        return [_Conv(name=c.name, span=c.span, filters=units, kernel=(1, 1), bias=bias,
                      fields=c.recorded())]
    return [_Dense(name=c.name, span=c.span, units=units, bias=bias, fields=c.recorded())]


def _zeropad(c: Args) -> list[Layer]:
    v = c.raw("padding", 1)
    c.data_format()
    hw = ints(v, 2)
    h, w = ((hw[0],) * 2, (hw[1],) * 2) if hw else (ints(v[0], 2), ints(v[1], 2)) \
        if isinstance(v, tuple) and len(v) == 2 else (None, None)
    if h is None or w is None:
        raise c.bad("padding", "N, (H, W) or ((top, bottom), (left, right))")
    if min(*h, *w) < 0:
        raise c.bad("padding", "0 or more on every side (Keras pads and does not crop)")
    return [_ZeroPad(name=c.name, span=c.span, fields=c.recorded(),
                     padding=Padding("explicit", (h[0], h[1]), (w[0], w[1])))]


def _flatten(c: Args) -> list[Layer]:
    c.data_format()
    return [_Flatten(name=c.name, span=c.span, fields=c.recorded())]


_FIXED_FN = {"Softmax": "softmax", "LeakyReLU": "leakyrelu"}


def _activation(c: Args) -> list[Layer]:
    """Keras's names without underscores, as the executor knows them: ``leaky_relu`` ->
    ``leakyrelu``, ``linear`` -> ``identity``; ``ReLU(6.0)`` is ``relu6``."""
    cap = c.nodes.get("max_value")
    fn = _FIXED_FN.get(c.cls) or (
        ("relu6" if isinstance(cap, ast.Constant) and cap.value == 6 else "relu")
        if c.cls == "ReLU" else c.raw("activation", None, True))
    if not isinstance(fn, str):
        raise c.bad("activation", "a string such as 'relu'")
    fn = fn.lower().replace("_", "")
    return [_Activation(name=c.name, span=c.span, fn="identity" if fn == "linear" else fn,
                        fields=c.recorded())]


_CONV = "strides padding data_format dilation_rate"
_RANDOM = "{} fill_mode interpolation seed fill_value data_format"
LAYERS: dict[str, tuple[Callable[[Args], list[Layer]], str]] = {
    "Conv2D": (_conv, f"filters kernel_size {_CONV} groups activation use_bias"),
    "Conv2DTranspose": (_conv, "filters kernel_size strides padding output_padding data_format "
                        "dilation_rate activation use_bias"),
    "DepthwiseConv2D": (_conv, "kernel_size strides padding depth_multiplier data_format "
                        "dilation_rate activation use_bias"),
    "SeparableConv2D": (_conv, f"filters kernel_size {_CONV} depth_multiplier activation "
                        "use_bias"),
    "MaxPooling2D": (_pool, "pool_size strides padding data_format"),
    "AveragePooling2D": (_pool, "pool_size strides padding data_format"),
    "GlobalAveragePooling2D": (_pool, "data_format keepdims"),
    "GlobalMaxPooling2D": (_pool, "data_format keepdims"),
    "BatchNormalization": (_batchnorm, "axis momentum epsilon center scale"),
    "Dropout": (_dropout, "rate noise_shape seed"),
    "Flatten": (_flatten, "data_format"),
    "Dense": (_dense, "units activation use_bias"),
    "Activation": (_activation, "activation"),
    "ZeroPadding2D": (_zeropad, "padding data_format"),
    "ReLU": (_activation, "max_value negative_slope threshold"),
    "Softmax": (_activation, "axis"),
    "LeakyReLU": (_activation, "negative_slope"),
    "Rescaling": (identity, "scale offset"),
    "Normalization": (normalization, "axis mean variance invert"),
    "CenterCrop": (center_crop, "height width data_format"),
    "UpSampling2D": (upsampling, "size data_format interpolation"),
    **{cls: (merge, "axis" if cls == "Concatenate" else "") for cls in MERGES},
    "RandomFlip": (identity, "mode seed data_format"),
    "RandomRotation": (identity, _RANDOM.format("factor")),
    "RandomZoom": (identity, _RANDOM.format("height_factor width_factor")),
    "RandomTranslation": (identity, _RANDOM.format("height_factor width_factor")),
    "RandomContrast": (identity, "factor value_range seed"),
    "RandomBrightness": (identity, "factor value_range seed"),
    "GaussianNoise": (identity, "stddev seed"),
    "GaussianDropout": (_dropout, "rate seed"),
    "SpatialDropout2D": (_dropout, "rate data_format seed"),
    "Cropping2D": (cropping, "cropping data_format"),
    "Input": (_flatten, "shape batch_size name dtype"),
    "InputLayer": (_flatten, "input_shape batch_size dtype"),
}
