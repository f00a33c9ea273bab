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
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial

from cnncalc.diagnostics import Diagnostic
from cnncalc.parse import DefineValue
from cnncalc.parse.cursor import suggest
from cnncalc.parse.directives import find_input
from cnncalc.parse.lexer import MAX_DIGITS
from cnncalc.parse.pytorch_calls import Call, read_calls
from cnncalc.parse.pytorch_modules import MODULES
from cnncalc.parse.pytorch_trees import CallTrees
from cnncalc.spec import Layer, Span, Spec, Unparsed, source_lines

_CONTAINERS = {"Sequential", "ModuleList", "ModuleDict"}
# Containers whose forward() calls their children in the order print(model) lists them:
# nn.Sequential and torchvision's subclasses of it, Inception's conv-bn-relu BasicConv2d, and
# the classic models whose forward() is their children in order with a flatten before the
# classifier (an FC layer after a volume already connects to all of it). For any other
# container the order is an assumption, said (P014) and marked on every figure resting on it.
_IN_ORDER = frozenset(("Sequential", "Conv2dNormActivation", "ConvNormActivation",
                       "ConvBNActivation", "ConvBNReLU", "BasicConv2d", "AlexNet", "VGG"))
_NO_FORWARD = frozenset(("ModuleList", "ModuleDict"))  # the module holding one calls it
_SELF = "self"  # the wiring of `self.conv1 = nn.Conv2d(...)` lines: forward() is not shown
_MAX_LAYERS = 100_000  # what a repeated block may expand to
_GAP = re.compile(r"[ \t\n,;\[\]]+")
_LABEL = re.compile(r"\(([^()\n]*)\):[ \t]*(?:(\d+)[ \t]*x[ \t]+)?")  # and a repeat count
_RANGE = re.compile(r"(\d+)-(\d+)")
_TARGET = re.compile(r"([A-Za-z_][\w.]*)[ \t]*=(?!=)[ \t]*")
_HEAD = re.compile(r"((?:[A-Za-z_]\w*[ \t]*\.[ \t]*)*)([A-Za-z_]\w*)[ \t]*\(")
_IMPORT = re.compile(r"[ \t]*(?:import|from)\s")
_SIGNIFICANT = re.compile(r"[()'\"\n]")  # what match() looks at
_PLAIN = r"[^()'\"\n]*+"  # a call on one line, without quotes, nested at most two deep:
_SIMPLE = re.compile(rf"\((?:{_PLAIN}\({_PLAIN}\))*+{_PLAIN}\)")  # match() need not walk it
_ITEM_START = re.compile(r"\s*(?:\([^()\n]*\):|(?:[A-Za-z_]\w*\.)*(?:"
                         + "|".join(sorted(MODULES.keys() | _CONTAINERS)) + r")\s*\()")

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


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _moved(old: str, new: str, name: str) -> str:
    """``name`` with its prefix ``old`` (a repeated block's first name) made ``new``."""
    return new + "." + name[len(old):] if name.startswith(old) else name


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
    line: int
    indent: int
    line_ending: bool
    count: int = 0
    head: Span | None = None  # where its class name is written
    dropped: bool = False  # a printed model that is not read (--model, or a second one)
    diags: int = 0  # how many findings there were when it started


