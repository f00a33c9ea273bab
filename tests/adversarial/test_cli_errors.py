"""The command line under attack: paths that are not readable spec files, bad options, standard
input, and the last line of defence that turns any unexpected exception into one line
``internal error: ...`` with a hint to rerun with ``--debug`` (which shows the traceback),
exit 2."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from .util import cli

SPEC = "[8x8x3] INPUT\nCONV1: 8 3x3 filters\n"
BAD_SPEC = "[8x8x3] INPUT\nCONV1: 8 9x9 filters\n"


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "ok.txt"
    path.write_text(SPEC, encoding="utf-8")
    return path


# ---- paths ----

@pytest.mark.parametrize("command", ["show", "run"])
def test_a_directory_is_a_usage_error(command: str, tmp_path: Path) -> None:
    code, _out, err = cli([command, str(tmp_path)])
    assert code == 2
    assert "is a directory" in err and "internal error" not in err


@pytest.mark.parametrize("command", ["show", "run", "check"])
def test_a_missing_file_is_a_usage_error(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    code, _out, err = cli([command, str(missing)])
    assert code == 2
    assert "missing.txt" in err and "internal error" not in err


def test_check_on_a_directory_checks_the_specs_in_it(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(SPEC, encoding="utf-8")
    (tmp_path / "b.txt").write_text(BAD_SPEC, encoding="utf-8")
    code, out, err = cli(["check", "--isolated", "--output-format", "concise", "."])
    assert code == 1, err
    assert "b.txt:2:10: G102" in out


@pytest.mark.parametrize("command", ["show", "run", "check"])
def test_an_unreadable_file_is_exit_2(command: str, tmp_path: Path) -> None:
    path = tmp_path / "locked.txt"
    path.write_text(SPEC, encoding="utf-8")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: chmod 000 does not stop reads (see the "
                        "/proc/self/mem test for an unreadable file root cannot read)")
        code, _out, err = cli([command, str(path)])
    finally:
        path.chmod(0o644)
    assert code == 2, err
    assert "locked.txt" in err and "internal error" not in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc/self/mem")
@pytest.mark.parametrize("command", ["show", "run", "check"])
def test_a_file_that_fails_to_read_is_exit_2(command: str) -> None:
    """/proc/self/mem exists and is a file, but reading it from offset 0 fails with EIO,
    even for root: the read error path of every command."""
    code, _out, err = cli([command, "/proc/self/mem"])
    assert "Input/output error" in err and "internal error" not in err
    assert code == 2


def test_show_reads_standard_input() -> None:
    code, out, _err = cli(["show", "--format", "json", "-"],
                          stdin=b"\xef\xbb\xbf" + BAD_SPEC.encode())
    assert code == 1
    assert '"path": "<stdin>", "line": 2, "col": 10' in out


def test_binary_on_standard_input_is_p006() -> None:
    code, _out, err = cli(["show", "-"], stdin=b"\x89PNG\r\n\x1a\n\x00\x00")
    assert code == 1
    assert err.startswith("<stdin>:1:1: error: byte 0x89 is not UTF-8 text")
    assert "[P006 unreadable]" in err


def test_check_reads_standard_input() -> None:
    code, out, _err = cli(["check", "--isolated", "--output-format", "concise", "-"],
                         stdin=BAD_SPEC.encode())
    assert code == 1
    assert ":2:10: G102" in out


# ---- options ----

@pytest.mark.parametrize("args", [
    ["show", "--input", "0x0x3", "SPEC"],
    ["show", "--input", "-5x5x3", "SPEC"],
    ["show", "--input", "224x224", "SPEC"],
    ["show", "--input", "1e3x2x3", "SPEC"],
    ["show", "--define", "=5", "SPEC"],
    ["show", "--define", "num_classes", "SPEC"],
    ["show", "--define", "x=abc", "SPEC"],
    ["show", "--define", "1x=3", "SPEC"],
    ["show", "--notation", "caffe", "SPEC"],
    ["show", "--rounding", "nearest", "SPEC"],
    ["show", "--format", "xml", "SPEC"],
    ["show", "--batch", "0", "SPEC"],
    ["show", "--dtype", "float8", "SPEC"],
    ["show", "--width", "10", "SPEC"],
    ["show", "--bogus", "SPEC"],
    ["show"],
    ["show", "SPEC", "SPEC"],
    ["run", "--max-memory", "0", "SPEC"],
    ["run", "--max-memory", "lots", "SPEC"],
    ["run", "--batch", "-1", "SPEC"],
    ["check", "--select", "Q999", "SPEC"],
    ["check", "--max-params", "many", "SPEC"],
    ["check", "--config", "/nonexistent/pyproject.toml", "SPEC"],
    ["conv", "7", "3", "--stride", "0"],
    ["conv", "7", "3", "-s", "-1"],
    ["conv", "0", "3"],
    ["conv", "7x7x0", "3"],
    ["conv", "7", "3", "--pad", "-1"],
    ["conv", "7", "3", "-k", "0"],
    ["conv", "abc", "3"],
    ["conv", "7"],
    ["rules", "Z000"],
    ["bogus-command"],
])
def test_usage_errors_exit_2(args: list[str], spec_file: Path) -> None:
    argv = [str(spec_file) if a == "SPEC" else a for a in args]
    code, out, err = cli(argv)
    assert code == 2, (out, err)
    assert "internal error" not in err
    assert err.strip(), "a usage error says what is wrong"


@pytest.mark.parametrize("args", [
    ["conv", "7", "3", "--stride", "4"],
    ["conv", "1000000000000000000000000000000", "3", "-k", "1000000000000000000000000000000"],
    ["conv", "7", "3", "--pad", "?"],
    ["conv", "227x227x3", "11", "-s", "4", "-k", "96"],
])
def test_conv_command(args: list[str]) -> None:
    code, _out, err = cli(args, seconds=5)
    assert code in (0, 1), err
    assert "internal error" not in err


def test_conv_command_with_a_huge_stride() -> None:
    code, out, err = cli(["conv", "7", "3", "--stride", "1" + "0" * 20], seconds=1)
    assert code == 1
    assert "does not fit" in out + err


# ---- the last line of defence ----

def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom")


TARGETS = {
    "show": ("cnncalc.options.analyze", ["show", "SPEC"]),
    "show-parse": ("cnncalc.options.parse_text", ["show", "--format", "json", "SPEC"]),
    "show-render": ("cnncalc.render.spec_text._body", ["show", "--format", "spec", "SPEC"]),
    "run": ("cnncalc.execute.network.plan", ["run", "SPEC"]),
    "conv": ("cnncalc.calculator.calculate", ["conv", "7", "3"]),
}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_an_unexpected_exception_is_one_line_and_exit_2(
        target: str, spec_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    where, args = TARGETS[target]
    monkeypatch.setattr(where, _boom)
    argv = [str(spec_file) if a == "SPEC" else a for a in args]
    code, _out, err = cli(argv)
    assert code == 2
    assert err.splitlines() == [
        "internal error: RuntimeError: boom",
        "hint: rerun with --debug to see the traceback, and report it"]
    assert "Traceback" not in err


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_debug_shows_the_traceback(target: str, spec_file: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    where, args = TARGETS[target]
    monkeypatch.setattr(where, _boom)
    argv = ["--debug", *(str(spec_file) if a == "SPEC" else a for a in args)]
    code, _out, err = cli(argv)
    assert code == 2
    assert err.startswith("Traceback (most recent call last):")
    assert err.rstrip().endswith("RuntimeError: boom")
    assert "_boom" in err


def test_check_turns_a_crash_in_one_file_into_exit_2(spec_file: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """check goes on with the other files, then reports the crash as a problem: exit 2."""
    monkeypatch.chdir(spec_file.parent)
    monkeypatch.setattr("cnncalc.check.runner.analyze", _boom)
    code, out, err = cli(["check", "--isolated", str(spec_file)])
    assert code == 2
    assert "internal error: RuntimeError: boom" in out + err


def test_keyboard_interrupt_is_exit_130(spec_file: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("cnncalc.options.analyze", interrupted)
    code, _out, err = cli(["show", str(spec_file)])
    assert code == 130
    assert err.strip() == "interrupted"


def test_a_multi_line_exception_message_stays_on_one_line(
        spec_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def multi(*args: object, **kwargs: object) -> None:
        raise ValueError("first line\nsecond line")

    monkeypatch.setattr("cnncalc.options.analyze", multi)
    code, _out, err = cli(["show", str(spec_file)])
    assert code == 2
    assert len(err.splitlines()) == 2 and err.startswith("internal error: ValueError: first")


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown", "spec"])
def test_every_format_of_a_file_with_undecodable_bytes(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("[8x8x3] INPUT\n# caf\xe9\nCONV1: 8 3x3 filters\n".encode("latin-1"))
    code, out, err = cli(["show", "--format", fmt, str(path)])
    assert code == 1
    assert "internal error" not in err
    if fmt == "json":
        assert '"line": 2, "col": 6, "end_col": 7, "code": "P006"' in out
    else:
        assert f"{path}:2:6: error: byte 0xe9 is not UTF-8 text" in err


@pytest.mark.parametrize("content", [
    b"[tool.cnncalc\n",
    b"[tool.cnncalc]\nbogus = 1\n",
    b"[tool.cnncalc]\nselect = 5\n",
    b"[tool.cnncalc]\nmax-params = \"1e400\"\n",
    b"\xff\xfe[tool.cnncalc]\n",
])
def test_a_bad_config_file_is_a_config_error(content: bytes, spec_file: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(spec_file.parent)
    (spec_file.parent / "pyproject.toml").write_bytes(content)
    code, _out, err = cli(["check", str(spec_file)])
    assert code == 2
    assert "internal error" not in err
    assert err.startswith("cnncalc: error: ") and "pyproject.toml" in err


def test_the_p006_display_is_valid_text(tmp_path: Path) -> None:
    from cnncalc.options import load
    from cnncalc.render.report import format_all

    path = tmp_path / "bad.txt"
    path.write_bytes(b"[8x8x3] INPUT\n\xff\n")
    a = load(str(path))
    assert [d.code for d in a.diagnostics] == ["P006"]
    format_all(a.diagnostics, a.spec.lines).encode("utf-8")


# ---- regressions of the bugs above, with exact messages ----

@pytest.mark.parametrize("command", ["show", "run"])
def test_a_permission_error_names_the_path_and_the_reason(
        command: str, spec_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What chmod 000 does to a user who is not root, simulated so that root sees it too."""
    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(spec_file))

    monkeypatch.setattr("cnncalc.options.open", denied, raising=False)
    code, out, err = cli([command, str(spec_file)])
    assert (code, out, err) == (2, "", f"cnncalc: error: {spec_file}: Permission denied\n")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc/self/mem")
