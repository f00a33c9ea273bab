"""``cnncalc draw``: the network as an SVG diagram, in the spirit of the lecture's AlexNet
figure, written with the standard library.

Each row of ``show`` (a layer, or with ``--depth`` a folded block) is one node, placed by
``cnncalc.render.layout``; the network's input is the first. What a node looks like:

- a layer with an ``HxWxC`` output is a 3-D volume, sized by ``SIZE_RULE``; with a vector
  output ``N`` it is a bar; a folded block is the volume of its output with two more behind it;
- a layer that keeps its volume (batch norm, an activation, dropout, LRN) is a small pill with
  its kind, and an add or a multiply is a circle (``+``, ``x``): their volume is the one
  before them;
- a layer in error is a red box that says ``error``; one not computed (after an error) a grey
  dashed box: no volume is ever drawn that was not computed. A figure that rests on an
  assumed wiring (P014) gets a dashed orange outline and ``~``, a rounded size ``*``.

Under each node: its name (wrapped at dots, never cut), its settings, its output volume and
its params. Every piece of user text is escaped twice: first ``cnncalc.escape`` for control
and format characters (which XML cannot hold either), as every output escapes them, then
``xml`` for XML's ``&``, ``<``, ``>`` and quotes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from cnncalc.analyze import Analysis, LayerResult
from cnncalc.escape import escape
from cnncalc.render.common import ASSUMED_MARK, withheld
from cnncalc.render.layout import Size, layout
from cnncalc.render.numbers import abbreviate
from cnncalc.render.rows import Row, rows
from cnncalc.render.svg_parts import (
    CHAR_W,
    LINE_H,
    SIZE_RULE,
    Figure,
    Node,
    draw_edges,
    draw_node,
    legend,
    num,
    xml,
)
from cnncalc.spec import (
    LRN,
    Activation,
    AdaptivePool,
    BatchNorm,
    Conv,
    Dense,
    Dropout,
    GlobalPool,
    Merge,
    Pool,
    Upsample,
    fmt_shape,
)

MAX_BOXES = 2000
"""The most nodes one picture holds: past it, fold with --depth. 2,000 layers make some 1 MB of
SVG, 4 MB with 400-character names (the longest a label shows in full)."""
MAX_EDGES = 8000
NAME_LINE = 18  # characters a name line holds before it wraps at a dot
NAME_CHUNK = 24  # a dotless run longer than this wraps anyway
NAME_LIMIT = 400  # past this, the picture says how many characters it leaves out
TITLE_H = 44.0

STYLE = """
text{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:10px;fill:#222}
.n{font-weight:bold}.t{font-size:13px;font-weight:bold}.m{fill:#555}.err{fill:#c00}
.e{fill:none;stroke:#555;stroke-width:1.2}.d{fill:#555}
path.f,rect.f,circle.f{stroke:#333;stroke-width:.8}
.input .f{fill:#d9d9d9}.input .s{fill:#b8b8b8}.input .u{fill:#ececec}
.conv .f{fill:#9fc3ea}.conv .s{fill:#7aa6d6}.conv .u{fill:#cfe0f4}
.up .f{fill:#c6b0e3}.up .s{fill:#a78ccf}.up .u{fill:#e2d7f1}
.pool .f{fill:#f2b48c}.pool .s{fill:#df9466}.pool .u{fill:#f8d8c4}
.fc .f{fill:#a9d89d}.fc .s{fill:#86c077}.fc .u{fill:#d3ecce}
.other .f{fill:#f2e08c}.other .s{fill:#dcc662}.other .u{fill:#f8efc4}
.block .f{fill:#9ed5cf}.block .s{fill:#76bdb5}.block .u{fill:#cdeae6}
.op .f{fill:#f4f4f4}.merge .f{fill:#fff}
.error .f{fill:#fde4e4;stroke:#c00;stroke-width:1.5}
.nc .f{fill:#f6f6f6;stroke:#999;stroke-dasharray:3 2}
.assumed .f{stroke:#d97800;stroke-dasharray:4 2;stroke-width:1.4}
"""


class TooLarge(Exception):
    """More nodes or edges than a readable picture holds."""


def _side(n: int) -> float:
    return min(116.0, max(8.0, 8.0 + 9.0 * math.log2(max(n, 1))))


def _style(layer: object) -> tuple[str, str]:
    if isinstance(layer, (BatchNorm, Activation, Dropout, LRN)):
        kind = layer.kind
        return "op", {"batchnorm": "bn"}.get(kind, kind)
    if isinstance(layer, Merge) and layer.op != "concat":
        return "merge", "+" if layer.op == "add" else "x"
    if isinstance(layer, Conv):
        return ("up" if layer.transposed else "conv"), ""
    if isinstance(layer, Upsample):
        return "up", ""
    if isinstance(layer, (Pool, GlobalPool, AdaptivePool)):
        return "pool", ""
    if isinstance(layer, Dense):
        return "fc", ""
    return "other", ""


def nodes(a: Analysis, shown: Sequence[Row]) -> list[Node]:
    """The input, then one node per row."""
    first = Node("INPUT", "", a.input, "ok" if a.input is not None else "not-computed", None,
                 "input", "")
    out = [first]
    last = shown[-1].last if shown else 0
    for row in shown:
        r: LayerResult = a.layers[row.first - 1]
        style, symbol = ("block", "") if row.folded else _style(r.layer)
        out.append(Node(row.name, row.layer, row.output_shape, row.status, row.params, style,
                        symbol, row.assumed, row.rounded,
                        row.first <= a.output <= row.last and a.output != last,
                        row.unresolved))
    return out


def predecessors(a: Analysis, shown: Sequence[Row]) -> list[tuple[int, ...]]:
    """For each node, the nodes it reads (by position; 0 is the input), from outside itself."""
    node_of = [0] * (len(a.layers) + 1)
    for k, row in enumerate(shown, start=1):
        for i in range(row.first, row.last + 1):
            node_of[i] = k
    preds: list[tuple[int, ...]] = [()]
    for k, row in enumerate(shown, start=1):
        seen: dict[int, None] = {}
        for i in range(row.first, row.last + 1):
            for j in a.layers[i - 1].inputs:
                if node_of[j] != k:
                    seen[node_of[j]] = None
        preds.append(tuple(seen))
    return preds


def name_lines(name: str) -> list[str]:
    """A name in lines of about ``NAME_LINE`` characters, broken after dots (or every
    ``NAME_CHUNK`` characters of a run without dots): wrapped, never cut, up to
    ``NAME_LIMIT`` characters, past which the last line says how many are left out."""
    text = escape(name)
    extra = len(text) - NAME_LIMIT
    if extra > 0:
        text = text[:NAME_LIMIT]
    parts = [p + "." for p in text.split(".")]
    parts[-1] = parts[-1][:-1]
    lines = [""]
    for part in parts:
        while len(part) > NAME_CHUNK:
            if lines[-1]:
                lines.append("")
            lines[-1], part = part[:NAME_CHUNK], part[NAME_CHUNK:]
            lines.append("")
        if lines[-1] and len(lines[-1]) + len(part) > NAME_LINE:
            lines.append("")
        lines[-1] += part
    lines = [line for line in lines if line] or [""]
    if len(lines) > 1 and len(lines[-1]) <= 3 and len(lines[-2]) + len(lines[-1]) <= NAME_CHUNK:
        lines[-2:] = [lines[-2] + lines[-1]]  # features.1.conv.0.0, not features.1.conv.0. / 0
    if extra > 0:
        lines.append(f"... (+{extra:,} characters)")
    return lines


def label(node: Node) -> list[tuple[str, str]]:
    """(CSS class, text) lines, escaped with ``cnncalc.escape``."""
    lines = [("n", line) for line in name_lines(node.name)]
    if node.settings and node.style not in ("op", "merge", "input"):
        lines.append(("m", escape(node.settings)))
    if node.status == "error":
        lines.append(("err", "error"))
    elif not node.ok:
        lines.append(("m", "not computed" if node.style != "input" else "no input volume"))
    elif node.shape is not None:
        marks = ("*" if node.rounded else "") + (ASSUMED_MARK if node.assumed else "")
        lines.append(("", fmt_shape(node.shape) + marks))
    if node.params:
        lines.append(("m", f"{abbreviate(node.params)} params"))
    if node.unresolved:
        lines.append(("err", "from ? (a name not found)"))
    if node.output:
        lines.append(("n", "(the output)"))
    return lines


def figure(node: Node) -> Figure:
    if not node.ok:
        return Figure("box", 52, 28)
    if node.style == "op":
        return Figure("pill", len(node.symbol) * CHAR_W + 10, 16)
    if node.style == "merge":
        return Figure("circle", 20, 20)
    shape = node.shape or ()
    if len(shape) == 3:
        h, w, c = shape
        return Figure("volume", _side(c) / 2, _side(h), _side(w) / 3,
                      2 if node.style == "block" else 0)
    return Figure("bar", 9, _side(shape[0]) if shape else 8)


def to_svg(a: Analysis, depth: int | None = None) -> str:
    """The SVG text of the analysis, its rows folded at ``depth``; TooLarge past the bounds."""
    count = len(a.layers) if depth is None else None  # rows() would be one per layer
    shown = rows(a, depth) if count is None or count < MAX_BOXES else []
    boxes = 1 + (len(shown) if count is None else count)
    if boxes > MAX_BOXES:
        raise TooLarge(f"{boxes:,} boxes to draw, more than the {MAX_BOXES:,} a picture holds")
    preds = predecessors(a, shown)
    if sum(map(len, preds)) > MAX_EDGES:
        raise TooLarge(f"{sum(map(len, preds)):,} edges to draw, more than the "
                       f"{MAX_EDGES:,} a picture holds")
    ns = nodes(a, shown)
    labels = [label(n) for n in ns]
    figs = [figure(n) for n in ns]
    sizes = [Size(max(f.width, max(len(t) for _, t in lab) * CHAR_W) + 6, f.height,
                  len(lab) * LINE_H) for f, lab in zip(figs, labels, strict=True)]
    lay = layout(sizes, preds, TITLE_H)
    notes = legend(a, ns)
    title = escape(a.spec.path + (f" ({a.spec.notation} notation)" if a.spec.notation else ""))
    said = summary(a, len(shown))
    width = max(lay.width, 640.0, 30 + len(title) * 8.0, 30 + len(said) * CHAR_W)
    height = lay.height + 16 + len(notes) * LINE_H + 8
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{num(width)}" '
        f'height="{num(height)}" viewBox="0 0 {num(width)} {num(height)}">',
        f"<title>{xml(title)}</title>",
        f"<desc>Drawn by cnncalc draw. Sizes: {SIZE_RULE}.</desc>",
        f"<style>{STYLE}</style>",
        '<defs><marker id="a" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0L8,4L0,8z" fill="#555"/></marker></defs>',
        '<rect width="100%" height="100%" fill="#fff"/>',
        f'<text class="t" x="15" y="18">{xml(title)}</text>',
        f'<text class="m" x="15" y="34">{xml(said)}</text>',
    ]
    out += draw_edges(lay, figs)
    for k, (n, f, lab) in enumerate(zip(ns, figs, labels, strict=True)):
        out += draw_node(lay, k, n, f, lab)
    y = lay.height + 16
    for note in notes:
        out.append(f'<text class="m" x="15" y="{num(y + 9)}">{xml(note)}</text>')
        y += LINE_H
    out.append("</svg>")
    return "\n".join(out) + "\n"


def summary(a: Analysis, boxes: int) -> str:
    """The line under the title: the totals, or why there are none."""
    t = a.totals
    if t is None:
        return withheld(a)
    marked = ASSUMED_MARK if t.assumed else ""
    count = f"{len(a.layers):,} layers" + (f" in {boxes:,} boxes" if boxes != len(a.layers)
                                            else "")
    return (f"{count}; {t.params:,} params, "
            f"{t.macs:,}{marked} MACs (FLOPs = 2 x MACs)")


def fold_hint(a: Analysis, deepest: int = 12) -> int | None:
    """The deepest ``--depth`` (up to ``deepest``) whose picture holds at most ``MAX_BOXES``
    nodes, or None when even depth 1 does not."""
    best = None
    for d in range(1, deepest + 1):
        if len(rows(a, d)) + 1 > MAX_BOXES:
            break
        best = d
    return best
