"""The distributor's latest report of what shipped and what it voided, per order line.

A cache of the distributor's record, refreshed by the sync worker; the
receipt check reads it (a receipt never exceeds what was shipped, 1305.22(g)).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime

from csos_desktop.domain.balance import Reported
from csos_desktop.domain.timestamps import format_timestamp


class FulfilmentRepository:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def reported(self, order_id: str) -> dict[int, Reported] | None:
        """Per line, or None when the distributor has reported nothing for the order."""
        rows = self._conn.execute(
            "SELECT line_no, quantity_shipped, quantity_voided FROM order_fulfilment "
            "WHERE order_id = ? ORDER BY line_no",
            (order_id,),
        ).fetchall()
        if not rows:
            return None
        return {int(r[0]): Reported(int(r[1]), int(r[2])) for r in rows}

    def save(self, order_id: str, lines: Mapping[int, Reported], now: datetime) -> None:
        """Replace the report (inside the caller's transaction)."""
        self._conn.executemany(
            "INSERT INTO order_fulfilment (order_id, line_no, quantity_shipped, quantity_voided, "
            "reported_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (order_id, line_no) DO UPDATE SET "
            "quantity_shipped = excluded.quantity_shipped, "
            "quantity_voided = excluded.quantity_voided, reported_at = excluded.reported_at",
            [
                (order_id, n, rep.shipped, rep.voided, format_timestamp(now))
                for n, rep in sorted(lines.items())
            ],
        )
