"""What ``cnncalc run`` prints: the per-layer table (rich), the JSON record, and the messages
for standard error. No numpy: everything here is already Python ints, floats and strings.
Names are escaped in the table (``cnncalc.escape``); the messages are escaped where they are
printed, and the JSON keeps names exact but for ``##[``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cnncalc.analyze import Analysis, LayerResult
from cnncalc.escape import escape, json_safe
from cnncalc.execute.estimate import Estimate
from cnncalc.execute.threads import ThreadUse
from cnncalc.render.common import describe, shape_list, volume
from cnncalc.render.memory import human_bytes
from cnncalc.render.numbers import abbreviate
from cnncalc.spec import elements, fmt_shape

CONVENTIONS = (
    "measured per example: output = the produced array's shape; params = sizes of the weight, "
    "bias, gamma and beta arrays; MACs = multiply-accumulates from the dimensions of the "
    "matrix products performed; time = wall clock of the layer's forward pass for the batch "
    "(with --repeat, in the timed pass whose total is the median; a batch norm or ReLU right "
    "after a convolution runs on each chunk of its output, timed there); "
    "GFLOP/s counts FLOPs = 2 x MACs"
)
GRAPH_CONVENTIONS = (
    "; from = the layers (#) a layer reads when not the one above (0: the input); peak of "
    "live activations = the most elements the executor held at once (input included, each "
    "tensor dropped after its last reader, the output kept)"
)


class PipeConsole(Console):
    """A rich console that leaves a closed pipe to the command (``cli.pipe_may_close``):
    rich's own handling exits 1, the status of a spec with errors."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


@dataclass(frozen=True)
class RunRow:
    """One layer that ran: the analysis's record and what the executor measured;
    ``finite``: its output held no inf or nan."""

    result: LayerResult
    output_shape: tuple[int, ...]
    params: int
    buffers: int
    macs: int
    seconds: float
    mismatches: tuple[str, ...]
    finite: bool = True
    live: int = 0  # elements per example held once its output was made

    @property
    def match(self) -> bool:
        return not self.mismatches


def compare(r: LayerResult, output_shape: tuple[int, ...], params: int, buffers: int,
            macs: int) -> tuple[str, ...]:
    """What differs between the analysis and the measurement, each as a phrase that names
    both figures."""
    problems: list[str] = []
    if r.output_shape != output_shape:
        shown = "nothing" if r.output_shape is None else fmt_shape(r.output_shape)
        problems.append(f"output volume: the executor produced {fmt_shape(output_shape)}, "
                        f"the analysis computed {shown}")
    for what, expected, got in (("params", r.params, params), ("buffers", r.buffers, buffers),
                                ("MACs", r.macs, macs)):
        if (expected or 0) != got or expected is None:
            shown = "nothing" if expected is None else f"{expected:,}"
            problems.append(f"{what}: the executor measured {got:,}, the analysis computed "
                            f"{shown}")
    return tuple(problems)


def make_row(r: LayerResult, output_shape: tuple[int, ...], params: int, buffers: int,
             macs: int, seconds: float, whole: bool = True, finite: bool = True,
             live: int = 0) -> RunRow:
    """``whole`` False: the products performed were not a whole number per example."""
    problems = compare(r, output_shape, params, buffers, macs)
    if not whole:
        problems += ("MACs: the products performed are not a whole number per example",)
    return RunRow(r, output_shape, params, buffers, macs, seconds, problems, finite, live)


