"""Hang guards: inputs that took quadratic time (issue 11) are read in linear time.

Each input is large enough that the old code took a minute or more on it (in the comments:
measured at 1/16 and 1/8 of the size, CPU time, and extrapolated by the growth measured
between them), and is read here in a second or two at most; the limit is a generous ceiling
(a test fails only when something takes ten times longer than expected), not a timing
assertion. ``benchmarks/bench_pathological.py`` measures the growth itself.

The PyTorch reader's matching of a call's parentheses over many lines is checked against the
walk it replaces, an independent implementation kept here.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest
from adversarial.util import within

from cnncalc.analyze import analyze
from cnncalc.check.runner import check_analysis
from cnncalc.check.settings import Settings
from cnncalc.parse import parse_text
from cnncalc.parse.pytorch import _CONTAINERS, MODULES, _Reader
from cnncalc.render.report import format_all

PT = "# cnncalc: input 8x8x3\n"
INPUT = "[8x8x3] INPUT\n"
LIMIT = 20.0  # seconds; each input takes 0.05 to 2 s here


def times(text: str, n: int) -> str:
    return text * max(1, n // len(text))


# (name, notation or None to detect, the text of about n bytes, n); the old code's time
CASES: list[tuple[str, str | None, Callable[[int], str], int]] = [
    ("blank lines", None, lambda n: "\n" * n + INPUT, 200_000),  # 19 min
    ("comment lines", None, lambda n: times("#\n", n) + INPUT, 200_000),  # 6 min
    ("lines of spaces", None, lambda n: times(" \n", n) + INPUT, 200_000),  # 10 min
    ("a run of spaces before a word", "lecture", lambda n: INPUT + " " * n + "x\n",
     300_000),  # 14 min
    ("a run of spaces in a bracket", "lecture", lambda n: INPUT + "[" + " " * n + "x\n",
     300_000),  # 18 min
    ("a long weights: expression", "vgg",
     lambda n: "INPUT: [8x8x3]\nCONV3-8: weights: " + times("(3*3)", n) + "z\n", 400_000),  # 6 min
    ("weights: repeated on one line", "vgg",
     lambda n: "INPUT: [8x8x3]\nCONV3-8: " + times("weights: ", n) + "\n", 400_000),  # 2 min
    ("a long unknown VGG word", "vgg",
     lambda n: "INPUT: [8x8x3]\nzz" + "".join(chr(97 + i % 26) + str(i)
                                              for i in range(n // 5)) + "\n", 16_000),  # 14 min
    ("unclosed calls", "pytorch", lambda n: PT + times("self.fc = nn.Linear(3,\n", n),
     400_000),  # 5 min
    ("unclosed calls of unknown modules", "pytorch", lambda n: PT + times("x((1,\n", n),
     100_000),  # 12 min
    ("an unclosed call before blank lines", "pytorch",
     lambda n: PT + "nn.Conv2d(3,\n" + "\n" * n, 200_000),  # 13 min
    ("stray ) on one line", "pytorch", lambda n: PT + ")" * n + "\n", 200_000),  # 6 min
    ("stray ) after blocks, then blank lines", "pytorch",
     lambda n: PT + times("A(\n", n // 3) + times(" )", n // 3) + "\n" * (n // 3),
     300_000),  # 2 min
    ("items on a long line after an import", "pytorch",
     lambda n: PT + "import torch\n" + " " * (n // 2) + times("nn.ReLU() ", n // 2) + "\n",
     400_000),  # 1 min
    ("containers on one line", "pytorch", lambda n: PT + times("Sequential( ", n) + "\n",
     400_000),  # 3 min
    ("many printed models", "pytorch",
     lambda n: PT + "Net(\n" + times("  nn.ReLU(0)\n", n // 2) + ")\n"
     + times("Other(\n  (0): ReLU()\n)\n", n // 2), 1_200_000),  # 2 min
    ("many Keras models", "keras",
     lambda n: "".join(f"m{i} = Sequential()\nm{i}.add(Dense(1, input_shape=(4,)))\n"
                       for i in range(n // 50)), 1_200_000),  # 36 s, and 300 MB of hints
    ("calls that are not literals", "keras",
     lambda n: "model = Sequential()\n" + times("model.add(Dense(f()))\n", n),
     300_000),  # 2 min
    ("list items that are not layers", "keras",
     lambda n: "model = Sequential([" + times("f(), ", n) + "])\n", 200_000),  # 1 min
    ("a long word in code, where remarks are looked for", None,
     lambda n: "from ker" + "1" * n + "\nmodel = Sequential()\n"
     "model.add(Dense(3, input_shape=(4,)))\n", 200_000),  # 8 min
]


@pytest.mark.parametrize(("notation", "make", "size"), [
    pytest.param(notation, make, size, id=name) for name, notation, make, size in CASES])
def test_pathological_input_is_read_in_linear_time(notation: str | None,
                                                   make: Callable[[int], str],
                                                   size: int) -> None:
    """What `cnncalc check` does with the text, and the display of every finding."""
    settings = Settings()
    text = make(size)
    with within(LIMIT):
        spec = parse_text(text, "big.txt", notation, max_layers=10**9, max_file_size=2**30)
        result = check_analysis(analyze(spec), settings.for_path("big.txt"), settings)
        shown = format_all(result.diagnostics, spec.lines)
    quoted = [row for row in shown.splitlines() if re.match(r" *\d* \| ", row)]
    assert max(map(len, quoted), default=0) < 200  # the source lines shown are shortened


# ---- the PyTorch walk --------------------------------------------------------------------

_SIGNIFICANT = re.compile(r"[()'\"\n]")
_ITEM_START = re.compile(r"\s*(?:\([^()\n]*\):|(?:[A-Za-z_]\w*\.)*(?:"
                         + "|".join(sorted(MODULES.keys() | _CONTAINERS)) + r")\s*\()")


def walk(src: str, open_pos: int) -> int | None:
    """The old matching walk: parentheses outside quotes counted (a quote ends at the end of
    its line) until the ``(`` at ``open_pos`` is closed, or None at the end of the text or
    at a line break outside quotes before a line (blank lines skipped) that starts a module
    or a label."""
    depth, quote = 0, ""
    for m in _SIGNIFICANT.finditer(src, open_pos):
        ch = m[0]
        if quote:
            quote = "" if ch in (quote, "\n") else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "()":
            depth += 1 if ch == "(" else -1
            if depth == 0:
                return m.start()
        elif _ITEM_START.match(src, m.end()):
            return None
    return None


PIECES = ["(", ")", "(", ")", "'", '"', "\n", "\n", "  ", "\t", "x", "Conv2d(", "nn.Linear(",
          "(0): ", "(a)", "ReLU", " (", "\n\n", "\f", "\u2028", "Sequential(", "1,", "foo("]


@pytest.mark.parametrize(("seed", "texts", "pieces"), [(1, 2000, 30), (2, 120, 1500)])
def test_matching_a_call_is_the_old_walk(seed: int, texts: int, pieces: int) -> None:
    """On generated texts (quotes, blank lines, labels, module heads, and long texts whose
    parentheses fill many blocks of the index), every ``(`` is matched where the old walk
    matched it."""
    rng = random.Random(seed)
    matched = 0
    for _ in range(texts):
        text = "".join(rng.choices(PIECES, k=rng.randint(1, pieces)))
        reader = _Reader(text, "p.txt", {})
        for m in re.finditer(r"\(", reader.src):
            expected = walk(reader.src, m.start())
            assert reader.match(m.start()) == expected, (text, m.start())
            matched += expected is not None
    assert matched > 1000
