"""Which files ``cnncalc check PATHS...`` reads.

- A file named on the command line is checked whatever its name (``include`` does not apply);
  ``exclude`` applies to it only with ``force-exclude`` (``--force-exclude``; the pre-commit
  hook passes it, since pre-commit names every changed file explicitly).
- A directory is walked recursively, in sorted order, without following symbolic links to
  directories. Its files are checked when their name or path matches an ``include`` glob
  (default ``*.txt``) and no ``exclude`` glob; an excluded directory is not entered.
- Directories that are never specs are always skipped: ``SKIP_DIRS`` (version control, virtual
  environments, caches, build output) and any name starting with ``.``, unless named explicitly.

Paths are shown relative to the current directory when they lie under it, ``/``-separated;
globs match paths relative to the project root (``Settings.root``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from cnncalc.check.settings import Settings

SKIP_DIRS = frozenset({
    "__pycache__", "node_modules", "venv", "site-packages", "build", "dist", "_build",
    "__pypackages__", "buck-out",
})


@dataclass(frozen=True)
class Found:
    """A file to check: ``path`` to open, ``shown`` in messages, ``rel`` for globs."""

    path: str
    shown: str
    rel: str


@dataclass(frozen=True)
class Missing:
    """A path that could not be walked or does not exist (exit 2)."""

    path: str
    reason: str


class _Paths:
    def __init__(self, settings: Settings) -> None:
        self.cwd = os.getcwd()
        self.root = str(settings.root.resolve())
        self.settings = settings

    def shown(self, path: str) -> str:
        absolute = os.path.abspath(path)
        rel = os.path.relpath(absolute, self.cwd) if _under(absolute, self.cwd) else absolute
        return rel.replace(os.sep, "/")

    def rel(self, path: str) -> str:
        absolute = os.path.abspath(path)
        rel = os.path.relpath(absolute, self.root) if _under(absolute, self.root) \
            else os.path.normpath(path)
        return rel.replace(os.sep, "/")

    def excluded(self, rel: str) -> bool:
        return any(g.match(rel) for g in self.settings.exclude)

    def included(self, rel: str) -> bool:
        return any(g.match_name(rel) for g in self.settings.include)


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def discover(paths: tuple[str, ...], settings: Settings) -> Iterator[Found | Missing]:
    """Every file to check, in order: arguments as given, each directory's files sorted."""
    p = _Paths(settings)
    seen: set[str] = set()
    for arg in paths:
        if arg == "-":
            yield Found("-", "<stdin>", "<stdin>")
            continue
        if os.path.isdir(arg):
            for path in _walk(arg, p, explicit=True):
                if isinstance(path, Missing):
                    yield path
                    continue
                key = os.path.abspath(path)
                if key not in seen:
                    seen.add(key)
                    yield Found(path, p.shown(path), p.rel(path))
        elif os.path.exists(arg):
            rel = p.rel(arg)
            key = os.path.abspath(arg)
            if key in seen or (settings.force_exclude and p.excluded(rel)):
                continue
            seen.add(key)
            yield Found(arg, p.shown(arg), rel)
        else:
            yield Missing(arg, "No such file or directory")


def _walk(directory: str, p: _Paths, explicit: bool) -> Iterator[str | Missing]:
    rel = p.rel(directory)
    if (not explicit or p.settings.force_exclude) and rel != "." and p.excluded(rel):
        return
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield Missing(directory, exc.strerror or str(exc))
        return
    files: list[str] = []
    dirs: list[str] = []
    for entry in entries:
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            is_dir = False
        if is_dir:
            if entry.name not in SKIP_DIRS and not entry.name.startswith("."):
                dirs.append(entry.path)
        elif entry.is_file():
            sub = p.rel(entry.path)
            if p.included(sub) and not p.excluded(sub):
                files.append(entry.path)
    yield from files
    for sub_dir in dirs:
        yield from _walk(sub_dir, p, explicit=False)
