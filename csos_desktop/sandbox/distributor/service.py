"""The reference distributor's rules, independent of HTTP: submit, status, feed, receipts.

Every submission is verified with the supplier verification (1305.22(c)),
then judged by the SOM hook, then stored with its exact bytes whatever the
verdict. Writes are serialised by one lock, which keeps the change feed's
sequence numbers in commit order (a poller never skips a change).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from csos_desktop.domain.catalogue import Catalogue, CatalogueInvalid
from csos_desktop.domain.order import Order
from csos_desktop.pki.signed_check import Reason
from csos_desktop.sandbox.distributor import (
    cancellations,
    fulfilment,
    pharmacy,
    receipts,
    reports,
)
from csos_desktop.sandbox.distributor.customers import Customer, customer_by_token
from csos_desktop.sandbox.distributor.db import (
    changes,
    history,
    order_lines,
    orders,
    shipments,
)
from csos_desktop.sandbox.distributor.db import receipts as receipts_table
from csos_desktop.sandbox.distributor.fulfilment import FulfilmentSettings, PassResult
from csos_desktop.sandbox.distributor.identity import (
    SANDBOX_IDENTITY,
    DistributorIdentity,
    supplier_problems,
)
from csos_desktop.sandbox.distributor.models import OrderStatusCode as S
from csos_desktop.sandbox.distributor.problems import ApiProblem, not_found
from csos_desktop.sandbox.distributor.resources import ServedDocuments
from csos_desktop.sandbox.distributor.som_hook import HistoryItem, SomPolicy
from csos_desktop.sandbox.distributor.statements import (
    OrderRef,
    StatementKind,
    StatementSigner,
    statements_of,
)
from csos_desktop.sandbox.distributor.verification import (
    TrustMaterial,
    check_order,
    check_prescription,
)


def utc(moment: datetime) -> datetime:
    # SQLite returns naive datetimes; everything is stored in UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


@dataclass
class Distributor:
    """One sandbox distributor: database, trust material, SOM hook and fulfilment settings."""

    engine: Engine
    trust: TrustMaterial
    som: SomPolicy
    documents: ServedDocuments
    settings: FulfilmentSettings
    reports_dir: Path
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    identity: DistributorIdentity = SANDBOX_IDENTITY
    #: Signs statements of non-acceptance, shipment and void; None signs nothing.
    statements: StatementSigner | None = None

    def __post_init__(self) -> None:
        self._write = threading.Lock()
        self._catalogue = _catalogue(self.documents.catalogue)

    def authenticate(self, token: str) -> Customer | None:
        return customer_by_token(self.engine, token)

    # -- orders ----------------------------------------------------------------------

    def submit_order(
        self, customer: Customer, key: str, document: bytes, signature: bytes
    ) -> tuple[dict[str, Any], bool]:
        """Verify, judge and store an order; returns (record, replayed)."""
        stored = self._order_row(key)
        if stored is not None:
            return self._replay(customer, stored, document, signature), True
        now = self.clock()
        verdict = check_order(self.trust, document, signature, now)
        order = verdict.order
        if order is not None and order.order_id != key:
            raise ApiProblem(
                422,
                "idempotency-key-mismatch",
                f"the Idempotency-Key must be the order id {order.order_id}",
            )
        reasons = [{"code": f.reason.value, "message": f.message} for f in verdict.findings]
        wrong_supplier = supplier_problems(order, self.identity) if order is not None else []
        if wrong_supplier:
            reasons.append(
                {"code": Reason.WRONG_SUPPLIER.value, "message": "; ".join(wrong_supplier)}
            )
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
        som = None
        if reasons or order is None:
            status = S.REJECTED
        else:
            som = self.som.assess(
                order,
                self._history_items(customer.dea_number),
                customer_class=customer.customer_class,
            )
            status = S.INTERCEPTED if som.intercepted else S.ACCEPTED
        ref = order.order_number if order is not None else key
        record = {
            "reasons": reasons,
            "warnings": list(verdict.warnings),
            "verification": verdict.to_json(),
        }
        try:
            with self._write, self.engine.begin() as conn:
                conn.execute(
                    insert(orders).values(
                        order_id=key,
                        customer_id=customer.id,
                        order_number=order.order_number if order else None,
                        status=status.value,
                        document=document,
                        signature=signature,
                        document_sha256=sha256_hex(document),
                        signature_sha256=sha256_hex(signature),
                        verification=json.dumps(record),
                        som=json.dumps(som.to_json()) if som else None,
                        statement=statement_of_non_acceptance(ref, now, reasons)
                        if reasons
                        else None,
                        received_at=now,
                        date_signed=order.date_signed if order else None,
                        balance_due_by=fulfilment.balance_due_by(verdict.signing_time, now)
                        if order and status is not S.REJECTED
                        else None,
                        closed=0,
                    )
                )
                if reasons and self.statements is not None:
                    self.statements.record(
                        conn,
                        StatementKind.NON_ACCEPTANCE,
                        OrderRef(key, ref, sha256_hex(document), sha256_hex(signature)),
                        issued_at=now,
                        text=statement_of_non_acceptance(ref, now, reasons),
                        reasons=reasons,
                    )
                if order is not None and status is not S.REJECTED:
                    self._insert_lines(conn, order)
                if status is S.ACCEPTED and order is not None:
                    self._remember(conn, order)
                fulfilment.record_change(conn, customer.id, key, "received", status, now)
        except IntegrityError:
            # Another request with the same key won the race: answer as a replay.
            stored = self._order_row(key)
            if stored is None:
                raise
            return self._replay(customer, stored, document, signature), True
        return self.order_status(customer, key), False

    def order_status(self, customer: Customer, order_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(orders).where(
                    orders.c.order_id == order_id, orders.c.customer_id == customer.id
                )
            ).first()
            if row is None:
                raise not_found(f"order {order_id}")
            return _record(conn, row)

    def release(self, order_id: str) -> None:
        """A reviewer clears an intercepted order: it is accepted and will ship."""
        now = self.clock()
        with self._write, self.engine.begin() as conn:
            row = conn.execute(select(orders).where(orders.c.order_id == order_id)).first()
            if row is None or row.status != S.INTERCEPTED.value:
                raise not_found(f"intercepted order {order_id}")
            conn.execute(
                update(orders).where(orders.c.order_id == order_id).values(status=S.ACCEPTED.value)
            )
            self._remember(conn, Order.from_document(json.loads(row.document)))
            fulfilment.record_change(conn, row.customer_id, order_id, "released", S.ACCEPTED, now)

    def _replay(
        self, customer: Customer, row: Row[Any], document: bytes, signature: bytes
    ) -> dict[str, Any]:
        if row.customer_id != customer.id or (row.document_sha256, row.signature_sha256) != (
            sha256_hex(document),
            sha256_hex(signature),
        ):
            raise ApiProblem(
                409,
                "idempotency-conflict",
                "this Idempotency-Key was already used for different bytes; an "
                "order id names one signed order: give a new order a new id",
            )
        return self.order_status(customer, row.order_id)

    def _order_row(self, order_id: str) -> Row[Any] | None:
        with self.engine.connect() as conn:
            return conn.execute(select(orders).where(orders.c.order_id == order_id)).first()

    def _insert_lines(self, conn: Connection, order: Order) -> None:
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

    def _remember(self, conn: Connection, order: Order) -> None:
        """Add the accepted order's catalogued lines to the SOM history."""
        day = order.date_signed or order.created_at.date()
        for line in order.lines:
            product = self._catalogue.product(line.ndc.digits) if self._catalogue else None
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

    def _history_items(self, dea: str) -> list[HistoryItem]:
        with self.engine.connect() as conn:
            return [
                HistoryItem(r.order_id, r.order_date, r.drug_code, r.dosage_units, r.variant, r.ndc)
                for r in conn.execute(
                    select(history).where(history.c.purchaser_dea == dea).order_by(history.c.id)
                )
            ]

    # -- feed, history, receipts -------------------------------------------------------

    def changes(self, customer: Customer, cursor: int, limit: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(changes)
                .where(changes.c.customer_id == customer.id, changes.c.seq > cursor)
                .order_by(changes.c.seq)
                .limit(limit + 1)
            ).all()
        page = rows[:limit]
        return {
            "changes": [
                {
                    "cursor": str(r.seq),
                    "order_id": r.order_id,
                    "event": r.event,
                    "status": r.status,
                    "at": utc(r.at),
                }
                for r in page
            ],
            "next_cursor": str(page[-1].seq if page else cursor),
            "has_more": len(rows) > limit,
        }

    def history(self, customer: Customer, cursor: int, limit: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(history)
                .where(history.c.purchaser_dea == customer.dea_number, history.c.id > cursor)
                .order_by(history.c.id)
                .limit(limit + 1)
            ).all()
        page = rows[:limit]
        return {
            "rows": [
                {
                    "order_id": r.order_id,
                    "order_date": r.order_date,
                    "purchaser_dea": r.purchaser_dea,
                    "ndc": r.ndc,
                    "drug_code": r.drug_code,
                    "dosage_units": r.dosage_units,
                }
                for r in page
            ],
            "next_cursor": str(page[-1].id if page else cursor),
            "has_more": len(rows) > limit,
        }

    def submit_receipt(
        self, customer: Customer, key: str, document: bytes, signature: bytes
    ) -> tuple[dict[str, Any], bool]:
        """Check and keep a signed receipt; returns (result, replayed)."""
        existing = self._receipt_row(key)
        if existing is not None:
            if existing.customer_id != customer.id or (
                existing.document_sha256,
                existing.signature_sha256,
            ) != (sha256_hex(document), sha256_hex(signature)):
                raise ApiProblem(
                    409,
                    "idempotency-conflict",
                    "this Idempotency-Key was already used for a different "
                    "receipt; give each receipt its own id",
                )
            return receipts.receipt_result(existing), True
        receipt = receipts.read_receipt(document, key)
        now = self.clock()
        receipts.check_signature(self.trust, customer, document, signature, now)
        try:
            with self._write, self.engine.begin() as conn:
                # A retry may have raced this request here: the first one wins, this one
                # replays (checked under the lock, before the over-receipt check).
                if (
                    conn.execute(
                        select(receipts_table.c.receipt_id).where(
                            receipts_table.c.receipt_id == key
                        )
                    ).first()
                    is None
                ):
                    receipts.store_receipt(conn, customer, receipt, document, signature, now)
        except IntegrityError:
            pass
        row = self._receipt_row(key)
        assert row is not None
        if (row.customer_id, row.document_sha256, row.signature_sha256) != (
            customer.id,
            sha256_hex(document),
            sha256_hex(signature),
        ):
            raise ApiProblem(
                409,
                "idempotency-conflict",
                "this Idempotency-Key was already "
                "used for a different receipt; give each receipt its own id",
            )
        return receipts.receipt_result(row), False

    def _receipt_row(self, receipt_id: str) -> Row[Any] | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(receipts_table).where(receipts_table.c.receipt_id == receipt_id)
            ).first()

    # -- cancellations and voids (1305.28) ---------------------------------------------

    def submit_cancellation(
        self, customer: Customer, order_id: str, key: str, document: bytes, signature: bytes
    ) -> tuple[dict[str, Any], bool]:
        """Check a signed cancellation and take its packages off the order; (result, replayed)."""
        with self.engine.connect() as conn:
            existing = cancellations.cancellation_row(conn, key)
        if existing is None:
            cancellation = cancellations.read_cancellation(document, key, order_id)
            now = self.clock()
            receipts.check_signature(
                self.trust, customer, document, signature, now, noun="cancellation"
            )
            try:
                with self._write, self.engine.begin() as conn:
                    if cancellations.cancellation_row(conn, key) is None:
                        cancellations.store_cancellation(
                            conn, customer, cancellation, document, signature, now
                        )
            except IntegrityError:
                pass  # a retry raced this request: answer from what was kept
        with self.engine.connect() as conn:
            row = cancellations.cancellation_row(conn, key)
        assert row is not None
        cancellations.check_replay(row, customer, document, signature)
        status = self.order_status(customer, row.order_id)["status"]
        return cancellations.cancellation_result(row, status), existing is not None

    def void_lines(self, order_id: str, quantities: dict[int, int]) -> None:
        """The supplier voids packages of an open order (the sandbox operator's action)."""
        with self._write, self.engine.begin() as conn:
            cancellations.void_lines(conn, order_id, quantities, self.clock())

    # -- pharmacy inbox (prescriptions) -----------------------------------------------

    def submit_prescription(
        self, customer: Customer, pharmacy_id: str, key: str, document: bytes, signature: bytes
    ) -> tuple[dict[str, Any], bool]:
        """Verify a signed prescription as the pharmacy must and keep it, whatever the verdict.

        Returns (record, replayed); see :mod:`.pharmacy`.
        """
        with self.engine.connect() as conn:
            pharmacy.check_pharmacy(conn, pharmacy_id)
            stored = pharmacy.get_row(conn, key)
        if stored is not None:
            pharmacy.check_replay(stored, customer, pharmacy_id, document, signature)
            return pharmacy.record(stored), True
        now = self.clock()
        verdict = check_prescription(self.trust, document, signature, now)
        rx = verdict.prescription
        if rx is not None and rx.rx_id != key:
            raise ApiProblem(
                422,
                "idempotency-key-mismatch",
                f"the Idempotency-Key must be the prescription's rx_id {rx.rx_id}",
            )
        values = pharmacy.row_values(
            key=key,
            pharmacy_id=pharmacy_id,
            sender=customer,
            document=document,
            signature=signature,
            verdict=verdict,
            now=now,
        )
        try:
            with self._write, self.engine.begin() as conn:
                pharmacy.insert_row(conn, values)
        except IntegrityError:
            # Another request with the same key won the race: answer as a replay.
            with self.engine.connect() as conn:
                stored = pharmacy.get_row(conn, key)
            if stored is None:
                raise
            pharmacy.check_replay(stored, customer, pharmacy_id, document, signature)
            return pharmacy.record(stored), True
        return self.prescription(customer, pharmacy_id, key), False

    def prescription(self, customer: Customer, pharmacy_id: str, rx_id: str) -> dict[str, Any]:
        """The inbox's record, for the customer that sent it or the pharmacy that got it."""
        with self.engine.connect() as conn:
            pharmacy.check_pharmacy(conn, pharmacy_id)
            row = pharmacy.get_row(conn, rx_id)
        if row is None or not pharmacy.visible(row, customer, pharmacy_id):
            raise pharmacy.not_visible(pharmacy_id, rx_id)
        return pharmacy.record(row)

    # -- fulfilment ---------------------------------------------------------------------

    def fulfil(self, now: datetime | None = None) -> PassResult:
        """One fulfilment pass; rewrites the 1305.29 report of each day that shipped."""
        now = now or self.clock()
        with self._write, self.engine.begin() as conn:
            result = fulfilment.run_pass(conn, now, self.settings, self.statements)
            for day in sorted(result.ship_days):
                reports.write_day(conn, self.reports_dir, day, now)
        return result


def _catalogue(doc: dict[str, Any]) -> Catalogue | None:
    try:
        return Catalogue.from_document(doc) if doc.get("products") else None
    except CatalogueInvalid:
        return None


def _record(conn: Connection, row: Row[Any]) -> dict[str, Any]:
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
