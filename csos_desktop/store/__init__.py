"""The local SQLite store: orders, signed records, receipts, outbox, audit log, history."""

from csos_desktop.store.local_store import Store, open_store

__all__ = ["Store", "open_store"]
