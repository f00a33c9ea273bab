"""PyTorch front end: what ``print(model)`` shows, or ``nn.Conv2d(...)`` constructor calls.

    AlexNet(
      (features): Sequential(
        (0): Conv2d(3, 64, kernel_size=(11, 11), stride=(4, 4), padding=(2, 2))

Containers (``Sequential(``, ``ModuleList(``, a custom class whose ``(`` ends its line) are
flattened in order and layers are named by their dotted path (``features.0``), as
``named_modules()`` names them; ``(0-2): 3 x Linear(...)`` is three layers. A container of a
class whose forward() cnncalc knows (torchvision's classic models and blocks,
:mod:`cnncalc.parse.pytorch_forward`) is wired as that forward wires it
(:mod:`cnncalc.parse.pytorch_blocks`); any other's order is an assumption (P014). Constructor code
(``nn.Conv2d(3, 64, 3),`` one a line, bare, after ``self.conv1 =`` or inside ``nn.Sequential(``)
is read the same way. Each call's arguments are read, never evaluated, by
:mod:`cnncalc.parse.pytorch_modules`, all calls at once when the text has been scanned
(:mod:`cnncalc.parse.pytorch_calls`). PyTorch floors sizes (``rounding="floor"``; ceil-mode
pools round up). The printed model has no input size: pass ``--input`` or write
``# cnncalc: input 224x224x3``. ``AvgPool2d`` does not print its ``ceil_mode``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial

from cnncalc.diagnostics import Diagnostic
from cnncalc.parse import DefineValue
from cnncalc.parse.bounds import LONGEST_NAME as LONGEST_NAME  # the reader's bound, here before
from cnncalc.parse.bounds import MAX_LAYERS, TooManyLayers, cut, pick_models
from cnncalc.parse.bounds import bounded_name as _bounded
from cnncalc.parse.cursor import suggest
from cnncalc.parse.directives import find_input
from cnncalc.parse.lexer import MAX_DIGITS
from cnncalc.parse.pytorch_blocks import (
    Block,
    Child,
    Item,
    item_span,
    make_block,
    match,
    write_layers,
)
from cnncalc.parse.pytorch_calls import Call, read_calls
from cnncalc.parse.pytorch_forward import FORWARDS
from cnncalc.parse.pytorch_modules import MODULES
from cnncalc.parse.pytorch_text import Text
from cnncalc.parse.pytorch_trees import CallTrees
from cnncalc.parse.pytorch_walk import Matcher
from cnncalc.spec import Layer, Span, Spec, Unparsed

_CONTAINERS = {"Sequential", "ModuleList", "ModuleDict"}
# Containers whose forward() calls their children in the order print(model) lists them:
# nn.Sequential and torchvision's subclasses of it. The forward() of torchvision's classic
# models and their blocks is in pytorch_forward.FORWARDS. For any other container the order is an
# assumption, said (P014) and marked on every figure resting on it.
_IN_ORDER = frozenset(("Sequential", "Conv2dNormActivation", "ConvNormActivation",
                       "ConvBNActivation", "ConvBNReLU"))
_NO_FORWARD = frozenset(("ModuleList", "ModuleDict"))  # the module holding one calls it
_SELF = "self"  # the wiring of `self.conv1 = nn.Conv2d(...)` lines: forward() is not shown
_GAP = re.compile(r"[ \t\n,;\[\]]+")
_LABEL = re.compile(r"\(([^()\n]*)\):[ \t]*(?:([0-9]+)[ \t]*x[ \t]+)?")  # and a repeat count
_RANGE = re.compile(r"([0-9]+)-([0-9]+)")
_TARGET = re.compile(r"([A-Za-z_][\w.]*)[ \t]*=(?!=)[ \t]*")
_HEAD = re.compile(r"((?:[A-Za-z_]\w*[ \t]*\.[ \t]*)*)([A-Za-z_]\w*)[ \t]*\(")
# a module or a label at the first character of a line that is not blank (pytorch_walk)
_ITEM_START = re.compile(r"\([^()\n]*\):|(?:[A-Za-z_]\w*\.)*(?:"
                         + "|".join(sorted(MODULES.keys() | _CONTAINERS)) + r")\s*\(")
_BLANK_REST = re.compile(r"[^\S\n]*(?:\n|\Z)")  # nothing but blanks to the end of the line


def _moved(old: str, new: str, name: str) -> str:
    """``name`` with its prefix ``old`` (a repeated block's first name) made ``new``."""
    return _bounded(new + "." + name[len(old):]) if name.startswith(old) else name




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
    head: Span | None = None  # where its class name is written
    dropped: bool = False  # a printed model that is not read (--model, or a second one)
    diags: int = 0  # how many findings there were when it started
    assumptions: int = 0  # and how many assumed orders
    children: list[Child] | None = None  # recorded for a class whose forward() is known


class _Reader(Text):
    def __init__(self, text: str, path: str, defines: Mapping[str, DefineValue],
                 model: str | None = None, max_layers: int = MAX_LAYERS) -> None:
        super().__init__(text, path)
        self.defines, self.max_layers = defines, max_layers
        self.wanted = model  # --model: the class of the printed model to read
        self.models: list[tuple[str, int]] = []  # each printed model's class and line
        self.read_model: tuple[str, int] | None = None  # the one read
        self.layers: list[Item] = []  # a call's layers are made when it is read
        self.total = 0  # how many layers self.layers makes
        self.problems = 0  # how many problems fail() reported
        self.diags: list[Diagnostic | Call] = []  # a call stands where its diagnostic goes
        self.calls: list[Call] = []  # found and not read yet
        self.trees = CallTrees()
        self.stack = [_Box("", None, "", [], 0, 0, 0, -1, False)]  # the root stays at the bottom
        self.assumed: dict[str, list[Span]] = {}  # class -> where each of its blocks starts
        self.unmatched: dict[str, str] = {}  # a known class -> why a block of it was not
        self.assumptions: list[str] = []  # the class of each block in self.assumed, in order
        # ranges of self.layers whose every item has its wiring: sorted, apart, each one the
        # layers of a container whose order was assumed, so that an outer one skips them
        self.wired: list[tuple[int, int]] = []
        self.model_classes: set[str] = set()
        self.unique_models = True  # no two printed models of one class
        self.match = Matcher(self.src, self.lines, self.starts, _ITEM_START).match

    def fail(self, code: str, start: int, end: int, message: str, hint: str = "") -> None:
        self.problem(Diagnostic(self.span(start, end), code, message, hint))

    def problem(self, diag: Diagnostic) -> None:
        """A problem with the text (a call's own problem is the call's); reading stops at
        more problems than the layer cap."""
        self.problems += 1
        if self.problems > self.max_layers:
            raise TooManyLayers(diag.span, "...", problems=True)
        self.diags.append(diag)

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
            while len(self.stack) > 1:  # the containers still open end where reading stops
                box = self.stack.pop()
                if box.dropped:
                    self.drop(box)
                else:
                    self.assume_order(box)
            diag, rest = cut(exc, self.max_layers)
            self.diags.append(diag)
            self.layers.append(rest)

    def finish(self) -> tuple[list[Layer], list[Diagnostic]]:
        """Read the calls and make their layers: the layers and diagnostics, in order."""
        self.read()
        layers, problems = write_layers(self.layers)
        diags: list[Diagnostic] = []
        for d in self.diags:
            if not isinstance(d, Call):
                diags.append(d)
            elif d.diag is not None:
                diags.append(d.diag)
        diags += [_assumed_order(cls, spans, self.unmatched.get(cls))
                  for cls, spans in self.assumed.items()]
        return layers, diags + problems

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

    def assume(self, wiring: str, first: int, head: Span) -> None:
        """The layers from ``first`` on stand where the order of the text put them, because
        the ``forward()`` of ``wiring`` is not known; an inner unknown container's name stays
        on its own layers."""
        layers, end = self.layers, len(self.layers)
        inner = []  # the ranges of inner containers, already wired: skipped
        while self.wired and self.wired[-1][0] >= first:
            inner.append(self.wired.pop())
        i = first
        for start, stop in [*reversed(inner), (end, end)]:
            for k in range(i, start):
                item = layers[k]
                if item.wiring is None:
                    if isinstance(item, Layer):
                        layers[k] = replace(item, wiring=wiring)
                    else:
                        item.wiring = wiring
            i = stop
        self.wired.append((first, end))
        self.assumed.setdefault(wiring, []).append(head)
        self.assumptions.append(wiring)

    def unwire(self, first: int) -> None:
        """The layers from ``first`` on were removed or replaced: forget their ranges."""
        while self.wired and self.wired[-1][0] >= first:
            self.wired.pop()

    def model(self, box: _Box) -> None:
        """A printed model (``Net(`` at the top level) is read when it is the one asked for
        (--model) or, without that, the first; another one is never chained onto it (P015)."""
        read = self.read_model
        self.models.append((box.module, box.line))
        self.unique_models = self.unique_models and box.module not in self.model_classes
        self.model_classes.add(box.module)
        if self.wanted is not None and box.module != self.wanted:
            box.dropped = True
        elif read is None:
            self.read_model = (box.module, box.line)
        elif box.head is not None:
            box.dropped = True
            self.problem(Diagnostic(
                box.head, "P015", f"a second model, `{box.module}`, starts here (`{read[0]}` "
                f"starts on line {read[1]}): cnncalc reads one model and never chains two",
                pick_models((m for m, _ in self.models), len(self.models))
                if self.unique_models else "write each model in a file of its own"))

    def drop(self, box: _Box) -> None:
        """Forget what a model that is not read made: everything since it started (it is at
        the top level, so nothing else was open), its layers, findings and notes."""
        del self.layers[box.first:]
        self.unwire(box.first)
        self.total = box.before
        del self.diags[box.diags:]
        calls = self.calls  # in the order found: the model's are the last ones
        while calls and calls[-1].span.line >= box.line:
            calls.pop()
        while len(self.assumptions) > box.assumptions:  # undone, the latest first
            cls = self.assumptions.pop()
            heads = self.assumed[cls]
            heads.pop()
            if not heads:
                del self.assumed[cls]

    def assume_order(self, box: _Box) -> None:
        """The layers of a container that ends (``box``, just taken off the stack) rest on
        the order printed when its forward() is not known (see ``_IN_ORDER``)."""
        if box.module not in _IN_ORDER and box.head is not None and box.first < len(
                self.layers) and not (box.module in _NO_FORWARD and any(
                    b.module not in _IN_ORDER for b in self.stack[1:])):
            self.assume(box.module, box.first, box.head)

    def wire(self, box: _Box) -> Block | None:
        """The block of a container whose forward() is known and whose children are the
        ones it calls; None (and why, kept for P014) otherwise."""
        if box.children is None or box.head is None:
            return None
        items = self.layers[box.first:]
        found = match(box.module, box.children, items)
        if isinstance(found, str) or (box.children and box.children[0][2] != box.first):
            self.unmatched.setdefault(box.module, found if isinstance(found, str) else
                                      "text stands before its first child")
            return None
        block = make_block(found, box.head, box.prefix, items, box.children, box.first,
                           _bounded)
        for label, module, _, _ in box.children:
            if label in found.training and block.children.get(label):
                self.diags.append(Diagnostic(
                    item_span(block.children[label][0]), "P025",
                    f"`{_bounded(box.prefix + label)}` ({module}) is called by "
                    f"`{box.module}`'s forward() only in training: the network is read as in "
                    "eval mode, without it, so its params are not in the totals, where "
                    "PyTorch's count (the sum of p.numel()) has them",
                    "build the model with aux_logits=False for the network as it runs in "
                    "eval mode, params included"))
        return block

    def pop(self) -> None:
        box = self.stack.pop()
        if box.dropped:
            self.drop(box)
            return
        block = self.wire(box) if box.names else None
        if block is None:
            self.assume_order(box)
        old = f"{box.names[0]}." if box.names else ""
        if not box.names:  # its repeat count was refused: an Unparsed stands for it
            del self.layers[box.first:]
            self.unwire(box.first)
            self.total = box.before
        if block is not None:  # its layers are made when the calls are read
            if box.before + block.count > self.max_layers:
                raise TooManyLayers(block.head, box.names[0], "this block's wiring")
            self.unwire(box.first)
            self.layers[box.first:] = [block]
            self.total = box.before + block.count
        if len(box.names) > 1:  # a repeated block: copy its layers under each name
            size = self.total - box.before
            if box.before + len(box.names) * size > self.max_layers:
                line = self.starts[box.line - 1]
                raise TooManyLayers(self.span(line, self.eol(line), box.line), box.names[1],
                                    f"this block of {size:,} layers repeated "
                                    f"{len(box.names):,} times")
            self.total = box.before + len(box.names) * size
            copied = self.layers[box.first:]
            wired = (box.first, len(self.layers)) in self.wired[-1:]  # the copies are too
            self.unwire(box.first)
            self.layers[box.first:] = [
                b.renamed(partial(_moved, old, name)) if isinstance(b, Call | Block)
                else replace(b, name=_moved(old, name, b.name)) if b.name.startswith(old) else b
                for name in box.names for b in copied]
            if wired:
                self.wired.append((box.first, len(self.layers)))

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
                repeat = self.repeat(m[2], count_at, f"{self.prefix()}{label}")
        elif m := _TARGET.match(src, pos):
            pos = m.end()
            if m[1].startswith("self.") or len(self.stack) > 1:
                label = m[1].removeprefix("self.")
            if m[1].startswith("self.") and len(self.stack) == 1:
                attribute = self.span(start, m.end(1), line)
        if (head := _HEAD.match(src, pos)) is None:
            return self.skip(pos)
        module, parent = head[2], self.stack[-1]
        if parent.children is not None:  # by its label as written (names may be cut short)
            parent.children.append((str(parent.count) if label is None else label, module,
                                    len(self.layers), repeat))
        names = self.next_names(label, repeat or 1)
        first = names[0]
        if not repeat:  # a refused count: this stands for the copies, which are read, not kept
            self.add(Unparsed(name=first, span=self.span(count_at, self.eol(count_at))))
            names = []
        if module not in MODULES:
            line_ending = _BLANK_REST.match(src, head.end()) is not None
            if module in _CONTAINERS or line_ending:
                pre = self.prefix()
                path = None if label is None and len(self.stack) == 1 else first[len(pre):]
                box = _Box(module, path, pre if path is None else f"{first}.", names,
                           len(self.layers), self.total, line, self.indent(line), line_ending,
                           head=self.span(head.start(2), head.end(2), line),
                           children=[] if module in FORWARDS else None)
                if len(self.stack) == 1 and label is None and line_ending:
                    self.model(box)
                box.diags, box.assumptions = len(self.diags), len(self.assumptions)
                self.stack.append(box)
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



def _assumed_order(cls: str, heads: list[Span], unmatched: str | None = None) -> Diagnostic:
    """P014 for a container class whose ``forward()`` is not known, once, at its first block;
    ``unmatched`` says why a class whose forward cnncalc knows was not recognised."""
    if cls == _SELF:
        what = (f"{len(heads)} modules are assigned to `self.` attributes" if len(heads) > 1
                else "a module is assigned to a `self.` attribute")
        return Diagnostic(
            heads[0], "P014", f"{what}: the order forward() calls them in is not shown, so "
            "cnncalc read them in the order written; the volumes, MACs and activations rest "
            "on that order (marked ~), the params do not",
            "paste print(model) instead, or write the network in the canonical notation")
    blocks = f" ({len(heads)} blocks)" if len(heads) > 1 else ""
    why = f"its forward() is not known ({unmatched})" if unmatched else \
        "its forward() is not known"
    return Diagnostic(
        heads[0], "P014", f"`{cls}`{blocks}: {why}, so cnncalc read its children in the order "
        "printed; the volumes, MACs and activations from here on rest on that order (marked "
        "~), the params do not",
        "cnncalc knows the forward() of nn.Sequential, of torchvision's "
        f"{', '.join(sorted(_IN_ORDER - {'Sequential'}))}, and of {len(FORWARDS)} classes of "
        "its classic models (AlexNet, VGG, ResNet, GoogLeNet, Inception3, DenseNet, "
        "SqueezeNet, ShuffleNetV2, MobileNetV2 and V3, EfficientNet, MNASNet and their "
        "blocks); if "
        f"`{cls}` pools, reshapes or branches, write the network in the canonical notation")


def parse_pytorch(text: str, path: str, defines: Mapping[str, DefineValue],
                  model: str | None = None, max_layers: int = MAX_LAYERS) -> Spec:
    """Read ``print(model)`` text or ``nn.Module(...)`` calls; see the module docstring.
    ``model`` picks one printed model by its class when the text holds several. Reading stops
    at the first layer (or problem) over ``max_layers``."""
    reader = _Reader(text, path, defines, model, max_layers)
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
