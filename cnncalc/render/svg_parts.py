"""The pieces of ``cnncalc draw``'s SVG: the figure and label of a node, the edges, the legend.
Coordinates are written with one decimal (``num``), so that the same analysis gives the same
bytes everywhere."""

from __future__ import annotations

from cnncalc.analyze import Analysis
from cnncalc.escape import escape
from cnncalc.layers import rounds_up
from cnncalc.records import record
from cnncalc.render.layout import BAND_GAP, COLUMN_GAP, ENTRY, Edge, Layout
from cnncalc.results import Status
from cnncalc.spec import Shape

SIZE_RULE = ("each side of a figure is 8 + 9*log2(n) px for a length of n, clamped to 8..116: "
             "a volume HxWxC is drawn with the height of H, a thickness of half C's and a "
             "depth (at 45 degrees) of a third of W's; a vector of N is a bar with the height "
             "of N")
CHAR_W = 6.1  # DejaVu Sans Mono at 10 px, what the labels are measured with
LINE_H = 12.0


def num(x: float) -> str:
    """A coordinate with one decimal, without a trailing ``.0``: the same text everywhere."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def xml(text: str) -> str:
    """Text already made safe to print (``cnncalc.escape``) as XML text or attribute."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


@record
class Node:
    name: str
    settings: str
    shape: Shape | None
    status: Status
    params: int | None
    style: str  # the CSS class: input conv up pool fc other block op merge
    symbol: str  # what a pill or a circle says
    assumed: bool = False
    rounded: bool = False
    output: bool = False  # the network's output, not its last node
    unresolved: bool = False  # a name it reads did not resolve (P016): no edge for it

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.shape is not None


@record
class Figure:
    """A node's figure: front face ``w`` x ``h``, oblique depth ``o`` (dx = dy = o)."""

    kind: str  # volume bar pill circle box
    w: float
    h: float
    o: float = 0.0
    ghosts: int = 0

    @property
    def width(self) -> float:
        return self.w + self.o + 4 * self.ghosts

    @property
    def height(self) -> float:
        """Twice what it needs above the lane's line: the front face is centred on it."""
        return self.h + 2 * (self.o + 4 * self.ghosts)


BEND = 8.0  # the radius of a bend


def _anchor_out(lay: Layout, k: int, f: Figure) -> tuple[float, float]:
    return lay.center_x(k) + f.width / 2 - f.o - 4 * f.ghosts, lay.y(k)


def _anchor_in(lay: Layout, k: int, f: Figure) -> tuple[float, float]:
    return lay.center_x(k) - f.width / 2, lay.y(k)


def _start(lay: Layout, e: Edge, figs: list[Figure]) -> tuple[float, float, float]:
    """Where an edge leaves (x, y) and the gap it may bend in: at its source, or, when the
    picture wraps between the two, where the wrapped edges come into the target's band."""
    band = lay.band(e.target)
    if lay.band(e.source) == band:
        x, y = _anchor_out(lay, e.source, figs[e.source])
        return x, y, lay.gap_after(e.source)
    return ENTRY / 2, lay.lane_y[band][lay.lane[e.source]], ENTRY / 2 + COLUMN_GAP / 2


def draw_wraps(lay: Layout, figs: list[Figure]) -> list[str]:
    """From the node before each wrap, a line back to the start of the next band."""
    out = []
    for i, s in enumerate(lay.cuts):
        if s < 0:
            continue
        x1, y1 = _anchor_out(lay, s, figs[s])
        g = lay.gap_after(s)
        low = lay.band_bottom[i] + BAND_GAP / 2
        y2 = lay.lane_y[i + 1][lay.lane[s]]
        left = ENTRY / 4
        out.append(f'<path class="e" d="M{num(x1)},{num(y1)}H{num(g - BEND)}Q{num(g)},'
                   f'{num(y1)} {num(g)},{num(y1 + BEND)}V{num(low - BEND)}Q{num(g)},'
                   f'{num(low)} {num(g - BEND)},{num(low)}H{num(left + BEND)}Q{num(left)},'
                   f'{num(low)} {num(left)},{num(low + BEND)}V{num(y2 - BEND)}Q{num(left)},'
                   f'{num(y2)} {num(left + BEND)},{num(y2)}H{num(ENTRY / 2)}"/>')
        out.append(f'<circle class="d" cx="{num(ENTRY / 2)}" cy="{num(y2)}" r="2.5"/>')
    return out


