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
than one, and the layer's own name: ``layer1.0.CONV1``. A use reads the layer above it, or
the one it names with ``from``, as an inception module's branches all read its input::

    branch2 from INPUT: basic(96), basic(128, F=3x3, P=1)

In a block, ``INPUT`` is the block's input (the layer the use reads), and a name defined
earlier in the block is that instance's layer; the name of a use made earlier (``layer1``)
stands for its last layer, anywhere.

A parameter replaces each word of the block's lines that is exactly its name (``C``, ``S``),
the values of a nested use's arguments included (``conv: expand(H, S=S)``), by the argument's
text; spans are mapped back to the definition, so an error in a use points
at the line (and the parameter) of the block it comes from. A block may use the blocks
defined before it, so there is no recursion; the expansion stops at the layer cap, and at
``MAX_EXPANDED`` characters of text read, whatever the nesting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from cnncalc.diagnostics import Diagnostic
from cnncalc.escape import unescape
from cnncalc.parse.block_text import remap, same, substitute
from cnncalc.parse.cursor import suggest
from cnncalc.parse.lexer import LexError, Token, split_comment, tokenize
from cnncalc.spec import INPUT_NAME, Crop, Layer, Ref, Span, Unparsed

MAX_EXPANDED = 1 << 25
"""The most characters of block lines read while expanding uses (32 Mi): the work a file's
uses cause stays bounded whatever their repeat counts and nesting."""


@dataclass
class Block:
    name: str
    params: list[tuple[str, Token | None]]  # each parameter, with its default's token
    span: Span  # the BLOCK line's
    order: int  # how many blocks were defined before it (a block uses only earlier ones)
    lines: list[tuple[int, str]] = field(default_factory=list)  # (line number, raw text)


def _args(remark: Token, path: str, line: int) -> list[tuple[Token | None, Token]]:
    """``(64, S=2)``: each argument's keyword token (None when positional) and value token,
    with columns in the line. Values are single tokens: a number, size, word or quoted name."""
    inner = remark.text[1:-1]
    tokens = [t._replace(col=t.col + remark.col, end_col=t.end_col + remark.col)
              for t in tokenize(inner, path, line)]
    found: list[tuple[Token | None, Token]] = []
    i, n = 0, len(tokens)
    while i < n:
        key = None
        if i + 1 < n and tokens[i].kind == "word" and tokens[i + 1].text == "=":
            key, i = tokens[i], i + 2
        if i >= n or tokens[i].kind not in ("number", "size", "word", "string"):
            at = tokens[i] if i < n else remark
            raise LexError(Diagnostic(at.span(path, line), "P001",
                                      "expected a value: a number, a size, a word or a name",
                                      "arguments are written like `(64, S=2)`"))
        found.append((key, tokens[i]))
        i += 1
        if i < n:
            if tokens[i].text != ",":
                raise LexError(Diagnostic(tokens[i].span(path, line), "P001",
                                          f"expected `,` or `)`, found `{tokens[i].text}`",
                                          "arguments are separated by commas"))
            i += 1
    return found


def definition(tokens: list[Token], path: str, line: int, order: int) -> Block | None:
    """The block a ``BLOCK name(P, Q=1):`` line defines; None when the line is not one."""
    if len(tokens) < 3 or tokens[0].low != "block" or tokens[1].kind != "word" \
            or tokens[2].kind != "remark" or tokens[-1].text != ":" or len(tokens) != 4:
        return None
    params: list[tuple[str, Token | None]] = []
    for key, value in _args(tokens[2], path, line):
        if key is None and value.kind == "word":
            params.append((value.text, None))
        elif key is not None:
            params.append((key.text, value))
        else:
            raise LexError(Diagnostic(value.span(path, line), "P001",
                                      f"expected a parameter's name, found `{value.text}`",
                                      "parameters are words, with defaults: `(C, S=1)`"))
        if [p for p, _ in params].count(params[-1][0]) > 1:
            raise LexError(Diagnostic((key or value).span(path, line), "P001",
                                      f"parameter `{params[-1][0]}` is given twice", ""))
    return Block(tokens[1].text, params, Span(path, line, tokens[0].col, tokens[-1].end_col),
                 order)


