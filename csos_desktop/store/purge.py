"""Deleting orders older than the retention period, in one transaction, with its audit entry.

The keep-forever triggers yield only while a ``purge_permit`` row exists, and that
row lives only inside this transaction. Audit entries are never deleted: they
name the purged ids, and the chain stays whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store


def orders_before(store: Store, before: str) -> list[str]:
    """Ids of orders signed (or, if never signed, created) before *before* (YYYY-MM-DD)."""
    rows = store.conn.execute(
        "SELECT order_id FROM orders WHERE coalesce(date_signed, substr(created_at, 1, 10)) < ? "
        "ORDER BY created_at",
        (before,),
    )
    return [str(r[0]) for r in rows]


def purge_orders(
    store: Store,
    order_ids: Sequence[str],
    *,
    before: str,
    now: datetime,
    details: Mapping[str, object],
) -> int:
    """Delete the orders and everything linked to them; returns how many orders went."""
    if not order_ids:
        return 0
    marks = ", ".join("?" * len(order_ids))
    ids = list(order_ids)
    with store.transaction():
        c = store.conn
        c.execute("INSERT INTO purge_permit (only_row, before) VALUES (1, ?)", (before,))
        receipt_ids = [
            str(r[0])
            for r in c.execute(f"SELECT receipt_id FROM receipts WHERE order_id IN ({marks})", ids)
        ]
        if receipt_ids:
            rmarks = ", ".join("?" * len(receipt_ids))
            c.execute(f"DELETE FROM receipt_lines WHERE receipt_id IN ({rmarks})", receipt_ids)
            c.execute(f"DELETE FROM receipts WHERE receipt_id IN ({rmarks})", receipt_ids)
            c.execute(f"DELETE FROM outbox WHERE record_id IN ({rmarks})", receipt_ids)
        notice_ids = [
            str(r[0])
            for r in c.execute(
                f"SELECT notice_id FROM order_notices WHERE order_id IN ({marks})", ids
            )
        ]
        if notice_ids:
            nmarks = ", ".join("?" * len(notice_ids))
            c.execute(f"DELETE FROM cancellation_lines WHERE notice_id IN ({nmarks})", notice_ids)
            c.execute(f"DELETE FROM outbox WHERE record_id IN ({nmarks})", notice_ids)
            c.execute(f"DELETE FROM order_notices WHERE notice_id IN ({nmarks})", notice_ids)
        c.execute(
            "DELETE FROM statement_lines WHERE statement_id IN (SELECT statement_id FROM "
            f"statements WHERE order_id IN ({marks}))",
            ids,
        )
        c.execute(f"DELETE FROM statements WHERE order_id IN ({marks})", ids)
        c.execute(f"DELETE FROM order_fulfilment WHERE order_id IN ({marks})", ids)
        c.execute(f"DELETE FROM signed_orders WHERE order_id IN ({marks})", ids)
        c.execute(f"DELETE FROM order_lines WHERE order_id IN ({marks})", ids)
        c.execute(f"DELETE FROM outbox WHERE record_id IN ({marks})", ids)
        # A younger re-issue keeps its own record; the audit log still names what it re-issued.
        c.execute(f"UPDATE orders SET reissue_of = NULL WHERE reissue_of IN ({marks})", ids)
        c.execute(f"DELETE FROM orders WHERE order_id IN ({marks})", ids)
        c.execute("DELETE FROM purge_permit")
        store.audit.append(
            AuditEvent.ARCHIVE_PURGED,
            at=now,
            order_id=None,
            details={**details, "before": before, "orders": len(ids), "order_ids": ids},
        )
    return len(ids)
