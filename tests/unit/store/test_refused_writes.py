"""A refused UPDATE or DELETE on a protected table is itself audited (21 CFR 1311.150(a)).

The triggers' RAISE rolls the refused statement back, so the store's transaction records
the refusal after its rollback. A client that never goes through the store (the sqlite3
shell) is refused but cannot be recorded; what it does once it drops a trigger is found by
the hash chain (docs/decisions.md).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from csos_desktop.store import Store
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.db import transaction
from csos_desktop.store.lifecycle import record_event
from tests.unit.store.helpers import Clock


def _refusals(store: Store) -> list[dict[str, object]]:
    return [dict(e.details) for e in store.audit.entries() if e.event == "store.write-refused"]


def test_an_update_refused_through_the_store_is_audited(store: Store, clock: Clock) -> None:
    record_event(store, AuditEvent.SETTINGS_CHANGED, now=clock(), details={"n": 1})
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.transaction():
        store.conn.execute("UPDATE audit_log SET details = '{}' WHERE entry_id = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.transaction():
        store.conn.execute("DELETE FROM audit_log")
    assert _refusals(store) == [
        {
            "table": "audit_log",
            "operation": "UPDATE",
            "trigger": "audit_log_append_only",
            "refusal": "the audit log is append-only: an entry is never changed",
        },
        {
            "table": "audit_log",
            "operation": "DELETE",
            "trigger": "audit_log_no_delete",
            "refusal": "the audit log is append-only: an entry is never deleted",
        },
    ]
    assert store.audit.verify().intact  # the refused entries were not touched


def test_an_update_refused_on_a_raw_connection_through_the_store_layer_is_audited(
    store: Store,
) -> None:
    raw = sqlite3.connect(store.path, isolation_level=None)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="never changed"), transaction(raw):
            raw.execute("UPDATE audit_log SET event = 'x' WHERE entry_id = 1")
        with pytest.raises(sqlite3.IntegrityError, match="never deleted"), transaction(raw):
            raw.execute("DELETE FROM audit_log WHERE entry_id = 1")
    finally:
        raw.close()
    assert [(r["table"], r["operation"]) for r in _refusals(store)] == [
        ("audit_log", "UPDATE"),
        ("audit_log", "DELETE"),
    ]
    assert store.audit.verify().intact


def test_other_constraint_errors_are_not_refusals(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError), store.transaction():
        store.conn.execute(
            "INSERT INTO purge_permit (only_row, before) VALUES (2, '2000-01-01')"
        )  # a CHECK constraint, not a protected table
    assert _refusals(store) == []


def test_a_client_outside_the_program_is_refused_but_only_the_chain_can_tell(
    store: Store, tmp_path: Path
) -> None:
    raw = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE audit_log SET event = 'x' WHERE entry_id = 1")
    raw.rollback()
    assert _refusals(store) == []  # nothing of ours ran: no record of the attempt
    raw.execute("DROP TRIGGER audit_log_append_only")
    raw.execute("UPDATE audit_log SET event = 'x' WHERE entry_id = 1")
    raw.commit()
    raw.close()
    report = store.audit.verify()
    assert not report.intact and report.broken is not None and report.broken.entry_id == 2
