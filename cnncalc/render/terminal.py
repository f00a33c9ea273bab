"""Where the human table goes: the stream, its width, whether it takes colours and box-drawing
characters, decided as rich's ``Console`` decides them, and the escape codes rich writes for the
few styles the table uses.

Why not rich's ``Console``: importing it is a fifth of ``cnncalc show``'s start-up (some 20 ms),
for decisions that are a few environment variables and ``isatty``. The grid is drawn as rich
would draw it already (``cnncalc.render.grid``); ``tests/test_grid.py`` prints the same table
both ways, to plain and ASCII-only streams and to terminals with and without colours, and
compares every character and escape code.

Mirrored from rich 15 (``Console.is_terminal``, ``is_dumb_terminal``, ``size``,
``_detect_color_system``, ``Style.render``, ``Segment.remove_color``):

- The stream is a terminal when told so (``color=True``), else when ``TTY_COMPATIBLE`` is
  ``1`` (``0``: never), else when ``FORCE_COLOR`` is set and not empty, else when it says it is
  (``isatty``).
- Colours only on a terminal whose ``TERM`` is not ``dumb`` or ``unknown``; ``color=False``
  keeps bold and dim but drops the colour (red), as rich's ``no_color`` does. (cnncalc set
  ``no_color`` itself, so rich never read ``NO_COLOR``; nor does this.)
- The width: the one given; else a dumb terminal's 80 (unless ``COLUMNS`` and ``LINES``
  both say otherwise); else ``COLUMNS``; else the size of the first of standard input, output
  and error that is a terminal; else 80.
- A stream whose encoding is not UTF-something gets ASCII box characters.
- A style is ``ESC[codesm`` text ``ESC[0m``, the attributes first (bold 1, dim 2), then the
  colour (red 31, the same code in every colour system).

Not mirrored: Jupyter, and Windows consoles without virtual-terminal support (rich's "legacy
Windows" mode), where these codes are what cnncalc's diagnostics write too.
"""

from __future__ import annotations

import os
import sys
from typing import IO

Style = tuple[frozenset[int], int | None]
"""A style as rich renders it: attribute codes (1 bold, 2 dim) and a colour code or None."""

NAMED: dict[str, Style] = {
    "bold": (frozenset((1,)), None),
    "header": (frozenset((1,)), None),  # rich's theme: "table.header" is bold
    "dim": (frozenset((2,)), None),
    "red": (frozenset(), 31),
}


def combine(base: Style | None, own: Style | None) -> Style | None:
    """``base + own`` as rich adds styles: attributes together, ``own``'s colour first."""
    if base is None or own is None:
        return own if base is None else base
    return base[0] | own[0], own[1] if own[1] is not None else base[1]


class Terminal:
    """The stream and how to write to it, as the module says."""

    __slots__ = ("ascii_only", "color", "file", "no_color", "width")

    def __init__(self, file: IO[str] | None = None, width: int | None = None,
                 color: bool | None = None, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.file = file if file is not None else sys.stdout
        terminal = color if color else _is_terminal(self.file, env)
        dumb = terminal and env.get("TERM", "").lower() in ("dumb", "unknown")
        self.color = terminal and not dumb
        self.no_color = color is False
        self.width = width if width is not None else _width(env, dumb)
        encoding = (getattr(self.file, "encoding", "utf-8") or "utf-8").lower()
        self.ascii_only = not encoding.startswith("utf")

    def paint(self, text: str, style: Style | None) -> str:
        """``text`` with the escape codes of ``style`` (none without colours)."""
        if not self.color or style is None or not text:
            return text
        attrs, colour = style
        codes = [str(a) for a in sorted(attrs)]
        if colour is not None and not self.no_color:
            codes.append(str(colour))
        return f"\x1b[{';'.join(codes)}m{text}\x1b[0m" if codes else text

    def write(self, text: str) -> None:
        self.file.write(text)
        self.file.flush()


def _is_terminal(file: IO[str], env: os._Environ[str] | dict[str, str]) -> bool:
    compatible = env.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force = env.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    isatty = getattr(file, "isatty", None)
    try:
        return False if isatty is None else bool(isatty())
    except ValueError:  # a closed stream
        return False


def _width(env: os._Environ[str] | dict[str, str], dumb: bool) -> int:
    columns = env.get("COLUMNS", "")
    lines = env.get("LINES", "")
    if dumb and not (columns.isdigit() and lines.isdigit()):
        return 80
    if columns.isdigit():
        return int(columns)
    for fd in (0, 1, 2):
        try:
            size = os.get_terminal_size(fd)
        except (AttributeError, ValueError, OSError):
            continue
        return size.columns or 80
    return 80
