"""Output formats of ``cnncalc check``; each returns text, the command prints it.

- ``concise``: ``path:line:col: CODE message``, one finding a line;
- ``full``: ``path:line:col: severity: message [CODE name]``, the source line, a caret under
  the span and the hint (``cnncalc.render.report``, as ``cnncalc show`` prints problems);
- ``json``: one object with stable keys (docs/ci.md): ``version``, ``summary``, ``files``
  (per-file totals), ``diagnostics`` (``Diagnostic.to_dict()`` records) and ``problems``;
- ``github``: workflow commands that annotate the pull request, grouped per file;
- ``junit``: ``cnncalc.check.junit``.

Findings are sorted by path, line, column and code. Machine formats never import rich.
Paths, messages and hints are escaped as ``cnncalc.escape`` says, except in json, which keeps
them exact (its escapes are lossless and its text ASCII) but for ``##[``.
"""

from __future__ import annotations

import json
from typing import Any

from cnncalc.check.runner import Report
from cnncalc.check.units import count_text, plural
from cnncalc.diagnostics import Severity
from cnncalc.escape import escape, escape_char, json_safe

JSON_VERSION = 1


def summary(report: Report) -> str:
    """``All checks passed!`` or ``3 findings in 2 files (1 error, 2 warnings)``; then how many
    files were checked, suppressed findings and paths that could not be checked."""
    findings = report.findings
    n_files = len(report.files)
    extra = [f"{plural(n_files, 'file')} checked"]
    suppressed = sum(f.suppressed for f in report.files)
    if suppressed:
        extra.append(f"{count_text(suppressed)} suppressed")
    if report.problems:
        extra.append(f"{plural(len(report.problems), 'path')} could not be checked")
    if report.skipped:
        extra.append(_skipped(report.skipped))
    if not findings:
        return f"All checks passed! ({', '.join(extra)})" if not report.problems else \
            f"No findings ({', '.join(extra)})"
    with_findings = len({d.span.path for d in findings})
    by = [plural(sum(d.severity is s for d in findings), s.value)
          for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
          if any(d.severity is s for d in findings)]
    return (f"{plural(len(findings), 'finding')} in {plural(with_findings, 'file')} "
            f"({', '.join(by)}); {', '.join(extra)}")


SKIPPED_NAMED = 3
"""How many of the files left out as not specs the summary names (then ``and N more``)."""


def _skipped(paths: tuple[str, ...]) -> str:
    """``2 files left out as not specs: LICENSE.txt, requirements.txt``: a directory's
    ``.txt`` files that did not read as specs (name a file, or give it a ``.cnn`` name, to
    have it checked)."""
    shown = ", ".join(escape(p) for p in sorted(paths)[:SKIPPED_NAMED])
    more = f" and {len(paths) - SKIPPED_NAMED} more" if len(paths) > SKIPPED_NAMED else ""
    return f"{plural(len(paths), 'file')} left out as not specs: {shown}{more}"


def concise(report: Report) -> str:
    return "".join(f"{escape(d.span.path)}:{d.span.line}:{d.span.col}: {d.code} "
                   f"{escape(d.message)}\n" for d in report.findings)


def full(report: Report, color: bool = False) -> str:
    from cnncalc.render.report import format_diagnostic

    pairs = sorted(((d, f.lines) for f in report.files for d in f.diagnostics),
                   key=lambda p: p[0].sort_key)
    return "".join(format_diagnostic(d, lines, color) + "\n\n" for d, lines in pairs)


def json_record(report: Report) -> dict[str, Any]:
    findings = report.findings
    counts = {s.value: sum(d.severity is s for d in findings)
              for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}
    return {
        "version": JSON_VERSION,
        "summary": {
            "files": len(report.files),
            "findings": len(findings),
            **counts,
            "suppressed": sum(f.suppressed for f in report.files),
            "problems": len(report.problems),
            "left_out": sorted(report.skipped),  # found in a walk, did not read as specs
            "fail_on": report.fail_on.value,
            "failed": report.failed,
        },
        "files": [{
            "path": f.path,
            "notation": f.notation,
            "findings": len(f.diagnostics),
            "totals": None if f.totals is None else {
                "params": f.totals.params,
                "weights": f.totals.weights,
                "biases": f.totals.biases,
                "buffers": f.totals.buffers,
                "macs": f.totals.macs,
                "flops": f.totals.flops,
                "activations": f.totals.activations,
                "activation_bytes": f.activation_bytes,
                "peak_activations": f.totals.peak_activations,
                "peak_activation_bytes": f.peak_activation_bytes,
            },
        } for f in report.files],
        "diagnostics": [d.to_dict() for d in findings],
        "problems": [{"path": p.path, "message": p.message} for p in report.problems],
    }


def to_json(report: Report) -> str:
    return json_safe(json.dumps(json_record(report), indent=2) + "\n")


def escape_data(text: str) -> str:
    """GitHub workflow-command message escaping: ``%``, ``\\r``, ``\\n`` (what the runner
    unescapes; user text in it is escaped with ``cnncalc.escape`` first)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Property values additionally escape ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _file(path: str) -> str:
    """A path for ``file=``: unsafe characters and ``##[`` escaped, nothing else (see
    ``github``)."""
    return "".join(escape_char(path, i) or c for i, c in enumerate(path))


_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def github(report: Report) -> str:
    """``::error file=F,line=L,col=C,endColumn=E,title=cnncalc CODE::message`` (``warning``,
    ``notice`` for the other severities), one ``::group::path`` per file with findings.
    ``endColumn`` is the span's exclusive end column, as ruff's github format gives it.

    The path in ``file=`` keeps its backslashes and colons (``escape_property`` writes ``:``
    as ``%3A``), so that the annotation lands on the real file; only unsafe characters and
    ``##[`` are escaped there. Every line starts with one of these commands and holds no other."""
    out: list[str] = []
    by_path: dict[str, list[Any]] = {}
    for d in report.findings:
        by_path.setdefault(d.span.path, []).append(d)
    for path, diags in by_path.items():
        out.append(f"::group::{escape_data(escape(path))}")
        for d in diags:
            s = d.span
            props = ",".join(f"{k}={escape_property(str(v))}" for k, v in (
                ("file", _file(s.path)), ("line", s.line), ("col", s.col),
                ("endColumn", max(s.end_col, s.col + 1)), ("title", f"cnncalc {d.code}")))
            message = f"{escape(d.message)} [{d.code} {d.rule.name}]"
            if d.hint:
                message += f"\nhint: {escape(d.hint)}"
            out.append(f"::{_LEVEL[d.severity]} {props}::{escape_data(message)}")
        out.append("::endgroup::")
    return "".join(line + "\n" for line in out)
