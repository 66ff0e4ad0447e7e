"""The purchaser's lost-order statement (21 CFR 1305.26), and the late original it stops.

The purchaser signs a ``csos-lost-order/1`` statement naming the lost order's number,
date and signature, and the replacement order (new number). The distributor checks it
(strict reading, CMS with chain and CRLs, signer = the customer, purchaser = the customer,
supplier = this distributor) and keeps it byte-exact. From then on the original is not
accepted: an original that arrives later is refused with a statement of non-acceptance
naming 1305.26 (``lost-order-statement-received``), whatever its age. An original the
distributor already holds and has not finished has its open balance voided (feed event
``voided``), so it and its replacement are never both filled.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, or_, select

from csos_desktop.domain.notices import LostOrderStatement
from csos_desktop.domain.order import Order
from csos_desktop.sandbox.distributor import cancellations
from csos_desktop.sandbox.distributor.customers import Customer
from csos_desktop.sandbox.distributor.db import lost_order_statements, order_lines, orders
from csos_desktop.sandbox.distributor.fulfilment import record_change
from csos_desktop.sandbox.distributor.idempotency import read_keyed_document, signed_columns
from csos_desktop.sandbox.distributor.identity import DistributorIdentity
from csos_desktop.sandbox.distributor.problems import ApiProblem

REASON_CODE = "lost-order-statement-received"


def read_statement(document: bytes, key: str, order_id: str) -> LostOrderStatement:
    """The statement, strictly; the key must be its id and the path its original order."""
    statement = read_keyed_document(
        document, key, LostOrderStatement.from_document, noun="statement"
    )
    if statement.order_id != order_id:
        raise ApiProblem(
            422,
            "statement-order-mismatch",
            f"the statement declares order {statement.order_id} lost, not {order_id}",
        )
    return statement


def check_parties(
    statement: LostOrderStatement, customer: Customer, identity: DistributorIdentity
) -> None:
    """The purchaser is the account that sent it, and the supplier is this distributor."""
    if statement.purchaser_dea != customer.dea_number:
        raise ApiProblem(
            422,
            "dea-number-mismatch",
            f"the statement's purchaser {statement.purchaser_dea} is not this account's DEA "
            f"number {customer.dea_number}",
        )
    if statement.supplier_dea != identity.dea_number:
        raise ApiProblem(
            422,
            "wrong-supplier",
            f"the statement names supplier DEA {statement.supplier_dea}; this distributor is "
            f"{identity.dea_number}",
        )


def store_statement(
    conn: Connection,
    customer: Customer,
    statement: LostOrderStatement,
    document: bytes,
    signature: bytes,
    now: datetime,
) -> None:
    """Keep the statement; an original already held and still open stops here (voided)."""
    original = conn.execute(
        select(orders).where(
            orders.c.order_id == statement.order_id, orders.c.customer_id == customer.id
        )
    ).first()
    if original is not None and original.signature_sha256 != statement.order_signature_sha256:
        raise ApiProblem(
            422,
            "statement-order-mismatch",
            "the statement names a different signature of this order than the one the "
            "distributor holds",
        )
    conn.execute(
        insert(lost_order_statements).values(
            statement_id=statement.statement_id,
            customer_id=customer.id,
            order_id=statement.order_id,
            order_number=statement.order_number,
            purchaser_dea=statement.purchaser_dea,
            replacement_order_number=statement.replacement_order_number,
            **signed_columns(document, signature),
            original_status=None if original is None else original.status,
            received_at=now,
        )
    )
    if original is not None and not original.closed and original.status != "rejected":
        lines = {
            r.line_no: r
            for r in conn.execute(
                select(order_lines).where(order_lines.c.order_id == original.order_id)
            )
        }
        open_balance = {
            n: r.quantity_ordered - r.quantity_shipped - r.quantity_voided for n, r in lines.items()
        }
        cancellations.apply_void(conn, original, lines, open_balance)
        status = cancellations.close_if_done(conn, original.order_id)
        record_change(conn, customer.id, original.order_id, "voided", status, now)


def statement_for(conn: Connection, customer_id: int, order: Order) -> Row[Any] | None:
    """The customer's lost-order statement for this order (same id, or same purchaser and
    order number: a number names one order, 1305.21(b)(1)), if there is one."""
    return conn.execute(
        select(lost_order_statements)
        .where(
            lost_order_statements.c.customer_id == customer_id,
            or_(
                lost_order_statements.c.order_id == order.order_id,
                (lost_order_statements.c.purchaser_dea == order.purchaser.dea_number.value)
                & (lost_order_statements.c.order_number == order.order_number),
            ),
        )
        .order_by(lost_order_statements.c.received_at)
    ).first()


def late_original_reason(row: Row[Any]) -> dict[str, str]:
    """The reason a late original is not accepted, for its statement of non-acceptance."""
    return {
        "code": REASON_CODE,
        "message": (
            f"the purchaser declared order {row.order_number} lost in a signed statement "
            f"received {row.received_at:%Y-%m-%d} and replaced it with order "
            f"{row.replacement_order_number}; the original received after that statement is "
            "not accepted (21 CFR 1305.26)"
        ),
    }


def statement_row(conn: Connection, statement_id: str) -> Row[Any] | None:
    return conn.execute(
        select(lost_order_statements).where(lost_order_statements.c.statement_id == statement_id)
    ).first()


def statement_result(row: Row[Any]) -> dict[str, Any]:
    return {
        "statement_id": row.statement_id,
        "order_id": row.order_id,
        "order_number": row.order_number,
        "replacement_order_number": row.replacement_order_number,
        "received_at": row.received_at,
        "document_sha256": row.document_sha256,
        "original_status": row.original_status,
    }
