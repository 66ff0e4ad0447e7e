"""Prescription drafts, signed prescriptions byte for byte, and their outbox rows.

A draft row holds the canonical ``csos-rx/1`` bytes of the unsigned
prescription and their SHA-256; every write to a draft names the digest it
expects, so two windows cannot overwrite each other silently. Once signed, the
exact bytes and the CMS DER go into ``signed_prescriptions``; triggers refuse
any later change (21 CFR 1311.120(b)).
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from csos_desktop.domain.canonical import canonical_bytes, load_document
from csos_desktop.domain.errors import CsosError, InputError
from csos_desktop.domain.prescription import Prescription
from csos_desktop.domain.timestamps import format_timestamp

#: The outbox kind the sync worker sends to ``/v1/pharmacies/{id}/prescriptions``.
OUTBOX_KIND = "prescription"


class RxState(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    VOID = "void"


class PrescriptionNotFound(InputError):
    """No prescription in the store has this id."""


class DraftChanged(CsosError):
    """The draft changed (another window, another user) since it was read; nothing was saved."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def patient_key(rx: Prescription) -> str:
    """Same patient = same name and address, as the signing list groups them (1311.140(a)(1))."""
    return digest(canonical_bytes(rx.patient.to_document()))


@dataclass(frozen=True)
class RxRecord:
    """One prescription row as stored."""

    rx_id: str
    state: RxState
    patient_key: str
    patient_name: str
    practitioner_dea: str
    drug: str
    schedule: str
    draft_sha256: str
    prepared_by: str
    created_at: str
    updated_at: str

    def to_json(self) -> dict[str, object]:
        return {
            "rx_id": self.rx_id,
            "state": self.state.value,
            "patient_key": self.patient_key[:12],
            "patient": self.patient_name,
            "practitioner_dea": self.practitioner_dea,
            "drug": self.drug,
            "schedule": self.schedule,
            "draft_sha256": self.draft_sha256,
            "prepared_by": self.prepared_by,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True)
class SignedRx:
    """The archived proof of one signed prescription."""

    rx_id: str
    document: bytes
    signature: bytes
    document_sha256: str
    signature_sha256: str
    signed_at: str
    signed_by: str
    signer_subject: str
    signer_dea: str
    certificate_sha256: str

    def intact(self) -> bool:
        return (
            digest(self.document) == self.document_sha256
            and digest(self.signature) == self.signature_sha256
        )


@dataclass(frozen=True)
class Transmission:
    """Where the prescription's outbox message stands (the sync worker updates it)."""

    outbox_id: int
    attempts: int
    last_error: str | None
    sent_at: str | None

    @property
    def status(self) -> str:
        if self.sent_at is not None:
            return "transmitted"
        return "failed, will retry" if self.last_error else "waiting to be sent"


_COLUMNS = (
    "rx_id, state, patient_key, patient_name, practitioner_dea, drug, schedule, "
    "draft_sha256, prepared_by, created_at, updated_at"
)
_SIGNED = (
    "rx_id, document, signature, document_sha256, signature_sha256, signed_at, "
    "signed_by, signer_subject, signer_dea, certificate_sha256"
)


def _record(row: tuple[object, ...]) -> RxRecord:
    return RxRecord(str(row[0]), RxState(str(row[1])), *(str(v) for v in row[2:]))


