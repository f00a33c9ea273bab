"""What the fuzzer does with one input, and the properties it checks on what cnncalc prints.

The input is decoded as ``cnncalc show`` decodes a file (UTF-8 with surrogate escapes;
undecodable bytes must become P006), then, for the detected notation and for each forced one,
parsed, analysed and rendered through the real renderers: the table (detected notation only, up
to TABLE_ROWS layers), json, csv, markdown, canonical spec text, the diagnostics as ``show``
prints them, and ``check``'s concise, full, json, github, junit and summary formats (with no
budgets, tight ones or one of 300 digits). The executor's planner and memory estimate run too,
and a small network of the detected notation is run in NumPy and compared layer by layer with
the analysis. A network of more than RENDER_LAYERS layers is read and analysed only. One input
in eight is shown under a hostile path (``generators.path_for``).

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
import warnings
from collections.abc import Callable
from typing import Any

from fuzz.generators import path_for

NOTATIONS: tuple[str | None, ...] = (None, "lecture", "keras", "pytorch", "vgg")
DEFINES: dict[str, Any] = {"num_classes": 10, "input_shape": (28, 28, 1)}
TABLE_ROWS = 300
"""rich takes over a millisecond a row here (1,000 rows: 1.2 s): the table is drawn for the
detected notation only, and only up to this many layers."""
RENDER_LAYERS = 20_000
"""A network of more layers (a repeat at a layer cap) is read and analysed but not rendered:
rendering is linear and the same code for any size, and 100,000 layers take 1.7 s in json
alone, near the time limit of one step."""
EXEC_BYTES = 16 * 2**20
EXEC_LAYERS = 2_000
"""Networks whose estimated peak memory and number of layers fit are run in NumPy."""

_RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_BEACON = re.compile(r"##[A-Za-z]*\[")
_OWN_COMMAND = re.compile(
    r"::(?:group::.*|endgroup::|(?:error|warning|notice) file=[^,:]*,line=\d+,col=\d+,"
    r"endColumn=\d+,title=cnncalc [A-Z]+[0-9]+::.*)")


class Violation(Exception):
    """A property that did not hold: ``kind`` groups equal failures in the summary, ``where``
    (an output format, or empty) tells them apart within a group."""

    def __init__(self, kind: str, detail: str, where: str = "") -> None:
        super().__init__(f"{kind}{' in ' + where if where else ''}: {detail}")
        self.kind = kind
        self.detail = detail
        self.where = where


class Progress:
    """The step the target is in (``parse (keras)``, ``csv (detected)``): a timeout names it.
    ``on_step`` runs as each step starts: the engine restarts the time limit there, so that
    the limit is what one call of cnncalc may take (parsing the input in one notation,
    analysing it, one rendering), not the sum of the sixty-odd steps of an input."""

    stage = ""
    on_step: Callable[[], None] = staticmethod(lambda: None)

    def step(self, stage: str) -> None:
        self.stage = stage
        self.on_step()


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
        found.append(Violation(f"raw {cls}",
                               f"U+{ord(ch):04X} in ...{text[max(0, at - 60):at + 20]!r}...",
                               fmt))
    for line in text.splitlines():
        stripped = line.lstrip()
        if not stripped.startswith("::"):
            continue
        if fmt == "check github" and _OWN_COMMAND.fullmatch(line):
            continue
        found.append(Violation("workflow command", repr(line[:200]), fmt))
        break
    if fmt == "check github":
        stray = next((ln for ln in text.splitlines() if not _OWN_COMMAND.fullmatch(ln)), None)
        if stray is not None:
            found.append(Violation("line that is not cnncalc's own command", repr(stray[:200]),
                                   fmt))
    beacon = _BEACON.search(text)
    if beacon is not None:
        found.append(Violation("'##[' command",
                               repr(text[max(0, beacon.start() - 40):beacon.end() + 40]), fmt))
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
        FileSettings(defines=defines, max_params=tight, max_macs=tight, max_activations=tight,
                     max_peak_activations=tight),
        FileSettings(defines=defines, max_params=huge, max_macs=Limit(10**6, "1M", "fuzz"),
                     max_activations=Limit(10**6 + 1, "1000001", "fuzz"),
                     max_peak_activations=huge))

    def execute(a: Analysis) -> list[Violation]:
        """Plan and estimate (ints only); run small networks in NumPy and compare every layer
        with the analysis (a differential check)."""
        planned = plan(a)
        est = memory_estimate(planned.modules, a.input or (), 1, 4)
        est.describe()
        if not planned.modules or a.input is None or est.peak_bytes > EXEC_BYTES or \
                len(planned.modules) > EXEC_LAYERS:
            return []
        with warnings.catch_warnings():  # random weights overflow float32 in deep networks
            warnings.simplefilter("ignore")
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
        totals = None if a.totals is None else [
            (f.name, getattr(a.totals, f.name)) for f in dataclasses.fields(a.totals)
            if f.name != "assumed"]
        return a.input, a.rounding, totals, layers

    def reads_back(a: Analysis, path: str) -> list[Violation]:
        text = to_spec_text(a.spec, a.input)
        again = analyze(parse_text(text, path))
        first, second = fingerprint(a), fingerprint(again)
        if first != second:
            what = ("input", "rounding", "totals", "layers")
            k = next(i for i in range(4) if first[i] != second[i])
            error = next((d for d in again.diagnostics if d.severity is Severity.ERROR), None)
            said = "" if error is None else (
                f"; {error.code} {error.message[:80]!r} on line {error.span.line}: "
                f"{again.spec.lines[error.span.line - 1][:120]!r}"
                if 1 <= error.span.line <= len(again.spec.lines) else f"; {error.code}")
            return [Violation("spec text reads back differently",
                              f"{what[k]}: {first[k]!r:.200} != {second[k]!r:.200}{said}")]
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

    def properties(a: Analysis, fs: FileSettings, label: str, path: str) -> list[Violation]:
        found = no_total_on_error(a)
        if len(a.layers) > RENDER_LAYERS:
            return found
        for fmt, render in outputs(a, fs, label == "detected"):
            PROGRESS.step(f"{fmt} ({label})")
            found += check_text(fmt, render())
        if a.totals is not None:
            PROGRESS.step(f"spec read back ({label})")
            found += reads_back(a, path)
        if plan is not None and label == "detected":
            PROGRESS.step("executor (detected)")
            found += execute(a)
        return found

    def target(data: bytes) -> list[Violation]:
        text = data.decode("utf-8", errors="surrogateescape")
        path = path_for(data)
        PROGRESS.step("decode")
        if undecodable(text, path) is not None:
            return []  # load() reports P006 and reads no further
        found: list[Violation] = []
        fs = per_file[len(data) % 3]
        for notation in NOTATIONS:
            label = notation or "detected"
            PROGRESS.step(f"parse ({label})")
            spec = parse_text(text, path, notation, DEFINES, False)
            PROGRESS.step(f"analyze ({label})")
            a = analyze(spec)
            found += [Violation(v.kind, f"[{label}] {v.detail}", v.where)
                      for v in properties(a, fs, label, path)]
        PROGRESS.step("done")
        return found

    return target
