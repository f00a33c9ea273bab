"""PyTorch front end: what ``print(model)`` shows, or ``nn.Conv2d(...)`` constructor calls.

    AlexNet(
      (features): Sequential(
        (0): Conv2d(3, 64, kernel_size=(11, 11), stride=(4, 4), padding=(2, 2))

Containers (``Sequential(``, ``ModuleList(``, a custom class whose ``(`` ends its line) are
flattened in order and layers are named by their dotted path (``features.0``), as
``named_modules()`` names them; ``(0-2): 3 x Linear(...)`` is three layers. Constructor code
(``nn.Conv2d(3, 64, 3),`` one a line, bare, after ``self.conv1 =`` or inside ``nn.Sequential(``)
is read the same way. Each call's arguments are read, never evaluated, by
:mod:`cnncalc.parse.pytorch_modules`, all calls at once when the text has been scanned
(:mod:`cnncalc.parse.pytorch_calls`). PyTorch floors sizes (``rounding="floor"``; ceil-mode
pools round up). The printed model has no input size: pass ``--input`` or write
``# cnncalc: input 224x224x3``. ``AvgPool2d`` does not print its ``ceil_mode``.
"""

from __future__ import annotations

import bisect
import itertools
import re
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial

from cnncalc.diagnostics import Diagnostic
from cnncalc.parse import DefineValue
from cnncalc.parse.bounds import MAX_LAYERS, TooManyLayers, cut
from cnncalc.parse.cursor import suggest
from cnncalc.parse.directives import find_input
from cnncalc.parse.lexer import MAX_DIGITS
from cnncalc.parse.pytorch_calls import Call, read_calls
from cnncalc.parse.pytorch_modules import MODULES
from cnncalc.parse.pytorch_trees import CallTrees
from cnncalc.parse.pytorch_walk import Matcher
from cnncalc.spec import Layer, Span, Spec, Unparsed, source_lines

_CONTAINERS = {"Sequential", "ModuleList", "ModuleDict"}
_GAP = re.compile(r"[ \t\n,;\[\]]+")
_LABEL = re.compile(r"\(([^()\n]*)\):[ \t]*(?:(\d+)[ \t]*x[ \t]+)?")  # and a repeat count
_RANGE = re.compile(r"(\d+)-(\d+)")
_TARGET = re.compile(r"([A-Za-z_][\w.]*)[ \t]*=(?!=)[ \t]*")
_HEAD = re.compile(r"((?:[A-Za-z_]\w*[ \t]*\.[ \t]*)*)([A-Za-z_]\w*)[ \t]*\(")
_IMPORT = re.compile(r"[ \t]*(?:import|from)\s")
# a module or a label at the first character of a line that is not blank (pytorch_walk)
_ITEM_START = re.compile(r"\([^()\n]*\):|(?:[A-Za-z_]\w*\.)*(?:"
                         + "|".join(sorted(MODULES.keys() | _CONTAINERS)) + r")\s*\(")
_BLANK_REST = re.compile(r"[^\S\n]*(?:\n|\Z)")  # nothing but blanks to the end of the line

_new = tuple.__new__  # Span(...) without NamedTuple's Python-level __new__


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


def _moved(old: str, new: str, name: str) -> str:
    """``name`` with its prefix ``old`` (a repeated block's first name) made ``new``."""
    return _bounded(new + "." + name[len(old):]) if name.startswith(old) else name


LONGEST_NAME = 200
"""A layer's dotted name is at most this long: a longer one keeps its last characters after
``...``. Every layer of a container repeats the container's path in its name, so names of
unbounded length would make their total length quadratic in the text (a deep nest, a long
label over many layers)."""


def _bounded(name: str) -> str:
    return name if len(name) <= LONGEST_NAME else "..." + name[3 - LONGEST_NAME:]


@dataclass
class _Box:
    """An open container: its path component and the path of its children, its names when
    repeated (none when its repeat count was refused), where its layers start, its line and
    indentation, whether its ``(`` ends the line, and its children so far."""

    module: str
    path: str | None
    prefix: str
    names: list[str]
    first: int
    before: int
    line: int
    indent: int
    line_ending: bool
    count: int = 0


