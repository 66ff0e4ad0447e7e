"""Signed cancellations and lost-order statements, byte for byte, linked to their order."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from csos_desktop.domain.timestamps import format_timestamp


class NoticeKind(StrEnum):
    CANCELLATION = "cancellation"
    LOST_ORDER = "lost-order"


class NoticeOutcome(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"


@dataclass(frozen=True)
class StoredNotice:
    notice_id: str
    order_id: str
    kind: NoticeKind
    created_at: str
    document: bytes
    signature: bytes
    signature_sha256: str
    replacement_order_id: str | None
    outcome: NoticeOutcome
    outcome_reason: str | None
    outcome_at: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "notice_id": self.notice_id,
            "order_id": self.order_id,
            "kind": self.kind.value,
            "created_at": self.created_at,
            "replacement_order_id": self.replacement_order_id,
            "outcome": self.outcome.value,
            "outcome_reason": self.outcome_reason,
            "outcome_at": self.outcome_at,
        }


_COLUMNS = (
    "notice_id, order_id, kind, created_at, document, signature, signature_sha256, "
    "replacement_order_id, outcome, outcome_reason, outcome_at"
)


def _notice(r: Any) -> StoredNotice:
    return StoredNotice(
        str(r[0]),
        str(r[1]),
        NoticeKind(str(r[2])),
        str(r[3]),
        bytes(r[4]),
        bytes(r[5]),
        str(r[6]),
        None if r[7] is None else str(r[7]),
        NoticeOutcome(str(r[8])),
        None if r[9] is None else str(r[9]),
        None if r[10] is None else str(r[10]),
    )


class NoticeRepository:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def insert(
        self,
        notice_id: str,
        order_id: str,
        kind: NoticeKind,
        document: bytes,
        signature: bytes,
        now: datetime,
        *,
        replacement_order_id: str | None = None,
        cancelled: Mapping[int, int] | None = None,
    ) -> None:
        """Keep a signed notice (and a cancellation's lines) inside the caller's transaction."""
        self._conn.execute(
            "INSERT INTO order_notices (notice_id, order_id, kind, created_at, document, "
            "signature, document_sha256, signature_sha256, replacement_order_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                notice_id,
                order_id,
                kind.value,
                format_timestamp(now),
                bytes(document),
                bytes(signature),
                hashlib.sha256(document).hexdigest(),
                hashlib.sha256(signature).hexdigest(),
                replacement_order_id,
            ),
        )
        self._conn.executemany(
            "INSERT INTO cancellation_lines (notice_id, line_no, quantity_cancelled) "
            "VALUES (?, ?, ?)",
            [(notice_id, n, q) for n, q in sorted((cancelled or {}).items())],
        )

    def get(self, notice_id: str) -> StoredNotice:
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM order_notices WHERE notice_id = ?", (notice_id,)
        ).fetchone()
        if row is None:
            raise KeyError(notice_id)
        return _notice(row)

    def for_order(self, order_id: str) -> list[StoredNotice]:
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM order_notices WHERE order_id = ? OR replacement_order_id = ?"
            " ORDER BY created_at, rowid",
            (order_id, order_id),
        ).fetchall()
        return [_notice(r) for r in rows]

    def set_outcome(
        self, notice_id: str, outcome: NoticeOutcome, reason: str | None, now: datetime
    ) -> None:
        self._conn.execute(
            "UPDATE order_notices SET outcome = ?, outcome_reason = ?, outcome_at = ? "
            "WHERE notice_id = ?",
            (outcome.value, reason, format_timestamp(now), notice_id),
        )

    def cancelled(self, order_id: str, *, include_pending: bool = True) -> dict[int, int]:
        """Packages per line cancelled (accepted, and by default pending) on the order."""
        outcomes = ("accepted", "pending") if include_pending else ("accepted",)
        rows = self._conn.execute(
            "SELECT l.line_no, sum(l.quantity_cancelled) FROM cancellation_lines l "
            "JOIN order_notices n ON n.notice_id = l.notice_id WHERE n.order_id = ? "
            f"AND n.outcome IN ({', '.join('?' * len(outcomes))}) GROUP BY l.line_no",
            (order_id, *outcomes),
        ).fetchall()
        return {int(r[0]): int(r[1]) for r in rows}

    def cancellation_lines(self, notice_id: str) -> dict[int, int]:
        rows = self._conn.execute(
            "SELECT line_no, quantity_cancelled FROM cancellation_lines WHERE notice_id = ?",
            (notice_id,),
        ).fetchall()
        return {int(r[0]): int(r[1]) for r in rows}
