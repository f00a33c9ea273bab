"""``[tool.cnncalc]`` in the nearest pyproject.toml: found, read with tomllib, validated.

The nearest pyproject.toml *with a [tool.cnncalc] table*, searching from the current directory
upwards (as ruff does), or the file given with ``--config`` (a pyproject.toml, or a TOML file
whose top level is the table). Unknown keys and bad values are errors that name the key.
docs/ci.md documents every key; ``KEYS`` and ``PER_PATH_KEYS`` are the list.

A configuration file must be a regular file of at most ``CONFIG_LIMIT`` bytes (``files``), and
TOML nested too deeply to read is an error naming the file, not a crash. Decimals are read
as ``Decimal``, never as floats, so that ``max-params = 1e30`` is exactly 10^30.
"""

from __future__ import annotations

import difflib
import math
import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import click

from cnncalc.check.files import FileError, read_regular
from cnncalc.check.globs import Glob, GlobError
from cnncalc.check.settings import (
    DEFAULT_INCLUDE,
    FORMATS,
    FileSettings,
    Limit,
    PerPath,
    Settings,
    bad_selector,
)
from cnncalc.check.units import UnitError, count_text, parse_bytes, parse_count, shown
from cnncalc.diagnostics import Severity
from cnncalc.options import MAX_BATCH, dims
from cnncalc.parse import NOTATIONS, DefineValue
from cnncalc.parse.bounds import MAX_FILE_SIZE, MAX_LAYERS
from cnncalc.parse.lexer import MAX_DIGITS
from cnncalc.render.memory import DTYPES
from cnncalc.spec import Rounding, Shape

ROUNDINGS: tuple[Rounding, ...] = ("strict", "floor", "ceil")
FILE_KEYS = ("notation", "rounding", "input", "define", "max-params", "max-macs",
             "max-activations", "max-peak-activations")
BYTE_KEYS = ("max-activations", "max-peak-activations")
KEYS = ("select", "ignore", "fail-on", "include", "extend-include", "exclude", "force-exclude",
        "batch", "dtype", "output-format", "baseline", "per-path", "max-layers", "max-file-size",
        *FILE_KEYS)
PER_PATH_KEYS = ("path", "ignore", *FILE_KEYS)
CONFIG_LIMIT = 2**20
"""The largest configuration file read, 1 MiB: pyproject.toml files are a few kilobytes."""


class ConfigError(Exception):
    """A configuration problem; the message names the file and the key."""


