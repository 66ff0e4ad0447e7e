"""What the distributor answers about orders: one order's record, the change feed, history.

Read-only queries over the sandbox database; every time is returned in UTC.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, Table, select

from csos_desktop.sandbox.distributor import cancellations
from csos_desktop.sandbox.distributor.customers import Customer
from csos_desktop.sandbox.distributor.db import (
    changes,
    history,
    order_lines,
    orders,
    shipments,
)
from csos_desktop.sandbox.distributor.db import receipts as receipts_table
from csos_desktop.sandbox.distributor.problems import not_found
from csos_desktop.sandbox.distributor.statements import statements_of


def utc(moment: datetime) -> datetime:
    # SQLite returns naive datetimes; everything is stored in UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def order_status(engine: Engine, customer: Customer, order_id: str) -> dict[str, Any]:
    """The customer's own order as the API shows it (404 for anyone else's)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(orders).where(orders.c.order_id == order_id, orders.c.customer_id == customer.id)
        ).first()
        if row is None:
            raise not_found(f"order {order_id}")
        return order_record(conn, row)


def _page(
    engine: Engine,
    table: Table,
    position: str,
    where: Any,
    item: Callable[[Row[Any]], dict[str, Any]],
    cursor: int,
    limit: int,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of *table* matching *where* past *cursor* in *position* order, at most *limit*;
    one row more is fetched to tell whether another page follows."""
    col = table.c[position]
    with engine.connect() as conn:
        rows = conn.execute(select(table).where(where, col > cursor).order_by(col).limit(limit + 1))
        page = rows.all()
    more, page = len(page) > limit, page[:limit]
    last = getattr(page[-1], position) if page else cursor
    return [item(r) for r in page], {"next_cursor": str(last), "has_more": more}


def _change(r: Row[Any]) -> dict[str, Any]:
    return {
        "cursor": str(r.seq),
        "order_id": r.order_id,
        "event": r.event,
        "status": r.status,
        "at": utc(r.at),
    }


def _purchase(r: Row[Any]) -> dict[str, Any]:
    return {
        "order_id": r.order_id,
        "order_date": r.order_date,
        "purchaser_dea": r.purchaser_dea,
        "ndc": r.ndc,
        "drug_code": r.drug_code,
        "dosage_units": r.dosage_units,
    }


def change_feed(engine: Engine, customer: Customer, cursor: int, limit: int) -> dict[str, Any]:
    mine = changes.c.customer_id == customer.id
    items, more = _page(engine, changes, "seq", mine, _change, cursor, limit)
    return {"changes": items, **more}


def purchase_history(engine: Engine, customer: Customer, cursor: int, limit: int) -> dict[str, Any]:
    mine = history.c.purchaser_dea == customer.dea_number
    items, more = _page(engine, history, "id", mine, _purchase, cursor, limit)
    return {"rows": items, **more}


def order_record(conn: Connection, row: Row[Any]) -> dict[str, Any]:
    """An order with its lines, shipments, receipts, cancellations and signed statements."""
    lines = conn.execute(
        select(order_lines)
        .where(order_lines.c.order_id == row.order_id)
        .order_by(order_lines.c.line_no)
    ).all()
    ships: dict[int, list[dict[str, object]]] = {}
    for s in conn.execute(
        select(shipments).where(shipments.c.order_id == row.order_id).order_by(shipments.c.id)
    ):
        ships.setdefault(s.line_no, []).append(
            {"containers": s.containers, "ship_date": s.ship_date}
        )
    receipt_ids = [
        r.receipt_id
        for r in conn.execute(
            select(receipts_table.c.receipt_id)
            .where(receipts_table.c.order_id == row.order_id)
            .order_by(receipts_table.c.accepted_at)
        )
    ]
    verification = json.loads(row.verification)
    cancelled = cancellations.cancelled_by_line(conn, row.order_id)
    return {
        "order_id": row.order_id,
        "order_number": row.order_number,
        "status": row.status,
        "received_at": utc(row.received_at),
        "date_signed": row.date_signed,
        "balance_due_by": row.balance_due_by,
        "document_sha256": row.document_sha256,
        "signature_sha256": row.signature_sha256,
        "reasons": verification["reasons"],
        "statement": row.statement,
        "warnings": verification["warnings"],
        "som": json.loads(row.som) if row.som else None,
        "lines": [
            {
                "line_no": x.line_no,
                "ndc": x.ndc,
                "item_name": x.item_name,
                "quantity_ordered": x.quantity_ordered,
                "quantity_shipped": x.quantity_shipped,
                "quantity_voided": x.quantity_voided,
                "quantity_cancelled": cancelled.get(x.line_no, 0),
                "shipments": ships.get(x.line_no, []),
            }
            for x in lines
        ],
        "receipts": receipt_ids,
        "signed_statements": statements_of(conn, row.order_id),
    }
