"""``--format spec``: any parsed network written in cnncalc's canonical notation (the lecture's
notation, extended). Reading the result back gives the same analysis: same layers, settings,
declared shapes, rounding policy and input, and the same names: a name that is not plain
layer words is quoted with ``cnncalc.escape.quote``, which escapes whatever could end the
quotes, the line or the notation (``"``, ``#``, ``(``, control characters, backslashes), and
the lecture parser unescapes it."""

from __future__ import annotations

import re

from cnncalc.escape import escape, quote
from cnncalc.parse.lecture import head
from cnncalc.parse.lexer import LexError, tokenize
from cnncalc.shapes import fmt_fraction
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
    Pool,
    Ref,
    Shape,
    Shuffle,
    Slice,
    Spec,
    Upsample,
    ZeroPad,
    fmt_pair,
    fmt_scalar_pair,
    fmt_shape,
)

_WORDS = {
    "conv": "CONV", "convtranspose": "DECONV", "depthwise": "DWCONV", "maxpool": "MAX POOL",
    "avgpool": "AVG POOL", "globalmaxpool": "GLOBAL MAX POOL", "globalavgpool": "GLOBAL AVG POOL",
    "adaptivemaxpool": "ADAPTIVE MAX POOL", "adaptiveavgpool": "ADAPTIVE AVG POOL",
    "lrn": "NORM", "batchnorm": "BATCHNORM", "fc": "FC", "zeropad": "ZEROPAD",
    "dropout": "DROPOUT", "flatten": "FLATTEN", "add": "ADD", "concat": "CONCAT",
    "multiply": "MULTIPLY", "crop": "CROP", "slice": "SLICE", "shuffle": "SHUFFLE",
    "upsample": "UPSAMPLE",
}


def _kind_word(layer: Layer) -> str:
    if isinstance(layer, Activation):
        return layer.fn.upper()
    return _WORDS[layer.kind]


# layer words separated by single spaces: the only names written without quotes
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*(?: [A-Za-z_][A-Za-z0-9_\-]*)*")


def _head_text(layer: Layer) -> str:
    """The author's name when it is plain words that already read as this kind of layer,
    else the kind word followed by the name quoted."""
    word = _kind_word(layer)
    kind = layer.kind if not isinstance(layer, Activation) else layer.fn
    if _PLAIN.fullmatch(layer.name):
        try:
            tokens = tokenize(layer.name, "", 1)
        except LexError:
            tokens = []
        found = head(tokens)
        if found is not None and found[0] == kind and found[1] == len(tokens):
            return layer.name
    return f"{word} {quote(layer.name)}"


def _pad(p: Padding) -> str:
    if p.mode == "fit":
        return "?"
    if p.mode == "same":
        return "same"
    if p.h[0] != p.h[1] or p.w[0] != p.w[1]:
        raise ValueError("asymmetric explicit padding has no canonical form")
    return fmt_scalar_pair((p.h[0], p.w[0]))


