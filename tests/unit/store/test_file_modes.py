"""Patient data stays the user's: data dir 0700; database, backups, logs, exports 0600.

Each test runs with a permissive umask (022), the usual default, so a file created
with the process umask would be 0644 and fail.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from csos_desktop import paths
from csos_desktop.logs import setup_logging
from csos_desktop.store import open_store
from csos_desktop.store.migrations import Migration, bundled_migrations, migrate
from tests.unit.store.helpers import Clock


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CSOS_HOME", str(tmp_path / "home"))
    old = os.umask(0o022)
    try:
        yield tmp_path / "home"
    finally:
        os.umask(old)


def test_data_dir_and_database_files_are_owner_only(home: Path) -> None:
    with open_store() as store:
        with store.transaction():
            store.conn.execute("CREATE TABLE scratch (x)")  # the WAL file now exists
        data = paths.data_dir()
        assert mode(data) == 0o700
        files = [data / "csos.db", data / "csos.db-wal", data / "csos.db-shm"]
        assert all(f.exists() for f in files)
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}


def test_an_existing_world_readable_database_is_made_private(home: Path) -> None:
    data = home / "data"
    data.mkdir(parents=True, mode=0o755)
    sqlite3.connect(data / "csos.db").close()
    os.chmod(data / "csos.db", 0o644)
    open_store().close()
    assert mode(data) == 0o700 and mode(data / "csos.db") == 0o600


def test_migration_backups_are_owner_only(home: Path) -> None:
    path = paths.data_dir() / "csos.db"
    open_store(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    extra = Migration(len(bundled_migrations()) + 1, "extra", "CREATE TABLE t (k);")
    report = migrate(conn, path, clock=Clock(), migrations=[*bundled_migrations(), extra])
    conn.close()
    assert report.backup is not None and mode(report.backup) == 0o600


def test_log_files_are_owner_only_across_rotation(home: Path) -> None:
    path = setup_logging("INFO")
    logger = logging.getLogger("csos_desktop.test")
    logger.info("order 26X000123 for Main Street Pharmacy")
    handler = next(
        h for h in logging.getLogger("csos_desktop").handlers if hasattr(h, "doRollover")
    )
    handler.doRollover()  # type: ignore[attr-defined]
    logger.info("after rotation")
    assert mode(paths.log_dir()) == 0o700
    rotated = sorted(path.parent.glob(f"{path.name}*"))
    assert len(rotated) >= 2
    assert {p.name: mode(p) for p in rotated} == {p.name: 0o600 for p in rotated}


def test_the_config_dir_is_owner_only(home: Path) -> None:
    assert mode(paths.config_dir()) == 0o700
