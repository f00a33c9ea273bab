"""Front ends: each notation's text becomes the same Spec.

Notations are detected from the text unless one is forced:

- ``keras``: Python code with Keras layers (``model.add(Conv2D(...))``, ``Sequential([...])``),
  read with ``ast`` and never executed; functional code (it calls ``keras.Model(...)``) goes
  to :mod:`cnncalc.parse.keras_code`;
- ``pytorch``: what ``print(model)`` shows for ``nn.Sequential`` trees, or ``nn.Conv2d(...)``
  constructor calls one a line; model code (a ``class X(nn.Module)`` with its ``forward()``)
  goes to :mod:`cnncalc.parse.torch_code`;
- ``vgg``: the VGG paper's and CS231n notes' ``CONV3-64`` / ``POOL2`` / ``FC-4096`` shorthand;
- ``lecture``: the lecture's ``[55x55x96] CONV1: 96 11x11 filters at stride 4, pad 0`` lines,
  extended into cnncalc's canonical notation (the fallback).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import replace

from cnncalc.diagnostics import Diagnostic, once_per_line
from cnncalc.parse.bounds import (
    CODE_NOTATIONS,
    MAX_FILE_SIZE,
    MAX_LAYERS,
    code_refused,
    code_too_large,
)
from cnncalc.spec import Shape, Span, Spec, source_lines

NOTATIONS = ("lecture", "keras", "pytorch", "vgg")

DefineValue = int | float | tuple[int, ...]

_KERAS = re.compile(
    r"\b(?:model\.add\s*\(|Sequential\s*\(|(?:keras\.)?layers\.\w+\s*\(|"
    r"(?:Conv2D|Conv2DTranspose|DepthwiseConv2D|SeparableConv2D|MaxPooling2D|AveragePooling2D|"
    r"GlobalAveragePooling2D|GlobalMaxPooling2D|BatchNormalization|Dense|ZeroPadding2D)\s*\()")
_PYTORCH_NAMES = (r"(?:Conv2d|ConvTranspose2d|MaxPool2d|AvgPool2d|AdaptiveAvgPool2d|"
                  r"AdaptiveMaxPool2d|BatchNorm2d|LocalResponseNorm|Linear|ZeroPad2d)")
# PyTorch text matches one of these; each is searched only when the text holds one of the
# strings that every match of it contains (the searches are slow, the `in` tests are not).
# When every match starts with one of those strings (the third item), the pattern is tried
# only where they occur: Keras code holds `Sequential(` too, and a search of all of it costs.
_PYTORCH: tuple[tuple[tuple[str, ...], re.Pattern[str], bool], ...] = (
    (("nn.",), re.compile(r"\bnn\.\w+\s*\("), True),
    (("Conv2d", "ConvTranspose2d", "Pool2d", "BatchNorm2d", "LocalResponseNorm", "Linear",
      "ZeroPad2d"), re.compile(r"\b" + _PYTORCH_NAMES + r"\s*\("), False),
    (("):",), re.compile(r"^[^\S\n]*\([^()\n]*\):[^\S\n]*\w+\(", re.MULTILINE), False),
    # print(model)'s `Sequential(` ends a line and starts it or follows `(name): `; Keras's
    # `model = keras.Sequential(` (a list on the next lines) follows a `.` or an `=`
    (("Sequential(", "ModuleList("),
     re.compile(r"(?<![^\s:])(?<!=[^\S\n])(?:Sequential|ModuleList)\([^\S\n]*$",
                re.MULTILINE), True),
)
# `CONV3-64` and `FC-4096` are the VGG notation's own (`POOL2` alone is also the lecture's),
# unless a lecture-style body follows the colon: `CONV1-1: 64 3x3 filters` is the lecture's
_VGG = re.compile(r"^[^\S\n]*(?:\[[^\]\n]*\][^\S\n]*)?(?:conv[0-9]+(?:x[0-9]+)?-[0-9]+|fc-[0-9]+)\b"
                  r"(?![^\S\n]*:[^\S\n]*(?!memory|weights)[^\s\[#])", re.IGNORECASE | re.MULTILINE)


# Every match of _KERAS contains one of these: a text with none of them is not searched
_KERAS_NEEDS = ("model.add", "Sequential", "layers.", "Conv2D", "Pooling2D", "BatchNormalization",
                "Dense", "ZeroPadding2D")


def _found(text: str, needs: tuple[str, ...], pattern: re.Pattern[str],
           starts: bool = False) -> bool:
    """``pattern.search(text)``, skipped when ``text`` has none of the ``needs``; with
    ``starts`` (every match starts with one of them), tried only where they occur."""
    if not starts:
        return any(n in text for n in needs) and pattern.search(text) is not None
    for need in needs:
        at = text.find(need)
        while at >= 0:
            if pattern.match(text, at) is not None:
                return True
            at = text.find(need, at + 1)
    return False


# PyTorch model code rather than a printed model: a class statement or a forward() method
_TORCH_CODE = re.compile(r"^[ \t]*(?:class[ \t]+\w+[ \t]*[(:]|def[ \t]+forward[ \t]*\()",
                         re.MULTILINE)

# ... and the same, told from the other notations: a class deriving from an nn container, or
# a forward() method
_TORCH_CLASS = re.compile(r"^[ \t]*(?:class[ \t]+\w+[ \t]*\([^)\n]*(?:\bnn\.(?:Module|Sequential|"
                          r"ModuleList|ModuleDict)|(?<![\w.])Module)[ \t]*[,)]|"
                          r"def[ \t]+forward[ \t]*\()", re.MULTILINE)

# A `#` comment, to the end of its line (`\r` ends a line too, as the front ends read it)
_COMMENT = re.compile(r"#[^\r\n]*")


def detect(text: str) -> str:
    """The notation a text is written in. PyTorch is tried before Keras because ``Linear(``
    and ``Conv2d(`` are unambiguous while Keras words like ``Dense(`` are not.

    ``#`` comments are not read: every notation has them (Keras is Python), and a lecture spec
    that says ``# as nn.Conv2d(3, 8, 3)`` is still a lecture spec. A comment is cut at its
    ``#`` whatever precedes it (as the lecture lexer does), so a ``#`` inside a quoted name or
    Python string hides only the rest of its own line, and every marker searched for starts
    a statement, a module or a line. Python docstrings are read: they are not comments.

    Nor are remarks: a line that starts with a layer word of the lecture notation and ends in
    a parenthesised remark after a blank (``CONV1: 8 3x3 filters (as in nn.Conv2d(3, 8,
    3))``) is read without the remark, which the lecture parser ignores too. Code never has a
    blank before the ``(`` of a call it means, so PyTorch and Keras text keep their markers.

    Every pattern stays within a line (``[^\\S\\n]`` is the whitespace of one line), so that
    trying one at each line start never rescans the lines after it: detection is linear."""
    if "#" in text:
        text = _COMMENT.sub("", text)
    kind = _notation(text)
    if kind == "pytorch" and _TORCH_CODE.search(text):
        return kind  # model code: a remark in it is Python (`x = (f(y))`), not a remark
    if kind in ("pytorch", "keras"):
        remarked = _remarked()
        if remarked.search(text) is not None:
            unremarked = remarked.sub(_without_remark, text)
            if unremarked != text:
                return _notation(unremarked)
    return kind


def _notation(text: str) -> str:
    """What :func:`detect` finds in a text without comments."""
    if ("class" in text or "def forward" in text) and _TORCH_CLASS.search(text):
        return "pytorch"
    if any(_found(text, needs, pattern, starts) for needs, pattern, starts in _PYTORCH):
        return "pytorch"
    if _found(text, _KERAS_NEEDS, _KERAS) or ("keras" in text and _keras_functional(text)):
        return "keras"
    if _VGG.search(text):
        return "vgg"
    return "lecture"


@functools.cache
def _remarked() -> re.Pattern[str]:
    """A line that may be a lecture layer with a remark at its end: an optional [shape], one
    to three words (the layer head, e.g. `MAX POOL1`), anything without `(`, then a blank and
    the remark (brackets nested at most three deep), and nothing after it. The words and the
    `[^\n(]*` after them are possessive (they never give characters back): the text before
    the remark ends at the line's first `(`, and each line is tried in linear time (with
    backtracking, a long word made it quadratic: 16,000 characters took 3.4 s). Compiled when
    first needed: most texts never need it, and start-up counts."""
    return re.compile(
        r"^(?P<keep>[ \t]*(?:\[[^\[\]\n]*\][ \t]*)?"
        r"(?P<head>[A-Za-z_][A-Za-z0-9_\-]*+(?:[ \t]++[A-Za-z_][A-Za-z0-9_\-]*+){0,2})"
        r"[^\n(]*+)"
        r"(?<=[ \t])\((?:[^()\n]|\((?:[^()\n]|\([^()\n]*\))*\))*\)(?P<end>[ \t\r]*)$",
        re.MULTILINE)


def _without_remark(m: re.Match[str]) -> str:
    """The line of a ``_remarked()`` match without its remark, when its head is a lecture
    layer word (``CONV1``, ``MAX POOL1``: what the lecture parser reads), else as it was."""
    from cnncalc.parse.lecture import head_words

    if head_words(m["head"].split()) is None:
        return m[0]
    return m["keep"] + m["end"]


def parse_text(text: str, path: str, notation: str | None = None,
               defines: Mapping[str, DefineValue] | None = None,
               input_given: bool = False, model: str | None = None,
               max_layers: int = MAX_LAYERS, max_file_size: int = MAX_FILE_SIZE,
               input_volume: Shape | None = None, block: int | None = None) -> Spec:
    """Parse ``text`` read from ``path``; ``notation`` None means detect it. ``defines`` binds
    names in code notations (``num_classes``); ``input_given`` says ``--input`` was passed, so
    an unbound ``input_shape`` is not an error; ``model`` picks one model of a file that
    builds several (the variable in Keras code, the class name in print(model) text).
    Reading stops at the first layer over ``max_layers`` (P012); Keras and PyTorch text over
    its share of ``max_file_size`` is not read (P013; the caller refuses a file over the limit
    itself before reading it). ``input_volume`` is the ``--input`` volume, which PyTorch
    model code needs while it is read (``x.size(2)``). A Markdown file (``.md``), or any text
    with ``block``, is read from its fenced code blocks (``cnncalc.parse.markdown``)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if block is not None or path.lower().endswith((".md", ".markdown")):
        from cnncalc.parse.markdown import spec_text

        text, problems = spec_text(text, path, block)
        if problems:
            return Spec(path, None, None, (), tuple(problems), tuple(source_lines(text)),
                        notation or "lecture")
    kind = notation or detect(text)
    if kind in CODE_NOTATIONS and code_too_large(text, max_file_size):
        refused = code_refused(path, max_file_size, kind)
        return Spec(path, None, refused.span, (), (refused,), tuple(source_lines(text)), kind,
                    "floor")
    spec = _parse(text, path, kind, defines or {}, input_given, model, max_layers, input_volume)
    diags = once_per_line(spec.diagnostics)
    if notation is None and _unread(diags) >= MANY_UNREAD:
        diags = _suggest_notation(text, path, kind, diags, defines or {}, input_given,
                                  max_layers, input_volume)
    return spec if diags is spec.diagnostics else replace(spec, diagnostics=diags)


MANY_UNREAD = 3
"""A text read with this many lines it could not read (P001, P002) may be in another
notation than the one detected: one hint then names the notation that reads it better."""


def _unread(diags: tuple[Diagnostic, ...]) -> int:
    return sum(1 for d in diags if d.code in ("P001", "P002"))


def _suggest_notation(text: str, path: str, kind: str, diags: tuple[Diagnostic, ...],
                      defines: Mapping[str, DefineValue], input_given: bool, max_layers: int,
                      input_volume: Shape | None) -> tuple[Diagnostic, ...]:
    """``diags`` with the first unread line's hint naming the notation (other than the
    detected ``kind``) under which the text has the fewest unread lines and some layers, when
    one has fewer; the text is read once more in each notation (it has many errors already,
    so this is rare, and each reading is bounded as the first was)."""
    unread = _unread(diags)
    best: tuple[int, str] | None = None
    for other in NOTATIONS:
        if other == kind:
            continue
        spec = _parse(text, path, other, defines, input_given, None, max_layers, input_volume)
        count = _unread(spec.diagnostics)
        if spec.layers and count < unread and (best is None or count < best[0]):
            best = (count, other)
    if best is None:
        return diags
    count, other = best
    first = next(i for i, d in enumerate(diags) if d.code in ("P001", "P002"))
    d = diags[first]
    said = (f"{unread} lines cannot be read as {kind} notation (detected); as {other} "
            f"notation {'none' if count == 0 else count} cannot: pass --notation {other}")
    hint = f"{d.hint}; {said}" if d.hint else said
    return (*diags[:first], replace(d, hint=hint), *diags[first + 1:])


# Keras functional code: it builds a `keras.Model(...)` (Sequential code does not)
_KERAS_MODEL = re.compile(r"(?<![\w.])(?:\w+\.)*(?:Model|Functional)\s*\(")


def _keras_functional(text: str) -> bool:
    """Whether Keras code builds a functional model (``#`` comments not read)."""
    if "Model" not in text and "Functional" not in text:
        return False
    if "#" in text:
        text = _COMMENT.sub("", text)
    return _KERAS_MODEL.search(text) is not None


def _parse(text: str, path: str, kind: str, defines: Mapping[str, DefineValue],
           input_given: bool, model: str | None, max_layers: int,
           input_volume: Shape | None = None) -> Spec:
    if kind == "keras" and _keras_functional(text):
        from cnncalc.parse.keras_code import parse_keras_code

        return parse_keras_code(text, path, defines, input_volume, model, max_layers)
    if kind == "keras":
        from cnncalc.parse.keras import parse_keras

        return parse_keras(text, path, defines, input_given, model, max_layers)
    if kind == "pytorch" and _TORCH_CODE.search(text):
        from cnncalc.parse.torch_code import parse_torch_code

        return parse_torch_code(text, path, defines, input_volume, model, max_layers)
    if kind == "pytorch":
        from cnncalc.parse.pytorch import parse_pytorch

        return parse_pytorch(text, path, defines, model, max_layers)
    if kind == "vgg":
        from cnncalc.parse.vgg import parse_vgg

        spec = parse_vgg(text, path, max_layers)
    else:
        from cnncalc.parse.lecture import parse_lecture

        spec = parse_lecture(text, path, max_layers)
    if model is None:
        return spec
    return replace(spec, diagnostics=(*spec.diagnostics, Diagnostic(
        Span(path, 1, 1, 2), "P015", f"--model {model}: the {kind} notation holds one network "
        "a file", "--model picks a model in Keras code or print(model) text")))
