"""Specs kept in Markdown: a ``.md`` file is read from its fenced code blocks.

A design document keeps its network in a fenced block (```` ``` ```` or ``~~~``, three or
more, as CommonMark has them) between paragraphs of prose. cnncalc reads the blocks and
nothing else, and keeps the file's line numbers: every line outside the blocks read (prose,
the fences themselves) is read as a blank line, so that a finding points at the file's own
line and column.

Which blocks:

- the blocks whose info string is ``cnncalc`` (```` ```cnncalc ````), when there are any: a
  document then says which of its blocks is the network, and its other code is left alone;
- otherwise every fenced block;
- ``--block N`` reads only the N-th of those (1-based), for a document with several networks.

The blocks read are one text, in order: a network may be split by prose between its parts (its
input in one block, its layers in the next). Two networks in one document are two ``INPUT``
lines (P005): ``--block N`` picks one. A document with no fenced block is read as it is.
"""

from __future__ import annotations

import re

from cnncalc.diagnostics import Diagnostic
from cnncalc.spec import Span, source_lines

SUFFIXES = (".md", ".markdown")
"""Paths read as Markdown (case-blind)."""

_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\s`]*)")


def is_markdown(path: str) -> bool:
    return path.lower().endswith(SUFFIXES)


def fenced_blocks(lines: list[str]) -> list[tuple[int, int, str]]:
    """Each fenced block as (first content line, line after its last, info word), 0-based;
    a block not closed runs to the end of the file (as CommonMark reads it)."""
    blocks: list[tuple[int, int, str]] = []
    i, n = 0, len(lines)
    while i < n:
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        fence, info = m["fence"], m["info"].lower()
        end = i + 1
        while end < n:
            close = _FENCE.match(lines[end])
            if (close is not None and close["fence"][0] == fence[0]
                    and len(close["fence"]) >= len(fence) and not close["info"]):
                break
            end += 1
        blocks.append((i + 1, end, info))
        i = end + 1
    return blocks


def spec_text(text: str, path: str, block: int | None = None
              ) -> tuple[str, list[Diagnostic]]:
    """The text of the blocks read, with every other line blank (line numbers kept), and a
    problem when ``block`` names no block."""
    lines = source_lines(text)
    blocks = fenced_blocks(lines)
    tagged = [b for b in blocks if b[2] == "cnncalc"]
    chosen = tagged or blocks
    if block is not None:
        if not 1 <= block <= len(chosen):
            kind = "`cnncalc` blocks" if tagged else "fenced blocks"
            return "", [Diagnostic(
                Span(path, 1, 1, 2), "P018",
                f"--block {block}: the document has {len(chosen)} {kind}",
                f"pass --block 1 to {len(chosen)}" if chosen else
                "put the network in a fenced code block (```)")]
        chosen = [chosen[block - 1]]
    elif not blocks:
        return text, []
    keep = [False] * len(lines)
    for start, end, _ in chosen:
        for k in range(start, end):
            keep[k] = True
    read = "\n".join(line if kept else "" for line, kept in zip(lines, keep, strict=True))
    return read + ("\n" if text.endswith(("\n", "\r")) else ""), []
