"""Module calls the PyTorch reader found, read all at once when the file has been scanned.

The reader's scan does not depend on what a call's arguments say, so it records each call and
the names of its layers (:class:`Call`) and reads them all at the end with :func:`read_calls`:
one ``ast.parse`` for every distinct call text (:mod:`cnncalc.parse.pytorch_trees`), and a
one-line text met before is not read again, its reading is moved to where it stands. The layers
and diagnostics come out in the order the calls were found, as if each had been read there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from cnncalc.diagnostics import Diagnostic
from cnncalc.parse import DefineValue
from cnncalc.parse.pycode import Refusal
from cnncalc.parse.pytorch_read import Read, read_call
from cnncalc.parse.pytorch_trees import CallTrees
from cnncalc.spec import Layer, Span, Unparsed

_new = tuple.__new__  # Span(...) without NamedTuple's Python-level __new__


@dataclass
class Call:
    """One call: its module, text and span, the names of its layers, and once read, the layer
    class, keyword arguments and field spans it builds, or the diagnostic that refuses it. A
    copy of it under other names (in a repeated block) shares its ``origin``'s reading. When
    it cannot be read, one Unparsed stands for its layers (none when it has no names)."""

    module: str
    text: str
    span: Span
    names: list[str]
    built: Read | None = None
    diag: Diagnostic | None = None
    read: bool = False
    origin: Call | None = None
    wiring: str | None = None

    def count(self) -> int | None:
        """How many layers it makes; None while it is not read (and that matters)."""
        if len(self.names) <= 1:
            return len(self.names)
        call = self.origin or self
        return None if not call.read else len(self.names) if call.built else 1

    def renamed(self, rename: Callable[[str], str]) -> Call:
        return Call(self.module, self.text, self.span, [rename(name) for name in self.names],
                    origin=self.origin or self, wiring=self.wiring)

    def layers(self) -> list[Layer]:
        built = (self.origin or self).built
        wiring = self.wiring
        if built is None:
            return [Unparsed(name=self.names[0], span=self.span, wiring=wiring)] \
                if self.names else []
        cls, kwargs, fields = built
        return [cls(name=name, span=self.span, fields=fields, wiring=wiring, **kwargs)
                for name in self.names]


def _moved(span: Span, lines: int, cols: int) -> Span:
    return _new(Span, (span.path, span.line + lines, span.col + cols, span.end_col + cols))


def _read_like(call: Call, twin: Call) -> None:
    """Read ``call`` as its ``twin`` was, the same one-line text elsewhere: every span moves
    by as many lines and columns as the call's own does."""
    lines, cols = call.span.line - twin.span.line, call.span.col - twin.span.col
    if twin.built is not None:
        cls, kwargs, fields = twin.built
        call.built = cls, kwargs, tuple((k, _moved(s, lines, cols)) for k, s in fields)
    if twin.diag is not None:
        call.diag = replace(twin.diag, span=_moved(twin.diag.span, lines, cols))
    call.read = True


def read_calls(calls: list[Call], trees: CallTrees, line_end: Callable[[int], int],
               defines: Mapping[str, DefineValue]) -> None:
    """Read ``calls``; ``line_end(line)`` is the column after the text of a line."""
    trees.prefetch([c.text for c in calls])
    seen: dict[str, Call] = {}
    for c in calls:
        if (twin := seen.get(c.text)) is not None:
            _read_like(c, twin)
            continue
        try:
            c.built = read_call(c.module, c.text, c.span, line_end, defines, trees)
        except Refusal as exc:
            c.diag = exc.diag
        c.read = True
        if "\n" not in c.text:
            seen[c.text] = c
