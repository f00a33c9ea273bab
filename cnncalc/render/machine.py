"""json, csv and markdown: exact figures, no rich, no abbreviations in json and csv.

Names: json keeps them exact (its string escapes are lossless, and its text ASCII), with only
``##[`` written ``\\u0023#[``; csv and markdown write them escaped (``cnncalc.escape``): csv
quoting would keep a line break, and the line after it would start with the name."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from cnncalc.analyze import Analysis
from cnncalc.escape import escape, json_safe
from cnncalc.render.common import (
    ASSUMED_MARK,
    analysis_record,
    conventions,
    layer_record,
    layer_records,
    receptive_field,
    summary_line,
    volume,
)
from cnncalc.render.memory import Memory
from cnncalc.render.numbers import grouped
from cnncalc.render.rows import from_text, output_row, rows, shows_from

CSV_COLUMNS = ("index", "name", "kind", "line", "layer", "status", "input_shape", "output_shape",
               "weights", "biases", "params", "macs", "flops", "activations", "receptive_field",
               "jump", "assumed", "inputs", "is_output")


def _record_encoder() -> Callable[[Any], str]:
    """``json.dumps`` for one layer's record, without its set-up a call: the C encoder
    ``json.dumps`` makes each time (its defaults: ASCII, ``", "`` and ``": "``, NaN allowed),
    made once, which halves the cost of encoding 100,000 records; ``json.dumps`` itself where
    the C encoder is missing or takes other arguments (another Python)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    escape_ascii = getattr(json.encoder, "c_encode_basestring_ascii", None)
    if make is None or escape_ascii is None:
        return json.dumps
    try:
        encoder = make({}, json.JSONEncoder().default, escape_ascii, None, ": ", ", ",
                       False, False, True)
        if "".join(encoder({"a": [1, None, "x"]}, 0)) != json.dumps({"a": [1, None, "x"]}):
            return json.dumps
    except TypeError:
        return json.dumps
    return lambda record: "".join(encoder(record, 0))


def to_json(a: Analysis, memory: Memory | None = None) -> str:
    """One JSON object: top-level keys on their own lines, each layer and each diagnostic as
    one compact line, so that a diff of two runs reads layer by layer and 100,000 layers
    encode at the C encoder's speed."""
    record = analysis_record(a, memory, layers=False)
    parts = []
    for key, value in record.items():
        if key == "layers" and a.layers:  # each record encoded as it is made, then dropped
            items = ",\n    ".join(map(_record_encoder(), layer_records(a, memory)))
            text = f"[\n    {items}\n  ]"
        elif key == "diagnostics" and value:
            items = ",\n    ".join(json.dumps(item) for item in value)
            text = f"[\n    {items}\n  ]"
        else:
            text = json.dumps(value)
        parts.append(f"  {json.dumps(key)}: {text}")
    return json_safe("{\n" + ",\n".join(parts) + "\n}\n")


_LISTS = frozenset(("input_shape", "output_shape", "receptive_field", "jump"))
"""The record's list-valued fields, written ``55x55x96`` (csv.writer writes an int as ``str``
does, a bool as ``True``/``False`` and None as an empty field itself, at C speed)."""


def to_csv(a: Analysis) -> str:
    """One row per layer, then a ``total`` row (empty when the totals are incomplete)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in a.layers:
        rec = layer_record(r)
        rec["name"] = escape(rec["name"])
        if rec["assumed"] is not None:
            rec["assumed"] = escape(rec["assumed"])
        rec["inputs"] = ";".join(map(str, r.inputs))
        rec["is_output"] = r.index == a.output
        for c in _LISTS:
            if rec[c] is not None:
                rec[c] = "x".join(map(str, rec[c]))
        w.writerow([rec[c] for c in CSV_COLUMNS])
    t = a.totals
    sums = {} if t is None else {"weights": t.weights, "biases": t.biases, "params": t.params,
                                 "macs": t.macs, "flops": t.flops, "activations": t.activations}
    w.writerow([sums.get(c) if c in sums else ("total" if c == "name" else "")
                for c in CSV_COLUMNS])
    return buf.getvalue()


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(a: Analysis, memory: Memory | None = None, depth: int | None = None) -> str:
    """A GitHub table with exact, comma-grouped figures, ready for a README or a review: the
    table's rows (folded at ``depth``), and its ``from`` column and ``OUTPUT`` row."""
    shown = rows(a, depth)
    graph = shows_from(a, shown)
    keep = [True, True, True, graph, True, True, True, True, True, True]

    def add(*cells: str) -> None:
        table.append([c for c, k in zip(cells, keep, strict=True) if k])

    table: list[list[str]] = []
    add("#", "name", "layer", "from", "input", "output", "params", "MACs", "activations", "RF")
    add("---:", "---", "---", "---", "---", "---", "---:", "---:", "---:", "---:")
    if a.input is not None:
        add("0", "INPUT", "", "", "", volume(a.input), "", "", "", "1")
    for row in shown:
        out = (row.mark(volume(row.output_shape)) if row.output_shape is not None else
               f"*{row.missing}*")
        add(row.label, _md(escape(row.name)), _md(row.layer), from_text(row.reads, row.unresolved),
            volume(row.input_shape), out, _num(row.params),
            row.mark(_num(row.macs)) if row.macs else _num(row.macs),
            row.mark(_num(row.activations)), row.mark(row.rf))
    last = output_row(a)
    if last is not None:
        add("", "OUTPUT", "", str(last.index), "", volume(last.output_shape), "", "", "",
            receptive_field(last))
    t = a.totals
    if t is not None:
        tilde = ASSUMED_MARK if t.assumed else ""
        add("", "**total**", "", "", "", "", f"**{grouped(t.params)}**",
            f"**{grouped(t.macs)}**{tilde}", f"**{grouped(t.activations)}**{tilde}", "")
    lines = ["| " + " | ".join(cells) + " |" for cells in table]
    summary = "" if t is None else f"{summary_line(a, memory or Memory())}\n\n"
    said = conventions(a, any(row.folded for row in shown))
    return "\n".join(lines) + f"\n\n{summary}{said}.\n"


def _num(n: int | None) -> str:
    return "" if n is None else grouped(n)
