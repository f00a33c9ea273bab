"""Reading and writing the files ``check`` is configured with: the configuration and the
baseline. Specs are found by ``discover`` and read by ``runner``.

- ``read_regular`` reads a regular file (after following symbolic links: ``--config`` may name
  a link), at most ``limit`` bytes. A FIFO, a device (``/dev/zero``), a directory or a socket
  is refused without being read: the file is opened non-blocking, so a FIFO nobody writes to
  cannot hang the run, and its type is taken from the open file itself. A file larger than
  ``limit`` is refused after reading ``limit + 1`` bytes, so a file that grows as it is read
  cannot exhaust memory either.
- ``write_atomic`` replaces a file with new contents in one step: a temporary file in the
  same directory, written, flushed to disk, renamed over the old one (``os.replace``), and the
  directory flushed, so that a reader sees the old file or the new one, never a half-written
  one. It never writes through a symbolic link: a link at the destination is refused, and
  the rename would replace a link rather than its target anyway.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"))


class FileError(Exception):
    """Why a file was refused or could not be read or written (``Permission denied``, ``is a
    FIFO (named pipe), not a regular file``); the caller adds the path and what it was
    doing."""


def kind(mode: int) -> str:
    """What a file that is not a regular file is, for messages."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def mib(n: int) -> str:
    """``1 MiB``, ``16 MiB``: the limits are whole mebibytes."""
    return f"{n // 2**20:,} MiB" if n % 2**20 == 0 else f"{n:,} bytes"


def read_regular(path: Path, limit: int) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(
        os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise FileError(exc.strerror or str(exc)) from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileError(f"is {kind(mode)}, not a regular file")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise FileError(exc.strerror or str(exc)) from exc
    finally:
        os.close(fd)
    if size > limit:
        raise FileError(f"is larger than {mib(limit)}, the most cnncalc reads from it")
    return b"".join(chunks)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``; see the module docstring."""
    try:
        st: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise FileError(exc.strerror or str(exc)) from exc
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise FileError(f"is {kind(st.st_mode)}; cnncalc replaces only a regular file"
                        + (" and never writes through a link: name the file itself"
                           if stat.S_ISLNK(st.st_mode) else ""))
    directory = path.parent
    temp = directory / f".{path.name}.{secrets.token_hex(8)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(
        os, "O_CLOEXEC", 0)
    try:
        fd = os.open(temp, flags, 0o666)  # the umask applies, as for any new file
    except OSError as exc:
        raise FileError(exc.strerror or str(exc)) from exc
    try:
        try:
            if st is not None and hasattr(os, "fchmod"):
                os.fchmod(fd, stat.S_IMODE(st.st_mode))
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise FileError(exc.strerror or str(exc)) from exc
    _sync_directory(directory)


def _sync_directory(directory: Path) -> None:
    """Flush the rename to disk; best effort (not every system can open a directory)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
