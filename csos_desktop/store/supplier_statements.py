"""Keeping a distributor's signed statement with the verdict of checking it.

The check itself is the caller's (``sync.statements.verify_statement``); here the
statement is stored byte for byte with its signature, and the verdict is audited in
the same transaction. A statement already kept is not kept twice: the distributor's
order record repeats every statement on every read.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store
from csos_desktop.store.statements import StatementKind


def record_signed_statement(
    store: Store,
    order_id: str,
    kind: StatementKind,
    document: bytes,
    signature: bytes,
    *,
    summary: str,
    rejection: str | None,
    now: datetime,
) -> int | None:
    """Keep one signed statement (verified, or rejected with *rejection*); its id, or None
    when this exact statement is already kept."""
    with store.transaction():
        if store.statements.has_signed(order_id, document, signature):
            return None
        rec = store.orders.get(order_id)
        sid = store.statements.insert(
            order_id,
            kind,
            summary if rejection is None else f"rejected: {rejection}",
            document,
            "application/json",
            now,
            signature,
            rejection=rejection,
        )
        details: dict[str, object] = {
            "order_number": rec.order_number,
            "statement_id": sid,
            "kind": kind.value,
            "document_sha256": hashlib.sha256(document).hexdigest(),
            "signature_sha256": hashlib.sha256(signature).hexdigest(),
        }
        if rejection is not None:
            details["reason"] = rejection
        store.audit.append(
            AuditEvent.STATEMENT_VERIFIED if rejection is None else AuditEvent.STATEMENT_REJECTED,
            at=now,
            order_id=order_id,
            details=details,
        )
        return sid
