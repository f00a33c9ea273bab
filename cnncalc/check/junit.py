"""JUnit XML for CI test reporters: one ``<testcase>`` per spec file.

A file with findings at or above the fail level (``--fail-on``) has one ``<failure>`` whose
``type`` is the first failing code, whose ``message`` counts them, and whose text lists every
one as ``path:line:col: CODE severity: message`` with its hint. Findings below the fail level go
to the test case's ``<system-out>``. A path that could not be checked is a test case with an
``<error>``. Built with ``xml.etree`` so it is always well-formed; characters XML 1.0 cannot
hold (control characters, undecodable bytes) become U+FFFD. No timestamps: output is stable.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from cnncalc.check.runner import Report
from cnncalc.check.units import plural
from cnncalc.diagnostics import Diagnostic

_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _line(d: Diagnostic) -> str:
    s = d.span
    hint = f"\n  hint: {d.hint}" if d.hint else ""
    return _clean(f"{s.path}:{s.line}:{s.col}: {d.code} {d.severity.value}: {d.message}{hint}")


def junit(report: Report) -> str:
    cases: list[ET.Element] = []
    failures = 0
    for f in report.files:
        case = ET.Element("testcase", classname="cnncalc.check", name=_clean(f.path),
                          file=_clean(f.path))
        failing = [d for d in f.diagnostics if report.failing(d)]
        others = [d for d in f.diagnostics if not report.failing(d)]
        if failing:
            failures += 1
            counted = plural(len(failing), "finding")
            failure = ET.SubElement(
                case, "failure", type=failing[0].code,
                message=_clean(f"{counted} at or above {report.fail_on.value}: "
                               f"{failing[0].code} {failing[0].message}"))
            failure.text = "\n".join(_line(d) for d in failing)
        if others:
            ET.SubElement(case, "system-out").text = "\n".join(_line(d) for d in others)
        cases.append(case)
    for p in report.problems:
        case = ET.Element("testcase", classname="cnncalc.check", name=_clean(p.path),
                          file=_clean(p.path))
        ET.SubElement(case, "error", type="unreadable", message=_clean(p.message))
        cases.append(case)
    cases.sort(key=lambda c: c.get("name", ""))
    counts = {"tests": str(len(cases)), "failures": str(failures),
              "errors": str(len(report.problems)), "skipped": "0"}
    root = ET.Element("testsuites", {"name": "cnncalc check", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": "cnncalc check", **counts})
    suite.extend(cases)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
