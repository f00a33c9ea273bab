"""The built-in specs: the repository's ``specs/*.txt``, installed with the package, so that
``cnncalc show alexnet`` works where no repository is at hand (installed from a wheel).

Where they live: ``specs/`` in the repository is the one copy (the README's commands, the tests
and the configuration name its files). ``cnncalc/specs`` is a symbolic link to it, which
setuptools follows when it builds a wheel (package data ``specs/*.txt``), so that an installed
cnncalc finds real files at ``cnncalc/specs/`` and an editable one finds the repository's
through the link. (Moving the files into the package would break every ``specs/...`` path
people and tests use; mapping ``specs/`` as a package of its own needs a package list kept by
hand in pyproject.toml.)

How a SPEC argument is read (``resolve``): a path that exists always wins; ``-`` is standard
input; otherwise a SPEC without ``/`` names a built-in spec (``alexnet``, also ``alexnet.txt``
and ``AlexNet``). Anything else is an error that lists the built-in names, with the closest
ones first."""

from __future__ import annotations

import os
from pathlib import Path

ZOO = Path(__file__).resolve().parent / "specs"
SUFFIX = ".txt"


class UnknownSpec(Exception):
    """A SPEC that is neither an existing path nor a built-in name; ``reason`` says which
    names exist."""

    def __init__(self, spec: str, reason: str) -> None:
        super().__init__(f"{spec}: {reason}")
        self.spec, self.reason = spec, reason


def names() -> list[str]:
    """The built-in specs' names, sorted: the file names without ``.txt``."""
    if not ZOO.is_dir():
        return []
    return sorted(p.name[:-len(SUFFIX)] for p in ZOO.iterdir()
                  if p.name.endswith(SUFFIX) and p.is_file())


def path_of(name: str) -> Path | None:
    """The file of the built-in spec ``name`` (any case, ``.txt`` optional), or None."""
    if "/" in name or os.sep in name:
        return None
    stem = name[:-len(SUFFIX)] if name.lower().endswith(SUFFIX) else name
    for known in names():
        if known.lower() == stem.lower():
            return ZOO / f"{known}{SUFFIX}"
    return None


def shown(path: Path) -> str:
    """A built-in spec's path as messages show it: relative to the current directory when it
    lies under it (in the repository, ``specs/alexnet.txt``), else absolute."""
    real = os.path.realpath(path)
    cwd = os.getcwd()
    if real.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(real, cwd).replace(os.sep, "/")
    return real


def resolve(spec: str) -> str:
    """The path to read for a SPEC argument (module docstring); UnknownSpec if there is none."""
    if spec == "-" or os.path.lexists(spec):
        return spec
    found = path_of(spec)
    if found is not None:
        return shown(found)
    raise UnknownSpec(spec, unknown_reason(spec))


def unknown_reason(spec: str) -> str:
    """``no such file, nor a built-in spec (did you mean alexnet?); built-in specs: ...``"""
    import difflib  # only for this message

    known = names()
    base = os.path.basename(spec.rstrip("/" + os.sep))
    stem = base[:-len(SUFFIX)] if base.lower().endswith(SUFFIX) else base
    lowered = {n.lower(): n for n in known}
    close = [lowered[c] for c in difflib.get_close_matches(stem.lower(), list(lowered), n=3,
                                                           cutoff=0.6)]
    bare = "/" not in spec and os.sep not in spec
    what = "no such file, nor a built-in spec" if bare else "the file does not exist"
    if not bare:
        if stem.lower() in lowered:
            return f"{what}; the built-in spec {lowered[stem.lower()]} is read by its name alone"
        return what
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    listing = f"; built-in specs: {', '.join(known)} (`cnncalc zoo` lists them)" if known else ""
    return f"{what}{hint}{listing}"
