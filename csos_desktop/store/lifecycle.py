"""Every change of an order's state, each one transaction with its audit entry and outbox row.

These functions own their transaction: the state change, the signed bytes,
the audit entry and the outbox row commit together or not at all, so a crash
at any point leaves an order either fully in its new state or untouched.
Nothing here signs or reaches the network: a signature is made before its record
stage, and the record refuses a draft that changed or was signed meanwhile, so two
windows never keep two signatures of one draft.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from csos_desktop.config.local_time import local_date
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.order import Order
from csos_desktop.domain.order_state import (
    RECEIVABLE,
    REISSUABLE,
    IllegalTransition,
    OrderState,
    after_report,
    check_transition,
)
from csos_desktop.domain.receipt import Receipt
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store
from csos_desktop.store.order_events import audit_order, move
from csos_desktop.store.orders import ConcurrentChange, OrderRecord
from csos_desktop.store.outbox import OutboxKind
from csos_desktop.store.statements import StatementKind

S = OrderState

#: Statuses the distributor reports that carry no document of their own.
STATUS_UPDATES = frozenset({S.ACCEPTED, S.INTERCEPTED, S.SHIPPED_PARTIAL, S.SHIPPED, S.CANCELLED})


@dataclass(frozen=True)
class SignerInfo:
    """Who signed, as recorded in the archive and the audit log."""

    subject: str
    #: None: the order's purchaser, whose number the signing check matched to the
    #: certificate's DEA-number hash.
    dea_number: str | None
    certificate_der: bytes


def create_drafts(
    store: Store, drafts: Sequence[tuple[Order, bool]], *, now: datetime, source: str
) -> list[OrderRecord]:
    """Several drafts in one transaction: an import is all or nothing.

    Each pair is (order, number_auto); a True flag gives the order the purchaser's next
    order number for this year, replacing the placeholder it was parsed with.
    """
    out = []
    with store.transaction():
        for order, number_auto in drafts:
            if number_auto:
                number = store.orders.next_number(
                    order.purchaser.dea_number.value, local_date(now).year
                )
                order = replace(order, order_number=number)
            store.orders.insert(order, now=now, number_auto=number_auto)
            audit_order(
                store,
                AuditEvent.ORDER_IMPORTED,
                order,
                now,
                {
                    "source": source,
                    "lines": len(order.lines),
                    "supplier_dea": order.supplier.dea_number.value,
                },
            )
            out.append(store.orders.get(order.order_id))
    return out


def update_draft(store: Store, order: Order, *, now: datetime) -> OrderRecord:
    """New content for a draft, with an audit entry naming what changed (before/after digests).

    Only a draft can change: a signed order never does; a rejected one is re-issued.
    """
    with store.transaction():
        rec = store.orders.get(order.order_id)
        if rec.state is not S.DRAFT:
            raise InputError(
                f"Order {rec.label} is {rec.state.value}: only drafts can be "
                "edited. A signed order never changes; re-issue it instead."
            )
        before = store.orders.order(order.order_id)
        if (
            order.order_number != rec.order_number
            or order.purchaser.dea_number.value != rec.purchaser_dea
        ):
            raise InputError(
                "A draft keeps its order number and purchaser; to change them, "
                "void the draft and create a new one."
            )
        store.orders.replace_draft(order, now)
        store.audit.append(
            AuditEvent.ORDER_DRAFT_CHANGED,
            at=now,
            order_id=order.order_id,
            details={
                "order_number": rec.order_number,
                "before_sha256": hashlib.sha256(before.canonical_bytes()).hexdigest(),
                "after_sha256": hashlib.sha256(order.canonical_bytes()).hexdigest(),
                "lines": len(order.lines),
            },
        )
        return store.orders.get(order.order_id)


def reserve_number(store: Store, purchaser_dea: str, year: int) -> str:
    """The purchaser's next order number for *year*, taken now (one short transaction): a
    number reserved for a signature that is not kept is skipped, never reused."""
    with store.transaction():
        return store.orders.next_number(purchaser_dea, year)


@dataclass(frozen=True)
class SignedOrderRecord:
    """What the record stage keeps for one signed order (built by the signing service)."""

    order: Order
    document: bytes
    signature: bytes
    signer: SignerInfo
    #: The audit entry's details, composed by the signing service.
    details: Mapping[str, object]
    #: Entries the signature carries (a flagged order's justification), written before
    #: ``order.signed`` in the same transaction: both are kept, or neither.
    carried: Sequence[tuple[AuditEvent, Mapping[str, object]]] = ()
    #: The same order signed as an X12 850: (control number, interchange, .p7m), if it was.
    x12: tuple[int, bytes, bytes] | None = None


def record_signed(
    store: Store, order_id: str, signed: SignedOrderRecord, *, now: datetime
) -> OrderRecord:
    """Draft → signed: the signed bytes, audit entry and submit message in one short
    transaction. Nothing but the store is touched here (no token, no network): the
    signature was made before. A draft that changed or was signed meanwhile keeps its
    state and the new signature is not kept (``ConcurrentChange``/``IllegalTransition``)."""
    with store.transaction():
        rec = store.orders.get(order_id)
        check_transition(rec.label, rec.state, S.SIGNED)
        stored = replace(store.orders.order(order_id), order_number=signed.order.order_number)
        if stored != replace(signed.order, date_signed=None):
            raise ConcurrentChange(
                f"Order {rec.label} was changed while it was being signed; the new signature "
                "was not kept. Look at it again and sign it again."
            )
        signer_dea = signed.signer.dea_number or signed.order.purchaser.dea_number.value
        store.orders.mark_signed(signed.order, now)
        store.signed.insert(
            order_id,
            signed.document,
            signed.signature,
            signed_at=now,
            signer_subject=signed.signer.subject,
            signer_dea=signer_dea,
            certificate_der=signed.signer.certificate_der,
        )
        if signed.x12 is not None:
            store.x12.fill(*signed.x12, order_id=order_id)
        store.outbox.add(OutboxKind.SUBMIT_ORDER, order_id, now)
        for event, details in signed.carried:
            store.audit.append(event, at=now, order_id=order_id, details=details)
        store.audit.append(
            AuditEvent.ORDER_SIGNED, at=now, order_id=order_id, details=signed.details
        )
        return store.orders.get(order_id)


def void(store: Store, order_id: str, reason: str, *, now: datetime) -> OrderRecord:
    """Void a draft or a signed order not yet sent; its queued message is withdrawn."""
    with store.transaction():
        rec = store.orders.get(order_id)
        move(store, rec, S.VOID, now)
        withdrawn = store.outbox.withdraw(order_id, now)
        audit_order(
            store,
            AuditEvent.ORDER_VOIDED,
            rec,
            now,
            {
                "reason": reason,
                "previous_state": rec.state.value,
                "messages_withdrawn": withdrawn,
            },
        )
        return store.orders.get(order_id)


def mark_submitted(store: Store, order_id: str, outbox_id: int, *, now: datetime) -> None:
    """The distributor took the signed order (called by the sync worker).

    Another process's sync may have sent the same queued order and recorded it first, or
    learned more since (accepted, shipped): the order then stays where it is, never goes
    back, and this send is still recorded.
    """
    with store.transaction():
        rec = store.orders.get(order_id)
        details: dict[str, object] = {"outbox_id": outbox_id}
        if after_report(rec.state, S.SUBMITTED) is not rec.state:
            move(store, rec, S.SUBMITTED, now)
        else:
            details["state_kept"] = rec.state.value
        store.outbox.mark_sent(outbox_id, now)
        audit_order(store, AuditEvent.ORDER_SUBMITTED, rec, now, details)


def mark_receipt_sent(store: Store, outbox_id: int, receipt_id: str, *, now: datetime) -> None:
    """The distributor took the signed receipt (called by the sync worker)."""
    with store.transaction():
        receipt = store.receipts.get(receipt_id).receipt
        store.outbox.mark_sent(outbox_id, now)
        store.audit.append(
            AuditEvent.RECEIPT_SENT,
            at=now,
            order_id=receipt.order_id,
            details={"receipt_id": receipt_id, "outbox_id": outbox_id},
        )


def mark_rx_transmitted(
    store: Store,
    outbox_id: int,
    rx_id: str,
    *,
    pharmacy_id: str,
    status: str,
    reasons: Sequence[str] = (),
    now: datetime,
) -> None:
    """The pharmacy received the signed prescription (called by the sync worker).

    The message is done either way: resending the same signed bytes cannot change the
    pharmacy's verdict. A prescription the pharmacy rejected also gets an
    ``rx.transmission-failed`` entry with its reason codes, for the practitioner.
    """
    with store.transaction():
        signed = store.prescriptions.signed(rx_id)
        store.outbox.mark_sent(outbox_id, now)
        details: dict[str, object] = {
            "by": "sync",
            "rx_id": rx_id,
            "pharmacy_id": pharmacy_id,
            "outbox_id": outbox_id,
            "pharmacy_status": status,
            "document_sha256": signed.document_sha256,
            "signature_sha256": signed.signature_sha256,
        }
        store.audit.append(AuditEvent.RX_TRANSMITTED, at=now, details=details)
        # "delivered": a NewRx in the pharmacy's mailbox; its application verifies it.
        if status not in ("accepted", "delivered"):
            store.audit.append(
                AuditEvent.RX_TRANSMISSION_FAILED,
                at=now,
                details={
                    "by": "sync",
                    "rx_id": rx_id,
                    "pharmacy_id": pharmacy_id,
                    "outbox_id": outbox_id,
                    "reason": "rejected-by-pharmacy",
                    "codes": list(reasons),
                    "retrying": False,
                },
            )


def record_rx_transmission_failure(
    store: Store,
    outbox_id: int,
    rx_id: str,
    *,
    pharmacy_id: str,
    problem: str,
    retrying: bool,
    audit: bool = True,
    now: datetime,
) -> None:
    """A prescription did not reach the pharmacy: count the attempt and keep why.

    ``retrying`` False (the endpoint refused it for good): the message is withdrawn.
    ``audit`` False records the attempt on the outbox row only (a retry that failed again).
    """
    with store.transaction():
        store.outbox.mark_failed(outbox_id, problem)
        withdrawn = 0 if retrying else store.outbox.withdraw(rx_id, now)
        if audit:
            store.audit.append(
                AuditEvent.RX_TRANSMISSION_FAILED,
                at=now,
                details={
                    "by": "sync",
                    "rx_id": rx_id,
                    "pharmacy_id": pharmacy_id,
                    "outbox_id": outbox_id,
                    "reason": "unreachable" if retrying else "refused",
                    "problem": problem,
                    "retrying": retrying,
                    "messages_withdrawn": withdrawn,
                },
            )


def record_refusal(
    store: Store, outbox_id: int, record_id: str, *, problem: str, now: datetime
) -> None:
    """The distributor refused a message for good: stop sending it and keep why."""
    with store.transaction():
        store.outbox.mark_failed(outbox_id, problem)
        store.outbox.withdraw(record_id, now)
        store.audit.append(
            AuditEvent.SYNC_REFUSED,
            at=now,
            order_id=None,
            details={"record_id": record_id, "outbox_id": outbox_id, "problem": problem},
        )


def record_status(
    store: Store, order_id: str, new: OrderState, *, now: datetime, note: str = ""
) -> OrderRecord:
    """A status the distributor reported (accepted, intercepted, shipped, cancelled)."""
    if new not in STATUS_UPDATES:
        raise ValueError(f"{new.value} is not a distributor status update")
    with store.transaction():
        rec = store.orders.get(order_id)
        move(store, rec, new, now)
        audit_order(
            store,
            AuditEvent.ORDER_STATUS,
            rec,
            now,
            {
                "from": rec.state.value,
                "to": new.value,
                "note": note,
            },
        )
        return store.orders.get(order_id)


def record_rejection(
    store: Store,
    order_id: str,
    *,
    reason: str,
    statement: bytes,
    media_type: str,
    now: datetime,
    signature: bytes | None = None,
) -> OrderRecord:
    """The distributor did not accept the order: keep its statement, linked (1305.25).

    *signature* is the distributor's detached CMS over *statement*, already verified.
    Another process's sync may have recorded the same rejection first: its statement stands
    and nothing is written twice.
    """
    with store.transaction():
        rec = store.orders.get(order_id)
        if rec.state is S.REJECTED and store.statements.for_order(order_id):
            return rec
        move(store, rec, S.REJECTED, now)
        sid = store.statements.insert(
            order_id, StatementKind.NON_ACCEPTANCE, reason, statement, media_type, now, signature
        )
        audit_order(
            store,
            AuditEvent.ORDER_REJECTED,
            rec,
            now,
            {
                "reason": reason,
                "statement_id": sid,
                "statement_signed": signature is not None,
            },
        )
        return store.orders.get(order_id)


def reissue(store: Store, order_id: str, *, now: datetime, new_id: str) -> OrderRecord:
    """A new draft with the same lines, a new id and a new number; the old order is untouched."""
    with store.transaction():
        rec = store.orders.get(order_id)
        if rec.state not in REISSUABLE:
            raise IllegalTransition(rec.label, rec.state, S.DRAFT)
        old = store.orders.order(order_id)
        number = store.orders.next_number(rec.purchaser_dea, local_date(now).year)
        created = now.astimezone(UTC).replace(microsecond=0)
        new = Order(new_id, number, created, old.purchaser, old.supplier, old.lines)
        store.orders.insert(new, now=now, number_auto=True, reissue_of=order_id)
        store.audit.append(
            AuditEvent.ORDER_REISSUED,
            at=now,
            order_id=new_id,
            details={
                "order_number": number,
                "reissue_of": order_id,
                "original_order_number": rec.order_number,
                "original_state": rec.state.value,
            },
        )
        return store.orders.get(new_id)


@dataclass(frozen=True)
class ReceiptRecord:
    """A receipt signed by the service, with what it was built on."""

    receipt: Receipt
    document: bytes
    signature: bytes
    #: The order's state once this receipt is kept.
    state: OrderState
    #: How many receipts the order had when this one was built.
    earlier: int


def record_receipt(
    store: Store, order_id: str, kept: ReceiptRecord, *, now: datetime
) -> OrderRecord:
    """Keep a signed electronic receipt (1305.22(g)) and queue it for the distributor, in one
    short transaction; refused if another receipt was kept meanwhile (build it again)."""
    with store.transaction():
        rec = store.orders.get(order_id)
        if rec.state not in RECEIVABLE:
            raise IllegalTransition(rec.label, rec.state, S.RECEIVED_PARTIAL)
        if len(store.receipts.for_order(order_id)) != kept.earlier:
            raise ConcurrentChange(
                f"Another receipt for order {rec.label} was recorded meanwhile; this one was "
                "not kept. Look at what is still due and record it again."
            )
        check_transition(rec.label, rec.state, kept.state)
        receipt = kept.receipt
        store.orders.set_state(order_id, rec.state, kept.state, now)
        store.receipts.insert(receipt, kept.document, kept.signature, signed_at=now)
        store.outbox.add(OutboxKind.SUBMIT_RECEIPT, receipt.receipt_id, now)
        store.audit.append(
            AuditEvent.RECEIPT_RECORDED,
            at=now,
            order_id=order_id,
            details={
                "receipt_id": receipt.receipt_id,
                "order_number": rec.order_number,
                "state": kept.state.value,
                "lines": [ln.to_document() for ln in receipt.lines],
            },
        )
        return store.orders.get(order_id)


def record_event(
    store: Store,
    event: AuditEvent,
    *,
    now: datetime,
    order_id: str | None = None,
    details: Mapping[str, object] | None = None,
) -> None:
    """An auditable event that changes no order (export, warning acknowledged, ...)."""
    with store.transaction():
        store.audit.append(event, at=now, order_id=order_id, details=details)
