"""Text in the table's cells, measured and wrapped character for character as rich's ``Text``
does (rich 15): a text's width in cells, its lines at a width (broken after a word's spaces, a
longer word folded or cut with ``…``), justified left or right and padded, or as a paragraph.

Plain text (ASCII, and the ``…`` the table writes) is measured with ``len`` at C speed; rich's
tables of character widths are imported only for a text that needs them.
"""

from __future__ import annotations

import re
from typing import Literal

Justify = Literal["left", "right", "default"]
Overflow = Literal["ellipsis", "fold"]
ELLIPSIS = "…"
_WORD = re.compile(r"\s*\S+\s*")
_TRAILING_SPACE = re.compile(r"\s+$")


def is_plain(text: str) -> bool:
    """Whether every character of ``text`` is one cell wide and printable: ASCII, and the
    ``…`` the table writes (``isprintable`` is False for a newline or a control character)."""
    return (text.isascii() or text.replace(ELLIPSIS, "").isascii()) and text.isprintable()


def cell_width(text: str) -> int:
    """``text``'s width in cells (rich's ``cell_len``), counted at C speed when it is plain
    (rich's tables of character widths are imported only for a text that needs them)."""
    if is_plain(text):
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def longest_line(text: str) -> int:
    if is_plain(text):  # one line: isprintable() is False for "\n"
        return len(text)
    return max((cell_width(line) for line in text.splitlines()), default=0)


def wrap(text: str, width: int, justify: Justify, overflow: Overflow,
         no_wrap: bool) -> list[str]:
    """``text`` in lines of exactly ``width`` cells (rich's ``Text.wrap`` with ``justify``
    left or right), or of at most ``width`` (``default``, as rich prints a paragraph)."""
    out = []
    for line in text.split("\n"):
        if no_wrap or (len(line) <= width and is_plain(line)):
            pieces = [line]
        else:
            breaks = divide_line(line, width, fold=overflow == "fold")
            pieces = [line[a:b] for a, b in zip([0, *breaks], [*breaks, len(line)],
                                                  strict=True)]
            pieces = [_rstrip_end(p, width) for p in pieces]
        for piece in pieces:
            if justify == "left":
                piece = _truncate(piece, width, overflow, pad=True)
            elif justify == "default":  # as it is: neither padded nor stripped
                pass
            else:
                piece = _truncate(piece.rstrip(), width, overflow)
                piece = " " * (width - cell_width(piece)) + piece
            out.append(_truncate(piece, width, overflow))
    return out


def _rstrip_end(text: str, width: int) -> str:
    """Whitespace past ``width`` characters dropped (rich's ``Text.rstrip_end``)."""
    excess = len(text) - width
    if excess > 0:
        match = _TRAILING_SPACE.search(text)
        if match is not None:
            return text[:-min(len(match.group(0)), excess)]
    return text


def _truncate(text: str, width: int, overflow: Overflow, pad: bool = False) -> str:
    """Cut to ``width`` cells (with ``…`` for ellipsis), or padded to it (rich's
    ``Text.truncate``)."""
    size = cell_width(text)
    if size > width and is_plain(text):  # a character a cell
        return text[:width - 1] + ELLIPSIS if overflow == "ellipsis" else text[:width]
    if size > width:
        from rich.cells import set_cell_size

        if overflow == "ellipsis":
            return set_cell_size(text, width - 1) + ELLIPSIS
        return set_cell_size(text, width)
    if pad and size < width:
        return text + " " * (width - size)
    return text


def divide_line(text: str, width: int, fold: bool = True) -> list[int]:
    """Where ``text`` breaks into lines of ``width`` cells: after a word's trailing spaces; a
    word longer than ``width`` folded or left to be cut (rich's ``_wrap.divide_line``)."""
    breaks: list[int] = []
    offset = 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group(0)
        size = cell_width(word.rstrip())
        if width - offset >= size:
            offset += cell_width(word)
        elif size > width:
            if fold:
                chopped = _chop(word, width)
                for k, part in enumerate(chopped):
                    if start:
                        breaks.append(start)
                    if k == len(chopped) - 1:
                        offset = cell_width(part)
                    else:
                        start += len(part)
            else:
                if start:
                    breaks.append(start)
                offset = cell_width(word)
        elif offset and start:
            breaks.append(start)
            offset = cell_width(word)
    return breaks


def _chop(text: str, width: int) -> list[str]:
    """``text`` in pieces of ``width`` cells (rich's ``chop_cells``)."""
    if is_plain(text):
        return [text[i:i + width] for i in range(0, len(text), width)]
    from rich.cells import chop_cells

    return chop_cells(text, width)