def _bend(x1: float, y1: float, g: float, y2: float, x2: float) -> str:
    """From (x1, y1) along to the gap at ``g``, across to ``y2``, along to ``x2``."""
    if abs(y2 - y1) < 2 * BEND:
        return (f"M{num(x1)},{num(y1)}H{num(g - BEND)}C{num(g)},{num(y1)} {num(g)},"
                f"{num(y2)} {num(g + BEND)},{num(y2)}H{num(x2)}")
    s = BEND if y2 > y1 else -BEND
    return (f"M{num(x1)},{num(y1)}H{num(g - BEND)}Q{num(g)},{num(y1)} {num(g)},"
            f"{num(y1 + s)}V{num(y2 - s)}Q{num(g)},{num(y2)} {num(g + BEND)},{num(y2)}"
            f"H{num(x2)}")


def _arc(lay: Layout, e: Edge, figs: list[Figure]) -> tuple[str, float, float]:
    """Out of the source into the gap after it, up to the arc's level, over, and down into
    the top of a target on the top lane, or through the gap before a target on another."""
    x1, y1, g = _start(lay, e, figs)
    top = lay.arc_y[lay.band(e.target)][e.level]
    path = (f"M{num(x1)},{num(y1)}H{num(g - BEND)}Q{num(g)},{num(y1)} {num(g)},"
            f"{num(y1 - BEND)}V{num(top + BEND)}Q{num(g)},{num(top)} {num(g + BEND)},"
            f"{num(top)}")
    if lay.on_top(e.target):
        tx = lay.center_x(e.target)
        ty = lay.y(e.target) - figs[e.target].height / 2
        path += (f"H{num(tx - BEND)}Q{num(tx)},{num(top)} {num(tx)},{num(top + BEND)}"
                 f"V{num(ty)}")
    else:
        gb = lay.gap_before(e.target)
        x2, y2 = _anchor_in(lay, e.target, figs[e.target])
        path += (f"H{num(gb - BEND)}Q{num(gb)},{num(top)} {num(gb)},{num(top + BEND)}"
                 f"V{num(y2 - BEND)}Q{num(gb)},{num(y2)} {num(gb + BEND)},{num(y2)}"
                 f"H{num(x2)}")
    return path, g, y1


def draw_edges(lay: Layout, figs: list[Figure]) -> list[str]:
    out = ['<g class="edges">']
    dots: dict[tuple[str, str], None] = {}
    for e in lay.edges:
        x1, y1, g = _start(lay, e, figs)
        x2, y2 = _anchor_in(lay, e.target, figs[e.target])
        if e.route == "straight":
            path = f"M{num(x1)},{num(y1)}H{num(x2)}"
        elif e.route == "early":
            path = _bend(x1, y1, g, y2, x2)
        elif e.route == "late":
            path = _bend(x1, y1, lay.gap_before(e.target), y2, x2)
        else:
            path, gx, gy = _arc(lay, e, figs)
            dots[(num(gx), num(gy))] = None
        out.append(f'<path class="e" d="{path}" marker-end="url(#a)"/>')
    out += [f'<circle class="d" cx="{x}" cy="{y}" r="2.5"/>' for x, y in dots]
    out += draw_wraps(lay, figs)
    out.append("</g>")
    return out


