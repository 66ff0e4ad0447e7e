"""Opening the local store: connect, migrate (backup first), and hand out repositories."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Generic, TypeVar, overload

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.store import pool
from csos_desktop.store.db import corrupt_error, default_path, transaction
from csos_desktop.store.filesystem import read_mountinfo, refuse_network_share
from csos_desktop.store.migrations import MigrationReport, migrate

if TYPE_CHECKING:
    from csos_desktop.store.access import RxGrants, RxUsers
    from csos_desktop.store.audit import AuditLog
    from csos_desktop.store.catalogue import CatalogueRepository
    from csos_desktop.store.checkpoints import AuditCheckpoints
    from csos_desktop.store.epcs_records import EpcsRecords
    from csos_desktop.store.fulfilment import FulfilmentRepository
    from csos_desktop.store.history import HistoryCache
    from csos_desktop.store.notices import NoticeRepository
    from csos_desktop.store.orders import OrderRepository
    from csos_desktop.store.outbox import Outbox
    from csos_desktop.store.poa import PoaRegistry
    from csos_desktop.store.prescriptions import Prescriptions
    from csos_desktop.store.receipts import ReceiptRepository
    from csos_desktop.store.registrations import RxRegistrations
    from csos_desktop.store.script_messages import ScriptMessages
    from csos_desktop.store.signed import SignedOrders
    from csos_desktop.store.statements import StatementRepository
    from csos_desktop.store.x12 import X12Interchanges

R = TypeVar("R")


class _Repository(Generic[R]):
    """A repository made on first use, once per Store.

    `csos order list` then imports neither the prescription, catalogue nor power-of-attorney
    code, and the GUI's first paint only what Home reads, to keep start-up quick.
    """

    def __init__(self, module: str, name: str) -> None:
        self._module = "csos_desktop.store." + module
        self._name = name

    def __set_name__(self, owner: type, attr: str) -> None:
        self._attr = attr

    @overload
    def __get__(self, store: None, owner: type) -> _Repository[R]: ...
    @overload
    def __get__(self, store: Store, owner: type) -> R: ...
    def __get__(self, store: Store | None, owner: type) -> R | _Repository[R]:
        if store is None:
            return self
        repository: R = getattr(import_module(self._module), self._name)(store.conn)
        store.__dict__[self._attr] = repository  # later reads find the attribute itself
        return repository


class Store:
    """One connection to the order database and the repositories over it."""

    orders: _Repository[OrderRepository] = _Repository("orders", "OrderRepository")
    signed: _Repository[SignedOrders] = _Repository("signed", "SignedOrders")
    receipts: _Repository[ReceiptRepository] = _Repository("receipts", "ReceiptRepository")
    statements: _Repository[StatementRepository] = _Repository("statements", "StatementRepository")
    fulfilment: _Repository[FulfilmentRepository] = _Repository(
        "fulfilment", "FulfilmentRepository"
    )
    notices: _Repository[NoticeRepository] = _Repository("notices", "NoticeRepository")
    poa: _Repository[PoaRegistry] = _Repository("poa", "PoaRegistry")
    outbox: _Repository[Outbox] = _Repository("outbox", "Outbox")
    audit: _Repository[AuditLog] = _Repository("audit", "AuditLog")
    checkpoints: _Repository[AuditCheckpoints] = _Repository("checkpoints", "AuditCheckpoints")
    history: _Repository[HistoryCache] = _Repository("history", "HistoryCache")
    rx_users: _Repository[RxUsers] = _Repository("access", "RxUsers")
    rx_grants: _Repository[RxGrants] = _Repository("access", "RxGrants")
    rx_registrations: _Repository[RxRegistrations] = _Repository("registrations", "RxRegistrations")
    prescriptions: _Repository[Prescriptions] = _Repository("prescriptions", "Prescriptions")
    catalogue: _Repository[CatalogueRepository] = _Repository("catalogue", "CatalogueRepository")
    script: _Repository[ScriptMessages] = _Repository("script_messages", "ScriptMessages")
    x12: _Repository[X12Interchanges] = _Repository("x12", "X12Interchanges")
    epcs: _Repository[EpcsRecords] = _Repository("epcs_records", "EpcsRecords")

    def __init__(
        self, conn: sqlite3.Connection, path: Path, migration: MigrationReport | None = None
    ) -> None:
        self.conn = conn
        self.path = path
        self.migration = migration
        self._closed = False

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
        """Give the connection back to the process's pool (once).

        The store is unusable afterwards, as a closed connection is: the pooled one may
        already serve another job.
        """
        if self._closed:
            return
        self._closed = True
        conn, self.conn = self.conn, _closed_connection()
        for name in _REPOSITORIES & self.__dict__.keys():
            del self.__dict__[name]  # made again on the closed connection if used
        pool.release(self.path, conn)

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


#: The repositories a Store makes on first use (cached in its __dict__).
_REPOSITORIES = frozenset(k for k, v in vars(Store).items() if isinstance(v, _Repository))


def _closed_connection() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.close()
    return conn


def open_store(
    path: Path | None = None,
    *,
    clock: Clock = utc_now,
    mounts: Callable[[], str | None] = read_mountinfo,
) -> Store:
    """Open (creating if needed) and migrate the store; default ``$CSOS_HOME/data/csos.db``.

    Refused (StoreOnNetworkShare) on a network file system; *mounts* gives the mount table.
    """
    path = default_path() if path is None else path
    refuse_network_share(path, mounts())
    conn = pool.acquire(path)
    try:
        report = migrate(conn, path, clock=clock)
    except BaseException:
        pool.release(path, conn)
        raise
    try:
        conn.execute("SELECT count(*) FROM orders").fetchone()
    except sqlite3.DatabaseError as exc:
        pool.release(path, conn)
        raise corrupt_error(path, exc) from exc
    return Store(conn, path, report)
