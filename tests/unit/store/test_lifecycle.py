"""Drafts, signing, void, rejection and re-issue, receipts: each one transaction with its audit."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC

import pytest

from csos_desktop.config.local_time import local_time
from csos_desktop.domain.order_state import IllegalTransition, OrderState
from csos_desktop.domain.receipt import ReceiptInvalid, ReceiptLine
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.store import Store, lifecycle
from csos_desktop.store.db import StoreFull
from csos_desktop.store.orders import OrderNumberTaken
from tests.unit.store.helpers import (
    OTHER_DEA,
    Clock,
    SoftwareDocumentSigner,
    SoftwareOrderSigner,
    order_input,
)

S = OrderState


def events(store: Store, order_id: str) -> list[str]:
    return [e.event for e in store.audit.entries(order_id=order_id)]


def draft(store: Store, clock: Clock, **kw: str) -> str:
    [rec] = svc.import_orders(store, order_input(**kw), source="test", clock=clock)
    return rec.order_id


def signed(store: Store, clock: Clock, signer: SoftwareOrderSigner) -> str:
    oid = draft(store, clock)
    result = svc.sign_orders(store, [oid], signer, clock=clock)
    assert not result.unsigned, result.unsigned
    return oid


def count(store: Store, table: str) -> int:
    return int(store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_order_numbers_are_generated_in_the_1305_21_format_and_unique_per_purchaser(
    store: Store, clock: Clock
) -> None:
    recs = svc.import_orders(
        store,
        [order_input(), order_input(), order_input(dea=OTHER_DEA)],
        source="test",
        clock=clock,
    )
    yy = f"{clock.now:%y}"
    assert [r.order_number for r in recs] == [f"{yy}X000001", f"{yy}X000002", f"{yy}X000001"]
    assert all(re.fullmatch(r"[0-9]{2}X[0-9A-Z]{6}", r.order_number) for r in recs)


def test_a_number_the_purchaser_already_used_is_refused_and_skipped_when_generating(
    store: Store, clock: Clock
) -> None:
    yy = f"{clock.now:%y}"
    draft(store, clock, number=f"{yy}X000001")
    with pytest.raises(OrderNumberTaken):
        draft(store, clock, number=f"{yy}X000001")
    assert store.orders.get(draft(store, clock)).order_number == f"{yy}X000002"


def test_an_import_with_one_bad_order_imports_nothing(store: Store, clock: Clock) -> None:
    bad = order_input()
    bad["lines"][0]["ndc"] = "12"
    with pytest.raises(svc.ImportRefused, match=r"order 2: lines\[0\].ndc"):
        svc.import_orders(store, [order_input(), bad], source="test", clock=clock)
    assert count(store, "orders") == 0
    assert {e.event for e in store.audit.entries()} == {"store.migrated"}


def test_signing_keeps_the_exact_bytes_and_writes_state_audit_and_outbox_together(
    store: Store, clock: Clock, signer: SoftwareOrderSigner
) -> None:
    oid = signed(store, clock, signer)
    rec = store.orders.get(oid)
    blob = store.signed.get(oid)
    assert rec.state is S.SIGNED and rec.date_signed == clock.now.date().isoformat()
    assert blob.intact()
    assert f'"date_signed":"{rec.date_signed}"'.encode() in blob.document
    [msg] = store.outbox.pending()
    assert (msg.kind.value, msg.record_id) == ("submit-order", oid)
    assert events(store, oid) == ["order.imported", "order.signed"]
    [entry] = [e for e in store.audit.entries(order_id=oid) if e.event == "order.signed"]
    assert entry.details["signature_sha256"] == blob.signature_sha256


def test_signed_bytes_can_never_be_updated_or_deleted(
    store: Store, clock: Clock, signer: SoftwareOrderSigner
) -> None:
    oid = signed(store, clock, signer)
    with pytest.raises(sqlite3.IntegrityError, match="never change"):
        store.conn.execute("UPDATE signed_orders SET document = x'00' WHERE order_id = ?", (oid,))
    with pytest.raises(sqlite3.IntegrityError, match=r"1305\.27"):
        store.conn.execute("DELETE FROM signed_orders WHERE order_id = ?", (oid,))
    with pytest.raises(sqlite3.IntegrityError, match="content never changes"):
        store.conn.execute(
            "UPDATE orders SET order_number = '26X999999' WHERE order_id = ?", (oid,)
        )


def test_a_batch_skips_an_order_that_is_not_a_draft_and_signs_the_rest(
    store: Store, clock: Clock, signer: SoftwareOrderSigner
) -> None:
    done = signed(store, clock, signer)
    fresh = draft(store, clock)
    result = svc.sign_orders(store, [done, fresh], signer, clock=clock)
    assert [r.order_id for r in result.signed] == [fresh]
    [skipped] = result.unsigned
    assert skipped.order_id == done and skipped.code == "IllegalTransition"
    assert result.stopped is None


def test_a_generated_number_is_redrawn_when_signed_in_a_new_year(
    store: Store, clock: Clock, signer: SoftwareOrderSigner
) -> None:
    # 23:00 on 31 December in the pharmacy's zone: the order number's year is local.
    eve = local_time(clock.now).replace(month=12, day=31, hour=23)
    clock.now = eve.astimezone(UTC)
    oid = draft(store, clock)
    clock.advance(hours=2)
    svc.sign_orders(store, [oid], signer, clock=clock)
    rec = store.orders.get(oid)
    assert rec.state is S.SIGNED and rec.order_number.startswith(f"{local_time(clock.now):%y}X")
    [e] = [e for e in store.audit.entries(order_id=oid) if e.event == "order.signed"]
    assert str(e.details["renumbered_from"]).startswith(f"{eve:%y}X")


def test_voiding_a_signed_order_withdraws_its_unsent_message(
    store: Store, clock: Clock, signer: SoftwareOrderSigner
) -> None:
    oid = signed(store, clock, signer)
    rec = svc.void_order(store, oid, "ordered twice", clock=clock)
    assert rec.state is S.VOID
    assert store.outbox.pending() == []
    [e] = [e for e in store.audit.entries(order_id=oid) if e.event == "order.voided"]
    assert e.details["reason"] == "ordered twice" and e.details["messages_withdrawn"] == 1


def test_a_submitted_order_cannot_be_voided(
    store: Store, clock: Clock, signer: SoftwareOrderSigner
) -> None:
    oid = signed(store, clock, signer)
    [msg] = store.outbox.pending()
    lifecycle.mark_submitted(store, oid, msg.outbox_id, now=clock())
    with pytest.raises(IllegalTransition, match="cancel it through the distributor"):
        svc.void_order(store, oid, "changed my mind", clock=clock)
    assert events(store, oid)[-1] == "order.submitted"


def submit(store: Store, clock: Clock, oid: str) -> None:
    msg = next(m for m in store.outbox.pending() if m.record_id == oid)
    lifecycle.mark_submitted(store, oid, msg.outbox_id, now=clock())


def test_a_rejected_order_keeps_the_statement_and_is_reissued_as_a_new_order(
    store: Store, clock: Clock, signer: SoftwareOrderSigner
) -> None:
    oid = signed(store, clock, signer)
    submit(store, clock, oid)
    statement = b'{"reason":"certificate-revoked","detail":"CRL of 2026-11-20"}'
    lifecycle.record_rejection(
        store,
        oid,
        reason="certificate revoked",
        statement=statement,
        media_type="application/json",
        now=clock(),
    )
    original = store.signed.get(oid).document
    for action in (
        lambda: svc.sign_orders(store, [oid], signer, clock=clock).unsigned[0],
        lambda: svc.void_order(store, oid, "fix it", clock=clock),
    ):
        try:
            result = action()
            assert "re-issue" in str(getattr(result, "reason", ""))
        except IllegalTransition as exc:
            assert "re-issue" in exc.message
    new = svc.reissue_order(store, oid, clock=clock)
    old = store.orders.get(oid)
    assert old.state is S.REJECTED and store.signed.get(oid).document == original
    assert [s.body for s in store.statements.for_order(oid)] == [statement]
    assert new.state is S.DRAFT and new.reissue_of == oid
    assert new.order_id != oid and new.order_number != old.order_number
    assert events(store, new.order_id) == ["order.reissued"]


def test_receipts_accumulate_and_are_queued_for_the_distributor(
    store: Store, clock: Clock, signer: SoftwareOrderSigner, receipt_signer: SoftwareDocumentSigner
) -> None:
    oid = signed(store, clock, signer)
    submit(store, clock, oid)
    today = clock.now.date()
    r1, rec = svc.record_receipt(
        store, oid, [ReceiptLine(1, 1, today)], receipt_signer, clock=clock
    )
    assert rec.state is S.RECEIVED_PARTIAL
    assert r1.order_signature_sha256 == store.signed.get(oid).signature_sha256
    with pytest.raises(ReceiptInvalid, match="at most 1 more"):
        svc.record_receipt(store, oid, [ReceiptLine(1, 2, today)], receipt_signer, clock=clock)
    _, rec = svc.record_receipt(
        store,
        oid,
        [ReceiptLine(1, 1, today), ReceiptLine(2, 1, today), ReceiptLine(3, 3, today)],
        receipt_signer,
        clock=clock,
    )
    assert rec.state is S.RECEIVED
    stored = store.receipts.for_order(oid)
    assert next(s.receipt for s in stored) == r1
    assert [m.kind.value for m in store.outbox.pending()] == ["submit-receipt"] * 2
    assert events(store, oid).count("receipt.recorded") == 2


def fill_the_disk(store: Store) -> None:
    """Use up every free page and cap the file there: SQLITE_FULL, as on a full disk."""
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages + 2}")
    store.conn.execute("CREATE TABLE filler (x BLOB)")
    with pytest.raises(sqlite3.OperationalError, match="full"):
        while True:
            store.conn.execute("INSERT INTO filler VALUES (randomblob(4000))")
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")


def test_a_full_disk_saves_no_part_of_a_signed_order(
    store: Store, clock: Clock, signer: SoftwareOrderSigner
) -> None:
    big = order_input()  # more than a page of signed bytes: it cannot fit in a used page
    big["lines"] = [{**big["lines"][2], "line_no": n} for n in range(1, 41)]
    [rec] = svc.import_orders(store, big, source="test", clock=clock)
    oid = rec.order_id
    fill_the_disk(store)
    before = {t: count(store, t) for t in ("signed_orders", "order_lines", "outbox")}
    result = svc.sign_orders(store, [oid], signer, clock=clock)
    assert result.signed == () and result.unsigned[0].code == "StoreFull"
    assert result.stopped is not None and "disk is full" in result.stopped
    assert store.orders.get(oid).state is S.DRAFT
    assert {t: count(store, t) for t in before} == before
    assert events(store, oid) == ["order.imported"]
    assert store.audit.verify().intact
    with pytest.raises(StoreFull, match="nothing was lost"):
        svc.import_orders(store, big, source="test", clock=clock)
