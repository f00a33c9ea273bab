"""Where the boxes of ``cnncalc draw`` go: a graph laid out left to right, geometry only.

The nodes are the network's input and its rows (``cnncalc.render.rows``, folded or not), in
topological order; an edge goes from a node to a node that reads it. The layout is a small
layered one, linear in the nodes and edges for the networks people draw:

- **columns**: a node's column is one more than the largest of its predecessors' (the input
  is column 0), so every edge goes rightwards and parallel branches run side by side; a
  node with room to spare moves right, next to the first node that reads it;
- **lanes** (rows of the picture): a node continues the lane of its first predecessor that
  nothing has continued yet (the main path stays on lane 0, a concat or an add stays on the
  lane of its first input); otherwise it takes the topmost lane that is free from its first
  predecessor's column on, so that Inception's four branches stack one under the other and
  ResNet's projection shortcut runs under its block;
- **edges**: straight along a lane when no node stands between the two ends; from one lane to
  another with the bend in the gap before the target (the source's lane is free up to it) or
  after the source (the target's lane is free); otherwise an arc over the top of the picture,
  as the identity shortcut of a residual block, DenseNet's concatenations and U-Net's skips
  are drawn. Arcs get levels greedily, shortest first, so that nested arcs do not overlap.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Literal

from cnncalc.records import record

Route = Literal["straight", "early", "late", "arc"]

COLUMN_GAP = 30.0
LANE_GAP = 18.0
ARC_STEP = 14.0
BAND_WIDTH = 2800.0
"""A picture wider than this wraps onto bands one under the other, where the graph allows."""
BAND_GAP = 30.0
ENTRY = 24.0  # room at the left of a wrapped band for the edges that come in
MAX_ARC_LEVELS = 12
"""Arcs past this many levels share the top one: a drawing, not a proof."""


@record
class Size:
    """What the layout needs of a node: the width of its column (figure and label), the
    height of its figure (centred on the lane's line) and of its label (under the figures)."""

    width: float
    figure: float
    label: float


@record
class Edge:
    source: int
    target: int
    route: Route
    level: int = 0  # for an arc: 0 is the lowest


@record
class Layout:
    column: tuple[int, ...]  # of each node
    lane: tuple[int, ...]
    column_x: tuple[float, ...]  # the left of each column (from the left of its band)
    column_width: tuple[float, ...]
    column_band: tuple[int, ...]  # the band each column is drawn in
    lane_y: tuple[tuple[float, ...], ...]  # by band and lane: the line figures centre on
    label_y: tuple[tuple[float, ...], ...]  # by band and lane: the top of the labels
    band_bottom: tuple[float, ...]
    cuts: tuple[int, ...]  # the node before each wrap (its edges go on in the next band)
    top_lane: tuple[int, ...]  # by band: the topmost lane it uses
    edges: tuple[Edge, ...]
    arc_y: tuple[tuple[float, ...], ...]  # by band: the height of each arc level
    width: float
    height: float

    def band(self, node: int) -> int:
        return self.column_band[self.column[node]]

    def center_x(self, node: int) -> float:
        c = self.column[node]
        return self.column_x[c] + self.column_width[c] / 2

    def y(self, node: int) -> float:
        """The line the node's figure is centred on."""
        return self.lane_y[self.band(node)][self.lane[node]]

    def label_top(self, node: int) -> float:
        return self.label_y[self.band(node)][self.lane[node]]

    def on_top(self, node: int) -> bool:
        """Whether the node is on the topmost lane its band uses (an arc comes down on it)."""
        return self.lane[node] == self.top_lane[self.band(node)]

    def gap_after(self, node: int) -> float:
        """The middle of the gap after a node's column, where edges leaving it bend."""
        c = self.column[node]
        return self.column_x[c] + self.column_width[c] + COLUMN_GAP / 2

    def gap_before(self, node: int) -> float:
        return self.column_x[self.column[node]] - COLUMN_GAP / 2


def columns(preds: Sequence[Sequence[int]]) -> list[int]:
    """Longest-path columns; a node that reads nothing it can name (an unresolved reference)
    goes one column after the node before it. Then a node that is read only further on moves
    right, to just before the first node that reads it: U-Net's crop of a skip stands by the
    concat it feeds, not by the encoder layer it crops."""
    column = [0] * len(preds)
    for v in range(1, len(preds)):
        column[v] = 1 + max((column[p] for p in preds[v]), default=column[v - 1])
    reader = [len(preds) * 2] * len(preds)  # the column of the first node that reads it
    for v in range(len(preds) - 1, 0, -1):
        if reader[v] < len(preds) * 2 and reader[v] - 1 > column[v]:
            column[v] = reader[v] - 1
        for p in preds[v]:
            reader[p] = min(reader[p], column[v])
    return column


def lanes(preds: Sequence[Sequence[int]], column: Sequence[int]) -> tuple[list[int],
                                                                          list[list[int]]]:
    """Each node's lane, and the columns taken in each lane (ascending)."""
    lane = [0] * len(preds)
    taken: list[list[int]] = [[0]]
    for v in range(1, len(preds)):
        chosen = next((lane[p] for p in preds[v] if taken[lane[p]][-1] == column[p]), None)
        if chosen is None:
            since = column[preds[v][0]] if preds[v] else column[v] - 1
            chosen = next((k for k, cols in enumerate(taken) if cols[-1] <= since), len(taken))
            if chosen == len(taken):
                taken.append([])
        lane[v] = chosen
        taken[chosen].append(column[v])
    return lane, taken


def _clear(taken: list[int], start: int, end: int) -> bool:
    """No node in the lane strictly between two columns."""
    i = bisect_right(taken, start)
    return i == len(taken) or taken[i] >= end


def routes(preds: Sequence[Sequence[int]], column: Sequence[int], lane: Sequence[int],
           taken: list[list[int]]) -> list[Edge]:
    edges: list[Edge] = []
    for v, ps in enumerate(preds):
        for p in ps:
            a, b = column[p], column[v]
            route: Route
            if lane[p] == lane[v]:
                route = "straight" if _clear(taken[lane[v]], a, b) else "arc"
            elif _clear(taken[lane[p]], a, b):
                route = "late"
            elif _clear(taken[lane[v]], a, b):
                route = "early"
            else:
                route = "arc"
            edges.append(Edge(p, v, route))
    return _levels(edges, column)


def _levels(edges: list[Edge], column: Sequence[int]) -> list[Edge]:
    """Arc levels: shortest arcs first, each at the lowest level where it overlaps no other
    (an arc spans from just after its source's column to its target's)."""
    arcs = sorted((i for i, e in enumerate(edges) if e.route == "arc"),
                  key=lambda i: (column[edges[i].target] - column[edges[i].source], i))
    if not arcs:
        return edges
    cells = 2 * (max(column) + 1)
    used = [bytearray(cells) for _ in range(MAX_ARC_LEVELS)]
    for i in arcs:
        e = edges[i]
        lo, hi = 2 * column[e.source] + 1, 2 * column[e.target] + 1
        level = next((k for k, row in enumerate(used) if 1 not in row[lo:hi]),
                     MAX_ARC_LEVELS - 1)
        used[level][lo:hi] = b"\x01" * (hi - lo)
        edges[i] = Edge(e.source, e.target, "arc", level)
    return edges


def cuts(preds: Sequence[Sequence[int]], column: Sequence[int]) -> list[int | None]:
    """For each column, the node whose edges are all that pass the boundary after it (-1
    when none pass), or None where more than one node's edges do: the picture may wrap
    after a column with a node, as between two blocks."""
    n = max(column) + 1
    crossing = [0] * (n + 1)
    leaving = [0] * n
    sources: list[set[int]] = [set() for _ in range(n)]
    for v, ps in enumerate(preds):
        for p in ps:
            crossing[column[p]] += 1
            crossing[column[v]] -= 1
            leaving[column[p]] += 1
            sources[column[p]].add(p)
    out: list[int | None] = []
    passing = 0
    for c in range(n):
        passing += crossing[c]
        ok = passing == leaving[c] and len(sources[c]) <= 1
        out.append(None if not ok else min(sources[c], default=-1))
    return out


def bands(widths: Sequence[float], may_cut: Sequence[int | None], limit: float) -> list[int]:
    """Each column's band: a band ends at the last column it may wrap after once it is wider
    than ``limit`` (a band with no such column goes on until it has one)."""
    band = [0] * len(widths)
    start, width, k = 0, 0.0, 0
    last_cut: int | None = None
    c = 0
    while c < len(widths):
        width += widths[c] + COLUMN_GAP
        if width > limit and last_cut is not None:
            k += 1
            start, width, last_cut = last_cut + 1, 0.0, None
            c = start
            continue
        band[c] = k
        if may_cut[c] is not None and c + 1 < len(widths):
            last_cut = c
        c += 1
    return band


def layout(sizes: Sequence[Size], preds: Sequence[Sequence[int]], top: float = 0.0,
           wrap: float = BAND_WIDTH) -> Layout:
    """Place the nodes (``preds[v]``: the nodes ``v`` reads, each before ``v``) below ``top``,
    in bands of about ``wrap`` pixels."""
    column = columns(preds)
    lane, taken = lanes(preds, column)
    edges = routes(preds, column, lane, taken)
    ncols, nlanes = max(column) + 1, len(taken)
    col_w = [0.0] * ncols
    for v, s in enumerate(sizes):
        col_w[column[v]] = max(col_w[column[v]], s.width)
    sources = cuts(preds, column)
    col_band = bands(col_w, sources, wrap)
    nbands = col_band[-1] + 1
    fig_h = [[0.0] * nlanes for _ in range(nbands)]
    label_h = [[0.0] * nlanes for _ in range(nbands)]
    for v, s in enumerate(sizes):
        b, k = col_band[column[v]], lane[v]
        fig_h[b][k] = max(fig_h[b][k], s.figure)
        label_h[b][k] = max(label_h[b][k], s.label)
    levels = [0] * nbands
    for e in edges:
        if e.route == "arc":
            b = col_band[column[e.target]]
            levels[b] = max(levels[b], e.level + 1)
    lane_y, label_y, arc_y, bottom = [], [], [], []
    y = top
    for b in range(nbands):
        y += levels[b] * ARC_STEP + (ARC_STEP if levels[b] else 0)
        arc_y.append(tuple(y - (k + 1) * ARC_STEP for k in range(levels[b])))
        ys, ls = [], []
        for k in range(nlanes):
            ys.append(y + fig_h[b][k] / 2)
            ls.append(y + fig_h[b][k] + 6)
            if fig_h[b][k] or label_h[b][k]:
                y += fig_h[b][k] + 6 + label_h[b][k] + LANE_GAP
        lane_y.append(tuple(ys))
        label_y.append(tuple(ls))
        bottom.append(y - LANE_GAP)
        y += BAND_GAP
    col_x: list[float] = []
    x, width = 0.0, 0.0
    for c, w in enumerate(col_w):
        if c == 0 or col_band[c] != col_band[c - 1]:
            x = ENTRY + COLUMN_GAP / 2 if c else COLUMN_GAP / 2
        col_x.append(x)
        x += w + COLUMN_GAP
        width = max(width, x - COLUMN_GAP / 2)
    wraps = [c for c in range(ncols - 1) if col_band[c] != col_band[c + 1]]
    cut_nodes = tuple(-1 if s is None else s for s in (sources[c] for c in wraps))
    top_lane = [nlanes] * nbands
    for v in range(len(sizes)):
        b = col_band[column[v]]
        top_lane[b] = min(top_lane[b], lane[v])
    return Layout(tuple(column), tuple(lane), tuple(col_x), tuple(col_w), tuple(col_band),
                  tuple(lane_y), tuple(label_y), tuple(bottom), cut_nodes, tuple(top_lane),
                  tuple(edges),
                  tuple(arc_y), width, y - BAND_GAP)
