"""Which files found in a directory are specs by their content, when their name does not say.

A file named ``*.cnn`` or ``*.spec.txt`` (or matched by ``include``) is a spec by its name. A
``.txt`` file or a file without an extension (``requirements.txt``, ``LICENSE``, ``notes.txt``,
a table cnncalc wrote) is one only when cnncalc reads it as one:

- read in the notation detected for it, it gives at least one layer or an input volume, and
- at most half of its lines that are not blank and not ``#`` comments draw a parse error.

``check`` names the files it left out this way in its summary (``1 file left out as not
specs: broken.txt``), so that a spec too broken to be taken for one is never passed over in
silence; CI that must check every spec names them ``*.cnn`` or lists them in ``include``.
(A declared input is no sign: a saved ``check`` output quotes ``# cnncalc: input`` lines.)

A requirements file, a licence, notes or a saved table draw an error on nearly every line; a
spec, even one with mistakes in it, reads mostly as layers. A file with a NUL byte in its first
64 KiB is not read further (a binary file); a file that is not UTF-8, or too large to read
whole, is judged by its first 64 KiB (and, when that reads as a spec, reported as ``check``
reports it: P006, P013).

The parse that decides is the one the check then reports, so a spec costs nothing extra.
"""

from __future__ import annotations

from cnncalc.diagnostics import Severity
from cnncalc.spec import Spec, Unparsed

HEAD = 64 * 1024
"""Bytes read to tell a binary file, and to judge a file that is not read whole."""

UNREAD = ("P006", "P013")
"""Codes of a file whose text was not parsed: it is judged by its first ``HEAD`` bytes."""


def candidate(name: str) -> bool:
    """``notes.txt``, ``LICENSE``: a file name that may hold a spec (``.txt`` or no
    extension), judged by content."""
    return name.endswith(".txt") or "." not in name.lstrip(".")


def binary(head: bytes) -> bool:
    """A NUL byte among the first bytes: no notation has one."""
    return b"\x00" in head


def not_parsed(spec: Spec) -> bool:
    """The file was refused before parsing (not UTF-8, too large): its text says nothing."""
    return any(d.code in UNREAD for d in spec.diagnostics)


def head_text(data: bytes) -> str:
    """The first ``HEAD`` bytes of a file, to its last complete line, as text."""
    head = data[:HEAD]
    if len(data) > HEAD and b"\n" in head:
        head = head[:head.rindex(b"\n") + 1]
    return head.decode("utf-8", errors="surrogateescape")


def reads_as_spec(spec: Spec) -> bool:
    """The rule in the module docstring, on a parsed text."""
    if spec.input is None and all(isinstance(layer, Unparsed) for layer in spec.layers):
        return False
    bad = {d.span.line for d in spec.diagnostics if d.severity is Severity.ERROR}
    lines = sum(1 for line in spec.lines if line.strip() and not line.lstrip().startswith("#"))
    return 2 * len(bad) <= lines
