"""A practitioner's DEA registrations, and which of them a permission verified.

21 CFR 1311.120(b)(7), 1311.135(b): a practitioner registered in more than one State
holds one DEA number per registration and selects the one each prescription is
issued under. Plain reads and writes; the rules are in
:mod:`csos_desktop.services.rx.registrations`, which calls these inside one
transaction together with the audit entry.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

from csos_desktop.domain.timestamps import format_timestamp

_COLUMNS = "dea_number, user_id, state, expires, added_at, added_by, removed_at, removed_by"


@dataclass(frozen=True)
class Registration:
    dea_number: str
    user_id: str
    state: str | None  # None: carried over from a user record that named no State
    expires: str | None  # ISO date; None as for state
    added_at: str
    added_by: str | None
    removed_at: str | None = None
    removed_by: str | None = None

    @property
    def current(self) -> bool:
        return self.removed_at is None

    def lapsed(self, today: date) -> bool:
        return self.expires is not None and self.expires < today.isoformat()

    def label(self) -> str:
        """How a chooser names it: number, State, end."""
        where = self.state or "State not recorded"
        ends = f"ends {self.expires}" if self.expires else "end not recorded"
        return f"{self.dea_number} ({where}, {ends})"

    def to_json(self) -> dict[str, object]:
        return {
            "dea_number": self.dea_number,
            "user_id": self.user_id,
            "state": self.state,
            "expires": self.expires,
            "added_at": self.added_at,
            "added_by": self.added_by,
            "removed_at": self.removed_at,
            "removed_by": self.removed_by,
        }


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def _registration(row: tuple[object, ...]) -> Registration:
    return Registration(str(row[0]), str(row[1]), *(_opt(v) for v in row[2:]))  # type: ignore[arg-type]


class RxRegistrations:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add(
        self,
        user_id: str,
        dea_number: str,
        *,
        state: str | None,
        expires: date | None,
        by: str | None,
        now: datetime,
    ) -> Registration:
        self._conn.execute(
            f"INSERT INTO rx_registrations ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)",
            (
                dea_number,
                user_id,
                state,
                expires.isoformat() if expires else None,
                format_timestamp(now),
                by,
            ),
        )
        return self.get(dea_number)

    def remove(self, dea_number: str, *, by: str, now: datetime) -> Registration:
        self._conn.execute(
            "UPDATE rx_registrations SET removed_at = ?, removed_by = ? "
            "WHERE dea_number = ? AND removed_at IS NULL",
            (format_timestamp(now), by, dea_number),
        )
        return self.get(dea_number)

    def find(self, dea_number: str) -> Registration | None:
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM rx_registrations WHERE dea_number = ?", (dea_number,)
        ).fetchone()
        return None if row is None else _registration(row)

    def get(self, dea_number: str) -> Registration:
        reg = self.find(dea_number)
        if reg is None:
            raise KeyError(dea_number)
        return reg

    def of_user(self, user_id: str, *, current_only: bool = True) -> list[Registration]:
        """The user's registrations, in the order they were added."""
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM rx_registrations WHERE user_id = ? "
            + ("AND removed_at IS NULL " if current_only else "")
            + "ORDER BY added_at, dea_number",
            (user_id,),
        )
        return [_registration(r) for r in rows]

    def verify_for_grant(self, grant_id: int, dea_numbers: list[str]) -> None:
        self._conn.executemany(
            "INSERT INTO rx_grant_registrations (grant_id, dea_number) VALUES (?, ?)",
            [(grant_id, d) for d in dea_numbers],
        )

    def verified_by(self, grant_id: int) -> tuple[str, ...]:
        """The registrations a permission's proposer verified (1311.125(b))."""
        rows = self._conn.execute(
            "SELECT dea_number FROM rx_grant_registrations WHERE grant_id = ? ORDER BY dea_number",
            (grant_id,),
        )
        return tuple(str(r[0]) for r in rows)
