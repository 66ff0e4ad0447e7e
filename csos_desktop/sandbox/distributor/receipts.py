"""Signed receipts (``csos-receipt/1``): accepted only for shipped orders of that customer.

The purchaser's receipt records containers received per line and the date
(1305.22(g)). The distributor checks the signature (same CMS checks as for
orders, and the signer must be the customer), that it names the order's exact
signature, and that no line receives more than was shipped.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from csos_desktop.domain.receipt import Receipt
from csos_desktop.sandbox.distributor.customers import Customer
from csos_desktop.sandbox.distributor.db import order_lines, orders, receipts
from csos_desktop.sandbox.distributor.fulfilment import record_change
from csos_desktop.sandbox.distributor.idempotency import read_keyed_document, signed_columns
from csos_desktop.sandbox.distributor.models import OrderStatusCode as S
from csos_desktop.sandbox.distributor.problems import ApiProblem, not_found
from csos_desktop.sandbox.distributor.verification import (
    TrustMaterial,
    check_receipt_signature,
)

_SHIPPED = (S.SHIPPED.value, S.SHIPPED_PARTIAL.value)


def read_receipt(document: bytes, key: str) -> Receipt:
    """The receipt document, strictly; the idempotency key must be its receipt id."""
    return read_keyed_document(document, key, Receipt.from_document, noun="receipt")


def check_signature(
    trust: TrustMaterial,
    customer: Customer,
    document: bytes,
    signature: bytes,
    now: datetime,
    noun: str = "receipt",
) -> None:
    """CMS, chain with CRLs, and the customer itself as signer (receipts, cancellations)."""
    check = check_receipt_signature(
        trust, document, signature, customer_dea=customer.dea_number, now=now
    )
    if check.reasons:
        raise ApiProblem(
            422,
            f"{noun}-signature-invalid",
            f"the {noun}'s signature is not accepted: "
            + "; ".join(msg for _, msg in check.reasons),
            reasons=[{"code": r.value, "message": m} for r, m in check.reasons],
        )


def customer_order(conn: Connection, customer: Customer, order_id: str) -> Row[Any]:
    """The customer's own order, or 404 (another customer's order is not found either)."""
    order = conn.execute(
        select(orders).where(orders.c.order_id == order_id, orders.c.customer_id == customer.id)
    ).first()
    if order is None:
        raise not_found(f"order {order_id}")
    return order


def store_receipt(
    conn: Connection,
    customer: Customer,
    receipt: Receipt,
    document: bytes,
    signature: bytes,
    now: datetime,
) -> None:
    """Check the receipt against the order and keep it byte-exact (one transaction)."""
    order = customer_order(conn, customer, receipt.order_id)
    if order.status not in _SHIPPED:
        raise ApiProblem(
            409,
            "order-not-shipped",
            f"order {order.order_number} is {order.status}: a receipt can only "
            "be recorded for goods that were shipped",
        )
    if receipt.order_signature_sha256 != order.signature_sha256:
        raise ApiProblem(
            422,
            "receipt-order-mismatch",
            "the receipt names a different signature of this order than the one "
            "the distributor holds; build the receipt from the signed order sent",
        )
    shipped = {
        r.line_no: r.quantity_shipped
        for r in conn.execute(
            select(order_lines.c.line_no, order_lines.c.quantity_shipped).where(
                order_lines.c.order_id == order.order_id
            )
        )
    }
    before: dict[int, int] = {}
    for row in conn.execute(select(receipts.c.lines).where(receipts.c.order_id == order.order_id)):
        for line in json.loads(row.lines):
            before[line["line_no"]] = before.get(line["line_no"], 0) + line["quantity_received"]
    problems = []
    for line in receipt.lines:
        if line.line_no not in shipped:
            problems.append(f"line {line.line_no} is not on order {order.order_number}")
            continue
        total = before.get(line.line_no, 0) + line.quantity_received
        if total > shipped[line.line_no]:
            problems.append(
                f"line {line.line_no}: {total} container(s) received in all but "
                f"{shipped[line.line_no]} shipped"
            )
    if problems:
        raise ApiProblem(422, "over-receipt", "; ".join(problems))
    conn.execute(
        insert(receipts).values(
            receipt_id=receipt.receipt_id,
            order_id=order.order_id,
            customer_id=customer.id,
            **signed_columns(document, signature),
            lines=json.dumps([line.to_document() for line in receipt.lines]),
            accepted_at=now,
        )
    )
    record_change(conn, customer.id, order.order_id, "receipt-accepted", S(order.status), now)


def receipt_result(row: Row[Any]) -> dict[str, object]:
    return {
        "receipt_id": row.receipt_id,
        "order_id": row.order_id,
        "accepted_at": row.accepted_at,
        "document_sha256": row.document_sha256,
        "lines": json.loads(row.lines),
    }


def receipt_row(conn: Connection, receipt_id: str) -> Row[Any] | None:
    return conn.execute(select(receipts).where(receipts.c.receipt_id == receipt_id)).first()
