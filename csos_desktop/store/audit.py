"""The append-only, hash-chained audit log (21 CFR 1311.150 auditable events).

Each entry stores the SHA-256 of the previous entry's canonical bytes; the
newest entry's hash is kept in ``audit_head``. Editing, deleting or inserting
an entry therefore breaks a link that ``verify`` names. Entries are appended
inside the caller's transaction, so an event is logged exactly when its change
is committed. Details never hold a PIN or a credential.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.timestamps import format_timestamp

GENESIS = "0" * 64


class AuditEvent(StrEnum):
    """What happened; the value is stored and shown."""

    STORE_MIGRATED = "store.migrated"
    ORDER_IMPORTED = "order.imported"
    ORDER_DRAFT_CHANGED = "order.draft-changed"
    ORDER_SIGNED = "order.signed"
    SIGNING_STOPPED = "signing.stopped"
    ORDER_VOIDED = "order.voided"
    ORDER_SUBMITTED = "order.submitted"
    ORDER_STATUS = "order.status"
    ORDER_REJECTED = "order.rejected"
    ORDER_REISSUED = "order.reissued"
    RECEIPT_RECORDED = "receipt.recorded"
    ORDER_EXPORTED = "order.exported"
    SOM_WARNING_ACKNOWLEDGED = "som.warning-acknowledged"
    CERTIFICATE_INSTALLED = "certificate.installed"
    SETTINGS_CHANGED = "settings.changed"
    TOKEN_PIN_CHANGED = "token.pin-changed"
    TOKEN_PIN_UNBLOCKED = "token.pin-unblocked"
    KEY_IMPORTED = "certificate.key-imported"
    TOKEN_LOSS_REPORTED = "token.loss-reported"
    TOKEN_LOSS_SENT = "token.loss-sent"
    RECEIPT_SENT = "receipt.sent"
    SYNC_REFUSED = "sync.refused"
    ARCHIVE_PURGED = "archive.purged"
    CATALOGUE_IMPORTED = "catalogue.imported"
    AUDIT_CHECKPOINT = "audit.checkpoint"
    # The legal workflow around an order (1305.05, 1305.26, 1305.28, 1305.22(e)).
    ORDER_CANCEL_REQUESTED = "order.cancel-requested"
    ORDER_CANCEL_ACCEPTED = "order.cancel-accepted"
    ORDER_CANCEL_REFUSED = "order.cancel-refused"
    ORDER_LOST = "order.lost-statement"
    ORDER_LOST_DELIVERED = "order.lost-statement-delivered"
    ORDER_LOST_REFUSED = "order.lost-statement-refused"
    ORDER_FULFILMENT = "order.fulfilment-reported"
    SUPPLIER_VOID = "order.supplier-void"
    # A signed statement from the distributor (shipment, void, non-acceptance), as checked.
    STATEMENT_VERIFIED = "order.statement-verified"
    STATEMENT_REJECTED = "order.statement-rejected"
    X12_RECEIVED = "order.x12-received"
    SOM_DISPOSITION = "som.disposition"
    POA_REGISTRANT_RECORDED = "poa.registrant-recorded"
    POA_GRANTED = "poa.granted"
    POA_ACCEPTED = "poa.accepted"
    POA_ACCEPT_REFUSED = "poa.accept-refused"
    POA_REVOKED = "poa.revoked"
    POA_CA_REQUEST = "poa.ca-request-produced"
    POA_CA_NOTIFIED = "poa.ca-notified"
    # EPCS (21 CFR 1311.150 / 1311.215); details name the user acting ("by").
    RX_USER_ADDED = "rx.user-added"
    RX_USER_DEACTIVATED = "rx.user-deactivated"
    RX_GRANT_PROPOSED = "rx.grant-proposed"
    RX_GRANT_APPROVED = "rx.grant-approved"
    RX_GRANT_REVOKED = "rx.grant-revoked"
    RX_GRANT_REVOKE_ENTERED = "rx.grant-revoke-entered"
    RX_REGISTRATION_ADDED = "rx.registration-added"
    RX_REGISTRATION_REMOVED = "rx.registration-removed"
    RX_ACCESS_DENIED = "rx.access-denied"
    RX_DRAFT_ADDED = "rx.draft-added"
    RX_DRAFT_CHANGED = "rx.draft-changed"
    RX_DRAFT_VOIDED = "rx.draft-voided"
    RX_SIGN_ATTEMPT = "rx.sign-attempt"
    RX_SIGNED = "rx.signed"
    RX_SIGN_FAILED = "rx.sign-failed"
    RX_AUTH_FAILED = "rx.auth-failed"
    RX_COPY_PRINTED = "rx.copy-printed"
    RX_TRANSMITTED = "rx.transmitted"
    RX_TRANSMISSION_FAILED = "rx.transmission-failed"
    RX_RECEIVED = "rx.received"
    RX_RECEIVED_SIGNED = "rx.received-signed-by-pharmacy"
    # EPCS records (1311.120(b)(27), 1311.150(b), 1311.215(b)).
    RX_MONTHLY_LOG_PRODUCED = "rx.monthly-log-produced"
    RX_MONTHLY_LOG_PURGED = "rx.monthly-log-purged"
    RX_ALERTS_RAISED = "rx.alerts-raised"
    RX_ALERT_ACKNOWLEDGED = "rx.alert-acknowledged"
    # A write to a protected (append-only) table refused by its trigger (1311.150(a)).
    STORE_WRITE_REFUSED = "store.write-refused"


@dataclass(frozen=True)
class AuditEntry:
    entry_id: int
    at: str
    event: str
    order_id: str | None
    details: Mapping[str, object]
    prev_sha256: str

    def canonical_bytes(self) -> bytes:
        """The bytes the next entry's ``prev_sha256`` is the hash of."""
        return canonical_bytes(
            {
                "entry_id": self.entry_id,
                "at": self.at,
                "event": self.event,
                "order_id": self.order_id,
                "details": dict(self.details),
                "prev_sha256": self.prev_sha256,
            }
        )

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_bytes()).hexdigest()

    def to_json(self) -> dict[str, object]:
        return {
            "entry_id": self.entry_id,
            "at": self.at,
            "event": self.event,
            "order_id": self.order_id,
            "details": dict(self.details),
            "prev_sha256": self.prev_sha256,
        }


