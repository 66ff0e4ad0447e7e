"""Balances: receipts limited to what shipped, the 60-day void, supplier voids, cancellations."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from csos_desktop.domain.balance import Reported, line_balances
from csos_desktop.domain.receipt import ReceiptInvalid, ReceiptLine
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.orders import notices as order_notices
from csos_desktop.store import Store, legal, lifecycle
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.notices import NoticeKind
from tests.unit.store.helpers import Clock, SoftwareDocumentSigner, SoftwareOrderSigner, order_input


def submitted(store: Store, clock: Clock, signer: SoftwareOrderSigner) -> str:
    [rec] = svc.import_orders(store, order_input(), source="test", clock=clock)
    assert not svc.sign_orders(store, [rec.order_id], signer, clock=clock).unsigned
    [msg] = store.outbox.pending()
    lifecycle.mark_submitted(store, rec.order_id, msg.outbox_id, now=clock())
    return rec.order_id


def rules(exc: pytest.ExceptionInfo[ReceiptInvalid]) -> set[str]:
    return {p.rule for p in exc.value.problems}


def test_a_receipt_is_limited_to_what_the_distributor_reports_shipped(
    store: Store, clock: Clock, signer: SoftwareOrderSigner, receipt_signer: SoftwareDocumentSigner
) -> None:
    oid = submitted(store, clock, signer)
    legal.record_fulfilment(
        store,
        oid,
        {1: Reported(1, 0), 2: Reported(0, 0), 3: Reported(3, 0)},
        source={},
        now=clock(),
    )
    today = clock().date()
    with pytest.raises(ReceiptInvalid) as over:
        svc.record_receipt(store, oid, [ReceiptLine(1, 2, today)], receipt_signer, clock=clock)
    assert rules(over) == {"over-shipment"} and "1 shipped" in str(over.value)
    svc.record_receipt(store, oid, [ReceiptLine(1, 1, today)], receipt_signer, clock=clock)
    with pytest.raises(ReceiptInvalid):
        svc.record_receipt(store, oid, [ReceiptLine(1, 1, today)], receipt_signer, clock=clock)


def test_on_day_61_an_unshipped_balance_is_void_and_cannot_be_received(
    store: Store, clock: Clock, signer: SoftwareOrderSigner, receipt_signer: SoftwareDocumentSigner
) -> None:
    oid = submitted(store, clock, signer)
    clock.advance(days=60)
    [b1, *_] = order_notices.order_balances(store, oid, clock=clock)
    assert b1.expired == 0 and b1.receivable == 2  # day 60: still valid (1305.22(e))
    clock.advance(days=1)
    balances = order_notices.order_balances(store, oid, clock=clock)
    assert [b.expired for b in balances] == [2, 1, 3] and all(b.receivable == 0 for b in balances)
    with pytest.raises(ReceiptInvalid) as void:
        svc.record_receipt(
            store, oid, [ReceiptLine(1, 1, clock().date())], receipt_signer, clock=clock
        )
    assert rules(void) == {"balance-void"} and "60 days" in str(void.value)

    # What did ship before day 60 can still be received; the rest stays void.
    legal.record_fulfilment(store, oid, {1: Reported(1, 1)}, source={}, now=clock())
    svc.record_receipt(store, oid, [ReceiptLine(1, 1, clock().date())], receipt_signer, clock=clock)


def test_a_rise_in_voided_packages_is_a_supplier_void_statement_kept_once(
    store: Store, clock: Clock, signer: SoftwareOrderSigner
) -> None:
    oid = submitted(store, clock, signer)
    source = {"event": "voided", "void_reason": "out of stock (21 CFR 1305.28)"}
    sid = legal.record_fulfilment(store, oid, {3: Reported(0, 2)}, source=source, now=clock())
    assert sid is not None
    again = legal.record_fulfilment(store, oid, {3: Reported(0, 2)}, source=source, now=clock())
    assert again is None
    more = legal.record_fulfilment(store, oid, {3: Reported(0, 3)}, source=source, now=clock())
    assert more is not None and store.statements.void_lines(more) == {3: 1}
    assert store.statements.voided_by_supplier(oid) == {3: 3}
    voids = [e for e in store.audit.entries(order_id=oid) if e.event == AuditEvent.SUPPLIER_VOID]
    assert [e.details["lines"] for e in voids] == [
        [{"line_no": 3, "quantity_voided": 2}],
        [{"line_no": 3, "quantity_voided": 1}],
    ]
    with pytest.raises(sqlite3.DatabaseError, match="never change"):
        store.conn.execute("UPDATE statement_lines SET quantity_voided = 9")


def test_a_pending_cancellation_takes_packages_off_the_open_balance(
    store: Store, clock: Clock, signer: SoftwareOrderSigner, receipt_signer: SoftwareDocumentSigner
) -> None:
    oid = submitted(store, clock, signer)
    done = order_notices.cancel_order(
        store, oid, {2: 1}, "no longer needed", receipt_signer.sign, clock=clock
    )
    [notice] = store.notices.for_order(oid)
    assert notice.kind is NoticeKind.CANCELLATION and notice.outcome.value == "pending"
    assert store.outbox.pending()[-1].record_id == done.cancellation_id
    with pytest.raises(ReceiptInvalid) as refused:
        svc.record_receipt(
            store, oid, [ReceiptLine(2, 1, clock().date())], receipt_signer, clock=clock
        )
    assert rules(refused) == {"balance-cancelled"}
    with pytest.raises(legal.NothingToCancel):
        order_notices.check_cancel(store, oid, {2: 1}, "again please")
    with pytest.raises(sqlite3.DatabaseError, match="never change"):
        store.conn.execute("UPDATE order_notices SET document = x'00'")


def test_line_balances_without_any_report_allow_the_ordered_quantity() -> None:
    from tests.unit.domain.samples import sample_order

    order = sample_order().with_date_signed(sample_order().created_at.date())
    today = order.created_at.date() + timedelta(days=3)
    [b1, b2, b3] = line_balances(order, reported=None, cancelled={}, received={1: 1}, today=today)
    assert (b1.shipped, b1.receivable, b2.receivable, b3.open_balance) == (None, 1, 1, 3)
