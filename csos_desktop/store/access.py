"""Prescribing users and their signing permissions (21 CFR 1311.125) in the store.

Plain reads and writes; the rules (who may do what, the two-person rule) are
in :mod:`csos_desktop.services.rx.access`, which calls these inside one
transaction together with the audit entry. The database repeats the
two-person rule in CHECK constraints and keeps every record (triggers).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from csos_desktop.domain.errors import InputError
from csos_desktop.domain.timestamps import format_timestamp


class Role(StrEnum):
    """What a user does: a practitioner may sign, an agent only prepares prescriptions."""

    PRACTITIONER = "practitioner"
    AGENT = "agent"
    ACCESS_ADMIN = "access-admin"


class GrantState(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    REVOKED = "revoked"


class UnknownUser(InputError):
    """No prescribing user has this id."""


class UserExists(InputError):
    """The user id or the DEA number is already on record."""


class GrantNotFound(InputError):
    """No permission record has this id."""


@dataclass(frozen=True)
class RxUser:
    user_id: str
    full_name: str
    role: Role
    dea_number: str | None
    created_at: str
    created_by: str | None
    active: bool

    @property
    def registrant(self) -> bool:
        """Holds a DEA registration (the two-person rule needs one such person)."""
        return self.dea_number is not None

    def to_json(self) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "full_name": self.full_name,
            "role": self.role.value,
            "dea_number": self.dea_number,
            "registrant": self.registrant,
            "active": self.active,
            "created_at": self.created_at,
            "created_by": self.created_by,
        }


@dataclass(frozen=True)
class Grant:
    grant_id: int
    user_id: str
    dea_number: str
    state: GrantState
    proposed_by: str
    proposed_at: str
    approved_by: str | None
    approved_at: str | None
    revoked_by: str | None
    revoked_at: str | None
    revoke_reason: str | None
    certificate_sha256: str | None = None
    registration_expires: str | None = None
    revoke_entered_by: str | None = None
    revoke_entered_at: str | None = None
    revoked_on_event: str | None = None

    @property
    def may_sign(self) -> bool:
        """Active, and no revocation entered (entering one stops signing at once)."""
        return self.state is GrantState.ACTIVE and self.revoke_entered_by is None

    def to_json(self) -> dict[str, object]:
        return {
            "grant_id": self.grant_id,
            "user_id": self.user_id,
            "dea_number": self.dea_number,
            "state": self.state.value,
            "proposed_by": self.proposed_by,
            "proposed_at": self.proposed_at,
            "approved_by": self.approved_by,
            "approved_at": self.approved_at,
            "revoked_by": self.revoked_by,
            "revoked_at": self.revoked_at,
            "revoke_reason": self.revoke_reason,
            "certificate_sha256": self.certificate_sha256,
            "registration_expires": self.registration_expires,
            "revoke_entered_by": self.revoke_entered_by,
            "revoke_entered_at": self.revoke_entered_at,
            "revoked_on_event": self.revoked_on_event,
        }


_USER_COLUMNS = "user_id, full_name, role, dea_number, created_at, created_by, active"
_GRANT_COLUMNS = (
    "grant_id, user_id, dea_number, state, proposed_by, proposed_at, approved_by, "
    "approved_at, revoked_by, revoked_at, revoke_reason, certificate_sha256, "
    "registration_expires, revoke_entered_by, revoke_entered_at, revoked_on_event"
)


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def _user(row: tuple[object, ...]) -> RxUser:
    return RxUser(
        str(row[0]),
        str(row[1]),
        Role(str(row[2])),
        _opt(row[3]),
        str(row[4]),
        _opt(row[5]),
        bool(row[6]),
    )


def _grant(row: tuple[object, ...]) -> Grant:
    return Grant(
        int(str(row[0])),
        str(row[1]),
        str(row[2]),
        GrantState(str(row[3])),
        str(row[4]),
        str(row[5]),
        *(_opt(v) for v in row[6:]),
    )


class RxUsers:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM rx_users").fetchone()[0])

    def add(
        self,
        user_id: str,
        full_name: str,
        role: Role,
        dea_number: str | None,
        *,
        now: datetime,
        created_by: str | None,
    ) -> RxUser:
        if self.find(user_id) is not None:
            raise UserExists(f"A user '{user_id}' already exists; choose another user id.")
        if dea_number is not None and self.by_dea(dea_number) is not None:
            raise UserExists(
                f"DEA number {dea_number} already belongs to a user; a DEA "
                "registration belongs to one person."
            )
        self._conn.execute(
            "INSERT INTO rx_users (user_id, full_name, role, dea_number, created_at, created_by)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (user_id, full_name, role.value, dea_number, format_timestamp(now), created_by),
        )
        return self.get(user_id)

    def deactivate(self, user_id: str, *, now: datetime, by: str) -> None:
        self._conn.execute(
            "UPDATE rx_users SET active = 0, deactivated_at = ?, deactivated_by = ? "
            "WHERE user_id = ? AND active = 1",
            (format_timestamp(now), by, user_id),
        )

    def find(self, user_id: str) -> RxUser | None:
        row = self._conn.execute(
            f"SELECT {_USER_COLUMNS} FROM rx_users WHERE user_id = ?", (user_id,)
        ).fetchone()
        return None if row is None else _user(row)

    def get(self, user_id: str) -> RxUser:
        user = self.find(user_id)
        if user is None:
            raise UnknownUser(
                f"No prescribing user '{user_id}'; `csos rx user list` shows the users on record."
            )
        return user

    def by_dea(self, dea_number: str) -> RxUser | None:
        row = self._conn.execute(
            f"SELECT {_USER_COLUMNS} FROM rx_users WHERE dea_number = ?", (dea_number,)
        ).fetchone()
        return None if row is None else _user(row)

    def all(self) -> list[RxUser]:
        rows = self._conn.execute(f"SELECT {_USER_COLUMNS} FROM rx_users ORDER BY user_id")
        return [_user(r) for r in rows]


class RxGrants:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def propose(
        self,
        user_id: str,
        dea_number: str,
        *,
        certificate_sha256: str,
        registration_expires: date,
        by: str,
        now: datetime,
    ) -> Grant:
        cur = self._conn.execute(
            "INSERT INTO rx_grants (user_id, dea_number, state, proposed_by, proposed_at, "
            "registration_verified, certificate_sha256, registration_expires) "
            "VALUES (?, ?, 'proposed', ?, ?, 1, ?, ?)",
            (
                user_id,
                dea_number,
                by,
                format_timestamp(now),
                certificate_sha256,
                registration_expires.isoformat(),
            ),
        )
        return self.get(int(cur.lastrowid or 0))

    def approve(self, grant_id: int, *, by: str, now: datetime) -> Grant:
        self._conn.execute(
            "UPDATE rx_grants SET state = 'active', approved_by = ?, approved_at = ? "
            "WHERE grant_id = ? AND state = 'proposed'",
            (by, format_timestamp(now), grant_id),
        )
        return self.get(grant_id)

    def enter_revocation(self, grant_id: int, *, by: str, now: datetime, reason: str) -> Grant:
        """First person: the revocation is entered; the permission no longer signs."""
        self._conn.execute(
            "UPDATE rx_grants SET revoke_entered_by = ?, revoke_entered_at = ?, "
            "revoke_reason = ? WHERE grant_id = ? AND state = 'active'",
            (by, format_timestamp(now), reason, grant_id),
        )
        return self.get(grant_id)

    def revoke(
        self,
        grant_id: int,
        *,
        by: str,
        now: datetime,
        reason: str,
        on_event: str | None = None,
    ) -> Grant:
        """Execute a revocation: a second person's, or the application's on *on_event*."""
        self._conn.execute(
            "UPDATE rx_grants SET state = 'revoked', revoked_by = ?, revoked_at = ?, "
            "revoke_reason = ?, revoked_on_event = ? WHERE grant_id = ? AND state <> 'revoked'",
            (by, format_timestamp(now), reason, on_event, grant_id),
        )
        return self.get(grant_id)

    def open_for_dea(self, dea_number: str) -> list[Grant]:
        """Proposed or active permissions tied to this DEA registration."""
        rows = self._conn.execute(
            f"SELECT {_GRANT_COLUMNS} FROM rx_grants WHERE dea_number = ? "
            "AND state IN ('proposed', 'active') ORDER BY grant_id",
            (dea_number,),
        )
        return [_grant(r) for r in rows]

    def get(self, grant_id: int) -> Grant:
        row = self._conn.execute(
            f"SELECT {_GRANT_COLUMNS} FROM rx_grants WHERE grant_id = ?", (grant_id,)
        ).fetchone()
        if row is None:
            raise GrantNotFound(
                f"No signing permission #{grant_id}; `csos rx grant list` shows them."
            )
        return _grant(row)

    def open_for(self, user_id: str) -> Grant | None:
        """The user's proposed or active permission, if any (at most one is open)."""
        row = self._conn.execute(
            f"SELECT {_GRANT_COLUMNS} FROM rx_grants WHERE user_id = ? "
            "AND state IN ('proposed', 'active')",
            (user_id,),
        ).fetchone()
        return None if row is None else _grant(row)

    def all(self) -> list[Grant]:
        rows = self._conn.execute(f"SELECT {_GRANT_COLUMNS} FROM rx_grants ORDER BY grant_id")
        return [_grant(r) for r in rows]
