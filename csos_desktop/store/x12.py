"""X12 interchanges kept byte for byte; the row id of one we write is its control number."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from csos_desktop.domain.timestamps import format_timestamp
from csos_desktop.store.db import transaction


@dataclass(frozen=True)
class StoredInterchange:
    control_number: int
    order_id: str | None
    transaction_set: str
    direction: str
    document: bytes
    problem: str | None
    recorded_at: str
    signed: bytes | None = None


_COLUMNS = (
    "control_number, order_id, transaction_set, direction, document, problem, recorded_at, signed"
)


class X12Interchanges:
    """The interchanges of one store connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def write(
        self,
        order_id: str | None,
        transaction_set: str,
        build: Callable[[int], bytes],
        now: datetime,
    ) -> StoredInterchange:
        """Allocate the next control number, build the interchange with it, keep its bytes.

        Inside the caller's transaction, which also logs it: a failed build leaves no
        number taken.
        """
        if not self._conn.in_transaction:
            raise RuntimeError("an interchange is written inside the transaction that logs it")
        cur = self._conn.execute(
            "INSERT INTO x12_interchanges (order_id, transaction_set, direction, document, "
            "recorded_at) VALUES (?, ?, 'sent', x'', ?)",
            (order_id, transaction_set, format_timestamp(now)),
        )
        number = int(cur.lastrowid or 0)
        document = build(number)
        self._conn.execute(
            "UPDATE x12_interchanges SET document = ? WHERE control_number = ?", (document, number)
        )
        return self.get(number)

    def reserve(self, order_id: str | None, transaction_set: str, now: datetime) -> int:
        """Take the next control number for an interchange signed outside any transaction;
        ``fill`` keeps its bytes when it is recorded (an unfilled number stays unused)."""
        with transaction(self._conn):
            cur = self._conn.execute(
                "INSERT INTO x12_interchanges (order_id, transaction_set, direction, document, "
                "recorded_at) VALUES (?, ?, 'sent', x'', ?)",
                (order_id, transaction_set, format_timestamp(now)),
            )
        return int(cur.lastrowid or 0)

    def fill(
        self, control_number: int, document: bytes, signed: bytes | None, *, order_id: str
    ) -> None:
        """The bytes of a reserved interchange, exactly as built and signed."""
        cur = self._conn.execute(
            "UPDATE x12_interchanges SET document = ?, signed = ?, order_id = ? "
            "WHERE control_number = ? AND document = x''",
            (document, signed, order_id, control_number),
        )
        if cur.rowcount != 1:
            raise RuntimeError(f"X12 control number {control_number} was not reserved or is used")

    def signed_850(self, order_id: str) -> StoredInterchange | None:
        """The 850 the pharmacist signed for this order, if it was signed as X12."""
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM x12_interchanges WHERE order_id = ? AND signed IS NOT NULL "
            "AND transaction_set = '850' ORDER BY control_number DESC LIMIT 1",
            (order_id,),
        ).fetchone()
        return None if row is None else _interchange(row)

    def received(
        self,
        order_id: str | None,
        transaction_set: str,
        document: bytes,
        problem: str | None,
        now: datetime,
    ) -> StoredInterchange:
        """Keep received bytes as they came, with why they could not be read if so."""
        cur = self._conn.execute(
            "INSERT INTO x12_interchanges (order_id, transaction_set, direction, document, "
            "problem, recorded_at) VALUES (?, ?, 'received', ?, ?, ?)",
            (order_id, transaction_set, document, problem, format_timestamp(now)),
        )
        return self.get(int(cur.lastrowid or 0))

    def get(self, control_number: int) -> StoredInterchange:
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM x12_interchanges WHERE control_number = ?",
            (control_number,),
        ).fetchone()
        if row is None:
            raise KeyError(control_number)
        return _interchange(row)

    def for_order(self, order_id: str) -> list[StoredInterchange]:
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM x12_interchanges WHERE order_id = ? ORDER BY control_number",
            (order_id,),
        ).fetchall()
        return [_interchange(r) for r in rows]


def _interchange(row: tuple[object, ...]) -> StoredInterchange:
    number, order_id, kind, direction, document, problem, at, signed = row
    return StoredInterchange(
        int(str(number)),
        None if order_id is None else str(order_id),
        str(kind),
        str(direction),
        bytes(document) if isinstance(document, (bytes, memoryview)) else b"",
        None if problem is None else str(problem),
        str(at),
        bytes(signed) if isinstance(signed, (bytes, memoryview)) else None,
    )
