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
    column_x: tuple[float, ...]  # the left of each column
    column_width: tuple[float, ...]
    lane_y: tuple[float, ...]  # the line the figures of each lane are centred on
    label_y: tuple[float, ...]  # the top of each lane's labels
    edges: tuple[Edge, ...]
    arc_y: tuple[float, ...]  # the height of each arc level
    width: float
    height: float

    def center_x(self, node: int) -> float:
        c = self.column[node]
        return self.column_x[c] + self.column_width[c] / 2

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


def layout(sizes: Sequence[Size], preds: Sequence[Sequence[int]], top: float = 0.0) -> Layout:
    """Place the nodes (``preds[v]``: the nodes ``v`` reads, each before ``v``) below ``top``."""
    column = columns(preds)
    lane, taken = lanes(preds, column)
    edges = routes(preds, column, lane, taken)
    ncols, nlanes = max(column) + 1, len(taken)
    col_w = [0.0] * ncols
    fig_h = [0.0] * nlanes
    label_h = [0.0] * nlanes
    for v, s in enumerate(sizes):
        c, k = column[v], lane[v]
        col_w[c] = max(col_w[c], s.width)
        fig_h[k] = max(fig_h[k], s.figure)
        label_h[k] = max(label_h[k], s.label)
    levels = 1 + max((e.level for e in edges if e.route == "arc"), default=-1)
    arc_band = levels * ARC_STEP + (ARC_STEP if levels else 0)
    y = top + arc_band
    arc_y = tuple(y - (k + 1) * ARC_STEP for k in range(levels))
    lane_y, label_y = [], []
    for k in range(nlanes):
        lane_y.append(y + fig_h[k] / 2)
        label_y.append(y + fig_h[k] + 6)
        y += fig_h[k] + 6 + label_h[k] + LANE_GAP
    col_x, x = [], COLUMN_GAP / 2
    for w in col_w:
        col_x.append(x)
        x += w + COLUMN_GAP
    return Layout(tuple(column), tuple(lane), tuple(col_x), tuple(col_w), tuple(lane_y),
                  tuple(label_y), tuple(edges), arc_y, x - COLUMN_GAP / 2, y - LANE_GAP)
