"""The audit log is append-only and hash-chained: edits and deletions are found (1311.150)."""

from __future__ import annotations

import hashlib
import itertools

import pytest

from csos_desktop.store import Store
from csos_desktop.store.audit import GENESIS, AuditEvent
from csos_desktop.store.lifecycle import record_event
from csos_desktop.store.migrations import bundled_migrations
from tests.unit.store.helpers import Clock


def fill(store: Store, clock: Clock, n: int = 5) -> None:
    for i in range(n):
        clock.advance(seconds=1)
        record_event(store, AuditEvent.SETTINGS_CHANGED, now=clock(), details={"n": i})


def tamper(store: Store, sql: str, *args: object) -> None:
    """What someone with a database editor could do: drop the guard, then edit."""
    store.conn.execute("DROP TRIGGER IF EXISTS audit_log_append_only")
    store.conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    store.conn.execute(sql, args)


def test_each_entry_holds_the_hash_of_the_one_before(store: Store, clock: Clock) -> None:
    fill(store, clock)
    entries = list(store.audit.entries())
    assert entries[0].prev_sha256 == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after.prev_sha256 == hashlib.sha256(before.canonical_bytes()).hexdigest()
    report = store.audit.verify()
    assert report.intact and report.entries == len(bundled_migrations()) + 5
    assert report.head_sha256 == entries[-1].sha256


def test_the_log_refuses_updates_and_deletes(store: Store, clock: Clock) -> None:
    fill(store, clock, 1)
    with pytest.raises(Exception, match="append-only"):
        store.conn.execute("UPDATE audit_log SET event = 'x' WHERE entry_id = 2")
    with pytest.raises(Exception, match="append-only"):
        store.conn.execute("DELETE FROM audit_log WHERE entry_id = 2")


def test_an_edited_entry_is_reported_at_the_first_broken_link(store: Store, clock: Clock) -> None:
    fill(store, clock)
    tamper(store, "UPDATE audit_log SET details = ? WHERE entry_id = 3", '{"n":99}')
    report = store.audit.verify()
    assert report.broken is not None and report.broken.entry_id == 4
    assert "entry 3 was changed" in report.broken.problem
    assert report.entries == 3


def test_a_deleted_entry_in_the_middle_is_reported(store: Store, clock: Clock) -> None:
    fill(store, clock)
    tamper(store, "DELETE FROM audit_log WHERE entry_id = 3")
    report = store.audit.verify()
    assert report.broken is not None and report.broken.entry_id == 4
    assert "missing" in report.broken.problem


def test_entries_deleted_from_the_end_are_reported(store: Store, clock: Clock) -> None:
    fill(store, clock)
    tamper(store, "DELETE FROM audit_log WHERE entry_id >= 5")
    report = store.audit.verify()
    assert report.broken is not None and report.broken.entry_id == 5
    assert "deleted from the end" in report.broken.problem


def test_an_edited_newest_entry_is_reported(store: Store, clock: Clock) -> None:
    fill(store, clock)
    newest = len(bundled_migrations()) + 5
    tamper(store, "UPDATE audit_log SET at = '2020-01-01T00:00:00Z' WHERE entry_id = ?", newest)
    report = store.audit.verify()
    assert report.broken is not None and report.broken.entry_id == newest


def test_an_entry_is_only_appended_inside_a_transaction(store: Store, clock: Clock) -> None:
    with pytest.raises(RuntimeError):
        store.audit.append(AuditEvent.SETTINGS_CHANGED, at=clock())