def _volume(x: float, y: float, f: Figure) -> list[str]:
    """A box seen from the front, with its top and right side drawn at 45 degrees; ``(x, y)``
    is the front face's top left."""
    w, h, o = f.w, f.h, f.o
    face = f'<rect class="f" x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}"/>'
    if o < 0.5:
        return [face]
    top = (f'<path class="u f" d="M{num(x)},{num(y)}l{num(o)},{num(-o)}h{num(w)}'
           f'l{num(-o)},{num(o)}z"/>')
    side = (f'<path class="s f" d="M{num(x + w)},{num(y)}l{num(o)},{num(-o)}v{num(h)}'
            f'l{num(-o)},{num(o)}z"/>')
    return [face, top, side]


def _figure(lay: Layout, k: int, n: Node, f: Figure) -> list[str]:
    left = lay.center_x(k) - f.width / 2
    cy = lay.y(k)
    if f.kind in ("volume", "bar"):
        out: list[str] = []
        for g in range(f.ghosts, -1, -1):  # the ones behind first
            out += _volume(left + 4 * g, cy - f.h / 2 - 4 * g, f)
        return out
    if f.kind == "circle":
        cx = left + f.w / 2
        return [f'<circle class="f" cx="{num(cx)}" cy="{num(cy)}" r="{num(f.w / 2)}"/>',
                f'<text x="{num(cx)}" y="{num(cy + 4)}" text-anchor="middle" '
                f'class="n">{xml(escape(n.symbol))}</text>']
    rect = (f'<rect class="f" x="{num(left)}" y="{num(cy - f.h / 2)}" width="{num(f.w)}" '
            f'height="{num(f.h)}" rx="{num(f.h / 2 if f.kind == "pill" else 3)}"/>')
    word = n.symbol if f.kind == "pill" else ("error" if n.status == "error" else "?")
    cls = ' class="err n"' if n.status == "error" else ""
    return [rect, f'<text x="{num(left + f.w / 2)}" y="{num(cy + 3.5)}" '
                  f'text-anchor="middle"{cls}>{xml(escape(word))}</text>']


def draw_node(lay: Layout, k: int, n: Node, f: Figure, lines: list[tuple[str, str]]) -> list[str]:
    classes = [n.style, *(["error"] if n.status == "error" else ["nc"] if not n.ok else []),
               *(["assumed"] if n.assumed else [])]
    out = [f'<g class="{" ".join(classes)}">']
    out += _figure(lay, k, n, f)
    cx = lay.center_x(k)
    y = lay.label_top(k) + 9
    for cls, text in lines:
        attr = f' class="{cls}"' if cls else ""
        out.append(f'<text x="{num(cx)}" y="{num(y)}" text-anchor="middle"{attr}>'
                   f"{xml(text)}</text>")
        y += LINE_H
    out.append("</g>")
    return out


def legend(a: Analysis, ns: list[Node]) -> list[str]:
    """The lines under the picture: the sizing rule and what the marks mean."""
    words = ("Sizes: " + SIZE_RULE + ". A pill (bn, relu, dropout, lrn) keeps the volume "
             "before it; + is an add, x a multiply. Params: K = thousand, M = million, "
             "G = billion.").split()
    lines, line = [], ""
    for word in words:
        if line and (len(line) + 1 + len(word)) * CHAR_W > max(600.0, 100 * CHAR_W):
            lines.append(line)
            line = ""
        line = f"{line} {word}" if line else word
    lines.append(line)
    ways = sorted({"up (ceil mode)" if rounds_up(r.layer, a.rounding) else "down (floor)"
                   for r in a.layers if r.rounded})
    if any(n.rounded for n in ns) and ways:
        lines.append(f"* a size rounded {' or '.join(ways)}.")
    if any(n.assumed for n in ns):
        lines.append("~ (dashed orange) rests on an assumed wiring: a forward() that is not "
                     "known was read in the order written (P014).")
    if any(n.status == "error" for n in ns):
        lines.append("red: a layer in error; grey dashed: not computed (no volume is drawn "
                     "that was not computed).")
    return lines
