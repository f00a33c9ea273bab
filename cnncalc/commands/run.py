"""``cnncalc run SPEC``: build the network in NumPy with seeded random weights, push a batch
through it, and check every layer's output volume, params and MACs against the analysis.

numpy (and the report's rich) are imported here lazily, inside the command, so that the other
commands never load them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import click

from cnncalc.analyze import Analysis
from cnncalc.cli import pipe_may_close
from cnncalc.escape import escape
from cnncalc.execute.estimate import (
    default_limit,
    parse_size,
    peak_resident_bytes,
    resident_bytes,
)
from cnncalc.option_style import format_option, option
from cnncalc.options import MAX_BATCH, load, one_spec
from cnncalc.render.memory import exact_bytes, human_bytes
from cnncalc.spec import Rounding, Shape

if TYPE_CHECKING:
    from cnncalc.execute.report import RunReport

DTYPE_SIZES = {"float32": 4, "float64": 8}
PROGRESS_MACS = 500_000_000
"""Show a progress bar when the batch needs at least this many MACs (about a second's work)
or the network has at least ten million parameters to draw."""
PROGRESS_PARAMS = 10_000_000
MAX_REPEAT = 1000


class SizeType(click.ParamType):  # type: ignore[type-arg]
    name = "SIZE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> Any:
        if isinstance(value, int):
            return value
        try:
            return parse_size(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _long(analysis: Analysis, batch: int) -> bool:
    macs = sum(r.macs or 0 for r in analysis.layers) * batch
    params = sum(r.params or 0 for r in analysis.layers)
    return macs >= PROGRESS_MACS or params >= PROGRESS_PARAMS


@click.command()
@one_spec
@option("--seed", type=click.IntRange(0, 2**64 - 1), default=0,
        help="Seed of the random weights, input and dropout masks.")
@option("--dtype", type=click.Choice(list(DTYPE_SIZES)), default="float32",
        help="Element type of every array.")
@option("--batch", type=click.IntRange(1, MAX_BATCH), default=1,
        help="Examples pushed through at once.")
@option("--mode", type=click.Choice(["test", "train"]), default="test",
        help="train: dropout drops units with probability p and scales the kept ones "
        "by 1/(1-p); test: dropout passes everything through.")
@format_option(("table", "json"), "table", help="table for people; json with stable keys.")
@option("--repeat", type=click.IntRange(1, MAX_REPEAT), default=None,
        show_default="one pass, no warm-up",
        help="Run one warm-up forward pass, then N timed ones, and report their median "
        "(as framework benchmarks do).")
@option("--quiet", "-q", is_flag=True,
        help="No progress bar and no table; problems still go to standard error.")
@option("--max-memory", type=SizeType(), default=None, show_default="half the available memory",
        help="Refuse to run when the network's estimated peak exceeds this, e.g. 8G or 500M "
        "(binary units); the interpreter and libraries, already resident, come on top.")
@option("--width", type=click.IntRange(40, 400), default=None, show_default="the terminal's",
        help="Table width in columns.")
def run(spec: str, input_volume: Shape | None, defines: tuple[str, ...], notation: str | None,
        rounding: Rounding | None, model: str | None, seed: int, dtype: str, batch: int,
        mode: str, fmt: str, repeat: int | None,
        quiet: bool, max_memory: int | None, width: int | None, max_layers: int | None,
        max_file_size: int | None, block: int | None = None) -> None:
    """Run SPEC in NumPy and check the analysis against what it measures (- reads stdin).

    \b
    Every layer is built with seeded random weights and a random batch is
    pushed through. Per layer, the output volume is read from the produced
    array, params from the sizes of the weight and bias arrays, MACs from
    the dimensions of the matrix products performed.

    Exit status: 0 every layer matches the analysis, 1 a mismatch, a spec error or a layer
    not run, 2 usage problems (including an estimated peak above --max-memory).
    """
    analysis = load(spec, input_volume, defines, notation, rounding, model, max_layers,
                    max_file_size, block)
    limit = max_memory if max_memory is not None else default_limit()

    from cnncalc.execute.memory import memory_estimate
    from cnncalc.execute.network import plan

    planned = plan(analysis)
    shown = escape(analysis.spec.path)
    est = memory_estimate(planned.modules, analysis.input or (), batch, DTYPE_SIZES[dtype],
                          output=planned.output)
    est = replace(est, baseline_bytes=_baseline())
    if est.network_bytes > limit:  # what the run would add to the process, as MemAvailable is
        click.echo(
            f"cnncalc run: refusing to run {shown}: the network's estimated peak memory is "
            f"{human_bytes(est.network_bytes)} ({exact_bytes(est.network_bytes)}) at batch "
            f"{batch} in {dtype}, above the limit of {human_bytes(limit)} ({exact_bytes(limit)})\n"
            f"  estimate: {est.describe()}\n"
            "  hint: use a smaller --batch or --input, or raise --max-memory", err=True)
        sys.exit(2)
    if est.peak_bytes > sys.maxsize:  # above any --max-memory a 64-bit process could honour
        click.echo(
            f"cnncalc run: refusing to run {shown}: the estimated peak memory is "
            f"{human_bytes(est.peak_bytes)} ({exact_bytes(est.peak_bytes)}) at batch {batch} in "
            f"{dtype}, "
            f"more than a process can address ({sys.maxsize:,} bytes)\n"
            f"  estimate: {est.describe()}\n"
            "  hint: use a smaller --batch or --input", err=True)
        sys.exit(2)

    import numpy as np

    from cnncalc.execute.modules import Context, Mode
    from cnncalc.execute.network import Network, random_input
    from cnncalc.execute.report import RunReport, make_row, median_pass
    from cnncalc.execute.threads import thread_use
    from cnncalc.progress import progress, wanted

    show_bar = not quiet and _long(analysis, batch) and wanted()
    rows = []
    peak = None
    measured_peak: int | None = None  # the process's peak resident bytes, once a batch ran
    setup: float | None = None
    passes: list[list[float]] = []
    if planned.modules:
        assert analysis.input is not None
        run_mode: Mode = "train" if mode == "train" else "test"
        ctx = Context(mode=run_mode, rng=np.random.default_rng([seed, 2]))
        total = len(planned.modules)
        runs = 1 if repeat is None else repeat + 1  # the first of them a warm-up
        try:
            with progress(show_bar, {"build": ("building", total),
                                     "run": ("running", total * runs)}, "layers") as step:
                start = time.perf_counter()
                net = Network(planned.modules, dtype, seed,
                              built=lambda i: step("build", i + 1), output=planned.output)
                x = random_input(analysis.input, batch, dtype, seed)
                setup = time.perf_counter() - start
                for n in range(runs):
                    measured = net.forward(x, ctx, each=_advance(step, n * total))
                    if n or repeat is None:
                        passes.append([m.seconds for m in measured])
        except MemoryError:
            click.echo(f"cnncalc run: out of memory running {shown} although the "
                       f"estimated peak, {human_bytes(est.network_bytes)}, is within the limit of "
                       f"{human_bytes(limit)}\n  hint: use a smaller --batch or --max-memory",
                       err=True)
            sys.exit(2)
        seconds = median_pass(passes)
        rows = [make_row(r, m.output_shape, m.params, m.buffers, m.macs, t,
                         m.macs_whole, m.finite, m.live)
                for r, m, t in zip(planned.results, measured, seconds, strict=True)]
        peak = net.peak
        measured_peak = peak_resident_bytes()
    report = RunReport(analysis, tuple(rows), est, limit, batch, dtype, mode, seed,
                       planned.stop, planned.failure, peak, setup, repeat,
                       tuple(sum(p) for p in passes), measured_peak, thread_use())
    with pipe_may_close():
        _print(report, fmt, quiet, width)
    with pipe_may_close():
        _problems(report)
    sys.exit(0 if report.ok else 1)


def _baseline() -> int:
    """The process's resident bytes before the network, with every library the run will use
    already loaded (NumPy's random module alone is about 7 MiB); 0 when it cannot be read."""
    import numpy.random  # noqa: F401

    import cnncalc.execute.modules
    import cnncalc.execute.report
    import cnncalc.execute.threads
    import cnncalc.progress  # noqa: F401

    return resident_bytes() or 0


def _advance(step: Callable[[str, int], None], done: int) -> Callable[[int, Any], None]:
    """The progress callback of one forward pass, after ``done`` layers of earlier passes."""
    return lambda i, m: step("run", done + i + 1)


def _print(report: RunReport, fmt: str, quiet: bool, width: int | None) -> None:
    from cnncalc.execute.report import print_table, to_json

    if fmt == "json":
        click.echo(to_json(report), nl=False)
    elif not quiet:
        print_table(report, width=width)


def _problems(report: RunReport) -> None:
    """Standard error: the spec's diagnostics, then what the run found or why it stopped."""
    from cnncalc.execute.report import messages

    sys.stdout.flush()
    from cnncalc.check.suppress import unsilenced

    diags = unsilenced(report.analysis)  # as show prints them: silenced warnings left out
    if diags:
        from cnncalc.render.report import format_all

        click.echo(format_all(diags, report.analysis.spec.lines, sys.stderr.isatty()), err=True)
    for line in messages(report):
        click.echo(f"cnncalc run: {escape(line)}", err=True)
