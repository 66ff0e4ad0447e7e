"""A write that failed for lack of room is not a damaged database: telling the two apart.

SQLite reports a full disk as SQLITE_FULL only when a write came up short; a
write refused outright (ENOSPC, EDQUOT, or EFBIG past the process's file-size
limit) is SQLITE_IOERR, "disk I/O error", and Python does not say which errno
it was. So after an I/O error we look: a finite file-size limit on this
process, then a small real write next to the database, whose errno tells.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import tempfile
from enum import Enum
from pathlib import Path

try:  # POSIX only; Windows has no per-process file-size limit
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

SQLITE_IOERR = 10
SQLITE_FULL = 13
#: Larger than SQLite's shared-memory index block (32 KiB), which a WAL reader also writes.
PROBE_BYTES = 64 * 1024
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


class WriteLimit(Enum):
    """Why a write found no room."""

    DISK_FULL = "disk-full"
    FILE_SIZE_LIMIT = "file-size-limit"


def file_size_limit() -> int | None:
    """This process's RLIMIT_FSIZE in bytes, or None when there is none."""
    if resource is None:
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def _from_errno(number: int | None) -> WriteLimit | None:
    if number in _FULL_ERRNOS:
        return WriteLimit.DISK_FULL
    if number == errno.EFBIG:
        return WriteLimit.FILE_SIZE_LIMIT
    return None


def probe(directory: Path) -> WriteLimit | None:
    """Write (and remove) a small file in *directory*: does the disk or a limit refuse it?"""
    limit = file_size_limit()
    if limit is not None and limit < PROBE_BYTES:
        return WriteLimit.FILE_SIZE_LIMIT  # the probe itself would be cut off
    try:
        fd, name = tempfile.mkstemp(prefix=".csos-space-", dir=directory)
    except OSError as exc:
        return _from_errno(exc.errno)
    try:
        os.write(fd, b"\0" * PROBE_BYTES)
        os.fsync(fd)
    except OSError as exc:
        return _from_errno(exc.errno)
    finally:
        os.close(fd)
        Path(name).unlink(missing_ok=True)
    return None


def write_limit(exc: BaseException, directory: Path | None) -> WriteLimit | None:
    """The write limit behind *exc* (an OSError or a SQLite error), or None for anything else."""
    if isinstance(exc, OSError):
        return _from_errno(exc.errno)
    if not isinstance(exc, sqlite3.Error):
        return None
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    text = str(exc).lower()
    full = code == SQLITE_FULL or "full" in text
    if not full and code != SQLITE_IOERR and "disk i/o error" not in text:
        return None
    if file_size_limit() is not None:
        # Desktop sessions have none; one set for this process is what cut the write short.
        return WriteLimit.FILE_SIZE_LIMIT
    found = probe(directory) if directory is not None else None
    if found is None and full:
        return WriteLimit.DISK_FULL  # also the database's own size cap (max_page_count)
    return found


def nothing_recorded(limit: WriteLimit) -> str:
    """The message: what stopped the write, that nothing was recorded, what to do."""
    if limit is WriteLimit.DISK_FULL:
        return (
            "The disk is full: nothing was recorded (the change was not saved; nothing was "
            "lost). Free some space and repeat the operation."
        )
    return (
        f"The file size limit of this program ({file_size_limit() or 0} bytes, 'ulimit -f') "
        "was reached, so the order database could not be written: nothing was recorded "
        "(nothing was lost). Lift the limit (ask IT) and repeat the operation."
    )
