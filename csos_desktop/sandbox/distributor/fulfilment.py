"""Simulated fulfilment: ship all, ship part now and the balance later, or backorder.

Every shipment is a row linked to its order and line with the number of
containers and the ship date (21 CFR 1305.22(d)). A balance ships only until
60 days after the order was signed; after that it is voided (1305.22(e)) and
the purchaser is told through the change feed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from csos_desktop.sandbox.distributor.db import changes, order_lines, orders, shipments
from csos_desktop.sandbox.distributor.models import OrderStatusCode as S
from csos_desktop.sandbox.distributor.statements import OrderRef, StatementKind, StatementSigner

#: 1305.22(e): the balance of a partial fill ships within 60 days of the order date.
BALANCE_WINDOW = timedelta(days=60)


class FulfilmentMode(StrEnum):
    SHIP_ALL = "ship-all"
    PARTIAL = "partial"
    BACKORDER = "backorder"


@dataclass(frozen=True)
class FulfilmentSettings:
    """How the first pass ships an accepted order; balances follow after ``balance_delay``."""

    mode: FulfilmentMode = FulfilmentMode.SHIP_ALL
    balance_delay: timedelta = timedelta(0)


@dataclass(frozen=True)
class PassResult:
    """What one pass did: orders touched and the ship days whose reports are now stale."""

    orders_touched: int
    ship_days: frozenset[date]


def first_containers(mode: FulfilmentMode, ordered: int) -> int:
    """Containers of a line shipped on the first pass."""
    if mode is FulfilmentMode.SHIP_ALL:
        return ordered
    if mode is FulfilmentMode.PARTIAL:
        return ordered // 2  # a one-container line waits for the balance
    return 0


def balance_due_by(signing_time: datetime | None, received_at: datetime) -> date:
    """Last ship day: 60 days from min(signing time, time received).

    The signing time is the signer's claim and the document's date signed may be
    a day off it; neither may push the window past 60 days from when the order
    demonstrably existed (received here), so the earlier of the two counts.
    """
    start = received_at if signing_time is None else min(signing_time, received_at)
    return start.date() + BALANCE_WINDOW


def run_pass(
    conn: Connection,
    now: datetime,
    settings: FulfilmentSettings,
    statements: StatementSigner | None = None,
) -> PassResult:
    """Ship what is due on every open accepted order; void balances past 60 days.

    With *statements*, each shipment and each void is also a signed statement.
    """
    today = now.date()
    open_orders = conn.execute(
        select(
            orders.c.order_id,
            orders.c.customer_id,
            orders.c.last_fill_at,
            orders.c.balance_due_by,
            orders.c.order_number,
            orders.c.document_sha256,
            orders.c.signature_sha256,
        )
        .where(
            orders.c.status.in_([S.ACCEPTED.value, S.SHIPPED_PARTIAL.value]), orders.c.closed == 0
        )
        .order_by(orders.c.received_at)
    ).all()
    touched = 0
    days: set[date] = set()
    for row in open_orders:
        first = row.last_fill_at is None
        if not first and now - _aware(row.last_fill_at, now) < settings.balance_delay:
            continue
        lines = conn.execute(
            select(order_lines)
            .where(order_lines.c.order_id == row.order_id)
            .order_by(order_lines.c.line_no)
        ).all()
        ref = OrderRef(row.order_id, row.order_number, row.document_sha256, row.signature_sha256)
        if row.balance_due_by is not None and today > row.balance_due_by:
            voided = _void_balance(conn, row.order_id, row.customer_id, lines, now)
            if statements is not None and voided:
                statements.record(
                    conn,
                    StatementKind.SUPPLIER_VOID,
                    ref,
                    issued_at=now,
                    text=f"The unfilled balance of order {row.order_number} is void: it could "
                    f"not ship by {row.balance_due_by}, 60 days after the order was signed "
                    "(21 CFR 1305.22(e)).",
                    lines=voided,
                )
            touched += 1
            continue
        shipped: list[dict[str, object]] = []
        for line in lines:
            left = line.quantity_ordered - line.quantity_shipped - line.quantity_voided
            n = first_containers(settings.mode, left) if first else left
            if n <= 0:
                continue
            conn.execute(
                insert(shipments).values(
                    order_id=row.order_id,
                    line_no=line.line_no,
                    containers=n,
                    ship_date=today,
                    recorded_at=now,
                )
            )
            conn.execute(
                update(order_lines)
                .where(
                    order_lines.c.order_id == row.order_id, order_lines.c.line_no == line.line_no
                )
                .values(quantity_shipped=line.quantity_shipped + n)
            )
            shipped.append(
                {"line_no": line.line_no, "containers": n, "ship_date": today.isoformat()}
            )
        status, closed = _status_after(conn, row.order_id)
        conn.execute(
            update(orders)
            .where(orders.c.order_id == row.order_id)
            .values(status=status.value, closed=int(closed), last_fill_at=now)
        )
        if shipped and statements is not None:
            statements.record(
                conn,
                StatementKind.SHIPMENT,
                ref,
                issued_at=now,
                text=f"Shipped on {today} against order {row.order_number} (21 CFR 1305.22(d)).",
                lines=shipped,
            )
        if shipped:
            days.add(today)
            record_change(conn, row.customer_id, row.order_id, "shipped", status, now)
        elif first:
            record_change(conn, row.customer_id, row.order_id, "backordered", status, now)
        touched += 1
    return PassResult(touched, frozenset(days))


def _aware(moment: datetime, like: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored in UTC.
    return moment.replace(tzinfo=like.tzinfo) if moment.tzinfo is None else moment


def _status_after(conn: Connection, order_id: str) -> tuple[S, bool]:
    lines = conn.execute(
        select(
            order_lines.c.quantity_ordered,
            order_lines.c.quantity_shipped,
            order_lines.c.quantity_voided,
        ).where(order_lines.c.order_id == order_id)
    ).all()
    if all(x.quantity_shipped >= x.quantity_ordered for x in lines):
        return S.SHIPPED, True
    if all(x.quantity_shipped + x.quantity_voided >= x.quantity_ordered for x in lines):
        # The rest was cancelled by the purchaser or voided (1305.28): nothing more ships.
        shipped = any(x.quantity_shipped for x in lines)
        return (S.SHIPPED_PARTIAL if shipped else S.CANCELLED), True
    if any(x.quantity_shipped > 0 for x in lines):
        return S.SHIPPED_PARTIAL, False
    return S.ACCEPTED, False


def _void_balance(
    conn: Connection, order_id: str, customer_id: int, lines: Sequence[Row[Any]], now: datetime
) -> list[dict[str, object]]:
    """Void what did not ship; returns the voided quantities per line."""
    voided = [
        {"line_no": x.line_no, "quantity_voided": x.quantity_ordered - x.quantity_shipped}
        for x in lines
        if x.quantity_ordered > x.quantity_shipped
    ]
    for line in lines:
        conn.execute(
            update(order_lines)
            .where(order_lines.c.order_id == order_id, order_lines.c.line_no == line.line_no)
            .values(quantity_voided=line.quantity_ordered - line.quantity_shipped)
        )
    shipped = any(line.quantity_shipped > 0 for line in lines)
    status = S.SHIPPED_PARTIAL if shipped else S.CANCELLED
    conn.execute(
        update(orders)
        .where(orders.c.order_id == order_id)
        .values(status=status.value, closed=1, last_fill_at=now)
    )
    record_change(conn, customer_id, order_id, "balance-voided", status, now)
    return voided


def record_change(
    conn: Connection, customer_id: int, order_id: str, event: str, status: S, now: datetime
) -> None:
    conn.execute(
        insert(changes).values(
            customer_id=customer_id, order_id=order_id, event=event, status=status.value, at=now
        )
    )
