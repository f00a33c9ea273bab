"""``cnncalc diff`` for people (an aligned listing of what differs) and for machines (JSON).

The listing reads as a unified diff does: ``-`` lines are A's, ``+`` lines B's; a changed pair
is its A line and its B line, a layer of one side only one line. Figures are exact (with
thousands separators): a diff is for seeing the last digit move. Runs of layers that agree
are summed up in one line unless ``all`` is asked for; a context layer (one that changes
nothing counted) is shown after the layer it follows when that layer is shown.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from cnncalc.analyze import Analysis, LayerResult
from cnncalc.compare import FIGURES, Comparison, Row
from cnncalc.diagnostics import Severity
from cnncalc.escape import escape, json_safe
from cnncalc.render.cells import cell_width
from cnncalc.render.common import ASSUMED_MARK, assumption, describe, shape_list
from cnncalc.spec import Shape, fmt_shape

LABELS = {"params": "params", "buffers": "buffers", "macs": "MACs"}
_HEADERS = ("", "name", "layer", "output", "params", "buffers", "MACs", "")
_RIGHT = (False, False, False, False, True, True, True, False)


def _side(a: Analysis) -> str:
    """The side's path, notation and input, and how many warnings ``show`` would print
    (not those a ``# cnncalc: ignore[CODE]`` comment silences)."""
    from cnncalc.check.suppress import unsilenced

    input_text = "none" if a.input is None else fmt_shape(a.input)
    text = f"{escape(a.spec.path)}: {a.spec.notation} notation, input {input_text}"
    warnings = sum(1 for d in unsilenced(a) if d.severity is Severity.WARNING)
    if warnings:
        text += f" ({warnings:,} warning{'s' if warnings != 1 else ''}: cnncalc show lists them)"
    return text


def _names(a: Analysis, reads: tuple[int, ...]) -> str:
    return ", ".join("INPUT" if j == 0 else escape(a.layers[j - 1].layer.name) for j in reads)


def _num(value: int | None, assumed: bool = False) -> str:
    if value is None:
        return ""
    return f"{value:,}" + (ASSUMED_MARK if assumed else "")


def _volume(shape: Shape | None, assumed: bool = False) -> str:
    return "" if shape is None else fmt_shape(shape) + (ASSUMED_MARK if assumed else "")


def _cells(mark: str, r: LayerResult, name: str, note: str) -> list[str]:
    assumed = r.assumed is not None
    return [mark, name, describe(r), _volume(r.output_shape, assumed), _num(r.params),
            _num(r.buffers), _num(r.macs, assumed), note]


def _both(a: LayerResult, b: LayerResult) -> str:
    """``CONV1 / features.0``; a name both sides share, once."""
    if a.layer.name == b.layer.name:
        return escape(a.layer.name)
    return f"{escape(a.layer.name)} / {escape(b.layer.name)}"


def _pair_name(row: Row) -> str:
    if row.a is not None and row.b is not None:
        return _both(row.a, row.b)
    r = row.a or row.b
    assert r is not None
    return escape(r.layer.name)


def _row_lines(c: Comparison, row: Row) -> list[list[str]]:
    """The table lines of one row: two for a changed pair, one otherwise."""
    if row.status == "context":
        r = row.a or row.b
        assert r is not None
        note = "" if row.a and row.b else ("A" if row.a else "B") + " only, changes nothing"
        cells = _cells("", r, _pair_name(row), note)
        cells[4:7] = ["", "", ""]  # no params, buffers or MACs, by definition
        return [cells]
    if row.status == "same":
        assert row.a is not None
        return [_cells("=", row.a, _pair_name(row), "moved" if row.moved else "")]
    if row.a is None or row.b is None:
        r = row.a or row.b
        assert r is not None
        side = "A" if row.a else "B"
        return [_cells("-" if row.a else "+", r, escape(r.layer.name), f"{side} only")]
    note = ", ".join("MACs" if d == "macs" else d for d in row.differs)
    if row.moved:
        note += " (moved)"
    note_b = ""
    if row.reads is not None:
        note += f"; reads {_names(c.a, row.reads[0])}"
        note_b = f"reads {_names(c.b, row.reads[1])}"
    return [_cells("-", row.a, escape(row.a.layer.name), note),
            _cells("+", row.b, escape(row.b.layer.name), note_b)]


Line = list[str] | str
"""A line of the listing: its cells, or a line of text across the columns."""


def _summary(rows: list[Row]) -> str:
    same = [r for r in rows if r.status == "same"]
    context = len(rows) - len(same)
    if not same:
        return f"... {_plural(context, 'context layer')}"
    first, last = same[0], same[-1]
    assert first.a and first.b and last.a and last.b
    span = _both(first.a, first.b)
    if first is not last:
        span += f" to {_both(last.a, last.b)}"
    verb = "agrees" if len(same) == 1 else "agree"
    text = f"... {_plural(len(same), 'layer')} {verb}: {span}"
    if context:
        text += f" (and {_plural(context, 'context layer')})"
    return text


def _listing(c: Comparison, show_all: bool) -> list[Line]:
    """Every row when ``show_all``; else the differences, each with the context layers that
    follow it, and one line for each run of the rest."""
    lines: list[Line] = []
    if c.input_differs or show_all:
        a_in, b_in = c.a.input, c.b.input
        assert a_in is not None and b_in is not None
        if c.input_differs:
            lines += [["-", "INPUT", "", fmt_shape(a_in), "", "", "", "input"],
                      ["+", "INPUT", "", fmt_shape(b_in), "", "", "", ""]]
        else:
            lines.append(["=", "INPUT", "", fmt_shape(a_in), "", "", "", ""])
    quiet: list[Row] = []
    shown = False  # whether the last significant row was shown (its context rows follow it)
    for row in c.rows:
        if row.status == "context" and (shown or show_all):
            lines += _row_lines(c, row)
            continue
        if row.is_difference or show_all:
            if quiet:
                lines.append(_summary(quiet))
                quiet = []
            lines += _row_lines(c, row)
            shown = True
        else:
            quiet.append(row)
            shown = False
    if quiet:
        lines.append(_summary(quiet))
    return lines


def _table(lines: list[Line], buffers: bool) -> list[str]:
    columns = [i for i in range(len(_HEADERS)) if buffers or _HEADERS[i] != "buffers"]
    rows = [list(_HEADERS)] + [r for r in lines if not isinstance(r, str)]
    widths = {i: max(cell_width(r[i]) for r in rows) for i in columns}
    out = []
    for r in [list(_HEADERS), *lines]:
        if isinstance(r, str):
            out.append(f"   {r}")
            continue
        cells = []
        for i in columns:
            pad = " " * (widths[i] - cell_width(r[i]))
            cells.append(pad + r[i] if _RIGHT[i] else r[i] + pad)
        out.append("  ".join(cells).rstrip())
    return out


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def verdict(c: Comparison) -> str:
    """The last line: whether A and B agree, and if not, what differs, counted."""
    pairs = sum(1 for r in c.rows if r.a and r.b and r.status != "context")
    if c.same:
        return (f"A and B agree: {_plural(pairs, 'layer')} aligned, with the same volumes, "
                "params, buffers and MACs, wired alike.")
    counts = {s: sum(1 for r in c.rows if r.status == s) for s in ("changed", "a-only", "b-only")}
    parts = ["the input"] if c.input_differs else []
    if counts["changed"]:
        parts.append(f"{_plural(counts['changed'], 'layer')} changed")
    if counts["a-only"]:
        parts.append(f"{_plural(counts['a-only'], 'layer')} only in A")
    if counts["b-only"]:
        parts.append(f"{_plural(counts['b-only'], 'layer')} only in B")
    if c.output:
        parts.append("the output's " + " and ".join(c.output))
    return f"A and B differ: {', '.join(parts)}."


def to_text(c: Comparison, show_all: bool = False) -> str:
    out = [f"A  {_side(c.a)}", f"B  {_side(c.b)}"]
    notes = [f"{name}: {assumption(a)}" for name, a in (("A", c.a), ("B", c.b))
             if a.totals is not None and a.totals.assumed]
    if c.by_position:
        notes.append("The alignment ran out of its work budget: the layers left were paired "
                     "by position.")
    for note in notes:
        out += textwrap.wrap(note, 100, break_long_words=False, break_on_hyphens=False,
                             subsequent_indent="   ")
    buffers = any((r.a and r.a.buffers) or (r.b and r.b.buffers) for r in c.rows)
    listing = _listing(c, show_all)
    if any(not isinstance(line, str) for line in listing):
        out += ["", *_table(listing, buffers), ""]
    else:
        out += ["", *(f"   {line}" for line in listing), ""]
    width = max(cell_width(_num(v)) for _, x, y in c.totals for v in (x, y, y - x))
    out.append(f"{'totals':<8}  {'A':>{width}}  {'B':>{width}}  {'B - A':>{width}}")
    for name, x, y in c.totals:
        if name == "buffers" and not (x or y):
            continue
        mark = ASSUMED_MARK if name == "macs" and _assumed(c) else ""
        delta = f"{y - x:+,}" if y != x else ""
        out.append(f"{LABELS[name]:<8}  {_num(x):>{width}}  {_num(y):>{width}}  "
                   f"{delta:>{width}}{mark}".rstrip())
    oa, ob = _output_shape(c.a), _output_shape(c.b)
    out.append(f"{'output':<8}  {_volume(oa):>{width}}  {_volume(ob):>{width}}")
    if "wiring" in c.output:
        out.append(f"the output is {_output_name(c.a)} in A and {_output_name(c.b)} in B, "
                   "layers that do not align")
    out += ["", verdict(c)]
    return "\n".join(out) + "\n"


def _assumed(c: Comparison) -> bool:
    return any(a.totals is not None and bool(a.totals.assumed) for a in (c.a, c.b))


def _output_name(a: Analysis) -> str:
    index = a.output or len(a.layers)
    return escape(a.layers[index - 1].layer.name)


def _output_shape(a: Analysis) -> Shape | None:
    index = a.output or len(a.layers)
    return a.layers[index - 1].output_shape if index else None


def _layer(r: LayerResult | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"index": r.index, "name": r.layer.name, "kind": r.layer.kind, "line": r.layer.span.line,
            "layer": describe(r), "output_shape": shape_list(r.output_shape),
            "params": r.params, "buffers": r.buffers, "macs": r.macs, "inputs": list(r.inputs),
            "assumed": r.assumed}


def side_record(a: Analysis) -> dict[str, Any]:
    t = a.totals
    return {
        "path": a.spec.path,
        "notation": a.spec.notation,
        "input": shape_list(a.input),
        "output_shape": shape_list(_output_shape(a)) if a.layers else None,
        "ok": a.ok and t is not None,
        "totals": None if t is None else {name: getattr(t, name) for name in FIGURES},
        "assumed": [] if t is None else list(t.assumed),
        "errors": [d.to_dict() for d in a.diagnostics if d.severity is Severity.ERROR],
    }


def to_json(c: Comparison) -> str:
    record = {
        "a": side_record(c.a),
        "b": side_record(c.b),
        "same": c.same,
        "differences": c.differences,
        "input_differs": c.input_differs,
        "output_differs": list(c.output),
        "totals": {name: {"a": x, "b": y, "delta": y - x} for name, x, y in c.totals},
        "aligned_by_position": c.by_position,
        "rows": [{"status": r.status, "differs": list(r.differs), "moved": r.moved,
                  "a": _layer(r.a), "b": _layer(r.b)} for r in c.rows],
    }
    return _dumps(record)


def unanalysed_json(a: Analysis, b: Analysis, reason: str) -> str:
    """The JSON when a side cannot be compared: both sides, ``same`` null, and why."""
    return _dumps({"a": side_record(a), "b": side_record(b), "same": None, "error": reason})


def _dumps(record: dict[str, Any]) -> str:
    """Top-level keys on their own lines, each row (and each side) one compact line, as
    ``show --format json`` writes its layers; names exact (``cnncalc.escape.json_safe``)."""
    parts = []
    for key, value in record.items():
        if key == "rows" and value:
            text = "[\n    " + ",\n    ".join(json.dumps(item) for item in value) + "\n  ]"
        else:
            text = json.dumps(value)
        parts.append(f"  {json.dumps(key)}: {text}")
    return json_safe("{\n" + ",\n".join(parts) + "\n}\n")