Use = tuple[int, Block, dict[str, Token]]
"""One item of a use line: how many instances, the block, and its arguments by parameter."""


def use_line(tokens: list[Token], blocks: dict[str, Block], path: str, line: int,
             limit: int) -> tuple[str, Ref | None, list[Use]] | None:
    """``layer2: basic(128, S=2), 3 x basic(128)``: the use's name, the layer it reads
    (``branch2 from INPUT: ...``; None: the layer above) and its items, or None when the line
    is not a use (no word with arguments after the colon). ``limit`` is the order of the
    block being defined (a block uses only earlier blocks)."""
    if len(tokens) < 4 or tokens[0].kind not in ("word", "string"):
        return None
    source = None
    i, n = 2, len(tokens)
    if tokens[1].low == "from" and n > 5 and tokens[2].kind in ("word", "string") \
            and tokens[3].text == ":":
        ref = tokens[2]
        source = Ref(ref.text if ref.kind == "word" else unescape(ref.text[1:-1]),
                     ref.span(path, line))
        i = 4
    elif tokens[1].text != ":":
        return None
    items: list[Use] = []
    while i < n:
        count = 1
        if i + 2 < n and tokens[i].kind == "number" and tokens[i + 1].low == "x":
            count = int(tokens[i].text)
            if count < 1:
                raise LexError(Diagnostic(tokens[i].span(path, line), "G106",
                                          f"{count} instances of a block",
                                          "use it 1 or more times"))
            i += 2
        if i + 1 >= n or tokens[i].kind != "word" or tokens[i + 1].kind != "remark":
            if not items:
                return None
            raise LexError(Diagnostic(tokens[min(i, n - 1)].span(path, line), "P001",
                                      "expected a block's use, e.g. `2 x basic(64)`", ""))
        block = blocks.get(tokens[i].text)
        if block is None or block.order >= limit:
            known = [b for b in blocks.values() if b.order < limit]
            raise LexError(Diagnostic(
                tokens[i].span(path, line), "P016", f"`{tokens[i].text}` is not a block "
                "defined above", suggest(tokens[i].text, [b.name for b in known]) or
                "define it first: `BLOCK name(P):`, its lines, then `END`"))
        items.append((count, block, _bind(block, tokens[i + 1], path, line)))
        i += 2
        if i < n:
            if tokens[i].text != ",":
                raise LexError(Diagnostic(tokens[i].span(path, line), "P001",
                                          f"expected `,` or the end, found `{tokens[i].text}`",
                                          "separate the blocks a line uses with commas"))
            i += 1
    name = tokens[0].text if tokens[0].kind == "word" else tokens[0].text[1:-1]
    return name, source, items


