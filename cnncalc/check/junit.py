"""JUnit XML for CI test reporters: one ``<testcase>`` per spec file.

A file with findings at or above the fail level (``--fail-on``) has one ``<failure>`` whose
``type`` is the first failing code, whose ``message`` counts them, and whose text lists every
one as ``path:line:col: CODE severity: message`` with its hint. Findings below the fail level go
to the test case's ``<system-out>``. A path that could not be checked is a test case with an
``<error>``. Built with ``xml.etree`` so it is always well-formed. Paths, messages and hints
are escaped as ``cnncalc.escape`` says, visibly (``\x1b``): XML 1.0 cannot hold most control
characters even as references, and every line of a failure's text starts with a path. No
timestamps: output is stable.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from cnncalc.check.runner import Report
from cnncalc.check.units import plural
from cnncalc.diagnostics import Diagnostic
from cnncalc.escape import escape


def _line(d: Diagnostic) -> str:
    s = d.span
    hint = f"\n  hint: {escape(d.hint)}" if d.hint else ""
    return (f"{escape(s.path)}:{s.line}:{s.col}: {d.code} {d.severity.value}: "
            f"{escape(d.message)}{hint}")


def junit(report: Report) -> str:
    cases: list[ET.Element] = []
    failures = 0
    for f in report.files:
        case = ET.Element("testcase", classname="cnncalc.check", name=escape(f.path),
                          file=escape(f.path))
        failing = [d for d in f.diagnostics if report.failing(d)]
        others = [d for d in f.diagnostics if not report.failing(d)]
        if failing:
            failures += 1
            counted = plural(len(failing), "finding")
            failure = ET.SubElement(
                case, "failure", type=failing[0].code,
                message=f"{counted} at or above {report.fail_on.value}: "
                        f"{failing[0].code} {escape(failing[0].message)}")
            failure.text = "\n".join(_line(d) for d in failing)
        if others:
            ET.SubElement(case, "system-out").text = "\n".join(_line(d) for d in others)
        cases.append(case)
    for p in report.problems:
        case = ET.Element("testcase", classname="cnncalc.check", name=escape(p.path),
                          file=escape(p.path))
        ET.SubElement(case, "error", type="unreadable", message=escape(p.message))
        cases.append(case)
    cases.sort(key=lambda c: c.get("name", ""))
    counts = {"tests": str(len(cases)), "failures": str(failures),
              "errors": str(len(report.problems)), "skipped": "0"}
    root = ET.Element("testsuites", {"name": "cnncalc check", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": "cnncalc check", **counts})
    suite.extend(cases)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
