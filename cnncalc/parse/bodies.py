"""What follows a layer word in the lecture / canonical notation: one parser per kind, all
built from the same option reader so that ``stride``, ``pad``, ``no bias`` read alike
everywhere. Each returns the layer's keyword arguments; the caller adds name and span."""

from __future__ import annotations

from collections.abc import Callable, Set
from typing import Any

from cnncalc.escape import unescape
from cnncalc.parse.cursor import Cursor
from cnncalc.spec import (
    LRN,
    Activation,
    AdaptivePool,
    BatchNorm,
    Conv,
    Crop,
    Dense,
    Dropout,
    Flatten,
    GlobalPool,
    Layer,
    Merge,
    Padding,
    Pair,
    Pool,
    Ref,
    Shuffle,
    Slice,
    Upsample,
    ZeroPad,
)

_PAIRS = {"stride": "a stride", "dilation": "a dilation", "output_padding": "an output padding"}
_COUNTS = {"groups": "a number of groups", "multiplier": "a depth multiplier",
           "in": "the declared input channels", "top": "rows", "bottom": "rows",
           "left": "columns", "right": "columns"}
_FLAGS = {"ceil", "keepdims"}
_NO_FLAGS = {"bias", "scale", "center", "stats"}
_ALIASES = {"strides": "stride", "padding": "pad", "dilation_rate": "dilation"}
# an option's field name, where it differs from the word (the same in every front end)
_FIELD_NAMES = {"multiplier": "depth_multiplier"}


def options(c: Cursor, allowed: Set[str]) -> dict[str, Any]:
    """``at stride S, pad P, dilation D, groups G, no bias, ceil, in C`` in any order,
    separated by ``,``, ``at``, ``and`` or ``with``; each at most once."""
    found: dict[str, Any] = {}
    tokens = c.tokens
    n = len(tokens)
    while True:
        c.skip_separators()
        i = c.i
        if i >= n or tokens[i].kind == "remark":
            return found
        tok = tokens[i]
        low = tok.text.lower()
        word = _ALIASES.get(low, low)
        if word == "output" and i + 1 < n and tokens[i + 1].text.lower() in ("pad", "padding"):
            c.i = i = i + 1
            word = "output_padding"
        key = word
        if word == "no" and i + 1 < n:
            key = "no " + tokens[i + 1].text.lower()
        if tok.kind != "word" or key not in allowed:
            names = sorted(n for n in allowed if not n.startswith("no ")) + sorted(
                n for n in allowed if n.startswith("no "))
            raise c.fail(" or ".join(f"`{n}`" for n in names) if names else "the end of the layer",
                         choices=names)
        if key in found:
            raise c.fail(f"each option once (`{key}` is given twice)")
        c.i = i + 1
        if key.startswith("no "):
            c.note(key, c.take())
            found[key] = True
        elif key == "pad":
            found[key] = c.padding()
        elif key in _PAIRS:
            c.accept_punct("=")
            found[key] = c.pair(_PAIRS[key], key)
        elif key in _COUNTS:
            c.accept_punct("=")
            found[key] = c.count(_COUNTS[key], _FIELD_NAMES.get(key, key))
        else:
            c.note(key, tok)
            c.accept_word("mode")
            found[key] = True


_WINDOW = frozenset(("stride", "pad", "dilation"))
# the options each body allows, built once rather than per line
_CONV_OPTIONS = _WINDOW | {"groups", "no bias", "in"}
_DECONV_OPTIONS = _CONV_OPTIONS | {"output_padding"}
_DEPTHWISE_OPTIONS = _WINDOW | {"multiplier", "no bias", "in"}
_POOL_OPTIONS = _WINDOW | {"ceil"}
_FC_OPTIONS = frozenset(("no bias", "in"))


def conv_kwargs(filters: int, kernel: Pair, o: dict[str, Any],
                transposed: bool = False) -> dict[str, Any]:
    """A convolution's keyword arguments from its count, size and ``options()``; shared with
    the fast path in ``lecture_fast``, as are the builders below."""
    return {"filters": filters, "kernel": kernel, "stride": o.get("stride", (1, 1)),
            "padding": o.get("pad", Padding()), "dilation": o.get("dilation", (1, 1)),
            "groups": o.get("groups", 1), "bias": "no bias" not in o, "transposed": transposed,
            "output_padding": o.get("output_padding", (0, 0)), "in_channels": o.get("in")}


