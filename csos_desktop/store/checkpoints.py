"""Signed checkpoints of the audit chain's head, stored exactly as signed.

What a checkpoint says (:func:`checkpoint_document`) is pure data; signing it on the
token and checking it are in :mod:`csos_desktop.services.audit.checkpoint`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from csos_desktop.domain.canonical import canonical_bytes

#: The document type inside every checkpoint, so a checkpoint is never mistaken for an order.
KIND = "csos-audit-checkpoint/1"


@dataclass(frozen=True)
class Checkpoint:
    checkpoint_id: int
    entry_id: int
    entry_sha256: str
    signed_at: str
    signer_subject: str
    document: bytes
    signature: bytes


def checkpoint_document(entry_id: int, entry_sha256: str, signed_at: str) -> bytes:
    """The canonical bytes signed: which entry, its hash, when."""
    return canonical_bytes(
        {"kind": KIND, "entry_id": entry_id, "entry_sha256": entry_sha256, "signed_at": signed_at}
    )


_COLUMNS = "checkpoint_id, entry_id, entry_sha256, signed_at, signer_subject, document, signature"


class AuditCheckpoints:
    """The checkpoints of one store connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add(
        self,
        entry_id: int,
        entry_sha256: str,
        signed_at: str,
        signer_subject: str,
        document: bytes,
        signature: bytes,
    ) -> Checkpoint:
        """Store one checkpoint; inside the transaction that also logs it."""
        if not self._conn.in_transaction:
            raise RuntimeError("checkpoints are stored inside the transaction that logs them")
        cur = self._conn.execute(
            "INSERT INTO audit_checkpoints (entry_id, entry_sha256, signed_at, signer_subject, "
            "document, signature) VALUES (?, ?, ?, ?, ?, ?)",
            (entry_id, entry_sha256, signed_at, signer_subject, document, signature),
        )
        checkpoint_id = int(cur.lastrowid or 0)
        return Checkpoint(
            checkpoint_id, entry_id, entry_sha256, signed_at, signer_subject, document, signature
        )

    def all(self) -> Iterator[Checkpoint]:
        for row in self._conn.execute(
            f"SELECT {_COLUMNS} FROM audit_checkpoints ORDER BY checkpoint_id"
        ):
            yield Checkpoint(
                int(row[0]),
                int(row[1]),
                str(row[2]),
                str(row[3]),
                str(row[4]),
                bytes(row[5]),
                bytes(row[6]),
            )
