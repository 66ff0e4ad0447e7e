"""The test CA's ``state.json``: issued certificates, revocations, CRL numbers, URLs.

State is re-read before every operation and replaced atomically under a thread lock
and, on POSIX, a file lock, so a running sandbox server and the `csos sandbox ca`
command can share one directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.schedule import Schedule
from csos_desktop.sandbox.ca_errors import NotACaDirectory
from csos_desktop.sandbox.json_state import exclusive, read_state

STATE_FORMAT = "csos-sandbox-ca/1"


@dataclass(frozen=True)
class IssuedCertificate:
    """One row of the CA's issue log."""

    serial: int
    subject: str
    dea_number: str
    schedules: frozenset[Schedule]
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True)
class Revocation:
    """One revocation; `by_root` is true for the issuing CA itself."""

    serial: int
    reason: str
    date: datetime
    by_root: bool = False


class CaState:
    """Reads and rewrites one CA directory's state file."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._lock = threading.Lock()

    def read(self) -> dict[str, Any]:
        return read_state(self._dir / "state.json", STATE_FORMAT, NotACaDirectory, "test CA state")

    def write(self, state: dict[str, Any]) -> None:
        path = self._dir / "state.json"
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        try:
            tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
            os.replace(tmp, path)  # atomic: a reader never sees half a file
        except OSError as exc:
            raise CsosError(f"cannot save the test CA state {path}: {exc.strerror}") from exc

    @contextlib.contextmanager
    def update(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write state.json under a thread lock and, on POSIX, a file lock."""
        with self._lock, exclusive(self._dir / ".lock"):
            state = self.read()
            yield state
            self.write(state)

    def issued(self) -> tuple[IssuedCertificate, ...]:
        return tuple(
            IssuedCertificate(
                r["serial"],
                r["subject"],
                r["dea_number"],
                frozenset(Schedule(s) for s in r["schedules"]),
                datetime.fromisoformat(r["not_before"]),
                datetime.fromisoformat(r["not_after"]),
            )
            for r in self.read()["issued"]
        )

    def revocations(self) -> tuple[Revocation, ...]:
        return tuple(
            Revocation(
                r["serial"], r["reason"], datetime.fromisoformat(r["date"]), r.get("by_root", False)
            )
            for r in self.read()["revoked"]
        )