@dataclass(frozen=True)
class RunReport:
    analysis: Analysis
    rows: tuple[RunRow, ...]
    estimate: Estimate
    limit: int
    batch: int
    dtype: str
    mode: str
    seed: int
    stop: LayerResult | None = None
    failure: tuple[LayerResult, str] | None = None
    peak: int | None = None  # measured: elements per example held at once (None: not run)
    setup_seconds: float | None = None  # building weights, buffers and input (None: not run)
    repeat: int | None = None  # --repeat: timed passes after a warm-up (None: one, no warm-up)
    pass_seconds: tuple[float, ...] = ()  # each timed pass's total, in the order run
    measured_peak: int | None = None  # the process's peak resident bytes (None: not run/read)
    threads: ThreadUse | None = None  # the threads the run used (None: not known)

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.rows)

    @property
    def expected_peak(self) -> int | None:
        """The analysis's inference-memory estimate, when the whole network ran and the
        analysis has totals: the figure the measured peak is confirmed against."""
        t = self.analysis.totals
        if t is None or self.peak is None or self.stop is not None or self.failure is not None \
                or len(self.rows) != len(self.analysis.layers):
            return None
        return t.peak_activations

    @property
    def peak_matches(self) -> bool:
        return self.expected_peak is None or self.peak == self.expected_peak

    @property
    def ok(self) -> bool:
        return (self.analysis.ok and self.stop is None and self.failure is None
                and all(r.match for r in self.rows) and self.peak_matches)


def median_pass(passes: Sequence[Sequence[float]]) -> tuple[float, ...]:
    """Per layer, the seconds of the pass whose total is the median (for an even number of
    passes, the mean of the two middle ones): the rows then add up to the median total."""
    if not passes:
        return ()
    order = sorted(range(len(passes)), key=lambda p: sum(passes[p]))
    mid = len(order) // 2
    picked = [order[mid]] if len(order) % 2 else [order[mid - 1], order[mid]]
    return tuple(sum(passes[p][i] for p in picked) / len(picked)
                 for i in range(len(passes[0])))


def _where(r: LayerResult) -> str:
    return f"{r.layer.span.path}:{r.layer.span.line}"


def messages(report: RunReport) -> list[str]:
    """Lines for standard error: each disagreement naming the layer and both figures, where
    values stopped being finite (a note: nothing measured depends on them), and why the run
    stopped early."""
    out: list[str] = []
    for row in report.rows:
        for problem in row.mismatches:
            out.append(f"{_where(row.result)}: {row.result.layer.name}: mismatch: {problem}")
    if not report.peak_matches:
        out.append(f"{report.analysis.spec.path}: mismatch: peak of live activations: the "
                   f"executor held {report.peak:,} elements per example at once, the analysis "
                   f"estimated {report.expected_peak:,}")
    overflowed = next((row.result for row in report.rows if not row.finite), None)
    if overflowed is not None:
        out.append(f"{_where(overflowed)}: {overflowed.layer.name}: note: from this layer on, "
                   f"the random {report.dtype} values overflowed to inf or nan; output volumes, "
                   "params and MACs are measured from the arrays' shapes and the products "
                   "performed, so they are not affected")
    if report.failure is not None:
        r, reason = report.failure
        out.append(f"{_where(r)}: {r.layer.name}: the executor cannot build this layer, which "
                   f"the analysis computed: {reason}")
    if report.analysis.input is None:
        out.append(f"{report.analysis.spec.path}: nothing to run: the spec has no input volume")
    elif report.stop is not None:
        r = report.stop
        why = "an error" if r.status == "error" else "not computed after an earlier error"
        ran = len(report.rows)
        out.append(f"{_where(r)}: run stopped before {r.layer.name}: the analysis marks it "
                   f"{why}, so it has no figures to check ({ran} layer"
                   f"{'' if ran == 1 else 's'} before it ran)")
    return out


def assumed(report: RunReport) -> list[str]:
    """The containers whose unknown forward() the layers that ran were ordered by."""
    return list(dict.fromkeys(r.result.assumed for r in report.rows if r.result.assumed))


def _gflops(macs: int, seconds: float) -> str:
    return f"{2 * macs / seconds / 1e9:.1f}" if seconds > 0 and macs else "-"


