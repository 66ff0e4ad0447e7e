"""Auditing a write that a protected table refused (21 CFR 1311.150(a)).

The append-only tables (audit log, signed orders and prescriptions, receipts, statements,
grants, monthly logs, alerts) refuse UPDATE and DELETE with a BEFORE trigger that calls
RAISE(ABORT). That rolls back the refused statement, and the store's transaction then rolls
back the rest, so nothing the trigger itself wrote could survive: the refusal is recorded
here instead, by the code that caught it, in a short transaction of its own after the
rollback. Only SQLite connections that go through :func:`store.db.transaction` are seen;
docs/decisions.md says what a client outside the program can and cannot be caught doing.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

LOG = logging.getLogger(__name__)
_RAISE = re.compile(r"RAISE\s*\(\s*ABORT\s*,\s*'((?:[^']|'')*)'\s*\)", re.IGNORECASE)
_BEFORE = re.compile(r"\bBEFORE\s+(UPDATE|DELETE)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Refusal:
    table: str
    operation: str  # UPDATE or DELETE
    trigger: str
    message: str


def refusal_of(conn: sqlite3.Connection, exc: sqlite3.IntegrityError) -> Refusal | None:
    """The protecting trigger whose RAISE message *exc* carries, if it is one."""
    text = str(exc)
    rows = conn.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
    for name, table, sql in rows:
        before = _BEFORE.search(str(sql))
        raised = _RAISE.search(str(sql))
        if before and raised and raised.group(1).replace("''", "'") == text:
            return Refusal(str(table), before.group(1).upper(), str(name), text)
    return None


def record_refusal(conn: sqlite3.Connection, exc: sqlite3.IntegrityError) -> Refusal | None:
    """Append a ``store.write-refused`` entry for *exc* if a protecting trigger raised it.

    Called after the refused transaction was rolled back. A database too busy or full to
    take the entry is logged; the refusal itself is raised to the caller either way.
    """
    from csos_desktop.store.audit import AuditEvent, AuditLog

    try:
        refusal = refusal_of(conn, exc)
        if refusal is None:
            return None
        conn.execute("BEGIN IMMEDIATE")
        try:
            AuditLog(conn).append(
                AuditEvent.STORE_WRITE_REFUSED,
                at=datetime.now(UTC),
                details={
                    "table": refusal.table,
                    "operation": refusal.operation,
                    "trigger": refusal.trigger,
                    "refusal": refusal.message,
                },
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as err:
        LOG.warning("a refused write to a protected table could not be audited: %s", err)
        return None
    return refusal
