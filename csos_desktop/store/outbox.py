"""Messages waiting for the distributor, written in the same transaction as their cause.

The sync worker sends pending rows in order with ``idempotency_key`` so a
message sent twice (crash after sending, before marking) is applied once.
A withdrawn row (e.g. the order was voided before sending) is never sent.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from csos_desktop.domain.timestamps import format_timestamp


class OutboxKind(StrEnum):
    SUBMIT_ORDER = "submit-order"
    SUBMIT_RECEIPT = "submit-receipt"
    #: A purchaser's signed notice about a sent order: a cancellation (1305.28) or a
    #: lost-order statement (1305.26); the ``order_notices`` row says which. The stored
    #: value stays "cancel-order": the table's CHECK lists it, a new one is a migration.
    CANCEL_ORDER = "cancel-order"
    PRESCRIPTION = "prescription"


@dataclass(frozen=True)
class OutboxMessage:
    outbox_id: int
    kind: OutboxKind
    record_id: str
    idempotency_key: str
    created_at: str
    attempts: int
    last_error: str | None


class Outbox:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add(self, kind: OutboxKind, record_id: str, now: datetime) -> int:
        """Queue a message; the record id is its idempotency key (one message per record)."""
        cur = self._conn.execute(
            "INSERT INTO outbox (kind, record_id, idempotency_key, created_at) VALUES (?, ?, ?, ?)",
            (kind.value, record_id, f"{kind.value}:{record_id}", format_timestamp(now)),
        )
        return int(cur.lastrowid or 0)

    def pending(self, limit: int = 100) -> list[OutboxMessage]:
        rows = self._conn.execute(
            "SELECT outbox_id, kind, record_id, idempotency_key, created_at, attempts, "
            "last_error FROM outbox WHERE sent_at IS NULL AND withdrawn_at IS NULL "
            "ORDER BY outbox_id LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            OutboxMessage(
                int(r[0]),
                OutboxKind(str(r[1])),
                str(r[2]),
                str(r[3]),
                str(r[4]),
                int(r[5]),
                None if r[6] is None else str(r[6]),
            )
            for r in rows
        ]

    def mark_sent(self, outbox_id: int, now: datetime) -> None:
        self._conn.execute(
            "UPDATE outbox SET sent_at = COALESCE(sent_at, ?) WHERE outbox_id = ?",
            (format_timestamp(now), outbox_id),
        )

    def mark_failed(self, outbox_id: int, error: str) -> None:
        self._conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE outbox_id = ?",
            (error, outbox_id),
        )

    def withdraw(self, record_id: str, now: datetime) -> int:
        """Stop every unsent message about ``record_id``; returns how many were stopped."""
        cur = self._conn.execute(
            "UPDATE outbox SET withdrawn_at = ? WHERE record_id = ? AND sent_at IS NULL "
            "AND withdrawn_at IS NULL",
            (format_timestamp(now), record_id),
        )
        return cur.rowcount
