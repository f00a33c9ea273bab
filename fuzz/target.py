"""What the fuzzer does with one input, and the properties it checks on what cnncalc prints.

The input is decoded as ``cnncalc show`` decodes a file (UTF-8 with surrogate escapes;
undecodable bytes must become P006), then, for the detected notation and for each forced one,
parsed, analysed and rendered through the real renderers: the table (detected notation only, up
to TABLE_ROWS layers), json, csv, markdown, canonical spec text, the diagnostics as ``show``
prints them, and ``check``'s concise, full, json, github and junit formats (with budgets). The
executor's planner and memory estimate run too, and a small network of the detected notation
is run in NumPy and compared layer by layer with the analysis.

Besides "no exception", these properties must hold (issue 11); a breach is a ``Violation``:

- no output holds a raw C0 or C1 control character but ``\\n`` (no format emits a tab of its
  own), DEL, U+2028/U+2029, or a lone surrogate (which no UTF-8 stream can print);
- no output line starts, after blanks, with ``::`` (a GitHub workflow command), and none
  holds ``##[`` (the runner's older form, found anywhere in a line); in ``check``'s github
  format every line is one of cnncalc's own commands (``::group::``, ``::endgroup::``,
  ``::error file=...,title=cnncalc CODE::``);
- totals are given only when no diagnostic is an error and every layer is ``ok``;
- the canonical spec text of a spec with totals reads back as the same analysis: same input,
  rounding, totals and layers (every figure, shape and setting), the same names (or, as
  ``--format spec`` wrote them before names were escaped, ``"`` as ``'`` and line breaks as
  spaces); wiring assumptions (P014) and line numbers aside, which the rewrite is meant to
  drop;
- the executor measures what the analysis computes.

Only public functions that every version of cnncalc since the fuzzer was written has are used.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Callable
from typing import Any

from fuzz.generators import path_for

NOTATIONS: tuple[str | None, ...] = (None, "lecture", "keras", "pytorch", "vgg")
DEFINES: dict[str, Any] = {"num_classes": 10, "input_shape": (28, 28, 1)}
TABLE_ROWS = 2000
"""rich takes about a millisecond a row: the table is drawn for the detected notation only,
and only up to this many layers."""
EXEC_BYTES = 16 * 2**20
"""Networks whose estimated peak memory fits are run in NumPy."""

_RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_BEACON = re.compile(r"##[A-Za-z]*\[")
_OWN_COMMAND = re.compile(
    r"::(?:group::.*|endgroup::|(?:error|warning|notice) file=[^,:]*,line=\d+,col=\d+,"
    r"endColumn=\d+,title=cnncalc [A-Z]+[0-9]+::.*)")


class Violation(Exception):
    """A property that did not hold; ``kind`` groups equal failures in the summary."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class Progress:
    """The step the target is in (``parse (keras)``, ``csv (detected)``): a timeout names it,
    since the alarm lands wherever the time ran out, not where it was spent."""

    stage = ""


PROGRESS = Progress()
Render = Callable[[], str]


def _char_class(ch: str) -> str:
    o = ord(ch)
    if 0xD800 <= o <= 0xDFFF:
        return "lone surrogate"
    if o in (0x2028, 0x2029):
        return "U+2028/U+2029"
    if o == 0x7F:
        return "DEL"
    return "C1 control" if o >= 0x80 else "C0 control"


def check_text(fmt: str, text: str) -> list[Violation]:
    """The safe-output properties of one rendered output (named ``fmt`` in the report)."""
    found: list[Violation] = []
    raw: dict[str, str] = {}
    for m in _RAW.finditer(text):
        raw.setdefault(_char_class(m[0]), m[0])
    for cls, ch in raw.items():
        at = text.index(ch)
        found.append(Violation(f"raw {cls} in {fmt}",
                               f"U+{ord(ch):04X} in ...{text[max(0, at - 60):at + 20]!r}..."))
    for line in text.splitlines():
        stripped = line.lstrip()
        if not stripped.startswith("::"):
            continue
        if fmt == "check github" and _OWN_COMMAND.fullmatch(line):
            continue
        found.append(Violation(f"workflow command in {fmt}", repr(line[:200])))
        break
    if fmt == "check github":
        stray = next((ln for ln in text.splitlines() if not _OWN_COMMAND.fullmatch(ln)), None)
        if stray is not None:
            found.append(Violation("line that is not cnncalc's own command in check github",
                                   repr(stray[:200])))
    beacon = _BEACON.search(text)
    if beacon is not None:
        found.append(Violation(f"'##[' command in {fmt}",
                               repr(text[max(0, beacon.start() - 40):beacon.end() + 40])))
    return found


def _legacy_quotable(name: str) -> str:
    return name.replace('"', "'").replace("\r", " ").replace("\n", " ")


