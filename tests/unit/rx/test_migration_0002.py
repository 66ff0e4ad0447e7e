"""Migration 0002 (prescriptions) over a schema-1 database that already holds orders."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.store import Store, open_store
from csos_desktop.store.db import connect
from csos_desktop.store.migrations import bundled_migrations, migrate, schema_version
from csos_desktop.store.outbox import OutboxKind
from tests.unit.store.helpers import Clock, SoftwareOrderSigner, order_input


def schema_1_with_orders(path: Path, clock: Clock, signer: SoftwareOrderSigner) -> list[str]:
    """What a pharmacy's database looked like before this version: two orders, one signed."""
    conn = connect(path)
    migrate(conn, path, clock=clock, migrations=bundled_migrations()[:1])
    store = Store(conn, path)
    ids = [
        r.order_id
        for r in svc.import_orders(
            store, [order_input(), order_input()], source="test", clock=clock
        )
    ]
    assert svc.sign_orders(store, ids[:1], signer, clock=clock).signed
    conn.close()
    return ids


def test_0002_applies_with_a_backup_and_keeps_every_order(
    tmp_path: Path, clock: Clock, signer: SoftwareOrderSigner
) -> None:
    path = tmp_path / "csos.db"
    ids = schema_1_with_orders(path, clock, signer)
    clock.advance(minutes=1)
    with open_store(path, clock=clock) as store:
        report = store.migration
        latest = bundled_migrations()[-1].version  # 0002 and everything after it
        assert report is not None and (report.from_version, report.to_version) == (1, latest)
        assert report.backup is not None and report.backup.exists()
        assert [store.orders.get(i).state.value for i in ids] == ["signed", "draft"]
        assert store.signed.get(ids[0]).intact()
        [msg] = store.outbox.pending()
        assert (msg.kind, msg.record_id) == (OutboxKind.SUBMIT_ORDER, ids[0])
        migrated = [e for e in store.audit.entries() if e.event == "store.migrated"]
        last = migrated[-1]
        assert {e.details["version"] for e in migrated} >= {2, latest}
        assert last.details["backup"] == report.backup.name
        assert store.audit.verify().intact and store.integrity_errors() == []
    backup = sqlite3.connect(report.backup)
    assert schema_version(backup) == 1
    assert backup.execute("SELECT count(*) FROM orders").fetchone()[0] == 2


def test_the_rebuilt_outbox_still_refuses_unknown_kinds_and_duplicates(
    tmp_path: Path, clock: Clock, signer: SoftwareOrderSigner
) -> None:
    path = tmp_path / "csos.db"
    ids = schema_1_with_orders(path, clock, signer)
    with open_store(path, clock=clock) as store:
        with pytest.raises(sqlite3.IntegrityError):
            store.conn.execute(
                "INSERT INTO outbox (kind, record_id, idempotency_key, "
                "created_at) VALUES ('bogus', 'x', 'k', 'now')"
            )
        with pytest.raises(sqlite3.IntegrityError):
            store.conn.execute(
                "INSERT INTO outbox (kind, record_id, idempotency_key, "
                "created_at) VALUES ('submit-order', ?, ?, 'now')",
                (ids[0], f"submit-order:{ids[0]}"),
            )
        indexes = {
            r[0]
            for r in store.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox'"
            )
        }
        assert "outbox_pending" in indexes
