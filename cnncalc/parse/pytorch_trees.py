"""The syntax trees of a file's PyTorch module calls.

``ast.parse`` is most of the cost of reading a call, and it grows with the text: each distinct
call text is parsed once (AlexNet's seven ``ReLU(inplace=True)`` are one parse), and
:meth:`CallTrees.prefetch` parses them all with ONE ``ast.parse``, each on lines of its own
inside a list. An element is kept only when the elements line up exactly with the texts (as
many, each spanning exactly its own lines), so that each tree is the one its text parses to
alone, line numbers aside. When the joint parse fails (one bad call spoils it) nothing is kept:
:meth:`CallTrees.tree` then parses each text alone, as it does for texts that were not
prefetched, so that each bad call raises its own SyntaxError.
"""

from __future__ import annotations

import ast

from cnncalc.parse.pycode import quiet_parse


def _utf8_len(row: str) -> int:
    """ast's columns count UTF-8 bytes."""
    return len(row) if row.isascii() else len(row.encode("utf-8", "surrogatepass"))


class CallTrees:
    """The trees of call texts, each with the line of the parsed text its first row is on."""

    def __init__(self) -> None:
        self.found: dict[str, tuple[ast.expr, int]] = {}

    def prefetch(self, texts: list[str]) -> None:
        """Parse the distinct ``texts`` together; see the module docstring."""
        unique = [t for t in dict.fromkeys(texts) if t not in self.found]
        if not unique:
            return
        try:
            with quiet_parse():
                elts = ast.parse("[\n" + ",\n".join(unique) + "\n]", mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return  # each text is parsed alone when it is asked for
        if not isinstance(elts, ast.List) or len(elts.elts) != len(unique):
            return
        kept, line = [], 2
        for text, node in zip(unique, elts.elts, strict=True):
            rows = text.count("\n")
            if (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset) != (
                    line, 0, line + rows, _utf8_len(text[text.rfind("\n") + 1:])):
                return
            kept.append((text, (node, line)))
            line += rows + 1
        self.found.update(kept)

    def tree(self, text: str) -> tuple[ast.expr, int]:
        """The tree of ``text`` and the line its first row is on; raises what ``ast.parse``
        raises when ``text`` alone does not parse."""
        if (known := self.found.get(text)) is None:
            with quiet_parse():
                known = self.found[text] = (ast.parse(text, mode="eval").body, 1)
        return known
