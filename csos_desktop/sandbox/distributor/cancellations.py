"""Cancellations by the purchaser and voids by the supplier (21 CFR 1305.28).

A purchaser cancels all or part of an order with a signed ``csos-cancel/1``
notice; packages already shipped cannot be cancelled (409 ``already-shipped``,
nothing changes). Cancelled and voided packages are taken off the balance
(``quantity_voided``); the record reports the purchaser's share apart as
``quantity_cancelled``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from csos_desktop.domain.notices import Cancellation
from csos_desktop.sandbox.distributor.customers import Customer
from csos_desktop.sandbox.distributor.db import cancellations, order_lines, orders
from csos_desktop.sandbox.distributor.fulfilment import record_change
from csos_desktop.sandbox.distributor.idempotency import read_keyed_document, signed_columns
from csos_desktop.sandbox.distributor.models import OrderStatusCode as S
from csos_desktop.sandbox.distributor.problems import ApiProblem, not_found
from csos_desktop.sandbox.distributor.receipts import customer_order

_CLOSED = (S.REJECTED.value, S.CANCELLED.value, S.SHIPPED.value)


def read_cancellation(document: bytes, key: str, order_id: str) -> Cancellation:
    """The notice, strictly; the key must be its id and the path its order."""
    cancellation = read_keyed_document(
        document, key, Cancellation.from_document, noun="cancellation"
    )
    if cancellation.order_id != order_id:
        raise ApiProblem(
            422,
            "cancellation-order-mismatch",
            f"the cancellation is for order {cancellation.order_id}, not {order_id}",
        )
    return cancellation


def store_cancellation(
    conn: Connection,
    customer: Customer,
    cancellation: Cancellation,
    document: bytes,
    signature: bytes,
    now: datetime,
) -> None:
    """Take the packages off the order's balance and keep the notice (one transaction)."""
    order = customer_order(conn, customer, cancellation.order_id)
    if cancellation.order_signature_sha256 != order.signature_sha256:
        raise ApiProblem(
            422,
            "cancellation-order-mismatch",
            "the cancellation names a different signature of this order than the one the "
            "distributor holds",
        )
    if order.status in _CLOSED or order.closed:
        raise ApiProblem(
            409,
            "order-closed",
            f"order {order.order_number} is {order.status}: nothing is left to cancel",
        )
    lines = {
        r.line_no: r
        for r in conn.execute(select(order_lines).where(order_lines.c.order_id == order.order_id))
    }
    problems, shipped_lines = [], []
    for n, q in sorted(cancellation.quantities.items()):
        line = lines.get(n)
        if line is None:
            problems.append(f"line {n} is not on order {order.order_number}")
            continue
        left = line.quantity_ordered - line.quantity_shipped - line.quantity_voided
        if q > left:
            if line.quantity_shipped:
                shipped_lines.append(n)
            problems.append(
                f"line {n}: {q} package(s) asked but {line.quantity_shipped} already shipped "
                f"and {line.quantity_voided} voided; {left} can be cancelled"
            )
    if shipped_lines:
        raise ApiProblem(
            409,
            "already-shipped",
            "shipped packages cannot be cancelled: " + "; ".join(problems),
        )
    if problems:
        raise ApiProblem(422, "cancellation-refused", "; ".join(problems))
    apply_void(conn, order, lines, cancellation.quantities)
    conn.execute(
        insert(cancellations).values(
            cancellation_id=cancellation.cancellation_id,
            order_id=order.order_id,
            customer_id=customer.id,
            **signed_columns(document, signature),
            lines=json.dumps(
                [
                    {"line_no": n, "quantity_cancelled": q}
                    for n, q in sorted(cancellation.quantities.items())
                ]
            ),
            accepted_at=now,
        )
    )
    status = close_if_done(conn, order.order_id)
    record_change(conn, customer.id, order.order_id, "cancelled", status, now)


def void_lines(
    conn: Connection, order_id: str, quantities: Mapping[int, int], now: datetime
) -> None:
    """The supplier voids packages of open lines (1305.28); the purchaser is told in the feed."""
    order = conn.execute(select(orders).where(orders.c.order_id == order_id)).first()
    if order is None:
        raise not_found(f"order {order_id}")
    lines = {
        r.line_no: r
        for r in conn.execute(select(order_lines).where(order_lines.c.order_id == order_id))
    }
    apply_void(conn, order, lines, quantities)
    record_change(conn, order.customer_id, order_id, "voided", close_if_done(conn, order_id), now)


def apply_void(
    conn: Connection, order: Row[Any], lines: Mapping[int, Row[Any]], take: Mapping[int, int]
) -> None:
    for n, q in take.items():
        line = lines[n]
        left = line.quantity_ordered - line.quantity_shipped - line.quantity_voided
        conn.execute(
            update(order_lines)
            .where(order_lines.c.order_id == order.order_id, order_lines.c.line_no == n)
            .values(quantity_voided=line.quantity_voided + min(q, left))
        )


def close_if_done(conn: Connection, order_id: str) -> S:
    """Status after a cancellation or void; an order with nothing left to ship is closed."""
    rows = conn.execute(select(order_lines).where(order_lines.c.order_id == order_id)).all()
    shipped = sum(r.quantity_shipped for r in rows)
    done = all(r.quantity_shipped + r.quantity_voided >= r.quantity_ordered for r in rows)
    current = str(
        conn.execute(select(orders.c.status).where(orders.c.order_id == order_id)).scalar_one()
    )
    if not done:
        status = S(current)
    elif shipped == 0:
        status = S.CANCELLED
    else:
        status = S.SHIPPED_PARTIAL if current != S.SHIPPED.value else S.SHIPPED
    conn.execute(
        update(orders)
        .where(orders.c.order_id == order_id)
        .values(status=status.value, closed=int(done))
    )
    return status


def cancelled_by_line(conn: Connection, order_id: str) -> dict[int, int]:
    """Packages per line the purchaser's accepted cancellations took off the order."""
    out: dict[int, int] = {}
    for row in conn.execute(
        select(cancellations.c.lines).where(cancellations.c.order_id == order_id)
    ):
        for line in json.loads(row.lines):
            out[line["line_no"]] = out.get(line["line_no"], 0) + line["quantity_cancelled"]
    return out


def cancellation_row(conn: Connection, cancellation_id: str) -> Row[Any] | None:
    return conn.execute(
        select(cancellations).where(cancellations.c.cancellation_id == cancellation_id)
    ).first()


def cancellation_result(row: Row[Any], order_status: str) -> dict[str, Any]:
    return {
        "cancellation_id": row.cancellation_id,
        "order_id": row.order_id,
        "accepted_at": row.accepted_at,
        "document_sha256": row.document_sha256,
        "lines": json.loads(row.lines),
        "order_status": order_status,
    }
