"""User text made safe to print: one escape form for every name, path and message in every
output, and its inverse for the quoted names of the canonical notation.

A name or path comes from the input (a Keras ``name=``, a PyTorch label, a file name), so it
may hold anything: a line break followed by ``::error file=x.py::...`` (a GitHub Actions
workflow command, run by the runner when a log line starts with ``::`` after leading
whitespace), ``##[error]`` (the runner's older form, run wherever it appears in a line), a
terminal escape sequence, a bidi override that reorders the line on screen, or a lone
surrogate that no UTF-8 stream can encode. ``escape`` writes such text so that it is one line,
holds none of those, and reads unambiguously:

- line feed, carriage return and tab are written ``\\n``, ``\\r``, ``\\t``;
- every other character that is not safe, ``\\xNN`` below U+0100, ``\\uNNNN`` in the BMP,
  ``\\UNNNNNNNN`` above: control characters (Unicode category Cc: C0, DEL, C1 including
  U+0085 and the CSI U+009B), format characters (Cf: bidi controls such as U+202E, zero
  widths, U+FEFF), lone surrogates (Cs), the line and paragraph separators U+2028 and U+2029,
  and the noncharacters U+FFFE and U+FFFF (which XML cannot hold);
- ``:`` is written ``\\x3a`` where it is the first character after leading blanks, or is
  followed by another ``:`` (so ``::`` never comes from user text, wherever a line wraps);
- ``#`` is written ``\\x23`` where ``#`` and letters and ``[`` follow it (``##[error]``,
  ``##vso[``);
- a backslash is written ``\\\\`` where it would otherwise start an escape: before another
  backslash, before ``n``, ``r``, ``t``, ``x``, ``u`` or ``U``, and before a character that is
  written escaped. Elsewhere it stays single, so that ``specs\\vgg16.txt`` reads as it is.

Anything else is kept as it is: text without any of these comes back unchanged (the usual
case, checked at C speed). ``unescape`` is the exact inverse, so the canonical notation reads
back every name it writes (``quote``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SHORT = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNSAFE_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))

BEACON = re.compile(r"#(?=#[A-Za-z]*\[)")
"""The first ``#`` of a legacy workflow command (``##[error]``, ``##vso[``): the runner finds
these anywhere in a line."""


def unsafe(ch: str) -> bool:
    """Whether one character is never printed as it is (see the module docstring)."""
    o = ord(ch)
    if o < 0xA0:
        return o < 0x20 or o >= 0x7F
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES or ch in "\ufffe\uffff"


def code(ch: str) -> str:
    """The escape of one character: ``\\n``, ``\\x1b``, ``\\u202e``, ``\\U000e0001``."""
    short = _SHORT.get(ch)
    if short is not None:
        return short
    o = ord(ch)
    if o < 0x100:
        return f"\\x{o:02x}"
    return f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}"


def escape_char(text: str, i: int) -> str | None:
    """The escape of ``text[i]`` when it is unsafe or a beacon ``#``, else None: for text
    that is shown as close to the original as it can be (a source line under a caret, a
    ``file=`` property), where ``escape``'s other rules do not apply."""
    ch = text[i]
    if unsafe(ch) or (ch == "#" and BEACON.match(text, i)):
        return code(ch)
    return None


@lru_cache(maxsize=4)
def _pattern(also: str) -> re.Pattern[str]:
    """What ``escape`` rewrites: a leading ``:``, a ``:`` before ``:``, a beacon ``#``, and
    any character that is not printable ASCII (non-ASCII ones are judged one by one), plus
    the characters of ``also``."""
    extra = "".join(re.escape(c) for c in also)
    return re.compile(rf"(?P<lead>^\s*:)|:(?=:)|{BEACON.pattern}|[^\x20-\x5b\x5d-\x7e]|[{extra}]"
                      if also else
                      rf"(?P<lead>^\s*:)|:(?=:)|{BEACON.pattern}|[^\x20-\x5b\x5d-\x7e]")


def _replace(m: re.Match[str], also: str) -> str:
    s = m.group()
    if m.lastgroup == "lead":
        return "".join(code(c) if unsafe(c) else c for c in s[:-1]) + "\\x3a"
    if s == ":":
        return "\\x3a"
    if s == "#":
        return "\\x23"
    if s == "\\":
        return "\\\\" if _starts_escape(m.string, m.end(), also) else s
    if s in also or unsafe(s):
        return code(s)
    return s


def _starts_escape(text: str, i: int, also: str) -> bool:
    """Whether a backslash before ``text[i]`` would read as the start of an escape: the next
    character is a backslash or an escape letter, or is itself written escaped. (A ``:``
    after a backslash is never a leading one.)"""
    if i >= len(text):
        return False
    ch = text[i]
    return (ch in "\\nrtxuU" or ch in also or unsafe(ch) or (ch == ":" and text[i + 1:i + 2] == ":")
            or (ch == "#" and BEACON.match(text, i) is not None))


def escape(text: str, also: str = "") -> str:
    """``text`` safe to print as part of one output line (see the module docstring); the
    characters of ``also`` are escaped too."""
    if (not also and text.isascii() and text.isprintable() and "\\" not in text
            and "::" not in text and "##" not in text and text.lstrip()[:1] != ":"):
        return text  # the usual name or path: string tests at C speed, no regex
    return _pattern(also).sub(lambda m: _replace(m, also), text)


def escape_lines(text: str) -> str:
    """Text whose line feeds are meant (a traceback, a usage message), each line escaped."""
    return "\n".join(escape(line) for line in text.split("\n"))


_QUOTED = '"#('
"""Also escaped in a quoted name of the canonical notation: the quote that would end it, and
``#`` and ``(``, so that no comment rule and no notation detector ever reads into a name."""


def quote(name: str) -> str:
    """A name as the canonical notation writes it: in double quotes, escaped so that
    ``unescape`` of what is between the quotes gives the name back exactly."""
    return f'"{escape(name, _QUOTED)}"'


_ESCAPE = re.compile(r"\\(?:(?P<short>[\\nrt])|x(?P<x>[0-9a-fA-F]{2})|u(?P<u>[0-9a-fA-F]{4})"
                     r"|U(?P<U>[0-9a-fA-F]{8}))")
_UNSHORT = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


def _decode(m: re.Match[str]) -> str:
    if m["short"] is not None:
        return _UNSHORT[m["short"]]
    value = int(m["x"] or m["u"] or m["U"], 16)
    return chr(value) if value <= 0x10FFFF else m.group()


def unescape(text: str) -> str:
    """The inverse of ``escape``: ``\\\\``, ``\\n``, ``\\r``, ``\\t``, ``\\xNN``, ``\\uNNNN``
    and ``\\UNNNNNNNN`` become the characters they stand for; any other backslash stays."""
    return _ESCAPE.sub(_decode, text) if "\\" in text else text


def json_safe(text: str) -> str:
    """JSON text (from ``json.dumps``, ASCII) with each beacon ``#`` written ``\\u0023``:
    the same value to a JSON reader, and no ``##[`` for the runner to find. A ``#`` can only
    be inside a string in JSON, where ``\\u0023`` is a valid escape."""
    return BEACON.sub(r"\\u0023", text) if "##" in text else text