class _Reader:
    def __init__(self, text: str, path: str, defines: Mapping[str, DefineValue],
                 model: str | None = None) -> None:
        self.path, self.defines = path, defines
        self.wanted = model  # --model: the class of the printed model to read
        self.models: list[tuple[str, int]] = []  # each printed model's class and line
        self.read_model: tuple[str, int] | None = None  # the one read
        self.lines = source_lines(text)
        self.src = "\n".join([_mask(ln) if "#" in ln else ln for ln in self.lines]
                             if "#" in text else self.lines)
        self.starts = [0, *itertools.accumulate(len(line) + 1 for line in self.lines[:-1])]
        self.layers: list[Layer | Call] = []  # a call's layers are made when it is read
        self.most = 0  # at most how many layers self.layers makes (they are counted when
        # that might be more than _MAX_LAYERS)
        self.diags: list[Diagnostic | Call] = []  # a call stands where its diagnostic goes
        self.calls: list[Call] = []  # found and not read yet
        self.trees = CallTrees()
        self.stack = [_Box("", None, "", [], 0, 0, -1, False)]  # the root stays at the bottom
        self.assumed: dict[str, list[Span]] = {}  # class -> where each of its blocks starts
        self.has_imports = "import" in self.src or "from" in self.src

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
        end = self.src.find("\n", off)
        return len(self.src) if end < 0 else end

    def fail(self, code: str, start: int, end: int, message: str, hint: str = "") -> None:
        self.diags.append(Diagnostic(self.span(start, end), code, message, hint))

    def prefix(self) -> str:
        return self.stack[-1].prefix

    def next_names(self, label: str | None, repeat: int) -> list[str]:
        """Names of the next child (or its ``repeat`` copies) of the innermost container."""
        box = self.stack[-1]
        index, box.count, pre = box.count, box.count + repeat, box.prefix
        if label is not None and repeat == 1:
            return [f"{pre}{label}"]
        if label is not None and (m := _RANGE.fullmatch(label)) and len(m[1]) <= MAX_DIGITS:
            index, label = int(m[1]), None  # `(0-2): 3 x`: the copies are 0, 1 and 2
        if label is None:
            return [f"{pre}{index + i}" for i in range(repeat)]
        return [f"{pre}{label}[{i}]" for i in range(repeat)]

    def repeat(self, text: str, start: int) -> int:
        """The count of ``(0-2): 3 x``; 0 when it is refused: 0, or more than _MAX_LAYERS."""
        digits, end = text.lstrip("0"), start + len(text)
        if digits and len(digits) <= len(str(_MAX_LAYERS)) and int(digits) <= _MAX_LAYERS:
            return int(digits)
        if digits:
            count = f"`{text} x`" if len(text) <= 20 else f"a repeat of {len(text):,} digits"
            self.fail("P011", start, end,
                      f"{count} is more than the {_MAX_LAYERS} layers cnncalc expands")
        else:
            self.fail("P001", start, end, f"`{text} x` repeats nothing: a repeat count must be "
                      "at least 1", "print(model) writes `(0-2): 3 x` for three copies")
        return 0

    def run(self) -> None:
        pos, src, size = 0, self.src, len(self.src)
        while pos < size:
            ch = src[pos]
            if ch in " \t\n,;[]":
                pos = _GAP.match(src, pos).end()  # type: ignore[union-attr]  # ch matches
            elif ch == ")":
                pos = self.close(pos)
            elif self.has_imports and _IMPORT.match(src, src.rfind("\n", 0, pos) + 1):
                pos = self.eol(pos)
            else:
                pos = self.item(pos)
        for box in reversed(self.stack[1:]):
            start = self.starts[box.line - 1]
            self.fail("P001", start, self.eol(start), f"`{box.module}(` is never closed",
                      "add the `)` that ends it, at the indentation of this line")

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
        diags += [_assumed_order(cls, spans) for cls, spans in self.assumed.items()]
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
        if col > _indent(self.lines[line - 1]) + 1 and box.line_ending:
            later = next((ln for ln in itertools.islice(self.lines, line, None) if ln.strip()),
                         None)
            if later is not None and _indent(later) > box.indent:
                self.fail("P001", pos, pos + 1,
                          f"one `)` too many: `{box.module}(` of line {box.line} goes on below",
                          "remove this `)`")
                return pos + 1
        self.pop()
        return pos + 1

    def add(self, item: Layer | Call) -> None:
        self.layers.append(item)
        self.most += len(item.names) if isinstance(item, Call) else 1

    def size(self, block: list[Layer | Call]) -> int:
        """How many layers ``block`` makes; reads the calls found so far if that is needed."""
        if any(isinstance(b, Call) and b.count() is None for b in block):
            self.read()
        return sum(b.count() or 0 if isinstance(b, Call) else 1 for b in block)

    def assume(self, wiring: str, first: int, head: Span) -> None:
        """The layers from ``first`` on stand where the order of the text put them, because
        the ``forward()`` of ``wiring`` is not known; an inner unknown container's name stays
        on its own layers."""
        layers = self.layers
        for i in range(first, len(layers)):
            item = layers[i]
            if item.wiring is None:
                layers[i] = replace(item, wiring=wiring) if isinstance(item, Layer) else item
                if isinstance(item, Call):
                    item.wiring = wiring
        self.assumed.setdefault(wiring, []).append(head)

    def model(self, box: _Box) -> None:
        """A printed model (``Net(`` at the top level) is read when it is the one asked for
        (--model) or, without that, the first; another one is never chained onto it (P015)."""
        read = self.read_model
        self.models.append((box.module, box.line))
        if self.wanted is not None and box.module != self.wanted:
            box.dropped = True
        elif read is None:
            self.read_model = (box.module, box.line)
        elif box.head is not None:
            box.dropped = True
            names = [m for m, _ in self.models]
            self.diags.append(Diagnostic(
                box.head, "P015", f"a second model, `{box.module}`, starts here (`{read[0]}` "
                f"starts on line {read[1]}): cnncalc reads one model and never chains two",
                "pick one with " + " or ".join(f"--model {m}" for m in names)
                if len(set(names)) == len(names) else "write each model in a file of its own"))

    def drop(self, box: _Box) -> None:
        """Forget what a model that is not read made: everything since it started (it is at
        the top level, so nothing else was open), its layers, findings and notes."""
        del self.layers[box.first:]
        del self.diags[box.diags:]
        calls = [c for c in self.calls if c.span.line < box.line]
        self.calls[:] = calls
        for cls, heads in list(self.assumed.items()):
            heads[:] = [h for h in heads if h.line < box.line]
            if not heads:
                del self.assumed[cls]

    def pop(self) -> None:
        box = self.stack.pop()
        if box.dropped:
            self.drop(box)
            return
        if box.module not in _IN_ORDER and box.head is not None and box.first < len(
                self.layers) and not (box.module in _NO_FORWARD and any(
                    b.module not in _IN_ORDER for b in self.stack[1:])):
            self.assume(box.module, box.first, box.head)
        block, old = self.layers[box.first:], f"{box.names[0]}." if box.names else ""
        if not box.names:  # its repeat count was refused: an Unparsed stands for it
            del self.layers[box.first:]
        elif len(box.names) * self.most > _MAX_LAYERS and \
                len(box.names) * (size := self.size(block)) > _MAX_LAYERS:
            line = self.starts[box.line - 1]
            self.fail("P011", line, self.eol(line), f"{len(box.names)} x {size} layers "
                      f"are more than the {_MAX_LAYERS} cnncalc expands")
        elif len(box.names) > 1:  # a repeated block: copy its layers under each name
            self.most *= len(box.names)
            self.layers[box.first:] = [
                b.renamed(partial(_moved, old, name)) if isinstance(b, Call)
                else replace(b, name=_moved(old, name, b.name)) if b.name.startswith(old) else b
                for name in box.names for b in block]

    def item(self, start: int) -> int:
        """Read the module (or container) at ``start``, with its label or target; the offset
        after what was read."""
        src, pos, label, repeat, count_at = self.src, start, None, 1, -1
        attribute: Span | None = None  # `self.name = ...`: an __init__, its forward() not shown
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
                repeat = self.repeat(m[2], count_at)
        elif m := _TARGET.match(src, pos):
            pos = m.end()
            if m[1].startswith("self.") or len(self.stack) > 1:
                label = m[1].removeprefix("self.")
            if m[1].startswith("self.") and len(self.stack) == 1:
                attribute = self.span(start, m.end(1), line)
        if (head := _HEAD.match(src, pos)) is None:
            return self.skip(pos)
        module, names = head[2], self.next_names(label, repeat or 1)
        first = names[0]
        if not repeat:  # a refused count: this stands for the copies, which are read, not kept
            self.add(Unparsed(name=first, span=self.span(count_at, self.eol(count_at))))
            names = []
        if module not in MODULES:
            rest = src[head.end():self.eol(head.end())].strip()
            if module in _CONTAINERS or not rest:
                pre = self.prefix()
                path = None if label is None and len(self.stack) == 1 else first[len(pre):]
                box = _Box(module, path, pre if path is None else f"{pre}{path}.", names,
                           len(self.layers), line, _indent(self.lines[line - 1]), not rest,
                           head=self.span(head.start(2), head.end(2), line))
                if len(self.stack) == 1 and label is None and not rest:
                    self.model(box)
                box.diags = len(self.diags)
                self.stack.append(box)
                return head.end()
        if (close := self.match(head.end() - 1)) is None:
            self.fail("P001", pos, self.eol(pos), f"`{module}(` is never closed: a `)` is missing",
                      "close the call on the line where it starts, or before the next module")
            if names:
                self.add(Unparsed(name=first, span=self.span(pos, self.eol(pos))))
            return self.eol(pos)
        call = Call(module, src[pos:close + 1], self.span(pos, close + 1, line), names)
        if module in MODULES:
            self.calls.append(call)
        else:
            call.read, call.diag = True, Diagnostic(
                self.span(head.start(2), head.end(2)), "P002", f"unknown module `{module}`",
                suggest(module, list(MODULES)) or f"cnncalc reads {', '.join(MODULES)}")
        self.diags.append(call)
        self.add(call)
        if attribute is not None:
            self.assume(_SELF, len(self.layers) - 1, attribute)
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

    def match(self, open_pos: int) -> int | None:
        """The offset of the ``)`` matching ``open_pos``, or None when the text ends or a line
        starting a new module comes first."""
        if simple := _SIMPLE.match(self.src, open_pos):
            return simple.end() - 1
        depth, quote, src = 0, "", self.src
        for m in _SIGNIFICANT.finditer(src, open_pos):
            ch = m[0]
            if quote:
                quote = "" if ch in (quote, "\n") else quote
            elif ch in "'\"":
                quote = ch
            elif ch in "()":
                depth += 1 if ch == "(" else -1
                if depth == 0:
                    return m.start()
            elif _ITEM_START.match(src, m.end()):  # ch is "\n"
                return None
        return None