class _Reader:
    def __init__(self, text: str, path: str, defines: Mapping[str, DefineValue],
                 max_layers: int = MAX_LAYERS) -> None:
        self.path, self.defines, self.max_layers = path, defines, max_layers
        self.lines = source_lines(text)
        self.src = "\n".join([_mask(ln) if "#" in ln else ln for ln in self.lines]
                             if "#" in text else self.lines)
        # the offset where each line starts (8 bytes a line: a list of ints takes 36)
        self.starts = array("q", [0])
        self.starts.extend(itertools.accumulate(len(line) + 1 for line in self.lines[:-1]))
        self.layers: list[Layer | Call] = []  # a call's layers are made when it is read
        self.total = 0  # how many layers self.layers makes
        self.problems = 0  # how many problems fail() reported
        self.diags: list[Diagnostic | Call] = []  # a call stands where its diagnostic goes
        self.calls: list[Call] = []  # found and not read yet
        self.trees = CallTrees()
        self.stack = [_Box("", None, "", [], 0, 0, 0, -1, False)]  # the root stays at the bottom
        self.has_imports = "import" in self.src or "from" in self.src
        # per line, worked out once: whatever looks at a line does so in time linear in the
        # text, not once per item or `)` on it
        self.indents: dict[int, int] = {}
        self.import_line = (0, False)  # the last line asked about, and whether it imports
        self.below: dict[int, int | None] = {}  # the next line that is not blank, per line
        self.match = Matcher(self.src, self.lines, self.starts, _ITEM_START).match

    def indent(self, line: int) -> int:
        """The indentation of ``line`` (1-based)."""
        found = self.indents.get(line)
        if found is None:
            text = self.lines[line - 1]
            found = self.indents[line] = len(text) - len(text.lstrip())
        return found

    def imports(self, pos: int) -> bool:
        """Whether the line of ``pos`` is an ``import`` or ``from`` statement."""
        line = bisect.bisect_right(self.starts, pos)
        if self.import_line[0] != line:
            self.import_line = (line, _IMPORT.match(self.src, self.starts[line - 1]) is not None)
        return self.import_line[1]

    def next_text(self, line: int) -> int | None:
        """The first line after ``line`` that is not blank, if any."""
        if line not in self.below:
            self.below[line] = next((k for k in range(line + 1, len(self.lines) + 1)
                                     if (text := self.lines[k - 1]) and not text.isspace()),
                                    None)
        return self.below[line]

    def at(self, off: int) -> tuple[int, int]:
        """1-based (line, column) of an offset into the source."""
        i = bisect.bisect_right(self.starts, off) - 1
        return i + 1, off - self.starts[i] + 1

    def span(self, start: int, end: int, line: int = 0) -> Span:
        """A one-line span; one that crosses lines stops at the end of its first line. ``line``,
        when known, is the line of ``start``."""
        i = line - 1 if line else bisect.bisect_right(self.starts, start) - 1
        line_start = self.starts[i]
        col = start - line_start + 1
        if end < line_start or (i + 1 < len(self.starts) and end >= self.starts[i + 1]):
            end_col = self.line_end(i + 1)
        else:
            end_col = end - line_start + 1
        return _new(Span, (self.path, i + 1, col, end_col if end_col > col else col + 1))

    def line_end(self, line: int) -> int:
        """The column after the text of ``line``."""
        return len(self.lines[line - 1].rstrip()) + 1

    def eol(self, off: int) -> int:
        """The offset of the end of the line of ``off`` (found from the line starts: many
        items on one long line each ask for it)."""
        line = bisect.bisect_right(self.starts, off)
        return self.starts[line] - 1 if line < len(self.starts) else len(self.src)

    def fail(self, code: str, start: int, end: int, message: str, hint: str = "") -> None:
        """A problem with the text (a call's own problem is the call's); reading stops at
        more problems than the layer cap."""
        span = self.span(start, end)
        self.problems += 1
        if self.problems > self.max_layers:
            raise TooManyLayers(span, "...", problems=True)
        self.diags.append(Diagnostic(span, code, message, hint))

    def prefix(self) -> str:
        return self.stack[-1].prefix

    def next_names(self, label: str | None, repeat: int) -> list[str]:
        """Names of the next child (or its ``repeat`` copies) of the innermost container."""
        box = self.stack[-1]
        index, box.count, pre = box.count, box.count + repeat, box.prefix
        if label is not None and repeat == 1:
            return [_bounded(f"{pre}{label}")]
        if label is not None and (m := _RANGE.fullmatch(label)) and len(m[1]) <= MAX_DIGITS:
            index, label = int(m[1]), None  # `(0-2): 3 x`: the copies are 0, 1 and 2
        if label is None:
            return [_bounded(f"{pre}{index + i}") for i in range(repeat)]
        label = _bounded(label)
        return [_bounded(f"{pre}{label}[{i}]") for i in range(repeat)]

    def repeat(self, text: str, start: int, name: str) -> int:
        """The count of ``(0-2): 3 x``; 0 when it is refused. A count over the layer cap
        stops reading."""
        digits, end = text.lstrip("0"), start + len(text)
        if digits and len(digits) <= len(str(self.max_layers)) and \
                int(digits) <= self.max_layers:
            return int(digits)
        if digits:
            count = f"`{text} x`" if len(text) <= 20 else f"a repeat of {len(text):,} digits"
            raise TooManyLayers(self.span(start, end), name, f"the repeat {count}")
        else:
            self.fail("P001", start, end, f"`{text} x` repeats nothing: a repeat count must be "
                      "at least 1", "print(model) writes `(0-2): 3 x` for three copies")
        return 0

    def run(self) -> None:
        pos, src, size = 0, self.src, len(self.src)
        try:
            while pos < size:
                ch = src[pos]
                if ch in " \t\n,;[]":
                    pos = _GAP.match(src, pos).end()  # type: ignore[union-attr]  # ch matches
                elif ch == ")":
                    pos = self.close(pos)
                elif self.has_imports and self.imports(pos):
                    pos = self.eol(pos)
                else:
                    pos = self.item(pos)
            for box in reversed(self.stack[1:]):
                start = self.starts[box.line - 1]
                self.fail("P001", start, self.eol(start), f"`{box.module}(` is never closed",
                          "add the `)` that ends it, at the indentation of this line")
        except TooManyLayers as exc:
            diag, rest = cut(exc, self.max_layers)
            self.diags.append(diag)
            self.layers.append(rest)

    def finish(self) -> tuple[list[Layer], list[Diagnostic]]:
        """Read the calls and make their layers: the layers and diagnostics, in order."""
        self.read()
        layers: list[Layer] = []
        for item in self.layers:
            if isinstance(item, Call):
                layers += item.layers()
            else:
                layers.append(item)
        diags: list[Diagnostic] = []
        for d in self.diags:
            if not isinstance(d, Call):
                diags.append(d)
            elif d.diag is not None:
                diags.append(d.diag)
        return layers, diags

    def read(self) -> None:
        """Read the calls found so far."""
        read_calls(self.calls, self.trees, self.line_end, self.defines)
        self.calls = []

    def close(self, pos: int) -> int:
        line, col = self.at(pos)
        box = self.stack[-1]
        if len(self.stack) == 1:
            self.fail("P001", pos, pos + 1, "a `)` with no `(` to close",
                      "remove it, or add the module it was meant to end")
            return pos + 1
        if col > self.indent(line) + 1 and box.line_ending:
            later = self.next_text(line)
            if later is not None and self.indent(later) > box.indent:
                self.fail("P001", pos, pos + 1,
                          f"one `)` too many: `{box.module}(` of line {box.line} goes on below",
                          "remove this `)`")
                return pos + 1
        self.pop()
        return pos + 1

    def add(self, item: Layer | Call) -> None:
        """Append ``item``, unless that makes more layers than the cap: then stop reading. A
        repeated call makes one layer when it cannot be read, so it is read now."""
        count = 1
        if isinstance(item, Call):
            if len(item.names) > 1 and not item.read:
                read_calls([item], self.trees, self.line_end, self.defines)
            count = item.count() or 0
        if self.total + count > self.max_layers:
            name = item.names[0] if isinstance(item, Call) else item.name
            raise TooManyLayers(item.span, name)
        self.layers.append(item)
        self.total += count

    def pop(self) -> None:
        box = self.stack.pop()
        old = f"{box.names[0]}." if box.names else ""
        if not box.names:  # its repeat count was refused: an Unparsed stands for it
            del self.layers[box.first:]
            self.total = box.before
        elif len(box.names) > 1:  # a repeated block: copy its layers under each name
            size = self.total - box.before
            if box.before + len(box.names) * size > self.max_layers:
                line = self.starts[box.line - 1]
                raise TooManyLayers(self.span(line, self.eol(line), box.line), box.names[1],
                                    f"this block of {size:,} layers repeated "
                                    f"{len(box.names):,} times")
            self.total = box.before + len(box.names) * size
            block = self.layers[box.first:]
            self.layers[box.first:] = [
                b.renamed(partial(_moved, old, name)) if isinstance(b, Call)
                else replace(b, name=_moved(old, name, b.name)) if b.name.startswith(old) else b
                for name in box.names for b in block]

    def item(self, start: int) -> int:
        """Read the module (or container) at ``start``, with its label or target; the offset
        after what was read."""
        src, pos, label, repeat, count_at = self.src, start, None, 1, -1
        line = bisect.bisect_right(self.starts, start)
        if m := _LABEL.match(src, pos):
            label, pos, box = m[1].strip(), m.end(), self.stack[-1]
            if box.line_ending and box.line < line and start - self.starts[line - 1] <= box.indent:
                self.fail("P001", start, self.eol(start),
                          f"`{box.module}(` of line {box.line} is not closed before this line",
                          f"add a `)` at the indentation of line {box.line}")
                self.pop()
            if m[2] is not None:
                count_at = m.start(2)
                repeat = self.repeat(m[2], count_at, f"{self.prefix()}{label}")
        elif m := _TARGET.match(src, pos):
            pos = m.end()
            if m[1].startswith("self.") or len(self.stack) > 1:
                label = m[1].removeprefix("self.")
        if (head := _HEAD.match(src, pos)) is None:
            return self.skip(pos)
        module, names = head[2], self.next_names(label, repeat or 1)
        first = names[0]
        if not repeat:  # a refused count: this stands for the copies, which are read, not kept
            self.add(Unparsed(name=first, span=self.span(count_at, self.eol(count_at))))
            names = []
        if module not in MODULES:
            line_ending = _BLANK_REST.match(src, head.end()) is not None
            if module in _CONTAINERS or line_ending:
                pre = self.prefix()
                path = None if label is None and len(self.stack) == 1 else first[len(pre):]
                self.stack.append(_Box(module, path, pre if path is None else f"{first}.",
                                       names, len(self.layers), self.total, line,
                                       self.indent(line), line_ending))
                return head.end()
        if (close := self.match(head.end() - 1)) is None:
            self.fail("P001", pos, self.eol(pos), f"`{module}(` is never closed: a `)` is missing",
                      "close the call on the line where it starts, or before the next module")
            if names:
                self.add(Unparsed(name=first, span=self.span(pos, self.eol(pos))))
            return self.eol(pos)
        call = Call(module, src[pos:close + 1], self.span(pos, close + 1, line), names)
        if module not in MODULES:
            call.read, call.diag = True, Diagnostic(
                self.span(head.start(2), head.end(2)), "P002", f"unknown module `{module}`",
                suggest(module, list(MODULES)) or f"cnncalc reads {', '.join(MODULES)}")
        self.add(call)
        if not call.read:
            self.calls.append(call)
        self.diags.append(call)
        return close + 1

    def skip(self, pos: int) -> int:
        """Report the text at ``pos``, which is no module, and skip the rest of its line."""
        end = self.eol(pos)
        word = (self.src[pos:end].split() or [""])[0]
        self.fail("P001", pos, pos + len(word),
                  f"expected a module such as `Conv2d(3, 64, kernel_size=3)`, found `{word}`",
                  "paste what print(model) shows, or one nn.Module(...) call a line")
        self.add(Unparsed(name=word or "?", span=self.span(pos, end)))
        for _ in range(self.src.count(")", pos, end) - self.src.count("(", pos, end)):
            if len(self.stack) > 1:
                self.pop()  # the skipped text ends containers: `...]),`
        return end


def parse_pytorch(text: str, path: str, defines: Mapping[str, DefineValue],
                  max_layers: int = MAX_LAYERS) -> Spec:
    """Read ``print(model)`` text or ``nn.Module(...)`` calls; see the module docstring.
    Reading stops at the first layer over ``max_layers``."""
    reader = _Reader(text, path, defines, max_layers)
    reader.run()
    layers, diags = reader.finish()
    lines = tuple(reader.lines)
    shape, span, problems = find_input(lines, path)
    return Spec(path, shape, span, tuple(layers), tuple(diags + problems), lines,
                "pytorch", "floor")
