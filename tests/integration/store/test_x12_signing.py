"""The signing pipeline signs an order as an X12 850 too when asked: one login, both kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.canonical import load_document
from csos_desktop.domain.order import Order
from csos_desktop.domain.x12.order850 import read_850
from csos_desktop.pki.cms_attached import detach
from csos_desktop.pki.supplier_check import verify_order
from csos_desktop.pki.x12_check import verify_x12_order
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.orders.x12_export import export_850
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.store import Store, open_store
from csos_desktop.store.audit import AuditEvent
from tests.conftest import Provisioned
from tests.integration.signing import chain_of
from tests.integration.store.tokens import TestPin, open_identity
from tests.integration.test_supplier_verification import crls_of
from tests.registrant import record_registrant
from tests.unit.store.helpers import order_input


@pytest.fixture()
def store(tmp_path: Path, rsa_token: Provisioned) -> Iterator[Store]:
    with open_store(tmp_path / "csos.db") as s:
        record_registrant(s, rsa_token)  # the sample orders carry schedule II (1305.05)
        yield s


def test_one_login_signs_the_json_order_and_its_850_and_the_record_keeps_both(
    store: Store, rsa_token: Provisioned, test_ca: TestCa
) -> None:
    ids = [r.order_id for r in svc.import_orders(store, [order_input()] * 2, source="test")]
    ts, identity = open_identity(rsa_token)
    session = SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.ORDER)
    pin = TestPin()
    try:
        result = svc.sign_orders_on_token(store, ids, session, pin, x12=True)
    finally:
        ts.close()
    assert len(result.signed) == 2 and pin.asked == 1

    root = asn1_x509.Certificate.load(test_ca.root_certificate.public_bytes(Encoding.DER))
    trust: dict[str, Any] = {
        "trust_roots": [root],
        "crls": crls_of(test_ca),
        "now": datetime.now(UTC),
    }
    numbers = []
    for order_id in ids:
        blob = store.signed.get(order_id)
        kept = store.x12.signed_850(order_id)
        assert kept is not None and kept.signed is not None
        interchange, signature = detach(kept.signed)
        assert interchange == kept.document
        json_order = Order.from_document(load_document(blob.document))
        assert read_850(interchange) == json_order  # both formats: the one order record
        assert verify_order(blob.document, blob.signature, **trust).accepted
        x12_verdict = verify_x12_order(interchange, signature, **trust)
        assert x12_verdict.accepted, x12_verdict.findings
        signed_entry = next(
            e for e in store.audit.entries(order_id=order_id)
            if e.event == AuditEvent.ORDER_SIGNED.value
        )  # fmt: skip
        assert signed_entry.details["x12_control_number"] == kept.control_number
        numbers.append(kept.control_number)
        exported = export_850(store, order_id)  # the signed bytes, not a new interchange
        assert exported.document == kept.document and exported.signed == kept.signed
    assert len(set(numbers)) == 2


def test_without_x12_nothing_is_signed_as_x12(
    store: Store, rsa_token: Provisioned, test_ca: TestCa
) -> None:
    ids = [r.order_id for r in svc.import_orders(store, [order_input()], source="test")]
    ts, identity = open_identity(rsa_token)
    session = SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.ORDER)
    try:
        assert len(svc.sign_orders_on_token(store, ids, session, TestPin()).signed) == 1
    finally:
        ts.close()
    assert store.x12.signed_850(ids[0]) is None and store.x12.for_order(ids[0]) == []
