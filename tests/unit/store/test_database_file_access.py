"""Only SQLite opens the database file and its -wal/-shm, except where the file is first made.

On POSIX, closing any descriptor of a file drops every lock the process holds on it; one stray
``open`` of ``csos.db`` beside a live connection lets the next `csos` command delete the
write-ahead log under it. Two checks: the source (no open-like call on the database path
outside ``db.create_database_file``) and a run (Python's audit hook sees every ``open``
Python code makes; SQLite's own opens are in C and do not show).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import csos_desktop
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.store import open_store, pool
from tests.unit.store.helpers import order_input

PACKAGE = Path(csos_desktop.__file__).parent
#: The one function allowed to open the database file itself.
CREATOR = ("store/db.py", "create_database_file")
#: Modules where a variable named ``path`` is the database's path.
DATABASE_MODULES = {"store/db.py", "store/local_store.py", "store/pool.py", "doctor/storage.py"}
#: What names the database in an argument elsewhere.
MARKERS = ("DB_NAME", "csos.db", "-wal", "-shm", "default_path(", "store.path", "db_path")
OPENERS = {"open", "create_private", "write_atomically", "fdopen", "copy", "copyfile", "copy2"}
OPENER_METHODS = {"open", "read_bytes", "write_bytes", "read_text", "write_text", "touch"}


def _is_opener(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in OPENERS
    if isinstance(func, ast.Attribute):
        return func.attr in OPENERS or func.attr in OPENER_METHODS
    return False


def _names_database(node: ast.Call, module: str) -> bool:
    parts = [*node.args, *(k.value for k in node.keywords)]
    if isinstance(node.func, ast.Attribute):
        parts.append(node.func.value)  # Path(...).open(): the path is the receiver
    parts = [p for p in parts if not _builds_something_else(p)]
    # A file beside the database (``store.path.parent / ...``) is not the database.
    text = " ".join(ast.unparse(p) for p in parts).replace("store.path.parent", "")
    if any(m in text for m in MARKERS):
        return True
    if module in DATABASE_MODULES:
        return any(isinstance(n, ast.Name) and n.id == "path" for p in parts for n in ast.walk(p))
    return False


def _builds_something_else(node: ast.AST) -> bool:
    """``OrderBatch(store.path, ...)``: an object handed the path, not a file opened."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id[:1].isupper()
        and node.func.id not in {"Path", "PurePath"}
    )


def _offences(module: str, tree: ast.AST) -> Iterator[str]:
    def visit(node: ast.AST, function: str) -> Iterator[str]:
        for child in ast.iter_child_nodes(node):
            name = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = child.name
            if (
                isinstance(child, ast.Call)
                and _is_opener(child)
                and (module, name) != CREATOR
                and _names_database(child, module)
            ):
                yield f"{module}:{child.lineno}: {ast.unparse(child)}"
            yield from visit(child, name)

    yield from visit(tree, "")


def test_nothing_but_sqlite_opens_the_database_outside_its_creation() -> None:
    found: list[str] = []
    for file in sorted(PACKAGE.rglob("*.py")):
        module = file.relative_to(PACKAGE).as_posix()
        if module.startswith("sandbox/"):
            continue  # the reference distributor's own database, not the pharmacy's store
        found += _offences(module, ast.parse(file.read_text(encoding="utf-8")))
    assert found == []


def test_the_scan_finds_the_open_and_close_that_dropped_the_locks() -> None:
    """The pattern the store used before: a stray create_private of the database path."""
    old = "def connect(path):\n    create_private(path)\n    return sqlite3.connect(path)\n"
    assert list(_offences("store/db.py", ast.parse(old))) == ["store/db.py:2: create_private(path)"]
    elsewhere = "def f(store):\n    return open(store.path.with_name('csos.db-wal'))\n"
    assert len(list(_offences("gui/app.py", ast.parse(elsewhere)))) == 1


_seen: list[str] = []
_watching: list[Path] = []


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _watching and args and isinstance(args[0], str | bytes | Path):
        name = Path(args[0].decode() if isinstance(args[0], bytes) else args[0]).name
        if name in {p.name for p in _watching}:
            _seen.append(name)


sys.addaudithook(_hook)  # cannot be removed; it only records while a test watches


@pytest.fixture()
def watch(tmp_path: Path) -> Iterator[Path]:
    db = tmp_path / "data" / "csos.db"
    _watching[:] = [db, db.with_name("csos.db-wal"), db.with_name("csos.db-shm")]
    _seen.clear()
    try:
        yield db
    finally:
        _watching.clear()


def test_creating_using_and_reopening_the_store_opens_no_database_file_from_python(
    watch: Path,
) -> None:
    first = open_store(watch)  # creates it
    svc.import_orders(first, [order_input()], source="test")
    second = open_store(watch)
    third = open_store(watch)
    assert len(third.orders.list()) == 1
    third.close()
    second.close()
    first.close()
    assert _seen == []


def test_the_process_holds_a_known_number_of_connections(tmp_path: Path) -> None:
    db = tmp_path / "csos.db"
    window = open_store(db)  # the GUI's window keeps one all day
    for _ in range(3):  # jobs one after the other reuse one connection
        job = open_store(db)
        job.close()
    assert pool.count(db) == pool.PoolCount(in_use=1, idle=1)
    jobs = [open_store(db) for _ in range(pool.IDLE_LIMIT + 2)]
    for job in jobs:
        job.close()
    assert pool.count(db) == pool.PoolCount(in_use=1, idle=pool.IDLE_LIMIT)
    window.close()
    # The last one given back closes them all: SQLite's last close removes the log.
    assert pool.count(db).total == 0
    assert not db.with_name("csos.db-wal").exists()


def test_a_connection_given_back_mid_transaction_is_rolled_back(tmp_path: Path) -> None:
    db = tmp_path / "csos.db"
    window = open_store(db)
    job = open_store(db)
    job.conn.execute("BEGIN IMMEDIATE")
    job.conn.execute("CREATE TABLE scratch (x)")
    job.close()
    again = open_store(db)
    assert not again.conn.in_transaction
    assert again.conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE name='scratch'"
    ).fetchone() == (0,)
    again.close()
    window.close()


def test_jobs_on_several_threads_share_the_pool_without_losing_a_write(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    db = tmp_path / "csos.db"
    window = open_store(db)

    def job(_: int) -> None:
        with open_store(db) as own:
            svc.import_orders(own, [order_input()], source="test")

    with ThreadPoolExecutor(max_workers=4) as threads:
        list(threads.map(job, range(24)))
    assert len(window.orders.list()) == 24
    count = pool.count(db)
    assert count.in_use == 1 and count.idle <= pool.IDLE_LIMIT
    window.close()
    assert pool.count(db).total == 0


def test_a_closed_store_cannot_reach_the_connection_it_gave_back(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "csos.db"
    window = open_store(db)
    job = open_store(db)
    job.orders.list()
    job.close()
    job.close()  # twice is harmless
    with pytest.raises(sqlite3.ProgrammingError):
        job.orders.list()
    window.close()
