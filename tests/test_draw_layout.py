"""Invariants of ``cnncalc draw``'s layout on random graphs (hypothesis), and SVG that parses
whatever the names hold."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from helpers import analyze_text
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.escape import quote
from cnncalc.render.layout import Size, layout
from cnncalc.render.svg import to_svg


@st.composite
def graphs(draw: st.DrawFn) -> list[tuple[int, ...]]:
    """Nodes in topological order: each reads up to three earlier ones (or none)."""
    n = draw(st.integers(1, 40))
    preds: list[tuple[int, ...]] = [()]
    for v in range(1, n):
        chosen = draw(st.lists(st.integers(0, v - 1), max_size=3, unique=True))
        preds.append(tuple(chosen))
    return preds


@settings(max_examples=100, deadline=None)
@given(graphs(), st.floats(60.0, 3000.0))
def test_layout_invariants(preds: list[tuple[int, ...]], wrap: float) -> None:
    sizes = [Size(40.0 + 7 * (v % 5), 20.0 + v % 30, 24.0) for v in range(len(preds))]
    lay = layout(sizes, preds, 40.0, wrap)
    col, lane = lay.column, lay.lane
    places = {(col[v], lane[v]) for v in range(len(preds))}
    assert len(places) == len(preds)  # no two nodes on one spot
    bands = [lay.band(v) for v in range(len(preds))]
    for c in range(len(lay.column_band) - 1):
        assert lay.column_band[c] <= lay.column_band[c + 1]
    assert len(lay.cuts) == lay.column_band[-1]
    for e in lay.edges:
        assert col[e.source] < col[e.target]  # every edge goes rightwards
        between = [v for v in range(len(preds)) if col[e.source] < col[v] < col[e.target]]
        if e.route == "straight":
            assert lane[e.source] == lane[e.target]
            assert not any(lane[v] == lane[e.target] for v in between)
        elif e.route == "late":
            assert not any(lane[v] == lane[e.source] for v in between)
        elif e.route == "early":
            assert not any(lane[v] == lane[e.target] for v in between)
        if bands[e.source] != bands[e.target]:  # across a wrap: from its cut node only
            assert bands[e.target] == bands[e.source] + 1
            assert lay.cuts[bands[e.source]] == e.source
    for v in range(len(preds)):
        assert 0 <= lay.center_x(v) <= lay.width
        assert 40.0 <= lay.y(v) <= lay.height


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=4))
def test_any_name_gives_svg_that_parses(names: list[str]) -> None:
    lines = ["[16x16x3] INPUT"] + [f"CONV {quote(n)}: 4 3x3 filters at stride 1, pad 1"
                                   for n in names]
    text = to_svg(analyze_text("\n".join(lines) + "\n"))
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag.endswith("svg")