def depthwise_kwargs(kernel: Pair, o: dict[str, Any]) -> dict[str, Any]:
    return {"filters": 0, "kernel": kernel, "stride": o.get("stride", (1, 1)),
            "padding": o.get("pad", Padding()), "dilation": o.get("dilation", (1, 1)),
            "depth_multiplier": o.get("multiplier", 1), "bias": "no bias" not in o,
            "in_channels": o.get("in")}


def pool_kwargs(op: str, kernel: Pair, o: dict[str, Any]) -> dict[str, Any]:
    return {"op": op, "kernel": kernel, "stride": o.get("stride", kernel),
            "padding": o.get("pad", Padding()), "dilation": o.get("dilation", (1, 1)),
            "ceil_mode": "ceil" in o}


def fc_kwargs(units: int, o: dict[str, Any]) -> dict[str, Any]:
    return {"units": units, "bias": "no bias" not in o, "in_features": o.get("in")}


def batchnorm_kwargs(o: dict[str, Any]) -> dict[str, Any]:
    return {"scale": "no scale" not in o, "center": "no center" not in o,
            "running_stats": "no stats" not in o, "num_features": o.get("in")}


FILTER_WORDS = ("filters", "filter", "kernels", "kernel")
WINDOW_WORDS = ("filters", "filter", "window", "windows", "pooling")
NEURON_WORDS = ("neurons", "neuron", "units", "outputs")
LRN_WORDS = ("normalization", "normalisation", "layer", "local", "response", "lrn")


def _conv(c: Cursor, transposed: bool = False) -> dict[str, Any]:
    filters = c.count("the number of filters, e.g. `96` in `96 11x11 filters`", "filters")
    kernel = c.pair("the filter size", "kernel")
    c.accept_word(*FILTER_WORDS)
    return conv_kwargs(filters, kernel, options(c, _DECONV_OPTIONS if transposed
                                                else _CONV_OPTIONS), transposed)


def _depthwise(c: Cursor) -> dict[str, Any]:
    kernel = c.pair("the filter size, e.g. `3x3`", "kernel")
    c.accept_word(*FILTER_WORDS)
    return depthwise_kwargs(kernel, options(c, _DEPTHWISE_OPTIONS))


def _pool(op: str) -> Callable[[Cursor], dict[str, Any]]:
    def parse(c: Cursor) -> dict[str, Any]:
        kernel = c.pair("the window size, e.g. `3x3`", "kernel")
        c.accept_word(*WINDOW_WORDS)
        return pool_kwargs(op, kernel, options(c, _POOL_OPTIONS))
    return parse


def _global(op: str) -> Callable[[Cursor], dict[str, Any]]:
    def parse(c: Cursor) -> dict[str, Any]:
        return {"op": op, "keepdims": "keepdims" in options(c, {"keepdims"})}
    return parse


def _adaptive(op: str) -> Callable[[Cursor], dict[str, Any]]:
    def parse(c: Cursor) -> dict[str, Any]:
        c.accept_word("to", "output")
        return {"op": op, "output": c.pair("the output size, e.g. `6x6`", "output")}
    return parse


def _lrn(c: Cursor) -> dict[str, Any]:
    while c.accept_word(*LRN_WORDS):
        pass
    return {}


def _batchnorm(c: Cursor) -> dict[str, Any]:
    while c.accept_word("batch", "normalization", "normalisation", "layer"):
        pass
    return batchnorm_kwargs(options(c, {"no scale", "no center", "no stats", "in"}))


def _fc(c: Cursor) -> dict[str, Any]:
    units = c.count("the number of neurons, e.g. `4096` in `4096 neurons`", "units")
    c.accept_word(*NEURON_WORDS)
    return fc_kwargs(units, options(c, _FC_OPTIONS))


