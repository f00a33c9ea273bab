"""Path globs for ``include``, ``exclude`` and ``per-path``, matched against ``/``-separated
paths relative to the project root (the directory of the pyproject.toml in use).

- A pattern without ``/`` matches a file or directory *name* anywhere (``*.txt``,
  ``alexnet224.txt``, ``build``), as in ``.gitignore``.
- A pattern with ``/`` matches the whole relative path (``specs/mobile*.txt``); a leading
  ``./`` or ``/`` is dropped.
- ``*`` matches within one path segment, ``**`` any number of segments (``specs/**/*.txt``),
  ``?`` one character, ``[abc]`` / ``[!abc]`` one of / none of a set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern.startswith("[!", i) else i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Glob:
    pattern: str
    anchored: bool = field(init=False)
    regex: re.Pattern[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        text = self.pattern.strip()
        text = text[2:] if text.startswith("./") else text.lstrip("/")
        text = text.rstrip("/") or text
        object.__setattr__(self, "anchored", "/" in text)
        object.__setattr__(self, "regex", re.compile(_translate(text) + r"\Z"))

    def match(self, rel: str) -> bool:
        """``rel``: a ``/``-separated relative path. Unanchored patterns try every name in it,
        so ``build`` excludes ``build/x.txt`` as well as a file called ``build``."""
        if self.anchored:
            return self.regex.match(rel) is not None
        return any(self.regex.match(part) for part in rel.split("/"))

    def match_name(self, rel: str) -> bool:
        """Like ``match`` but only the last name for unanchored patterns: ``*.txt`` includes
        ``specs/a.txt`` but does not include everything under a directory ``x.txt/``."""
        if self.anchored:
            return self.regex.match(rel) is not None
        return self.regex.match(rel.rsplit("/", 1)[-1]) is not None
