"""Budgets: a network's totals against the limits set for its file.

A budget is judged only on complete totals. A spec with errors has none (its errors are
reported), and B404 then says which budgets, and whether the baseline comparison, were not
judged, so that a gate never passes a budget silently. The finding is on the INPUT line, or
line 1 when there is none, so a ``# cnncalc: ignore[B401]`` there suppresses it. Each rule is a
small unit with a docstring and examples, like the advice rules in ``lint``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cnncalc.analyze import Analysis, Totals
from cnncalc.check.settings import FileSettings, Limit
from cnncalc.check.units import count_text, decimal_text, percent_text
from cnncalc.diagnostics import Diagnostic
from cnncalc.render.memory import Memory, human_bytes
from cnncalc.spec import Span, Spec

if TYPE_CHECKING:
    from cnncalc.check.baseline import Figures

Figure = Callable[[Totals, Memory], int]


def head_span(spec: Spec) -> Span:
    """Where a finding about the whole network goes: the INPUT line, else line 1."""
    if spec.input_span is not None:
        return spec.input_span
    width = len(spec.lines[0].rstrip()) if spec.lines else 0
    return Span(spec.path, 1, 1, max(2, width + 1))


def _over(figure: int, limit: int) -> str:
    """``by 7,206 (+18.0%)``, or ``by ... (12x the limit)`` from 11 times the limit on; both
    rounded half up on the exact ratio."""
    excess = figure - limit
    if not limit:
        return f"by {count_text(excess)}"
    ratio = percent_text(excess, limit, 1) if excess < 10 * limit else \
        f"{decimal_text(figure, limit, 0)}x the limit"
    return f"by {count_text(excess)} ({ratio})"


def _finding(analysis: Analysis, code: str, key: str, what: str, limit: Limit,
             figure: int) -> Diagnostic:
    return Diagnostic(
        head_span(analysis.spec), code,
        f"{what}: over {key} {limit.text} ({count_text(limit.value)}) "
        f"{_over(figure, limit.value)}",
        f"shrink the network, or raise {key} (set in {limit.origin})")


def max_params(analysis: Analysis, totals: Totals, limit: Limit, memory: Memory
               ) -> Diagnostic | None:
    """Total params (weights + biases + batch-norm gamma and beta) above ``max-params``.

    A model that must fit a device or a download has a parameter budget; this keeps a change
    from growing the network past it unnoticed. ``--max-params 65M`` or ``max-params = "65M"``
    (K, M, G, T are 1000-based).

    Passing, with ``max-params = "50K"``::

        [32x32x1] INPUT
        CONV1: 6 5x5 filters
        FC2: 10 neurons

    Failing, with ``max-params = "40K"``::

        [32x32x1] INPUT
        CONV1: 6 5x5 filters
        FC2: 10 neurons
    """
    if totals.params <= limit.value:
        return None
    return _finding(analysis, "B401", "max-params",
                    f"{count_text(totals.params)} params", limit, totals.params)


def max_macs(analysis: Analysis, totals: Totals, limit: Limit, memory: Memory
             ) -> Diagnostic | None:
    """Total multiply-accumulates (MACs; FLOPs = 2 x MACs) above ``max-macs``.

    Inference cost is a budget as real as size. ``--max-macs 2G`` or ``max-macs = "2G"``;
    MACs count conv and FC multiplies only, as cnncalc always counts them.

    Passing, with ``max-macs = "500K"``::

        [32x32x3] INPUT
        CONV1: 16 3x3 filters at stride 1, pad 1

    Failing, with ``max-macs = "400K"``::

        [32x32x3] INPUT
        CONV1: 16 3x3 filters at stride 1, pad 1
    """
    if totals.macs <= limit.value:
        return None
    return _finding(analysis, "B402", "max-macs", f"{count_text(totals.macs)} MACs", limit,
                    totals.macs)


def max_activations(analysis: Analysis, totals: Totals, limit: Limit, memory: Memory
                    ) -> Diagnostic | None:
    """Activation memory (every layer's output elements x dtype size x batch) above
    ``max-activations``.

    What a forward pass holds for the backward pass (training): the sum of every layer's
    output, as ``show`` totals it; the network input is not counted. Bytes at ``--batch``
    (default 1) and ``--dtype`` (default float32, 4 bytes); the limit takes KB/MB/GB
    (1000-based) or KiB/MiB/GiB (1024-based): ``--max-activations 100MB``. For the memory an
    inference pass needs, which frees each output once its readers have run, set
    ``max-peak-activations`` (B405).

    Passing, with ``max-activations = "64KiB"``::

        [32x32x3] INPUT
        CONV1: 16 3x3 filters at stride 1, pad 1

    Failing, with ``max-activations = "64KB"``::

        [32x32x3] INPUT
        CONV1: 16 3x3 filters at stride 1, pad 1
    """
    size = memory.activations(totals.activations)
    if size <= limit.value:
        return None
    what = (f"activation memory {count_text(size)} B ({human_bytes(size)}: "
            f"{count_text(totals.activations)} elements x {memory.size} B {memory.dtype} x "
            f"batch {memory.batch})")
    return _finding(analysis, "B403", "max-activations", what, limit, size)


def max_peak_activations(analysis: Analysis, totals: Totals, limit: Limit, memory: Memory
                         ) -> Diagnostic | None:
    """Peak activation memory at inference (the outputs alive at once x dtype size x batch)
    above ``max-peak-activations``.

    What an inference pass needs for its activations when the layers run in order and each
    output is freed once the last layer that reads it has run: the most elements alive at any
    one step, the network input included and the output kept. A chain holds about two outputs
    at a time; a residual's shortcut, an Inception branch or a U-Net skip connection keeps its
    tensor alive across the layers in between. Weights are not counted. Bytes at ``--batch``
    and ``--dtype``, with the units of ``max-activations``: ``--max-peak-activations 50MB``.
    ``max-activations`` (B403) keeps judging the sum of every output (training memory); set
    either or both.

    In the examples every volume is 8x8x16, 1,024 elements. The ADD reads the input, so the
    input stays alive until the ADD has run, and every step from CONV2 on holds three volumes
    (while CONV2 runs: the input, CONV1 and CONV2): 3,072 elements, 12,288 B in float32. The
    sum of the outputs, which ``max-activations`` judges, is 4,096 elements, 16,384 B.

    Passing, with ``max-peak-activations = "12KiB"``::

        [8x8x16] INPUT
        CONV1: 16 3x3 filters at stride 1, pad 1
        CONV2: 16 3x3 filters at stride 1, pad 1
        CONV3: 16 3x3 filters at stride 1, pad 1
        ADD from CONV3, INPUT

    Failing, with ``max-peak-activations = "12KB"``::

        [8x8x16] INPUT
        CONV1: 16 3x3 filters at stride 1, pad 1
        CONV2: 16 3x3 filters at stride 1, pad 1
        CONV3: 16 3x3 filters at stride 1, pad 1
        ADD from CONV3, INPUT
    """
    size = memory.activations(totals.peak_activations)
    if size <= limit.value:
        return None
    what = (f"peak activation memory {count_text(size)} B ({human_bytes(size)}: "
            f"{count_text(totals.peak_activations)} elements alive at once x {memory.size} B "
            f"{memory.dtype} x batch {memory.batch})")
    return _finding(analysis, "B405", "max-peak-activations", what, limit, size)


@dataclass(frozen=True)
class BudgetRule:
    code: str
    key: str
    check: Callable[[Analysis, Totals, Limit, Memory], Diagnostic | None]
    figure: str  # the total it judges or derives from, as Totals.assumed names it

    @property
    def doc(self) -> str:
        return self.check.__doc__ or ""


BUDGET_RULES = (
    BudgetRule("B401", "max-params", max_params, "params"),
    BudgetRule("B402", "max-macs", max_macs, "macs"),
    BudgetRule("B403", "max-activations", max_activations, "activations"),
    # the peak derives from the same output volumes, and from the wiring itself
    BudgetRule("B405", "max-peak-activations", max_peak_activations, "activations"),
)


def _limits(fs: FileSettings) -> tuple[Limit | None, ...]:
    return fs.max_params, fs.max_macs, fs.max_activations, fs.max_peak_activations


def not_judged(analysis: Analysis, fs: FileSettings, baseline: Figures | None,
               is_selected: Callable[[str], bool]) -> Diagnostic | None:
    """Budgets (or the baseline comparison, W701) that were not judged: the spec has errors,
    so its totals are withheld; or the totals they judge (MACs, activations, peak activations)
    rest on a wiring cnncalc assumed (P014), while params, exact either way, are judged.

    A budget judged on the totals of a network that does not compute would pass or fail on
    numbers that mean nothing; the budget is skipped instead, and this says so, so that the
    CI log shows the budget was not checked. Information: the errors themselves fail the
    check. Listed: each budget set for the file whose code is selected, and the baseline when
    it has figures for the file.

    Passing, with ``max-params = "50K"``::

        [32x32x1] INPUT
        CONV1: 6 5x5 filters at stride 1
        FC2: 10 neurons

    Failing, with ``max-params = "40K"``::

        [32x32x1] INPUT
        CONV1: 6 5x5 filters at stride 2
        FC2: 10 neurons
    """
    totals = analysis.totals
    assumed = () if totals is None else totals.assumed
    if totals is not None and not assumed:
        return None
    what = [f"{rule.key} {limit.text}"
            for rule, limit in zip(BUDGET_RULES, _limits(fs), strict=True)
            if limit is not None and is_selected(rule.code)
            and (totals is None or rule.figure in assumed)]
    if baseline is not None and is_selected("W701") and (totals is None or "macs" in assumed):
        figures = ["params"] if totals is None else []
        figures += ["MACs"] + (["peak activations"] if baseline.peak_activations is not None
                               else [])
        listed = figures[0] if len(figures) == 1 else \
            f"{', '.join(figures[:-1])} and {figures[-1]}"
        what.append(f"the baseline's {listed} (W701)")
    if not what:
        return None
    if totals is None:
        return Diagnostic(
            head_span(analysis.spec), "B404",
            f"not judged: {', '.join(what)}; the spec has errors, so its totals are withheld",
            "fix the errors reported for this file; budgets are judged on complete totals only")
    return Diagnostic(
        head_span(analysis.spec), "B404",
        f"not judged: {', '.join(what)}; those totals rest on an assumed wiring (P014), and a "
        "budget passed or failed on them would mean nothing",
        "describe the wiring (a notation cnncalc reads in full) to have them judged; params "
        "are exact and are judged")


def check_budgets(analysis: Analysis, fs: FileSettings, memory: Memory) -> list[Diagnostic]:
    totals = analysis.totals
    if totals is None:
        return []
    out = []
    for rule, limit in zip(BUDGET_RULES, _limits(fs), strict=True):
        if limit is not None and rule.figure not in totals.assumed:
            found = rule.check(analysis, totals, limit, memory)
            if found is not None:
                out.append(found)
    return out
