"""What ``cnncalc check`` was told, as frozen values: the settings of one file (notation,
input, budgets, ignored codes...), the run's settings, and how the three layers combine.

Precedence, lowest first: ``[tool.cnncalc]`` top level, then every ``[[tool.cnncalc.per-path]]``
entry whose ``path`` glob matches the file (in the order written), then command-line flags.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cnncalc.check.globs import Glob
from cnncalc.diagnostics import RULES, Severity
from cnncalc.parse import DefineValue
from cnncalc.parse.bounds import MAX_FILE_SIZE, MAX_LAYERS
from cnncalc.spec import Rounding, Shape

SPEC_SUFFIXES = (".cnn", ".spec.txt")
"""Names that say "a spec": checked by default whatever they hold."""
DEFAULT_INCLUDE = tuple(f"*{suffix}" for suffix in SPEC_SUFFIXES)
FORMATS = ("concise", "full", "json", "github", "junit")


@dataclass(frozen=True)
class Limit:
    """A budget: its value, the text it was written as (``65M``) and where it came from."""

    value: int
    text: str
    origin: str


@dataclass(frozen=True)
class FileSettings:
    """Settings that may differ per file. None means "not set here": a later layer fills it."""

    notation: str | None = None
    rounding: Rounding | None = None
    input: Shape | None = None  # --input: every spec's, its own overridden (as show's)
    defines: tuple[tuple[str, DefineValue], ...] = ()
    max_params: Limit | None = None
    max_macs: Limit | None = None
    max_activations: Limit | None = None
    max_peak_activations: Limit | None = None
    ignore: tuple[str, ...] = ()
    default_input: Shape | None = None  # the configuration's: for a spec that gives none

    def merge(self, later: FileSettings) -> FileSettings:
        """``later`` wins where it says something; defines merge by name, ignores add up."""
        names = dict(self.defines)
        names.update(later.defines)
        return FileSettings(
            later.notation or self.notation,
            later.rounding or self.rounding,
            later.input or self.input,
            tuple(names.items()),
            later.max_params or self.max_params,
            later.max_macs or self.max_macs,
            later.max_activations or self.max_activations,
            later.max_peak_activations or self.max_peak_activations,
            self.ignore + later.ignore,
            later.default_input or self.default_input,
        )


@dataclass(frozen=True)
class PerPath:
    globs: tuple[Glob, ...]
    settings: FileSettings

    def matches(self, rel: str) -> bool:
        return any(g.match(rel) for g in self.globs)


@dataclass(frozen=True)
class Settings:
    """One run's settings. ``root`` is the directory globs are relative to (the config file's,
    else the current directory); ``select`` empty means every code. ``include``: the globs of
    files a walk checks by name; ``detect``: whether it also checks ``.txt`` and extension-less
    files whose content reads as a spec (``cnncalc.check.sniff``), as it does unless the
    configuration sets ``include``."""

    config_path: Path | None = None
    root: Path = field(default_factory=Path.cwd)
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: Severity = Severity.ERROR
    include: tuple[Glob, ...] = tuple(Glob(p) for p in DEFAULT_INCLUDE)
    detect: bool = True
    exclude: tuple[Glob, ...] = ()
    force_exclude: bool = False
    batch: int = 1
    dtype: str = "float32"
    output_format: str | None = None
    baseline: Path | None = None
    max_layers: int = MAX_LAYERS
    max_file_size: int = MAX_FILE_SIZE
    file: FileSettings = FileSettings()
    per_path: tuple[PerPath, ...] = ()
    cli: FileSettings = FileSettings()

    def for_path(self, rel: str) -> FileSettings:
        """The settings of the file at ``rel`` (relative to ``root``, ``/``-separated)."""
        out = self.file
        for entry in self.per_path:
            if entry.matches(rel):
                out = out.merge(entry.settings)
        return out.merge(self.cli)


def code_matches(code: str, prefixes: Iterable[str]) -> bool:
    return any(p == "ALL" or code.startswith(p) for p in prefixes)


def selected(code: str, select: tuple[str, ...], ignore: Iterable[str]) -> bool:
    """A code is reported when ``select`` (empty: all) names it or a prefix of it and no
    ``ignore`` entry does: ignore wins over select."""
    return (not select or code_matches(code, select)) and not code_matches(code, ignore)


def bad_selector(text: str) -> str | None:
    """Why ``text`` cannot be a select/ignore entry, or None when it names some code."""
    if text == "ALL" or any(code.startswith(text) for code in RULES):
        return None
    return (f"{text!r} matches no rule code (codes look like W501; prefixes like W5 or W "
            "select families; `cnncalc rules` lists them)")