def summary(report: RunReport) -> str:
    n = len(report.rows)
    bad = sum(not r.match for r in report.rows)
    if bad:
        head = f"{bad} of {n} layers disagree with the analysis (details on stderr)."
    elif n:
        which = "The one layer run matches" if n == 1 else f"All {n} layers run match"
        head = f"{which} the analysis (output volumes, params, buffers, MACs)."
    else:
        head = "No layer ran."
    if report.stop is not None or report.failure is not None:
        head += " The run stopped early (see stderr)."
    if assumed(report):
        whose = ", ".join(f"`{escape(n)}`" for n in assumed(report))
        head += (f" It ran the order cnncalc assumed for {whose} (P014): this confirms the "
                 "arithmetic, not that wiring.")
    macs = sum(r.macs for r in report.rows) * report.batch
    seconds = report.seconds
    setup = ("" if report.setup_seconds is None else
             f" Set-up {report.setup_seconds:.3f} s (weights, buffers and the input batch).")
    which = "Forward pass" if report.repeat is None else (
        f"Forward pass (median of {report.repeat} after a warm-up)")
    on = "" if report.threads is None else f" on {report.threads.describe()}"
    return (f"{head}{setup} {which} {seconds:.3f} s at batch {report.batch} ({report.dtype}, "
            f"{report.mode} mode, seed {report.seed}){on}: {_gflops(macs, seconds)} GFLOP/s. "
            f"{activation_memory(report)}{process_memory(report)}")


def process_memory(report: RunReport) -> str:
    """``Estimated peak memory 42.2 MiB (the interpreter and libraries 39.9 MiB + this network
    2.3 MiB, within its limit of 11.5 GiB); measured peak 41.9 MiB.``"""
    est = report.estimate
    parts = f"limit {human_bytes(report.limit)}"
    if est.baseline_bytes:
        parts = (f"the interpreter and libraries {human_bytes(est.baseline_bytes)} + this "
                 f"network {human_bytes(est.network_bytes)}, within its limit of "
                 f"{human_bytes(report.limit)}")
    text = f"Estimated peak memory {human_bytes(est.total_bytes)} ({parts})"
    if report.measured_peak is not None:
        text += f"; measured peak {human_bytes(report.measured_peak)}"
    return text + "."


def activation_memory(report: RunReport) -> str:
    """The measured peak of live activations beside the analysis's estimate and the plain
    sum of every output, each named; empty when nothing ran."""
    if report.peak is None:
        return ""
    total = sum(elements(r.output_shape) for r in report.rows)
    expected = report.expected_peak
    measured = (f"Activations per example: the peak of live tensors the executor measured, "
                f"{report.peak:,} elements,")
    if expected is None:
        compared = f"{measured} is not compared (the run did not cover the whole network)"
    elif report.peak == expected:
        compared = f"{measured} equals the analysis's inference-memory estimate"
    else:
        compared = (f"{measured} DIFFERS from the analysis's inference-memory estimate, "
                    f"{expected:,}")
    return f"{compared}; the sum of all outputs would be {total:,}. "


def _cell(measured: str, expected: str | None, ok: bool) -> Text:
    if ok:
        return Text(measured)
    return Text(f"{measured}≠{expected or '-'}", style="bold red")


def reads_other(r: LayerResult) -> tuple[int, ...]:
    """The layers ``r`` reads, by index, when that is not just the one above it."""
    return () if r.inputs in ((), (r.index - 1,)) else r.inputs


def is_graph(report: RunReport) -> bool:
    return any(reads_other(r) for r in report.analysis.layers)


