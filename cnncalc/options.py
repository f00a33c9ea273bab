"""What the commands share: reading a spec file, the options that say how to read it
(``--input``, ``--define``, ``--notation``, ``--rounding``), and number parsing for flags."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from typing import Any, BinaryIO, TypeVar

import click

from cnncalc.analyze import Analysis, analyze
from cnncalc.diagnostics import Diagnostic
from cnncalc.option_style import option
from cnncalc.parse import NOTATIONS, DefineValue, parse_text
from cnncalc.parse.bounds import CODE_SHARE, MAX_FILE_SIZE, MAX_LAYERS, file_too_large
from cnncalc.parse.lexer import MAX_DIGITS
from cnncalc.spec import Rounding, Shape, Span, Spec, source_lines

F = TypeVar("F", bound=Callable[..., Any])

MAX_BATCH = 10**9
"""The largest --batch: memory figures are figures times batch, and stay exact and printable."""


def dims(text: str, what: str, lengths: tuple[int, ...], least: int = 1) -> tuple[int, ...]:
    """``7``, ``7x5``, ``7x5x3`` as ints, or a usage error that says what was expected."""
    parts = [p.strip() for p in text.strip().lower().replace("\u00d7", "x").split("x")]
    # digits 0-9 only: int() would also read other scripts' digits (a Bengali 4 looks like 8)
    try:
        values = tuple(int(p) for p in parts) if all(
            p.isascii() and p.isdigit() for p in parts) else ()
    except ValueError:  # more digits than int() converts
        values = ()
    if len(values) not in lengths or min(values, default=least - 1) < least:
        forms = {1: "N", 2: "HxW", 3: "HxWxC"}
        raise click.BadParameter(
            f"{text!r}: write {what} as {' or '.join(forms[n] for n in lengths)} with whole "
            f"numbers of at least {least} in the digits 0-9", param_hint=what)
    return values


class VolumeType(click.ParamType):  # type: ignore[type-arg]
    name = "HxWxC"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        try:
            return dims(str(value), "--input", (3, 1))
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


def parse_define(text: str) -> tuple[str, DefineValue]:
    """``num_classes=10``, ``rate=0.5``, ``input_shape=28x28x1``."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip().isidentifier():
        raise click.BadParameter(f"{text!r}: write NAME=VALUE, e.g. num_classes=10",
                                 param_hint="--define")
    value = value.strip()
    if not value.isascii():  # int() and float() would read other scripts' digits
        raise click.BadParameter(f"{name.strip()}=: write the value in the digits 0-9",
                                 param_hint="--define")
    if len(value) > MAX_DIGITS and value.lstrip("+-").isdigit():
        raise click.BadParameter(f"{name.strip()}=: a number of {len(value):,} digits; "
                                 f"cnncalc reads numbers of at most {MAX_DIGITS:,}",
                                 param_hint="--define")
    try:
        return name.strip(), int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        return name.strip(), dims(value, "--define value", (1, 2, 3))
    if not math.isfinite(number):  # inf, nan, 1e400
        raise click.BadParameter(f"{name.strip()}=: not a finite number (inf, nan or past 1e308)",
                                 param_hint="--define")
    return name.strip(), number


def spec_options(f: F) -> F:
    """The options every command that reads a spec takes."""
    f = option("--rounding", type=click.Choice(["strict", "floor", "ceil"]), default=None,
               show_default="the notation's: strict for lecture and vgg, floor for keras and "
               "pytorch", help="A size that is not whole: an error (strict), or rounded down "
               "(floor) or up (ceil).")(f)
    f = option("--notation", type=click.Choice(NOTATIONS), default=None,
                     help="Force a notation instead of detecting it.")(f)
    f = option("--define", "defines", multiple=True, metavar="NAME=VALUE",
                     help="Bind a name used in Keras or PyTorch code, e.g. num_classes=10.")(f)
    f = option("--input", "input_volume", type=VolumeType(),
                     help="Supply or override the input volume, e.g. 227x227x3.")(f)
    return f


def block_option(f: F) -> F:
    """``--block N``: the fenced block of a Markdown document to read."""
    return option(
        "--block", type=click.IntRange(min=1), default=None, metavar="N",
        show_default="every fenced block (those tagged cnncalc, if any), as one text",
        help="In a Markdown file (.md), read only its N-th fenced code block (1-based); "
        "also reads standard input or another file as Markdown.")(f)


def model_option(f: F) -> F:
    """``--model NAME``: for the commands that read one spec (``show``, ``run``)."""
    return option(
        "--model", default=None, metavar="NAME",
        help="The model to read when the file builds several: the variable a Keras model is "
        "assigned to, the class a printed PyTorch model starts with, or in PyTorch model code "
        "a variable, a class or a call such as \"ResNet(BasicBlock, [2, 2, 2, 2])\".")(f)


def one_spec(f: F) -> F:
    """The SPEC argument and the options of the commands that read one spec (``show``,
    ``run``, ``draw``), in the order their help lists them."""
    f = limit_options(f)
    f = block_option(f)
    f = model_option(f)
    f = spec_options(f)
    return click.argument("spec", type=SpecPath())(f)


class BytesType(click.ParamType):  # type: ignore[type-arg]
    """A size in bytes as budgets write it (``8MiB``, ``8MB``, ``8000000``)."""

    name = "SIZE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from cnncalc.check.units import UnitError, parse_bytes  # only when the flag is given

        if isinstance(value, int):
            return value
        try:
            size = parse_bytes(str(value))
        except UnitError as exc:
            self.fail(str(exc), param, ctx)
        if size < 1:
            self.fail(f"{value!r} is not a size of at least 1 byte", param, ctx)
        return size


