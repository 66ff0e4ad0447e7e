"""Signed electronic receipts (``csos-receipt/1``), byte for byte, linked to their order."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csos_desktop.domain.canonical import load_document
from csos_desktop.domain.receipt import Receipt
from csos_desktop.domain.timestamps import format_timestamp


@dataclass(frozen=True)
class StoredReceipt:
    receipt: Receipt
    document: bytes
    signature: bytes
    #: When the store recorded the signature (None for receipts kept before it was recorded).
    signed_at: str | None = None

    @property
    def signature_sha256(self) -> str:
        return hashlib.sha256(self.signature).hexdigest()


class ReceiptRepository:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def insert(
        self, receipt: Receipt, document: bytes, signature: bytes, *, signed_at: datetime
    ) -> None:
        """Keep a signed receipt and its lines (inside the caller's transaction).

        *signed_at*: the store's own time of signing, not the signature's claim.
        """
        self._conn.execute(
            "INSERT INTO receipts (receipt_id, order_id, received_at, document, signature, "
            "document_sha256, signature_sha256, signed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                receipt.receipt_id,
                receipt.order_id,
                format_timestamp(receipt.received_at),
                bytes(document),
                bytes(signature),
                hashlib.sha256(document).hexdigest(),
                hashlib.sha256(signature).hexdigest(),
                format_timestamp(signed_at),
            ),
        )
        self._conn.executemany(
            "INSERT INTO receipt_lines (receipt_id, line_no, quantity_received, date_received)"
            " VALUES (?, ?, ?, ?)",
            [
                (receipt.receipt_id, ln.line_no, ln.quantity_received, ln.date_received.isoformat())
                for ln in receipt.lines
            ],
        )

    def get(self, receipt_id: str) -> StoredReceipt:
        """One receipt by id, read back from its signed bytes."""
        row = self._conn.execute(
            "SELECT document, signature, signed_at FROM receipts WHERE receipt_id = ?",
            (receipt_id,),
        ).fetchone()
        if row is None:
            raise KeyError(receipt_id)
        return _stored(row)

    def for_order(self, order_id: str) -> list[StoredReceipt]:
        """Every receipt of the order, oldest first, read back from the signed bytes."""
        rows = self._conn.execute(
            "SELECT document, signature, signed_at FROM receipts WHERE order_id = ? "
            "ORDER BY received_at, rowid",
            (order_id,),
        ).fetchall()
        return [_stored(row) for row in rows]


def _stored(row: Sequence[Any]) -> StoredReceipt:
    document = bytes(row[0])
    return StoredReceipt(
        Receipt.from_document(load_document(document)),
        document,
        bytes(row[1]),
        None if row[2] is None else str(row[2]),
    )
