"""Opening the store: pragmas, numbered migrations, backup before migrating, damage reported."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from csos_desktop.store import open_store
from csos_desktop.store.db import StoreCorrupt, StoreError, default_path
from csos_desktop.store.migrations import (
    Migration,
    StoreTooNew,
    bundled_migrations,
    migrate,
    schema_version,
)
from tests.unit.store.helpers import Clock


def test_the_database_lives_in_csos_home_data(csos_home: Path) -> None:
    assert default_path() == csos_home / "data" / "csos.db"


def test_a_new_store_uses_wal_foreign_keys_and_full_sync(tmp_path: Path) -> None:
    with open_store(tmp_path / "csos.db") as store:
        conn = store.conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        assert schema_version(conn) == len(bundled_migrations())
        assert store.migration is not None and store.migration.backup is None
        entries = list(store.audit.entries())
        assert {e.event for e in entries} == {"store.migrated"}
        assert [e.details["version"] for e in entries] == [m.version for m in bundled_migrations()]


LATEST = len(bundled_migrations())


def _with_extra(sql: str) -> list[Migration]:
    return [*bundled_migrations(), Migration(LATEST + 1, "extra", sql)]


def test_an_existing_database_is_backed_up_before_a_migration(tmp_path: Path) -> None:
    path = tmp_path / "csos.db"
    clock = Clock()
    open_store(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    report = migrate(
        conn,
        path,
        clock=clock,
        migrations=_with_extra("CREATE TABLE settings (k TEXT PRIMARY KEY);"),
    )
    assert report.from_version == LATEST and report.to_version == LATEST + 1
    assert report.backup is not None
    assert report.backup.name == f"csos.db.bak-{LATEST}-{clock.now:%Y%m%dT%H%M%SZ}"
    backup = sqlite3.connect(report.backup)
    assert schema_version(backup) == LATEST
    assert backup.execute("SELECT count(*) FROM audit_log").fetchone()[0] == LATEST
    assert schema_version(conn) == LATEST + 1


def test_a_failed_migration_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "csos.db"
    open_store(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    bad = _with_extra("CREATE TABLE settings (k TEXT);\nINSERT INTO nowhere VALUES (1);")
    with pytest.raises(StoreError, match="was not changed") as e:
        migrate(conn, path, migrations=bad)
    assert f"csos.db.bak-{LATEST}-" in e.value.message
    assert schema_version(conn) == LATEST
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "settings" not in tables
    assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == LATEST


def test_a_database_from_a_newer_version_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "csos.db"
    open_store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreTooNew, match="schema 99"):
        open_store(path)


def test_a_damaged_database_file_gives_a_clear_error_naming_the_backup(tmp_path: Path) -> None:
    path = tmp_path / "csos.db"
    open_store(path).close()
    backup = tmp_path / "csos.db.bak-1-20260101T000000Z"
    backup.write_bytes(path.read_bytes())
    for leftover in tmp_path.glob("csos.db-*"):
        leftover.unlink()
    path.write_bytes(b"this is not a database" * 300)
    with pytest.raises(StoreCorrupt) as e:
        open_store(path)
    assert str(backup) in e.value.message
    assert "damaged" in e.value.message


def test_the_statements_rebuild_keeps_every_row_and_its_bytes(tmp_path: Path) -> None:
    """0008 rebuilds statements (a new kind, the verification verdict) without losing a row."""
    path = tmp_path / "csos.db"
    names = [m.name for m in bundled_migrations()]
    before = bundled_migrations()[: names.index("statement_verification")]
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, migrations=before)
    conn.execute(
        "INSERT INTO orders (order_id, order_number, purchaser_dea, supplier_dea, "
        "supplier_name, state, created_at, updated_at, draft_document) "
        "VALUES ('o1', '26X000001', 'AB1234563', 'RK0452716', 'S', 'rejected', 't', 't', x'7b7d')"
    )
    rows = [
        (5, "non-acceptance", b"\x00plain text\xff", None),
        (9, "supplier-void", b'{"a":1}', b"\x30\x03\x02\x01\x00"),
    ]
    for sid, kind, body, sig in rows:
        conn.execute(
            "INSERT INTO statements (statement_id, order_id, kind, reason, received_at, "
            "media_type, body, body_sha256, signature) VALUES (?, 'o1', ?, 'r', 't', 'm', ?, "
            "'h', ?)",
            (sid, kind, body, sig),
        )
    conn.execute("INSERT INTO statement_lines VALUES (9, 2, 3)")
    conn.close()
    with open_store(path) as store:
        got = store.conn.execute(
            "SELECT statement_id, kind, body, signature, verification FROM statements "
            "ORDER BY statement_id"
        ).fetchall()
        assert [tuple(r) for r in got] == [
            (5, "non-acceptance", b"\x00plain text\xff", None, "unsigned"),
            (9, "supplier-void", b'{"a":1}', b"\x30\x03\x02\x01\x00", "verified"),
        ]
        assert store.statements.void_lines(9) == {2: 3}
        assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # The keep-forever triggers are back, and a new id follows the kept ones.
        with pytest.raises(sqlite3.DatabaseError, match="never change"):
            store.conn.execute("UPDATE statements SET reason = 'x'")
        with pytest.raises(sqlite3.DatabaseError, match="are kept"):
            store.conn.execute("DELETE FROM statement_lines")
        cur = store.conn.execute(
            "INSERT INTO statements (order_id, kind, reason, received_at, media_type, body, "
            "body_sha256, verification) VALUES ('o1', 'shipment', 'r', 't', 'm', x'00', 'h', "
            "'unsigned')"
        )
        assert cur.lastrowid == 10
