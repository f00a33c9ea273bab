"""Baselines: each spec's totals recorded once, so that a change that grows a model shows.

``cnncalc check --write-baseline FILE`` writes, for every checked spec that has totals::

    {
      "version": 1,
      "conventions": "params = weights + biases; MACs = multiply-accumulates",
      "specs": {
        "specs/alexnet.txt": {"macs": 1135256096, "params": 62378344}
      }
    }

Keys sorted, two-space indent, one trailing newline: the file diffs cleanly in review. Paths
are as ``check`` shows them (relative to the current directory), so write and compare from the
same directory. ``--baseline FILE`` reports W701 for a spec whose params or MACs differ, with
the change as a percentage rounded half up on the exact value (integers only, never a float);
specs missing from the baseline, or without totals now, are not compared.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cnncalc.analyze import Analysis
from cnncalc.check.budgets import head_span
from cnncalc.check.units import count_text, percent_text
from cnncalc.diagnostics import Diagnostic

VERSION = 1


class BaselineError(Exception):
    """A baseline file that cannot be read or is not one (exit 2)."""


@dataclass(frozen=True)
class Figures:
    params: int
    macs: int


def read_baseline(path: Path) -> dict[str, Figures]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc.strerror or exc}") from exc
    except ValueError as exc:
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
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (params, macs)):
            raise BaselineError(f"{path}: specs.{name}: params and macs must be integers")
        out[name] = Figures(params, macs)
    return out


def baseline_text(figures: Mapping[str, Figures]) -> str:
    specs = {name: {"params": f.params, "macs": f.macs} for name, f in figures.items()}
    data = {"version": VERSION,
            "conventions": "params = weights + biases; MACs = multiply-accumulates",
            "specs": specs}
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def write_baseline(path: Path, figures: Mapping[str, Figures]) -> None:
    try:
        path.write_text(baseline_text(figures), encoding="utf-8", newline="\n")
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write the baseline: {exc.strerror or exc}") from exc


def _change(name: str, old: int, new: int) -> str:
    if old == new:
        return f"{name} unchanged ({count_text(new)})"
    delta = new - old
    pct = f", {percent_text(delta, old, 2)}" if old else ""
    sign = "+" if delta > 0 else ""
    return f"{name} {count_text(old)} -> {count_text(new)} ({sign}{count_text(delta)}{pct})"


def totals_changed(analysis: Analysis, before: Figures) -> Diagnostic | None:
    """Params or MACs that differ from the baseline.

    A pull request that grows a model by a few million parameters is easy to miss in a diff of
    one line of text; with ``--baseline cnncalc-baseline.json`` in CI it shows as a warning with
    both figures and the change. Rerun with ``--write-baseline`` to accept the new figures.

    Passing: the spec's figures equal the baseline's (``"params": 47206, "macs": 164640``)::

        [32x32x1] INPUT
        CONV1: 6 5x5 filters
        FC2: 10 neurons

    Failing: the same baseline, and CONV1 now has 8 filters::

        [32x32x1] INPUT
        CONV1: 8 5x5 filters
        FC2: 10 neurons
    """
    totals = analysis.totals
    if totals is None or (totals.params, totals.macs) == (before.params, before.macs):
        return None
    return Diagnostic(
        head_span(analysis.spec), "W701",
        f"totals changed since the baseline: {_change('params', before.params, totals.params)}, "
        f"{_change('MACs', before.macs, totals.macs)}",
        "if the change is intended, record it with --write-baseline")
