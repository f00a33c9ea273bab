"""``cnncalc check [PATHS...]``: the CI gate over architecture spec files (docs/ci.md).

Exit status: 0 clean; 1 findings at or above ``--fail-on`` (parse errors count); 2 usage,
configuration, a path that does not exist or cannot be read, or an internal error.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cnncalc.check.settings import FORMATS, FileSettings, Limit, Settings, bad_selector
from cnncalc.check.units import UnitError, parse_bytes, parse_count, plural
from cnncalc.cli import pipe_may_close
from cnncalc.diagnostics import Severity
from cnncalc.escape import escape, escape_lines
from cnncalc.option_style import format_option, option
from cnncalc.options import MAX_BATCH, limit_options, parse_define, spec_options
from cnncalc.render.memory import DTYPES
from cnncalc.spec import Rounding, Shape

if TYPE_CHECKING:
    from cnncalc.check.runner import Report


PROGRESS_FILES = 50
"""Show a progress bar (on a terminal) when at least this many files are checked."""


class LimitType(click.ParamType):  # type: ignore[type-arg]
    """``65M`` (counts) or ``100MB`` (bytes) as a Limit whose origin is the flag."""

    name = "FIGURE"

    def __init__(self, flag: str, in_bytes: bool = False) -> None:
        self.flag, self.in_bytes = flag, in_bytes

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> Any:
        if isinstance(value, Limit):
            return value
        try:
            n = parse_bytes(value) if self.in_bytes else parse_count(value)
        except UnitError as exc:
            self.fail(str(exc), param, ctx)
        return Limit(n, str(value), self.flag)


def _codes(values: tuple[str, ...], flag: str) -> tuple[str, ...] | None:
    if not values:
        return None
    codes = tuple(c.strip().upper() for v in values for c in v.split(",") if c.strip())
    for code in codes:
        why = bad_selector(code)
        if why:
            raise click.BadParameter(why, param_hint=flag)
    return codes


def _err(message: str) -> None:
    """One line on standard error; the message may quote paths, keys and values, escaped."""
    click.echo(f"cnncalc: error: {escape(message)}", err=True)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True))
@spec_options
@limit_options
@format_option(FORMATS, None, alias=True, show_default="full",
               help="full: source line and caret; concise: one line a finding; json, github "
               "(workflow commands), junit (XML).")
@option("--select", multiple=True, metavar="CODES", show_default="all",
        help="Report only these codes or prefixes (comma-separated).")
@option("--ignore", multiple=True, metavar="CODES",
        help="Do not report these codes or prefixes (comma-separated).")
@option("--fail-on", type=click.Choice([s.value for s in Severity]), default=None,
        show_default="error", help="Lowest severity that fails the check.")
@option("--exit-zero", is_flag=True, help="Exit 0 even with findings (for rollout).")
@option("--max-params", type=LimitType("--max-params"), default=None,
        help="Budget for total params, e.g. 65M (K, M, G, T: 1000-based).")
@option("--max-macs", type=LimitType("--max-macs"), default=None,
        help="Budget for total MACs, e.g. 2G.")
@option("--max-activations", type=LimitType("--max-activations", in_bytes=True),
        default=None, help="Budget for activation memory, the sum of every layer's "
        "output (what training holds), e.g. 100MB or 64MiB.")
@option("--max-peak-activations",
        type=LimitType("--max-peak-activations", in_bytes=True), default=None,
        help="Budget for peak activation memory at inference (the outputs alive at "
        "once), e.g. 50MB.")
@option("--batch", type=click.IntRange(min=1, max=MAX_BATCH), default=None, show_default="1",
        help="Batch size for activation memory.")
@option("--dtype", type=click.Choice(list(DTYPES)), default=None, show_default="float32",
        help="Element type for activation memory.")
@option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
        default=None, show_default="the nearest pyproject.toml with [tool.cnncalc]",
        help="Read settings from this file.")
@option("--isolated", is_flag=True, help="Ignore every configuration file.")
@option("--force-exclude", is_flag=True,
        help="Judge files named on the command line as a directory walk does: exclude "
        "globs apply, and a .txt file is checked only if it reads as a spec.")
@option("--baseline", "baseline_file", type=click.Path(dir_okay=False, path_type=Path),
        default=None, help="Report specs whose params, MACs or peak activations differ from "
        "this file.")
@option("--write-baseline", type=click.Path(dir_okay=False, path_type=Path),
        default=None, help="Record every checked spec's params, MACs and peak activations in "
        "this file.")
@click.pass_context
def check(ctx: click.Context, paths: tuple[str, ...], input_volume: Shape | None,
          defines: tuple[str, ...], notation: str | None, rounding: Rounding | None,
          fmt: str | None, select: tuple[str, ...], ignore: tuple[str, ...],
          fail_on: str | None, exit_zero: bool, max_params: Limit | None,
          max_macs: Limit | None, max_activations: Limit | None,
          max_peak_activations: Limit | None, batch: int | None,
          dtype: str | None, config_file: Path | None, isolated: bool,
          force_exclude: bool, baseline_file: Path | None,
          write_baseline: Path | None, max_layers: int | None, max_file_size: int | None) -> None:
    """Check spec files and directories (default: .) for errors, unwise layers and budgets.

    \b
    Directories are searched recursively for *.cnn, *.spec.txt, and .txt or extension-less
    files that read as specs (configure include/exclude globs in [tool.cnncalc]); a file
    named explicitly is checked whatever its name. Suppress a finding on its line with
    `# cnncalc: ignore[CODE]`. `cnncalc rules` lists the codes. Flags override the
    configuration; a default below is what applies when neither sets it.

    Exit status: 0 clean, 1 findings at or above --fail-on, 2 usage, configuration or
    unreadable files.
    """
    from cnncalc.check.baseline import BaselineError, read_baseline
    from cnncalc.check.config import ConfigError, load_settings
    from cnncalc.check.runner import run_check

    try:
        settings = load_settings(config_file, isolated)
    except ConfigError as exc:
        _err(str(exc))
        sys.exit(2)
    cli = FileSettings(notation, rounding, input_volume,
                       tuple(parse_define(d) for d in defines), max_params, max_macs,
                       max_activations, max_peak_activations)
    settings = _override(settings, cli, _codes(select, "--select"), _codes(ignore, "--ignore"),
                         fail_on, batch, dtype, fmt, force_exclude, baseline_file)
    settings = replace(settings, max_layers=max_layers or settings.max_layers,
                       max_file_size=max_file_size or settings.max_file_size)
    try:
        baseline = None if settings.baseline is None else read_baseline(settings.baseline)
    except BaselineError as exc:
        _err(str(exc))
        sys.exit(2)

    from cnncalc.progress import counter, wanted

    with counter(wanted(), "checking", "files", PROGRESS_FILES) as count:
        report = run_check(paths or (".",), settings, baseline, count)
    with pipe_may_close():
        _log(report, settings, bool(ctx.find_root().params.get("debug")))
        if baseline and settings.baseline is not None:
            _baseline_matched(report, baseline, settings.baseline)
    with pipe_may_close():
        _print(report, settings.output_format or "full")
    if write_baseline is not None:
        _write_baseline(report, write_baseline)
    if report.problems:
        sys.exit(2)
    sys.exit(1 if report.failed and not exit_zero else 0)


def _log(report: Report, settings: Settings, debug: bool) -> None:
    """What standard error says before the findings: paths that could not be checked."""
    for p in report.problems:
        _err(f"{p.path}: {p.message}")
        if p.detail and debug:
            click.echo(escape_lines(p.detail.rstrip()), err=True)
    if any(p.detail for p in report.problems) and not debug:
        click.echo("hint: rerun with --debug to see the traceback, and report it", err=True)
    if not report.files and not report.problems:
        globs = ", ".join(escape(g.pattern) for g in settings.include) or "none"
        content = f", and {plural(len(report.skipped), 'file')} that did not read as specs" \
            if report.skipped else ""
        looked = "; .txt and extension-less files that read as specs" if settings.detect else ""
        click.echo(f"cnncalc: warning: no spec files found (include: {globs}{looked}{content})",
                   err=True)


def _override(settings: Settings, cli: FileSettings, select: tuple[str, ...] | None,
              ignore: tuple[str, ...] | None, fail_on: str | None, batch: int | None,
              dtype: str | None, output_format: str | None, force_exclude: bool,
              baseline: Path | None) -> Settings:
    """Flags override the configuration: each one given replaces its setting."""
    return replace(
        settings, cli=cli,
        select=settings.select if select is None else select,
        ignore=settings.ignore if ignore is None else ignore,
        fail_on=settings.fail_on if fail_on is None else Severity(fail_on),
        batch=batch or settings.batch, dtype=dtype or settings.dtype,
        output_format=output_format or settings.output_format,
        force_exclude=settings.force_exclude or force_exclude,
        baseline=baseline or settings.baseline)


def _print(report: Report, fmt: str) -> None:
    from cnncalc.check import formats

    text: str
    if fmt in ("concise", "full"):
        color = fmt == "full" and sys.stdout.isatty()
        text = formats.concise(report) if fmt == "concise" else formats.full(report, color)
        click.echo(text + formats.summary(report))
        return
    if fmt == "json":
        text = formats.to_json(report)
    elif fmt == "github":
        text = formats.github(report)
    else:
        from cnncalc.check.junit import junit

        text = junit(report)
    click.echo(text, nl=False)
    click.echo(formats.summary(report), err=True)


def _baseline_matched(report: Report, baseline: Mapping[str, object], path: Path) -> None:
    """A warning when the baseline has entries but none for a file checked: its keys are
    paths as ``check`` shows them, so a run from another directory (or on renamed specs)
    would compare nothing and say nothing."""
    if not report.files or any(f.path in baseline for f in report.files):
        return
    example = escape(next(iter(baseline)))
    n = len(report.files)
    which = "the file checked" if n == 1 else f"any of the {n:,} files checked"
    click.echo(f"cnncalc: warning: the baseline {escape(str(path))} has no entry for {which}, "
               "so nothing was compared: its keys are paths as check shows them (such as "
               f"{example}); run from the directory it was written in", err=True)


def _write_baseline(report: Report, path: Path) -> None:
    """Every spec with complete totals; the others are counted in the message, so that a
    spec dropped from the baseline because it broke does not go unnoticed."""
    from cnncalc.check.baseline import BaselineError, Figures, write_baseline

    figures = {f.path: Figures(f.totals.params, f.totals.macs, f.totals.peak_activations)
               for f in report.files if f.totals is not None}
    try:
        write_baseline(path, figures)
    except BaselineError as exc:
        _err(str(exc))
        sys.exit(2)
    left_out = len(report.files) - len(figures)
    why = f" (left out: {plural(left_out, 'spec')} without complete totals)" if left_out else ""
    click.echo(f"cnncalc: wrote the totals of {plural(len(figures), 'spec')} to "
               f"{escape(str(path))}{why}",
               err=True)
