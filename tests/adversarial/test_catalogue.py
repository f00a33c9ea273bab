"""Every catalogue case gives exactly its diagnostics (code, line, col), through the library as
``cnncalc.options.load`` reads a file, through ``cnncalc show`` (json and the human table) and
through ``cnncalc check``, with the exit status the README documents; nothing is run."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from cnncalc.options import load
from cnncalc.render.report import SHOWN, SHOWN_BEFORE

from .catalogue import CASES, MARKER, Case
from .util import cli, params, spec_args, within, write

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(autouse=True)
def _nothing_is_run(request: pytest.FixtureRequest) -> Iterator[None]:
    """Code in a case that would create MARKER if it were run must leave no trace."""
    if os.path.exists(MARKER):
        os.remove(MARKER)
    yield
    assert not os.path.exists(MARKER), "cnncalc ran code from the spec it was reading"


QUICK = tuple(c for c in CASES if not (c.bug and c.limit < 10))
"""The cases that do not hang today: a hang (a bug with a short time limit) is shown by
test_diagnostics and test_show_json, and waiting for it again would only slow the suite."""


def _defines(case: Case) -> tuple[str, ...]:
    return tuple(a.split("=", 1)[1] for a in case.args if a.startswith("--define="))


def _triples(diags: list[dict[str, object]]) -> list[tuple[object, object, object]]:
    return [(d["code"], d["line"], d["col"]) for d in diags]


def test_the_catalogue_is_big_and_covers_every_notation() -> None:
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), [n for n, k in Counter(names).items() if k > 1]
    assert len(CASES) >= 60
    by_notation = Counter(c.notation or "lecture" for c in CASES)
    assert all(by_notation[n] >= 15 for n in ("lecture", "keras", "pytorch", "vgg")), by_notation
    codes = {code for c in CASES for code, _, _ in c.expected}
    assert {"P001", "P002", "P003", "P004", "P005", "P006", "P007", "P008", "P009", "P010",
            "P011", "G101", "G102", "G103", "G104", "G105", "G106", "G107", "C001", "C002",
            "D201", "D202", "I301", "I302"} <= codes
    for c in CASES:
        assert c.exit in (0, 1, 2)
        assert list(c.expected) == sorted(c.expected, key=lambda t: (t[1], t[2], t[0])), c.name


@pytest.mark.parametrize("case", params(CASES))
def test_diagnostics(case: Case, tmp_path: Path) -> None:
    path = write(tmp_path, case)
    with within(case.limit):
        analysis = load(str(path), None, _defines(case), case.notation)
    got = [(d.code, d.span.line, d.span.col) for d in analysis.diagnostics]
    assert got == list(case.expected)
    assert (0 if analysis.ok else 1) == case.exit
    for d in analysis.diagnostics:
        assert 1 <= d.span.col < d.span.end_col, d
        assert d.span.path == str(path)
    if case.hint:  # the first finding that is not the P014 note on a custom container's order
        assert case.hint in next(d for d in analysis.diagnostics if d.code != "P014").hint


@pytest.mark.parametrize("case", params(CASES))
def test_show_json(case: Case, tmp_path: Path) -> None:
    path = write(tmp_path, case)
    code, out, err = cli(["show", "--format", "json", *spec_args(case), str(path)], case.limit)
    assert "internal error" not in err
    assert code == case.exit, err
    record = json.loads(out)
    assert _triples(record["diagnostics"]) == list(case.expected)


@pytest.mark.parametrize("case", params(QUICK))
def test_show_table(case: Case, tmp_path: Path) -> None:
    """The human output: each problem as ``path:line:col: severity: message [CODE name]``."""
    path = write(tmp_path, case)
    code, _out, err = cli(["show", "--width", "100", *spec_args(case), str(path)], case.limit)
    assert "internal error" not in err
    assert code == case.exit, err
    heads = [line for line in err.splitlines() if line.startswith(f"{path}:")]
    assert [tuple(h[len(str(path)) + 1:].split(":")[:2]) for h in heads] == [
        (str(line), str(col)) for _, line, col in case.expected]
    for (want, _, _), h in zip(case.expected, heads, strict=True):
        assert f"[{want} " in h
    if _quotable(case) and not _other_breaks(case):
        _check_quotes(case, path, err)


@pytest.mark.parametrize("case", params(QUICK))
def test_check(case: Case, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> None:
    """``cnncalc check`` reports the same problems (its advice rules may add warnings) and
    fails exactly when ``show`` does."""
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, case)
    code, out, err = cli(["check", "--isolated", "--output-format", "json", *spec_args(case),
                          str(path)], case.limit)
    assert "internal error" not in out + err
    record = json.loads(out)
    assert record["problems"] == []
    got = _triples(record["diagnostics"])
    assert [t for t in got if t in case.expected] == list(case.expected)
    extra = [d for d in record["diagnostics"] if (d["code"], d["line"], d["col"])
             not in case.expected]
    assert all(d["severity"] != "error" for d in extra), extra
    assert code == case.exit


_EDITOR_LINES = re.compile(r"\r\n|\r|\n")
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # line breaks only to str.splitlines()


def _quotable(case: Case) -> bool:
    return bool(case.expected) and not case.bug and not any(
        code == "P006" for code, _, _ in case.expected)


def _text(case: Case) -> str:
    return case.source if isinstance(case.source, str) else case.source.decode("utf-8")


def _other_breaks(case: Case) -> bool:
    return any(ch in _text(case) for ch in _OTHER_BREAKS)


def _check_quotes(case: Case, path: Path, err: str) -> None:
    """Under each ``path:line:col`` head the human output quotes that line of the file (as an
    editor numbers lines) with the caret at the column."""
    real = _EDITOR_LINES.split(_text(case).removeprefix("\ufeff"))
    rows = _EDITOR_LINES.split(err)
    heads = [i for i, row in enumerate(rows) if row.startswith(f"{path}:")]
    assert len(heads) == len(case.expected)
    for i, (_, line, col) in zip(heads, case.expected, strict=True):
        if not real[line - 1].strip():
            continue  # nothing to quote (an empty file's P004 at 1:1)
        text, start = real[line - 1], 0
        end = len(text)
        if end > SHOWN:  # a long line is shown around the column, with `...` for the rest
            end = min(end, max(0, col - 1 - SHOWN_BEFORE) + SHOWN)
            start = max(0, end - SHOWN)
        before, after = "..." if start else "", "..." if end < len(text) else ""
        piece = text[start:end].replace("\t", " ")
        shown = [_shown(ch) for ch in (piece if after else piece.rstrip())]
        assert rows[i + 1] == f"{line:>5} | " + before + "".join(shown) + after, i
        assert rows[i + 2].index("^") == len(f"{line:>5} | ") + len(before) + len(
            "".join(shown[:col - 1 - start]))


def _shown(ch: str) -> str:
    """A control character (a form feed, U+2028...) is quoted as an escape, not printed."""
    if ch in "\u2028\u2029":
        return f"\\u{ord(ch):04x}"
    return f"\\x{ord(ch):02x}" if ch < " " or "\x7f" <= ch <= "\x9f" else ch


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in QUICK
                                  if _quotable(c) and _other_breaks(c)])
def test_the_caret_quotes_the_reported_line(case: Case, tmp_path: Path) -> None:
    """test_show_table checks the quotes of every other case."""
    path = write(tmp_path, case)
    _, _, err = cli(["show", "--width", "100", *spec_args(case), str(path)], case.limit)
    _check_quotes(case, path, err)


@pytest.mark.parametrize("case", [
    pytest.param(c, id=c.name, marks=[pytest.mark.xfail(strict=True, reason=f"BUG: {c.run_bug}")]
                 if c.run_bug else []) for c in QUICK if not c.bug])
def test_run(case: Case, tmp_path: Path) -> None:
    """``cnncalc run`` on every case: a spec with errors exits 1 (nothing is run past the
    first error); a clean one runs and matches the analysis (0), or is refused by the memory
    guard (2) when its arrays would not fit in 256 MiB."""
    pytest.importorskip("cnncalc.execute.network")
    path = write(tmp_path, case)
    code, _out, err = cli(["run", "--quiet", "--max-memory", "256M", *spec_args(case),
                           str(path)], case.limit)
    assert "internal error" not in err
    if case.exit == 1:
        assert code == 1, err
    elif code == 2:
        assert "refusing to run" in err and "limit of 256 MiB" in err
    else:
        assert code == 0, err
