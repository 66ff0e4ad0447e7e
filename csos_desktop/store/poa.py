"""The power-of-attorney registry: registrants, signed grants and revocations (1305.05)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csos_desktop.domain.errors import InputError
from csos_desktop.domain.poa import Holder, Registry
from csos_desktop.domain.timestamps import format_timestamp


class PoaNotFound(InputError):
    """No power of attorney has this id."""


@dataclass(frozen=True)
class Registrant:
    dea_number: str
    name: str
    certificates: frozenset[str]
    recorded_at: str


@dataclass(frozen=True)
class PoaRecord:
    """One power of attorney as kept, with its revocation when there is one."""

    poa_id: str
    dea_number: str
    holder_name: str
    granted_on: str
    granted_by_sha256: str
    certificates: tuple[str, ...]
    document: bytes
    signature: bytes
    revoked_at: str | None
    revocation_document: bytes | None
    revocation_signature: bytes | None
    revocation_reason: str | None
    ca_notified_at: str | None
    #: The attorney-in-fact's acceptance, signed on their own token (1305.05(c)).
    accepted_at: str | None = None
    acceptance_document: bytes | None = None
    acceptance_signature: bytes | None = None
    acceptance_certificate_sha256: str | None = None

    @property
    def current(self) -> bool:
        return self.revoked_at is None

    @property
    def accepted(self) -> bool:
        return self.accepted_at is not None

    @property
    def status(self) -> str:
        """current (accepted), pending-acceptance, or revoked."""
        if not self.current:
            return "revoked"
        return "current" if self.accepted else "pending-acceptance"

    @property
    def accepted_by(self) -> str | None:
        """The attorney's name as their signed acceptance gives it."""
        if self.acceptance_document is None:
            return None
        return str(json.loads(self.acceptance_document)["attorney_name"])

    def to_json(self) -> dict[str, object]:
        return {
            "poa_id": self.poa_id,
            "dea_number": self.dea_number,
            "holder_name": self.holder_name,
            "granted_on": self.granted_on,
            "accepted_by": self.accepted_by,
            "accepted_at": self.accepted_at,
            "certificates_sha256": list(self.certificates),
            "document_sha256": hashlib.sha256(self.document).hexdigest(),
            "status": self.status,
            "acceptance_certificate_sha256": self.acceptance_certificate_sha256,
            "revoked_at": self.revoked_at,
            "revocation_reason": self.revocation_reason,
            "ca_notified_at": self.ca_notified_at,
        }


_POA_COLUMNS = (
    "poa_id, dea_number, holder_name, granted_on, granted_by_sha256, document, signature, "
    "revoked_at, revocation_document, revocation_signature, revocation_reason, ca_notified_at, "
    "accepted_at, acceptance_document, acceptance_signature, acceptance_certificate_sha256"
)