@pytest.mark.parametrize("command", ["show", "run"])
def test_a_read_error_is_one_line(command: str) -> None:
    code, out, err = cli([command, "/proc/self/mem"])
    assert (code, out, err) == (2, "", "cnncalc: error: /proc/self/mem: Input/output error\n")


INTERRUPT_TARGETS = {
    "show": ("cnncalc.options.analyze", ["show", "SPEC"]),
    "run": ("cnncalc.execute.network.plan", ["run", "SPEC"]),
    "check": ("cnncalc.check.runner.analyze", ["check", "--isolated", "SPEC"]),
    "conv": ("cnncalc.calculator.calculate", ["conv", "7", "3"]),
    "debug": ("cnncalc.options.analyze", ["--debug", "show", "SPEC"]),
}


@pytest.mark.parametrize("target", sorted(INTERRUPT_TARGETS))
def test_an_interrupt_anywhere_exits_130_without_a_traceback(
        target: str, spec_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    where, args = INTERRUPT_TARGETS[target]
    monkeypatch.chdir(spec_file.parent)
    monkeypatch.setattr(where, interrupted)
    code, _out, err = cli([str(spec_file) if a == "SPEC" else a for a in args])
    assert code == 130
    assert err.strip() == "interrupted" and "Traceback" not in err and "Aborted" not in err


def test_the_usage_errors_and_help_are_unchanged_by_non_standalone_click() -> None:
    """main() runs click in non-standalone mode and reports its exceptions itself."""
    code, out, err = cli(["show"])
    assert code == 2 and out == ""
    assert err.startswith("Usage: cnncalc show [OPTIONS] SPEC\n")
    assert err.endswith("Error: Missing argument 'SPEC'.\n")
    code, out, err = cli(["--help"])
    assert (code, err) == (0, "") and out.startswith("Usage: cnncalc [OPTIONS] COMMAND")
    code, out, _err = cli(["--version"])
    assert code == 0 and out.startswith("cnncalc, version ")
    code, out, _err = cli(["rules", "G101"])
    assert code == 0 and "G101" in out


@pytest.mark.parametrize(("message", "shown"), [
    ("first line\nsecond line\n", "internal error: ValueError: first line ..."),
    ("one line  ", "internal error: ValueError: one line"),
    ("", "internal error: ValueError"),
    ("\n", "internal error: ValueError"),
    ("a\r\nb", "internal error: ValueError: a ..."),
])
def test_an_internal_error_is_always_one_line(message: str, shown: str, spec_file: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(*args: object, **kwargs: object) -> None:
        raise ValueError(message)

    monkeypatch.setattr("cnncalc.options.analyze", fails)
    code, out, err = cli(["show", str(spec_file)])
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        shown, "hint: rerun with --debug to see the traceback, and report it"]


def test_debug_shows_every_line_of_a_multi_line_message(
        spec_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(*args: object, **kwargs: object) -> None:
        raise ValueError("first line\nsecond line")

    monkeypatch.setattr("cnncalc.options.analyze", fails)
    code, _out, err = cli(["--debug", "show", str(spec_file)])
    assert code == 2
    assert err.endswith("ValueError: first line\nsecond line\n")


@pytest.mark.parametrize(("content", "where"), [
    (b"\xff\xfe[tool.cnncalc]\n", "byte 0xff at line 1, column 1"),
    (b"[tool.cnncalc]\n# caf\xc3\xa9 caf\xe9\n", "byte 0xe9 at line 2, column 11"),
    (b"[tool.cnncalc]\r\nexclude = [\"\x80\"]\r\n", "byte 0x80 at line 2, column 13"),
])
def test_a_pyproject_that_is_not_utf8_is_a_config_error(
        content: bytes, where: str, spec_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(spec_file.parent)
    config = spec_file.parent / "pyproject.toml"
    config.write_bytes(content)
    code, out, err = cli(["check", str(spec_file)])
    assert (code, out) == (2, "")
    assert err == f"cnncalc: error: {config}: not UTF-8 text: {where} (a TOML file must be " \
        "UTF-8)\n"


@pytest.mark.parametrize(("data", "display"), [
    (b"[8x8x3] INPUT\n\xff\n", ["bad.txt:2:1: error: byte 0xff is not UTF-8 text: is this a "
                                "spec file? [P006 unreadable]",
                                "    2 | \\xff",
                                "      | ^^^^",
                                "  hint: save the file as UTF-8 text"]),
    (b"[8x8x3] INPUT\nCONV1: 8 3x3 filters # caf\xe9 \xe9t\xe9\n",
     ["bad.txt:2:27: error: byte 0xe9 is not UTF-8 text: is this a spec file? [P006 unreadable]",
      "    2 | CONV1: 8 3x3 filters # caf\\xe9 \\xe9t\\xe9",
      "      |                           ^^^^",
      "  hint: save the file as UTF-8 text"]),
    (b"[8x8x3] INPUT\n\xc3\xa9\xff CONV\x00\n",
     ["bad.txt:2:2: error: byte 0xff is not UTF-8 text: is this a spec file? [P006 unreadable]",
      "    2 | \u00e9\\xff CONV\\x00",
      "      |  ^^^^",
      "  hint: save the file as UTF-8 text"]),
    (b"[8x8x3] INPUT\nCONV1: 8 3x3\x00 filters\n",
     ["bad.txt:2:13: error: a NUL byte is not UTF-8 text: is this a spec file? "
      "[P006 unreadable]",
      "    2 | CONV1: 8 3x3\\x00 filters",
      "      |             ^^^^",
      "  hint: save the file as UTF-8 text"]),
])
def test_the_p006_display_escapes_the_bad_bytes(data: bytes, display: list[str],
                                                tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.txt").write_bytes(data)
    code, out, err = cli(["show", "--format", "csv", "bad.txt"])
    assert code == 1
    assert err.splitlines() == display
    code, out, err = cli(["check", "--isolated", "bad.txt"])
    assert code == 1
    assert out.splitlines()[:4] == display