def _assumed_order(cls: str, heads: list[Span]) -> Diagnostic:
    """P014 for a container class whose ``forward()`` is not known, once, at its first block."""
    if cls == _SELF:
        what = (f"{len(heads)} modules are assigned to `self.` attributes" if len(heads) > 1
                else "a module is assigned to a `self.` attribute")
        return Diagnostic(
            heads[0], "P014", f"{what}: the order forward() calls them in is not shown, so "
            "cnncalc read them in the order written; the volumes, MACs and activations rest "
            "on that order (marked ~), the params do not",
            "paste print(model) instead, or write the network in the canonical notation")
    blocks = f" ({len(heads)} blocks)" if len(heads) > 1 else ""
    return Diagnostic(
        heads[0], "P014", f"`{cls}`{blocks}: its forward() is not known, so cnncalc read its "
        "children in the order printed; the volumes, MACs and activations from here on rest "
        "on that order (marked ~), the params do not",
        "cnncalc knows the forward() of nn.Sequential and of torchvision's "
        f"{', '.join(sorted(_IN_ORDER - {'Sequential'}))}; if `{cls}` pools, reshapes or "
        "branches, write the network in the canonical notation")


def parse_pytorch(text: str, path: str, defines: Mapping[str, DefineValue],
                  model: str | None = None) -> Spec:
    """Read ``print(model)`` text or ``nn.Module(...)`` calls; see the module docstring.
    ``model`` picks one printed model by its class when the text holds several."""
    reader = _Reader(text, path, defines, model)
    reader.run()
    layers, diags = reader.finish()
    if model is not None and all(m != model for m, _ in reader.models):
        built = ", ".join(f"`{m}`" for m, _ in reader.models) or "no printed model"
        diags.append(Diagnostic(Span(path, 1, 1, 2), "P015", f"--model {model}: the text "
                                f"prints {built}", "name the class a printed model starts with"))
    lines = tuple(reader.lines)
    shape, span, problems = find_input(lines, path, "pytorch")
    return Spec(path, shape, span, tuple(layers), tuple(diags + problems), lines,
                "pytorch", "floor")
