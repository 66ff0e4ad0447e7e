"""One store, several processes: a second connection in the GUI and a `csos` command beside it.

On POSIX, closing any descriptor of a file drops every lock the process holds on it. If opening
a connection opens and closes the database file outside SQLite, the process's first connection
loses its locks, and the next `csos` command believes it is the last user and deletes the
write-ahead log and shared-memory index under it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.store import open_store
from tests.unit.store.helpers import order_input


def _csos(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "csos_desktop", *args],
        env=dict(os.environ, CSOS_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_cli_command_beside_two_connections_leaves_the_write_ahead_log_in_place(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    db = home / "data" / "csos.db"
    first = open_store(db)
    svc.import_orders(first, [order_input()], source="test")
    second = open_store(db)  # the GUI opens another one for a job
    try:
        listed = _csos(home, "order", "list")
        assert listed.returncode == 0, listed.stderr
        for side in ("-wal", "-shm"):
            assert db.with_name(db.name + side).exists(), f"{side} deleted under a live connection"
        # The first connection still reads and writes, and sees what the second one writes.
        svc.import_orders(second, [order_input()], source="test")
        svc.import_orders(first, [order_input()], source="test")
        assert len(first.orders.list()) == 3
        assert first.integrity_errors() == []
    finally:
        second.close()
        first.close()
