"""The check itself: discover files, then for each one read, parse and analyse it (through
``cnncalc.parse.parse_text`` and ``cnncalc.analyze.analyze``, as ``cnncalc show`` does), add the
advice rules, budgets and baseline comparison, keep the selected codes, apply inline
suppressions. No printing and no exit codes here: the command decides both.

A file that cannot be read (permission denied, vanished) or that crashes cnncalc is a
``Problem``, not a finding: it makes the run exit 2 whatever the findings. A symbolic link out
of the checked tree (``discover.Outside``) is never opened: it is a file with one finding,
P020, and no notation or totals. A file found by content (``Found.by_content``) that does not
read as a spec (``cnncalc.check.sniff``) is left out: counted in ``Report.skipped``, not
reported.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cnncalc.analyze import Analysis, Totals, analyze
from cnncalc.check.baseline import Figures, totals_changed
from cnncalc.check.budgets import check_budgets, not_judged
from cnncalc.check.discover import Found, Missing, Outside, discover
from cnncalc.check.lint import LINT_RULES
from cnncalc.check.settings import FileSettings, Settings, selected
from cnncalc.check.sniff import HEAD, binary, head_text, not_parsed, reads_as_spec
from cnncalc.check.suppress import apply_suppressions, find_suppressions
from cnncalc.cli import no_cyclic_gc
from cnncalc.diagnostics import Diagnostic, Severity
from cnncalc.options import read_limited, undecodable, unread
from cnncalc.parse import parse_text
from cnncalc.parse.bounds import MAX_FILE_SIZE, MAX_LAYERS, file_too_large
from cnncalc.render.memory import Memory
from cnncalc.spec import Span


@dataclass(frozen=True)
class FileResult:
    """One checked file: its findings (selected, not suppressed, sorted) and its figures.
    ``notation`` is None for a file that was not read (P020)."""

    path: str
    notation: str | None
    totals: Totals | None
    activation_bytes: int | None
    diagnostics: tuple[Diagnostic, ...]
    lines: tuple[str, ...] = field(repr=False, compare=False)
    suppressed: int = 0
    peak_activation_bytes: int | None = None


@dataclass(frozen=True)
class Problem:
    """A path that could not be checked; ``detail`` holds a traceback for internal errors."""

    path: str
    message: str
    detail: str = ""


@dataclass(frozen=True)
class Report:
    """``skipped``: files found by content that did not read as specs (not checked)."""

    files: tuple[FileResult, ...]
    problems: tuple[Problem, ...]
    fail_on: Severity
    skipped: tuple[str, ...] = ()

    @property
    def findings(self) -> list[Diagnostic]:
        return sorted((d for f in self.files for d in f.diagnostics), key=lambda d: d.sort_key)

    def failing(self, d: Diagnostic) -> bool:
        return d.severity.rank >= self.fail_on.rank

    @property
    def failed(self) -> bool:
        return any(self.failing(d) for f in self.files for d in f.diagnostics)


def decode(data: bytes, shown: str) -> tuple[str, Diagnostic | None]:
    """UTF-8 text, and P006 when it is not (the fast path skips the per-character scan)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="surrogateescape")
        return text, undecodable(text, shown)
    return text, (undecodable(text, shown) if "\x00" in text else None)


def analyse(text: str, shown: str, fs: FileSettings, bad: Diagnostic | None = None,
            max_layers: int = MAX_LAYERS, max_file_size: int = MAX_FILE_SIZE) -> Analysis:
    """What ``cnncalc.options.load`` does, from text already read."""
    if bad is not None:
        return unread(shown, text, bad)
    given = fs.input is not None or fs.default_input is not None
    spec = parse_text(text, shown, fs.notation, dict(fs.defines), given,
                      max_layers=max_layers, max_file_size=max_file_size,
                      input_volume=fs.input)
    volume = fs.input
    if volume is None and spec.input is None and fs.default_input is not None:
        # the configuration's input, for a spec that gives none: read again with it, as
        # --input would (PyTorch code needs the volume while it is read)
        volume = fs.default_input
        spec = parse_text(text, shown, fs.notation, dict(fs.defines), True,
                          max_layers=max_layers, max_file_size=max_file_size,
                          input_volume=volume)
    return analyze(spec, volume, fs.rounding)


