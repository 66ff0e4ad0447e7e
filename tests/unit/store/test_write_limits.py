"""A write refused for lack of room says so (disk full, file-size limit), never "damaged"."""

from __future__ import annotations

import errno
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from csos_desktop.store import open_store
from csos_desktop.store.db import StoreCorrupt, StoreError, StoreFull, corrupt_error, transaction
from csos_desktop.store.write_limits import WriteLimit, nothing_recorded, write_limit


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (errno.ENOSPC, WriteLimit.DISK_FULL),
        (errno.EDQUOT, WriteLimit.DISK_FULL),
        (errno.EFBIG, WriteLimit.FILE_SIZE_LIMIT),
        (errno.EACCES, None),
    ],
)
def test_an_os_error_is_read_by_its_errno(number: int, expected: WriteLimit | None) -> None:
    assert write_limit(OSError(number, os.strerror(number)), None) is expected


def test_the_disk_full_message_says_nothing_was_recorded() -> None:
    text = nothing_recorded(WriteLimit.DISK_FULL)
    assert "The disk is full" in text and "nothing was recorded" in text
    assert "damaged" not in text and "Free some space" in text


def test_a_full_database_refuses_the_write_with_the_disk_full_message(tmp_path: Path) -> None:
    with open_store(tmp_path / "csos.db") as store:
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLITE_FULL, as on a full disk
        with pytest.raises(StoreFull) as refused, transaction(store.conn) as conn:
            conn.execute("CREATE TABLE filler (x BLOB)")
            conn.execute("INSERT INTO filler VALUES (randomblob(100000))")
        assert "disk is full" in refused.value.message
        assert "nothing was recorded" in refused.value.message
        assert store.integrity_errors() == []


def test_a_disk_io_error_on_a_writable_disk_is_not_called_damage(tmp_path: Path) -> None:
    failed = corrupt_error(tmp_path / "csos.db", sqlite3.OperationalError("disk I/O error"))
    assert type(failed) is StoreError
    assert "could not be read or written" in failed.message and "damaged" not in failed.message
    malformed = sqlite3.DatabaseError("database disk image is malformed")
    assert isinstance(corrupt_error(tmp_path / "csos.db", malformed), StoreCorrupt)


def _open_under_limit(path: Path, limit: int) -> str:
    """Open the store at *path* in a process whose files may not grow past *limit* bytes."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    code = (
        "import sys\n"
        "from csos_desktop.store import open_store\n"
        "from csos_desktop.domain.errors import CsosError\n"
        "try:\n"
        "    open_store(__import__('pathlib').Path(sys.argv[1])).close()\n"
        "    print('opened')\n"
        "except CsosError as exc:\n"
        "    print(type(exc).__name__, exc.message)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
        timeout=60, preexec_fn=apply,
    ).stdout.strip()  # fmt: skip


def test_opening_the_store_past_a_file_size_limit_names_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "csos.db"
    open_store(path).close()  # bigger than the limit already; the WAL index is 32 KiB
    said = _open_under_limit(path, 20_000)
    assert said.startswith("StoreFull"), said
    assert "file size limit of this program (20000 bytes" in said
    assert "nothing was recorded" in said and "damaged" not in said
    with open_store(path) as store:  # nothing was harmed
        assert store.integrity_errors() == []
