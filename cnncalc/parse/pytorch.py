"""PyTorch front end: what ``print(model)`` shows, or ``nn.Conv2d(...)`` constructor calls.

    AlexNet(
      (features): Sequential(
        (0): Conv2d(3, 64, kernel_size=(11, 11), stride=(4, 4), padding=(2, 2))

Containers (``Sequential(``, ``ModuleList(``, a custom class whose ``(`` ends its line) are
flattened in order and layers are named by their dotted path (``features.0``), as
``named_modules()`` names them; ``(0-2): 3 x Linear(...)`` is three layers. Constructor code
(``nn.Conv2d(3, 64, 3),`` one a line, bare, after ``self.conv1 =`` or inside ``nn.Sequential(``)
is read the same way. Each call's arguments are read, never evaluated, by
:mod:`cnncalc.parse.pytorch_modules`. PyTorch floors sizes (``rounding="floor"``; ceil-mode
pools round up). The printed model has no input size: pass ``--input`` or write
``# cnncalc: input 224x224x3``. ``AvgPool2d`` does not print its ``ceil_mode``.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from cnncalc.diagnostics import Diagnostic
from cnncalc.parse import DefineValue
from cnncalc.parse.cursor import suggest
from cnncalc.parse.directives import find_input
from cnncalc.parse.pycode import Refusal, refuse
from cnncalc.parse.pytorch_modules import MODULES, read_call
from cnncalc.spec import Layer, Span, Spec, Unparsed

_CONTAINERS = {"Sequential", "ModuleList", "ModuleDict"}
_MAX_LAYERS = 100_000  # what a repeated block may expand to
_LABEL = re.compile(r"\(([^()\n]*)\):[ \t]*")
_REPEAT = re.compile(r"(\d+)[ \t]*x[ \t]+")
_TARGET = re.compile(r"([A-Za-z_][\w.]*)[ \t]*=(?!=)[ \t]*")
_HEAD = re.compile(r"((?:[A-Za-z_]\w*[ \t]*\.[ \t]*)*)([A-Za-z_]\w*)[ \t]*\(")
_IMPORT = re.compile(r"[ \t]*(?:import|from)\s")
_ITEM_START = re.compile(r"\s*(?:\([^()\n]*\):|(?:[A-Za-z_]\w*\.)*(?:"
                         + "|".join(sorted(MODULES.keys() | _CONTAINERS)) + r")\s*\()")


def _mask(line: str) -> str:
    """The line with its ``#`` comment (outside quotes) blanked, columns kept."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            return line[:i] + " " * (len(line) - i)
    return line


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


@dataclass
class _Box:
    """An open container: its path component, its names when repeated, where its layers start,
    its line and indentation, whether its ``(`` ends the line, and its children so far."""

    module: str
    path: str | None
    names: list[str]
    first: int
    line: int
    indent: int
    line_ending: bool
    count: int = 0


