"""The machine formats of `cnncalc check` in detail: github escaping, JUnit XML that parses,
the JSON keys docs/ci.md promises, and baselines written and compared."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from cnncalc.check.formats import escape_data, escape_property, github
from cnncalc.check.junit import junit
from cnncalc.check.runner import FileResult, Report
from cnncalc.cli import cli
from cnncalc.diagnostics import Diagnostic, Severity
from cnncalc.spec import Span

NASTY = "100% of a,b: c\r\nnext line"


def report_with(*diags: Diagnostic, fail_on: Severity = Severity.ERROR) -> Report:
    files = sorted({d.span.path for d in diags})
    return Report(tuple(FileResult(p, "lecture", None, None,
                                   tuple(d for d in diags if d.span.path == p), ())
                        for p in files), (), fail_on)


def test_escape_data():
    assert escape_data(NASTY) == "100%25 of a,b: c%0D%0Anext line"


def test_escape_property():
    assert escape_property(NASTY) == "100%25 of a%2Cb%3A c%0D%0Anext line"
    assert escape_property("%3A") == "%253A"  # `%` first, so escapes are not escaped twice


def test_github_escapes_message_and_properties():
    """A line break inside a message is not ours: it is shown as ``\\r\\n`` (cnncalc.escape);
    the one before the hint is ours, and the runner reads it back from ``%0A``."""
    d = Diagnostic(Span("dir,x/a:b%.txt", 3, 5, 9), "G101", NASTY, "hint: 50%")
    text = github(report_with(d))
    assert text.splitlines() == [
        "::group::dir,x/a:b%25.txt",
        "::error file=dir%2Cx/a%3Ab%25.txt,line=3,col=5,endColumn=9,title=cnncalc G101::"
        "100%25 of a,b: c\\r\\nnext line [G101 filter-does-not-fit]%0Ahint: hint: 50%25",
        "::endgroup::"]


def test_github_levels_and_groups():
    diags = (Diagnostic(Span("b.txt", 1, 1, 2), "I301", "solved"),
             Diagnostic(Span("a.txt", 2, 1, 2), "W501", "shrinks"),
             Diagnostic(Span("a.txt", 1, 1, 1), "G101", "no fit"))
    lines = github(report_with(*diags)).splitlines()
    assert [ln.split(" ")[0] for ln in lines] == [
        "::group::a.txt", "::error", "::warning", "::endgroup::",
        "::group::b.txt", "::notice", "::endgroup::"]
    assert "col=1,endColumn=2," in lines[1]  # an empty span still covers one column


def test_junit_parses_and_counts():
    diags = (Diagnostic(Span("a.txt", 2, 1, 2), "G101", "no <fit> & \x00 \ud800"),
             Diagnostic(Span("a.txt", 3, 1, 2), "W501", "shrinks"),
             Diagnostic(Span("b.txt", 1, 1, 2), "W502", "pool"))
    root = ET.fromstring(junit(report_with(*diags)))
    assert root.tag == "testsuites" and root.get("tests") == "2"
    assert root.get("failures") == "1" and root.get("errors") == "0"
    (suite,) = root
    a, b = suite.findall("testcase")
    assert a.get("name") == "a.txt" and a.find("failure").get("type") == "G101"
    assert "no <fit> & \\x00 \\ud800" in a.find("failure").text  # escaped, visibly
    assert "W501" in a.find("system-out").text
    assert b.find("failure") is None
    root = ET.fromstring(junit(report_with(*diags, fail_on=Severity.WARNING)))
    assert root.get("failures") == "2"


def test_junit_clean_run():
    root = ET.fromstring(junit(Report((FileResult("a.txt", "lecture", None, None, (), ()),),
                                      (), Severity.ERROR)))
    (case,) = root.iter("testcase")
    assert list(case) == []


# --- JSON ----------------------------------------------------------------------------------

SPECS = {
    "a.txt": "[32x32x3] INPUT\nCONV1: 8 3x3 filters\nCONV2: 8 3x3 filters\n",
    "b.txt": "[224x224x3] INPUT\nCONV1: 96 11x11 filters at stride 4\n",
    "c.txt": "[32x32x1] INPUT\nCONV1: 6 5x5 filters\nFC2: 10 neurons\n",
}


@pytest.fixture
def specs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, text in SPECS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(cli, ["check", "--isolated", *args])


def test_json_keys(specs):
    result = invoke("--output-format", "json", "--batch", "2")
    assert result.exit_code == 1
    record = json.loads(result.stdout)
    assert list(record) == ["version", "summary", "files", "diagnostics", "problems"]
    assert record["version"] == 1
    assert record["summary"] == {"files": 3, "findings": 2, "error": 1, "warning": 1,
                                 "info": 0, "suppressed": 0, "problems": 0, "left_out": [],
                                 "fail_on": "error", "failed": True}
    assert [f["path"] for f in record["files"]] == ["a.txt", "b.txt", "c.txt"]
    c = record["files"][2]
    assert c == {"path": "c.txt", "notation": "lecture", "findings": 0, "totals": {
        "params": 47206, "weights": 47190, "biases": 16, "buffers": 0, "macs": 164640,
        "flops": 329280, "activations": 4714, "activation_bytes": 4714 * 4 * 2,
        # the 32x32x1 input and CONV1's 28x28x6 output alive at once: 1,024 + 4,704
        "peak_activations": 5728, "peak_activation_bytes": 5728 * 4 * 2}}
    assert record["files"][1]["totals"] is None
    d = record["diagnostics"][0]
    assert list(d) == ["path", "line", "col", "end_col", "code", "name", "severity",
                       "message", "hint"]
    assert (d["path"], d["line"], d["code"], d["name"], d["severity"]) == (
        "a.txt", 2, "W501", "fast-shrinking", "warning")


def test_json_problems(specs):
    record = json.loads(invoke("--output-format", "json", "a.txt", "gone.txt").stdout)
    assert record["problems"] == [{"path": "gone.txt", "message": "No such file or directory"}]


# --- baseline ------------------------------------------------------------------------------

def test_write_and_compare_baseline(specs):
    result = invoke("--write-baseline", "base.json")
    assert result.exit_code == 1  # b.txt still fails: writing a baseline changes no verdict
    assert "wrote the totals of 2 specs to base.json" in result.stderr
    text = (specs / "base.json").read_text(encoding="utf-8")
    # peaks by hand: a.txt 30x30x8 + 28x28x8 = 7,200 + 6,272 (after the input and CONV1,
    # 3,072 + 7,200); c.txt the 32x32x1 input + 28x28x6 = 1,024 + 4,704
    assert json.loads(text)["specs"] == {
        "a.txt": {"macs": 645984, "params": 808, "peak_activations": 13472},
        "c.txt": {"macs": 164640, "params": 47206, "peak_activations": 5728}}
    assert json.loads(text)["conventions"].startswith(
        "params = weights + biases; MACs = multiply-accumulates; peak_activations = ")
    assert text.endswith("}\n") and text.index('"a.txt"') < text.index('"c.txt"')
    invoke("--write-baseline", "again.json")
    assert (specs / "again.json").read_text(encoding="utf-8") == text  # stable

    assert invoke("--baseline", "base.json", "--select", "W7").stdout.startswith(
        "All checks passed!")
    (specs / "c.txt").write_text(SPECS["c.txt"].replace("6 5x5", "8 5x5"), encoding="utf-8")
    result = invoke("--baseline", "base.json", "--output-format", "concise", "--fail-on",
                    "warning", "--select", "W7")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        "c.txt:1:1: W701 totals changed since the baseline: params 47,206 -> 62,938 "
        "(+15,732, +33.33%), MACs 164,640 -> 219,520 (+54,880, +33.33%), peak activations "
        "5,728 -> 7,296 (+1,568, +27.37%)")  # 1,024 + 28x28x8


def test_baseline_from_config(specs):
    invoke("--write-baseline", "base.json")
    (specs / "c.txt").write_text(SPECS["c.txt"].replace("10 neurons", "12 neurons"),
                                 encoding="utf-8")
    (specs / "pyproject.toml").write_text('[tool.cnncalc]\nbaseline = "base.json"\n',
                                          encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--output-format", "concise", "c.txt"])
    assert "c.txt:1:1: W701 totals changed since the baseline: params 47,206 -> 56,616 " \
           "(+9,410, +19.93%), MACs 164,640 -> 174,048 (+9,408, +5.71%)" in result.stdout


@pytest.mark.parametrize("content", ["not json", '{"version": 2, "specs": {}}', "[]",
                                     '{"version": 1, "specs": {"a.txt": {"params": 1}}}',
                                     '{"version": 1, "specs": {"a.txt": {"params": 1, '
                                     '"macs": "2"}}}'])
def test_bad_baseline_exits_2(specs, content):
    (specs / "base.json").write_text(content, encoding="utf-8")
    result = invoke("--baseline", "base.json")
    assert result.exit_code == 2 and "base.json" in result.stderr
    assert result.stdout == ""


def test_missing_baseline_exits_2(specs):
    result = invoke("--baseline", "nope.json")
    assert result.exit_code == 2 and "cannot read the baseline" in result.stderr
