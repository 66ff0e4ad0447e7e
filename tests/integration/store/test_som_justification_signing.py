"""Each flagged order's own justification, kept with its signature and nowhere else.

Real SoftHSM2 token, real store: the service the CLI and the GUI both call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from csos_desktop.domain.canonical import MalformedDocument
from csos_desktop.domain.order import Order
from csos_desktop.domain.order_state import OrderState
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.orders.order_signer import OrderSigningSession, SignedOrder
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.services.som import gate as som_gate
from csos_desktop.store import Store, lifecycle, open_store
from csos_desktop.store.audit import AuditEvent
from tests.conftest import Provisioned
from tests.integration.signing import chain_of
from tests.integration.store.tokens import TestPin, open_identity
from tests.registrant import record_registrant
from tests.unit.store.helpers import Clock, flagged_order_input, order_input

SOM_EVENTS = (AuditEvent.SOM_WARNING_ACKNOWLEDGED, AuditEvent.SOM_DISPOSITION)


@pytest.fixture()
def store(tmp_path: Path, rsa_token: Provisioned) -> Iterator[Store]:
    with open_store(tmp_path / "csos.db") as s:
        record_registrant(s, rsa_token)  # the sample orders carry schedule II (1305.05)
        yield s


def _session(prov: Provisioned, ca: TestCa) -> SigningSession:
    ts, identity = open_identity(prov)
    return SigningSession(ts, identity, chain_of(ca), SigningPurpose.ORDER, clock=Clock())


def _flagged_draft(store: Store) -> str:
    [rec] = svc.import_orders(store, flagged_order_input(), source="test")
    return rec.order_id


def _trail(store: Store, order_id: str) -> list[str]:
    return [e.event for e in store.audit.entries(order_id=order_id)]


def test_two_flagged_orders_need_two_justifications_each_kept_with_its_own_order(
    store: Store, rsa_token: Provisioned, test_ca: TestCa
) -> None:
    first, second, usual = (
        r.order_id
        for r in svc.import_orders(
            store, [flagged_order_input(), flagged_order_input(), order_input()], source="test"
        )
    )
    session = _session(rsa_token, test_ca)
    why_first = "new hospice patients admitted this week"
    with session.ts:
        # One order's justification clears only that order; the usual order is not held up.
        result = svc.sign_orders_on_token(
            store,
            [first, second, usual],
            session,
            TestPin(),
            som_justifications={first: why_first},
        )
        assert {r.order_id for r in result.signed} == {first, usual}
        [held] = result.unsigned
        assert held.order_id == second and held.code == "SomJustificationRequired"
        assert not [e for e in _trail(store, second) if e in SOM_EVENTS]

        why_second = "replacing stock lost in the flood on Monday"
        again = svc.sign_orders_on_token(
            store, [second], session, TestPin(), som_justifications={second: why_second}
        )
    assert [r.order_id for r in again.signed] == [second]
    subject = session.identity.info.subject
    cert_sha = hashlib.sha256(session.identity.certificate_der).hexdigest()
    for order_id, why in ((first, why_first), (second, why_second)):
        entries = list(store.audit.entries(order_id=order_id))
        [ack] = [e for e in entries if e.event == AuditEvent.SOM_WARNING_ACKNOWLEDGED]
        [cleared] = [e for e in entries if e.event == AuditEvent.SOM_DISPOSITION]
        [signed] = [e for e in entries if e.event == AuditEvent.ORDER_SIGNED]
        assert ack.details["justification"] == why and cleared.details["reason"] == why
        # The person who signed, by their certificate, not the pharmacy.
        assert ack.details["acknowledged_by"] == subject == signed.details["signer_subject"]
        assert ack.details["certificate_sha256"] == cert_sha
        assert ack.details["subject_serial"] == session.identity.info.subject_serial
        assert cleared.details["order_id"] == order_id
        # Written in the signature's transaction: at the same moment, just before it.
        assert ack.at == cleared.at == signed.at
        assert signed.entry_id - ack.entry_id == 2
    assert not [e for e in _trail(store, usual) if e in SOM_EVENTS]


def test_a_justification_that_is_not_words_leaves_the_order_a_draft(
    store: Store, rsa_token: Provisioned, test_ca: TestCa
) -> None:
    order_id = _flagged_draft(store)
    session = _session(rsa_token, test_ca)
    pin = TestPin()
    with session.ts:
        result = svc.sign_orders_on_token(
            store, [order_id], session, pin, som_justifications={order_id: "xxxxxxxxxx"}
        )
    [refused] = result.unsigned
    assert refused.code == "SomJustificationRequired" and "at least" in refused.reason
    assert pin.asked == 0 and store.orders.get(order_id).state is OrderState.DRAFT
    assert not [e for e in _trail(store, order_id) if e in SOM_EVENTS]


class ChangesTheDraftWhileSigning:
    """The pharmacist edits the draft in another window while the token signs it: the
    record stage then refuses the signature."""

    def __init__(self, inner: svc.OrderSigner, store: Store) -> None:
        self.identity = inner.identity
        self._inner = inner
        self._store = store

    def sign(self, order: Order) -> SignedOrder:
        made = self._inner.sign(order)
        changed = flagged_order_input()
        changed["lines"][0]["quantity"] = 40
        svc.update_draft(self._store, order.order_id, changed)
        return made


def test_a_signature_not_recorded_leaves_no_justification_either(
    store: Store, rsa_token: Provisioned, test_ca: TestCa
) -> None:
    order_id = _flagged_draft(store)
    session = _session(rsa_token, test_ca)
    with session.ts:
        result = svc.sign_orders_on_token(
            store,
            [order_id],
            session,
            TestPin(),
            wrap=lambda signer: ChangesTheDraftWhileSigning(signer, store),
            som_justifications={order_id: "new hospice patients admitted this week"},
        )
    [refused] = result.unsigned
    assert refused.code == "ConcurrentChange"
    trail = _trail(store, order_id)
    assert AuditEvent.ORDER_SIGNED not in trail
    assert not [e for e in trail if e in SOM_EVENTS]


class Unrecordable:
    """A value the audit log cannot serialise: the record stage fails after the
    justification's entries were written, inside the transaction."""


