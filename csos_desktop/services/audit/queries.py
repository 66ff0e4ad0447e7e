"""What the front ends show of the audit log, as plain values read in one place.

The Activity screen and `csos audit` ask these instead of reading the log's repository;
each returns frozen records (``AuditEntry``, ``AuditReport``), never a cursor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from csos_desktop.store.audit import AuditEntry, AuditReport
    from csos_desktop.store.local_store import Store


def verify_log(store: Store) -> AuditReport:
    """Walk the hash chain from the first entry; the first link that does not hold, if any."""
    return store.audit.verify()


def database_problems(store: Store) -> tuple[str, ...]:
    """SQLite's page-level check and the foreign keys; empty when all is well."""
    return tuple(store.integrity_errors())


def latest_entries(store: Store, limit: int) -> tuple[AuditEntry, ...]:
    """The newest *limit* entries, newest first (for a screen; ``verify_log`` walks them all)."""
    return tuple(store.audit.latest(limit))


def entries(
    store: Store, *, order_ref: str | None = None, after: int = 0, limit: int | None = None
) -> tuple[AuditEntry, ...]:
    """Entries oldest first: after entry *after*, about the order *order_ref* names if given
    (id, id prefix or order number; ``OrderNotFound`` if it names none)."""
    order_id = None if order_ref is None else store.orders.resolve(order_ref).order_id
    return tuple(store.audit.entries(order_id=order_id, after=after, limit=limit))