def limit_options(f: F) -> F:
    """``--max-layers`` and ``--max-file-size``: how much one spec may ask for."""
    f = option("--max-file-size", type=BytesType(), default=None,
               show_default=f"{MAX_FILE_SIZE // 2**20} MiB; Keras and PyTorch text "
               f"{MAX_FILE_SIZE // CODE_SHARE // 2**10} KiB",
               help="Refuse a spec file longer than this (P013), e.g. 64MiB.")(f)
    f = option("--max-layers", type=click.IntRange(min=1), default=None,
               show_default=f"{MAX_LAYERS:,}",
               help="Stop reading a spec at more layers than this (P012).")(f)
    return f


class SpecReadError(click.ClickException):
    """A spec that cannot be read (permission denied, an I/O error, a directory): one line
    ``cnncalc: error: PATH: REASON`` and exit 2, as ``check`` reports an unreadable path.
    (click.FileError would exit 1, the status of a spec with errors.)"""

    exit_code = 2

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")

    def show(self, file: Any = None) -> None:
        click.echo(f"cnncalc: error: {self.format_message()}", file=file, err=True)


def spec_path(spec: str) -> str:
    """The path a SPEC argument reads: ``spec`` if it exists, else the built-in spec it
    names (``cnncalc.zoo.resolve``); neither is SpecReadError (exit 2)."""
    from cnncalc.zoo import UnknownSpec, resolve

    try:
        return resolve(spec)
    except UnknownSpec as exc:
        raise SpecReadError(exc.spec, exc.reason) from None


class SpecPath(click.ParamType):  # type: ignore[type-arg]
    """A SPEC argument: a file that exists (a path wins over a name), ``-``, or the name of a
    built-in spec; anything else is a usage error that lists the built-in names. Unreadable
    files pass: ``load`` reports them as ``PATH: REASON``, exit 2."""

    name = "SPEC"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from cnncalc.zoo import UnknownSpec, resolve

        text = str(value)
        if text != "-" and os.path.isdir(text):
            self.fail(f"{text!r} is a directory, not a spec file", param, ctx)
        try:
            return resolve(text)
        except UnknownSpec as exc:
            self.fail(str(exc), param, ctx)


def read_spec(path: str, limit: int = MAX_FILE_SIZE) -> tuple[str, bytes]:
    """(display path, bytes): at most ``limit + 1`` of them (see ``read_limited``); a file
    that cannot be read raises SpecReadError."""
    shown = "<stdin>" if path == "-" else path
    try:
        return shown, read_limited(path, limit)
    except OSError as exc:
        raise SpecReadError(shown, exc.strerror or str(exc)) from exc


_CHUNK = 2**20


def read_limited(path: str, limit: int) -> bytes:
    """The bytes of ``path`` (``-``: standard input), at most ``limit + 1`` of them: one more
    than the limit tells that the file is longer without reading the rest. Read in chunks,
    since ``read(n)`` sets aside ``n`` bytes before it reads any."""
    def take(fh: BinaryIO) -> bytes:
        parts: list[bytes] = []
        size = 0
        while size <= limit:
            part = fh.read(min(_CHUNK, limit + 1 - size))
            if not part:
                break
            parts.append(part)
            size += len(part)
        return b"".join(parts)

    if path == "-":
        return take(sys.stdin.buffer)
    with open(path, "rb") as fh:
        return take(fh)


def unread(shown: str, text: str, problem: Diagnostic) -> Analysis:
    """The analysis of a file that is not parsed: its only diagnostic is ``problem``."""
    spec = Spec(shown, None, None, (), (problem,), tuple(source_lines(text)))
    return Analysis(spec, None, (), (problem,))


def undecodable(text: str, path: str) -> Diagnostic | None:
    """P006 at the first undecodable byte (a surrogate escape) or NUL, else None. Text that
    encodes as strict UTF-8 holds no surrogate at all, so without a NUL it needs no scan."""
    if "\x00" not in text and (text.isascii() or _encodes(text)):
        return None
    for lineno, line in enumerate(source_lines(text), start=1):
        for col, ch in enumerate(line, start=1):
            if "\udc80" <= ch <= "\udcff" or ch == "\x00":
                what = "a NUL byte" if ch == "\x00" else f"byte 0x{ord(ch) - 0xDC00:02x}"
                return Diagnostic(Span(path, lineno, col, col + 1), "P006",
                                  f"{what} is not UTF-8 text: is this a spec file?",
                                  "save the file as UTF-8 text")
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def load(path: str, input_volume: Shape | None = None, defines: tuple[str, ...] = (),
         notation: str | None = None, rounding: Rounding | None = None,
         model: str | None = None, max_layers: int | None = None,
         max_file_size: int | None = None, block: int | None = None) -> Analysis:
    """Read, parse and analyse one spec file (``-`` for standard input, a name without ``/``
    for a built-in spec, ``cnncalc.zoo``); a file longer than
    ``max_file_size`` is refused (P013), and reading stops at more than ``max_layers``
    layers (P012); None means the default. ``block``: the fenced block of a Markdown text
    to read (``cnncalc.parse.markdown``)."""
    limit = MAX_FILE_SIZE if max_file_size is None else max_file_size
    shown, data = read_spec(spec_path(path), limit)
    if len(data) > limit:
        return unread(shown, "", file_too_large(shown, limit))
    text = data.decode("utf-8", errors="surrogateescape")
    bad = undecodable(text, shown)
    if bad is not None:
        return unread(shown, text, bad)
    bound = dict(parse_define(d) for d in defines)
    spec = parse_text(text, shown, notation, bound, input_volume is not None, model,
                      MAX_LAYERS if max_layers is None else max_layers, limit,
                      input_volume=input_volume, block=block)
    return analyze(spec, input_volume, rounding)
