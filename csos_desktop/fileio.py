"""Reading JSON input files strictly, and writing files so that a crash or a full disk never
leaves half a file behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from csos_desktop.domain.canonical import MalformedDocument, parse_json_input
from csos_desktop.errors import InputError


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same directory, fsync, then rename over *path*."""
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
