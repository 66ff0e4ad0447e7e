"""The pharmacy's store as the front ends hold it: open it, and the records they show.

Every use case in ``services`` takes the open store; the GUI and the CLI open it here,
hold it as an :data:`OpenStore` and pass it on, and name the record types their screens
and listings display. They read nothing from it themselves: the repositories' queries and
writes stay behind the use cases and the query functions (``services.orders.queries``,
``services.receiving.queries``, ``services.audit.queries``, ``services.rx.queries`` ...),
which return plain values. tests/unit/test_layers.py holds both: this is the one way from a
front end into ``store``, and a front end makes no repository read.

The record types load when first named, as the store's own repositories do: `csos order
list` and the GUI's first paint read orders only (docs/gui.md, start-up).
"""

from __future__ import annotations

import importlib
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csos_desktop.store import open_store as _open_store

if TYPE_CHECKING:
    from typing import TypeAlias

    from csos_desktop.store.local_store import Store

    #: An open store as a front end holds it: passed to the services and closed, never
    #: read (a type name only: the front ends do not reach the ``Store`` class).
    OpenStore: TypeAlias = Store
    from csos_desktop.store.access import Grant as Grant
    from csos_desktop.store.access import GrantState as GrantState
    from csos_desktop.store.access import Role as Role
    from csos_desktop.store.access import RxUser as RxUser
    from csos_desktop.store.audit import AuditReport as AuditReport
    from csos_desktop.store.db import StoreError as StoreError
    from csos_desktop.store.orders import OrderRecord as OrderRecord
    from csos_desktop.store.poa import PoaRecord as PoaRecord
    from csos_desktop.store.prescriptions import RxRecord as RxRecord
    from csos_desktop.store.statements import Statement as Statement
    from csos_desktop.store.statements import Verification as Verification

#: The stores this process has opened: the records due at start-up are made once each.
_STARTED: set[Path] = set()


def open_store(path: Path | None = None, *, analyse: bool = True) -> Store:
    """Open the store; the first time in this process, make the EPCS records due at start.

    That is the one place the monthly log (1311.120(b)(27)) and, unless *analyse* is False,
    the daily audit analysis (1311.150(b)) are started from: every `csos` command that
    opens the store and the GUI's start. The GUI passes ``analyse=False`` and runs the
    analysis on its worker pool and timer instead (gui.jobs.daily_audit), off the UI thread.
    """
    store = _open_store(path)
    if store.path not in _STARTED:
        _STARTED.add(store.path)
        try:
            _records_at_start(store, analyse)
        except BaseException:
            store.close()
            raise
    return store


def _records_at_start(store: Store, analyse: bool) -> None:
    from csos_desktop.domain.errors import CsosError
    from csos_desktop.services.rx.records_due import records_due

    now = datetime.now(UTC)
    try:
        due = records_due(store, now, analyse=analyse)  # one query
    except CsosError as exc:  # e.g. a bad time_zone setting: the command still runs
        logging.getLogger(__name__).warning("EPCS records not checked at start: %s", exc)
        return
    if due:  # the records' code loads only when it has work
        from csos_desktop.services.rx.records import on_start

        on_start(store, now=now, analyse=analyse)


_LAZY = {
    "AuditReport": "csos_desktop.store.audit",
    "Grant": "csos_desktop.store.access",
    "GrantState": "csos_desktop.store.access",
    "OrderRecord": "csos_desktop.store.orders",
    "PoaRecord": "csos_desktop.store.poa",
    "Role": "csos_desktop.store.access",
    "RxRecord": "csos_desktop.store.prescriptions",
    "RxUser": "csos_desktop.store.access",
    "Statement": "csos_desktop.store.statements",
    "StoreError": "csos_desktop.store.db",
    "Verification": "csos_desktop.store.statements",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