@dataclass(frozen=True)
class BrokenLink:
    """The first place the chain does not hold, and why."""

    entry_id: int
    problem: str


@dataclass(frozen=True)
class AuditReport:
    entries: int
    head_sha256: str
    broken: BrokenLink | None

    @property
    def intact(self) -> bool:
        return self.broken is None

    def to_json(self) -> dict[str, object]:
        broken = (
            None
            if self.broken is None
            else {"entry_id": self.broken.entry_id, "problem": self.broken.problem}
        )
        return {
            "intact": self.intact,
            "entries": self.entries,
            "head_sha256": self.head_sha256,
            "first_broken": broken,
        }


_COLUMNS = "entry_id, at, event, order_id, details, prev_sha256"


class AuditLog:
    """Reads and appends the audit log of one store connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def append(
        self,
        event: AuditEvent,
        *,
        at: datetime,
        order_id: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> AuditEntry:
        """Add an entry; must run inside the transaction that makes the change it records."""
        if not self._conn.in_transaction:
            raise RuntimeError("audit entries are appended inside the change's transaction")
        head = self._conn.execute(
            "SELECT entry_id, entry_sha256 FROM audit_head WHERE only_row = 1"
        ).fetchone()
        last_id, prev = (0, GENESIS) if head is None else (int(head[0]), str(head[1]))
        entry = AuditEntry(
            last_id + 1, format_timestamp(at), event.value, order_id, dict(details or {}), prev
        )
        self._conn.execute(
            f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (
                entry.entry_id,
                entry.at,
                entry.event,
                entry.order_id,
                canonical_bytes(entry.details).decode("utf-8"),
                entry.prev_sha256,
            ),
        )
        self._conn.execute(
            "INSERT INTO audit_head (only_row, entry_id, entry_sha256) VALUES (1, ?, ?) "
            "ON CONFLICT (only_row) DO UPDATE SET entry_id = excluded.entry_id, "
            "entry_sha256 = excluded.entry_sha256",
            (entry.entry_id, entry.sha256),
        )
        return entry

    def entries(
        self,
        *,
        order_id: str | None = None,
        after: int = 0,
        limit: int | None = None,
        since: datetime | None = None,
        event_prefix: str | None = None,
    ) -> Iterator[AuditEntry]:
        """Entries in order, optionally only those about one order, logged at or after
        *since*, or whose event starts with *event_prefix* (``rx.``)."""
        sql = f"SELECT {_COLUMNS} FROM audit_log WHERE entry_id > ?"
        args: list[object] = [after]
        if order_id is not None:
            sql += " AND order_id = ?"
            args.append(order_id)
        if since is not None:
            sql += " AND at >= ?"
            args.append(format_timestamp(since))
        if event_prefix is not None:
            sql += " AND substr(event, 1, ?) = ?"
            args += [len(event_prefix), event_prefix]
        sql += " ORDER BY entry_id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        for row in self._conn.execute(sql, args):
            yield _entry(row)

    def latest(self, limit: int) -> list[AuditEntry]:
        """The newest *limit* entries, newest first (for screens; the chain is walked by verify)."""
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM audit_log ORDER BY entry_id DESC LIMIT ?", (limit,)
        )
        return [_entry(row) for row in rows]

    def verify(self) -> AuditReport:
        """Walk the chain from the first entry; report the first link that does not hold."""
        expected_id, prev, count = 1, GENESIS, 0
        for row in self._conn.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY entry_id"):
            entry_id = int(row[0])
            if entry_id != expected_id:
                return AuditReport(
                    count,
                    prev,
                    BrokenLink(
                        entry_id, f"entries {expected_id}..{entry_id - 1} are missing (deleted)"
                    ),
                )
            try:
                entry = _entry(row)
            except (ValueError, TypeError):
                return AuditReport(count, prev, BrokenLink(entry_id, "the entry is unreadable"))
            if entry.prev_sha256 != prev:
                what = (
                    "the first entry does not start the chain"
                    if entry_id == 1
                    else f"entry {entry_id - 1} was changed, or entry {entry_id} was altered"
                )
                return AuditReport(count, prev, BrokenLink(entry_id, what))
            prev = entry.sha256
            count += 1
            expected_id += 1
        head = self._conn.execute(
            "SELECT entry_id, entry_sha256 FROM audit_head WHERE only_row = 1"
        ).fetchone()
        head_id, head_hash = (0, GENESIS) if head is None else (int(head[0]), str(head[1]))
        if head_id != count:
            return AuditReport(
                count,
                prev,
                BrokenLink(
                    count + 1 if head_id > count else head_id,
                    f"the log should end at entry {head_id} but ends at entry {count}"
                    + (" (entries were deleted from the end)" if head_id > count else ""),
                ),
            )
        if head_hash != prev:
            return AuditReport(
                count, prev, BrokenLink(count, f"entry {count} (the newest) was changed")
            )
        return AuditReport(count, prev, None)


def _entry(row: tuple[object, ...]) -> AuditEntry:
    details = json.loads(str(row[4]))
    if not isinstance(details, dict):
        raise ValueError("details must be an object")
    return AuditEntry(
        int(str(row[0])),
        str(row[1]),
        str(row[2]),
        None if row[3] is None else str(row[3]),
        details,
        str(row[5]),
    )
