"""How much one spec may ask of cnncalc: at most MAX_LAYERS layers and MAX_FILE_SIZE bytes.

Both are errors with a code when exceeded, and both can be raised (``--max-layers``,
``--max-file-size``; ``max-layers`` and ``max-file-size`` in ``[tool.cnncalc]``):

- P012 too-many-layers: every front end stops reading at the first layer over the cap (a
  PyTorch repeat is refused before it is expanded), so that a short text that repeats
  blocks cannot make millions of layers first. An Unparsed layer stands for what was not
  read: the layer list is incomplete, so the analysis withholds the totals.
- P013 file-too-large: a file (or standard input) longer than the limit is not read beyond
  it, nor parsed.
"""

from __future__ import annotations

from cnncalc.diagnostics import Diagnostic
from cnncalc.spec import Span, Unparsed

MAX_LAYERS = 100_000
"""Layers per file, in every notation and across all blocks."""

MAX_FILE_SIZE = 8 * 2**20
"""Bytes per file: 8 MiB. Reading a spec costs at most about 60 bytes of memory per byte
of Keras code (Python's ``ast``), the heaviest notation, and a 100,000-layer lecture spec
(4.4 MB) fits; ``benchmarks/bench_pathological.py`` measures both."""

_HINT = ("raise the cap with --max-layers N (max-layers in [tool.cnncalc]), or split the "
         "network into files")


class TooManyLayers(Exception):
    """Raised by a front end where reading must stop; ``what`` names what went over, when
    it is not the layer at ``span`` (``the repeat `3 x```)."""

    def __init__(self, span: Span, name: str, what: str = "") -> None:
        super().__init__(what)
        self.span, self.name, self.what = span, name, what


def cut(exc: TooManyLayers, cap: int) -> tuple[Diagnostic, Unparsed]:
    """P012 where reading stopped, and the Unparsed layer that stands for the rest."""
    what = f"{exc.what} makes " if exc.what else ""
    return (Diagnostic(exc.span, "P012", f"{what}more than {cap:,} layers in the file: cnncalc "
                       "reads no further", _HINT),
            Unparsed(name=exc.name, span=exc.span))


def file_too_large(path: str, limit: int) -> Diagnostic:
    """P013 for a file longer than ``limit`` bytes, at its first character."""
    return Diagnostic(Span(path, 1, 1, 2), "P013",
                      f"the file is longer than {limit:,} bytes: cnncalc does not read it",
                      "raise the limit with --max-file-size SIZE (max-file-size in "
                      "[tool.cnncalc]), e.g. --max-file-size 64MiB")