def test_a_failure_at_the_record_stage_leaves_neither_justification_nor_signature(
    store: Store, rsa_token: Provisioned, test_ca: TestCa
) -> None:
    order_id = _flagged_draft(store)
    session = _session(rsa_token, test_ca)
    why = "new hospice patients admitted this week"
    with session.ts:
        checked = svc.check_drafts(
            store, [order_id], session, session.clock(), som_justifications={order_id: why}
        )
        [flagged] = checked.flagged
        session.log_in(TestPin())
        made = OrderSigningSession(session).sign(store.orders.order(order_id))
    info = lifecycle.SignerInfo(
        session.identity.info.subject, None, session.identity.certificate_der
    )
    carried = som_gate.justification_entries(
        flagged, made.order, info.subject, session.clock().date(), {"certificate_sha256": "00"}
    )
    details = {**svc.signed_details(made, info, None), "injected": Unrecordable()}
    record = lifecycle.SignedOrderRecord(
        made.order, made.document, made.signature, info, details, carried
    )
    with pytest.raises(MalformedDocument):
        lifecycle.record_signed(store, order_id, record, now=session.clock())
    assert store.orders.get(order_id).state is OrderState.DRAFT
    trail = _trail(store, order_id)
    assert AuditEvent.ORDER_SIGNED not in trail
    assert not [e for e in trail if e in SOM_EVENTS]
    # The same record without the injected failure keeps all three.
    del details["injected"]
    record = lifecycle.SignedOrderRecord(
        made.order, made.document, made.signature, info, details, carried
    )
    lifecycle.record_signed(store, order_id, record, now=session.clock())
    trail = _trail(store, order_id)
    assert trail[-3:] == [*SOM_EVENTS, AuditEvent.ORDER_SIGNED]
