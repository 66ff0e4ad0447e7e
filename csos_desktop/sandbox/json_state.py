"""State files of the sandbox CA (issue log, enrolment codes): JSON with a format tag,
read whole and changed under a lock, so a running server and the CLI can share them."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from csos_desktop.domain.errors import CsosError


def read_state(path: Path, fmt: str, error: type[CsosError], what: str) -> dict[str, Any]:
    """The JSON object in *path* tagged ``"format": fmt``; *error* names *what* it is not."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise error(f"cannot read the {what} {path}: {exc}") from exc
    if not isinstance(state, dict) or state.get("format") != fmt:
        raise error(f"{path} is not a {what} file ({fmt})")
    return {str(k): v for k, v in state.items()}


@contextlib.contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on *lock_path* (POSIX flock; other processes wait)."""
    with open(lock_path, "a+b") as lock_file:
        if sys.platform != "win32":
            import fcntl

            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
        yield