def load() -> Callable[[bytes], list[Violation]]:
    """Import cnncalc (after atheris instruments it, when it does) and return the target: it
    raises what cnncalc raises and returns the properties that did not hold."""
    from cnncalc.analyze import Analysis, analyze
    from cnncalc.check import formats
    from cnncalc.check.junit import junit
    from cnncalc.check.runner import Report, check_analysis
    from cnncalc.check.settings import FileSettings, Limit, Settings
    from cnncalc.diagnostics import Severity
    from cnncalc.options import undecodable
    from cnncalc.parse import parse_text
    from cnncalc.render.common import layer_record
    from cnncalc.render.machine import to_csv, to_json, to_markdown
    from cnncalc.render.memory import Memory
    from cnncalc.render.report import format_all
    from cnncalc.render.spec_text import to_spec_text
    from cnncalc.render.table import print_table

    try:
        from cnncalc.execute.modules import Context
        from cnncalc.execute.network import Network, memory_estimate, plan, random_input
    except ImportError:  # the executor is optional for this fuzzer
        plan = None  # type: ignore[assignment]

    settings = Settings()
    defines = tuple(DEFINES.items())
    tight, huge = Limit(1, "1", "fuzz"), Limit(10**300, "1e300", "fuzz")
    per_file = (  # no budgets, tight ones, and one of 300 digits: an input gets one by its length
        FileSettings(defines=defines),
        FileSettings(defines=defines, max_params=tight, max_macs=tight, max_activations=tight),
        FileSettings(defines=defines, max_params=huge, max_macs=Limit(10**6, "1M", "fuzz"),
                     max_activations=Limit(10**6 + 1, "1000001", "fuzz")))

    def execute(a: Analysis) -> list[Violation]:
        """Plan and estimate (ints only); run small networks in NumPy and compare every layer
        with the analysis (a differential check)."""
        planned = plan(a)
        est = memory_estimate(planned.modules, a.input or (), 1, 4)
        est.describe()
        if not planned.modules or a.input is None or est.peak_bytes > EXEC_BYTES:
            return []
        measured = Network(planned.modules, "float32", 0).forward(
            random_input(a.input, 1, "float32", 0), Context())
        for r, m in zip(planned.results, measured, strict=True):
            want = (r.output_shape, r.params, r.buffers or 0, r.macs)
            got = (m.output_shape, m.params, m.buffers, m.macs)
            if got != want:
                return [Violation("executor differs from the analysis",
                                  f"{r.layer.name!r}: executor {got} != analysis {want}")]
        return []

    def fingerprint(a: Analysis) -> tuple[object, ...]:
        skip = ("line", "name", "assumed")
        layers = [{k: v for k, v in layer_record(r).items() if k not in skip} for r in a.layers]
        totals = None if a.totals is None else dataclasses.replace(a.totals, assumed=())
        return a.input, a.rounding, totals, layers

    def reads_back(a: Analysis, path: str) -> list[Violation]:
        text = to_spec_text(a.spec, a.input)
        again = analyze(parse_text(text, path))
        first, second = fingerprint(a), fingerprint(again)
        if first != second:
            what = ("input", "rounding", "totals", "layers")
            k = next(i for i in range(4) if first[i] != second[i])
            return [Violation("spec text reads back differently",
                              f"{what[k]}: {first[k]!r:.300} != {second[k]!r:.300}; "
                              f"errors {[d.code for d in again.diagnostics][:5]}")]
        for r, s in zip(a.layers, again.layers, strict=True):
            old, new = r.layer.name, s.layer.name
            if new not in (old, _legacy_quotable(old)):
                return [Violation("spec text reads back another name", f"{old!r} -> {new!r}")]
        return []

    def no_total_on_error(a: Analysis) -> list[Violation]:
        if a.totals is None:
            return []
        error = next((d.code for d in a.diagnostics if d.severity is Severity.ERROR), None)
        if error is None:
            error = next((f"layer {r.status}" for r in a.layers if r.status != "ok"), None)
        return [] if error is None else [Violation("totals despite an error", error)]

    def outputs(a: Analysis, fs: FileSettings, detected: bool) -> list[tuple[str, Render]]:
        def table() -> str:
            out = io.StringIO()
            print_table(a, Memory(), file=out, width=100)
            return out.getvalue()

        checked: list[Report] = []

        def report() -> Report:
            if not checked:
                checked.append(Report((check_analysis(a, fs, settings),), (), Severity.WARNING))
            return checked[0]

        found: list[tuple[str, Render]] = [
            ("json", lambda: to_json(a, Memory(2, "float16"))), ("csv", lambda: to_csv(a)),
            ("markdown", lambda: to_markdown(a, Memory())),
            ("spec", lambda: to_spec_text(a.spec, a.input)),
            ("diagnostics", lambda: format_all(a.diagnostics, a.spec.lines)),
            ("check concise", lambda: formats.concise(report())),
            ("check full", lambda: formats.full(report())),
            ("check json", lambda: formats.to_json(report())),
            ("check github", lambda: formats.github(report())),
            ("check junit", lambda: junit(report())),
            ("check summary", lambda: formats.summary(report()))]
        if detected and len(a.layers) <= TABLE_ROWS:
            found.append(("table", table))
        return found

    def target(data: bytes) -> list[Violation]:
        text = data.decode("utf-8", errors="surrogateescape")
        path = path_for(data)
        PROGRESS.stage = "decode"
        if undecodable(text, path) is not None:
            return []  # load() reports P006 and reads no further
        found: list[Violation] = []
        fs = per_file[len(data) % 3]
        for notation in NOTATIONS:
            label = notation or "detected"
            PROGRESS.stage = f"parse ({label})"
            spec = parse_text(text, path, notation, DEFINES, False)
            PROGRESS.stage = f"analyze ({label})"
            a = analyze(spec)
            here: list[Violation] = no_total_on_error(a)
            for fmt, render in outputs(a, fs, notation is None):
                PROGRESS.stage = f"{fmt} ({label})"
                here += check_text(fmt, render())
            if a.totals is not None:
                PROGRESS.stage = f"spec read back ({label})"
                here += reads_back(a, path)
            if plan is not None and notation is None:
                PROGRESS.stage = "executor (detected)"
                here += execute(a)
            found += [Violation(v.kind, f"[{label}] {v.detail}") for v in here]
        PROGRESS.stage = "done"
        return found

    return target
