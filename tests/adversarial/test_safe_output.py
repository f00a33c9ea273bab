"""Safe text in every output: a hostile layer name or file name, in every format of every
command, never starts a GitHub Actions workflow command, never reaches the terminal as a
control character, a bidi override or a lone surrogate, and never changes the exit status.

Names enter through the canonical notation (quoted, escaped or raw), Keras ``name=`` and
PyTorch labels; paths through files with hostile names. The runner reads a command from a
line that starts with ``::`` after leading whitespace, or from ``##[command]`` anywhere in a
line (actions/runner ``ActionCommand.TryParseV2`` and ``TryParse``)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from cnncalc.escape import escape, quote, unsafe

from .util import cli

HOSTILE = [
    "\n::error file=x.py,line=1::INJECTED", "::add-mask::x", "::stop-commands::tok",
    "a\rb", "\x1b[31mred", "\x9b31m", "line\u2028sep", "\u202eevil", "\ud800", "nul\x00",
    "back\\slash", 'say "hi"', "hash # cnncalc: ignore[G107]", "[bold]markup[/]",
    "##[error]legacy", "  ::warning::indented", "tab\tx", "\x85next",
]
# our own workflow commands, in the github format only
OURS = re.compile(r"::(?:group::|endgroup::$|(?:error|warning|notice) file=)")
LEGACY = re.compile(r"##[A-Za-z]*\[")


def assert_safe(text: str, github: bool = False) -> None:
    for line in text.split("\n"):
        bad = sorted({c for c in line if unsafe(c)})
        assert not bad, (bad, line)
        if line.lstrip().startswith("::"):
            assert github and OURS.match(line), line
        assert not LEGACY.search(line), line


def canonical(name: str, error: bool) -> str:
    body = "4 30x30 filters" if error else "4 2x2 filters at stride 2"
    return f"ROUNDING: floor\n[9x9x3] INPUT\nCONV {quote(name)}: {body}\nRELU\n"


def canonical_raw(name: str, error: bool) -> str:
    """The name as written in the file, between quotes, where it can be."""
    body = "4 30x30 filters" if error else "4 2x2 filters at stride 2"
    return f'ROUNDING: floor\n[9x9x3] INPUT\nCONV "{name}": {body}\nRELU\n'


def keras(name: str, error: bool) -> str:
    size = "(30, 30)" if error else "(2, 2), strides=(2, 2)"
    return ("model = Sequential()\n"
            f"model.add(Conv2D(4, {size}, input_shape=(9, 9, 3), name={name!r}))\n")


def pytorch(name: str, error: bool) -> str:
    size = "kernel_size=(30, 30)" if error else "kernel_size=(2, 2), stride=(2, 2)"
    return f"# cnncalc: input 9x9x3\nNet(\n  ({name}): Conv2d(3, 4, {size})\n)\n"


ROUTES = {"canonical": canonical, "canonical-raw": canonical_raw, "keras": keras,
          "pytorch": pytorch}


def _fits(route: str, name: str) -> bool:
    """Whether the name can be written raw in the file (a NUL or a lone surrogate in a file
    is P006, not a name; a ``#`` in a PyTorch label starts a comment)."""
    raw = not any(c in name for c in "\x00\ud800")
    if route == "canonical-raw":
        return raw and not any(c in name for c in '"\n\r\\')
    if route == "pytorch":  # a label is one line between parentheses
        return raw and not any(c in name for c in "()#\n\r") and name == name.strip()
    return True


CASES = [pytest.param(route, name, id=f"{route}-{name!r}") for route in ROUTES
         for name in HOSTILE if _fits(route, name)]


def run_everything(paths: dict[str, Path], clean: str) -> dict[str, tuple[int, str, str]]:
    """Every format of every command on the clean spec (a warning that names the layer) and
    the failing one (an error that names it); ``check`` over both."""
    results: dict[str, tuple[int, str, str]] = {}
    for which, path in paths.items():
        for fmt in ("table", "json", "csv", "markdown", "spec"):
            results[f"show {fmt} {which}"] = cli(["show", "--width", "60", "--format", fmt,
                                                  str(path)])
    for fmt in ("full", "concise", "json", "github", "junit"):
        results[f"check {fmt}"] = cli(["check", "--isolated", "--output-format", fmt,
                                       *map(str, paths.values())])
    for fmt in ("table", "json"):
        results[f"run {fmt} clean"] = cli(["run", "--width", "60", "--format", fmt, clean])
    results["run table error"] = cli(["run", "--width", "60", str(paths["error"])])
    return results


EXPECTED = {"show": {"clean": 0, "error": 1}, "run": {"clean": 0, "error": 1}}


def check_results(results: dict[str, tuple[int, str, str]]) -> None:
    for what, (code, out, err) in results.items():
        command, fmt, *which = what.split()
        assert "internal error" not in err, (what, err)
        assert "Traceback" not in err, (what, err)
        assert_safe(out, github=fmt == "github")
        assert_safe(err)
        expected = EXPECTED[command][which[0]] if which else 1
        assert code == expected, (what, code, err)


@pytest.mark.parametrize(("route", "name"), CASES)
def test_hostile_names(route: str, name: str, tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    paths = {}
    for which in ("clean", "error"):
        paths[which] = tmp_path / f"{which}.txt"
        paths[which].write_text(ROUTES[route](name, which == "error"), encoding="utf-8",
                                errors="surrogatepass")
    results = run_everything(paths, str(paths["clean"]))
    check_results(results)
    record = json.loads(results["show json clean"][1])
    assert record["layers"][0]["name"] == name  # json keeps the name exact
    assert f"{escape(name)}: (9 - 2)/2 + 1 = 4.5" in results["check concise"][1]
    spec_text = results["show spec clean"][1]
    again = cli(["show", "--format", "json", "-"], stdin=spec_text.encode())
    assert json.loads(again[1])["layers"][0]["name"] == name, spec_text


HOSTILE_PATHS = [
    "\n::error file=x.py,line=1::INJECTED", "::add-mask::x", "::stop-commands::tok",
    "\x1b[31m", "\u202e", "\u2028", "##[error]x", "back\\slash", "col:on", "\r",
]


@pytest.mark.parametrize("stem", HOSTILE_PATHS, ids=[repr(p) for p in HOSTILE_PATHS])
def test_hostile_paths(stem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    paths = {}
    for which in ("clean", "error"):
        paths[which] = tmp_path / f"{stem}{which}.txt"
        paths[which].write_text(canonical("CONV1", which == "error"), encoding="utf-8")
    results = run_everything(paths, str(paths["clean"]))
    check_results(results)
    assert f"{escape(paths['error'].name)}:3:17: G102" in results["check concise"][1]


def test_an_undecodable_file_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A byte that is not UTF-8 in a file name is a lone surrogate to Python."""
    monkeypatch.chdir(tmp_path)
    raw = os.fsencode(str(tmp_path)) + b"/\xff\xfeerror.txt"
    with open(raw, "w", encoding="utf-8") as fh:
        fh.write(canonical("CONV1", True))
    path = os.fsdecode(raw)
    results = {f"check {fmt}": cli(["check", "--isolated", "--output-format", fmt, "."])
               for fmt in ("full", "concise", "json", "github", "junit")}
    results["show table error"] = cli(["show", path])
    results["run table error"] = cli(["run", path])
    check_results(results)
    assert "\\udcff\\udcfeerror.txt:3:" in results["check concise"][1]


@pytest.mark.parametrize("name", HOSTILE, ids=[repr(n) for n in HOSTILE])
def test_messages_on_stderr(name: str, tmp_path: Path) -> None:
    """Usage errors, unreadable paths and unknown rule codes quote what was typed, escaped."""
    outputs = [
        cli(["show", "--input", name, "x"]),
        cli(["show", "--define", name, "x"]),
        cli(["conv", name, "3"]),
        cli(["rules", name]),
        cli(["check", "--isolated", "--select", name]),
    ]
    if not any(c in name for c in "/\x00\ud800"):  # a name a file can have
        outputs.append(cli(["show", str(tmp_path / f"{name}.txt")]))  # click: no such path
        outputs.append(cli(["check", "--isolated", str(tmp_path / f"{name}.txt")]))
        directory = tmp_path / f"{name}.d"
        directory.mkdir()
        outputs.append(cli(["show", str(directory)]))  # cnncalc: not a file
    for code, out, err in outputs:
        assert code == 2, err
        assert "internal error" not in err
        assert_safe(out)
        assert_safe(err)


def test_an_internal_error_message_is_escaped(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    import cnncalc.commands.show as show

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("\x1b[2J\n::error::boom ##[error]x")

    monkeypatch.setattr(show, "load", boom)
    spec = tmp_path / "a.txt"
    spec.write_text("[8x8x3] INPUT\n", encoding="utf-8")
    for debug in ([], ["--debug"]):
        code, _out, err = cli([*debug, "show", str(spec)])
        assert code == 2
        assert_safe(err)
        assert "\\x1b[2J" in err
