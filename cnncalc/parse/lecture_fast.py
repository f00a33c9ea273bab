"""A fast path for the lecture notation's common layer lines, read with one regular expression
instead of the tokenizer and cursor:

    [55x55x96] CONV1: 96 11x11 filters at stride 4, pad 0
    [27x27x96] MAX POOL1: 3x3 filters at stride 2
    [112x112x32] DWCONV2: 3x3 filters at stride 1, pad same, no bias
    [4096] FC6: 4096 neurons (class scores)
    [27x27x96] NORM1: Normalization layer
    BN1
    RELU1

It accepts a strict subset of what the general parser accepts (ASCII digits and words, blanks
and tabs, no quoted names, no ``=``, options each once and allowed for the layer) and builds
exactly the layer the general parser builds, through the same keyword builders in ``bodies``.
Anything else, including every line with an error, returns None and goes the general way, so
diagnostics come from one place only. ``tests/test_lecture_fast.py`` checks on generated lines
that both ways agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cnncalc.parse.bodies import (
    ACTIVATIONS,
    BODIES,
    FILTER_WORDS,
    LRN_WORDS,
    NEURON_WORDS,
    WINDOW_WORDS,
    batchnorm_kwargs,
    conv_kwargs,
    depthwise_kwargs,
    fc_kwargs,
    pool_kwargs,
)
from cnncalc.spec import Layer, Padding, Span

_WORD = r"[A-Za-z_][A-Za-z0-9_\-]*"
_END = r"(?![A-Za-z0-9_\-.])"  # a word or number ends here, as the tokenizer ends it
_NUM = rf"[0-9]+{_END}"
_SIZE = rf"[0-9]+(?:x[0-9]+)?{_END}"
_FLAGS = re.VERBOSE | re.ASCII | re.IGNORECASE  # ASCII: no Unicode case folding (long s, Kelvin)

_LINE = re.compile(
    rf"""[ \t]*
    (?:(?P<shape>\[(?:(?P<h>[0-9]+)x(?P<w>[0-9]+)x(?P<c>[0-9]+)|(?P<n>[0-9]+))\])[ \t]*)?
    (?P<head>{_WORD}(?:[ \t]+{_WORD}){{0,2}})
    (?:[ \t]*:)?
    (?P<rest>.*)""", _FLAGS | re.DOTALL)

_REMARK = r"(?:[ \t]*\((?:[^()]|\([^()]*\))*\))?"  # the lexer's remark, last on the line
_SEP = r"(?:[ \t]*,[ \t]*|[ \t]+)(?:(?:at|and|with)[ \t]+)*"


def _option(words: str, group: str, value: str) -> str:
    """One optional option, ``at stride 2``: its value (or for a flag its word) is ``group``."""
    if not value:
        return rf"(?:{_SEP}(?P<{group}>{words}){_END})?"
    return rf"(?:{_SEP}(?:{words}){_END}[ \t]+(?P<{group}>{value}))?"


def _words(words: tuple[str, ...]) -> str:
    return "(?:[ \t]+(?:" + "|".join(words) + rf"){_END})?"


# Options in the canonical order (the one `--format spec` writes), each at most once; a line
# with them in another order is read the general way.
_STRIDE = _option("strides|stride", "stride", _SIZE)
_PAD = _option("padding|pad", "pad", rf"{_SIZE}|same{_END}|valid{_END}|\?")
_DILATION = _option("dilation_rate|dilation", "dilation", _SIZE)
_NO_BIAS = rf"(?:{_SEP}no[ \t]+(?P<nobias>bias){_END})?"
_IN = _option("in", "in", _NUM)
_BODY = {
    "conv": re.compile(
        rf"[ \t]*(?P<n>{_NUM})[ \t]+(?P<k>{_SIZE}){_words(FILTER_WORDS)}{_STRIDE}{_PAD}"
        rf"{_DILATION}{_option('groups', 'groups', _NUM)}{_NO_BIAS}{_IN}{_REMARK}", _FLAGS),
    "depthwise": re.compile(
        rf"[ \t]*(?P<k>{_SIZE}){_words(FILTER_WORDS)}{_STRIDE}{_PAD}{_DILATION}"
        rf"{_option('multiplier', 'multiplier', _NUM)}{_NO_BIAS}{_IN}{_REMARK}", _FLAGS),
    "pool": re.compile(
        rf"[ \t]*(?P<k>{_SIZE}){_words(WINDOW_WORDS)}{_STRIDE}{_PAD}{_DILATION}"
        rf"{_option('ceil', 'ceil', '')}{_REMARK}", _FLAGS),
    "fc": re.compile(rf"[ \t]*(?P<n>{_NUM}){_words(NEURON_WORDS)}{_NO_BIAS}{_IN}{_REMARK}",
                     _FLAGS),
    "lrn": re.compile(rf"(?:[ \t]+(?:{'|'.join(LRN_WORDS)}){_END})*{_REMARK}", _FLAGS),
    "bare": re.compile(_REMARK, _FLAGS),
}
_FORM = {"conv": "conv", "depthwise": "depthwise", "maxpool": "pool", "avgpool": "pool",
         "fc": "fc", "lrn": "lrn", "batchnorm": "bare", "flatten": "bare",
         **{fn: "bare" for fn in ACTIVATIONS}}
# (group, field name, how the value reads) in the order the options come
_OPTIONS = {
    "conv": (("stride", "stride", "pair"), ("pad", "pad", "pad"),
             ("dilation", "dilation", "pair"), ("groups", "groups", "count"),
             ("nobias", "no bias", "flag"), ("in", "in", "count")),
    "depthwise": (("stride", "stride", "pair"), ("pad", "pad", "pad"),
                  ("dilation", "dilation", "pair"),
                  ("multiplier", "depth_multiplier", "count"),
                  ("nobias", "no bias", "flag"), ("in", "in", "count")),
    "pool": (("stride", "stride", "pair"), ("pad", "pad", "pad"),
             ("dilation", "dilation", "pair"), ("ceil", "ceil", "flag")),
    "fc": (("nobias", "no bias", "flag"), ("in", "in", "count")),
}
_PADS = {"?": Padding.fit(), "same": Padding.same(), "valid": Padding()}
_span = tuple.__new__  # Span(...) without NamedTuple's Python-level __new__


def _pair(text: str) -> tuple[int, int]:
    a, _, b = text.lower().partition("x")
    return (int(a), int(b or a))


def _options(b: re.Match[str], form: str, path: str, line: int, base: int,
             fields: list[tuple[str, Span]]) -> dict[str, Any]:
    """What ``bodies.options`` returns for the options ``b`` matched, noting each option's
    span in ``fields`` as it does (a flag's span is its last word's)."""
    found: dict[str, Any] = {}
    for group, name, reads in _OPTIONS[form]:
        text = b.group(group)
        if text is None:
            continue
        fields.append((name, _span(Span, (path, line, base + b.start(group) + 1,
                                          base + b.end(group) + 1))))
        key = "multiplier" if group == "multiplier" else name
        if reads == "pair":
            found[key] = _pair(text)
        elif reads == "count":
            found[key] = int(text)
        elif reads == "flag":
            found[key] = True
        else:
            low = text.lower()
            found[key] = _PADS[low] if low in _PADS else Padding.symmetric(*_pair(low))
    return found


def read_common(body: str, path: str, line: int,
                head: Callable[[list[str]], tuple[str, int] | None]) -> Layer | None:
    """The layer on ``body`` (a line without its comment, right-stripped) when it is one of
    the common forms above, else None. ``head`` is the lecture parser's own layer-word
    reader, so that names map to kinds in one place."""
    m = _LINE.match(body)
    if m is None:
        return None
    words = m.group("head").split()
    found = head(words)
    if found is None or found[1] != len(words):
        return None
    kind = found[0]
    form = _FORM.get(kind)
    if form is None:
        return None
    b = _BODY[form].fullmatch(m.group("rest"))
    if b is None:
        return None
    base = m.start("rest")
    fields: list[tuple[str, Span]] = []
    kwargs: dict[str, Any]
    if form in ("conv", "fc"):
        fields.append(("filters" if form == "conv" else "units",
                       _span(Span, (path, line, base + b.start("n") + 1, base + b.end("n") + 1))))
    if form in ("conv", "depthwise", "pool"):
        fields.append(("kernel",
                       _span(Span, (path, line, base + b.start("k") + 1, base + b.end("k") + 1))))
    if form in _OPTIONS:
        o = _options(b, form, path, line, base, fields)
        if form == "conv":
            kwargs = conv_kwargs(int(b.group("n")), _pair(b.group("k")), o)
        elif form == "depthwise":
            kwargs = depthwise_kwargs(_pair(b.group("k")), o)
        elif form == "pool":
            kwargs = pool_kwargs("max" if kind == "maxpool" else "avg", _pair(b.group("k")), o)
        else:
            kwargs = fc_kwargs(int(b.group("n")), o)
    elif kind == "batchnorm":
        kwargs = batchnorm_kwargs({})
    elif form == "bare" and kind != "flatten":
        kwargs = {"fn": kind}
    else:
        kwargs = {}
    cls = BODIES[kind][0]
    if m.group("shape") is None:
        declared, declared_span = None, None
    else:
        declared = ((int(m.group("h")), int(m.group("w")), int(m.group("c")))
                    if m.group("n") is None else (int(m.group("n")),))
        declared_span = _span(Span, (path, line, m.start("shape") + 1, m.end("shape") + 1))
    return cls(name=m.group("head"),
               span=_span(Span, (path, line, m.start("head") + 1, len(body) + 1)),
               declared=declared, declared_span=declared_span, fields=tuple(fields), **kwargs)