def build_table(report: RunReport) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1),
                  collapse_padding=True)
    graph = is_graph(report)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("name", max_width=12)
    table.add_column("layer", max_width=14)
    if graph:
        table.add_column("from", no_wrap=False)
    table.add_column("output", no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True)
    table.add_column("MACs", justify="right", no_wrap=True)
    table.add_column("ms", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for row in report.rows:
        r = row.result
        expected_shape = volume(r.output_shape)
        table.add_row(
            str(r.index), Text(escape(r.layer.name)), Text(describe(r)),
            *([",".join(map(str, reads_other(r)))] if graph else []),
            _cell(fmt_shape(row.output_shape), expected_shape,
                  r.output_shape == row.output_shape),
            _cell(abbreviate(row.params), None if r.params is None else abbreviate(r.params),
                  r.params == row.params and (r.buffers or 0) == row.buffers),
            _cell(abbreviate(row.macs), None if r.macs is None else abbreviate(r.macs),
                  r.macs == row.macs),
            f"{row.seconds * 1e3:.1f}",
            Text("✓", style="green") if row.match else Text("✗", style="bold red"))
    for r in ((report.stop,) if report.stop is not None else ()) + (
            (report.failure[0],) if report.failure is not None else ()):
        table.add_row(str(r.index), Text(escape(r.layer.name)), Text(describe(r)),
                      *([",".join(map(str, reads_other(r)))] if graph else []),
                      Text("not run", style="red"), "", "", "", Text("✗", style="bold red"))
    table.add_section()
    macs = sum(r.macs for r in report.rows)
    table.add_row("", Text("total", style="bold"), "", *([""] if graph else []), "",
                  abbreviate(sum(r.params for r in report.rows)), abbreviate(macs),
                  f"{report.seconds * 1e3:.1f}", "", style="bold")
    return table


def print_table(report: RunReport, file: IO[str] | None = None, width: int | None = None
                ) -> None:
    console = PipeConsole(file=file, width=width, highlight=False, soft_wrap=False)
    console.print(build_table(report))
    console.print(Text(summary(report)))
    console.print(Text(CONVENTIONS + (GRAPH_CONVENTIONS if is_graph(report) else ""),
                       style="dim"))


def _layer_ref(r: LayerResult) -> dict[str, Any]:
    return {"index": r.index, "name": r.layer.name, "line": r.layer.span.line,
            "status": r.status}


def to_record(report: RunReport) -> dict[str, Any]:
    """The JSON record; keys are stable (see the README)."""
    layers = []
    for row in report.rows:
        r = row.result
        layers.append({
            "index": r.index, "name": r.layer.name, "kind": r.layer.kind,
            "line": r.layer.span.line, "layer": describe(r),
            "output_shape": list(row.output_shape),
            "expected_output_shape": shape_list(r.output_shape),
            "params": row.params, "expected_params": r.params,
            "buffers": row.buffers, "expected_buffers": r.buffers,
            "macs": row.macs, "expected_macs": r.macs,
            "seconds": row.seconds, "match": row.match, "mismatches": list(row.mismatches),
            "assumed": r.assumed, "inputs": list(r.inputs), "live_activations": row.live,
        })
    est = report.estimate
    failure = None
    if report.failure is not None:
        failure = {**_layer_ref(report.failure[0]), "reason": report.failure[1]}
    return {
        "path": report.analysis.spec.path,
        "input": shape_list(report.analysis.input),
        "batch": report.batch, "dtype": report.dtype, "mode": report.mode, "seed": report.seed,
        "repeat": report.repeat,
        "layers": layers,
        "totals": {
            "seconds": report.seconds,
            "setup_seconds": report.setup_seconds,
            "pass_seconds": list(report.pass_seconds),
            "params": sum(r.params for r in report.rows),
            "buffers": sum(r.buffers for r in report.rows),
            "macs": sum(r.macs for r in report.rows),
            "peak_bytes": est.peak_bytes,
            "param_bytes": est.param_bytes,
            "setup_bytes": est.setup_bytes,
            "baseline_bytes": est.baseline_bytes,
            "estimated_peak_bytes": est.total_bytes,
            "measured_peak_bytes": report.measured_peak,
            "threads": None if report.threads is None else {
                "blas": report.threads.blas, "blas_library": report.threads.library,
                "cnncalc": report.threads.own, "from": report.threads.source},
            "max_memory_bytes": report.limit,
            "peak_activations": report.peak,
            "expected_peak_activations": report.expected_peak,
            "activations": sum(elements(r.output_shape) for r in report.rows),
        },
        "stopped_before": None if report.stop is None else _layer_ref(report.stop),
        "failed": failure,
        "assumed": assumed(report),
        "ok": report.ok,
        "conventions": CONVENTIONS + (GRAPH_CONVENTIONS if is_graph(report) else ""),
    }


def to_json(report: RunReport) -> str:
    return json_safe(json.dumps(to_record(report), indent=2) + "\n")