def _zeropad(c: Cursor) -> dict[str, Any]:
    tok = c.peek()
    if tok is not None and tok.kind in ("number", "size"):
        return {"padding": Padding.symmetric(*c.pair("the padding", "pad"))}
    o = options(c, {"top", "bottom", "left", "right"})
    if not o:
        raise c.fail("the padding: `1`, `1x2`, or `top 1, bottom 2, left 0, right 1`")
    return {"padding": Padding("explicit", (o.get("top", 0), o.get("bottom", 0)),
                               (o.get("left", 0), o.get("right", 0)))}


def _dropout(c: Cursor) -> dict[str, Any]:
    if c.accept_word("p", "rate"):
        c.accept_punct("=")
    return {"p": c.rate("the dropout rate, e.g. `DROPOUT 0.5`", "p")}


def _merge(op: str) -> Callable[[Cursor], dict[str, Any]]:
    return lambda c: {"op": op}


def _activation(fn: str) -> Callable[[Cursor], dict[str, Any]]:
    return lambda c: {"fn": fn}


def ref(c: Cursor, what: str) -> Ref:
    """A reference to an earlier layer: its name as a word, or quoted."""
    tok = c.peek()
    if tok is None or tok.kind not in ("word", "string"):
        raise c.fail(what, "a layer is named by its word (`CONV1`) or quoted (`\"layer1.0\"`)")
    c.take()
    name = unescape(tok.text[1:-1]) if tok.kind == "string" else tok.text
    return Ref(name, tok.span(c.path, c.line))


def _crop(c: Cursor) -> dict[str, Any]:
    c.accept_word("to")
    if c.accept_word("like") is not None:
        like = ref(c, "the layer whose height and width to crop to")
        c.fields.append(("like", like.span))
        return {"like": like}
    return {"size": c.pair("the size to crop to, e.g. `392x392`, or `like NAME`", "size")}


def _slice(c: Cursor) -> dict[str, Any]:
    c.accept_word("channels", "channel", "elements")
    start = c.count("the first channel, e.g. `0` in `SLICE: channels 0 to 32`", "start")
    if c.accept_word("to") is None:
        raise c.fail("`to`, as in `SLICE: channels 0 to 32`")
    return {"start": start, "stop": c.count("the channel to stop before", "stop")}


def _shuffle(c: Cursor) -> dict[str, Any]:
    named = c.accept_word("groups") is not None
    groups = c.count("the number of groups, e.g. `SHUFFLE: 2 groups`", "groups")
    if not named:
        c.accept_word("groups", "group")
    return {"groups": groups}


def _upsample(c: Cursor) -> dict[str, Any]:
    c.accept_word("by", "factor")
    factor = c.pair("the factor, e.g. `UPSAMPLE: 2` or `2x2`", "factor")
    mode = c.accept_word("nearest", "bilinear")
    return {"factor": factor, "mode": "nearest" if mode is None else mode.low}


ACTIVATIONS = ("relu", "relu6", "leakyrelu", "elu", "gelu", "silu", "swish", "sigmoid", "tanh",
               "softmax", "logsoftmax", "hardswish", "hardsigmoid", "identity")

# kind -> (layer class, body parser)
BODIES: dict[str, tuple[type[Layer], Callable[[Cursor], dict[str, Any]]]] = {
    "conv": (Conv, _conv),
    "convtranspose": (Conv, lambda c: _conv(c, transposed=True)),
    "depthwise": (Conv, _depthwise),
    "maxpool": (Pool, _pool("max")),
    "avgpool": (Pool, _pool("avg")),
    "globalmaxpool": (GlobalPool, _global("max")),
    "globalavgpool": (GlobalPool, _global("avg")),
    "adaptivemaxpool": (AdaptivePool, _adaptive("max")),
    "adaptiveavgpool": (AdaptivePool, _adaptive("avg")),
    "lrn": (LRN, _lrn),
    "batchnorm": (BatchNorm, _batchnorm),
    "fc": (Dense, _fc),
    "zeropad": (ZeroPad, _zeropad),
    "dropout": (Dropout, _dropout),
    "flatten": (Flatten, lambda c: {}),
    **{fn: (Activation, _activation(fn)) for fn in ACTIVATIONS},
    **{op: (Merge, _merge(op)) for op in ("add", "concat", "multiply")},
    "crop": (Crop, _crop),
    "slice": (Slice, _slice),
    "shuffle": (Shuffle, _shuffle),
    "upsample": (Upsample, _upsample),
}
