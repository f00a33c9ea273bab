"""A reader that stops early (``cnncalc show spec.txt | head -1``) is not an error: every
format of every command exits quietly, with the status it would have had otherwise (0 for a
clean spec; a failing check still fails, so that ``check | head`` under ``pipefail`` does not
pass a failing gate). No traceback, no ``internal error``, no ``Broken pipe``."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnncalc.cli import main

ROOT = Path(__file__).resolve().parent.parent
CLEAN = str(ROOT / "specs" / "lenet5.txt")
BIG = str(ROOT / "specs" / "vgg16.txt")


class ClosedPipe(io.RawIOBase):
    """A stream whose reader has gone: every write raises BrokenPipeError, until ``gone``
    is cleared (so that closing it at the end of the test is quiet)."""

    gone = True

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        if self.gone:
            raise BrokenPipeError(32, "Broken pipe")
        return len(data)  # type: ignore[arg-type]


def run_closed(argv: list[str], close_stderr: bool = False) -> tuple[int, str]:
    """``cnncalc ARGV`` in-process with standard output (and standard error) closed by its
    reader: (exit status, what standard error received)."""
    saved = sys.stdout, sys.stderr
    raws = [ClosedPipe(), ClosedPipe()]
    err_b = io.BytesIO()
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(raws[0]), encoding="utf-8")
    sys.stderr = (io.TextIOWrapper(io.BufferedWriter(raws[1]), encoding="utf-8")
                  if close_stderr else
                  io.TextIOWrapper(err_b, encoding="utf-8", write_through=True))
    code: object = None
    try:
        main(argv)
    except SystemExit as exc:
        code = exc.code
    finally:
        for raw in raws:
            raw.gone = False
        for stream in (sys.stdout, sys.stderr):
            if stream not in saved:
                stream.flush()
        sys.stdout, sys.stderr = saved
    assert isinstance(code, int)
    return code, err_b.getvalue().decode("utf-8")


FAILING = "[32x32x3] INPUT\nCONV1: 8 5x5 filters at stride 2\n"  # (32 - 5)/2 + 1 = 14.5


@pytest.fixture
def failing(tmp_path: Path) -> str:
    path = tmp_path / "failing.txt"
    path.write_text(FAILING, encoding="utf-8")
    return str(path)


COMMANDS = (
    [["show", "--format", fmt, BIG] for fmt in ("table", "json", "csv", "markdown", "spec")]
    + [["check", "--isolated", "--output-format", fmt, CLEAN]
       for fmt in ("full", "concise", "json", "github", "junit")]
    + [["run", "--format", fmt, CLEAN] for fmt in ("table", "json")]
    + [["rules"], ["rules", "--output-format", "json"], ["rules", "W501"], ["conv", "7", "3"],
       ["--help"], ["show", "--help"], ["--version"], ["zoo"], ["zoo", "--format", "json"]])


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_every_format_exits_0_quietly(argv: list[str]) -> None:
    code, err = run_closed(argv)
    assert code == 0, err
    assert "rror" not in err and "Traceback" not in err, err


@pytest.mark.parametrize("fmt", ["full", "concise", "json", "github", "junit"])
def test_a_failing_check_still_fails(fmt: str, failing: str) -> None:
    code, err = run_closed(["check", "--isolated", "--output-format", fmt, failing])
    assert code == 1
    assert "Traceback" not in err and "internal error" not in err


def test_show_still_says_what_is_wrong_on_stderr(failing: str) -> None:
    code, err = run_closed(["show", failing])
    assert code == 1
    assert "G101" in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [["show", BIG], ["check", "--isolated", CLEAN],
                                  ["run", CLEAN]], ids=" ".join)
def test_both_streams_closed(argv: list[str]) -> None:
    code, _ = run_closed(argv, close_stderr=True)
    assert code == 0


# ---- a real process, with the read end of its standard output closed before it starts ----

def _process(argv: list[str], stderr_too: bool = False) -> tuple[int, str]:
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([sys.executable, "-m", "cnncalc", *argv], stdout=write,
                              stderr=write if stderr_too else subprocess.PIPE, cwd=ROOT,
                              timeout=120, check=False)
    finally:
        os.close(write)
    return done.returncode, (done.stderr or b"").decode("utf-8", "replace")


@pytest.mark.parametrize("argv", [["show", BIG], ["show", "--format", "json", BIG],
                                  ["run", CLEAN], ["check", "--isolated", CLEAN]],
                         ids=" ".join)
def test_a_real_closed_pipe(argv: list[str]) -> None:
    assert _process(argv) == (0, "")


def test_a_real_closed_pipe_on_both_streams(failing: str) -> None:
    assert _process(["check", "--isolated", failing], stderr_too=True) == (1, "")