def _blob(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _time(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class PoaRegistry:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    # -- registrants -------------------------------------------------------------------
    def record_registrant(
        self, dea_number: str, name: str, certificate_der: bytes, now: datetime
    ) -> None:
        self._conn.execute(
            "INSERT INTO poa_registrants (dea_number, name, certificate, certificate_sha256, "
            "recorded_at) VALUES (?, ?, ?, ?, ?)",
            (
                dea_number,
                name,
                bytes(certificate_der),
                hashlib.sha256(certificate_der).hexdigest(),
                format_timestamp(now),
            ),
        )

    def registrant(self, dea_number: str) -> Registrant | None:
        """The newest registrant of the DEA number, with every certificate recorded for them."""
        row = self._conn.execute(
            "SELECT name, recorded_at FROM poa_registrants WHERE dea_number = ? "
            "ORDER BY registrant_id DESC LIMIT 1",
            (dea_number,),
        ).fetchone()
        if row is None:
            return None
        certs = self._conn.execute(
            "SELECT certificate_sha256 FROM poa_registrants WHERE dea_number = ? AND name = ?",
            (dea_number, row[0]),
        ).fetchall()
        return Registrant(dea_number, str(row[0]), frozenset(str(c[0]) for c in certs), str(row[1]))

    def registrant_for_certificate(self, certificate_sha256: str) -> Registrant | None:
        """The current registrant whose recorded certificates include this one, if any."""
        for (dea,) in self._conn.execute(
            "SELECT DISTINCT dea_number FROM poa_registrants WHERE certificate_sha256 = ?",
            (certificate_sha256,),
        ).fetchall():
            reg = self.registrant(str(dea))
            if reg is not None and certificate_sha256 in reg.certificates:
                return reg
        return None

    def registrant_deas(self) -> list[str]:
        rows = self._conn.execute(
            "SELECT DISTINCT dea_number FROM poa_registrants ORDER BY dea_number"
        ).fetchall()
        return [str(r[0]) for r in rows]

    # -- grants ------------------------------------------------------------------------
    def insert_grant(
        self,
        *,
        poa_id: str,
        dea_number: str,
        holder_name: str,
        granted_on: str,
        granted_by_sha256: str,
        certificates: Sequence[str],
        document: bytes,
        signature: bytes,
    ) -> None:
        self._conn.execute(
            "INSERT INTO poa_grants (poa_id, dea_number, holder_name, granted_on, "
            "granted_by_sha256, document, signature, document_sha256, signature_sha256) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                poa_id,
                dea_number,
                holder_name,
                granted_on,
                granted_by_sha256,
                bytes(document),
                bytes(signature),
                hashlib.sha256(document).hexdigest(),
                hashlib.sha256(signature).hexdigest(),
            ),
        )
        self._conn.executemany(
            "INSERT INTO poa_certificates (poa_id, certificate_sha256) VALUES (?, ?)",
            [(poa_id, c) for c in sorted(set(certificates))],
        )

    def revoke(
        self, poa_id: str, *, document: bytes, signature: bytes, reason: str, now: datetime
    ) -> None:
        self._conn.execute(
            "UPDATE poa_grants SET revoked_at = ?, revocation_document = ?, "
            "revocation_signature = ?, revocation_reason = ? WHERE poa_id = ?",
            (format_timestamp(now), bytes(document), bytes(signature), reason, poa_id),
        )

    def accept(
        self,
        poa_id: str,
        *,
        document: bytes,
        signature: bytes,
        certificate_sha256: str,
        now: datetime,
    ) -> None:
        self._conn.execute(
            "UPDATE poa_grants SET acceptance_document = ?, acceptance_signature = ?, "
            "acceptance_certificate_sha256 = ?, accepted_at = ? WHERE poa_id = ?",
            (bytes(document), bytes(signature), certificate_sha256, format_timestamp(now), poa_id),
        )

    def mark_ca_notified(self, poa_id: str, now: datetime) -> None:
        self._conn.execute(
            "UPDATE poa_grants SET ca_notified_at = ? WHERE poa_id = ?",
            (format_timestamp(now), poa_id),
        )

    def get(self, poa_id: str) -> PoaRecord:
        row = self._conn.execute(
            f"SELECT {_POA_COLUMNS} FROM poa_grants WHERE poa_id = ?", (poa_id,)
        ).fetchone()
        if row is None:
            raise PoaNotFound(f"No power of attorney has the id {poa_id} (see `csos poa list`).")
        return self._record(row)

    def resolve(self, ref: str) -> PoaRecord:
        """By id, or by an unambiguous start of the id."""
        rows = self._conn.execute(
            f"SELECT {_POA_COLUMNS} FROM poa_grants WHERE poa_id = ? OR poa_id LIKE ? "
            "ORDER BY poa_id",
            (ref, ref.replace("%", "").replace("_", "") + "%"),
        ).fetchall()
        exact = [r for r in rows if r[0] == ref]
        if exact or len(rows) == 1:
            return self._record((exact or rows)[0])
        if not rows:
            raise PoaNotFound(f"No power of attorney has the id {ref} (see `csos poa list`).")
        raise PoaNotFound(f"{ref} matches several powers of attorney; give more of the id.")

    def grants(self, dea_number: str | None = None) -> list[PoaRecord]:
        if dea_number is None:
            rows = self._conn.execute(
                f"SELECT {_POA_COLUMNS} FROM poa_grants ORDER BY granted_on, poa_id"
            ).fetchall()
        else:
            rows = self._conn.execute(
                f"SELECT {_POA_COLUMNS} FROM poa_grants WHERE dea_number = ? "
                "ORDER BY granted_on, poa_id",
                (dea_number,),
            ).fetchall()
        return [self._record(r) for r in rows]

    def registry(self, dea_number: str) -> Registry:
        """The signing rule's view of one DEA number (two queries, however many holders)."""
        reg = self.registrant(dea_number)
        certs: dict[str, set[str]] = {}
        for poa_id, sha in self._conn.execute(
            "SELECT c.poa_id, c.certificate_sha256 FROM poa_certificates c JOIN poa_grants g "
            "ON g.poa_id = c.poa_id WHERE g.dea_number = ?",
            (dea_number,),
        ):
            certs.setdefault(str(poa_id), set()).add(str(sha))
        holders = tuple(
            Holder(
                str(poa_id),
                str(name),
                frozenset(certs.get(str(poa_id), ())),
                _time(revoked),
                _time(accepted),
            )
            for poa_id, name, revoked, accepted in self._conn.execute(
                "SELECT poa_id, holder_name, revoked_at, accepted_at FROM poa_grants "
                "WHERE dea_number = ? ORDER BY granted_on, poa_id",
                (dea_number,),
            )
        )
        return Registry(
            dea_number,
            None if reg is None else reg.name,
            frozenset() if reg is None else reg.certificates,
            holders,
        )

    def _record(self, r: Any) -> PoaRecord:
        certs = tuple(
            str(c[0])
            for c in self._conn.execute(
                "SELECT certificate_sha256 FROM poa_certificates WHERE poa_id = ? "
                "ORDER BY certificate_sha256",
                (r[0],),
            )
        )
        return PoaRecord(
            str(r[0]),
            str(r[1]),
            str(r[2]),
            str(r[3]),
            str(r[4]),
            certs,
            bytes(r[5]),
            bytes(r[6]),
            _text(r[7]),
            _blob(r[8]),
            _blob(r[9]),
            _text(r[10]),
            _text(r[11]),
            _text(r[12]),
            _blob(r[13]),
            _blob(r[14]),
            _text(r[15]),
        )
