"""Suspicious-order report for DEA's SORS Online (21 U.S.C. 832(a)(3), 21 CFR 1301.74(b)).

Every order the distributor's suspicious-order monitoring held (``som.decision`` =
``intercept``) is reported, one row per line of the order, whether it is still held or
was released after due diligence: the report says which, with the reviewer's note. A
supplier that dispelled the suspicion may decide not to report an order; the sandbox
reports every one it identified, and the reader filters.

DEA publishes the SORS Online upload layout in the *SORS Online User Manual* (version 1.2,
section 6.5 "Formatting of Transactions for SORS Online File Uploads", filed with OMB as
1117-0056); its text was not available to this project, so the columns below are the facts
21 U.S.C. 832 and that manual's on-line form ask for (who reports, the buyer, the order,
the drug by NDC, the quantity, and why the order is suspicious), named here and listed in
docs/distributor.md. They are not DEA's upload layout column for column.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, select

from csos_desktop.domain.catalogue import Catalogue
from csos_desktop.sandbox.distributor import order_intake
from csos_desktop.sandbox.distributor.db import customers, order_lines, orders, som_reviews
from csos_desktop.sandbox.distributor.identity import DistributorIdentity

#: The report's columns, in order (docs/distributor.md "Suspicious-order reports").
COLUMNS = (
    "REPORTER_DEA_NUMBER",
    "REPORTER_NAME",
    "BUYER_DEA_NUMBER",
    "BUYER_NAME",
    "BUYER_STREET",
    "BUYER_CITY",
    "BUYER_STATE",
    "BUYER_ZIP",
    "ORDER_NUMBER",
    "ORDER_DATE",
    "DATE_IDENTIFIED",
    "LINE_NUMBER",
    "NDC",
    "DRUG_CODE",
    "PRODUCT",
    "SCHEDULE",
    "PACKAGES_ORDERED",
    "PACKAGE_SIZE",
    "DOSAGE_UNITS",
    "ORDER_FILLED",
    "DISPOSITION",
    "SUSPICIOUS_BECAUSE",
    "DUE_DILIGENCE",
)


@dataclass(frozen=True)
class SorsReport:
    text: str
    orders: int
    rows: int


def _day(value: object) -> str:
    """MMDDYYYY, as ARCOS and SORS write dates."""
    if isinstance(value, datetime):
        value = value.date()
    return value.strftime("%m%d%Y") if isinstance(value, date) else ""


def _why(som: Mapping[str, Any]) -> str:
    """The kind of each flag (size, pattern, frequency: 21 U.S.C. 802(57)) and its reason."""
    flags = [f"{f.get('kind', '')}: {f.get('explanation', '')}" for f in som.get("flags", ())]
    return " ".join(("; ".join(flags) or str(som.get("explanation", ""))).split())


def suspicious_orders(
    engine: Engine,
    identity: DistributorIdentity,
    catalogue: Catalogue | None,
    *,
    since: date | None = None,
) -> SorsReport:
    """The SORS rows for every order the SOM held (received on or after *since*)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    n_orders = n_rows = 0
    with engine.connect() as conn:
        held = conn.execute(
            select(orders, customers.c.name.label("buyer_name"))
            .join(customers, customers.c.id == orders.c.customer_id)
            .where(orders.c.som.is_not(None))
            .order_by(orders.c.received_at, orders.c.order_id)
        ).all()
        for row in held:
            som = json.loads(row.som)
            if som.get("decision") != "intercept":
                continue
            if since is not None and row.received_at.date() < since:
                continue
            order = order_intake.order_of(row.document)
            lines = {
                r.line_no: r
                for r in conn.execute(
                    select(order_lines).where(order_lines.c.order_id == row.order_id)
                )
            }
            review = conn.execute(
                select(som_reviews)
                .where(som_reviews.c.order_id == row.order_id)
                .order_by(som_reviews.c.at.desc())
            ).first()
            shipped = sum(r.quantity_shipped for r in lines.values())
            disposition = (
                "held"
                if review is None
                else f"{review.decision} by {review.reviewer} on {_day(review.at)}"
            )
            n_orders += 1
            for line in order.lines:
                product = catalogue.product(line.ndc.digits) if catalogue else None
                n_rows += 1
                writer.writerow(
                    _row(
                        identity,
                        order,
                        row,
                        line,
                        product,
                        filled="Y" if shipped else "N",
                        disposition=disposition,
                        why=_why(som),
                        note="" if review is None else review.due_diligence,
                    )
                )
    return SorsReport(out.getvalue(), n_orders, n_rows)


def _row(
    me: DistributorIdentity,
    order: Any,
    row: Any,
    line: Any,
    product: Any,
    *,
    filled: str,
    disposition: str,
    why: str,
    note: str,
) -> Iterable[object]:
    buyer = order.purchaser
    return (
        me.dea_number,
        me.name,
        buyer.dea_number.value,
        row.buyer_name,
        buyer.address.street,
        buyer.address.city,
        buyer.address.state,
        buyer.address.postal_code[:5],
        order.order_number,
        _day(order.date_signed),
        _day(row.received_at),
        line.line_no,
        line.ndc.digits,
        "" if product is None else product.drug_code,
        line.item_name,
        "" if line.schedule is None else line.schedule.value,
        line.quantity,
        line.package_size,
        line.quantity * line.package_size,
        filled,
        disposition,
        why,
        note,
    )
