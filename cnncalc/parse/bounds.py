"""How much one spec may ask of cnncalc: at most MAX_LAYERS layers and MAX_FILE_SIZE bytes.

Both are errors with a code when exceeded, and both can be raised (``--max-layers``,
``--max-file-size``; ``max-layers`` and ``max-file-size`` in ``[tool.cnncalc]``):

- P012 too-many-layers: every front end stops reading at the first layer over the cap (a
  PyTorch repeat is refused before it is expanded), so that a short text that repeats
  blocks cannot make millions of layers first. An Unparsed layer stands for what was not
  read: the layer list is incomplete, so the analysis withholds the totals. Problems a
  front end finds count the same way (a file of stray `)` lines makes no layer, but one
  diagnostic each): reading stops at more problems than the cap, too.
- P013 file-too-large: a file (or standard input) longer than the limit is not read beyond
  it, nor parsed. Keras and PyTorch text is refused above a sixteenth of the limit
  (CODE_SHARE): it goes through Python's ``ast``, which takes 250 to 900 bytes of memory per
  byte of code (dense code such as ``a;a;a`` the most), where the lecture, canonical and
  VGG notations take 30 to 130.

``benchmarks/bench_pathological.py`` measures the memory these figures rest on.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from cnncalc.diagnostics import Diagnostic
from cnncalc.spec import Layer, Span, Unparsed

MAX_LAYERS = 100_000
"""Layers per file, in every notation and across all blocks."""

MAX_FILE_SIZE = 8 * 2**20
"""Bytes per file: 8 MiB, so that the 100,000-layer lecture spec (4.4 MB) is read. The text
notations take at most about 130 bytes of memory per byte (``show --format json``; 70 for
``check``) and 5 KB per layer: about 500 MB at these limits."""

CODE_SHARE = 16
CODE_NOTATIONS = ("keras", "pytorch")
"""Keras and PyTorch text is refused above ``limit // CODE_SHARE`` (512 KiB by default):
at most about 470 MB of ``ast``; a real ``print(model)`` or Keras model is far shorter."""

_HINT = ("raise the cap with --max-layers N (max-layers in [tool.cnncalc]), or split the "
         "network into files")


class TooManyLayers(Exception):
    """Raised by a front end where reading must stop; ``what`` names what went over, when
    it is not the layer at ``span`` (``the repeat `3 x```); ``problems`` when it is the
    number of problems."""

    def __init__(self, span: Span, name: str, what: str = "", problems: bool = False) -> None:
        super().__init__(what)
        self.span, self.name, self.what, self.problems = span, name, what, problems


def cut(exc: TooManyLayers, cap: int) -> tuple[Diagnostic, Unparsed]:
    """P012 where reading stopped, and the Unparsed layer that stands for the rest."""
    what = f"{exc.what} makes " if exc.what else ""
    return (Diagnostic(exc.span, "P012", f"{what}more than {cap:,} "
                       f"{'problems' if exc.problems else 'layers'} in the file: cnncalc reads "
                       "no further", _HINT),
            Unparsed(name=exc.name, span=exc.span))


def stop_reading(layers: list[Layer], diags: list[Diagnostic], cap: int, line: Span) -> None:
    """For the front ends that read a line at a time (at most one layer a line), when the
    layers or the problems are more than ``cap`` after ``line``: the layer over the cap gives
    way to P012 and the Unparsed that stands for the rest."""
    if len(layers) > cap:
        last = layers.pop()
        exc = TooManyLayers(last.span, last.name)
    else:
        exc = TooManyLayers(line, "...", problems=True)
    diag, rest = cut(exc, cap)
    diags.append(diag)
    layers.append(rest)


LONGEST_NAME = 200
"""A layer's dotted name is at most this long: a longer one keeps its last characters after
``...``. Every layer of a container repeats the container's path in its name, so names of
unbounded length would make their total length quadratic in the text (a deep nest, a long
label over many layers)."""


def bounded_name(name: str) -> str:
    return name if len(name) <= LONGEST_NAME else "..." + name[3 - LONGEST_NAME:]


LONGEST_QUOTE = 80
"""A message quotes at most this much of the text it refuses (the source line is shown under
it anyway): a longer quote keeps its first characters before ``...``."""


def excerpt(text: str) -> str:
    return text if len(text) <= LONGEST_QUOTE else text[:LONGEST_QUOTE - 3] + "..."


NAMED = 5
"""How many models a P015 hint names: a file of many models would otherwise name them all in
each of its P015s, output quadratic in the file."""


def pick_models(names: Iterable[str | None], count: int) -> str:
    """``pick one with --model A or --model B`` for the first NAMED of ``count`` models."""
    shown = " or ".join(f"--model {n}" for n in itertools.islice(names, NAMED))
    return f"pick one with {shown}" + (f" (or {count - NAMED:,} more)" if count > NAMED else "")


def file_too_large(path: str, limit: int) -> Diagnostic:
    """P013 for a file longer than ``limit`` bytes, at its first character."""
    return Diagnostic(Span(path, 1, 1, 2), "P013",
                      f"the file is longer than {limit:,} bytes: cnncalc does not read it",
                      "raise the limit with --max-file-size SIZE (max-file-size in "
                      "[tool.cnncalc]), e.g. --max-file-size 64MiB")


def code_too_large(text: str, limit: int) -> bool:
    """Whether Keras or PyTorch ``text`` is longer than ``limit // CODE_SHARE`` bytes in
    UTF-8 (a character is 1 to 4 bytes: the text is encoded only when that decides it)."""
    share = limit // CODE_SHARE
    if len(text) > share or 4 * len(text) <= share:
        return len(text) > share
    return len(text.encode("utf-8", "surrogatepass")) > share


def code_refused(path: str, limit: int, notation: str) -> Diagnostic:
    """P013 for Keras or PyTorch text over its share of the limit."""
    return Diagnostic(Span(path, 1, 1, 2), "P013",
                      f"{'Keras' if notation == 'keras' else 'PyTorch'} text longer than "
                      f"{limit // CODE_SHARE:,} bytes (a sixteenth of the file-size limit): "
                      "cnncalc does not read it",
                      "Python's ast, which reads it, takes up to 900 bytes of memory per byte; "
                      f"raise the limit with --max-file-size SIZE to {CODE_SHARE} times the "
                      "file's size (max-file-size in [tool.cnncalc])")
