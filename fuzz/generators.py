"""Inputs that found or could find the bugs of issue 11, drawn from a ``random.Random``.

Every generator takes the random source and returns the bytes of one file. The same functions
feed every engine: the mutate engine calls them directly and borrows their pieces for its
edits, hypothesis draws a generator and an integer seed, atheris starts from a corpus of their
outputs. A generator that made a few calls on its random source, each with a simple
distribution, is cheap to replay: the file is a function of the seed.

- ``long_runs``: thousands to tens of thousands of blank lines, whitespace-only lines, leading
  or trailing spaces and tabs, ``#`` comment lines (or one very long line of spaces, unclosed
  calls or stray ``)``), in a network of each notation: the inputs that made notation
  detection and the line scanners quadratic.
- ``huge_numbers``: numbers of 300 to 4,300 digits (and just over) in a numeric position of a
  network of each notation: input sizes, filter counts, kernels, strides, pads, dilations,
  groups, FC units, repeat counts, Keras arguments, VGG ``weights:`` and ``memory:``
  annotations, the ``# cnncalc: input`` directive.
- ``hostile_names``: names holding control characters (C0, DEL, C1 with U+0085 and the CSI
  U+009B), lone surrogates, U+2028/9, bidi controls, workflow commands (``::error``,
  ``::add-mask::``, ``::stop-commands::``, ``##[error]``), terminal escapes, quotes,
  backslashes, ``#`` and rich markup, in the canonical notation's quoted names, Keras
  ``name=`` and PyTorch ``(label):``; written raw and as the escapes each notation reads.
- ``huge_repeats``: PyTorch ``(0-99999): 100000 x`` repeats nested inside repeated
  containers and side by side, and Keras loops and list repeats of the same sizes.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Callable

MAX_INPUT = 600_000
"""No input is longer (bytes). Tens of thousands of comment lines fit; with linear parsing,
every notation reads this much in well under the per-input time limit."""

# Every template is a small, valid network with every numeric position written <default>
# (commas allowed: <20,480>) and every name position <@CONTEXT:default>, CONTEXT saying how a
# name is written there: q inside the canonical notation's double quotes, py inside a Python
# string literal, raw as it stands (a printed PyTorch label).
TEMPLATES: dict[str, str] = {
    "lecture": (
        "[<32>x<32>x<3>] INPUT\n"
        "[<32>x<32>x<8>] CONV1: <8> <3>x<3> filters at stride <1>, pad <1>\n"
        "RELU1\n"
        "[<16>x<16>x<8>] MAX POOL1: <2>x<2> filters at stride <2>\n"
        "NORM1: Normalization layer\n"
        "CONV2: <8> <3>x<3> filters at stride <1>, pad ?, dilation <1>, groups <2>\n"
        "AVG POOL2: <2>x<2> filters at stride <2>, pad <0>\n"
        "[<10>] FC3: <10> neurons (class scores)\n"
    ),
    "canonical": (
        "# cnncalc: input <16>x<16>x<4>\n"
        "ROUNDING: floor\n"
        'DWCONV "<@q:dw one>": <3>x<3> filters at stride <2>, pad same, multiplier <2>, '
        "no bias, in <4>\n"
        'DECONV "<@q:up.0>": <4> <4>x<4> filters at stride <2>, pad <1>, output padding <1>\n'
        'BATCHNORM "<@q:bn>": in <4>\n'
        'ZEROPAD "<@q:pad>": top <1>, bottom <0>, left <2>, right <1>\n'
        'ADAPTIVE AVG POOL "<@q:ap>": <4>x<4>\n'
        'MAX POOL "<@q:mp>": <2>x<2> filters at stride <1>, pad <0>, dilation <1>, ceil\n'
        'DROPOUT "<@q:drop>": 0.5\n'
        "FLATTEN\n"
        'FC "<@q:fc 1>": <10> neurons, in <36>, receives [<36>]\n'
    ),
    "keras": (
        "from keras import layers, Sequential\n"
        "model = Sequential()\n"
        "model.add(layers.Conv2D(<8>, (<3>, <3>), strides=<1>, padding='same', "
        "dilation_rate=<1>, input_shape=(<32>, <32>, <3>), name='<@py:conv1>'))\n"
        "model.add(layers.MaxPooling2D(pool_size=(<2>, <2>), strides=<2>, name='<@py:pool1>'))\n"
        "model.add(layers.SeparableConv2D(<16>, <3>, depth_multiplier=<2>, name='<@py:sep>'))\n"
        "model.add(layers.ZeroPadding2D(((<1>, <0>), (<2>, <1>)), name='<@py:zp>'))\n"
        "model.add(layers.Conv2DTranspose(<4>, <3>, strides=<2>, output_padding=<1>, "
        "name='<@py:up>'))\n"
        "model.add(layers.Flatten())\n"
        "model.add(layers.Dense(<10>, name='<@py:dense>'))\n"
    ),
    "keras_list": (
        "from tensorflow import keras\n"
        "from tensorflow.keras import layers\n"
        "model = keras.Sequential([\n"
        "    keras.Input(shape=(<16>, <16>, <2>), name='<@py:in>'),\n"
        "    layers.Conv2D(<4>, <3>, padding='valid', groups=<2>, name='<@py:c>'),\n"
        "    layers.DepthwiseConv2D(<3>, strides=<1>, depth_multiplier=<1>, name='<@py:dw>'),\n"
        "    layers.GlobalAveragePooling2D(keepdims=True, name='<@py:g>'),\n"
        "    layers.Flatten(),\n"
        "    layers.Dense(<10>, use_bias=False, name='<@py:out>'),\n"
        "], name='<@py:model>')\n"
    ),
    "pytorch": (
        "# cnncalc: input <32>x<32>x<3>\n"
        "Sequential(\n"
        "  (<@raw:conv>): Conv2d(<3>, <8>, kernel_size=(<3>, <3>), stride=(<1>, <1>), "
        "padding=(<1>, <1>), dilation=(<1>, <1>), groups=<1>)\n"
        "  (<@raw:pool>): MaxPool2d(kernel_size=<2>, stride=<2>, padding=<0>, dilation=<1>, "
        "ceil_mode=True)\n"
        "  (<@raw:blocks>): Sequential(\n"
        "    (0-<1>): <2> x Sequential(\n"
        "      (<@raw:bn>): BatchNorm2d(<8>, eps=1e-05, momentum=0.1, affine=True, "
        "track_running_stats=True)\n"
        "      (1): ReLU(inplace=True)\n"
        "    )\n"
        "  )\n"
        "  (avg): AdaptiveAvgPool2d(output_size=(<2>, <2>))\n"
        "  (flat): Flatten(start_dim=1, end_dim=-1)\n"
        "  (<@raw:fc>): Linear(in_features=<32>, out_features=<10>, bias=True)\n"
        ")\n"
    ),
    "pytorch_nn": (
        "# cnncalc: input <64>x<64>x<3>\n"
        "self.conv1 = nn.Conv2d(<3>, <16>, <3>, stride=<1>, padding=<1>, dilation=<1>)\n"
        "self.up = nn.ConvTranspose2d(<16>, <8>, <2>, stride=<2>)\n"
        "nn.ZeroPad2d((<1>, <1>, <2>, <0>))\n"
        "nn.MaxPool2d(<2>, <2>)\n"
        "nn.Flatten()\n"
        "nn.Linear(<8> * <65> * <65>, <10>)\n"
    ),
    "vgg": (
        "INPUT: [<32>x<32>x<3>]  memory: <32>*<32>*<3>=3K  weights: 0\n"
        "CONV3-<8>: [<32>x<32>x<8>]  memory: <32>*<32>*<8>=8K  "
        "weights: (<3>*<3>*<3>)*<8> = <216>\n"
        "POOL2: [<16>x<16>x<8>]  memory: <16>*<16>*<8>=2K  weights: 0\n"
        "FC: [1x1x<10>]  memory: <10>  weights: <16>*<16>*<8>*<10> = <20,480>\n"
    ),
    "vgg_paper": (
        "ConvNet configuration A:\n"
        "input (<32> x <32> RGB image)\n"
        "conv<3>-<8>\n"
        "conv<1>-<4>\n"
        "LRN\n"
        "maxpool\n"
        "FC-<10>\n"
        "soft-max\n"
    ),
}

_HOLE = re.compile(r"<([\d,]+)>|<@(q|py|raw):([^>]*)>")
_REPEAT = re.compile(r"\(0-(\d+)\): (\d+) x")
_SURROGATE_OR_NUL = re.compile("[\x00\ud800-\udfff]")

# how each notation writes a comment line (Keras, PyTorch and VGG text are read by cnncalc
# with `#` comments too; `//` and `--` lines are not comments anywhere and must be findings)
_COMMENTS = ("# a comment", "#", "# cnncalc: ignore[G101]", "#" * 80, "    # indented",
             "// not a comment", "\t#\ttab")

HOSTILE_PIECES = (
    "\n::error file=x.py,line=1::INJECTED", "::error::INJECTED", "::add-mask::secret",
    "::stop-commands::token", "::warning title=x::y", "::set-output name=a::b",
    "\r::notice::x", "%0A::error::x", "\u2028::error::x", "\x85::error::x", "##[error]x",
    "##vso[task.setvariable]x", "\x1b[31mred\x1b[0m", "\x1b]8;;http://x/\x07link\x1b]8;;\x07",
    "\x9b31m", "\x1b[2J", "\x07", "\x00", "\x08", "\x0b", "\x0c", "\x1c", "\x7f", "\x80",
    "\x85", "\x9f", "\u202e", "\u2066", "\u200b", "\ufeff", "\u2029", "\ud800", "\udc80",
    "\udfff", "\ufffe", '"', "'", "\\", "\\n", "\\x1b", "#", "# ", "(", ")", ":", ",", "|",
    "[bold]x[/bold]", "[link=file:///etc/passwd]x[/link]", "[/]", "\t", "  ", "é", "\U0001f600",
    "x" * 300, "CONV", "<@q:x>",
)
"""Pieces of hostile names; lone surrogates reach a name through an escape (Keras's
``'\\ud800'``, the canonical notation's ``\\ud800``), raw they make the file undecodable."""

HOSTILE_PATHS = (
    "fuzz.txt", "dir/\n::error file=x.py,line=1::PATH.txt", "a\x1b[31mb.txt", "\udcff.txt",
    "%0A::warning::p.txt", "x,y:z.txt", "  ::add-mask::p.txt", "##[error]p.txt",
    "p\u202etxt.txt", "p\rq.txt", "[bold]p[/bold].txt",
)
"""The path a file is shown as: one input in eight gets a hostile one (chosen by the input's
hash, so that a replay shows it the same way)."""


def path_for(data: bytes) -> str:
    h = hashlib.sha1(data).digest()
    return HOSTILE_PATHS[h[1] % len(HOSTILE_PATHS)] if h[0] % 8 == 0 else "fuzz.txt"


def _count(rng: random.Random, low: int, high: int) -> int:
    """An integer in [low, high], log-uniform, so that each order of magnitude is as likely."""
    return min(high, max(low, round(low * math.exp(math.log(high / low) * rng.random()))))


def big_number(rng: random.Random) -> str:
    """Digits of a number of 300 to 4,300 digits (or just over: 4,301 to 4,400), as every
    pattern that has mattered: all nines, a power of ten, random digits (a size that does not
    divide), leading zeros."""
    n = rng.choice((300, 309, 310, 4200, 4201, 4299, 4300, 4301, _count(rng, 300, 4300),
                    _count(rng, 300, 4300), rng.randint(4301, 4400)))
    form = rng.randrange(5)
    if form == 0:
        return "9" * n
    if form == 1:
        return "1" + "0" * (n - 1)
    if form == 2:
        return "0" * (n - 1) + str(rng.randint(1, 9))
    if form == 3:
        return "1" + "0" * (n - 2) + "1"
    return str(rng.randint(1, 9)) + "".join(rng.choices("0123456789", k=n - 1))


def _grouped(digits: str) -> str:
    head = len(digits) % 3 or 3
    return ",".join([digits[:head], *(digits[i:i + 3] for i in range(head, len(digits), 3))])


def hostile_name(rng: random.Random) -> str:
    parts = rng.choices(HOSTILE_PIECES, k=rng.randint(1, 4))
    if rng.random() < 0.5:
        parts.insert(rng.randint(0, len(parts)), rng.choice(("conv", "CONV1", "features.0")))
    return "".join(parts)


def _py_literal(rng: random.Random, name: str) -> str:
    """``name`` inside a single-quoted Python literal: the characters a literal cannot hold
    raw (quote, backslash, line breaks, surrogates) escaped, others raw or escaped at random."""
    out = []
    for ch in name:
        must = ch in "'\\\n\r" or "\ud800" <= ch <= "\udfff"
        if must or (not ch.isprintable() and rng.random() < 0.5):
            out.append(ch.encode("unicode_escape").decode("ascii") if ch != "'" else "\\'")
        else:
            out.append(ch)
    return "".join(out)


def _quoted(rng: random.Random, name: str) -> str:
    """``name`` inside the canonical notation's double quotes: raw (a ``"`` or line break in
    it is a finding), or with its unusual characters written as the backslash escapes that
    ``--format spec`` writes (``\\x1b``, ``\\ud800``, ``\\n``)."""
    if rng.random() < 0.5:
        return name
    return "".join(ch if ch.isprintable() and ch not in '"\\#' else
                   ch.encode("unicode_escape").decode("ascii") if ch not in '"#' else
                   f"\\x{ord(ch):02x}" for ch in name)


def fill(template: str, rng: random.Random, numbers: int = 0, names: int = 0) -> str:
    """``template`` with ``numbers`` of its numeric holes (drawn) given a huge number and
    ``names`` of its name holes a hostile name; every other hole keeps its default."""
    holes = list(_HOLE.finditer(template))
    nums = [i for i, m in enumerate(holes) if m[1] is not None]
    nams = [i for i, m in enumerate(holes) if m[1] is None]
    big = set(rng.sample(nums, min(numbers, len(nums))))
    bad = set(rng.sample(nams, min(names, len(nams))))
    out: list[str] = []
    pos = 0
    for i, m in enumerate(holes):
        out.append(template[pos:m.start()])
        pos = m.end()
        if m[1] is not None:
            digits = big_number(rng) if i in big else m[1].replace(",", "")
            out.append(_grouped(digits) if "," in m[1] and rng.random() < 0.5 else digits)
            continue
        context, name = m[2], m[3]
        if i in bad:
            name = hostile_name(rng)
            if context != "py" and rng.random() < 0.9:  # raw, these make the file undecodable
                name = _SURROGATE_OR_NUL.sub("", name)
            name = _quoted(rng, name) if context == "q" else \
                _py_literal(rng, name) if context == "py" else name
        out.append(name)
    out.append(template[pos:])
    text = "".join(out)
    if rng.random() < 0.7:  # a repeat's range mostly agrees with its count
        text = _REPEAT.sub(lambda r: f"(0-{_minus_one(r[2])}): {r[2]} x", text)
    return text


def _minus_one(digits: str) -> str:
    """``digits`` - 1 without converting (a count may be longer than int() reads)."""
    stripped = digits.lstrip("0") or "0"
    if stripped == "0":
        return "-1"
    i = len(stripped) - 1
    while stripped[i] == "0":
        i -= 1
    out = stripped[:i] + str(int(stripped[i]) - 1) + "9" * (len(stripped) - i - 1)
    return out.lstrip("0") or "0"


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")[:MAX_INPUT]


def filler(rng: random.Random, n: int, end: str = "\n") -> str:
    """A run of ``n`` blank, whitespace-only or comment lines, or a line of ``5n`` blanks,
    ``n`` unclosed calls or ``n`` stray closing parentheses."""
    kind = rng.randrange(6)
    if kind == 0:
        return end * n
    if kind == 1:
        return (rng.choice((" ", "\t", " \t", "\x0c", "\u00a0")) * rng.randint(1, 8) + end) * n
    if kind == 2:
        return (rng.choice(_COMMENTS) + end) * n
    if kind == 3:
        return rng.choice((" ", "\t", " \t")) * (n * 5)
    if kind == 4:
        return rng.choice(("Conv2d(", "(", "nn.Sequential(", "model.add(")) * n
    return ")" * n + end


def long_runs(rng: random.Random) -> bytes:
    """A network of a drawn notation with a long run of filler before, inside or after it,
    blank lines between all its lines, blanks before or after every line, a comment after
    every line, or a long ``weights:`` annotation."""
    lines = fill(rng.choice(list(TEMPLATES.values())), rng).split("\n")
    n = _count(rng, 1_000, 40_000)
    end = rng.choice(("\n", "\r\n", "\r"))
    kind = rng.randrange(5)
    if kind == 0:
        return _encode((end * (n // 8)).join(lines))
    if kind == 1:
        pad = rng.choice((" ", "\t")) * rng.randint(50, 2_000)
        lines = [pad + ln if rng.random() < 0.5 else ln + pad for ln in lines]
    elif kind == 2:
        lines = [ln + "  # " + "c" * rng.randint(1, 100) for ln in lines]
    elif kind == 3:
        lines.insert(rng.randint(0, len(lines)),
                     "CONV3-8: [8x8x8]  weights: " + "*".join(["3"] * (n // 2)) + " = 1")
    at = rng.randint(0, len(lines))
    lines[at:at] = [filler(rng, n, end)]
    return _encode("\n".join(lines))


def huge_numbers(rng: random.Random) -> bytes:
    template = rng.choice(list(TEMPLATES.values()))
    return _encode(fill(template, rng, numbers=rng.choice((1, 1, 1, 2, 3, 99))))


def hostile_names(rng: random.Random) -> bytes:
    named = [t for t in TEMPLATES.values() if "<@" in t]
    return _encode(fill(rng.choice(named), rng, names=rng.choice((1, 1, 2, 99))))


SMALL_TOTAL = 2_000
HUGE_TOTAL = 1_000_001
"""A repeat network expands to at most SMALL_TOTAL layers or to at least HUGE_TOTAL. In between
a network is legitimate and merely big (analysing 100,000 layers takes seconds, past the
per-input limit); from HUGE_TOTAL on, every layer cap must refuse it before building it."""

_COUNTS = (1, 2, 3, 10, 1_000, 99_999, 100_000, 100_001, 10**6, 10**9, 10**30)
_CHEAP = ("ReLU(inplace=True)", "Identity()")
_LEAVES = (
    "Conv2d(8, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))",
    "BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)",
    *_CHEAP,
)
"""What a repeat repeats; a repeat too big for a layer cap repeats a cheap one, since the cap
may keep its first 100,000 layers before it refuses the rest."""


def _counts(rng: random.Random, k: int, siblings: int = 1) -> list[int]:
    """``k`` nested repeat counts whose product, times ``siblings``, is small or huge, never
    in between."""
    counts = [rng.choice(_COUNTS) for _ in range(k)]
    total = siblings
    for c in counts:
        total *= c
    if SMALL_TOTAL < total < HUGE_TOTAL:
        counts[0] *= -(-HUGE_TOTAL // total)
    return counts


def _nested(rng: random.Random, counts: list[int], leaf: str) -> list[str]:
    if not counts:
        return [f"({rng.choice(('0', 'conv', 'layer1'))}): {leaf}"]
    c = counts[0]
    head = f"(0-{c - 1}): {c} x " if c > 1 else "(0): "
    inner = _nested(rng, counts[1:], leaf)
    return [f"{head}{rng.choice(('Sequential', 'ModuleList'))}(", *("  " + ln for ln in inner),
            ")"]


def huge_repeats(rng: random.Random) -> bytes:
    """Printed PyTorch repeats nested one to four deep, one or thirty side by side (30 x
    100,000 layers in 1.5 KB was issue 11's example), or a Keras loop or list repeat of the
    same sizes."""
    if rng.random() < 0.15:
        a, b = _counts(rng, 2)
        return _encode(rng.choice((
            f"model = Sequential([Input(shape=(8, 8, 8))] + [layers.ReLU()] * {a} * {b})\n",
            "model = Sequential()\nmodel.add(Input(shape=(8, 8, 8)))\n"
            f"for i in range({a}):\n    for j in range({b}):\n        model.add(ReLU())\n")))
    siblings = rng.choice((1, 1, 2, 30))
    counts = _counts(rng, rng.randint(1, 4), siblings)
    leaf = rng.choice(_LEAVES if siblings * math.prod(counts) <= SMALL_TOTAL else _CHEAP)
    lines = [ln for _ in range(siblings) for ln in _nested(rng, counts, leaf)]
    body = "\n".join("  " + ln for ln in lines)
    return _encode(f"# cnncalc: input 8x8x8\nSequential(\n{body}\n)\n")


_GRAPH_LAYERS = (
    "CONV{n}: {c} 3x3 filters at stride 1, pad 1", "CONV{n}: {c} 1x1 filters at stride {s}",
    "RELU{n}", "BN{n}", "MAX POOL{n}: 2x2 filters at stride 2", "ADD from {r}, {r}",
    "CONCAT from {r}, {r}, {r}", "MULTIPLY from {r}, {r}", "CROP from {r}: like {r}",
    "CROP: {s}x{s}", "SLICE: channels 0 to {c}", "SHUFFLE: {s} groups", "UPSAMPLE: {s} bilinear",
    "UPSAMPLE \"u{n}\" from {r}: 2", "GLOBAL AVG POOL: keepdims", "FC{n}: {c} neurons",
    "IDENTITY", "{u}: {k} x b{b}({c}, S={s})", "OUTPUT from {r}")


def graphs(rng: random.Random) -> bytes:
    """Networks that branch: blocks defined and used (nested, with repeat counts small or
    huge), references to names that exist and that do not, merges of volumes that fit and
    that do not, crops, slices, shuffles, upsampling."""
    names = ["INPUT"]
    blocks = 0
    lines = [f"[{rng.choice((8, 9, 16))}x{rng.choice((8, 9, 16))}x{rng.choice((4, 8))}] INPUT"]

    def fill_line(template: str, n: int) -> str:
        text = template
        for key, pick in (("{r}", lambda: rng.choice([*names, "nowhere", '"a.b"'])),
                          ("{c}", lambda: str(rng.choice((1, 4, 8, 0)))),
                          ("{s}", lambda: str(rng.choice((1, 2, 3)))),
                          ("{u}", lambda: f"use{n}"),
                          ("{b}", lambda: str(rng.randrange(max(blocks, 1)))),
                          # a count small, or huge enough to be refused (SMALL_TOTAL)
                          ("{k}", lambda: str(rng.choice((1, 2, 3, 10**rng.randint(7, 20)))))):
            while key in text:
                text = text.replace(key, pick(), 1)
        return text.replace("{n}", str(n))

    for n in range(rng.randint(1, 40)):
        roll = rng.random()
        if roll < 0.12:
            body = [fill_line(rng.choice(_GRAPH_LAYERS), 100 + j).replace("OUTPUT", "RELU")
                    for j in range(rng.randint(1, 6))]
            body.append(rng.choice(("ADD from INPUT, CONV100", "RELU",
                                    "CONCAT from INPUT, RELU101")))
            lines += [f"BLOCK b{blocks}(C, S=1):", *("    " + ln for ln in body), "END"]
            blocks += 1
            continue
        line = fill_line(rng.choice(_GRAPH_LAYERS), n)
        if line.startswith("use") and not blocks:
            continue
        lines.append(line)
        head = line.split(":")[0].split(" from ")[0]
        names.append(head.split()[-1] if '"' not in head else head.split('"')[1])
    return _encode("\n".join(lines) + "\n")


GENERATORS: dict[str, Callable[[random.Random], bytes]] = {
    "graphs": graphs,
    "long_runs": long_runs,
    "huge_numbers": huge_numbers,
    "hostile_names": hostile_names,
    "huge_repeats": huge_repeats,
}


def generate(rng: random.Random) -> bytes:
    return rng.choice(list(GENERATORS.values()))(rng)
