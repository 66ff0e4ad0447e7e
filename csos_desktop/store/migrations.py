"""Numbered schema migrations, applied at start-up after a backup copy is taken.

Migrations are ``migrations/NNNN_name.sql``; ``PRAGMA user_version`` holds the
number of the last one applied. Each runs in its own transaction with its
audit entry, so a failed migration leaves the database as it was. Before
touching an existing database we check it and copy it to
``csos.db.bak-<version>-<timestamp>`` with SQLite's online backup.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.fileio import create_private
from csos_desktop.store.db import StoreCorrupt, StoreError, corrupt_error

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

_NAME = re.compile(r"([0-9]{4})_([a-z0-9_]+)\.sql")


class StoreTooNew(StoreError):
    """The database was written by a newer CSOS Desktop; we do not touch it."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


@dataclass(frozen=True)
class MigrationReport:
    from_version: int
    to_version: int
    backup: Path | None


def _migrations_dir() -> Traversable:
    here = Path(__file__).with_name("migrations")
    if here.is_dir():  # source tree, wheel, PyInstaller bundle: listed without importlib's
        return here  # resource readers, which import zipfile: slow at start-up
    from importlib import resources

    return resources.files("csos_desktop.store").joinpath("migrations")


def _bundled_files() -> list[tuple[int, str, Traversable]]:
    """(number, name, file) of the shipped migrations, in order; numbers run 1, 2, 3, ..."""
    found = []
    for item in _migrations_dir().iterdir():
        m = _NAME.fullmatch(item.name)
        if m:
            found.append((int(m.group(1)), m.group(2), item))
    found.sort(key=lambda f: f[0])
    if [version for version, _, _ in found] != list(range(1, len(found) + 1)):
        raise RuntimeError("migrations must be numbered 0001, 0002, ... without gaps")
    return found


def bundled_migrations() -> list[Migration]:
    """The migrations shipped with this version, in order."""
    return [Migration(v, name, item.read_text("utf-8")) for v, name, item in _bundled_files()]


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(
    conn: sqlite3.Connection,
    path: Path,
    *,
    clock: Clock = utc_now,
    migrations: list[Migration] | None = None,
) -> MigrationReport:
    """Bring the database at ``path`` (open as ``conn``) up to the newest schema."""
    try:
        current = schema_version(conn)
    except sqlite3.DatabaseError as exc:
        raise corrupt_error(path, exc) from exc
    # The scripts are read only when one is pending: a current schema (every start but the
    # first after an update) costs a directory listing, not reading every script.
    if migrations is None:
        latest = len(_bundled_files())
    else:
        latest = migrations[-1].version if migrations else 0
    if current > latest:
        raise StoreTooNew(
            f"The order database {path} was written by a newer version of CSOS Desktop "
            f"(schema {current}, this version knows {latest}). Install the newer version; "
            "the database was not changed."
        )
    if current == latest:
        return MigrationReport(current, current, None)
    todo = bundled_migrations() if migrations is None else migrations
    pending = [m for m in todo if m.version > current]
    backup = None
    if current > 0:
        check_integrity(conn, path)
        backup = take_backup(conn, path, current, clock())
    for mig in pending:
        _apply(conn, mig, clock(), backup)
    return MigrationReport(current, pending[-1].version, backup)


def check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse to go on with a damaged database (a backup of it would be worthless)."""
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:
        raise corrupt_error(path, exc) from exc
    if rows != ["ok"]:
        raise corrupt_error(path, StoreCorrupt("; ".join(rows[:3])))


def take_backup(conn: sqlite3.Connection, path: Path, version: int, now: datetime) -> Path:
    """Copy the live database to ``<name>.bak-<version>-<UTC timestamp>`` next to it."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.bak-{version}-{stamp}")
    n = 1
    while target.exists():  # two start-ups in one second must not overwrite a backup
        n += 1
        target = path.with_name(f"{path.name}.bak-{version}-{stamp}-{n}")
    create_private(target, exclusive=True)  # a backup holds the same patient data
    dest = sqlite3.connect(target)
    try:
        conn.backup(dest)
    finally:
        dest.close()
    return target


def _apply(conn: sqlite3.Connection, mig: Migration, now: datetime, backup: Path | None) -> None:
    from csos_desktop.store.audit import AuditEvent, AuditLog  # only when a migration runs

    # executescript commits any open transaction first and then runs our BEGIN, so the
    # whole script, its audit entry and the new user_version commit together.
    try:
        conn.executescript("BEGIN IMMEDIATE;\n" + mig.sql)
        AuditLog(conn).append(
            AuditEvent.STORE_MIGRATED,
            at=now,
            details={
                "version": mig.version,
                "name": mig.name,
                "backup": None if backup is None else backup.name,
            },
        )
        conn.execute(f"PRAGMA user_version = {int(mig.version)}")
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.DatabaseError):
            where = f" The backup taken before it is {backup}." if backup else ""
            raise StoreError(
                f"Updating the order database to schema {mig.version} "
                f"({mig.name}) failed: {exc}. The database was not changed." + where
            ) from exc
        raise
