"""The connections one process holds to the order database.

The GUI keeps its window's store open all day and opens another one for each job (signing,
sync, receipts). Handing those jobs a connection the process already has, instead of opening
a new one each time, keeps the number the GUI holds known: the window's, the jobs' that run,
and at most ``IDLE_LIMIT`` idle ones. When the last connection in use is given back, the idle
ones are closed too, so a `csos` command or a closed window leaves the database as SQLite's
last close leaves it (write-ahead log checkpointed and removed).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path

from csos_desktop.store.db import connect

#: Idle connections kept per database while another one is in use.
IDLE_LIMIT = 4


@dataclass
class _Pool:
    in_use: set[int] = field(default_factory=set)
    idle: list[sqlite3.Connection] = field(default_factory=list)


@dataclass(frozen=True)
class PoolCount:
    """How many connections to one database this process holds."""

    in_use: int
    idle: int

    @property
    def total(self) -> int:
        return self.in_use + self.idle


_lock = threading.Lock()
_pools: dict[Path, _Pool] = {}
_pid = os.getpid()
#: Connections a forked child inherited: never used nor closed by it (SQLite's rule).
_inherited: list[sqlite3.Connection] = []


def _key(path: Path) -> Path:
    return path.absolute()


def _forked() -> None:
    """After fork the parent's connections are not ours: leave them alone."""
    global _pid
    if os.getpid() != _pid:
        for pool in _pools.values():
            _inherited.extend(pool.idle)
        _pools.clear()
        _pid = os.getpid()


def acquire(path: Path) -> sqlite3.Connection:
    """A connection to ``path``: an idle one of this process, or a new one."""
    key = _key(path)
    with _lock:
        _forked()
        pool = _pools.setdefault(key, _Pool())
        conn = pool.idle.pop() if pool.idle else None
        if conn is not None:
            pool.in_use.add(id(conn))
            return conn
    conn = connect(path)  # outside the lock: it may wait for another process's lock
    with _lock:
        _pools.setdefault(key, _Pool()).in_use.add(id(conn))
    return conn


def release(path: Path, conn: sqlite3.Connection) -> None:
    """Give ``conn`` back; the last one in use closes the idle ones with it."""
    key = _key(path)
    to_close: list[sqlite3.Connection] = []
    with _lock:
        _forked()
        pool = _pools.get(key)
        if pool is None or id(conn) not in pool.in_use:
            to_close.append(conn)  # not one of ours (or made before a fork)
        else:
            pool.in_use.discard(id(conn))
            if not pool.in_use:
                to_close += [*pool.idle, conn]
                del _pools[key]
            elif len(pool.idle) < IDLE_LIMIT and _reusable(conn):
                pool.idle.append(conn)
            else:
                to_close.append(conn)
    for c in to_close:
        c.close()


def count(path: Path) -> PoolCount:
    """The connections this process holds to ``path`` (in use and idle)."""
    with _lock:
        pool = _pools.get(_key(path))
        return PoolCount(0, 0) if pool is None else PoolCount(len(pool.in_use), len(pool.idle))


def _reusable(conn: sqlite3.Connection) -> bool:
    """Roll back what a failed caller left open; a connection that cannot is dropped."""
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        return False
    return True
