"""What the distributor said about an order (not accepted, shipped, voided), kept as received.

1305.25: the supplier tells the purchaser why an order was not accepted; the
purchaser links that statement to the original order and keeps both. A signed
statement is kept with the verdict of checking it: only a verified one is the
supplier's word; a rejected one is kept byte for byte, with the reason, as evidence.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from csos_desktop.domain.timestamps import format_timestamp


class StatementKind(StrEnum):
    NON_ACCEPTANCE = "non-acceptance"
    SUPPLIER_VOID = "supplier-void"
    SHIPMENT = "shipment"


class Verification(StrEnum):
    """What checking a statement's signature found when it arrived."""

    UNSIGNED = "unsigned"  # text from the distributor's record: no signature to check
    VERIFIED = "verified"  # the supplier's word: CMS, chain, signer and order binding held
    REJECTED = "rejected"  # signed, but it failed: kept as received, never as proof


@dataclass(frozen=True)
class Statement:
    statement_id: int
    order_id: str
    kind: StatementKind
    reason: str
    received_at: str
    media_type: str
    body: bytes
    body_sha256: str
    #: Detached CMS over ``body`` by the distributor, when it signed the statement.
    signature: bytes | None = None
    verification: Verification = Verification.UNSIGNED
    #: Why a signed statement was rejected (``verification`` REJECTED only).
    rejection: str | None = None

    @property
    def verified(self) -> bool:
        return self.verification is Verification.VERIFIED

    @property
    def file_suffix(self) -> str:
        return {
            "application/json": ".json",
            "text/plain": ".txt",
            "application/pkcs7-signature": ".p7s",
        }.get(self.media_type, ".bin")


class StatementRepository:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def insert(
        self,
        order_id: str,
        kind: StatementKind,
        reason: str,
        body: bytes,
        media_type: str,
        received_at: datetime,
        signature: bytes | None = None,
        *,
        rejection: str | None = None,
    ) -> int:
        """Keep a statement; a signed one is verified unless a *rejection* reason is given."""
        if signature is None:
            verification = Verification.UNSIGNED
        else:
            verification = Verification.VERIFIED if rejection is None else Verification.REJECTED
        cur = self._conn.execute(
            "INSERT INTO statements (order_id, kind, reason, received_at, media_type, body, "
            "body_sha256, signature, verification, rejection) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                order_id,
                kind.value,
                reason,
                format_timestamp(received_at),
                media_type,
                bytes(body),
                hashlib.sha256(body).hexdigest(),
                None if signature is None else bytes(signature),
                verification.value,
                rejection if verification is Verification.REJECTED else None,
            ),
        )
        return int(cur.lastrowid or 0)

    def has_signed(self, order_id: str, body: bytes, signature: bytes) -> bool:
        """Whether this exact signed statement is already kept (verified or rejected)."""
        return (
            self._conn.execute(
                "SELECT 1 FROM statements WHERE order_id = ? AND body_sha256 = ? AND signature = ?",
                (order_id, hashlib.sha256(body).hexdigest(), bytes(signature)),
            ).fetchone()
            is not None
        )

    def add_void_lines(self, statement_id: int, voided: dict[int, int]) -> None:
        """Per-line quantities of a supplier-void statement (inside the caller's transaction)."""
        self._conn.executemany(
            "INSERT INTO statement_lines (statement_id, line_no, quantity_voided) VALUES (?, ?, ?)",
            [(statement_id, n, q) for n, q in sorted(voided.items()) if q > 0],
        )

    def void_lines(self, statement_id: int) -> dict[int, int]:
        rows = self._conn.execute(
            "SELECT line_no, quantity_voided FROM statement_lines WHERE statement_id = ? "
            "ORDER BY line_no",
            (statement_id,),
        ).fetchall()
        return {int(r[0]): int(r[1]) for r in rows}

    def voided_by_supplier(self, order_id: str) -> dict[int, int]:
        """Packages per line the supplier's void statements took off the order."""
        rows = self._conn.execute(
            "SELECT l.line_no, sum(l.quantity_voided) FROM statement_lines l JOIN statements s "
            "ON s.statement_id = l.statement_id WHERE s.order_id = ? AND s.kind = ? "
            "GROUP BY l.line_no",
            (order_id, StatementKind.SUPPLIER_VOID.value),
        ).fetchall()
        return {int(r[0]): int(r[1]) for r in rows}

    def for_order(self, order_id: str) -> list[Statement]:
        rows = self._conn.execute(
            "SELECT statement_id, order_id, kind, reason, received_at, media_type, body, "
            "body_sha256, signature, verification, rejection FROM statements WHERE order_id = ? "
            "ORDER BY statement_id",
            (order_id,),
        ).fetchall()
        return [
            Statement(
                int(r[0]),
                str(r[1]),
                StatementKind(str(r[2])),
                str(r[3]),
                str(r[4]),
                str(r[5]),
                bytes(r[6]),
                str(r[7]),
                None if r[8] is None else bytes(r[8]),
                Verification(str(r[9])),
                None if r[10] is None else str(r[10]),
            )
            for r in rows
        ]