def check_analysis(analysis: Analysis, fs: FileSettings, settings: Settings,
                   before: Figures | None = None) -> FileResult:
    """Findings for one analysed spec: analysis diagnostics, advice, budgets, baseline."""
    ignore = settings.ignore + fs.ignore

    def is_selected(code: str) -> bool:
        return selected(code, settings.select, ignore)

    memory = Memory(settings.batch, settings.dtype)
    found = list(analysis.diagnostics)
    for rule in LINT_RULES:
        if is_selected(rule.code):
            found.extend(rule.check(analysis))
    found.extend(check_budgets(analysis, fs, memory))
    unjudged = not_judged(analysis, fs, before, is_selected)
    if unjudged is not None:
        found.append(unjudged)
    if before is not None:
        changed = totals_changed(analysis, before)
        if changed is not None:
            found.append(changed)
    spec = analysis.spec
    suppressions, blanket = find_suppressions(spec.lines, spec.path, spec.notation)
    kept = [d for d in [*found, *blanket] if is_selected(d.code)]
    kept, suppressed = apply_suppressions(kept, suppressions, is_selected)
    kept.sort(key=lambda d: d.sort_key)
    totals = analysis.totals
    if totals is None:
        return FileResult(spec.path, spec.notation, None, None, tuple(kept), spec.lines,
                          suppressed)
    return FileResult(spec.path, spec.notation, totals, memory.activations(totals.activations),
                      tuple(kept), spec.lines, suppressed,
                      memory.activations(totals.peak_activations))


def refused(outside: Outside, settings: Settings) -> FileResult:
    """A link out of the checked tree: P020 at line 1, the file it leads to never opened."""
    fs = settings.for_path(outside.rel)
    d = Diagnostic(
        Span(outside.shown, 1, 1, 2), "P020",
        f"symbolic link not followed: {outside.why}; the file it leads to was not read",
        "to check that file, name it or its directory on the command line; exclude this "
        "link to skip it")
    kept = (d,) if selected("P020", settings.select, settings.ignore + fs.ignore) else ()
    return FileResult(outside.shown, None, None, None, kept, ())


def check_file(found: Found, settings: Settings,
               baseline: dict[str, Figures] | None = None) -> FileResult | Problem | None:
    """The file's result; None for a file found by content that is not a spec."""
    with no_cyclic_gc():
        return _check_file(found, settings, baseline)


def _read(found: Found, limit: int) -> bytes | None:
    """The file's bytes (``read_limited``); a file found by content is read whole only when
    its first ``HEAD`` bytes are not binary (else None)."""
    if not found.by_content:
        return read_limited(found.path, limit)
    head = read_limited(found.path, min(HEAD, limit))
    if binary(head[:HEAD]):
        return None
    return head if len(head) <= min(HEAD, limit) else read_limited(found.path, limit)


def _not_a_spec(analysis: Analysis, data: bytes, fs: FileSettings, settings: Settings) -> bool:
    """A file found by content is a spec when its text, or the first ``HEAD`` bytes of a text
    not parsed (not UTF-8, too large), reads as one."""
    spec = analysis.spec
    if not_parsed(spec):
        spec = parse_text(head_text(data), spec.path, fs.notation, dict(fs.defines),
                          fs.input is not None or fs.default_input is not None,
                          max_layers=settings.max_layers,
                          max_file_size=settings.max_file_size)
    return not reads_as_spec(spec)


def _check_file(found: Found, settings: Settings,
                baseline: dict[str, Figures] | None = None) -> FileResult | Problem | None:
    try:
        data = _read(found, settings.max_file_size)
    except OSError as exc:
        return Problem(found.shown, exc.strerror or str(exc))
    if data is None:
        return None
    try:
        fs = settings.for_path(found.rel)
        bad: Diagnostic | None
        if len(data) > settings.max_file_size:
            text, bad = "", file_too_large(found.shown, settings.max_file_size)
        else:
            text, bad = decode(data, found.shown)
        analysis = analyse(text, found.shown, fs, bad, settings.max_layers,
                           settings.max_file_size)
        if found.by_content and _not_a_spec(analysis, data, fs, settings):
            return None
        return check_analysis(analysis, fs, settings, (baseline or {}).get(found.shown))
    except Exception as exc:  # one bad file must not hide the others' findings
        return Problem(found.shown, f"internal error: {type(exc).__name__}: {exc}",
                       traceback.format_exc())


def run_check(paths: Iterable[str], settings: Settings,
              baseline: dict[str, Figures] | None = None,
              count: Callable[[int, int], None] | None = None) -> Report:
    """Check every file under ``paths``; files and problems sorted by path. ``count(done,
    total)`` is told of each path done (for a progress bar)."""
    files: list[FileResult] = []
    problems: list[Problem] = []
    skipped: list[str] = []
    found = list(discover(tuple(paths), settings))
    for done, item in enumerate(found, start=1):
        if count is not None:
            count(done - 1, len(found))
        if isinstance(item, Missing):
            problems.append(Problem(item.path, item.reason))
            continue
        if isinstance(item, Outside):
            files.append(refused(item, settings))
            continue
        result = check_file(item, settings, baseline)
        if result is None:
            skipped.append(item.shown)
        elif isinstance(result, Problem):
            problems.append(result)
        else:
            files.append(result)
    files.sort(key=lambda f: f.path)
    problems.sort(key=lambda p: p.path)
    return Report(tuple(files), tuple(problems), settings.fail_on, tuple(skipped))
