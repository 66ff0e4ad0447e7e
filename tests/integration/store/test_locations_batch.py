"""A batch mixing two locations on one token: one login, each order its own certificate.

The service the CLI and the GUI call (``sign_orders_on_token``) on a session opened
``by_purchaser``; the PIN asks are counted by the pharmacist stand-in (``TestPin``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.order_state import OrderState
from csos_desktop.domain.receipt import ReceiptLine
from csos_desktop.pki.cms_parse import parse_signed_data
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.signing import SigningPurpose, TokenTarget, signing_session
from csos_desktop.services.signing.locations import (
    NoCertificateForPurchaser,
    SeveralCertificatesForPurchaser,
)
from csos_desktop.store import Store, lifecycle, open_store
from csos_desktop.store.audit import AuditEvent
from tests.integration.locations import (
    LocationsToken,
    extra_certificate,
    order_for,
)
from tests.integration.store.tokens import TestPin
from tests.registrant import identity_of, record_identity, record_location_registrants

OTHER_DEA = "AC3456781"


@pytest.fixture()
def store(tmp_path: Path, two_locations: LocationsToken) -> Iterator[Store]:
    with open_store(tmp_path / "csos.db") as s:
        record_location_registrants(s, two_locations)  # schedule II orders (1305.05)
        yield s


def target(tok: LocationsToken, cert_id: str | None = None) -> TokenTarget:
    return TokenTarget(tok.hsm.module, tok.label, cert_id=cert_id)


def drafts(store: Store, *orders: dict[str, object]) -> list[str]:
    year = f"{datetime.now(UTC):%y}"
    ids = []
    for n, data in enumerate(orders, start=1):
        data["order_number"] = f"{year}X{900 + n:06d}"
        ids.append(svc.import_orders(store, data, source="test")[0].order_id)
    return ids


def test_mixed_batch_signs_each_order_with_its_certificate_under_one_login(
    two_locations: LocationsToken, store: Store
) -> None:
    main, north = two_locations.main, two_locations.north
    elsewhere = order_for(north, "")
    elsewhere["purchaser"]["dea_number"] = OTHER_DEA
    ids = drafts(store, order_for(main, ""), order_for(north, ""), order_for(main, ""), elsewhere)
    pin = TestPin()
    with signing_session(target(two_locations), SigningPurpose.ORDER, by_purchaser=True) as s:
        result = svc.sign_orders_on_token(store, ids, s, pin)

    assert pin.asked == 1  # one PIN entry, one C_Login, for both locations
    # Signed location by location (each certificate's orders together), in batch order.
    assert [r.order_id for r in result.signed] == [ids[0], ids[2], ids[1]]
    (refused,) = result.unsigned
    assert refused.order_id == ids[3]
    assert refused.code == NoCertificateForPurchaser.__name__
    for order_id, loc in zip(ids[:3], (main, north, main), strict=True):
        blob = store.signed.get(order_id)
        assert blob.certificate_sha256 == hashlib.sha256(loc.certificate_der).hexdigest()
        assert blob.signer_dea == loc.dea
    # The audit checkpoint ends the session as with one certificate.
    assert any(e.event == AuditEvent.AUDIT_CHECKPOINT.value for e in store.audit.entries())


def test_no_pin_is_asked_when_no_order_has_a_certificate(
    two_locations: LocationsToken, store: Store
) -> None:
    data = order_for(two_locations.main, "")
    data["purchaser"]["dea_number"] = OTHER_DEA
    ids = drafts(store, data)
    pin = TestPin()
    with signing_session(target(two_locations), SigningPurpose.ORDER, by_purchaser=True) as s:
        result = svc.sign_orders_on_token(store, ids, s, pin)
    assert pin.asked == 0
    (refused,) = result.unsigned
    assert f"No certificate on this token is for DEA number {OTHER_DEA}" in refused.reason


@pytest.fixture()
def second_main_certificate(
    two_locations: LocationsToken, test_ca: TestCa, store: Store
) -> Iterator[bytes]:
    with extra_certificate(two_locations, test_ca, two_locations.main.dea) as made:
        # The registrant's renewed certificate, recorded as theirs too (1305.05).
        record_identity(
            store, identity_of(made.key_id, made.certificate_der), dea=two_locations.main.dea
        )
        yield made.key_id


def test_several_certificates_for_one_purchaser_ask_for_cert_id_before_the_pin(
    two_locations: LocationsToken, store: Store, second_main_certificate: bytes
) -> None:
    ids = drafts(store, order_for(two_locations.main, ""))
    pin = TestPin()
    with signing_session(target(two_locations), SigningPurpose.ORDER, by_purchaser=True) as s:
        result = svc.sign_orders_on_token(store, ids, s, pin)
    assert pin.asked == 0
    (refused,) = result.unsigned
    assert refused.code == SeveralCertificatesForPurchaser.__name__
    assert "--cert-id" in refused.reason
    assert two_locations.main.key_id.hex() in refused.reason
    assert second_main_certificate.hex() in refused.reason
    assert two_locations.north.key_id.hex() not in refused.reason  # not a candidate

    chosen = target(two_locations, second_main_certificate.hex())
    with signing_session(chosen, SigningPurpose.ORDER, by_purchaser=True) as s:
        result = svc.sign_orders_on_token(store, ids, s, pin)
    assert pin.asked == 1
    assert [r.order_id for r in result.signed] == ids


def _shipped(store: Store, order_id: str) -> None:
    now = datetime.now(UTC)
    msg = next(m for m in store.outbox.pending() if m.record_id == order_id)
    lifecycle.mark_submitted(store, order_id, msg.outbox_id, now=now)
    lifecycle.record_status(store, order_id, OrderState.SHIPPED, now=now)


def test_each_receipt_is_signed_with_its_purchasers_certificate(
    two_locations: LocationsToken, store: Store
) -> None:
    main, north = two_locations.main, two_locations.north
    ids = drafts(store, order_for(main, ""), order_for(north, ""))
    with signing_session(target(two_locations), SigningPurpose.ORDER, by_purchaser=True) as s:
        svc.sign_orders_on_token(store, ids, s, TestPin())
    for order_id in ids:
        _shipped(store, order_id)
    for order_id, loc in zip(ids, (main, north), strict=True):
        pin = TestPin()
        # No --cert-id: the receipt's purchaser chooses, as for its order.
        with signing_session(target(two_locations), SigningPurpose.RECEIPT, by_purchaser=True) as s:
            svc.sign_receipt(store, order_id, [ReceiptLine(1, 1, date.today())], s, pin)
        assert pin.asked == 1
        (stored,) = store.receipts.for_order(order_id)
        signer = parse_signed_data(stored.signature).signer
        assert signer.dump() == loc.certificate_der


def test_a_receipt_with_another_locations_certificate_is_refused_before_the_pin(
    two_locations: LocationsToken, store: Store
) -> None:
    main = two_locations.main
    (order_id,) = drafts(store, order_for(main, ""))
    with signing_session(target(two_locations), SigningPurpose.ORDER, by_purchaser=True) as s:
        svc.sign_orders_on_token(store, [order_id], s, TestPin())
    _shipped(store, order_id)
    # --cert-id names Northside's certificate for a Main Street receipt.
    northside = target(two_locations, cert_id=two_locations.north.key_id.hex())
    pin = TestPin()
    with (
        signing_session(northside, SigningPurpose.RECEIPT, by_purchaser=True) as s,
        pytest.raises(CsosError, match=main.dea),
    ):
        svc.sign_receipt(store, order_id, [ReceiptLine(1, 1, date.today())], s, pin)
    assert pin.asked == 0
    assert store.receipts.for_order(order_id) == []
