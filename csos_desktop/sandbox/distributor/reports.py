"""The 21 CFR 1305.29 report: filled electronic orders, one file per ship day.

A supplier sends DEA a copy or report of each filled electronic order within
two business days. Each file lists the day's shipments with the order they
fill and says when it is due. The file for a day is rewritten while that day
still ships, and written atomically, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from csos_desktop.domain.order import format_timestamp
from csos_desktop.sandbox.distributor.arcos import Transaction, transaction_record
from csos_desktop.sandbox.distributor.db import order_lines, orders, shipments
from csos_desktop.sandbox.distributor.order_intake import order_of

SCHEMA = "csos-dea-1305.29-report/1"


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    day = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    if n == 5 and day.month != month:  # "last": step back a week
        day -= timedelta(days=7)
    return day


def federal_holidays(year: int) -> frozenset[date]:
    """US federal holidays (5 U.S.C. 6103), moved to Friday/Monday when on a weekend."""
    fixed = [
        date(year, 1, 1),
        date(year, 6, 19),
        date(year, 7, 4),
        date(year, 11, 11),
        date(year, 12, 25),
    ]
    observed = set()
    for d in fixed:
        shift = {5: -1, 6: 1}.get(d.weekday(), 0)
        observed.add(d + timedelta(days=shift))
    return frozenset(
        observed
        | {
            _nth_weekday(year, 1, 0, 3),
            _nth_weekday(year, 2, 0, 3),
            _nth_weekday(year, 5, 0, 5),
            _nth_weekday(year, 9, 0, 1),
            _nth_weekday(year, 10, 0, 2),
            _nth_weekday(year, 11, 3, 4),
        }
    )


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in federal_holidays(day.year)


def due_by(ship_day: date, business_days: int = 2) -> date:
    """The day the report of orders filled on ``ship_day`` is due (1305.29)."""
    day = ship_day
    left = business_days
    while left:
        day += timedelta(days=1)
        if is_business_day(day):
            left -= 1
    return day


def report_path(directory: Path, day: date) -> Path:
    return directory / f"filled-orders-{day.isoformat()}.json"


def write_day(conn: Connection, directory: Path, day: date, now: datetime) -> Path:
    """(Re)write the report of orders filled on ``day``; returns its path."""
    rows = conn.execute(
        select(
            shipments.c.order_id,
            shipments.c.line_no,
            shipments.c.containers,
            orders.c.order_number,
            orders.c.date_signed,
            orders.c.document_sha256,
            orders.c.signature_sha256,
            orders.c.document,
            order_lines.c.ndc,
            order_lines.c.item_name,
            order_lines.c.schedule,
            order_lines.c.package_size,
            order_lines.c.quantity_ordered,
        )
        .join(orders, orders.c.order_id == shipments.c.order_id)
        .join(
            order_lines,
            (order_lines.c.order_id == shipments.c.order_id)
            & (order_lines.c.line_no == shipments.c.line_no),
        )
        .where(shipments.c.ship_date == day)
        .order_by(shipments.c.order_id, shipments.c.line_no, shipments.c.id)
    ).all()
    filled: dict[str, dict[str, object]] = {}
    arcos: list[Transaction] = []
    parties: dict[str, tuple[str, str]] = {}  # order id -> (supplier DEA, purchaser DEA)
    for r in rows:
        entry = filled.get(r.order_id)
        if entry is None:
            # Accepted orders are valid csos-order/1 documents or X12 850s (over AS2).
            doc: dict[str, Any] = order_of(r.document).to_document()
            parties[r.order_id] = (
                str(doc["supplier"]["dea_number"]),
                str(doc["purchaser"]["dea_number"]),
            )
            entry = filled[r.order_id] = {
                "order_id": r.order_id,
                "order_number": r.order_number,
                "date_signed": r.date_signed.isoformat() if r.date_signed else None,
                "purchaser": doc["purchaser"],
                "supplier": doc["supplier"],
                "document_sha256": r.document_sha256,
                "signature_sha256": r.signature_sha256,
                "lines": [],
            }
        lines = entry["lines"]
        assert isinstance(lines, list)
        lines.append(
            {
                "line_no": r.line_no,
                "ndc": r.ndc,
                "item_name": r.item_name,
                "schedule": r.schedule,
                "package_size": r.package_size,
                "quantity_ordered": r.quantity_ordered,
                "containers_shipped": r.containers,
                "ship_date": day.isoformat(),
            }
        )
        supplier, purchaser = parties[r.order_id]
        arcos.append(
            Transaction(
                supplier,
                r.ndc,
                r.containers,
                purchaser,
                r.order_number or "",
                day,
                len(arcos) + 1,
            )
        )
    report = {
        "schema": SCHEMA,
        "regulation": "21 CFR 1305.29: report of filled electronic orders",
        "ship_date": day.isoformat(),
        "due_by": due_by(day).isoformat(),
        "generated_at": format_timestamp(now),
        "orders": list(filled.values()),
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = report_path(directory, day)
    _write_atomically(path, json.dumps(report, indent=2) + "\n")
    records = "".join(transaction_record(t) + "\n" for t in arcos)
    _write_atomically(arcos_path(directory, day), records)
    return path


def arcos_path(directory: Path, day: date) -> Path:
    """The same day's filled orders as ARCOS transaction records (``arcos.py``)."""
    return directory / f"filled-orders-{day.isoformat()}.arcos.txt"


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