class Prescriptions:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def insert_draft(self, rx: Prescription, *, prepared_by: str, now: datetime) -> RxRecord:
        document = canonical_bytes(rx.to_document())
        stamp = format_timestamp(now)
        self._conn.execute(
            f"INSERT INTO prescriptions ({_COLUMNS}, draft_document) "
            "VALUES (?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rx.rx_id,
                patient_key(rx),
                rx.patient.name,
                rx.practitioner.dea_number.value,
                _drug(rx),
                rx.drug.schedule.value,
                digest(document),
                prepared_by,
                stamp,
                stamp,
                document,
            ),
        )
        return self.get(rx.rx_id)

    def replace_draft(self, rx: Prescription, *, expected_sha256: str, now: datetime) -> RxRecord:
        document = canonical_bytes(rx.to_document())
        cur = self._conn.execute(
            "UPDATE prescriptions SET patient_key = ?, patient_name = ?, practitioner_dea = ?, "
            "drug = ?, schedule = ?, draft_document = ?, draft_sha256 = ?, updated_at = ? "
            "WHERE rx_id = ? AND state = 'draft' AND draft_sha256 = ?",
            (
                patient_key(rx),
                rx.patient.name,
                rx.practitioner.dea_number.value,
                _drug(rx),
                rx.drug.schedule.value,
                document,
                digest(document),
                format_timestamp(now),
                rx.rx_id,
                expected_sha256,
            ),
        )
        self._changed(cur, rx.rx_id)
        return self.get(rx.rx_id)

    def void(self, rx_id: str, *, expected_sha256: str, now: datetime) -> RxRecord:
        cur = self._conn.execute(
            "UPDATE prescriptions SET state = 'void', updated_at = ? "
            "WHERE rx_id = ? AND state = 'draft' AND draft_sha256 = ?",
            (format_timestamp(now), rx_id, expected_sha256),
        )
        self._changed(cur, rx_id)
        return self.get(rx_id)

    def mark_signed(
        self,
        rx_id: str,
        *,
        expected_sha256: str,
        document: bytes,
        signature: bytes,
        signed_at: datetime,
        signed_by: str,
        signer_subject: str,
        signer_dea: str,
        certificate_der: bytes,
    ) -> SignedRx:
        """Draft -> signed and the signed bytes archived; the caller's transaction commits."""
        stamp = format_timestamp(signed_at)
        cur = self._conn.execute(
            "UPDATE prescriptions SET state = 'signed', updated_at = ? "
            "WHERE rx_id = ? AND state = 'draft' AND draft_sha256 = ?",
            (stamp, rx_id, expected_sha256),
        )
        self._changed(cur, rx_id)
        self._conn.execute(
            f"INSERT INTO signed_prescriptions ({_SIGNED}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rx_id,
                bytes(document),
                bytes(signature),
                digest(document),
                digest(signature),
                stamp,
                signed_by,
                signer_subject,
                signer_dea,
                digest(certificate_der),
            ),
        )
        return self.signed(rx_id)

    def queue_transmission(self, rx_id: str, now: datetime) -> int:
        """The outbox row the sync worker sends; the rx id is its idempotency key."""
        cur = self._conn.execute(
            "INSERT INTO outbox (kind, record_id, idempotency_key, created_at) VALUES (?, ?, ?, ?)",
            (OUTBOX_KIND, rx_id, f"{OUTBOX_KIND}:{rx_id}", format_timestamp(now)),
        )
        return int(cur.lastrowid or 0)

    def transmission(self, rx_id: str) -> Transmission | None:
        row = self._conn.execute(
            "SELECT outbox_id, attempts, last_error, sent_at FROM outbox "
            "WHERE kind = ? AND record_id = ?",
            (OUTBOX_KIND, rx_id),
        ).fetchone()
        if row is None:
            return None
        return Transmission(
            int(row[0]),
            int(row[1]),
            None if row[2] is None else str(row[2]),
            None if row[3] is None else str(row[3]),
        )

    def exists(self, rx_id: str) -> bool:
        return (
            self._conn.execute("SELECT 1 FROM prescriptions WHERE rx_id = ?", (rx_id,)).fetchone()
            is not None
        )

    def get(self, rx_id: str) -> RxRecord:
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM prescriptions WHERE rx_id = ?", (rx_id,)
        ).fetchone()
        if row is None:
            raise PrescriptionNotFound(
                f"No prescription {rx_id} in the store; `csos rx queue` lists the drafts."
            )
        return _record(row)

    def resolve(self, ref: str) -> RxRecord:
        """A prescription by its id or an unambiguous start of it (at least 6 characters)."""
        ref = ref.strip().lower()
        if len(ref) < 6:
            raise InputError("Give at least the first 6 characters of the prescription id.")
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM prescriptions WHERE rx_id >= ? AND rx_id < ? LIMIT 2",
            (ref, ref + "\U0010ffff"),
        ).fetchall()
        if len(rows) > 1:
            raise InputError(f"More than one prescription id starts with {ref}; give more of it.")
        if not rows:
            return self.get(ref)
        return _record(rows[0])

    def prescription(self, rx_id: str) -> Prescription:
        """The draft as stored (its canonical bytes read back strictly)."""
        row = self._conn.execute(
            "SELECT draft_document FROM prescriptions WHERE rx_id = ?", (rx_id,)
        ).fetchone()
        if row is None:
            raise PrescriptionNotFound(f"No prescription {rx_id} in the store.")
        return Prescription.from_document(load_document(bytes(row[0])))

    def drafts(
        self, *, practitioner_dea: str | None = None, patient: str | None = None
    ) -> list[RxRecord]:
        """Drafts waiting for signature, by practitioner, patient, then age."""
        sql = f"SELECT {_COLUMNS} FROM prescriptions WHERE state = 'draft'"
        args: list[object] = []
        if practitioner_dea is not None:
            sql += " AND practitioner_dea = ?"
            args.append(practitioner_dea)
        if patient is not None:
            sql += " AND patient_key = ?"
            args.append(patient)
        sql += " ORDER BY practitioner_dea, patient_name, patient_key, created_at, rx_id"
        return [_record(r) for r in self._conn.execute(sql, args)]

    def signed(self, rx_id: str) -> SignedRx:
        row = self._conn.execute(
            f"SELECT {_SIGNED} FROM signed_prescriptions WHERE rx_id = ?", (rx_id,)
        ).fetchone()
        if row is None:
            raise PrescriptionNotFound(f"Prescription {rx_id} has not been signed.")
        return SignedRx(str(row[0]), bytes(row[1]), bytes(row[2]), *(str(v) for v in row[3:]))

    def all_signed(self) -> list[SignedRx]:
        """Every signed prescription, oldest first (the signed bytes are the record)."""
        rows = self._conn.execute(
            f"SELECT {_SIGNED} FROM signed_prescriptions ORDER BY signed_at, rx_id"
        )
        return [
            SignedRx(str(r[0]), bytes(r[1]), bytes(r[2]), *(str(v) for v in r[3:])) for r in rows
        ]

    def _changed(self, cur: sqlite3.Cursor, rx_id: str) -> None:
        if cur.rowcount == 1:
            return
        state = self.get(rx_id).state  # raises PrescriptionNotFound for an unknown id
        if state is not RxState.DRAFT:
            raise DraftChanged(f"Prescription {rx_id} is {state.value}; only a draft can change.")
        raise DraftChanged(
            f"Prescription {rx_id} was changed by someone else since you opened "
            "it; nothing was saved. Open it again and review the new version."
        )


def _drug(rx: Prescription) -> str:
    return f"{rx.drug.name} {rx.drug.strength} {rx.drug.dosage_form}"
