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


@dataclass(frozen=True)
class Figures:
    params: int
    macs: int


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
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                   for v in (params, macs)):
            raise BaselineError(f"{path}: specs.{name}: params and macs must be whole "
                                "numbers, 0 or more")
        out[name] = Figures(params, macs)
    return out


def baseline_text(figures: Mapping[str, Figures]) -> str:
    specs = {name: {"params": f.params, "macs": f.macs} for name, f in figures.items()}
    data = {"version": VERSION,
            "conventions": "params = weights + biases; MACs = multiply-accumulates",
            "specs": specs}
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
    if totals is None:
        return None
    if "macs" in totals.assumed:  # MACs on an assumed wiring are not compared (B404 says so)
        if totals.params == before.params:
            return None
        changes = _change("params", before.params, totals.params)
    elif (totals.params, totals.macs) == (before.params, before.macs):
        return None
    else:
        changes = (f"{_change('params', before.params, totals.params)}, "
                   f"{_change('MACs', before.macs, totals.macs)}")
    return Diagnostic(
        head_span(analysis.spec), "W701", f"totals changed since the baseline: {changes}",
        "if the change is intended, record it with --write-baseline")
