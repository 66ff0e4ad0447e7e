"""Reading JSON input files strictly, and writing files so that a crash or a full disk never
leaves half a file behind.

Everything under the data, log and configuration directories is private to the user:
the database holds patient names and addresses, and the logs and archives hold order
details. Directories are 0700 and files 0600 whatever the process umask (on POSIX;
Windows keeps its per-user profile ACLs).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from csos_desktop.domain.canonical import MalformedDocument, parse_json_input
from csos_desktop.domain.errors import InputError

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
#: Only the owner may read what the program creates (set at both entry points).
PRIVATE_UMASK = 0o077
_POSIX = os.name == "posix"


def private_dir(path: Path) -> Path:
    """Create *path* (and parents) if needed and make it owner-only."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    if _POSIX:
        os.chmod(path, PRIVATE_DIR_MODE)
    return path


def make_private(path: Path) -> None:
    """Make an existing file owner-read/write only (no-op if it does not exist)."""
    if _POSIX and path.exists():
        os.chmod(path, PRIVATE_FILE_MODE)


def create_private(path: Path, *, exclusive: bool = False) -> None:
    """Create *path* empty with mode 0600 (left as it is if it exists and not *exclusive*).

    Files SQLite, zipfile or logging then open are created before any data is written,
    so there is no moment where they are world-readable.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else 0)
    os.close(os.open(path, flags, PRIVATE_FILE_MODE))
    make_private(path)


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same directory, fsync, then rename over *path*.

    mkstemp creates the file 0600, so the result is private too.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> object:
    """A JSON input file, read by the one strict reader (``canonical.parse_json_input``)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror}") from exc
    try:
        return parse_json_input(raw)
    except MalformedDocument as exc:
        raise MalformedDocument(f"{path}: {exc.message}; fix the file and try again.") from exc


def read_json_object(path: Path, what: str) -> dict[str, object]:
    """One JSON object (*what*, e.g. "an order") from *path*."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise MalformedDocument(f"{path} must hold one JSON object ({what}).")
    return data
