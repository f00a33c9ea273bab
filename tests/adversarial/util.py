"""What the adversarial tests share: a time limit that turns a hang into a failure, the CLI
called in-process the way the console script calls it, and catalogue cases as pytest params."""

from __future__ import annotations

import contextlib
import io
import signal
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from cnncalc.cli import main

from .catalogue import Case


class Hang(Exception):
    """Raised inside the code under test when it runs past its time limit."""


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail with Hang when the block runs longer than ``seconds`` (main thread, Unix). The
    limits are generous sanity ceilings, not timing assertions."""

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def cli(argv: list[str], seconds: float = 20, stdin: bytes = b"") -> tuple[int, str, str]:
    """``cnncalc ARGV`` through ``cnncalc.cli.main``: (exit status, stdout, stderr).

    The streams are what a real interpreter gives a redirected process: UTF-8, stdout strict
    and stderr ``backslashreplace`` (pytest's capsys makes stderr strict, which no shell
    does)."""
    out_b, err_b = io.BytesIO(), io.BytesIO()
    streams = (sys.stdin, sys.stdout, sys.stderr)
    fake_in = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    fake_out = io.TextIOWrapper(out_b, encoding="utf-8", errors="strict", write_through=True)
    fake_err = io.TextIOWrapper(err_b, encoding="utf-8", errors="backslashreplace",
                                write_through=True)
    sys.stdin, sys.stdout, sys.stderr = fake_in, fake_out, fake_err
    code: Any = 0
    try:
        with within(seconds):
            try:
                main(argv)
            except SystemExit as exc:
                code = exc.code
    finally:
        fake_out.flush()
        fake_err.flush()
        sys.stdin, sys.stdout, sys.stderr = streams
        out, err = out_b.getvalue(), err_b.getvalue()
        for fake in (fake_in, fake_out, fake_err):
            fake.detach()
    if code is None:
        code = 0
    return (code if isinstance(code, int) else 1), out.decode("utf-8"), err.decode("utf-8")


def write(tmp_path: Path, case: Case) -> Path:
    path = tmp_path / "spec.txt"
    data = case.source if isinstance(case.source, bytes) else case.source.encode("utf-8")
    path.write_bytes(data)
    return path


def spec_args(case: Case) -> list[str]:
    return ([f"--notation={case.notation}"] if case.notation else []) + list(case.args)


def params(cases: Iterable[Case]) -> list[Any]:
    """One pytest param per case, ``xfail(strict=True)`` with the bug as reason when set."""
    return [pytest.param(c, id=c.name, marks=[pytest.mark.xfail(
        reason=f"BUG: {c.bug}", strict=True)] if c.bug else []) for c in cases]
