"""Which files ``cnncalc check PATHS...`` reads.

- A file named on the command line is checked whatever its name or content (``include`` does
  not apply); ``exclude`` applies to it only with ``force-exclude`` (``--force-exclude``; the
  pre-commit hook passes it, since pre-commit names every changed file explicitly), which
  also judges a ``.txt`` or extension-less file by its content as a walk does.
- A directory is walked recursively, in sorted order, without following symbolic links to
  directories (so no link can make the walk loop or leave the directory). A file found there
  is checked, unless an ``exclude`` glob matches it (an excluded directory is not entered):
  by its name when an ``include`` glob matches it (default ``*.cnn`` and ``*.spec.txt``, plus
  ``extend-include``), and by its content when it is a ``.txt`` or extension-less file that
  reads as a spec (``cnncalc.check.sniff``; ``Found.by_content``: the runner decides). A
  configuration that sets ``include`` turns the content rule off: exactly its globs apply.
- A path that does not exist may name a built-in spec (``cnncalc check alexnet``;
  ``cnncalc.zoo``).
- Directories that are never specs are always skipped: ``SKIP_DIRS`` (version control, virtual
  environments, caches, build output), ``*.egg-info`` and any name starting with ``.``, unless
  named explicitly.

The checked tree, and symbolic links to files: a directory named on the command line is a
tree; a file named on the command line belongs to the tree of the directory it is named in.
Paths on the command line are the user's own: links in them are followed. Inside a tree, a
symbolic link to a file is followed only when the file it leads to is one the walk of that
tree reads anyway: inside the tree, not hidden (no part of its path below the tree starts
with ``.``) and in no skipped directory, matched by ``include`` (or a candidate of the content
rule) and by no ``exclude``. Any other link is ``Outside``: not opened, and reported as P020,
so that a link to ``~/.ssh/id_rsa``, ``.git/config`` or ``.env`` can never be quoted into a
CI log. A link that loops or leads nowhere is ``Missing`` (exit 2), as a missing file named on
the command line is.

Paths are shown relative to the current directory when they lie under it, ``/``-separated;
globs match paths relative to the project root (``Settings.root``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, replace

from cnncalc.check.settings import Settings
from cnncalc.check.sniff import candidate
from cnncalc.zoo import UnknownSpec, resolve

SKIP_DIRS = frozenset({
    "__pycache__", "node_modules", "venv", "site-packages", "build", "dist", "_build",
    "__pypackages__", "buck-out",
})


@dataclass(frozen=True)
class Found:
    """A file to check: ``path`` to open, ``shown`` in messages, ``rel`` for globs;
    ``by_content``: checked only if it reads as a spec (``cnncalc.check.sniff``)."""

    path: str
    shown: str
    rel: str
    by_content: bool = False


@dataclass(frozen=True)
class Outside:
    """A symbolic link that leads out of the checked tree: never opened (P020). ``why`` says
    where it leads, in words."""

    shown: str
    rel: str
    why: str


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

    def by_content(self, rel: str) -> bool | None:
        """How a walk takes the file at ``rel``: False by its name (``include``), True by its
        content, None not at all (``exclude`` aside)."""
        if self.included(rel):
            return False
        if self.settings.detect and candidate(rel.rsplit("/", 1)[-1]):
            return True
        return None

    def link(self, path: str, tree: _Tree, by_name: bool) -> Found | Outside:
        """A symbolic link to a file at ``path`` in ``tree``: followed to the file it leads to
        (which is then opened, not the link) when the walk of ``tree`` reads that file anyway
        (module docstring), else ``Outside``. ``by_name``: the link is checked whatever the
        file holds (it is named on the command line, or ``include`` matches it)."""
        target = os.path.realpath(path)
        shown, rel = self.shown(path), self.rel(path)
        if not _under(target, tree.real):
            return Outside(shown, rel, f"it leads out of the checked tree {tree.shown}")
        below = os.path.relpath(target, tree.real).split(os.sep)
        if any(skipped(part) for part in below):
            return Outside(shown, rel, "it leads to a hidden file or into a directory check "
                           "never searches")
        walked = [self.rel(os.path.join(tree.given, *below[:i]))
                  for i in range(1, len(below) + 1)]  # its folders and itself, as walked
        content = self.by_content(walked[-1])
        if content is None or any(self.excluded(r) for r in walked):
            return Outside(shown, rel, "it leads to a file the include and exclude globs "
                           "leave out")
        return Found(target, shown, rel, content and not by_name)


@dataclass(frozen=True)
class _Tree:
    """The checked tree: its real path (links resolved), the path as given, as shown."""

    real: str
    given: str
    shown: str


def skipped(name: str) -> bool:
    """A directory a walk never enters."""
    return name in SKIP_DIRS or name.startswith(".") or name.endswith(".egg-info")


def _directory(path: str) -> bool:
    """Whether ``path`` leads to a directory (its metadata only: nothing is opened)."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def discover(paths: tuple[str, ...], settings: Settings
             ) -> Iterator[Found | Missing | Outside]:
    """Every file to check, in order: arguments as given, each directory's files sorted."""
    p = _Paths(settings)
    seen: set[str] = set()
    # a file named on the command line is checked whatever it holds, even when a directory
    # named before it finds it first
    named = set() if settings.force_exclude else \
        {os.path.abspath(p.shown(a)) for a in paths if a != "-" and not os.path.isdir(a)}
    for arg in paths:
        if arg == "-":
            yield Found("-", "<stdin>", "<stdin>")
            continue
        if "/" not in arg and os.sep not in arg and not os.path.lexists(arg):  # cnncalc.zoo
            try:
                arg = resolve(arg)
            except UnknownSpec as exc:
                if "." not in arg:  # `alexnt` is a name; `gone.txt` a file, reported below
                    yield Missing(arg, exc.reason)
                    continue
        try:
            is_dir = stat.S_ISDIR(os.stat(arg).st_mode)
        except OSError as exc:
            yield Missing(arg, exc.strerror or str(exc))
            continue
        if is_dir:
            items = _walk(arg, p, _Tree(os.path.realpath(arg), arg, p.shown(arg)),
                          explicit=True)
        else:
            items = iter([_named(arg, p, settings.force_exclude)])
        for item in items:
            if isinstance(item, Missing):
                yield item
                continue
            key = os.path.abspath(item.shown)
            if key in seen or (not is_dir and settings.force_exclude and p.excluded(item.rel)):
                continue
            seen.add(key)
            if isinstance(item, Found) and item.by_content and key in named:
                item = replace(item, by_content=False)
            yield item