def find_config(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above ``start`` that has a [tool.cnncalc] table."""
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if os.path.lexists(candidate) and "cnncalc" in _read(candidate).get("tool", {}):
            return candidate
    return None


def _read(path: Path) -> dict[str, Any]:
    """Every pyproject.toml on the way up is read (a FIFO or ``/dev/zero`` there is an error
    that names it, not a hang)."""
    try:
        data = read_regular(path, CONFIG_LIMIT)
    except FileError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {_where(data, exc.start)} (a TOML file "
                          "must be UTF-8)") from exc
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except ValueError:  # from int(): TOML integers are 64-bit, Python reads 4,300 digits
        raise ConfigError(f"{path}: not valid TOML: an integer of more than {MAX_DIGITS:,} "
                          "digits") from None


def _where(data: bytes, at: int) -> str:
    """``byte 0xff at line 1, column 1`` for the undecodable byte at offset ``at``; the
    column counts characters, which every byte before ``at`` decodes to."""
    start = data.rfind(b"\n", 0, at) + 1
    line = data.count(b"\n", 0, at) + 1
    col = len(data[start:at].decode("utf-8")) + 1
    return f"byte 0x{data[at]:02x} at line {line}, column {col}"


def load_settings(config: Path | None, isolated: bool = False) -> Settings:
    """Settings from ``config`` (``--config``), else from the nearest pyproject.toml, else the
    defaults; ``isolated`` ignores every configuration file."""
    if isolated:
        return Settings()
    path = config if config is not None else find_config(Path.cwd())
    if path is None:
        return Settings()
    data = _read(path)
    in_tool = "tool" in data or path.name == "pyproject.toml"
    tool = data.get("tool", {})
    table = (tool.get("cnncalc") if isinstance(tool, dict) else None) if in_tool else data
    if table is None:
        raise ConfigError(f"{path}: no [tool.cnncalc] table")
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: tool.cnncalc must be a table")
    where = "tool.cnncalc" if table is not data else ""
    return settings_from_table(table, path, where)


def _show(value: Any) -> str:
    """A configuration value quoted in a message: TOML decimals as written (``1E+3``), long
    values shortened."""
    if isinstance(value, str):
        return shown(value)
    return shown(str(value) if isinstance(value, Decimal) else repr(value), quote=False)


class _Reader:
    """Typed access to one table; each failure names ``file: table.key``."""

    def __init__(self, table: dict[str, Any], path: Path, where: str, keys: tuple[str, ...]):
        self.table, self.path, self.where = table, path, where
        for key in table:
            if key not in keys:
                close = difflib.get_close_matches(key.replace("_", "-"), keys, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.fail(key, f"unknown key{hint} (known: {', '.join(keys)})")

    def fail(self, key: str, why: str) -> NoReturn:
        name = f"{self.where}.{key}" if self.where else key
        raise ConfigError(f"{self.path}: {name}: {why}")

    def get(self, key: str, kind: type | tuple[type, ...], what: str) -> Any:
        value = self.table.get(key)
        if value is not None and (isinstance(value, bool) is not (kind is bool)
                                  or not isinstance(value, kind)):
            self.fail(key, f"{_show(value)} is not {what}")
        return value

    def strings(self, key: str, example: str) -> tuple[str, ...] | None:
        value = self.table.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, f"{_show(value)} is not a list of strings, e.g. {example}")
        return tuple(value)

    def choice(self, key: str, choices: tuple[str, ...]) -> Any:
        value = self.table.get(key)
        if value is not None and value not in choices:
            self.fail(key, f"{_show(value)} is not one of {', '.join(choices)}")
        return value

    def codes(self, key: str) -> tuple[str, ...]:
        out = tuple(c.strip().upper() for c in self.strings(key, '["W5", "B401"]') or ())
        for code in out:
            why = bad_selector(code)
            if why:
                self.fail(key, why)
        return out

    def globs(self, key: str, example: str = '["specs/**/*.txt"]') -> tuple[Glob, ...] | None:
        patterns = self.strings(key, example)
        if patterns is None:
            return None
        try:
            return tuple(Glob(p) for p in patterns)
        except GlobError as exc:
            self.fail(key, str(exc))

    def limit(self, key: str, origin: str) -> Limit | None:
        value = self.table.get(key)
        if value is None:
            return None
        if not isinstance(value, (str, int, Decimal)):
            self.fail(key, f"{_show(value)} is not a figure such as \"65M\"")
        try:
            n = parse_bytes(value) if key in BYTE_KEYS else parse_count(value)
        except UnitError as exc:
            self.fail(key, str(exc))
        return Limit(n, str(value), origin)

    def file_settings(self, origin: str, per_path: bool) -> FileSettings:
        """``ignore`` is per-file only in per-path entries; at the top level it is the run's
        (so that ``--ignore`` can replace it)."""
        defines = self.get("define", dict, "a table such as { num_classes = 10 }") or {}
        return FileSettings(
            notation=self.choice("notation", NOTATIONS),
            rounding=self.choice("rounding", ROUNDINGS),
            default_input=self._input(),
            defines=tuple(self._define(k, v) for k, v in defines.items()),
            max_params=self.limit("max-params", origin),
            max_macs=self.limit("max-macs", origin),
            max_activations=self.limit("max-activations", origin),
            max_peak_activations=self.limit("max-peak-activations", origin),
            ignore=self.codes("ignore") if per_path else (),
        )

    def _input(self) -> Shape | None:
        value = self.table.get("input")
        if value is None:
            return None
        if isinstance(value, list) and len(value) in (1, 3) and all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
            return tuple(value)
        if isinstance(value, str):
            try:
                return dims(value, "input", (3, 1))
            except click.BadParameter:
                pass
        self.fail("input", f"{_show(value)} is not a volume: write \"224x224x3\" or [224, 224, 3]")

    def _define(self, name: str, value: Any) -> tuple[str, DefineValue]:
        if not name.isidentifier():
            self.fail(f"define.{name}", "is not a Python name")
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
            self.fail(f"define.{name}",
                      f"{_show(value)} is not a number or a size like \"28x28x1\"")
        if isinstance(value, int):
            return name, value
        if isinstance(value, Decimal):
            return name, self._rate(f"define.{name}", value)
        try:
            return name, dims(value, "define", (1, 2, 3))
        except click.BadParameter:
            self.fail(f"define.{name}",
                      f"{_show(value)} is not a number or a size like \"28x28x1\"")


    def _rate(self, key: str, value: Decimal) -> float:
        """A decimal ``define`` is what the same literal in the code would be: a Python float
        (Keras and PyTorch code writes dropout rates so); it must be a finite one."""
        rate = float(value)
        if not math.isfinite(rate):
            self.fail(key, f"{value} is not a finite number")
        return rate


def _max_layers(top: _Reader) -> int:
    """``max-layers``: a whole number, 1 or more."""
    layers = top.get("max-layers", int, "a whole number of layers, e.g. 200000")
    if layers is not None and layers < 1:
        top.fail("max-layers", f"{layers} is not 1 or more")
    return MAX_LAYERS if layers is None else int(layers)


def _max_file_size(top: _Reader) -> int:
    """``max-file-size``: a size in bytes such as "64MiB", 1 or more."""
    size = top.table.get("max-file-size")
    if size is None:
        return MAX_FILE_SIZE
    try:
        n = parse_bytes(size if isinstance(size, str | int) else repr(size))
    except UnitError as exc:
        top.fail("max-file-size", str(exc))
    if n < 1:
        top.fail("max-file-size", f"{size!r} is not 1 byte or more")
    return n


def settings_from_table(table: dict[str, Any], path: Path, where: str) -> Settings:
    top = _Reader(table, path, where, KEYS)
    root = path.resolve().parent
    shown = path.name if where else str(path)
    per_path = table.get("per-path", [])
    if isinstance(per_path, dict):
        per_path = [per_path]
    if not isinstance(per_path, list) or not all(isinstance(e, dict) for e in per_path):
        top.fail("per-path", "is not an array of tables ([[tool.cnncalc.per-path]])")
    entries = []
    for i, entry in enumerate(per_path):
        sub = _Reader(entry, path, f"{where}.per-path[{i}]".lstrip("."), PER_PATH_KEYS)
        patterns = sub.strings("path", '"specs/mobile*.txt"')
        if not patterns:
            sub.fail("path", "is required: the glob(s) this entry applies to")
        assert patterns is not None
        origin = f"{shown} per-path {', '.join(patterns)}"
        globs = sub.globs("path", '"specs/mobile*.txt"')
        assert globs is not None
        entries.append(PerPath(globs, sub.file_settings(origin, True)))
    batch = top.get("batch", int, "a whole number")
    if batch is not None and batch < 1:
        top.fail("batch", f"{batch} is not 1 or more")
    if batch is not None and batch > MAX_BATCH:
        top.fail("batch", f"{count_text(batch)} is more than {count_text(MAX_BATCH)}: is it a "
                 "typo?")
    baseline = top.get("baseline", str, "a file name")
    include = top.globs("include")
    extend = top.globs("extend-include", '["models/*.py"]') or ()
    return Settings(
        config_path=path,
        root=root,
        select=top.codes("select"),
        ignore=top.codes("ignore"),
        fail_on=Severity(top.choice("fail-on", tuple(s.value for s in Severity)) or "error"),
        include=(tuple(Glob(p) for p in DEFAULT_INCLUDE) if include is None else include)
        + extend,
        detect=include is None,
        exclude=top.globs("exclude") or (),
        force_exclude=bool(top.get("force-exclude", bool, "true or false")),
        batch=batch or 1,
        dtype=top.choice("dtype", tuple(DTYPES)) or "float32",
        output_format=top.choice("output-format", FORMATS),
        baseline=None if baseline is None else root / baseline,
        max_layers=_max_layers(top),
        max_file_size=_max_file_size(top),
        file=top.file_settings(f"{shown} [tool.cnncalc]" if where else shown, False),
        per_path=tuple(entries),
    )
