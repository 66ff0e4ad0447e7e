"""Cancellations, supplier voids, lost orders and balances: each change one transaction.

Like ``lifecycle``, every function here owns its transaction: the signed
notice, the state change, the outbox row and the audit entry commit together
or not at all. Signing happens inside the transaction through a callback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from hashlib import sha256

from csos_desktop.domain.balance import LineBalance, Reported, line_balances, nothing_left
from csos_desktop.domain.canonical import canonical_bytes, load_document
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.notices import (
    Cancellation,
    LostOrderStatement,
    cancellable_quantities,
    lines_of,
)
from csos_desktop.domain.order import Order
from csos_desktop.domain.order_state import IllegalTransition, OrderState
from csos_desktop.domain.receipt import received_so_far
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store
from csos_desktop.store.notices import NoticeKind, NoticeOutcome
from csos_desktop.store.order_events import audit_order, move
from csos_desktop.store.orders import OrderRecord
from csos_desktop.store.outbox import OutboxKind
from csos_desktop.store.sent_order import sent_order
from csos_desktop.store.statements import StatementKind

S = OrderState

#: A submitted order the purchaser can still cancel lines of (1305.28).
CANCELLABLE = frozenset({S.SUBMITTED, S.ACCEPTED, S.INTERCEPTED, S.SHIPPED_PARTIAL})
#: A submitted order that can be declared lost (1305.26): sent, and not (fully) delivered.
LOSABLE = frozenset({S.SUBMITTED, S.ACCEPTED, S.INTERCEPTED, S.SHIPPED_PARTIAL, S.SHIPPED})


class NothingToCancel(InputError):
    """The cancellation asks for packages that are not open any more."""


def signed_order(store: Store, order_id: str) -> tuple[Order, str]:
    """The order as signed, and the SHA-256 of its signature as the distributor holds it
    (how notices name it: the 850's for an order sent over AS2)."""
    blob = store.signed.get(order_id)
    _, sent_signature = sent_order(store, order_id)
    return Order.from_document(load_document(blob.document)), sha256(sent_signature).hexdigest()


def balances(store: Store, order: Order, today: date) -> tuple[LineBalance, ...]:
    """Each line's balance from the distributor's report, cancellations and receipts."""
    return line_balances(
        order,
        reported=store.fulfilment.reported(order.order_id),
        cancelled=store.notices.cancelled(order.order_id),
        received=received_so_far(r.receipt for r in store.receipts.for_order(order.order_id)),
        today=today,
    )


# -- what the distributor reports ------------------------------------------------------------


def record_fulfilment(
    store: Store,
    order_id: str,
    lines: Mapping[int, Reported],
    *,
    source: Mapping[str, object],
    now: datetime,
) -> int | None:
    """Keep the distributor's per-line report; a rise in voided packages is a supplier void.

    ``lines`` counts the supplier's voids only (the distributor reports the purchaser's
    cancellations apart). ``source`` is the distributor's record the numbers come from; a
    supplier void keeps it as the statement's body, with the voided packages per line
    (1305.28). Returns the statement id of a new void, if any.
    """
    with store.transaction():
        rec = store.orders.get(order_id)
        before = store.fulfilment.reported(order_id) or {}
        already = store.statements.voided_by_supplier(order_id)
        new_void = {
            n: rep.voided - already.get(n, 0)
            for n, rep in lines.items()
            if rep.voided > already.get(n, 0)
        }
        mine = dict(lines)
        if mine == before and not new_void:
            return None
        store.fulfilment.save(order_id, mine, now)
        sid = None
        if new_void:
            body = canonical_bytes(dict(source))
            reason = str(source.get("void_reason") or "balance voided by the supplier")
            sid = store.statements.insert(
                order_id, StatementKind.SUPPLIER_VOID, reason, body, "application/json", now
            )
            store.statements.add_void_lines(sid, new_void)
            audit_order(
                store,
                AuditEvent.SUPPLIER_VOID,
                rec,
                now,
                {
                    "statement_id": sid,
                    "reason": reason,
                    "lines": [
                        {"line_no": n, "quantity_voided": q} for n, q in sorted(new_void.items())
                    ],
                },
            )
        audit_order(
            store,
            AuditEvent.ORDER_FULFILMENT,
            rec,
            now,
            {
                "lines": [
                    {"line_no": n, "shipped": r.shipped, "voided_by_supplier": r.voided}
                    for n, r in sorted(mine.items())
                ],
            },
        )
        return sid


# -- cancellation (1305.28) -----------------------------------------------------------------


def prepare_cancellation(
    store: Store,
    order_id: str,
    quantities: Mapping[int, int] | None,
    reason: str,
    *,
    now: datetime,
    cancellation_id: str,
) -> Cancellation:
    """The cancellation of open packages to sign (read only: signed outside transactions)."""
    rec = store.orders.get(order_id)
    check_cancellable(rec)
    order, sig_sha = signed_order(store, order_id)
    open_now = {b.line_no: b.open_balance for b in balances(store, order, _day(now))}
    wanted, problems = cancellable_quantities(quantities, open_now)
    if problems:
        raise NothingToCancel(
            f"Order {rec.label} cannot be cancelled as asked: " + "; ".join(problems) + "."
        )
    return Cancellation(
        cancellation_id,
        order_id,
        rec.order_number,
        sig_sha,
        now.astimezone(UTC).replace(microsecond=0),
        " ".join(reason.split()),
        tuple(lines_of(wanted)),
    )


def record_cancellation(
    store: Store, cancellation: Cancellation, document: bytes, signature: bytes, *, now: datetime
) -> Cancellation:
    """Keep a signed cancellation and queue it for the distributor, in one short transaction;
    refused if the packages it names are no longer open (the order moved meanwhile)."""
    order_id = cancellation.order_id
    with store.transaction():
        rec = store.orders.get(order_id)
        check_cancellable(rec)
        order, _sig = signed_order(store, order_id)
        open_now = {b.line_no: b.open_balance for b in balances(store, order, _day(now))}
        _wanted, problems = cancellable_quantities(cancellation.quantities, open_now)
        if problems:
            raise NothingToCancel(
                f"Order {rec.label} changed while the cancellation was signed; it was not "
                "kept: " + "; ".join(problems) + "."
            )
        store.notices.insert(
            cancellation.cancellation_id,
            order_id,
            NoticeKind.CANCELLATION,
            document,
            signature,
            now,
            cancelled=cancellation.quantities,
        )
        store.outbox.add(OutboxKind.CANCEL_ORDER, cancellation.cancellation_id, now)
        audit_order(
            store,
            AuditEvent.ORDER_CANCEL_REQUESTED,
            rec,
            now,
            {
                "cancellation_id": cancellation.cancellation_id,
                "reason": cancellation.reason,
                "lines": [
                    {"line_no": n, "quantity_cancelled": q}
                    for n, q in sorted(cancellation.quantities.items())
                ],
            },
        )
        return cancellation


def check_cancellable(rec: OrderRecord) -> None:
    if rec.state in (S.DRAFT, S.SIGNED):
        raise InputError(
            f"Order {rec.label} has not been sent to the distributor: void it instead "
            "(csos order void)."
        )
    if rec.state not in CANCELLABLE:
        raise IllegalTransition(rec.label, rec.state, S.CANCELLED)


def cancellation_answered(
    store: Store,
    outbox_id: int,
    cancellation_id: str,
    *,
    accepted: bool,
    reason: str | None,
    now: datetime,
) -> OrderRecord:
    """The distributor accepted or refused a cancellation; an order with nothing left ends."""
    with store.transaction():
        notice = store.notices.get(cancellation_id)
        rec = store.orders.get(notice.order_id)
        outcome = NoticeOutcome.ACCEPTED if accepted else NoticeOutcome.REFUSED
        store.notices.set_outcome(cancellation_id, outcome, reason, now)
        store.outbox.mark_sent(outbox_id, now)
        new_state = None
        if accepted:
            order, _ = signed_order(store, rec.order_id)
            if nothing_left(balances(store, order, _day(now))) and rec.state is not S.CANCELLED:
                move(store, rec, S.CANCELLED, now)
                new_state = S.CANCELLED
        audit_order(
            store,
            AuditEvent.ORDER_CANCEL_ACCEPTED if accepted else AuditEvent.ORDER_CANCEL_REFUSED,
            rec,
            now,
            {
                "cancellation_id": cancellation_id,
                "outbox_id": outbox_id,
                "reason": reason,
                "state": (new_state or rec.state).value,
            },
        )
        return store.orders.get(rec.order_id)


# -- lost orders (1305.26) ------------------------------------------------------------------


def prepare_lost_order(
    store: Store,
    order_id: str,
    explanation: str,
    *,
    now: datetime,
    statement_id: str,
    replacement_id: str,
) -> LostOrderStatement:
    """The lost-order statement to sign, its replacement's number reserved (one short
    transaction); the statement is signed outside transactions."""
    rec = _losable(store, order_id)
    order, sig_sha = signed_order(store, order_id)
    assert order.date_signed is not None
    with store.transaction():
        number = store.orders.next_number(rec.purchaser_dea, now.year)
    return LostOrderStatement(
        statement_id,
        order_id,
        rec.order_number,
        order.date_signed,
        sig_sha,
        rec.purchaser_dea,
        rec.supplier_dea,
        " ".join(explanation.split()),
        replacement_id,
        number,
        now.astimezone(UTC).replace(microsecond=0),
    )


def _losable(store: Store, order_id: str) -> OrderRecord:
    rec = store.orders.get(order_id)
    if rec.state not in LOSABLE:
        raise InputError(
            f"Order {rec.label} is {rec.state.value}: only an order sent to the distributor "
            "and not received can be declared lost (21 CFR 1305.26)."
        )
    return rec


def record_lost_order(
    store: Store,
    statement: LostOrderStatement,
    document: bytes,
    signature: bytes,
    *,
    now: datetime,
) -> tuple[LostOrderStatement, OrderRecord]:
    """Keep the signed lost-order statement and create its replacement draft with the
    reserved number, linked, in one short transaction."""
    order_id = statement.order_id
    replacement_id = statement.replacement_order_id
    number = statement.replacement_order_number
    with store.transaction():
        rec = _losable(store, order_id)
        order, _sig = signed_order(store, order_id)
        replacement = Order(
            replacement_id,
            number,
            statement.signed_at,
            order.purchaser,
            order.supplier,
            order.lines,
        )
        store.orders.insert(replacement, now=now, number_auto=True, reissue_of=order_id)
        store.notices.insert(
            statement.statement_id,
            order_id,
            NoticeKind.LOST_ORDER,
            document,
            signature,
            now,
            replacement_order_id=replacement_id,
        )
        # To the supplier with the next sync, so a late original is not accepted (1305.26).
        store.outbox.add(OutboxKind.CANCEL_ORDER, statement.statement_id, now)
        audit_order(
            store,
            AuditEvent.ORDER_LOST,
            rec,
            now,
            {
                "order_date": statement.order_date.isoformat(),
                "statement_id": statement.statement_id,
                "explanation": statement.explanation,
                "replacement_order_id": replacement_id,
                "replacement_order_number": number,
            },
        )
        store.audit.append(
            AuditEvent.ORDER_REISSUED,
            at=now,
            order_id=replacement_id,
            details={
                "order_number": number,
                "reissue_of": order_id,
                "original_order_number": rec.order_number,
                "original_state": rec.state.value,
                "lost_order_statement": statement.statement_id,
            },
        )
        return statement, store.orders.get(replacement_id)


def lost_statement_answered(
    store: Store,
    outbox_id: int,
    statement_id: str,
    *,
    delivered: bool,
    reason: str | None,
    original_status: str | None,
    now: datetime,
) -> None:
    """The distributor kept the lost-order statement, or refused it (the refusal is final:
    the statement stays on record here either way)."""
    with store.transaction():
        notice = store.notices.get(statement_id)
        rec = store.orders.get(notice.order_id)
        outcome = NoticeOutcome.ACCEPTED if delivered else NoticeOutcome.REFUSED
        store.notices.set_outcome(statement_id, outcome, reason, now)
        store.outbox.mark_sent(outbox_id, now)
        audit_order(
            store,
            AuditEvent.ORDER_LOST_DELIVERED if delivered else AuditEvent.ORDER_LOST_REFUSED,
            rec,
            now,
            {
                "statement_id": statement_id,
                "outbox_id": outbox_id,
                "reason": reason,
                "original_status_at_distributor": original_status,
            },
        )


def notice_summary(store: Store, order_id: str) -> list[dict[str, object]]:
    """Notices about the order (or naming it as replacement), for `order show` and exports."""
    out = []
    for n in store.notices.for_order(order_id):
        item: dict[str, object] = n.to_json()
        doc = json.loads(n.document)
        if n.kind is NoticeKind.CANCELLATION:
            item["lines"] = doc["lines"]
            item["reason"] = doc["reason"]
        else:
            item["original_order_number"] = doc["order_number"]
            item["replacement_order_number"] = doc["replacement_order_number"]
            item["explanation"] = doc["explanation"]
        out.append(item)
    return out


def _day(now: datetime) -> date:
    return now.astimezone(UTC).date()