def _named(arg: str, p: _Paths, as_walked: bool) -> Found | Outside:
    """A file named on the command line: checked whatever it holds, unless ``as_walked``
    (``force-exclude``) judges it as a walk would."""
    rel = p.rel(arg)
    by_name = not (as_walked and p.by_content(rel))
    if not os.path.islink(arg):
        return Found(arg, p.shown(arg), rel, not by_name)
    given = os.path.dirname(arg) or "."
    return p.link(arg, _Tree(os.path.realpath(given), given, p.shown(given)), by_name)


def _walk(directory: str, p: _Paths, tree: _Tree, explicit: bool
          ) -> Iterator[Found | Missing | Outside]:
    rel = p.rel(directory)
    if (not explicit or p.settings.force_exclude) and rel != "." and p.excluded(rel):
        return
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield Missing(directory, exc.strerror or str(exc))
        return
    files: list[Found | Missing | Outside] = []
    dirs: list[str] = []
    for entry in entries:
        try:
            is_link = entry.is_symlink()
            is_dir = not is_link and entry.is_dir(follow_symlinks=False)
            is_file = not is_link and entry.is_file(follow_symlinks=False)
        except OSError:
            continue
        if is_dir:
            if not skipped(entry.name):
                dirs.append(entry.path)
            continue
        sub = p.rel(entry.path)
        content = p.by_content(sub)
        if not (is_file or is_link) or content is None or p.excluded(sub):
            continue
        if is_file:
            files.append(Found(entry.path, p.shown(entry.path), sub, content))
            continue
        if not _under(os.path.realpath(entry.path), tree.real):
            if not (content and _directory(entry.path)):  # `current -> ../v2`: not a file
                files.append(p.link(entry.path, tree, not content))
            continue
        try:
            mode = os.stat(entry.path).st_mode
        except OSError as exc:
            files.append(Missing(p.shown(entry.path), "a symbolic link that cannot be "
                                 f"followed: {exc.strerror or exc}"))
            continue
        if stat.S_ISREG(mode):  # a link to a directory is never followed
            files.append(p.link(entry.path, tree, not content))
    yield from files
    for sub_dir in dirs:
        yield from _walk(sub_dir, p, tree, explicit=False)
