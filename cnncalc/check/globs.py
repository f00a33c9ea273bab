"""Path globs for ``include``, ``exclude`` and ``per-path``, matched against ``/``-separated
paths relative to the project root (the directory of the pyproject.toml in use).

- A pattern without ``/`` matches a file or directory *name* anywhere (``*.txt``,
  ``alexnet224.txt``, ``build``), as in ``.gitignore``.
- A pattern with ``/`` matches the whole relative path (``specs/mobile*.txt``); a leading
  ``./`` or ``/`` is dropped.
- ``*`` matches within one path segment, ``**`` any number of segments (``specs/**/*.txt``),
  ``?`` one character, ``[abc]`` / ``[!abc]`` one of / none of a set, ``[a-z]`` a range.
  As in ``fnmatch``, a ``]`` right after ``[`` or ``[!`` is a member (``[]x]``), and every
  other character in a set is itself (``[.^\\]``); a set never matches ``/``.
- A malformed pattern is a ``GlobError`` (a configuration error naming the key): a ``[``
  that is never closed (``[]``, ``[abc``: write ``[[]`` for a literal ``[``) or a range that
  runs backwards (``[z-a]``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class GlobError(ValueError):
    """A pattern that cannot be read; the message quotes it and says why."""


def _set(body: str, pattern: str) -> str:
    """The regular expression for the set ``[body]``; ``body`` starts after ``[`` or ``[!``."""
    out: list[str] = []
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            low, high = body[i], body[i + 2]
            if low > high:
                raise GlobError(f"{pattern!r}: the range {low}-{high} runs backwards; write "
                                f"{high}-{low}")
            out.append(f"{re.escape(low)}-{re.escape(high)}")
            i += 3
        else:
            out.append(re.escape(body[i]))
            i += 1
    return "".join(out)


_STAR, _ANY, _DIRS = "[^/]*", ".*", "(?:.*/)?"
"""The regular expressions of ``*`` (within a name), ``**`` and ``**/`` (whole directories)."""
_REGEX_WILDCARDS = 2
"""Patterns with up to this many ``*``/``**`` are matched by a regular expression, whose
backtracking then costs at most the square of a path's length; more, and backtracking could
grow as the path's length to the power of their number (``*a*a*a*a*b`` took seconds on a
30-character name), so those go through ``_Automaton``, linear in the path."""


def _tokens(pattern: str) -> list[str]:
    """The pattern as regular-expression pieces: a wildcard (``_STAR``, ``_ANY``, ``_DIRS``)
    or an expression that matches exactly one character."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append(_DIRS)
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(_ANY)
            i += 2
            continue
        if c == "*":
            out.append(_STAR)
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            start = i + 2 if pattern.startswith("[!", i) else i + 1
            end = pattern.find("]", start + 1)
            if end == -1:
                raise GlobError(f"{pattern!r}: the [ at character {i + 1} is never closed; "
                                "write [[] for a literal [")
            negate = "^/" if start == i + 2 else ""
            members = _set(pattern[start:end], pattern)
            out.append(f"[{negate}{members}]" if negate else f"(?!/)[{members}]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return out


class _Automaton:
    """The pattern as a nondeterministic automaton, simulated one character at a time: state
    ``i`` means "the first ``i`` pieces have matched". Time is the path's length times the
    number of pieces, whatever the pattern."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.one = [None if t in (_STAR, _ANY, _DIRS) else re.compile(t) for t in tokens]

    def _closure(self, states: set[int]) -> set[int]:
        todo = list(states)
        while todo:
            i = todo.pop()
            if i < len(self.tokens) and self.one[i] is None and i + 1 not in states:
                states.add(i + 1)  # every wildcard may match nothing
                todo.append(i + 1)
        return states

    def match(self, text: str) -> bool:
        states = self._closure({0})
        dirs: set[int] = set()  # inside a ``**/``, waiting for the ``/`` that ends it
        for c in text:
            after: set[int] = set()
            for i in states | dirs:
                if i == len(self.tokens):
                    continue
                token, one = self.tokens[i], self.one[i]
                if one is not None:
                    if one.match(c):
                        after.add(i + 1)
                elif token == _ANY or (token == _STAR and c != "/"):
                    after.add(i)
            inside = {i for i in states | dirs if i < len(self.tokens)
                      and self.tokens[i] == _DIRS}
            dirs = inside
            if c == "/":
                after |= {i + 1 for i in inside}
            states = self._closure(after)
            if not states and not dirs:
                return False
        return len(self.tokens) in states


@dataclass(frozen=True)
class _Regex:
    regex: re.Pattern[str]

    def match(self, text: str) -> bool:
        return self.regex.match(text) is not None


def _matcher(text: str) -> _Regex | _Automaton:
    tokens = _tokens(text)
    if sum(t in (_STAR, _ANY, _DIRS) for t in tokens) <= _REGEX_WILDCARDS:
        return _Regex(re.compile("".join(tokens) + r"\Z"))
    return _Automaton(tokens)


@dataclass(frozen=True)
class Glob:
    pattern: str
    anchored: bool = field(init=False)
    matcher: _Regex | _Automaton = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        text = self.pattern.strip()
        text = text[2:] if text.startswith("./") else text.lstrip("/")
        text = text.rstrip("/") or text
        object.__setattr__(self, "anchored", "/" in text)
        object.__setattr__(self, "matcher", _matcher(text))

    def match(self, rel: str) -> bool:
        """``rel``: a ``/``-separated relative path. Unanchored patterns try every name in it,
        so ``build`` excludes ``build/x.txt`` as well as a file called ``build``."""
        if self.anchored:
            return self.matcher.match(rel)
        return any(self.matcher.match(part) for part in rel.split("/"))

    def match_name(self, rel: str) -> bool:
        """Like ``match`` but only the last name for unanchored patterns: ``*.txt`` includes
        ``specs/a.txt`` but does not include everything under a directory ``x.txt/``."""
        if self.anchored:
            return self.matcher.match(rel)
        return self.matcher.match(rel.rsplit("/", 1)[-1])
