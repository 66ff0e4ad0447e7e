"""Opening the local store: connect, migrate (backup first), and hand out repositories."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from csos_desktop.store.access import RxGrants, RxUsers
from csos_desktop.store.audit import AuditLog
from csos_desktop.store.catalogue import CatalogueRepository
from csos_desktop.store.checkpoints import AuditCheckpoints
from csos_desktop.store.db import connect, corrupt_error, default_path, transaction
from csos_desktop.store.fulfilment import FulfilmentRepository
from csos_desktop.store.history import HistoryCache
from csos_desktop.store.migrations import MigrationReport, migrate
from csos_desktop.store.notices import NoticeRepository
from csos_desktop.store.orders import OrderRepository
from csos_desktop.store.outbox import Outbox
from csos_desktop.store.poa import PoaRegistry
from csos_desktop.store.prescriptions import Prescriptions
from csos_desktop.store.receipts import ReceiptRepository
from csos_desktop.store.signed import SignedOrders
from csos_desktop.store.statements import StatementRepository


class Store:
    """One connection to the order database and the repositories over it."""

    def __init__(
        self, conn: sqlite3.Connection, path: Path, migration: MigrationReport | None = None
    ) -> None:
        self.conn = conn
        self.path = path
        self.migration = migration
        self.orders = OrderRepository(conn)
        self.signed = SignedOrders(conn)
        self.receipts = ReceiptRepository(conn)
        self.statements = StatementRepository(conn)
        self.fulfilment = FulfilmentRepository(conn)
        self.notices = NoticeRepository(conn)
        self.poa = PoaRegistry(conn)
        self.outbox = Outbox(conn)
        self.audit = AuditLog(conn)
        self.checkpoints = AuditCheckpoints(conn)
        self.history = HistoryCache(conn)
        self.rx_users = RxUsers(conn)
        self.rx_grants = RxGrants(conn)
        self.prescriptions = Prescriptions(conn)
        self.catalogue = CatalogueRepository(conn)

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Everything written inside commits together, or nothing does."""
        with transaction(self.conn):
            yield self

    def integrity_errors(self) -> list[str]:
        """SQLite's own page-level check plus foreign keys; empty when all is well."""
        rows = [str(r[0]) for r in self.conn.execute("PRAGMA integrity_check")]
        problems = [] if rows == ["ok"] else rows
        problems += [
            f"dangling reference in {r[0]} row {r[1]}"
            for r in self.conn.execute("PRAGMA foreign_key_check")
        ]
        return problems

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_store(
    path: Path | None = None, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> Store:
    """Open (creating if needed) and migrate the store; default ``$CSOS_HOME/data/csos.db``."""
    path = default_path() if path is None else path
    conn = connect(path)
    try:
        report = migrate(conn, path, clock=clock)
    except BaseException:
        conn.close()
        raise
    try:
        conn.execute("SELECT count(*) FROM orders").fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise corrupt_error(path, exc) from exc
    return Store(conn, path, report)
