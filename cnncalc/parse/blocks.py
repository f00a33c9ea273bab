"""Blocks in the canonical notation: a group of layer lines defined once with parameters and
used many times, as a ResNet is its bottleneck block used sixteen times::

    BLOCK basic(C, S=1):
        CONV1: C 3x3 filters at stride S, pad 1, no bias
        BN1
        RELU1
        CONV2: C 3x3 filters at stride 1, pad 1, no bias
        BN2
        ADD from BN2, INPUT
        RELU2
    END
    layer1: 2 x basic(64)
    layer2: basic(128, S=2), basic(128)

A use line names the use and lists the blocks it uses, each ``[N x] name(arguments)``. Every
layer of a use is named with the use's name, the instance's number when the line makes more
than one, and the layer's own name: ``layer1.0.CONV1``. In a block, ``INPUT`` is the block's
input (the layer above the use), and a name defined earlier in the block is that instance's
layer; the name of a use made earlier (``layer1``) stands for its last layer, anywhere.

A parameter replaces each word of the block's lines that is exactly its name (``C``, ``S``),
by the argument's text; spans are mapped back to the definition, so an error in a use points
at the line (and the parameter) of the block it comes from. A block may use the blocks
defined before it, so there is no recursion; the expansion stops at the layer cap, and at
``MAX_EXPANDED`` of work (characters and lines of blocks read), whatever the nesting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from cnncalc.diagnostics import Diagnostic
from cnncalc.parse.block_syntax import (
    Block,
    Use,
    definition,
    mentions,
    substitute,
    unmoved,
    use_line,
)
from cnncalc.parse.bounds import TooManyLayers
from cnncalc.parse.lexer import LexError, Token, split_comment, tokenize
from cnncalc.spec import INPUT_NAME, Crop, Layer, Ref, Span, Unparsed

MAX_EXPANDED = 1 << 24
"""The work block uses may cost, in characters of block lines plus ``LINE_COST`` a line (16
Mi: about 200,000 lines of 20 characters): the work a file's uses cause stays bounded
whatever their repeat counts and nesting, as the layer cap alone would not bound a block of
headings and comments."""
LINE_COST = 64

Line = tuple[str, Any]
"""A block's line as read with given arguments: ("blank", None), ("use", (name, items)),
("layer", Layer) or ("error", Diagnostic)."""


def remap(layer: Layer, back: Callable[[int, bool], int], name: str,
          rename: Callable[[Ref], Ref], origin: Span | None = None) -> Layer:
    """The layer of an instance: its spans mapped to the definition, its name given, its
    references renamed."""
    def span(s: Span) -> Span:
        return Span(s.path, s.line, back(s.col, False), back(s.end_col, True))

    changes: dict[str, Any] = {
        "name": name, "span": span(layer.span),
        "fields": tuple((f, span(s)) for f, s in layer.fields),
        "inputs": tuple(rename(Ref(r.name, span(r.span))) for r in layer.inputs),
        "origin": origin}
    if layer.declared_span is not None:
        changes["declared_span"] = span(layer.declared_span)
    if isinstance(layer, Crop) and layer.like is not None:
        changes["like"] = rename(Ref(layer.like.name, span(layer.like.span)))
    return replace(layer, **changes)


Reader = Callable[[str, int], Layer | None]
"""The lecture parser's reader of one line (comment removed): its layer, or None for a
heading; raises LexError."""


class Blocks:
    """The blocks of one file, and their uses expanded into ``layers`` as they are read."""

    def __init__(self, path: str, layers: list[Layer], diags: list[Diagnostic], read: Reader,
                 max_layers: int) -> None:
        self.path, self.layers, self.diags, self.read = path, layers, diags, read
        self.max_layers = max_layers
        self.defined: dict[str, Block] = {}
        self.open: Block | None = None
        self.aliases: dict[str, str] = {}  # a top-level use's name -> its last layer's name
        self.budget = MAX_EXPANDED
        self.reported: set[tuple[int, str]] = set()
        self.cache: dict[tuple[int, tuple[tuple[str, str], ...]], Line] = {}
        self.plain: dict[int, bool] = {}  # a block line's number: whether no parameter is in it

    def take(self, raw: str, lineno: int) -> bool:
        """Whether the line is the blocks' (a definition, a line of one, END, or a use), read
        here; raises LexError for a line of theirs that is wrong."""
        path = self.path
        if self.open is not None:
            low = split_comment(raw).strip().lower()
            if low == "end":
                block, self.open = self.open, None
                if not any(split_comment(text).strip() for _, text in block.lines):
                    raise LexError(Diagnostic(block.span, "P001",
                                              f"block `{block.name}` has no layers",
                                              "write its layers between BLOCK and END"))
                self.defined[block.name] = block
            elif low.startswith("block") and definition(
                    tokenize(split_comment(raw).rstrip(), path, lineno), path, lineno, 0):
                raise LexError(Diagnostic(Span(path, lineno, 1, len(raw.rstrip()) + 1), "P001",
                                          "a block defined inside a block",
                                          f"end `{self.open.name}` with END first"))
            else:
                self.open.lines.append((lineno, raw))
            return True
        body = split_comment(raw).rstrip()
        head = body.lstrip()[:5].lower()
        if head == "end" and body.strip().lower() == "end":
            raise LexError(Diagnostic(Span(path, lineno, 1, len(body) + 1), "P001",
                                      "END without a BLOCK", "a block starts `BLOCK name(P):`"))
        if head == "block":
            found = definition(tokenize(body, path, lineno), path, lineno, len(self.defined))
            if found is not None:
                if found.name in self.defined:
                    raise LexError(Diagnostic(found.span, "P001", f"a second block "
                                              f"`{found.name}`", "give each block its own name"))
                self.open = found
                return True
        if not self.defined or "(" not in body:
            return False
        use = use_line(tokenize(body, path, lineno), self.defined, path, lineno,
                       len(self.defined))
        if use is None:
            return False
        name, source, items = use
        if name in self.aliases:
            raise LexError(Diagnostic(Span(path, lineno, 1, len(body) + 1), "P001",
                                      f"a second use named `{name}`", "give each use its own name"))
        last = self.layers[-1].name if self.layers else INPUT_NAME
        source = None if source is None else self.rename_global(source)
        self.aliases[name] = self._use(name, items, last, lineno, body, source)
        return True

    def placed(self, layer: Layer) -> Layer:
        """A top-level layer, its references to uses renamed to their last layers."""
        self.aliases.pop(layer.name, None)
        if not self.aliases or not (layer.inputs or isinstance(layer, Crop)):
            return layer
        return remap(layer, unmoved, layer.name, self.rename_global, layer.origin)

    def rename_global(self, ref: Ref) -> Ref:
        full = self.aliases.get(ref.name)
        return ref if full is None else Ref(full, ref.span)

    def finish(self) -> None:
        if self.open is not None:
            self.diags.append(Diagnostic(self.open.span, "P001",
                                         f"block `{self.open.name}` has no END",
                                         "end the block's lines with a line `END`"))

    def _use(self, prefix: str, items: list[Use], before: str, lineno: int, body: str,
             source: Ref | None = None) -> str:
        """Expand one use line; returns the name of its last layer. ``source``: the layer the
        use reads when it is not the one above (``from``), its name already resolved; the
        first instance reads it, the next ones the instance before."""
        total = sum(count for count, _, _ in items)
        use = Span(self.path, lineno, 1, len(body) + 1)
        k = 0
        for count, block, args in items:
            for i in range(count):
                start = len(self.layers)
                name = f"{prefix}.{k}" if total > 1 else prefix
                if source is not None:
                    before = source.name
                before = self._instance(block, args, name, before, use, source)
                source = None
                k += 1
                if len(self.layers) > self.max_layers:
                    return before
                made = len(self.layers) - start
                if i == 0 and made and len(self.layers) + (count - 1) * made > self.max_layers:
                    # refused before it is built, as a PyTorch repeat is
                    del self.layers[start:]
                    raise TooManyLayers(use, prefix, f"the use `{count:,} x {block.name}`")
        return before

    def _line(self, lineno: int, raw: str, args: dict[str, Token], order: int) -> Line:
        """One line of a block with these arguments, read once however many instances use
        it: blank, a use, a layer (spans mapped to the definition, references not yet
        renamed) or an error."""
        plain = self.plain.get(lineno)
        if plain is None:  # a line no parameter stands in reads the same in every instance
            plain = self.plain[lineno] = mentions(tuple(args)).search(
                split_comment(raw)) is None
        key = (lineno, () if plain else tuple((k, v.text) for k, v in args.items()))
        found = self.cache.get(key)
        if found is not None:
            return found
        text, back = substitute(raw, args, self.path, lineno)
        try:
            if not text.strip():
                found = ("blank", None)
            elif "(" in text and (inner := use_line(tokenize(text, self.path, lineno),
                                                     self.defined, self.path, lineno,
                                                     order)) is not None:
                name, source, items = inner
                if source is not None:
                    at = source.span
                    source = Ref(source.name, Span(at.path, at.line, back(at.col, False),
                                                   back(at.end_col, True)))
                found = ("use", (name, source, items))
            else:
                layer = self.read(text, lineno)
                found = ("blank", None) if layer is None else (
                    "layer", remap(layer, back, layer.name, _unchanged))
        except LexError as exc:
            d = exc.diag
            found = ("error", replace(d, span=Span(d.span.path, d.span.line,
                                                    back(d.span.col, False),
                                                    back(d.span.end_col, True))))
        self.cache[key] = found
        return found

    def _instance(self, block: Block, args: dict[str, Token], prefix: str, before: str,
                  use: Span, source: Ref | None = None) -> str:
        """Expand one instance; returns the name of its last layer. With ``source``, its
        first layer reads that layer (``INPUT`` in the block) rather than the one above."""
        local: dict[str, str] = {INPUT_NAME: before}
        last = before
        first = len(self.layers)

        def rename(ref: Ref) -> Ref:
            found = local.get(ref.name) or self.aliases.get(ref.name)
            return ref if found is None else Ref(found, ref.span)

        for lineno, raw in block.lines:
            self.budget -= len(raw) + LINE_COST
            if self.budget < 0:
                raise LexError(Diagnostic(
                    use, "P012", "the uses of blocks expand to more than "
                    f"{MAX_EXPANDED // LINE_COST:,} lines", "use blocks fewer times"))
            what, value = self._line(lineno, raw, args, block.order)
            if what == "use":
                name, inner, items = value
                if inner is not None:
                    inner = rename(inner)
                elif len(self.layers) == first:
                    inner = source  # the instance's first layers are this use's
                last = local[name] = self._use(f"{prefix}.{name}", items, last, lineno, raw,
                                               inner)
            elif what == "layer":
                layer: Layer = value
                full = f"{prefix}.{layer.name}"
                changes: dict[str, Any] = {"name": full, "origin": use,
                                           "inputs": tuple(map(rename, layer.inputs))}
                if source is not None and len(self.layers) == first and not layer.inputs:
                    changes["inputs"] = (source,)
                if isinstance(layer, Crop) and layer.like is not None:
                    changes["like"] = rename(layer.like)
                self.layers.append(_copy(layer, changes))
                last = local[layer.name] = full
            elif what == "error":
                d: Diagnostic = value
                if (lineno, d.message) not in self.reported:
                    self.reported.add((lineno, d.message))
                    self.diags.append(d)
                if d.code in ("P001", "P002", "P003", "P016"):
                    self.layers.append(Unparsed(
                        name=f"{prefix}.?", span=Span(self.path, lineno, 1,
                                                      len(raw.rstrip()) + 1), origin=use))
                    last = f"{prefix}.?"
            if len(self.layers) > self.max_layers:
                break
        return last


def _copy(layer: Layer, changes: dict[str, Any]) -> Layer:
    """``dataclasses.replace(layer, **changes)``, made several times quicker for the layers
    of block instances (a frozen dataclass's ``__init__`` sets every field anew): the
    instance's ``__dict__`` copied, then changed. The layer classes have no
    ``__post_init__`` for this to skip."""
    new = object.__new__(type(layer))
    new.__dict__.update(layer.__dict__)
    new.__dict__.update(changes)
    return new


def _unchanged(ref: Ref) -> Ref:
    return ref


__all__ = ["MAX_EXPANDED", "Blocks", "remap"]
