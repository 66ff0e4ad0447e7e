"""Taking in a signed order: why it is refused, its lines, and the SOM purchase history.

The distributor refuses an order whose signature fails the supplier verification
(1305.22(c)), that names another supplier, or whose purchaser is not the account that
sent it; the refusal is a statement of non-acceptance (1305.25). An accepted order's
catalogued lines go into the history the SOM hook judges later orders against.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from csos_desktop.domain.catalogue import Catalogue, CatalogueInvalid
from csos_desktop.domain.order import Order
from csos_desktop.domain.x12.order850 import read_850
from csos_desktop.pki.signed_check import Reason
from csos_desktop.pki.supplier_check import OrderVerification
from csos_desktop.sandbox.distributor.customers import Customer
from csos_desktop.sandbox.distributor.db import history, order_lines
from csos_desktop.sandbox.distributor.identity import DistributorIdentity, supplier_problems
from csos_desktop.sandbox.distributor.ship_to import REASON_CODE as SHIP_TO
from csos_desktop.sandbox.distributor.ship_to import ShipToCheck, check_ship_to
from csos_desktop.sandbox.distributor.som_hook import HistoryItem


def statement_of_non_acceptance(
    order_ref: str, received: datetime, reasons: list[dict[str, str]]
) -> str:
    why = "; ".join(r["message"] for r in reasons)
    return (
        f"Statement of non-acceptance (21 CFR 1305.25): order {order_ref}, received "
        f"{received:%Y-%m-%d %H:%M} UTC, will not be filled because: {why}. A defective "
        "order is never corrected: keep this statement with the original order and issue "
        "a new order."
    )


def refusal_reasons(
    verdict: OrderVerification, identity: DistributorIdentity, customer: Customer
) -> list[dict[str, str]]:
    """Every reason the order will not be filled: verification, supplier, purchaser, and
    a ship-to that is not the certificate's registered location (1305.22(f))."""
    order = verdict.order
    reasons = [{"code": f.reason.value, "message": f.message} for f in verdict.findings]
    ship_to = ship_to_check(verdict)
    if ship_to is not None and ship_to.mismatch is not None:
        reasons.append({"code": SHIP_TO, "message": ship_to.mismatch})
    wrong_supplier = supplier_problems(order, identity) if order is not None else []
    if wrong_supplier:
        reasons.append({"code": Reason.WRONG_SUPPLIER.value, "message": "; ".join(wrong_supplier)})
    if order is not None and order.purchaser.dea_number.value != customer.dea_number:
        reasons.append(
            {
                "code": "dea-number-mismatch",
                "message": (
                    f"the order's purchaser {order.purchaser.dea_number.value} is not this "
                    f"account's DEA number {customer.dea_number}; each registrant submits its "
                    "own orders"
                ),
            }
        )
    return reasons


def ship_to_check(verdict: OrderVerification) -> ShipToCheck | None:
    """The purchaser's address against the signer's registered location; None when the
    order or the signer could not be read (already a reason of its own)."""
    if verdict.order is None or verdict.signer is None:
        return None
    return check_ship_to(verdict.order.purchaser.address, verdict.signer.postal_address)


def intake_warnings(verdict: OrderVerification) -> list[str]:
    """The verification's warnings, and a ship-to that could not be compared."""
    ship_to = ship_to_check(verdict)
    extra = [] if ship_to is None or ship_to.unverified is None else [ship_to.unverified]
    return [*verdict.warnings, *extra]


def order_of(document: bytes) -> Order:
    """The order an accepted document states: a JSON order or an X12 850."""
    if document.startswith(b"ISA"):
        return read_850(document)
    return Order.from_document(json.loads(document))


def insert_lines(conn: Connection, order: Order) -> None:
    for line in order.lines:
        conn.execute(
            insert(order_lines).values(
                order_id=order.order_id,
                line_no=line.line_no,
                ndc=line.ndc.digits,
                item_name=line.item_name,
                schedule=None if line.schedule is None else line.schedule.value,
                package_size=line.package_size,
                quantity_ordered=line.quantity,
                quantity_shipped=0,
                quantity_voided=0,
            )
        )


def remember(conn: Connection, order: Order, catalogue: Catalogue | None) -> None:
    """Add the accepted order's catalogued lines to the SOM history."""
    day = order.date_signed or order.created_at.date()
    for line in order.lines:
        product = catalogue.product(line.ndc.digits) if catalogue else None
        if product is None:
            continue
        conn.execute(
            insert(history).values(
                purchaser_dea=order.purchaser.dea_number.value,
                order_id=order.order_id,
                order_date=day,
                ndc=line.ndc.digits,
                drug_code=product.drug_code,
                dosage_units=line.package_size * line.quantity,
                variant=product.variant,
            )
        )


def history_items(engine: Engine, dea: str) -> list[HistoryItem]:
    with engine.connect() as conn:
        return [
            HistoryItem(r.order_id, r.order_date, r.drug_code, r.dosage_units, r.variant, r.ndc)
            for r in conn.execute(
                select(history).where(history.c.purchaser_dea == dea).order_by(history.c.id)
            )
        ]


def catalogue_of(doc: dict[str, Any]) -> Catalogue | None:
    try:
        return Catalogue.from_document(doc) if doc.get("products") else None
    except CatalogueInvalid:
        return None
