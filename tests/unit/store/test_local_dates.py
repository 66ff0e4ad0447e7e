"""Dates a person reads follow the pharmacy's calendar; the CMS signing-time stays UTC.

At 23:30 on 31 December in Chicago it is already 1 January in UTC: the order is dated
31 December, its number carries that year, and a receipt dated 1 January is in the future.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.config import set_value
from csos_desktop.config.local_time import local_date
from csos_desktop.domain.canonical import load_document
from csos_desktop.domain.order import Order
from csos_desktop.domain.receipt import ReceiptInvalid, ReceiptLine
from csos_desktop.pki.cms_parse import parse_signed_data
from csos_desktop.pki.supplier_check import verify_order
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.store import Store, lifecycle
from tests.unit.store.helpers import (
    Clock,
    SoftwareDocumentSigner,
    SoftwareOrderSigner,
    order_input,
)

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture()
def new_years_eve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clock: Clock) -> datetime:
    monkeypatch.setenv("CSOS_HOME", str(tmp_path / "home"))
    set_value("time_zone", "America/Chicago")
    now = datetime.now(CHICAGO)
    year = now.year if now < datetime(now.year, 12, 31, 23, 30, tzinfo=CHICAGO) else now.year + 1
    clock.now = datetime(year, 12, 31, 23, 30, tzinfo=CHICAGO).astimezone(UTC)
    assert clock.now.date() == date(year + 1, 1, 1)  # UTC has moved on
    return clock.now


def test_an_order_signed_at_2330_on_31_december_is_dated_that_day_and_year(
    store: Store,
    clock: Clock,
    signer: SoftwareOrderSigner,
    receipt_signer: SoftwareDocumentSigner,
    test_ca: TestCa,
    new_years_eve: datetime,
) -> None:
    year = new_years_eve.astimezone(CHICAGO).year
    [draft] = svc.import_orders(store, order_input(), source="test", clock=clock)
    result = svc.sign_orders(store, [draft.order_id], signer, clock=clock)
    assert not result.unsigned, result.unsigned
    blob = store.signed.get(draft.order_id)
    order = Order.from_document(load_document(blob.document))
    assert order.date_signed == date(year, 12, 31)
    assert order.order_number.startswith(f"{year % 100:02d}X")
    assert parse_signed_data(blob.signature).signing_time == new_years_eve  # UTC, 1 January
    root = asn1_x509.Certificate.load(test_ca.root_certificate.public_bytes(Encoding.DER))
    verdict = verify_order(blob.document, blob.signature, trust_roots=[root], now=new_years_eve)
    assert verdict.accepted, verdict.findings

    # Received the same evening: 31 December is today, 1 January is the future.
    msg = next(m for m in store.outbox.pending() if m.record_id == draft.order_id)
    lifecycle.mark_submitted(store, draft.order_id, msg.outbox_id, now=clock())
    with pytest.raises(ReceiptInvalid, match="future"):
        svc.record_receipt(
            store, draft.order_id, [ReceiptLine(1, 1, date(year + 1, 1, 1))], receipt_signer,
            clock=clock,
        )  # fmt: skip
    receipt, _ = svc.record_receipt(
        store, draft.order_id, [ReceiptLine(1, 1, date(year, 12, 31))], receipt_signer, clock=clock
    )
    assert receipt.lines[0].date_received == local_date(new_years_eve)
