"""Baselines: each spec's totals recorded once, so that a change that grows a model shows.

``cnncalc check --write-baseline FILE`` writes, for every checked spec that has totals::

    {
      "version": 1,
      "conventions": "params = weights + biases; MACs = multiply-accumulates; ...",
      "specs": {
        "specs/alexnet.txt": {"macs": 1135256096, "params": 62378344,
                              "peak_activations": 444987}
      }
    }

``peak_activations`` is the inference-memory peak in elements (``Totals.peak_activations``:
the outputs alive at once, the input included), a property of the network like the other two,
whatever ``--batch`` and ``--dtype`` say. It is optional: a baseline written before cnncalc
recorded it still reads, and its specs are compared on params and MACs alone.

Keys sorted, two-space indent, one trailing newline: the file diffs cleanly in review. Paths
are as ``check`` shows them (relative to the current directory), so write and compare from the
same directory. ``--baseline FILE`` reports W701 for a spec whose params, MACs or peak
activations differ, with
the change as a percentage rounded half up on the exact value (integers only, never a float);
specs missing from the baseline are not compared, and a spec without complete totals now is
not compared either, which B404 says.

The file is read as the configuration is (``files.read_regular``): a regular file of at most
``BASELINE_LIMIT`` bytes; JSON nested too deeply is an error naming the file. It is written
atomically (``files.write_atomic``), never through a symbolic link.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from cnncalc.analyze import Analysis
from cnncalc.check.budgets import head_span
from cnncalc.check.files import FileError, mib, read_regular, write_atomic
from cnncalc.check.units import count_text, percent_text
from cnncalc.diagnostics import Diagnostic
from cnncalc.parse.lexer import MAX_DIGITS

VERSION = 1
BASELINE_LIMIT = 16 * 2**20
"""The largest baseline read or written, 16 MiB: about 200,000 specs at some 80 bytes each."""


class BaselineError(Exception):
    """A baseline file that cannot be read or is not one (exit 2)."""


CONVENTIONS = ("params = weights + biases; MACs = multiply-accumulates; peak_activations = "
               "output elements alive at once at inference, input included, per example")


@dataclass(frozen=True)
class Figures:
    params: int
    macs: int
    peak_activations: int | None = None  # None: a baseline written before it was recorded


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"a number of {len(text.lstrip('-')):,} digits (at most "
                         f"{MAX_DIGITS:,})")
    return int(text)


def read_baseline(path: Path) -> dict[str, Figures]:
    try:
        raw = read_regular(path, BASELINE_LIMIT)
    except FileError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc}") from exc
    try:
        data = json.loads(raw.decode("utf-8"), parse_int=_int, parse_float=Decimal)
    except RecursionError:
        raise BaselineError(f"{path}: not a JSON baseline: arrays or objects nested too "
                            "deeply") from None
    except ValueError as exc:  # not UTF-8, not JSON, or a number too long
        raise BaselineError(f"{path}: not a JSON baseline: {exc}") from exc
    specs = data.get("specs") if isinstance(data, dict) else None
    if not isinstance(specs, dict) or data.get("version") != VERSION:
        raise BaselineError(f"{path}: not a cnncalc baseline (version {VERSION} with 'specs'); "
                            "write one with --write-baseline")
    out: dict[str, Figures] = {}
    for name, entry in specs.items():
        try:
            params, macs = entry["params"], entry["macs"]
        except (KeyError, TypeError):
            raise BaselineError(f"{path}: specs.{name}: needs params and macs") from None
        peak = entry.get("peak_activations")  # optional: older baselines lack it
        for key, v in (("params", params), ("macs", macs), ("peak_activations", peak)):
            if (v is not None or key != "peak_activations") and (
                    not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise BaselineError(f"{path}: specs.{name}: {key} must be a whole number, "
                                    "0 or more")
        out[name] = Figures(params, macs, peak)
    return out


def _entry(f: Figures) -> dict[str, int]:
    entry = {"params": f.params, "macs": f.macs}
    if f.peak_activations is not None:
        entry["peak_activations"] = f.peak_activations
    return entry


def baseline_text(figures: Mapping[str, Figures]) -> str:
    specs = {name: _entry(f) for name, f in figures.items()}
    data = {"version": VERSION, "conventions": CONVENTIONS, "specs": specs}
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def write_baseline(path: Path, figures: Mapping[str, Figures]) -> None:
    data = baseline_text(figures).encode("utf-8")
    if len(data) > BASELINE_LIMIT:
        raise BaselineError(f"{path}: not written: the baseline would be larger than "
                            f"{mib(BASELINE_LIMIT)}, the most --baseline reads")
    try:
        write_atomic(path, data)
    except FileError as exc:
        raise BaselineError(f"{path}: cannot write the baseline: {exc}") from exc


def _change(name: str, old: int, new: int) -> str:
    if old == new:
        return f"{name} unchanged ({count_text(new)})"
    delta = new - old
    pct = f", {percent_text(delta, old, 2)}" if old else ""
    sign = "+" if delta > 0 else ""
    return f"{name} {count_text(old)} -> {count_text(new)} ({sign}{count_text(delta)}{pct})"


def totals_changed(analysis: Analysis, before: Figures) -> Diagnostic | None:
    """Params, MACs or peak activations that differ from the baseline.

    A pull request that grows a model by a few million parameters is easy to miss in a diff of
    one line of text; with ``--baseline cnncalc-baseline.json`` in CI it shows as a warning with
    the figures and the change. Peak activations (the inference-memory peak, in elements) are
    compared when the baseline records them: rewiring a network (the same branches run side
    by side instead of in turn) can change them with params and MACs unchanged. Rerun with
    ``--write-baseline`` to accept the new figures.

    Passing: the baseline holds the spec's figures (params 47206, macs 164640, peak 5728)::

        [32x32x1] INPUT
        CONV1: 6 5x5 filters
        FC2: 10 neurons

    Failing: the same baseline, and CONV1 now has 8 filters::

        [32x32x1] INPUT
        CONV1: 8 5x5 filters
        FC2: 10 neurons
    """
    totals = analysis.totals
    if totals is None:
        return None
    assumed = totals.assumed  # figures on an assumed wiring are not compared (B404 says so)
    now = [("params", before.params, totals.params)]
    if "macs" not in assumed:
        now.append(("MACs", before.macs, totals.macs))
    if before.peak_activations is not None and "activations" not in assumed:
        now.append(("peak activations", before.peak_activations, totals.peak_activations))
    if all(old == new for _, old, new in now):
        return None
    changes = ", ".join(_change(name, old, new) for name, old, new in now)
    return Diagnostic(
        head_span(analysis.spec), "W701", f"totals changed since the baseline: {changes}",
        "if the change is intended, record it with --write-baseline")
