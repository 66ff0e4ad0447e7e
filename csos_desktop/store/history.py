"""Cached order history (distributor's and our own), read by SOM checks before signing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from csos_desktop.domain.timestamps import format_timestamp

Source = Literal["distributor", "local"]


@dataclass(frozen=True)
class HistoryRow:
    """One order line in whole dosage units (the shape SOM's history is built from)."""

    order_id: str
    line_no: int
    order_date: date
    purchaser_dea: str
    ndc: str
    drug_code: int
    units: int
    variant: str = ""


class HistoryCache:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def upsert(self, rows: Iterable[HistoryRow], *, source: Source, fetched_at: datetime) -> int:
        """Add or refresh rows (a newer fetch replaces the same order line)."""
        stamp = format_timestamp(fetched_at)
        cur = self._conn.executemany(
            "INSERT INTO order_history (order_id, line_no, order_date, purchaser_dea, ndc, "
            "drug_code, units, variant, source, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (order_id, line_no) DO UPDATE SET order_date = excluded.order_date, "
            "purchaser_dea = excluded.purchaser_dea, ndc = excluded.ndc, "
            "drug_code = excluded.drug_code, units = excluded.units, variant = excluded.variant,"
            " source = excluded.source, fetched_at = excluded.fetched_at",
            [
                (
                    r.order_id,
                    r.line_no,
                    r.order_date.isoformat(),
                    r.purchaser_dea,
                    r.ndc,
                    r.drug_code,
                    r.units,
                    r.variant,
                    source,
                    stamp,
                )
                for r in rows
            ],
        )
        return cur.rowcount

    def drug_codes(self, purchaser_dea: str, ndcs: Iterable[str]) -> dict[str, tuple[int, str]]:
        """Drug code and strength/form the purchaser's history gives each of ``ndcs``
        (the latest row wins)."""
        wanted = sorted(set(ndcs))
        if not wanted:
            return {}
        marks = ", ".join("?" * len(wanted))
        found: dict[str, tuple[int, str]] = {}
        for ndc, code, variant in self._conn.execute(
            "SELECT ndc, drug_code, variant FROM order_history WHERE purchaser_dea = ? AND ndc IN"
            f" ({marks}) ORDER BY order_date",
            (purchaser_dea, *wanted),
        ):
            found[str(ndc)] = (int(code), str(variant))
        return found

    def rows(self, purchaser_dea: str, since: date, until: date) -> Iterator[HistoryRow]:
        """Lines of ``purchaser_dea`` ordered in [since, until], oldest first."""
        for r in self._conn.execute(
            "SELECT order_id, line_no, order_date, purchaser_dea, ndc, drug_code, units, variant"
            " FROM order_history WHERE purchaser_dea = ? AND order_date BETWEEN ? AND ? "
            "ORDER BY order_date, order_id, line_no",
            (purchaser_dea, since.isoformat(), until.isoformat()),
        ):
            yield HistoryRow(
                str(r[0]),
                int(r[1]),
                date.fromisoformat(str(r[2])),
                str(r[3]),
                str(r[4]),
                int(r[5]),
                int(r[6]),
                str(r[7]),
            )
