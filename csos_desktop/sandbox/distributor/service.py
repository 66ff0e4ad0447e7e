"""The reference distributor's rules, independent of HTTP: submit, status, feed, receipts.

Every submission is verified with the supplier verification (1305.22(c)),
then judged by the SOM hook, then stored with its exact bytes whatever the
verdict. Writes are serialised by one lock, which keeps the change feed's
sequence numbers in commit order (a poller never skips a change). What is
refused and why is in :mod:`order_intake`; what is answered, in :mod:`order_views`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import InputError
from csos_desktop.sandbox.distributor import (
    cancellations,
    fulfilment,
    lost_orders,
    order_intake,
    order_views,
    pharmacy,
    receipts,
    reports,
    sors,
)
from csos_desktop.sandbox.distributor.as2_endpoint import As2Endpoint
from csos_desktop.sandbox.distributor.customers import Customer, customer_by_token
from csos_desktop.sandbox.distributor.db import orders, som_reviews
from csos_desktop.sandbox.distributor.fulfilment import FulfilmentSettings, PassResult
from csos_desktop.sandbox.distributor.idempotency import (
    check_replay,
    conflict,
    same_submission,
    sha256_hex,
    signed_columns,
)
from csos_desktop.sandbox.distributor.identity import SANDBOX_IDENTITY, DistributorIdentity
from csos_desktop.sandbox.distributor.models import OrderStatusCode as S
from csos_desktop.sandbox.distributor.order_intake import statement_of_non_acceptance
from csos_desktop.sandbox.distributor.order_views import utc
from csos_desktop.sandbox.distributor.problems import ApiProblem, not_found
from csos_desktop.sandbox.distributor.resources import ServedDocuments
from csos_desktop.sandbox.distributor.som_hook import SomPolicy
from csos_desktop.sandbox.distributor.statements import OrderRef, StatementKind, StatementSigner
from csos_desktop.sandbox.distributor.verification import (
    TrustMaterial,
    check_order,
    check_prescription,
)
from csos_desktop.sandbox.distributor.x12_replies import replies_of

# Names callers imported from here before the split.
__all__ = ["Distributor", "sha256_hex", "statement_of_non_acceptance", "utc"]

#: The shortest due-diligence note a release accepts: a sentence, not "ok".
MIN_DUE_DILIGENCE = 20


@dataclass
class Distributor:
    """One sandbox distributor: database, trust material, SOM hook and fulfilment settings."""

    engine: Engine
    trust: TrustMaterial
    som: SomPolicy
    documents: ServedDocuments
    settings: FulfilmentSettings
    reports_dir: Path
    clock: Clock = utc_now
    identity: DistributorIdentity = SANDBOX_IDENTITY
    #: Signs statements of non-acceptance, shipment and void; None signs nothing.
    statements: StatementSigner | None = None
    #: Takes signed orders over AS2 beside the REST API; None: no AS2 endpoint.
    as2: As2Endpoint | None = None

    def __post_init__(self) -> None:
        self._write = threading.Lock()
        self._catalogue = order_intake.catalogue_of(self.documents.catalogue)

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
        reasons = order_intake.refusal_reasons(verdict, self.identity, customer)
        som = None
        if reasons or order is None:
            status = S.REJECTED
        else:
            som = self.som.assess(
                order,
                order_intake.history_items(self.engine, customer.dea_number),
                customer_class=customer.customer_class,
            )
            status = S.INTERCEPTED if som.intercepted else S.ACCEPTED
        ref = order.order_number if order is not None else key
        record = {
            "reasons": reasons,
            "warnings": order_intake.intake_warnings(verdict),
            "verification": verdict.to_json(),
        }
        try:
            with self._write, self.engine.begin() as conn:
                # 1305.26: looked up under the write lock, where statements are stored too,
                # so a statement and its original arriving together cannot both miss.
                lost = (
                    None if order is None else lost_orders.statement_for(conn, customer.id, order)
                )
                if lost is not None:
                    reasons.append(lost_orders.late_original_reason(lost))
                    status, som = S.REJECTED, None  # not filled, so not judged either
                conn.execute(
                    insert(orders).values(
                        order_id=key,
                        customer_id=customer.id,
                        order_number=order.order_number if order else None,
                        status=status.value,
                        **signed_columns(document, signature),
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
                    order_intake.insert_lines(conn, order)
                if status is S.ACCEPTED and order is not None:
                    order_intake.remember(conn, order, self._catalogue)
                fulfilment.record_change(conn, customer.id, key, "received", status, now)
        except IntegrityError:
            # Another request with the same key won the race: answer as a replay.
            stored = self._order_row(key)
            if stored is None:
                raise
            return self._replay(customer, stored, document, signature), True
        return self.order_status(customer, key), False

    def order_status(self, customer: Customer, order_id: str) -> dict[str, Any]:
        record = order_views.order_status(self.engine, customer, order_id)
        # The same answers as X12 (855, 856), for pharmacies and gateways that read EDI.
        sign = None if self.statements is None else self.statements.sign_bytes
        record["x12"] = replies_of(record, customer.dea_number, self.identity.dea_number, sign)
        return record

    def release(self, order_id: str, *, reviewer: str, due_diligence: str) -> None:
        """A reviewer clears an intercepted order: it is accepted and will ship.

        1301.74(b): a held suspicious order ships only once the reviewer has recorded the
        due diligence that dispelled the suspicion; the note is kept with the release, in
        the same transaction.
        """
        note, who = " ".join(due_diligence.split()), " ".join(reviewer.split())
        if len(note) < MIN_DUE_DILIGENCE or not who:
            raise InputError(
                "Releasing an intercepted order needs the reviewer's name and a due-diligence "
                f"note of at least {MIN_DUE_DILIGENCE} characters saying what dispelled the "
                "suspicion (21 CFR 1301.74(b)); the order stays held."
            )
        now = self.clock()
        with self._write, self.engine.begin() as conn:
            row = conn.execute(select(orders).where(orders.c.order_id == order_id)).first()
            if row is None or row.status != S.INTERCEPTED.value:
                raise not_found(f"intercepted order {order_id}")
            conn.execute(
                update(orders).where(orders.c.order_id == order_id).values(status=S.ACCEPTED.value)
            )
            order_intake.remember(conn, order_intake.order_of(row.document), self._catalogue)
            conn.execute(
                insert(som_reviews).values(
                    order_id=order_id,
                    reviewer=who,
                    due_diligence=note,
                    decision="released",
                    at=now,
                )
            )
            fulfilment.record_change(conn, row.customer_id, order_id, "released", S.ACCEPTED, now)

    def sors_report(self, since: date | None = None) -> sors.SorsReport:
        """The suspicious orders the SOM held, as rows for DEA's SORS (21 U.S.C. 832)."""
        return sors.suspicious_orders(self.engine, self.identity, self._catalogue, since=since)

    def _replay(
        self, customer: Customer, row: Row[Any], document: bytes, signature: bytes
    ) -> dict[str, Any]:
        if not same_submission(row, customer.id, document, signature):
            raise conflict(
                "this Idempotency-Key was already used for different bytes; an "
                "order id names one signed order: give a new order a new id"
            )
        return self.order_status(customer, row.order_id)

    def _order_row(self, order_id: str) -> Row[Any] | None:
        with self.engine.connect() as conn:
            return conn.execute(select(orders).where(orders.c.order_id == order_id)).first()

    # -- feed, history, receipts -------------------------------------------------------

    def changes(self, customer: Customer, cursor: int, limit: int) -> dict[str, Any]:
        return order_views.change_feed(self.engine, customer, cursor, limit)

    def history(self, customer: Customer, cursor: int, limit: int) -> dict[str, Any]:
        return order_views.purchase_history(self.engine, customer, cursor, limit)

    def submit_receipt(
        self, customer: Customer, key: str, document: bytes, signature: bytes
    ) -> tuple[dict[str, Any], bool]:
        """Check and keep a signed receipt; returns (result, replayed)."""
        with self.engine.connect() as conn:
            existing = receipts.receipt_row(conn, key)
        row = existing
        if row is None:
            receipt = receipts.read_receipt(document, key)
            now = self.clock()
            receipts.check_signature(self.trust, customer, document, signature, now)
            row = self._keep_once(
                lambda conn: receipts.receipt_row(conn, key),
                lambda conn: receipts.store_receipt(
                    conn, customer, receipt, document, signature, now
                ),
            )
        check_replay(row, customer.id, document, signature, "receipt")
        return receipts.receipt_result(row), existing is not None

    # -- cancellations and voids (1305.28) ---------------------------------------------

    def submit_cancellation(
        self, customer: Customer, order_id: str, key: str, document: bytes, signature: bytes
    ) -> tuple[dict[str, Any], bool]:
        """Check a signed cancellation and take its packages off the order; (result, replayed)."""
        with self.engine.connect() as conn:
            existing = cancellations.cancellation_row(conn, key)
        row = existing
        if row is None:
            cancellation = cancellations.read_cancellation(document, key, order_id)
            now = self.clock()
            receipts.check_signature(
                self.trust, customer, document, signature, now, noun="cancellation"
            )
            row = self._keep_once(
                lambda conn: cancellations.cancellation_row(conn, key),
                lambda conn: cancellations.store_cancellation(
                    conn, customer, cancellation, document, signature, now
                ),
            )
        check_replay(row, customer.id, document, signature, "cancellation")
        status = self.order_status(customer, row.order_id)["status"]
        return cancellations.cancellation_result(row, status), existing is not None

    # -- lost orders (1305.26) ----------------------------------------------------------

    def submit_lost_statement(
        self, customer: Customer, order_id: str, key: str, document: bytes, signature: bytes
    ) -> tuple[dict[str, Any], bool]:
        """Check and keep the purchaser's signed lost-order statement; (result, replayed)."""
        with self.engine.connect() as conn:
            existing = lost_orders.statement_row(conn, key)
        row = existing
        if row is None:
            statement = lost_orders.read_statement(document, key, order_id)
            lost_orders.check_parties(statement, customer, self.identity)
            now = self.clock()
            receipts.check_signature(
                self.trust, customer, document, signature, now, noun="statement"
            )
            row = self._keep_once(
                lambda conn: lost_orders.statement_row(conn, key),
                lambda conn: lost_orders.store_statement(
                    conn, customer, statement, document, signature, now
                ),
            )
        check_replay(row, customer.id, document, signature, "lost-order statement")
        return lost_orders.statement_result(row), existing is not None

    def _keep_once(
        self,
        row_of: Callable[[Connection], Row[Any] | None],
        store: Callable[[Connection], None],
    ) -> Row[Any]:
        """Store a signed notice unless its key is kept already, and return what is kept.

        A retry may have raced this request: the first one wins (checked under the write
        lock, before the notice's own checks), and this one answers from what was kept.
        """
        try:
            with self._write, self.engine.begin() as conn:
                if row_of(conn) is None:
                    store(conn)
        except IntegrityError:
            pass
        with self.engine.connect() as conn:
            row = row_of(conn)
        assert row is not None
        return row

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
        if self.as2 is not None:  # the 856s to pharmacies with an AS2 endpoint
            self.as2.pusher.after_fulfilment(self.as2, self)
        return result
