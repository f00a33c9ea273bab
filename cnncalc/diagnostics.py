"""Diagnostics: every problem is a value with a code, a source span, a message and a hint.

Codes carry a letter prefix by family (ruff / sqlfluff style) and a kebab-case name:

- ``P`` parse: the text could not be read as a layer;
- ``G`` geometry: a filter that does not fit, sizes that make no sense;
- ``C`` channels: a declared channel count or a group split that does not match;
- ``D`` declared: a shape written in brackets that disagrees with the computed one;
- ``I`` information: something cnncalc decided for the user (a solved ``pad ?``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from enum import StrEnum
from typing import Any

from cnncalc.records import record
from cnncalc.spec import Span


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


@record
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str


RULES: dict[str, Rule] = {
    r.code: r
    for r in (
        Rule("P001", "syntax-error", Severity.ERROR, "a line that is not a layer cnncalc knows"),
        Rule("P002", "unknown-layer", Severity.ERROR, "a layer word cnncalc does not know"),
        Rule("P003", "bad-shape", Severity.ERROR, "a bracketed shape that is not [HxWxC] or [N]"),
        Rule("P004", "missing-input", Severity.ERROR, "no INPUT line and no --input"),
        Rule("P005", "duplicate-input", Severity.ERROR, "more than one INPUT line"),
        Rule("P007", "input-not-first", Severity.ERROR, "an INPUT line after the first layer"),
        Rule("P008", "unbound-name", Severity.ERROR,
             "a name in Keras or PyTorch code with no value; bind it with --define NAME=VALUE"),
        Rule("P009", "not-a-literal", Severity.ERROR,
             "code that would compute or run something (calls, attributes, lambdas, f-strings)"),
        Rule("P010", "unknown-argument", Severity.ERROR,
             "a keyword argument the layer does not take, or a bad value for one"),
        Rule("P011", "unsupported", Severity.ERROR,
             "a layer option cnncalc reads but cannot model (e.g. channels_first)"),
        Rule("P006", "unreadable", Severity.ERROR, "a file that cannot be read as text"),
        Rule("P012", "too-many-layers", Severity.ERROR,
             "more layers than --max-layers (default 100,000); reading stops there"),
        Rule("P013", "file-too-large", Severity.ERROR,
             "a file longer than --max-file-size (default 8 MiB); it is not read"),
        Rule("P015", "second-model", Severity.ERROR,
             "a file that builds more than one model, or model code that builds none at its "
             "top level: pick one with --model NAME"),
        Rule("P016", "unknown-reference", Severity.ERROR,
             "a reference to a layer name that is not defined above"),
        Rule("P017", "input-count", Severity.ERROR,
             "a merge that reads fewer than two layers, or another layer that reads several"),
        Rule("P021", "code-not-followed", Severity.ERROR,
             "a construct in model code that cnncalc does not follow (a `while` loop, a call "
             "of `getattr`): it reads code without running it"),
        Rule("P022", "code-limit", Severity.ERROR,
             "model code that goes over a bound of the interpreter (loop iterations, call "
             "depth, steps, list length, number size)"),
        Rule("P023", "module-not-called", Severity.ERROR,
             "an nn module with parameters that __init__ builds and forward() never calls"),
        Rule("P024", "params-not-as-pytorch", Severity.ERROR,
             "an nn module with parameters called twice (PyTorch shares them), or one the "
             "model does not register (PyTorch does not count it)"),
        Rule("P025", "training-only-module", Severity.WARNING,
             "a module a known forward() calls only in training (torchvision's auxiliary "
             "classifiers): the network is read as in eval mode, and its params are left out"),
        Rule("P014", "unknown-forward", Severity.WARNING,
             "a container whose forward() cnncalc does not know: its children are read in "
             "order, and the figures that rest on that order are marked"),
        Rule("P018", "no-such-block", Severity.ERROR,
             "--block N beyond the fenced code blocks of a Markdown document"),
        Rule("P020", "link-outside-tree", Severity.ERROR,
             "a symbolic link out of the checked tree, not followed (cnncalc check)"),
        Rule("G101", "filter-does-not-fit", Severity.ERROR,
             "(W - F + 2P)/S + 1 is not a whole number"),
        Rule("G102", "filter-too-large", Severity.ERROR, "a filter larger than its padded input"),
        Rule("G103", "no-padding-fits", Severity.ERROR, "`pad ?` with no padding that fits"),
        Rule("G104", "needs-volume", Severity.ERROR, "a spatial layer after a flat vector"),
        Rule("G105", "empty-network", Severity.ERROR, "a spec with an input and no layers"),
        Rule("G106", "invalid-value", Severity.ERROR,
             "a zero or negative size, stride or count, or a dropout rate outside [0, 1)"),
        Rule("G108", "figure-too-large", Severity.ERROR,
             "a figure of more than 4,200 digits, which cnncalc does not compute"),
        Rule("G109", "merge-mismatch", Severity.ERROR,
             "an add or multiply of volumes that differ (a gate is 1x1xC)"),
        Rule("G110", "concat-mismatch", Severity.ERROR,
             "a concat of volumes whose height and width differ"),
        Rule("G111", "bad-crop", Severity.ERROR,
             "a crop larger than its input, or to the size of a flat vector"),
        Rule("G107", "rounded", Severity.WARNING,
             "a size that is not whole, rounded as the rounding policy says"),
        Rule("C001", "channel-mismatch", Severity.ERROR,
             "a declared channel or feature count that differs from what the layer receives"),
        Rule("C002", "group-mismatch", Severity.ERROR,
             "groups that do not divide the input depth and the number of filters"),
        Rule("C003", "channel-split-mismatch", Severity.ERROR,
             "a channel slice outside the input's channels, or shuffle groups that do not "
             "divide them"),
        Rule("D201", "declared-shape-mismatch", Severity.ERROR,
             "a [bracketed] shape that differs from the computed one"),
        Rule("D202", "declared-weights-mismatch", Severity.WARNING,
             "a declared weights: figure that differs from the computed weights"),
        Rule("I301", "padding-solved", Severity.INFO, "the padding chosen for `pad ?`"),
        Rule("I302", "framework-rounding", Severity.INFO,
             "a size PyTorch or Keras text rounds as the framework does (floor, or ceil mode)"),
        Rule("B401", "max-params", Severity.ERROR,
             "total params above the max-params budget (cnncalc check)"),
        Rule("B402", "max-macs", Severity.ERROR,
             "total MACs above the max-macs budget (cnncalc check)"),
        Rule("B403", "max-activations", Severity.ERROR,
             "activation memory (the sum of every layer's output) above the max-activations "
             "budget (cnncalc check)"),
        Rule("B404", "budget-not-judged", Severity.INFO,
             "budgets or the baseline not judged: the spec has no complete totals, or the "
             "figures rest on an assumed wiring (cnncalc check)"),
        Rule("B405", "max-peak-activations", Severity.ERROR,
             "peak activation memory at inference (the outputs alive at once) above the "
             "max-peak-activations budget (cnncalc check)"),
        Rule("W501", "fast-shrinking", Severity.WARNING,
             "two or more unpadded convolutions in a row, each shrinking the volume"),
        Rule("W502", "large-pool-window", Severity.WARNING,
             "a pooling window wider than 3, or strides that keep fewer than 1 in 4 positions"),
        Rule("W503", "padding-only-window", Severity.WARNING,
             "padding so large that a window at the edge sees only zeros (P >= F)"),
        Rule("W504", "unused-output", Severity.WARNING,
             "a layer whose output no later layer reads and that is not the network's output"),
        Rule("S601", "unused-suppression", Severity.WARNING,
             "a `# cnncalc: ignore[CODE]` that suppressed nothing, or names no known code"),
        Rule("S602", "blanket-suppression", Severity.WARNING,
             "a `# cnncalc: ignore` without codes; it suppresses nothing"),
        Rule("W701", "totals-changed", Severity.WARNING,
             "params, MACs or peak activations differ from the --baseline file"),
    )
}


@record
class Diagnostic:
    span: Span
    code: str
    message: str
    hint: str = ""

    @property
    def rule(self) -> Rule:
        return RULES[self.code]

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.span.path, self.span.line, self.span.col, self.code)

    def to_dict(self) -> dict[str, Any]:
        """The one dictionary every machine format is built from; keys are stable."""
        return {
            "path": self.span.path,
            "line": self.span.line,
            "col": self.span.col,
            "end_col": self.span.end_col,
            "code": self.code,
            "name": self.rule.name,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
        }


def has_errors(diags: tuple[Diagnostic, ...] | list[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diags)


_QUOTED = re.compile(r"`[^`]*`")


class OncePerLine:
    """Collects diagnostics, keeping the first of those on one line that say the same thing
    (the same code, and the same message but for what it quotes in backticks) and counting
    the others: a front end that finds one problem per token (a run of stray ``)``, list
    items that are not layers, ``weights:`` without a figure) would otherwise report a long
    line once per token, each time with the line. Memory is that of the kept ones."""

    def __init__(self) -> None:
        self.kept: list[Diagnostic] = []
        self.counts: list[int] = []
        self.where: dict[tuple[str, int, str, str], int] = {}

    def add(self, d: Diagnostic) -> None:
        key = (d.span.path, d.span.line, d.code, _QUOTED.sub("``", d.message))
        at = self.where.get(key)
        if at is None:
            self.where[key] = len(self.kept)
            self.kept.append(d)
            self.counts.append(1)
        else:
            self.counts[at] += 1

    def result(self) -> list[Diagnostic]:
        """The kept ones, each saying how many more like it there are on its line."""
        return [d if n == 1 else replace(d, message=f"{d.message} (and {n - 1:,} more like it "
                                                    "on this line)")
                for d, n in zip(self.kept, self.counts, strict=True)]


def once_per_line(diags: tuple[Diagnostic, ...]) -> tuple[Diagnostic, ...]:
    """``diags`` through :class:`OncePerLine`; nearly always nothing repeats, and ``diags`` is
    returned as it is."""
    collected = OncePerLine()
    for d in diags:
        collected.add(d)
    return diags if len(collected.kept) == len(diags) else tuple(collected.result())