class _Reader:
    def __init__(self, text: str, path: str, defines: Mapping[str, DefineValue]) -> None:
        self.path, self.defines = path, defines
        self.lines = text.splitlines()
        self.src = "\n".join(_mask(line) for line in self.lines)
        self.starts = [0, *itertools.accumulate(len(line) + 1 for line in self.lines[:-1])]
        self.layers: list[Layer] = []
        self.diags: list[Diagnostic] = []
        self.stack = [_Box("", None, [], 0, 0, -1, False)]  # the root stays at the bottom

    def at(self, off: int) -> tuple[int, int]:
        """1-based (line, column) of an offset into the source."""
        i = bisect.bisect_right(self.starts, off) - 1
        return i + 1, off - self.starts[i] + 1

    def span(self, start: int, end: int) -> Span:
        """A one-line span; one that crosses lines stops at the end of its first line."""
        (line, col), (end_line, end_col) = self.at(start), self.at(end)
        if end_line != line:
            end_col = len(self.lines[line - 1].rstrip()) + 1
        return Span(self.path, line, col, max(end_col, col + 1))

    def eol(self, off: int) -> int:
        end = self.src.find("\n", off)
        return len(self.src) if end < 0 else end

    def fail(self, code: str, start: int, end: int, message: str, hint: str = "") -> None:
        self.diags.append(Diagnostic(self.span(start, end), code, message, hint))

    def prefix(self) -> str:
        return "".join(f"{b.path}." for b in self.stack if b.path is not None)

    def next_names(self, label: str | None, repeat: int) -> list[str]:
        """Names of the next child (or its ``repeat`` copies) of the innermost container."""
        box, pre = self.stack[-1], self.prefix()
        index, box.count = box.count, box.count + repeat
        if repeat > 1 and label is not None and (m := re.fullmatch(r"(\d+)-(\d+)", label)):
            index, label = int(m[1]), None
        if label is None:
            return [f"{pre}{index + i}" for i in range(repeat)]
        return [f"{pre}{label}"] if repeat == 1 else [f"{pre}{label}[{i}]" for i in range(repeat)]

    def run(self) -> None:
        pos = 0
        while pos < len(self.src):
            ch = self.src[pos]
            if ch in " \t\n,;[]":
                pos += 1
            elif ch == ")":
                pos = self.close(pos)
            elif _IMPORT.match(self.src, self.starts[self.at(pos)[0] - 1]):
                pos = self.eol(pos)
            else:
                pos = self.item(pos)
        for box in reversed(self.stack[1:]):
            start = self.starts[box.line - 1]
            self.fail("P001", start, self.eol(start), f"`{box.module}(` is never closed",
                      "add the `)` that ends it, at the indentation of this line")

    def close(self, pos: int) -> int:
        line, col = self.at(pos)
        box = self.stack[-1]
        if len(self.stack) == 1:
            self.fail("P001", pos, pos + 1, "a `)` with no `(` to close",
                      "remove it, or add the module it was meant to end")
            return pos + 1
        if col > _indent(self.lines[line - 1]) + 1 and box.line_ending:
            later = [ln for ln in self.lines[line:] if ln.strip()]
            if later and _indent(later[0]) > box.indent:
                self.fail("P001", pos, pos + 1,
                          f"one `)` too many: `{box.module}(` of line {box.line} goes on below",
                          "remove this `)`")
                return pos + 1
        self.pop()
        return pos + 1

    def pop(self) -> None:
        box = self.stack.pop()
        block, old = self.layers[box.first:], f"{box.names[0]}." if box.names else ""
        if len(box.names) * len(block) > _MAX_LAYERS:
            line = self.starts[box.line - 1]
            self.fail("P011", line, self.eol(line), f"{len(box.names)} x {len(block)} layers "
                      f"are more than the {_MAX_LAYERS} cnncalc expands")
        elif len(box.names) > 1:  # a repeated block: copy its layers under each name
            self.layers[box.first:] = [
                replace(lyr, name=name + "." + lyr.name[len(old):])
                if lyr.name.startswith(old) else lyr for name in box.names for lyr in block]

    def item(self, start: int) -> int:
        pos, label, repeat = start, None, 1
        line, col = self.at(start)
        if m := _LABEL.match(self.src, pos):
            label, pos = m[1].strip(), m.end()
            if (box := self.stack[-1]).line_ending and box.line < line and col - 1 <= box.indent:
                self.fail("P001", start, self.eol(start),
                          f"`{box.module}(` of line {box.line} is not closed before this line",
                          f"add a `)` at the indentation of line {box.line}")
                self.pop()
            if (m := _REPEAT.match(self.src, pos)) and int(m[1]) <= _MAX_LAYERS:
                repeat, pos = int(m[1]), m.end()
        elif m := _TARGET.match(self.src, pos):
            pos = m.end()
            if m[1].startswith("self.") or len(self.stack) > 1:
                label = m[1].removeprefix("self.")
        head = _HEAD.match(self.src, pos)
        if head is None:
            end = self.eol(pos)
            word = (self.src[pos:end].split() or [""])[0]
            self.fail("P001", pos, pos + len(word),
                      f"expected a module such as `Conv2d(3, 64, kernel_size=3)`, found `{word}`",
                      "paste what print(model) shows, or one nn.Module(...) call a line")
            self.layers.append(Unparsed(name=word or "?", span=self.span(pos, end)))
            for _ in range(self.src.count(")", pos, end) - self.src.count("(", pos, end)):
                if len(self.stack) > 1:
                    self.pop()  # the skipped text ends containers: `...]),`
            return end
        module, rest = head[2], self.src[head.end():self.eol(head.end())].strip()
        names = self.next_names(label, repeat)
        if module not in MODULES and (module in _CONTAINERS or not rest):
            path = None if label is None and len(self.stack) == 1 else \
                names[0][len(self.prefix()):]
            self.stack.append(_Box(module, path, names, len(self.layers), line,
                                   _indent(self.lines[line - 1]), not rest))
            return head.end()
        close = self.match(head.end() - 1)
        if close is None:
            self.fail("P001", pos, self.eol(pos), f"`{module}(` is never closed: a `)` is missing",
                      "close the call on the line where it starts, or before the next module")
            self.layers.append(Unparsed(name=names[0], span=self.span(pos, self.eol(pos))))
            return self.eol(pos)
        span = self.span(pos, close + 1)
        try:
            if module not in MODULES:
                raise refuse(self.span(head.start(2), head.end(2)), "P002",
                             f"unknown module `{module}`", suggest(module, list(MODULES))
                             or f"cnncalc reads {', '.join(MODULES)}")
            cls, kwargs, fields = read_call(module, self.src[pos:close + 1], pos, span,
                                            self.span, self.defines)
            self.layers.extend(cls(name=name, span=span, fields=fields, **kwargs)
                               for name in names)
        except Refusal as exc:
            if exc.diag is not None:
                self.diags.append(exc.diag)
            self.layers.append(Unparsed(name=names[0], span=span))
        return close + 1

    def match(self, open_pos: int) -> int | None:
        """The offset of the ``)`` matching ``open_pos``, or None when the text ends or a line
        starting a new module comes first."""
        depth, quote = 0, ""
        for i in range(open_pos, len(self.src)):
            ch = self.src[i]
            if quote:
                quote = "" if ch in (quote, "\n") else quote
            elif ch in "'\"":
                quote = ch
            elif ch in "()":
                depth += 1 if ch == "(" else -1
                if depth == 0:
                    return i
            elif ch == "\n" and _ITEM_START.match(self.src, i + 1):
                return None
        return None


def parse_pytorch(text: str, path: str, defines: Mapping[str, DefineValue]) -> Spec:
    """Read ``print(model)`` text or ``nn.Module(...)`` calls; see the module docstring."""
    reader = _Reader(text, path, defines)
    reader.run()
    lines = tuple(text.splitlines())
    shape, span, problems = find_input(lines, path)
    return Spec(path, shape, span, tuple(reader.layers), tuple(reader.diags + problems), lines,
                "pytorch", "floor")