def _body(layer: Layer) -> str:
    opts: list[str] = []
    if isinstance(layer, Conv):
        size = fmt_pair(layer.kernel)
        lead = f"{size} filters" if layer.depth_multiplier is not None else \
            f"{layer.filters} {size} filters"
        opts += [f"stride {fmt_scalar_pair(layer.stride)}", f"pad {_pad(layer.padding)}"]
        if layer.dilation != (1, 1):
            opts.append(f"dilation {fmt_scalar_pair(layer.dilation)}")
        if layer.groups != 1:
            opts.append(f"groups {layer.groups}")
        if layer.depth_multiplier not in (None, 1):
            opts.append(f"multiplier {layer.depth_multiplier}")
        if layer.output_padding != (0, 0):
            opts.append(f"output padding {fmt_scalar_pair(layer.output_padding)}")
        if not layer.bias:
            opts.append("no bias")
        if layer.in_channels is not None:
            opts.append(f"in {layer.in_channels}")
        return f"{lead} at " + ", ".join(opts)
    if isinstance(layer, Pool):
        opts += [f"stride {fmt_scalar_pair(layer.stride)}", f"pad {_pad(layer.padding)}"]
        if layer.dilation != (1, 1):
            opts.append(f"dilation {fmt_scalar_pair(layer.dilation)}")
        if layer.ceil_mode:
            opts.append("ceil")
        return f"{fmt_pair(layer.kernel)} filters at " + ", ".join(opts)
    if isinstance(layer, GlobalPool):
        return "keepdims" if layer.keepdims else ""
    if isinstance(layer, AdaptivePool):
        return fmt_pair(layer.output)
    if isinstance(layer, BatchNorm):
        opts += [] if layer.scale else ["no scale"]
        opts += [] if layer.center else ["no center"]
        opts += [] if layer.running_stats else ["no stats"]
        opts += [] if layer.num_features is None else [f"in {layer.num_features}"]
        return ", ".join(opts)
    if isinstance(layer, Dense):
        opts += [] if layer.bias else ["no bias"]
        opts += [] if layer.in_features is None else [f"in {layer.in_features}"]
        return ", ".join([f"{layer.units} neurons", *opts])
    if isinstance(layer, ZeroPad):
        p = layer.padding
        return (f"top {p.h[0]}, bottom {p.h[1]}, left {p.w[0]}, right {p.w[1]}")
    if isinstance(layer, Dropout):
        return fmt_fraction(layer.p)
    if isinstance(layer, Crop):
        return f"like {_ref(layer.like)}" if layer.like is not None else \
            fmt_pair(layer.size)  # type: ignore[arg-type]  # a crop has one or the other
    if isinstance(layer, Slice):
        return f"channels {layer.start} to {layer.stop}"
    if isinstance(layer, Shuffle):
        return f"{layer.groups} groups"
    if isinstance(layer, Upsample):
        return f"{fmt_scalar_pair(layer.factor)} {layer.mode}"
    if isinstance(layer, (LRN, Flatten, Activation, Merge)):
        return ""
    raise ValueError(f"layer {layer.name!r} has no canonical form")


def _ref(ref: Ref) -> str:
    """A reference as a word when it reads as one, else quoted."""
    return ref.name if _WORD.fullmatch(ref.name) and ref.name.lower() != "from" \
        else quote(ref.name)


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


def to_spec_text(spec: Spec, input_volume: Shape | None) -> str:
    """The network in canonical notation; ``input_volume`` is the one the analysis used, or
    None to write the spec's own (kept even when it is empty, so that it reads back as the
    same G106)."""
    if input_volume is None:
        input_volume = spec.input
    lines = [f"# {escape(spec.path)}: {spec.notation} notation, rewritten by cnncalc in its "
             "canonical notation"]
    assumed = list(dict.fromkeys(layer.wiring for layer in spec.layers if layer.wiring))
    if assumed:
        whose = ", ".join("the `self.` modules" if w == "self" else f"`{escape(w)}`"
                          for w in assumed)
        lines.append(f"# the forward() of {whose} was not known (P014): this text lists the "
                     "layers in the order written, and says they run in that order")
    if spec.rounding != "strict":
        lines.append(f"ROUNDING: {spec.rounding}")
    if input_volume is not None:
        lines.append(f"[{fmt_shape(input_volume)}] INPUT")
    for layer in spec.layers:
        if layer.kind == "unparsed":
            source = spec.lines[layer.span.line - 1] if spec.lines else layer.name
            lines.append(f"# not read (line {layer.span.line}): {escape(source.strip())}")
            continue
        declared = "" if layer.declared is None else f"[{fmt_shape(layer.declared)}] "
        body = _body(layer)
        if layer.declared_input is not None:
            body += f"{', ' if body else ''}receives [{fmt_shape(layer.declared_input[0])}]"
        refs = f" from {', '.join(map(_ref, layer.inputs))}" if layer.inputs else ""
        lines.append(f"{declared}{_head_text(layer)}{refs}" + (f": {body}" if body else ""))
    if spec.output is not None:
        lines.append(f"OUTPUT from {_ref(spec.output)}")
    return "\n".join(lines) + "\n"
