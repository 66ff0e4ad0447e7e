"""The SQLite connection every repository shares, and its transactions.

WAL lets the GUI read while a batch writes; ``synchronous=FULL`` makes a
committed signed order survive a power cut, not only a crash of the process.
Transactions are explicit (``BEGIN IMMEDIATE``) so a state change, its audit
entry and its outbox row are written together or not at all.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from csos_desktop import paths
from csos_desktop.domain.errors import CsosError
from csos_desktop.fileio import PRIVATE_FILE_MODE, make_private, private_dir
from csos_desktop.store.write_limits import nothing_recorded, write_limit

#: How long a writer waits for another window's transaction before giving up.
BUSY_TIMEOUT_MS = 5_000
DB_NAME = "csos.db"


class StoreError(CsosError):
    """The local database cannot be used as it is."""


class StoreCorrupt(StoreError):
    """The database file is damaged or is not a CSOS Desktop database."""


class StoreFull(StoreError):
    """The disk (or the database's size limit) is full; the change was not saved."""


class StoreBusy(StoreError):
    """Another CSOS Desktop window kept the database locked too long."""


def default_path() -> Path:
    """``$CSOS_HOME/data/csos.db`` (or the platform data dir when CSOS_HOME is unset)."""
    return paths.data_dir() / DB_NAME


def create_database_file(path: Path) -> None:
    """Create the empty database file owner-only, once, before SQLite first opens it.

    This is the one place anything but SQLite opens the database file. On POSIX, closing
    any descriptor of a file drops every lock the process holds on it, so opening and
    closing ``csos.db`` beside a live connection would let another process believe it is
    the last user and delete the write-ahead log under it. The file is made under a
    temporary name, given its mode, then linked into place without replacing a database
    another process created meanwhile. SQLite gives ``-wal`` and ``-shm`` the database
    file's mode, so patient data is never readable by other users.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".new")
    os.close(fd)
    try:
        os.chmod(tmp, PRIVATE_FILE_MODE)
        try:
            if os.name == "posix":
                os.link(tmp, path)  # fails if it exists: never replaces a live database
            else:
                os.rename(tmp, path)  # Windows: fails if it exists, for the same reason
        except FileExistsError:
            pass
    finally:
        Path(tmp).unlink(missing_ok=True)


def connect(path: Path) -> sqlite3.Connection:
    """Open a new connection to ``path`` with the pragmas every store connection needs.

    Callers take connections from the process's pool (``store.pool``), not from here.
    """
    private_dir(path.parent)
    try:
        if not path.exists():
            create_database_file(path)
    except OSError as exc:
        limit = write_limit(exc, path.parent)
        if limit is None:
            raise
        raise StoreFull(nothing_recorded(limit)) from exc
    # A database made by an older version may be world-readable: chmod opens nothing.
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        make_private(path.with_name(name))
    # Pooled connections move between the GUI's worker threads, one thread at a time.
    conn = sqlite3.connect(
        path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise corrupt_error(path, exc) from exc
    if str(mode).lower() != "wal":
        conn.close()
        raise StoreError(
            f"The database {path} cannot use write-ahead logging (mode {mode}); "
            "keep it on a local disk, not a network share."
        )
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: everything inside commits together or is rolled back."""
    with sqlite_errors(conn):
        conn.execute("BEGIN IMMEDIATE")
    try:
        with sqlite_errors(conn):
            yield conn
            conn.execute("COMMIT")
    except BaseException as exc:
        # SQLite may already have rolled back (e.g. on SQLITE_FULL); only roll back once.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.IntegrityError):
            # A protected table refused the write: the refusal is audited (1311.150(a)).
            from csos_desktop.store.refusals import record_refusal

            record_refusal(conn, exc)
        raise


@contextmanager
def sqlite_errors(conn: sqlite3.Connection | None = None) -> Iterator[None]:
    """Turn SQLite's full / busy / corrupt errors into ours; constraint errors stay bugs."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if type(exc) not in (sqlite3.OperationalError, sqlite3.DatabaseError):
            raise
        raise translate(exc, _file_of(conn)) from exc


def _file_of(conn: sqlite3.Connection | None) -> Path | None:
    """The main database file of *conn* (where a failed write is looked into)."""
    try:
        rows = conn.execute("PRAGMA database_list").fetchall() if conn is not None else []
    except sqlite3.Error:
        return None
    return next((Path(r[2]) for r in rows if r[1] == "main" and r[2]), None)


def translate(exc: sqlite3.DatabaseError, path: Path | None = None) -> StoreError:
    """Our error for SQLite's; *path* (the database) lets a failed write be looked into."""
    found = _not_damage(exc, path or default_path())
    if found is not None:
        return found
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StoreBusy(
            "The order database is in use by another CSOS Desktop window; try again in a moment."
        )
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return StoreCorrupt(
            f"The order database is damaged ({exc}). Restore the latest "
            "backup (csos.db.bak-*) next to it."
        )
    return StoreError(f"The order database reported an error: {exc}")


def _corrupt_message(path: Path, exc: Exception) -> str:
    backups = sorted(path.parent.glob(f"{path.name}.bak-*"))
    where = (
        f"The most recent backup is {backups[-1]}."
        if backups
        else "No backup of it was found next to it."
    )
    return (
        f"The order database {path} is damaged or is not a CSOS Desktop database ({exc}). "
        f"{where} Keep the damaged file for your records and restore the backup."
    )


def corrupt_error(path: Path, exc: Exception) -> StoreError:
    """A StoreCorrupt naming the newest backup of ``path``, unless SQLite's error says
    the disk refused a write (StoreFull) or failed: that is not a damaged file."""
    if isinstance(exc, sqlite3.DatabaseError):
        found = _not_damage(exc, path)
        if found is not None:
            return found
    return StoreCorrupt(_corrupt_message(path, exc))


def _not_damage(exc: sqlite3.DatabaseError, path: Path) -> StoreError | None:
    limit = write_limit(exc, path.parent)
    if limit is not None:
        return StoreFull(nothing_recorded(limit))
    if "disk i/o error" in str(exc).lower():
        return StoreError(
            f"The order database could not be read or written ({exc}): nothing was recorded. "
            "Check the disk it is on (or move it off a network share) and try again."
        )
    return None
