"""Reading and writing the app's own files safely: the data file and every file of every run.

A classroom server reads folders that students (or their mischief) can reach. So a file is opened
only if it is a regular file (not a link that could point anywhere, not a FIFO that would hang the
reader), its size is checked before it is read, and every write goes to a temporary file that is
renamed into place or, if the write fails (a full disk, say), removed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .i18n import Message


def open_regular_file(path: Path):
    """Open `path` for binary reading only if it is a regular file: not a symlink (which could point
    anywhere, /etc/passwd say), not a FIFO (which would hang the reader), not a device or a folder.
    Raises OSError if it cannot be opened, ValueError if it is not a regular file."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        if os.path.islink(path):
            raise ValueError("it is a link, not a file of its own") from error
        raise
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise ValueError("it is not a regular file")
    return os.fdopen(descriptor, "rb")


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of the regular file `path`, refusing one of more than `limit` bytes before reading it."""
    with open_regular_file(path) as file:
        size = os.fstat(file.fileno()).st_size
        if size > limit:
            raise ValueError(f"it holds {size:,} bytes, far more than the app ever writes there ({limit:,} at most)")
        return file.read(limit + 1)[:limit]


def write_atomically(path: Path, content: bytes) -> None:
    """Write `content` so that `path` is either as before or complete, never half-written. If the write
    fails (a full disk, a read-only folder), the temporary file is removed and the OSError raised."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def link_atomically(source: Path, path: Path) -> None:
    """Make `path` a hard link to `source`, replacing whatever `path` was in one step (a copy where
    the file system has no hard links). A temporary name like write_atomically's, so a kill between
    the two steps leaves what start-up housekeeping removes."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        try:
            os.link(source, temporary)
        except OSError:
            temporary.write_bytes(source.read_bytes())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def cannot_write_message(path: Path, error: OSError, fix: Message) -> Message:
    """One clear sentence for a failed write: which folder, why (in the system's words), and the fix."""
    reason = os.strerror(error.errno) if error.errno else str(error)
    return Message("Cannot write to {folder}: {reason}. {fix}", folder=str(path.parent), reason=reason, fix=fix)
