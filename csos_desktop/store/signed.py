"""Signed order documents and their CMS signatures, byte for byte.

The document bytes are exactly what the token signed and the signature is
the DER the CMS signer produced; both go in and come out as ``bytes`` with no
re-serialisation. Triggers refuse any update or delete.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from csos_desktop.domain.timestamps import format_timestamp
from csos_desktop.store.orders import OrderNotFound


@dataclass(frozen=True)
class SignedRecord:
    """The archived proof of one signed order."""

    order_id: str
    document: bytes
    signature: bytes
    document_sha256: str
    signature_sha256: str
    signed_at: str
    signer_subject: str
    signer_dea: str
    certificate_sha256: str

    def intact(self) -> bool:
        """The stored hashes still match the stored bytes."""
        return (
            hashlib.sha256(self.document).hexdigest() == self.document_sha256
            and hashlib.sha256(self.signature).hexdigest() == self.signature_sha256
        )


_COLUMNS = (
    "order_id, document, signature, document_sha256, signature_sha256, signed_at, "
    "signer_subject, signer_dea, certificate_sha256"
)


class SignedOrders:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def insert(
        self,
        order_id: str,
        document: bytes,
        signature: bytes,
        *,
        signed_at: datetime,
        signer_subject: str,
        signer_dea: str,
        certificate_der: bytes,
    ) -> SignedRecord:
        record = SignedRecord(
            order_id,
            bytes(document),
            bytes(signature),
            hashlib.sha256(document).hexdigest(),
            hashlib.sha256(signature).hexdigest(),
            format_timestamp(signed_at),
            signer_subject,
            signer_dea,
            hashlib.sha256(certificate_der).hexdigest(),
        )
        self._conn.execute(
            f"INSERT INTO signed_orders ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.order_id,
                record.document,
                record.signature,
                record.document_sha256,
                record.signature_sha256,
                record.signed_at,
                record.signer_subject,
                record.signer_dea,
                record.certificate_sha256,
            ),
        )
        return record

    def get(self, order_id: str) -> SignedRecord:
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM signed_orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        if row is None:
            raise OrderNotFound(f"Order {order_id} has not been signed.")
        return SignedRecord(str(row[0]), bytes(row[1]), bytes(row[2]), *(str(v) for v in row[3:]))

    def ids_signed_between(self, since: str, until: str) -> Iterator[str]:
        """Ids of orders signed at or after *since* and before *until* (ISO text), oldest first.

        Yields as it reads, so an archive of 100,000 orders never holds them all.
        """
        rows = self._conn.execute(
            "SELECT order_id FROM signed_orders WHERE signed_at >= ? AND signed_at < ? "
            "ORDER BY signed_at, order_id",
            (since, until),
        )
        for row in rows:
            yield str(row[0])

    def find(self, order_id: str) -> SignedRecord | None:
        try:
            return self.get(order_id)
        except OrderNotFound:
            return None