def _bind(block: Block, remark: Token, path: str, line: int) -> dict[str, Token]:
    """The arguments of one use, by parameter, defaults filled in."""
    names = [p for p, _ in block.params]
    bound: dict[str, Token] = {}
    for k, (key, value) in enumerate(_args(remark, path, line)):
        if key is None:
            if bound and any(p not in names[:k] for p in bound):
                raise LexError(Diagnostic(value.span(path, line), "P001",
                                          "a positional argument after a named one", ""))
            if k >= len(names):
                raise LexError(Diagnostic(value.span(path, line), "P001",
                                          f"{block.name} takes {len(names)} argument"
                                          f"{'s' if len(names) != 1 else ''}",
                                          f"its parameters: ({', '.join(names)})"))
            bound[names[k]] = value
        elif key.text not in names:
            raise LexError(Diagnostic(key.span(path, line), "P001",
                                      f"{block.name} has no parameter `{key.text}`",
                                      suggest(key.text, names, fold_case=False)
                                      or f"its parameters: ({', '.join(names)})"))
        elif key.text in bound:
            raise LexError(Diagnostic(key.span(path, line), "P001",
                                      f"`{key.text}` is given twice", ""))
        else:
            bound[key.text] = value
    for p, default in block.params:
        if p not in bound:
            if default is None:
                raise LexError(Diagnostic(remark.span(path, line), "P001",
                                          f"{block.name} needs a value for `{p}`",
                                          f"its parameters: ({', '.join(names)})"))
            bound[p] = default
    return bound


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
        if source is not None:
            source = self.rename_global(source)
        last = self.layers[-1].name if self.layers else INPUT_NAME
        self.aliases[name] = self._use(name, items, last, lineno, body, source)
        return True

    def placed(self, layer: Layer) -> Layer:
        """A top-level layer, its references to uses renamed to their last layers."""
        self.aliases.pop(layer.name, None)
        if not self.aliases or not (layer.inputs or isinstance(layer, Crop)):
            return layer
        return remap(layer, same, layer.name, self.rename_global)

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
        use reads when it is not the one above (``from``), its name already resolved."""
        total = sum(count for count, _, _ in items)
        k = 0
        for count, block, args in items:
            for _ in range(count):
                name = f"{prefix}.{k}" if total > 1 else prefix
                if source is not None:
                    before = source.name
                before = self._instance(block, args, name, before, lineno, body, source)
                source = None  # the next instance reads the one before it
                k += 1
                if len(self.layers) > self.max_layers:
                    return before
        return before

    def _instance(self, block: Block, args: dict[str, Token], prefix: str, before: str,
                  use_lineno: int, use_body: str, source: Ref | None = None) -> str:
        """Expand one instance; returns the name of its last layer. With ``source``, its
        first layer reads that layer rather than the one above it."""
        local: dict[str, str] = {INPUT_NAME: before}
        last = before
        count = len(self.layers)
        for lineno, raw in block.lines:
            text, back = substitute(raw, args, self.path, lineno)
            self.budget -= len(text) + 1
            if self.budget < 0:
                raise LexError(Diagnostic(
                    Span(self.path, use_lineno, 1, len(use_body) + 1), "P012",
                    f"the uses of blocks expand to more than {MAX_EXPANDED:,} characters of "
                    "layers", "use blocks fewer times, or pass --max-layers"))
            if not text.strip():
                continue
            try:
                use = use_line(tokenize(text, self.path, lineno), self.defined, self.path,
                               lineno, block.order) if "(" in text else None
                def rename(ref: Ref) -> Ref:
                    found = local.get(ref.name) or self.aliases.get(ref.name)
                    return ref if found is None else Ref(found, ref.span)
                if use is not None:
                    name, inner, items = use
                    if inner is not None:
                        at = inner.span
                        inner = rename(Ref(inner.name, Span(at.path, at.line, back(at.col, False),
                                                            back(at.end_col, True))))
                    elif len(self.layers) == count:
                        inner = source  # the instance's first layers are this use's
                    last = local[name] = self._use(f"{prefix}.{name}", items, last, lineno, text,
                                                   inner)
                else:
                    layer = self.read(text, lineno)
                    if layer is None:
                        continue
                    full = f"{prefix}.{layer.name}"
                    placed = remap(layer, back, full, rename)
                    if source is not None and len(self.layers) == count and not layer.inputs:
                        placed = replace(placed, inputs=(source,))
                    self.layers.append(placed)
                    last = local[layer.name] = full
            except LexError as exc:
                d = exc.diag
                at = Span(d.span.path, d.span.line, back(d.span.col, False),
                          back(d.span.end_col, True))
                if (lineno, d.message) not in self.reported:
                    self.reported.add((lineno, d.message))
                    self.diags.append(replace(d, span=at))
                if d.code in ("P001", "P002", "P003", "P016"):
                    self.layers.append(Unparsed(
                        name=f"{prefix}.?", span=Span(self.path, lineno, 1,
                                                      len(raw.rstrip()) + 1)))
                    last = f"{prefix}.?"
            if len(self.layers) > self.max_layers:
                break
        return last


__all__ = ["MAX_EXPANDED", "Block", "Blocks", "definition", "remap", "substitute", "use_line"]
