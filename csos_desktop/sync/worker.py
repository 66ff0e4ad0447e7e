"""Sending signed orders, receipts and prescriptions, and pulling what came of them.

One pass: drain the outbox oldest first, then read the change feed from the
saved cursor. Every send carries its idempotency key, so a pass cut short
anywhere (network down, program killed) is simply run again: the distributor
applies each message once and the client re-applies each status harmlessly.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.balance import Reported
from csos_desktop.domain.catalogue import Catalogue
from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.order_state import OrderState, allowed_from
from csos_desktop.fileio import write_atomically
from csos_desktop.pki.as2_message import As2Error
from csos_desktop.store import Store, distributor_status, legal, lifecycle
from csos_desktop.store.orders import OrderNotFound
from csos_desktop.store.outbox import OutboxKind, OutboxMessage
from csos_desktop.store.sent_order import AS2_MDN
from csos_desktop.sync import som_feed
from csos_desktop.sync.as2 import As2Connection, send_as2
from csos_desktop.sync.client import DistributorClient, OrderRecord
from csos_desktop.sync.errors import DistributorRefused, DistributorUnavailable
from csos_desktop.sync.notice_outbox import send_notice
from csos_desktop.sync.statement_intake import (
    FULFILMENT_KINDS,
    KeptText,
    StatementOutcome,
    StatementTrust,
    keep_statements,
    non_acceptance,
)
from csos_desktop.sync.x12_intake import receive_x12
from csos_desktop.trust.anchors import anchor_certificates
from csos_desktop.trust.revocation import RevocationSource

log = logging.getLogger(__name__)

#: Feed events after which the order's per-line shipped and voided packages are fetched.
FULFILMENT_EVENTS = frozenset({"shipped", "balance-voided", "voided", "cancelled"})

#: Why a signed prescription stays queued when no pharmacy is set to receive it.
NO_PHARMACY = (
    "no pharmacy is set to receive prescriptions: set it with "
    "`csos config set rx_pharmacy_id ID` (the id your distributor gave the pharmacy)"
)


@dataclass
class SyncReport:
    """What one pass did; ``stopped`` says why it ended early (the rest stays queued)."""

    sent: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    updated: list[tuple[str, str]] = field(default_factory=list)
    #: The distributor's signed statements taken in, each verified or rejected.
    statements: list[StatementOutcome] = field(default_factory=list)
    stopped: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "refused": self.refused,
            "updated": [{"order_id": o, "status": s} for o, s in self.updated],
            "statements": [o.to_json() for o in self.statements],
            "stopped": self.stopped,
        }


class CursorFile:
    """The change-feed position per distributor, written atomically after each page."""

    def __init__(self, path: Path, url: str) -> None:
        self.path, self.url = path, url

    def load(self) -> str:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return str(data.get(self.url, "0"))
        except (OSError, ValueError, AttributeError):
            return "0"  # re-reading the feed from the start is safe: statuses apply idempotently

    def save(self, cursor: str) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        data[self.url] = cursor
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, json.dumps(data, indent=2).encode())


class SyncWorker:
    """Moves the outbox to the distributor and the distributor's statuses into the store."""

    def __init__(
        self,
        store: Store,
        client: DistributorClient,
        cursor: CursorFile,
        *,
        clock: Clock = utc_now,
        pharmacy_id: str | None = None,
        statement_roots: Sequence[asn1_x509.Certificate] | None = None,
        statement_revocation: RevocationSource | None = None,
        som_cache: bool = True,
        catalogue: Catalogue | None = None,
        as2: As2Connection | None = None,
    ) -> None:
        """*as2*: orders signed as X12 go to the distributor over AS2 (the REST API still
        carries everything else and the answers). *statement_revocation*: where the
        statements' revocation data comes from (default: the CRL cache and the fetcher
        under the machine's policy)."""
        self._store, self._client, self._cursor, self._clock = store, client, cursor, clock
        self._as2 = as2
        self._pharmacy_id = pharmacy_id
        # The distributor's statements are checked against the configured trust store
        # (never the chain file saved at enrolment: a .p12 import writes none, and a
        # chain file is no anchor), unless the caller names the roots.
        self._statement_roots = (
            list(statement_roots) if statement_roots is not None else anchor_certificates()
        )
        self._statement_trust = StatementTrust(
            self._statement_roots, statement_revocation or RevocationSource()
        )
        self._som_cache = som_cache
        self._catalogue = catalogue
        self._history_cursor = CursorFile(cursor.path, f"{cursor.url}#history")

    def run_once(self) -> SyncReport:
        report = SyncReport()
        try:
            self._drain(report)
            if report.stopped is None:
                self._pull(report)
            if report.stopped is None and self._som_cache:
                self._refresh_som()
        except DistributorUnavailable as exc:
            report.stopped = exc.message
        except DistributorRefused as exc:  # reading the feed: only access can be refused
            report.stopped = f"the distributor refused to answer ({exc.message})"
        return report

    # -- sending -----------------------------------------------------------------------
    def _drain(self, report: SyncReport) -> None:
        # One look at the queue per pass: a message that stays queued (no cancel endpoint
        # yet) must not keep the pass going round.
        for msg in self._store.outbox.pending(limit=1_000_000):
            try:
                self._send(msg, report)
            except DistributorRefused as exc:
                if exc.status in (401, 403):
                    # The credential, not the document, was refused: keep everything queued.
                    report.stopped = (
                        f"the distributor refused this workstation's credential "
                        f"({exc.message}); run 'csos sync login'"
                    )
                    return
                lifecycle.record_refusal(
                    self._store,
                    msg.outbox_id,
                    msg.record_id,
                    problem=exc.message,
                    now=self._clock(),
                )
                report.refused.append(msg.record_id)

    def _send(self, msg: OutboxMessage, report: SyncReport) -> None:
        if msg.kind is OutboxKind.SUBMIT_ORDER:
            signed_850 = None if self._as2 is None else self._store.x12.signed_850(msg.record_id)
            if self._as2 is not None and signed_850 is not None and signed_850.signed:
                record = self._send_as2(msg.record_id, signed_850.signed)
            else:
                blob = self._store.signed.get(msg.record_id)
                record = self._client.submit_order(msg.record_id, blob.document, blob.signature)
            lifecycle.mark_submitted(self._store, msg.record_id, msg.outbox_id, now=self._clock())
            self._apply(record.order_id, record.status, report, record)
        elif msg.kind is OutboxKind.SUBMIT_RECEIPT:
            stored = self._store.receipts.get(msg.record_id)
            self._client.submit_receipt(msg.record_id, stored.document, stored.signature)
            lifecycle.mark_receipt_sent(
                self._store, msg.outbox_id, msg.record_id, now=self._clock()
            )
        elif msg.kind is OutboxKind.PRESCRIPTION:
            if not self._send_prescription(msg, report):
                return
        elif msg.kind is OutboxKind.CANCEL_ORDER:  # a cancellation or a lost-order statement
            answer = send_notice(self._store, self._client, msg, self._clock)
            if answer is None:
                return
            if answer.order_status is not None:
                self._apply(answer.order_id, answer.order_status, report)
            if answer.refresh_event is not None:
                self._refresh(answer.order_id, answer.refresh_event, report)
            if not answer.delivered:
                report.refused.append(msg.record_id)
                return
        else:
            with self._store.transaction():
                self._store.outbox.mark_failed(msg.outbox_id, "unsupported message kind")
            return
        report.sent.append(msg.record_id)

    def _send_as2(self, order_id: str, p7m: bytes) -> OrderRecord:
        """The signed 850 over AS2 with the order's one message ID (a retry is recognised),
        its verified MDN kept with the order; then the distributor's record over REST."""
        assert self._as2 is not None
        now = self._clock()
        try:
            mdn = send_as2(self._as2, p7m, message_id=f"<{order_id}@csos-desktop>", now=now)
        except As2Error as exc:
            raise DistributorUnavailable(f"AS2: {exc.message}; the order stays queued") from exc
        except OSError as exc:
            raise DistributorUnavailable(f"AS2: the partner cannot be reached ({exc})") from exc
        with self._store.transaction():
            self._store.x12.received(order_id, AS2_MDN, mdn.body, None, now)
        return self._client.order(order_id)

    def _send_prescription(self, msg: OutboxMessage, report: SyncReport) -> bool:
        """Transmit one signed prescription; False when it did not reach the pharmacy.

        Refused (4xx): withdrawn, ``rx.transmission-failed``, listed in ``refused``.
        Unreachable: stays queued with the attempt counted; the first failure is
        audited, and the pass stops with ``stopped`` saying why (retried next pass).
        A pharmacy verdict of "rejected" is final: sent, and listed in ``refused``.
        """
        newrx = self._store.script.sent_for(msg.record_id)
        if newrx is not None and newrx.ncpdp_id is not None:
            # Signed as a NewRx to the pharmacy the practitioner chose: to its mailbox.
            pharmacy_id = newrx.ncpdp_id
            message = newrx.message

            def send() -> tuple[str, list[str]]:
                self._client.send_newrx(pharmacy_id, msg.record_id, message)
                return "delivered", []
        elif self._pharmacy_id is None:
            with self._store.transaction():  # stays queued and says why on every pass
                self._store.outbox.mark_failed(msg.outbox_id, NO_PHARMACY)
            return False
        else:
            pharmacy_id = self._pharmacy_id
            rx = self._store.prescriptions.signed(msg.record_id)

            def send() -> tuple[str, list[str]]:
                record = self._client.submit_prescription(
                    pharmacy_id, msg.record_id, rx.document, rx.signature
                )
                return record.status, [r.code for r in record.reasons]

        try:
            status, codes = send()
        except DistributorRefused as exc:
            if exc.status in (401, 403):
                raise  # the credential, not the prescription: _drain keeps it queued
            lifecycle.record_rx_transmission_failure(
                self._store,
                msg.outbox_id,
                msg.record_id,
                pharmacy_id=pharmacy_id,
                problem=exc.message,
                retrying=False,
                now=self._clock(),
            )
            report.refused.append(msg.record_id)
            return False
        except DistributorUnavailable as exc:
            lifecycle.record_rx_transmission_failure(
                self._store,
                msg.outbox_id,
                msg.record_id,
                pharmacy_id=pharmacy_id,
                problem=exc.message,
                retrying=True,
                audit=msg.attempts == 0,
                now=self._clock(),
            )
            raise
        lifecycle.mark_rx_transmitted(
            self._store,
            msg.outbox_id,
            msg.record_id,
            pharmacy_id=pharmacy_id,
            status=status,
            reasons=codes,
            now=self._clock(),
        )
        if status not in ("accepted", "delivered"):
            report.refused.append(msg.record_id)
            return False
        return True

    def _non_acceptance(
        self, order_id: str, record: OrderRecord, codes: str, now: datetime, report: SyncReport
    ) -> KeptText:
        """The statement to keep with the rejection (see ``statement_intake.non_acceptance``)."""
        kept, outcome = non_acceptance(
            self._store, order_id, record, codes, trust=self._statement_trust, now=now
        )
        if outcome is not None:
            report.statements.append(outcome)
        return kept

    def _refresh_som(self) -> None:
        """The policy and history the SOM check before signing uses (1301.74(b))."""
        cursor, _ = som_feed.refresh(
            self._store, self._client, self._history_cursor.load(), self._clock(), self._catalogue
        )
        self._history_cursor.save(cursor)

    # -- receiving ---------------------------------------------------------------------
    def _pull(self, report: SyncReport) -> None:
        cursor = self._cursor.load()
        while True:
            page = self._client.changes(cursor)
            touched: dict[str, str] = {}
            for change in page.changes:
                self._apply(change.order_id, change.status, report)
                if change.event in FULFILMENT_EVENTS:
                    touched[change.order_id] = change.event
            for order_id, event in touched.items():
                self._refresh(order_id, event, report)
            cursor = page.next_cursor
            self._cursor.save(cursor)
            if not page.has_more:
                return

    def _refresh(self, order_id: str, event: str, report: SyncReport) -> None:
        """Keep what the distributor says shipped and voided per line (receipts are limited to
        it, 1305.22(g)); a new void by the supplier is kept as its statement (1305.28), and
        its signed shipment and void statements are checked and kept with the verdict."""
        if self._store.signed.find(order_id) is None:
            return  # not one of our signed orders
        record = self._client.order(order_id)
        lines = {
            ln.line_no: Reported(ln.quantity_shipped, ln.voided_by_supplier) for ln in record.lines
        }
        source: dict[str, object] = {
            "source": "distributor order record",
            "order_id": record.order_id,
            "order_number": record.order_number,
            "status": record.status,
            "event": event,
            "balance_due_by": None
            if record.balance_due_by is None
            else record.balance_due_by.isoformat(),
            "void_reason": "balance not shipped within 60 days of the order (21 CFR 1305.22(e))"
            if event == "balance-voided"
            else "voided by the supplier (21 CFR 1305.28)",
            "lines": [
                {
                    "line_no": ln.line_no,
                    "quantity_ordered": ln.quantity_ordered,
                    "quantity_shipped": ln.quantity_shipped,
                    "quantity_voided": ln.quantity_voided,
                    "quantity_cancelled": ln.quantity_cancelled,
                    "shipments": [
                        {"containers": c, "ship_date": d.isoformat()} for c, d in ln.shipments
                    ],
                }
                for ln in record.lines
            ],
        }
        now = self._clock()
        legal.record_fulfilment(self._store, order_id, lines, source=source, now=now)
        report.statements += keep_statements(
            self._store,
            order_id,
            record.signed_statements,
            kinds=FULFILMENT_KINDS,
            trust=self._statement_trust,
            now=now,
        )
        for data in record.x12:  # the same answers as X12: kept and linked, never twice
            receive_x12(
                self._store,
                data,
                clock=self._clock,
                roots=self._statement_roots,
                revocation=self._statement_trust.revocation,
            )

    def _apply(
        self, order_id: str, status: str, report: SyncReport, record: OrderRecord | None = None
    ) -> None:
        """Move the order to *status* if that is a step forward from where it is; the status
        is kept beside the order either way (a receipt is never undone by a report)."""
        try:
            current = self._store.orders.get(order_id).state
        except OrderNotFound:
            return  # an order placed from another system: not ours to track
        try:
            new = OrderState(status)
        except ValueError:
            return
        now = self._clock()
        if new is OrderState.REJECTED and new in allowed_from(current):
            record = record or self._client.order(order_id)
            codes = ", ".join(r.code for r in record.reasons) or "not accepted"
            statement, media_type, signature = self._non_acceptance(
                order_id, record, codes, now, report
            )
            lifecycle.record_rejection(
                self._store,
                order_id,
                reason=codes,
                statement=statement,
                media_type=media_type,
                now=now,
                signature=signature,
            )
            report.updated.append((order_id, new.value))
            return
        after = distributor_status.apply_report(self._store, order_id, new, now=now)
        if after.state is not current:
            report.updated.append((order_id, after.state.value))
